"""The catalogue seeded with the items the articles name (seeds/000–004)."""

from django.db import migrations

# code, name, name_en, uom, category, expiry tracked, lot tracked, use follows, per check-in
ITEMS = [
    ("CUP", "一次性纸杯", "Paper cups", "个", "station_consumable", False, False, "water", "1"),
    ("WATER-BARREL", "桶装饮用水", "Bottled water (barrel)", "桶", "station_consumable", False, False, "water", "0.03"),
    ("TEA", "茶叶", "Tea", "包", "station_consumable", True, False, "warmth", "0.05"),
    ("GLASSES", "老花镜", "Reading glasses", "副", "station_consumable", False, False, "", "0"),
    ("CABLE", "手机充电线", "Phone-charging cables", "根", "station_consumable", False, False, "charging", "0.005"),
    ("FIRST-AID", "急救箱", "First-aid kit", "个", "station_consumable", True, True, "", "0"),
    ("SLEEVES", "防晒冰袖", "Sun-protection sleeves", "副", "courier_gear", False, False, "courier", "0.15"),
    ("SUN-HAT", "遮阳帽", "Sun hats", "顶", "courier_gear", False, False, "courier", "0.12"),
    ("WAIST-BAG", "腰包", "Waist bags", "个", "courier_gear", False, False, "courier", "0.03"),
    ("SUIT", "防护服", "Protective suits", "件", "epidemic_supply", True, True, "", "0"),
    ("WIPES", "酒精消毒湿巾", "Alcohol disinfectant wipes", "片", "epidemic_supply", True, False, "", "0"),
    ("MASK", "医用口罩", "Medical masks", "个", "epidemic_supply", True, False, "", "0"),
    ("HAND-GEL", "洗手消毒凝胶", "Hand sanitiser gel", "瓶", "epidemic_supply", True, False, "", "0"),
    ("HAND-SOAP", "除菌洗手液", "Antibacterial hand soap", "瓶", "epidemic_supply", False, False, "", "0"),
    ("DISINFECTANT", "消毒液", "Disinfectant", "瓶", "epidemic_supply", True, False, "", "0"),
    ("ALCOHOL", "酒精", "Alcohol", "瓶", "epidemic_supply", True, False, "", "0"),
    ("LIFT-PAPER", "电梯按键专用纸", "Lift-button cover paper", "包", "epidemic_supply", False, False, "", "0"),
    ("MASK-BIN", "废弃口罩专用桶", "Used-mask bin", "个", "equipment", False, False, "", "0"),
    ("THERMOMETER", "体温枪", "Infrared thermometer", "把", "equipment", False, False, "", "0"),
    ("UV-LAMP", "紫外线消毒灯", "UV disinfection lamp", "台", "equipment", False, False, "", "0"),
    ("OZONE", "臭氧消毒机", "Ozone disinfection machine", "台", "equipment", False, False, "", "0"),
    ("FRUIT", "水果", "Fruit", "箱", "relief_goods", False, False, "", "0"),
    ("NOODLES", "方便面", "Instant noodles", "箱", "relief_goods", False, False, "", "0"),
    ("BISCUITS", "饼干糕点", "Biscuits and pastries", "箱", "relief_goods", False, False, "", "0"),
    ("WATER-CASE", "饮用水", "Drinking water (cases)", "箱", "relief_goods", False, False, "", "0"),
    ("MILK", "纯牛奶", "Milk", "件", "relief_goods", True, False, "", "0"),
]


def seed(apps, schema_editor):
    Item = apps.get_model("supplies", "Item")
    for code, name, name_en, uom, category, expiry, lot, driver, per_use in ITEMS:
        Item.objects.get_or_create(
            code=code,
            defaults=dict(name=name, name_en=name_en, uom=uom, category=category, expiry_tracked=expiry,
                          lot_tracked=lot, driver=driver, per_use=per_use),
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("supplies", "0002_append_only_and_templates")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
