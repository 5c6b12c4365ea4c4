"""English entities and words of the procedural haystack (the keys are described in ``_procedural_pools``)."""

from __future__ import annotations

import random
from typing import Any

from ._procedural_pools import unique


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


_EN_PRONOUNS = {
    True: {"he": "he", "him": "him", "his": "his", "He": "He", "His": "His", "child": "son", "sib": "brother",
           "parent": "father", "title": "Mr."},
    False: {"he": "she", "him": "her", "his": "her", "He": "She", "His": "Her", "child": "daughter",
            "sib": "sister", "parent": "mother", "title": "Ms."},
}

_EN_NO_COUNTRY = ("(", ",", " and ", "Island", "Republic", "United", "Territor", "Antarc", "Saint", "Holy",
                  "Kingdom", "States", "Netherlands", "Bahamas", "Philippines", "Maldives", "Gambia", "Seychelles",
                  "Comoros", "Sahara", "Korea", "Congo", "Virgin", "Minor", "Heard", "Svalbard", "Georgia")

EN_WORDS: dict[str, list[str]] = {
    "prof": [
        "architect", "botanist", "civil engineer", "composer", "economist", "geologist", "historian", "journalist",
        "mathematician", "novelist", "painter", "pharmacist", "photographer", "physician", "physicist", "poet",
        "sculptor", "surgeon", "violinist", "zoologist", "chemist", "cartographer", "astronomer", "linguist",
        "lawyer", "diplomat", "schoolteacher", "librarian", "agronomist", "shipbuilder", "printer", "pianist",
        "meteorologist", "urban planner", "archaeologist", "playwright", "illustrator", "naturalist", "inventor",
        "educator",
    ],
    "field": [
        "physics", "chemistry", "botany", "economics", "history", "law", "medicine", "mathematics", "geology",
        "linguistics", "architecture", "music", "philosophy", "civil engineering", "agriculture", "astronomy",
        "zoology", "classics", "political science", "fine art", "literature", "public health", "geography",
        "mechanical engineering", "anthropology",
    ],
    "topic": [
        "the mapping of river valleys", "early railway signalling", "soil chemistry", "the history of local trade",
        "the study of coastal erosion", "improvements to water pumps", "the folk songs of the valley region",
        "the design of public libraries", "crop diseases", "the reform of primary education",
        "migratory birds", "the history of printing", "early radio broadcasting", "bridge construction methods",
        "the treatment of fevers", "tidal measurements", "glassmaking techniques", "watercolour landscapes",
        "chamber music", "municipal finance", "the classification of mosses", "weather forecasting",
        "the preservation of old manuscripts", "labour law", "public health campaigns", "limestone caves",
        "the economics of small farms", "the translation of classical poetry", "wind patterns over the plains",
        "the chemistry of dyes", "prison reform", "the acoustics of concert halls", "freshwater fish",
        "rural electrification", "the history of clockmaking", "children's literature", "the spread of cholera",
        "the geometry of curved surfaces", "irrigation canals", "the life of river boatmen",
    ],
    "word": [
        "Harbours", "Winter", "Glass", "Orchards", "Lanterns", "Salt", "Stone", "Tides", "Bridges", "Ashes", "Snow",
        "Maps", "Letters", "Clocks", "Bees", "Fields", "Rivers", "Mirrors", "Lighthouses", "Gardens", "Islands",
        "Storms", "Iron", "Silence", "Distance", "Copper", "Sparrows", "Orchids", "Thunder", "Wheat", "Compasses",
        "Shadows", "Ferries", "Chimneys", "Candles", "Meadows", "Ledgers", "Engines", "Frost", "Pilgrims",
    ],
    "industry": [
        "agricultural machinery", "industrial adhesives", "bicycle components", "glass containers",
        "medical imaging equipment", "freight logistics", "packaged foods", "textile dyes",
        "water filtration systems", "office furniture", "marine engines", "ceramic tiles",
        "pharmaceutical ingredients", "paper and cardboard", "wind turbine parts", "household appliances",
        "specialty steel", "solar panels", "printing presses", "educational software", "farm irrigation equipment",
        "kitchen knives", "railway brakes", "canned vegetables", "hiking boots", "laboratory glassware",
        "school furniture", "garden tools", "electric motors", "frozen fish",
    ],
    "nat": [
        "Alder", "Blackwater", "Cold Spring", "Elk", "Fox", "Heron", "Little Bear", "Mill", "Otter", "Pine",
        "Red Cedar", "Silver", "Stony", "Swift", "Willow", "Clearwater", "Kettle", "Sandy", "Beaver", "Crooked",
        "Hawk", "Maple", "Birch", "Deer", "Crane", "Sycamore", "Wolf", "Ash", "Eagle", "Long Meadow", "Pigeon",
        "Turtle", "Cedar", "Laurel", "Grindstone", "Whetstone", "Pebble", "Copperhead", "Hickory", "Moss",
    ],
    "fest": [
        "Apple", "Harvest", "Blues", "Kite", "Lantern", "Pumpkin", "Strawberry", "Folk Music", "River", "Cherry",
        "Honey", "Bluegrass", "Corn", "Maple Syrup", "Jazz", "Chili", "Balloon", "Peach", "Film", "Quilt",
    ],
    "style": [
        "Gothic Revival", "Neoclassical", "Art Deco", "Romanesque Revival", "Beaux-Arts", "Italianate",
        "Queen Anne", "Greek Revival", "Second Empire", "Georgian", "Prairie School", "Tudor Revival",
        "Colonial Revival", "Art Nouveau", "Modernist",
    ],
    "material": [
        "red brick", "limestone", "granite", "sandstone", "timber", "reinforced concrete", "fieldstone",
        "yellow brick", "brownstone", "dressed stone",
    ],
    "oldjob": [
        "a blacksmith", "a clerk", "a schoolteacher", "a printer", "a carpenter", "a shopkeeper", "a miller",
        "a tailor", "a pharmacist", "a bookkeeper", "a farmer", "a ship's carpenter", "a railway clerk",
        "a stonemason", "a saddler", "a watchmaker", "a country doctor", "a cooper", "a baker", "a minister",
        "a surveyor", "a telegraph operator", "a grocer", "a mill foreman",
    ],
    "building": [
        "library", "railway station", "town hall", "lighthouse", "observatory", "theatre", "market hall", "hotel",
        "church", "courthouse", "school", "post office", "opera house", "museum", "grain mill", "bathhouse",
    ],
    "team": [
        "Hawks", "Pioneers", "Miners", "Rivermen", "Falcons", "Comets", "Lumberjacks", "Wildcats", "Rangers",
        "Mariners", "Bulldogs", "Foxes", "Owls", "Thunder", "Millers", "Stags",
    ],
    "genus": [
        "Al", "Bra", "Cor", "Del", "Eri", "Fal", "Gly", "Hel", "Ixo", "Lam", "Mor", "Nes", "Ory", "Pha", "Rho",
        "Sca", "Tel", "Ver", "Xan", "Zel", "Cal", "Dro", "Myr", "Ptero", "Stel", "Thal", "Ano", "Cyr",
    ],
    "epithet": [
        "aurea", "montana", "rivularis", "minor", "gracilis", "silvestris", "maculata", "occidentalis", "pallida",
        "borealis", "nigra", "elegans", "robusta", "lacustris", "vernalis", "obscura", "rufa", "alpina",
    ],
    "hue": [
        "amber", "ash-grey", "banded", "copper", "dusky", "golden", "pale", "speckled", "striped", "velvet",
        "crested", "spotted", "rusty", "slate-blue", "olive", "silver", "scarlet", "mottled", "chestnut", "ivory",
    ],
    "part": ["throated", "winged", "backed", "tailed", "bellied", "headed", "crowned", "legged", "eyed", "collared"],
    "animal": [
        "beetle", "moth", "frog", "salamander", "warbler", "finch", "snail", "lizard", "bat", "shrew", "butterfly",
        "dragonfly", "catfish", "minnow", "wren", "vole", "toad", "skink", "weevil", "sparrow",
    ],
    "plant": [
        "orchid", "fern", "sedge", "violet", "lily", "moss", "aster", "milkweed", "saxifrage", "gentian",
        "buttercup", "clover", "thistle", "primrose", "bellflower",
    ],
}

