"""Chinese entities and words of the procedural haystack (the keys are described in ``_procedural_pools``)."""

from __future__ import annotations

import random
from typing import Any

from ._procedural_en import EN_WORDS
from ._procedural_pools import unique

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


def pools_zh(fake: Any, rng: random.Random) -> dict[str, list[Any]]:
    """The Chinese entity pools of one ``documents`` call, from its seeded Faker and RNG."""
    males = [m for m in unique([fake.first_name_male() for _ in range(80)]) if m not in _ZH_NOT_MALE]
    females = unique([fake.first_name_female() for _ in range(80)])
    lasts = unique([fake.last_name() for _ in range(80)])
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
    jobs = [{"n": j, "a": j} for j in unique([fake.job() for _ in range(150)])
            if 2 <= len(j) <= 6 and not any(b in j for b in _ZH_BAD_JOB) and not any(c.isascii() for c in j)]
    regions = unique([fake.province() for _ in range(40)])
    countries = [c for c in unique([fake.country() for _ in range(80)]) if len(c) <= 5 and "和" not in c]
    streets = unique([fake.street_name() for _ in range(120)])
    return {"P": unique(people, key=lambda p: p["name"]), "T": unique(towns),
            "C": unique(companies, key=lambda c: c["short"]), "J": jobs, "R": regions, "N": countries,
            "S": streets}

