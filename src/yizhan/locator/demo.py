"""Demo gazetteer: the well-known places of the demo cities, so that `/?q=解放碑` lists the
stations near 解放碑. Positions are WGS-84 (from OpenStreetMap and Wikipedia, to a few tens of
metres), the system the stations use; the import and the form also take GCJ-02 and BD-09."""

from yizhan.core.demo import DemoContext

# city, name, aliases, kind, lat, lng
PLACES = [
    ("CQ", "解放碑", "解放碑步行街、人民解放纪念碑", "landmark", 29.5574, 106.5772),
    ("CQ", "观音桥", "观音桥步行街、观音桥商圈", "market", 29.5748, 106.5315),
    ("CQ", "三峡广场", "沙坪坝三峡广场", "landmark", 29.5566, 106.4569),
    ("CQ", "洪崖洞", "", "landmark", 29.5630, 106.5768),
    ("CQ", "朝天门", "朝天门广场、来福士", "landmark", 29.5655, 106.5848),
    ("CQ", "南坪", "南坪商圈、南坪步行街", "market", 29.5300, 106.5624),
    ("CQ", "杨家坪", "杨家坪步行街", "market", 29.5063, 106.5116),
    ("CQ", "重庆北站", "龙头寺、北站", "station", 29.6085, 106.5488),
    ("CQ", "重庆站", "菜园坝火车站、重庆火车站", "station", 29.5490, 106.5450),
    ("CQ", "重庆江北国际机场", "江北机场", "station", 29.7192, 106.6417),
    ("CQ", "小什字", "小什字地铁站", "metro", 29.5602, 106.5813),
    ("CQ", "重医附一院", "重庆医科大学附属第一医院", "hospital", 29.5330, 106.5120),
    ("CQ", "朝天门市场", "", "market", 29.5660, 106.5820),
    ("SZ", "华强北", "华强北步行街、华强北商业街", "market", 22.5462, 114.0839),
    ("SZ", "深圳北站", "北站、深圳北", "station", 22.6092, 114.0289),
    ("SZ", "深圳站", "罗湖火车站、深圳火车站", "station", 22.5319, 114.1178),
    ("SZ", "罗湖口岸", "", "landmark", 22.5295, 114.1140),
    ("SZ", "福田口岸", "", "landmark", 22.5163, 114.0667),
    ("SZ", "市民中心", "深圳市民中心", "landmark", 22.5432, 114.0575),
    ("SZ", "世界之窗", "", "landmark", 22.5357, 113.9734),
    ("SZ", "东门老街", "东门步行街、东门", "market", 22.5458, 114.1192),
    ("SZ", "深圳宝安国际机场", "宝安机场", "station", 22.6392, 113.8108),
    ("SZ", "科技园", "深圳科技园、高新园", "landmark", 22.5405, 113.9500),
    ("SZ", "深圳市人民医院", "市人民医院", "hospital", 22.5585, 114.1130),
    ("LN-SY", "中街", "中街步行街、沈阳中街", "market", 41.8000, 123.4565),
    ("LN-SY", "沈阳故宫", "故宫", "landmark", 41.7961, 123.4500),
    ("LN-SY", "沈阳站", "沈阳火车站", "station", 41.7944, 123.3946),
    ("LN-SY", "沈阳北站", "北站", "station", 41.8208, 123.4376),
    ("LN-SY", "太原街", "太原街商圈", "market", 41.7945, 123.4012),
    ("LN-SY", "北陵公园", "北陵、昭陵", "landmark", 41.8430, 123.4240),
    ("LN-SY", "五爱市场", "五爱", "market", 41.7880, 123.4600),
    ("SD-JN", "泉城广场", "", "landmark", 36.6625, 117.0185),
    ("SD-JN", "趵突泉", "趵突泉公园", "landmark", 36.6611, 117.0144),
    ("SD-JN", "大明湖", "大明湖公园", "landmark", 36.6747, 117.0216),
    ("SD-JN", "芙蓉街", "", "market", 36.6652, 117.0192),
    ("SD-JN", "济南站", "济南火车站", "station", 36.6699, 116.9895),
    ("SD-JN", "济南西站", "西站", "station", 36.6706, 116.8906),
    ("SD-JN", "千佛山", "千佛山公园", "landmark", 36.6407, 117.0395),
    ("SD-JN", "山东省立医院", "省立医院", "hospital", 36.6590, 116.9870),
    ("FJ-SM", "三明北站", "沙县站", "station", 26.3782, 117.8017),
    ("FJ-SM", "三明站", "三明火车站", "station", 26.2335, 117.6060),
    ("FJ-SM", "列东街", "列东", "market", 26.2700, 117.6380),
    ("FJ-SM", "沙县小吃文化城", "小吃城", "market", 26.3960, 117.7870),
    ("FJ-SM", "泰宁古城", "泰宁", "landmark", 26.8990, 117.1750),
    ("FJ-SM", "三明市第一医院", "市一院", "hospital", 26.2640, 117.6330),
]


def build(ctx: DemoContext) -> None:
    from yizhan.locator.places import import_places

    rows = [
        (number, {"city": city, "name": name, "aliases": aliases, "kind": kind, "lat": lat, "lng": lng})
        for number, (city, name, aliases, kind, lat, lng) in enumerate(PLACES, 2)
    ]
    counts = import_places(rows, actor=None)
    ctx.log(f"  gazetteer: {counts['created']} places")