EN_CONST = {
    "M": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"],
    "WD": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "NUM": ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
    "ORD": ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"],
    "DIR": ["north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest"],
}

_EN_STREET = ["Street", "Avenue", "Road", "Lane", "Boulevard", "Drive", "Place"]


def pools_en(fake: Any, rng: random.Random) -> dict[str, list[Any]]:
    """The English entity pools of one ``documents`` call, from its seeded Faker and RNG."""
    males = unique([fake.first_name_male() for _ in range(70)])
    females = unique([fake.first_name_female() for _ in range(70)])
    lasts = unique([fake.last_name() for _ in range(90)])
    people = []
    for _ in range(320):
        male = rng.random() < 0.5
        first = rng.choice(males if male else females)
        last = rng.choice(lasts)
        partner = rng.choice(females if male else males)  # a spouse's first name, for "married <partner> <last>"
        people.append({"name": f"{first} {last}", "first": first, "last": last, "partner": partner,
                       **_EN_PRONOUNS[male]})
    # Towns and companies in Faker's en_US formats, assembled from the drawn parts: hundreds of them for the cost
    # of a few Faker calls, so that the same town or firm is rarely the subject of two articles.
    prefixes = unique([fake.city_prefix() for _ in range(30)])
    suffixes = unique([fake.city_suffix() for _ in range(80)])
    names = males + females
    towns = []
    for _ in range(500):
        r = rng.random()
        stem = rng.choice(names) if r < 0.6 else rng.choice(lasts)
        if r < 0.2 or 0.6 <= r < 0.7:
            towns.append(f"{rng.choice(prefixes)} {stem}{rng.choice(suffixes)}")
        elif r < 0.3:
            towns.append(f"{rng.choice(prefixes)} {stem}")
        else:
            towns.append(stem + rng.choice(suffixes))
    firm_suffixes = unique([fake.company_suffix() for _ in range(30)])
    companies = []
    for _ in range(300):
        r = rng.random()
        a, b, c = rng.sample(lasts, 3)
        name = f"{a} {rng.choice(firm_suffixes)}" if r < 0.5 else f"{a}-{b}" if r < 0.8 else f"{a}, {b} and {c}"
        companies.append({"name": name, "short": a})
    jobs = []
    for job in unique([fake.job() for _ in range(120)]):
        if any(c in job for c in ",()/"):
            continue
        if job[1:2].islower():
            job = job[0].lower() + job[1:]
        jobs.append({"n": job, "a": _article(job)})
    regions = unique([fake.state() for _ in range(30)])
    countries = [c for c in unique([fake.country() for _ in range(80)]) if not any(b in c for b in _EN_NO_COUNTRY)]
    streets = unique([f"{rng.choice(lasts)} {rng.choice(_EN_STREET)}" for _ in range(200)])
    return {"P": unique(people, key=lambda p: p["name"]), "T": unique(towns),
            "C": unique(companies, key=lambda c: c["name"]), "J": jobs, "R": regions, "N": countries, "S": streets}

