"""The demo org tree, deterministic for a seed, sized from the articles' figures (DOMAIN.md)."""

import datetime
import math

from django.contrib.auth import get_user_model

from yizhan.audit.services import record
from yizhan.core.demo import DEMO_PASSWORD, DemoContext
from yizhan.orgs.models import Membership, Unit, UnitKind
from yizhan.orgs.services import pinyin_initials

# (username, unit code, role, what it is for)
DEMO_USERS = [
    ("hq_admin", "HQ", "admin", "总行管理员 head-office admin: the whole network"),
    ("cq_admin", "CQ", "admin", "重庆市分行管理员 Chongqing admin"),
    ("sanxia_manager", "CQ-SXGC", "manager", "三峡广场支行网点负责人 outlet manager"),
    ("sz_viewer", "SZ", "viewer", "深圳市分行只读 Shenzhen viewer"),
    ("sd_admin", "SD", "admin", "山东省分行管理员 Shandong admin"),
    ("sm_manager", "FJ-SM", "manager", "三明分行 Sanming city-branch manager"),
]

# District centres (WGS-84) with a spread in km: outlets fall inside the built-up areas.
# province: code, name, name_en, [(tier code, name, name_en, kind, [(district, lat, lng, km)], outlets, small)]
NETWORK = [
    (
        "CQ",
        "重庆市分行",
        "Chongqing Branch",
        [
            (
                "CQ-YZ",
                "渝中支行",
                "Yuzhong Sub-branch",
                "sub_branch",
                [("渝中区", 29.5570, 106.5730, 1.6)],
                40,
                3,
            ),
            (
                "CQ-JB",
                "江北支行",
                "Jiangbei Sub-branch",
                "sub_branch",
                [("江北区", 29.6000, 106.5600, 2.5)],
                32,
                3,
            ),
            (
                "CQ-NA",
                "南岸支行",
                "Nan'an Sub-branch",
                "sub_branch",
                [("南岸区", 29.5230, 106.5700, 2.5)],
                28,
                2,
            ),
            (
                "CQ-SPB",
                "沙坪坝支行",
                "Shapingba Sub-branch",
                "sub_branch",
                [("沙坪坝区", 29.5500, 106.4500, 2.5)],
                30,
                3,
            ),
            (
                "CQ-JLP",
                "九龙坡支行",
                "Jiulongpo Sub-branch",
                "sub_branch",
                [("九龙坡区", 29.5100, 106.5000, 2.5)],
                30,
                2,
            ),
            (
                "CQ-DDK",
                "大渡口支行",
                "Dadukou Sub-branch",
                "sub_branch",
                [("大渡口区", 29.4850, 106.4850, 1.8)],
                12,
                1,
            ),
            (
                "CQ-YB",
                "渝北支行",
                "Yubei Sub-branch",
                "sub_branch",
                [("渝北区", 29.7000, 106.6100, 3.5)],
                36,
                3,
            ),
            (
                "CQ-BN",
                "巴南支行",
                "Banan Sub-branch",
                "sub_branch",
                [("巴南区", 29.4050, 106.5400, 2.5)],
                18,
                1,
            ),
            (
                "CQ-BB",
                "北碚支行",
                "Beibei Sub-branch",
                "sub_branch",
                [("北碚区", 29.8100, 106.4000, 2.0)],
                16,
                1,
            ),
            (
                "CQ-WZ",
                "万州分行",
                "Wanzhou Branch",
                "sub_branch",
                [("万州区", 30.8100, 108.3900, 2.5)],
                24,
                1,
            ),
            (
                "CQ-FL",
                "涪陵支行",
                "Fuling Sub-branch",
                "sub_branch",
                [("涪陵区", 29.7100, 107.3900, 2.0)],
                18,
                1,
            ),
            (
                "CQ-YC",
                "永川支行",
                "Yongchuan Sub-branch",
                "sub_branch",
                [("永川区", 29.3560, 105.9270, 2.0)],
                16,
                1,
            ),
        ],
    ),
    (
        "LN",
        "辽宁省分行",
        "Liaoning Branch",
        [
            (
                "LN-SY",
                "沈阳分行",
                "Shenyang Branch",
                "city",
                [
                    ("铁西区", 41.7960, 123.3500, 2.5),
                    ("和平区", 41.7890, 123.3960, 2.0),
                    ("沈河区", 41.7960, 123.4590, 2.0),
                    ("浑南区", 41.7150, 123.4500, 3.0),
                    ("皇姑区", 41.8240, 123.4400, 2.0),
                    ("大东区", 41.8050, 123.4700, 2.0),
                ],
                60,
                4,
            ),
            (
                "LN-FS",
                "抚顺分行",
                "Fushun Branch",
                "city",
                [("顺城区", 41.8830, 123.9450, 2.5), ("望花区", 41.8530, 123.8000, 2.0)],
                20,
                2,
            ),
        ],
    ),
    (
        "SZ",
        "深圳市分行",
        "Shenzhen Branch",
        [
            (
                "SZ-FT",
                "福田支行",
                "Futian Sub-branch",
                "sub_branch",
                [("福田区", 22.5410, 114.0550, 2.5)],
                30,
                3,
            ),
            (
                "SZ-NS",
                "南山支行",
                "Nanshan Sub-branch",
                "sub_branch",
                [("南山区", 22.5330, 113.9300, 3.0)],
                26,
                2,
            ),
            (
                "SZ-LH",
                "罗湖支行",
                "Luohu Sub-branch",
                "sub_branch",
                [("罗湖区", 22.5480, 114.1310, 2.0)],
                22,
                2,
            ),
            (
                "SZ-BA",
                "宝安支行",
                "Bao'an Sub-branch",
                "sub_branch",
                [("宝安区", 22.5700, 113.8800, 4.0)],
                24,
                2,
            ),
            (
                "SZ-LG",
                "龙岗支行",
                "Longgang Sub-branch",
                "sub_branch",
                [("龙岗区", 22.7200, 114.2470, 4.0)],
                20,
                2,
            ),
            (
                "SZ-LHUA",
                "龙华支行",
                "Longhua Sub-branch",
                "sub_branch",
                [("龙华区", 22.6570, 114.0450, 3.0)],
                14,
                1,
            ),
            (
                "SZ-GMQ",
                "光明区支行",
                "Guangming District Sub-branch",
                "sub_branch",
                [("光明区", 22.7480, 113.9360, 2.5)],
                8,
                1,
            ),
        ],
    ),
    (
        "SD",
        "山东省分行",
        "Shandong Branch",
        [
            (
                "SD-JN",
                "济南分行",
                "Jinan Branch",
                "city",
                [
                    ("历下区", 36.6660, 117.0760, 3.0),
                    ("市中区", 36.6510, 116.9970, 3.0),
                    ("槐荫区", 36.6510, 116.9010, 2.5),
                ],
                110,
                4,
            ),
            (
                "SD-QD",
                "青岛分行",
                "Qingdao Branch",
                "city",
                [
                    ("市南区", 36.0670, 120.3830, 2.5),
                    ("崂山区", 36.1070, 120.4690, 3.0),
                    ("黄岛区", 35.9600, 120.1980, 3.5),
                ],
                120,
                4,
            ),
            (
                "SD-YT",
                "烟台分行",
                "Yantai Branch",
                "city",
                [("芝罘区", 37.5400, 121.4000, 3.0), ("莱山区", 37.5110, 121.4450, 2.5)],
                62,
                3,
            ),
            ("SD-WF", "潍坊分行", "Weifang Branch", "city", [("奎文区", 36.7070, 119.1320, 3.0)], 60, 2),
            ("SD-LY", "临沂分行", "Linyi Branch", "city", [("兰山区", 35.0510, 118.3470, 3.5)], 58, 3),
            ("SD-ZB", "淄博分行", "Zibo Branch", "city", [("张店区", 36.8070, 118.0170, 3.0)], 52, 2),
            ("SD-JNG", "济宁分行", "Jining Branch", "city", [("任城区", 35.4150, 116.5870, 3.0)], 54, 2),
            ("SD-TA", "泰安分行", "Tai'an Branch", "city", [("泰山区", 36.1940, 117.1290, 2.5)], 40, 2),
            ("SD-WH", "威海分行", "Weihai Branch", "city", [("环翠区", 37.5020, 122.1200, 2.5)], 36, 2),
            ("SD-DZ", "德州分行", "Dezhou Branch", "city", [("德城区", 37.4510, 116.3590, 2.5)], 42, 2),
            ("SD-LC", "聊城分行", "Liaocheng Branch", "city", [("东昌府区", 36.4570, 115.9850, 2.5)], 40, 1),
            ("SD-BZ", "滨州分行", "Binzhou Branch", "city", [("滨城区", 37.3820, 117.9720, 2.5)], 34, 1),
            ("SD-HZ", "菏泽分行", "Heze Branch", "city", [("牡丹区", 35.2430, 115.4410, 2.5)], 44, 1),
            ("SD-ZZ", "枣庄分行", "Zaozhuang Branch", "city", [("市中区", 34.8560, 117.5560, 2.5)], 32, 1),
            ("SD-RZ", "日照分行", "Rizhao Branch", "city", [("东港区", 35.4170, 119.5270, 2.5)], 30, 1),
            ("SD-DY", "东营分行", "Dongying Branch", "city", [("东营区", 37.4340, 118.6750, 3.0)], 66, 2),
        ],
    ),
    (
        "FJ",
        "福建省分行",
        "Fujian Branch",
        [
            (
                "FJ-SM",
                "三明分行",
                "Sanming Branch",
                "city",
                [
                    ("三元区", 26.2340, 117.6080, 1.5),
                    ("梅列区", 26.2700, 117.6380, 1.5),
                    ("沙县区", 26.3970, 117.7920, 1.5),
                    ("泰宁县", 26.9000, 117.1760, 1.0),
                    ("清流县", 26.1770, 116.8160, 1.0),
                ],
                25,
                5,
            ),
        ],
    ),
]

