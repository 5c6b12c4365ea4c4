"""The fixed vocabularies of holistic-queries' tables: cities, departments, product and wine words, and so on."""

CITIES = ("Atlanta", "Austin", "Baltimore", "Boston", "Charlotte", "Chicago", "Cleveland", "Columbus", "Dallas",
          "Denver", "Detroit", "Houston", "Indianapolis", "Las Vegas", "Memphis", "Miami", "Minneapolis", "Nashville",
          "Philadelphia", "Phoenix", "Pittsburgh", "Portland", "Sacramento", "San Diego", "Seattle", "Tampa")
DEPARTMENTS = ("Accounting", "Advertising", "Analytics", "Billing", "Communications", "Compliance", "Customer Support",
               "Data Science", "Design", "Engineering", "Facilities", "Finance", "Human Resources", "Infrastructure",
               "Investor Relations", "Legal", "Logistics", "Maintenance", "Marketing", "Media Relations", "Operations",
               "Partnerships", "Payroll", "Procurement", "Product", "Public Affairs", "Quality Assurance",
               "Recruiting", "Research", "Risk", "Sales", "Security", "Strategy", "Supply Chain", "Tax", "Training",
               "Treasury", "Web Development")
TITLES = ("Analyst", "Associate", "Coordinator", "Consultant", "Director", "Engineer", "Manager", "Specialist",
          "Technician", "Administrator", "Designer", "Supervisor")
AIRLINES = ("Northwind Air", "Blue Horizon", "Skyline Airways", "Pacific Crest", "Atlas Jet", "Summit Air",
            "Coastal Airlines", "Meridian Airways", "Silverline", "Aurora Air", "Cascade Airlines", "Zephyr Air")
REGIONS = ("Napa Valley", "Sonoma Coast", "Willamette Valley", "Finger Lakes", "Paso Robles", "Columbia Valley",
           "Bordeaux", "Burgundy", "Champagne", "Alsace", "Loire Valley", "Rhone Valley", "Provence", "Rioja",
           "Ribera del Duero", "Priorat", "Tuscany", "Piedmont", "Veneto", "Sicily", "Mosel", "Rheingau",
           "Douro Valley", "Barossa Valley", "McLaren Vale", "Hunter Valley", "Yarra Valley", "Margaret River",
           "Marlborough", "Central Otago", "Mendoza", "Maipo Valley", "Colchagua Valley", "Stellenbosch", "Tokaj",
           "Wachau")
ADJECTIVES = ("Amber", "Ancient", "Azure", "Bold", "Brave", "Bright", "Broad", "Calm", "Clear", "Copper", "Crimson",
              "Crystal", "Deep", "Dusky", "Early", "Emerald", "Fair", "Gentle", "Golden", "Grand", "Green", "Hidden",
              "High", "Iron", "Ivory", "Jade", "Little", "Lone", "Lucky", "Misty", "Noble", "Northern", "Old", "Proud",
              "Quiet", "Rapid", "Royal", "Rustic", "Scarlet", "Secret", "Silent", "Silver", "Stone", "Sunny", "Swift",
              "Tall", "Velvet", "Wild", "Windy", "Winter")
NOUNS = ("Anchor", "Arrow", "Aspen", "Bay", "Bear", "Birch", "Bluff", "Brook", "Canyon", "Cedar", "Cliff", "Cloud",
         "Comet", "Creek", "Crest", "Dune", "Eagle", "Falcon", "Fern", "Field", "Forest", "Fox", "Glade", "Grove",
         "Harbor", "Hawk", "Heron", "Hill", "Island", "Lake", "Maple", "Meadow", "Mesa", "Moon", "Oak", "Orchard",
         "Otter", "Peak", "Pine", "Prairie", "Raven", "Reef", "Ridge", "River", "Rock", "Spring", "Star", "Summit",
         "Valley", "Willow")
GREEK = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Theta", "Kappa", "Lambda", "Sigma", "Omega", "Nova")
CUVEES = ("Reserve", "Estate", "Selection", "Classic", "Cuvee", "Vineyard", "Harvest", "Signature", "Heritage",
          "Blend", "Collection", "Legacy")
MATERIALS = ("Bamboo", "Brass", "Canvas", "Ceramic", "Copper", "Cotton", "Glass", "Leather", "Linen", "Maple",
             "Marble", "Oak", "Steel", "Walnut", "Wool")
ITEMS = ("Basket", "Blender", "Bottle", "Bowl", "Candle", "Chair", "Clock", "Desk", "Fan", "Frame", "Heater",
         "Jacket", "Kettle", "Lamp", "Mirror", "Mug", "Notebook", "Pillow", "Planter", "Rug", "Shelf", "Speaker",
         "Stool", "Table", "Teapot", "Toaster", "Towel", "Tray", "Vase", "Wallet")

COUNTRIES = ("Canada", "Mexico", "Brazil", "Chile", "Argentina", "Peru", "France", "Germany", "Spain", "Italy",
             "Portugal", "Norway", "Sweden", "Japan", "India", "Kenya", "Egypt", "Australia", "New Zealand", "Iceland")
