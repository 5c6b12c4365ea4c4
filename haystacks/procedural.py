"""The default haystack: fictitious prose lcgen writes itself, in English or Chinese.

Each call to :meth:`ProceduralHaystack.documents` seeds one Faker instance from the caller's RNG and draws entity
pools from it once (people, towns, companies, jobs, regions, countries); every document then picks a kind
(biography, town article, company report, letter, news item, history article, species article, building article),
samples the entities it needs from the pools and a list of random integers ``k``, and renders one Jinja2 template
from ``templates/haystacks/procedural/<lang>/``. The templates choose phrasings with ``k`` (they never draw
randomness themselves) and write one sentence per line.

Avoided strings (needle names and answers) are kept out by construction: entities and word-list entries that
contain one are removed from the pools, a document whose rendered text still contains one is re-drawn a few times,
and any sentence that still does is dropped.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection, Iterator
from typing import Any

from lcgen.errors import HaystackError
from lcgen.haystack import LANGS, Haystack, register_haystack
from lcgen.render import environment

TEMPLATE_DIR = "haystacks/procedural"
FAKER_LOCALES = {"en": "en_US", "zh": "zh_CN"}
N_CHOICES = 80  # length of the per-document list ``k`` of random integers the templates choose with
RETRIES = 4  # re-draws of a document that still mentions an avoided string
MAX_EMPTY = 200  # consecutive documents emptied by ``avoid`` before giving up

# How many distinct entries of each pool a document of each kind gets (pools are described in _pools_en/_pools_zh).
KINDS: dict[str, dict[str, int]] = {
    "biography": {"P": 6, "T": 3, "R": 1, "C": 1, "J": 2, "oldjob": 2, "prof": 1, "field": 1, "topic": 2, "word": 3,
                  "N": 1},
    "place": {"P": 5, "T": 3, "R": 1, "C": 2, "prof": 2, "industry": 2, "nat": 3, "fest": 1, "style": 1, "S": 2},
    "company": {"P": 4, "T": 3, "R": 1, "C": 3, "industry": 2, "N": 2, "nat": 1},
    "letter": {"P": 5, "T": 2, "C": 1, "J": 1, "oldjob": 1, "nat": 1, "S": 1, "fest": 1},
    "news": {"P": 5, "T": 2, "R": 1, "C": 2, "J": 1, "S": 2, "nat": 1, "industry": 1, "team": 2},
    "history": {"P": 5, "T": 3, "R": 1, "C": 1, "nat": 2, "N": 1},
    "species": {"P": 3, "T": 2, "R": 1, "nat": 2, "genus": 2, "epithet": 2, "hue": 2, "part": 1, "animal": 1,
                "plant": 1},
    "building": {"P": 4, "T": 2, "R": 1, "C": 1, "style": 1, "material": 2, "building": 1, "nat": 1},
}

_lock = threading.Lock()
_fakers: dict[str, Any] = {}


def _faker(locale: str, seed: int) -> Any:
    """The per-process Faker for ``locale``, re-seeded (call under ``_lock``)."""
    from faker import Faker  # imported lazily: only the procedural source needs it

    fake = _fakers.get(locale)
    if fake is None:
        fake = _fakers[locale] = Faker(locale)
    fake.seed_instance(seed)
    return fake


def _unique(items: list[Any], key: Any = None) -> list[Any]:
    """``items`` without repeats, in first-seen order."""
    seen: set[Any] = set()
    out = []
    for item in items:
        k = item if key is None else key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


# ---------------------------------------------------------------------------------------------------- English

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


def _pools_en(fake: Any, rng: random.Random) -> dict[str, list[Any]]:
    males = _unique([fake.first_name_male() for _ in range(70)])
    females = _unique([fake.first_name_female() for _ in range(70)])
    lasts = _unique([fake.last_name() for _ in range(90)])
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
    prefixes = _unique([fake.city_prefix() for _ in range(30)])
    suffixes = _unique([fake.city_suffix() for _ in range(80)])
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
    firm_suffixes = _unique([fake.company_suffix() for _ in range(30)])
    companies = []
    for _ in range(300):
        r = rng.random()
        a, b, c = rng.sample(lasts, 3)
        name = f"{a} {rng.choice(firm_suffixes)}" if r < 0.5 else f"{a}-{b}" if r < 0.8 else f"{a}, {b} and {c}"
        companies.append({"name": name, "short": a})
    jobs = []
    for job in _unique([fake.job() for _ in range(120)]):
        if any(c in job for c in ",()/"):
            continue
        if job[1:2].islower():
            job = job[0].lower() + job[1:]
        jobs.append({"n": job, "a": _article(job)})
    regions = _unique([fake.state() for _ in range(30)])
    countries = [c for c in _unique([fake.country() for _ in range(80)]) if not any(b in c for b in _EN_NO_COUNTRY)]
    streets = _unique([f"{rng.choice(lasts)} {rng.choice(_EN_STREET)}" for _ in range(200)])
    return {"P": _unique(people, key=lambda p: p["name"]), "T": _unique(towns),
            "C": _unique(companies, key=lambda c: c["name"]), "J": jobs, "R": regions, "N": countries, "S": streets}


# ---------------------------------------------------------------------------------------------------- Chinese

_ZH_PRONOUNS = {
    True: {"he": "他", "child": "儿子", "sib": "兄弟", "parent": "父亲", "title": "先生"},
    False: {"he": "她", "child": "女儿", "sib": "姐妹", "parent": "母亲", "title": "女士"},
}

ZH_WORDS: dict[str, list[str]] = {
    "prof": [
        "建筑师", "植物学家", "土木工程师", "作曲家", "经济学家", "地质学家", "历史学家", "记者", "数学家",
        "小说家", "画家", "药剂师", "摄影师", "医生", "物理学家", "诗人", "雕塑家", "外科医生", "小提琴家",
        "动物学家", "化学家", "天文学家", "语言学家", "律师", "外交官", "中学教师", "图书馆员", "农学家",
        "造船工程师", "钢琴家", "气象学家", "城市规划师", "考古学家", "剧作家", "插画家", "发明家", "翻译家",
        "书法家", "水利专家", "教育家",
    ],
    "field": [
        "物理学", "化学", "植物学", "经济学", "历史学", "法学", "医学", "数学", "地质学", "语言学", "建筑学",
        "音乐", "哲学", "土木工程", "农学", "天文学", "动物学", "古典文献", "政治学", "美术", "文学", "公共卫生",
        "地理学", "机械工程", "人类学",
    ],
    "topic": [
        "河谷地形测绘", "早期铁路信号系统", "土壤化学", "地方商业史", "海岸侵蚀", "水泵改良", "山区民歌",
        "公共图书馆设计", "农作物病害", "基础教育改革", "候鸟迁徙", "印刷史", "早期无线电广播", "桥梁施工方法",
        "热病防治", "潮汐观测", "玻璃制造工艺", "水彩风景画", "室内乐", "城市财政", "苔藓分类", "天气预报",
        "古籍保护", "劳动法", "公共卫生运动", "石灰岩溶洞", "小农经济", "古典诗歌翻译", "平原风场", "染料化学",
        "监狱制度改革", "音乐厅声学", "淡水鱼类", "农村电气化", "钟表制造史", "儿童文学", "霍乱传播", "曲面几何",
        "灌溉渠系", "内河船工生活",
    ],
    "word": [
        "港湾", "冬天", "玻璃", "果园", "灯笼", "盐", "石头", "潮汐", "桥", "灰烬", "雪", "地图", "书信", "钟表",
        "蜜蜂", "田野", "河流", "镜子", "灯塔", "花园", "岛屿", "风暴", "铁", "沉默", "远方", "铜", "麻雀", "兰花",
        "雷声", "麦子", "罗盘", "影子", "渡船", "烟囱", "蜡烛", "草地", "账本", "机器", "霜", "旅人",
    ],
    "industry": [
        "农业机械", "工业胶粘剂", "自行车零部件", "玻璃容器", "医疗影像设备", "货运物流", "包装食品", "纺织染料",
        "净水设备", "办公家具", "船用发动机", "陶瓷砖", "医药原料", "纸制品", "风电零部件", "家用电器", "特种钢材",
        "太阳能电池板", "印刷机械", "教育软件", "农田灌溉设备", "刀具", "铁路制动器", "蔬菜罐头", "登山鞋",
        "实验室玻璃器皿", "课桌椅", "园林工具", "电动机", "冷冻水产品",
    ],
    "nat": [
        "清水", "白沙", "桃花", "黑石", "金沙", "青龙", "柳叶", "石门", "双溪", "凤凰", "卧牛", "燕子", "红岩",
        "鹰嘴", "乌龙", "马鞍", "莲花", "狮子", "望江", "玉带", "白鹤", "九曲", "长乐", "梅林", "松涛", "翠屏",
        "龙潭", "落雁", "紫云", "青峰",
    ],
    "fest": [
        "荷花节", "桃花节", "龙舟赛", "元宵灯会", "庙会", "丰收节", "风筝节", "茶文化节", "杨梅节", "菊花展",
        "民歌节", "美食节", "冰雪节", "油菜花节", "葡萄节", "渔火节",
    ],
    "style": [
        "中西合璧", "岭南", "徽派", "新古典主义", "装饰艺术", "现代主义", "闽南", "仿古", "哥特复兴", "海派",
    ],
    "material": ["青砖", "红砖", "花岗岩", "石灰石", "木料", "钢筋混凝土", "条石", "汉白玉", "水磨石", "砂岩"],
    "oldjob": [
        "铁匠", "账房先生", "私塾先生", "木匠", "裁缝", "药铺掌柜", "米商", "船工", "郎中", "染坊师傅", "茶农",
        "小学教员", "邮差", "钟表匠", "石匠", "布店伙计", "铁路职员", "磨坊主", "面点师傅", "货郎",
    ],
    "building": [
        "图书馆", "火车站", "大会堂", "灯塔", "天文台", "剧院", "菜市场", "饭店", "钟楼", "法院", "中学", "邮局",
        "戏楼", "博物馆", "粮仓", "书院",
    ],
    "team": ["猛虎", "雄鹰", "蛟龙", "飞马", "猎豹", "金狮", "长风", "铁军", "海鸥", "闪电", "火焰", "青松"],
    "genus": EN_WORDS["genus"],
    "epithet": EN_WORDS["epithet"],
    "hue": ["金", "银", "黑", "白", "灰", "青", "紫", "红", "黄", "褐", "蓝", "绿", "赤", "橙", "棕"],
    "part": ["背", "喉", "冠", "翅", "颈", "腹", "尾", "足", "眉", "额"],
    "animal": [
        "山雀", "溪蛙", "林蛙", "石龙子", "甲虫", "天牛", "蛾", "蝶", "蜻蜓", "鲶", "鳑鲏", "鼩鼱", "蝙蝠", "蜗牛",
        "莺", "鹪鹩", "蟾蜍", "蝾螈", "蜥", "画眉",
    ],
    "plant": [
        "兰", "蕨", "苔草", "堇菜", "百合", "苔藓", "紫菀", "龙胆", "报春", "虎耳草", "毛茛", "蓟", "风铃草",
        "景天", "杜鹃",
    ],
}

ZH_CONST = {
    "NUM": ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"],
    "DIR": ["北", "南", "东", "西", "东北", "西北", "东南", "西南"],
    "WD": ["一", "二", "三", "四", "五", "六", "日"],
    "ORD": ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"],
}

_ZH_TOWN_A = list("青石柳桃安平永宁清松白黄金临龙凤云长丰兴乐福泰桂双三古太阳")
_ZH_TOWN_B = list("溪山川水阳江林湖源口岭桥湾塘坪坝田台城州亭浦河坡埠")
_ZH_TOWN_C = ["镇", "镇", "县", "县", "市"]
_ZH_BAD_JOB = ("/", "其他", "网店", "淘宝", "（", "(")
_ZH_NOT_MALE = ("红霞",)  # a female name in Faker's zh_CN list of male given names


def _pools_zh(fake: Any, rng: random.Random) -> dict[str, list[Any]]:
    males = [m for m in _unique([fake.first_name_male() for _ in range(80)]) if m not in _ZH_NOT_MALE]
    females = _unique([fake.first_name_female() for _ in range(80)])
    lasts = _unique([fake.last_name() for _ in range(80)])
    people = []
    for _ in range(320):
        male = rng.random() < 0.5
        first = rng.choice(males if male else females)
        last = rng.choice(lasts)
        partner = rng.choice(females if male else males)
        people.append({"name": last + first, "first": first, "last": last, "partner": partner,
                       **_ZH_PRONOUNS[male]})
    towns = []
    for _ in range(500):
        stem = rng.choice(_ZH_TOWN_A) + rng.choice(_ZH_TOWN_B)
        if stem[0] != stem[1]:
            towns.append(stem + rng.choice(_ZH_TOWN_C))
    companies = []
    for _ in range(250):
        short = fake.company_prefix()
        if rng.random() < 0.6:  # many firms carry a place name: 青溪九方科技有限公司
            short = rng.choice(towns)[:-1] + short
        companies.append({"name": short + fake.company_suffix(), "short": short})
    jobs = [{"n": j, "a": j} for j in _unique([fake.job() for _ in range(150)])
            if 2 <= len(j) <= 6 and not any(b in j for b in _ZH_BAD_JOB) and not any(c.isascii() for c in j)]
    regions = _unique([fake.province() for _ in range(40)])
    countries = [c for c in _unique([fake.country() for _ in range(80)]) if len(c) <= 5 and "和" not in c]
    streets = _unique([fake.street_name() for _ in range(120)])
    return {"P": _unique(people, key=lambda p: p["name"]), "T": _unique(towns),
            "C": _unique(companies, key=lambda c: c["short"]), "J": jobs, "R": regions, "N": countries,
            "S": streets}


# ---------------------------------------------------------------------------------------------------- the source

_LANG = {"en": (_pools_en, EN_WORDS, EN_CONST), "zh": (_pools_zh, ZH_WORDS, ZH_CONST)}


def _text(entry: Any) -> str:
    """The text of a pool entry the avoid filter checks (a person's full name contains the first and last)."""
    if isinstance(entry, dict):
        return " ".join(v for k, v in entry.items() if k in ("name", "short", "n", "partner"))
    return entry


def _mentions(text: str, avoid: list[str]) -> bool:
    low = text.lower()
    return any(a in low for a in avoid)


@register_haystack
class ProceduralHaystack(Haystack):
    """Endless fictitious prose: articles, reports, letters and news about invented people, places and firms."""

    scheme = "procedural"
    description = ("procedural prose written by lcgen from Jinja2 templates and Faker entities: fictitious "
                   "biographies, town and building articles, company reports, letters, news, history and species "
                   "articles (English or Chinese)")
    license = "CC0-1.0 (generated by lcgen)"
    shareable = True

    def __init__(self, arg: str | None):
        if arg is not None:
            raise HaystackError(f"--haystack: procedural takes no argument (got procedural:{arg})")
        super().__init__(arg)

    def documents(self, rng: random.Random, lang: str, avoid: Collection[str] = ()) -> Iterator[list[str]]:
        if lang not in LANGS or lang not in _LANG:
            raise HaystackError(f"procedural haystack: unsupported language {lang!r}; use one of {', '.join(LANGS)}")
        avoid_low = sorted({a.lower() for a in avoid if a})
        make_pools, words, const = _LANG[lang]
        with _lock:
            fake = _faker(FAKER_LOCALES[lang], rng.getrandbits(64))
            pools = make_pools(fake, rng)
        pools.update(words)
        if avoid_low:
            pools = {name: [e for e in pool if not _mentions(_text(e), avoid_low)] for name, pool in pools.items()}
        for kind, needs in KINDS.items():
            for name, count in needs.items():
                if len(pools[name]) < count:
                    raise HaystackError(f"procedural haystack: the avoided strings rule out too many entries "
                                        f"of pool {name!r} (needed by {kind!r} documents)")
        env = environment("lcgen.templates")
        templates = [(env.get_template(f"{TEMPLATE_DIR}/{lang}/{kind}.j2"), tuple(needs.items()))
                     for kind, needs in KINDS.items()]
        return _generate(rng, templates, pools, const, avoid_low)


def _generate(rng: random.Random, templates: list[tuple[Any, tuple[tuple[str, int], ...]]],
              pools: dict[str, list[Any]], const: dict[str, list[str]], avoid: list[str]) -> Iterator[list[str]]:
    sample, getrandbits, randrange = rng.sample, rng.getrandbits, rng.randrange
    n_kinds = len(templates)
    last = randrange(n_kinds)
    empty = 0
    while True:
        last = (last + 1 + randrange(n_kinds - 1)) % n_kinds  # never the same kind twice in a row
        template, needs = templates[last]
        for attempt in range(RETRIES + 1):
            ctx: dict[str, Any] = {name: sample(pools[name], count) for name, count in needs}
            ctx["k"] = [getrandbits(30) for _ in range(N_CHOICES)]
            ctx.update(const)
            doc = [s for s in (line.strip() for line in template.render(ctx).split("\n")) if s]
            if not avoid or not _mentions("\n".join(doc), avoid):  # one check per document, not per sentence
                break
            if attempt == RETRIES:
                doc = [s for s in doc if not _mentions(s, avoid)]
        if doc:
            empty = 0
            yield doc
        else:
            empty += 1
            if empty >= MAX_EMPTY:
                raise HaystackError("procedural haystack: the avoided strings rule out nearly every sentence")


__all__ = ["ProceduralHaystack"]