# Outlets the articles name: (code, parent code, name, name_en, lat, lng, address)
NAMED_OUTLETS = [
    (
        "CQ-SXGC",
        "CQ-SPB",
        "三峡广场支行",
        "Sanxia Square Sub-branch",
        29.5566,
        106.4569,
        "重庆市沙坪坝区三峡广场1号",
    ),
    (
        "CQ-JXDL",
        "CQ-JB",
        "建新东路支行",
        "Jianxin East Road Sub-branch",
        29.5770,
        106.5330,
        "重庆市江北区建新东路3号",
    ),
    (
        "LN-SY-XGJ",
        "LN-SY",
        "向工街支行",
        "Xianggong Street Sub-branch",
        41.7930,
        123.3420,
        "沈阳市铁西区向工街18号",
    ),
    ("LN-SY-HN", "LN-SY", "浑南支行", "Hunnan Sub-branch", 41.7142, 123.4493, "沈阳市浑南区浑南中路9号"),
    (
        "LN-FS-YHW",
        "LN-FS",
        "抚顺银河湾支行",
        "Fushun Yinhewan Sub-branch",
        41.8655,
        123.9170,
        "抚顺市顺城区银河湾小区门前路6号",
    ),
    ("SZ-GM", "SZ-GMQ", "光明支行", "Guangming Sub-branch", 22.7487, 113.9360, "深圳市光明区光明大街88号"),
    (
        "SZ-MLYC",
        "SZ-FT",
        "梅林一村支行",
        "Meilin Yicun Sub-branch",
        22.5700,
        114.0470,
        "深圳市福田区梅林一村商业街12号",
    ),
    (
        "SZ-QCXJ",
        "SZ-NS",
        "侨城西街支行",
        "Qiaocheng West Street Sub-branch",
        22.5380,
        113.9740,
        "深圳市南山区侨城西街5号",
    ),
    ("SZ-JT", "SZ-FT", "景田支行", "Jingtian Sub-branch", 22.5560, 114.0370, "深圳市福田区景田路70号"),
    ("SZ-YC", "SZ-BA", "云城支行", "Yuncheng Sub-branch", 22.5800, 113.8780, "深圳市宝安区云城路21号"),
    ("SZ-FM", "SZ-FT", "福民支行", "Fumin Sub-branch", 22.5230, 114.0700, "深圳市福田区福民路123号"),
    ("FJ-SM-LD", "FJ-SM", "列东支行", "Liedong Sub-branch", 26.2705, 117.6385, "三明市梅列区列东街35号"),
    ("FJ-SM-SY", "FJ-SM", "三元支行", "Sanyuan Sub-branch", 26.2345, 117.6085, "三明市三元区新市中路2号"),
    ("FJ-SM-SX", "FJ-SM", "沙县支行", "Shaxian Sub-branch", 26.3975, 117.7925, "三明市沙县区府前路8号"),
    ("FJ-SM-TN", "FJ-SM", "泰宁支行", "Taining Sub-branch", 26.9005, 117.1765, "三明市泰宁县状元街16号"),
    ("FJ-SM-QL", "FJ-SM", "清流支行", "Qingliu Sub-branch", 26.1775, 116.8165, "三明市清流县龙津路4号"),
]

ROADS = [
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "和平路",
    "胜利路",
    "文化路",
    "新华路",
    "长江路",
    "黄河路",
    "青年路",
    "光明街",
    "幸福路",
    "民主路",
    "工业路",
    "育才路",
    "滨江路",
    "朝阳路",
    "东风路",
    "红旗路",
]
CITY_NAMES = {"CQ": "重庆市", "SZ": "深圳市", "FJ-SM": "三明市", "LN-SY": "沈阳市", "LN-FS": "抚顺市"}


_ROAD_WORDS = {"路": "Road", "街": "Street"}


def road_en(road: str) -> str:
    """解放路 -> Jiefang Road: the English form of a Chinese street name, in pinyin."""
    from pypinyin import lazy_pinyin

    stem, kind = (road[:-1], _ROAD_WORDS[road[-1]]) if road[-1:] in _ROAD_WORDS else (road, "")
    return " ".join(part for part in ("".join(lazy_pinyin(stem)).capitalize(), kind) if part)


def _place(rng, districts):
    district, lat, lng, km = rng.choice(districts)
    # Gaussian scatter around the district centre, clipped to 2 sigma so none lands in the hills.
    while True:
        dx, dy = rng.gauss(0, 1), rng.gauss(0, 1)
        if dx * dx + dy * dy <= 4:
            break
    dlat = dy * km / 111.32
    dlng = dx * km / (111.32 * math.cos(math.radians(lat)))
    return district, round(lat + dlat, 6), round(lng + dlng, 6)


def _create_level(units: list[Unit]) -> list[Unit]:
    for unit in units:
        unit.pinyin = pinyin_initials(unit.name)
        unit.path = "/"
    created = Unit.objects.bulk_create(units)
    for unit in created:
        unit.path = f"{unit.parent.path if unit.parent else '/'}{unit.pk}/"
    Unit.objects.bulk_update(created, ["path"])
    return created


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("orgs")
    opened = datetime.date(1995, 1, 1)

    def opened_on():
        return opened + datetime.timedelta(days=rng.randrange(0, 9000))

    hq = _create_level(
        [
            Unit(
                code="HQ",
                kind=UnitKind.HEAD_OFFICE,
                name="总行",
                name_en="Head Office",
                level=0,
                opened_on=datetime.date(1984, 1, 1),
            )
        ]
    )[0]
    provinces = _create_level(
        [
            Unit(
                code=code,
                kind=UnitKind.PROVINCE,
                name=name,
                name_en=name_en,
                parent=hq,
                level=1,
                opened_on=datetime.date(1985, 1, 1),
            )
            for code, name, name_en, _tiers in NETWORK
        ]
    )
    by_code = {u.code: u for u in [hq, *provinces]}
    tiers = []
    for code, _name, _name_en, tier_list in NETWORK:
        for t_code, t_name, t_name_en, kind, _districts, _n, _small in tier_list:
            tiers.append(
                Unit(
                    code=t_code,
                    kind=kind,
                    name=t_name,
                    name_en=t_name_en,
                    parent=by_code[code],
                    level=2,
                    opened_on=opened_on(),
                )
            )
    by_code.update({u.code: u for u in _create_level(tiers)})

    named_by_parent: dict[str, list] = {}
    for row in NAMED_OUTLETS:
        named_by_parent.setdefault(row[1], []).append(row)
    outlets = []
    for code, _name, _name_en, tier_list in NETWORK:
        for t_code, t_name, t_name_en, _kind, districts, n_full, n_small in tier_list:
            parent = by_code[t_code]
            base_en = t_name_en.removesuffix(" Sub-branch").removesuffix(" Branch")
            city = CITY_NAMES.get(code) or CITY_NAMES.get(t_code) or t_name.replace("分行", "市")
            named = named_by_parent.get(t_code, [])
            for o_code, _p, o_name, o_name_en, lat, lng, address in named:
                outlets.append(
                    Unit(
                        code=o_code,
                        kind=UnitKind.OUTLET,
                        name=o_name,
                        name_en=o_name_en,
                        parent=parent,
                        level=3,
                        lat=lat,
                        lng=lng,
                        address=address,
                        opened_on=opened_on(),
                    )
                )
            count = (n_small if ctx.small else n_full) - len(named)
            for i in range(1, max(count, 0) + 1):
                district, lat, lng = _place(rng, districts)
                road = rng.choice(ROADS)
                base = t_name.replace("分行", "").replace("支行", "")
                outlets.append(
                    Unit(
                        code=f"{t_code}-{i:03d}",
                        kind=UnitKind.OUTLET,
                        name=f"{base}{road}{'营业室' if i % 3 else '支行'}{i:03d}",
                        name_en=f"{base_en} {road_en(road)} {'Outlet' if i % 3 else 'Sub-branch'} {i:03d}",
                        parent=parent,
                        level=3,
                        lat=lat,
                        lng=lng,
                        address=f"{city}{district}{road}{rng.randrange(1, 400)}号",
                        opened_on=opened_on(),
                    )
                )
    _create_level(outlets)

    User = get_user_model()
    units = {u.code: u for u in Unit.objects.filter(code__in=[u[1] for u in DEMO_USERS])}
    for username, unit_code, role, _note in DEMO_USERS:
        user = User.objects.create_user(username=username, password=DEMO_PASSWORD)
        Membership.objects.create(user=user, unit=units[unit_code], role=role)
    record("demo.built", hq, actor=None, changes={"seed": [None, ctx.seed], "outlets": [None, len(outlets)]})
    ctx.data["outlets"] = len(outlets)
    ctx.log(f"Org tree: {Unit.objects.count()} units, {len(outlets)} outlets.")
