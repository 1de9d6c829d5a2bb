"""The facility and theme catalogue from DOMAIN.md, seeded into the database after every migrate.

Icons are 24×24 line drawings (stroke="currentColor"), kept here as SVG path data and rendered
inline, so that no page needs an icon font, a sprite request or a CDN.
"""

from django.utils.translation import gettext_lazy as _

BASIC = "basic"
EXTENDED = "extended"
ZONE = "zone"
THEMED = "themed"

# (code, group, 中文, English, svg paths)
FACILITIES = [
    (
        "air_conditioning",
        BASIC,
        "空调（冬天暖气）",
        "Air conditioning / heating",
        "M3 5h18v7H3zM6 9h12M7 16l-1 3M12 16v4M17 16l1 3",
    ),
    ("seating", BASIC, "休息座椅", "Seats to rest", "M5 11V5h14v6M4 11h16v4H4zM6 15v5M18 15v5"),
    (
        "drinking_water",
        BASIC,
        "饮水设施",
        "Drinking water (hot in winter, cool in summer)",
        "M12 3c3 4 6 7.5 6 11a6 6 0 0 1-12 0c0-3.5 3-7 6-11z",
    ),
    ("phone_charging", BASIC, "手机充电", "Phone charging", "M8 2h8v20H8zM11 18h2M13 7l-3 4h4l-3 4"),
    (
        "wifi",
        BASIC,
        "Wi-Fi无线上网",
        "Free Wi-Fi",
        "M2 9a15 15 0 0 1 20 0M5 13a10 10 0 0 1 14 0M8.5 16.5a5 5 0 0 1 7 0M12 20h.01",
    ),
    (
        "public_education",
        BASIC,
        "公众教育（阅读架）",
        "Public education material / reading rack",
        "M2 5h7a3 3 0 0 1 3 3v12a2 2 0 0 0-2-2H2zM22 5h-7a3 3 0 0 0-3 3v12a2 2 0 0 1 2-2h8z",
    ),
    (
        "note_checker",
        BASIC,
        "点验钞机",
        "Counterfeit-note checker",
        "M3 14h18v6H3zM6 14V8h12v6M8 4h8v4H8zM7 17h4",
    ),
    (
        "reading_glasses",
        BASIC,
        "老花镜",
        "Reading glasses",
        "M2 14a4 4 0 1 0 8 0a4 4 0 1 0-8 0M14 14a4 4 0 1 0 8 0a4 4 0 1 0-8 0M10 14h4M2 14l2-6M22 14l-2-6",
    ),
    (
        "restroom",
        EXTENDED,
        "洗手间",
        "Restroom",
        "M7 3a2 2 0 1 0 .01 0M17 3a2 2 0 1 0 .01 0M5 8h4v13M15 8h4l1 7h-6z",
    ),
    (
        "mother_baby_room",
        EXTENDED,
        "母婴室",
        "Mother-and-baby room",
        "M9 3a2 2 0 1 0 .01 0M7 8h4l1 6H9v7M14 13a3 3 0 1 0 6 0a3 3 0 1 0-6 0",
    ),
    ("first_aid_kit", EXTENDED, "急救箱", "First-aid kit", "M3 7h18v13H3zM9 7V4h6v3M12 10v7M8.5 13.5h7"),
    (
        "wheelchair",
        EXTENDED,
        "轮椅",
        "Wheelchair",
        "M10 3a1.5 1.5 0 1 0 .01 0M10 6v7h6l2 6M6 11a6 6 0 1 0 8.5 7.5",
    ),
    (
        "stroller",
        EXTENDED,
        "儿童推车",
        "Stroller",
        "M4 4h3l2 9h10a5 5 0 0 0-5-5h-3M8 19a2 2 0 1 0 .01 0M17 19a2 2 0 1 0 .01 0",
    ),
    ("copier", EXTENDED, "复印机", "Copier", "M3 9h18v8H3zM6 17v4h12v-4M6 9V4h12v5M16 13h2"),
    ("printer", EXTENDED, "打印机", "Printer", "M6 9V3h12v6M4 9h16v8H4zM7 14h10v7H7z"),
    ("magnifier", EXTENDED, "放大镜", "Magnifier", "M4 10a6 6 0 1 0 12 0a6 6 0 1 0-12 0M15 15l6 6"),
    (
        "tea_stand",
        EXTENDED,
        "茶水台",
        "Tea stand",
        "M4 9h12v5a5 5 0 0 1-5 5H9a5 5 0 0 1-5-5zM16 10h2a2 2 0 0 1 0 4h-2M3 21h15M9 3v3M12 3v3",
    ),
    (
        "newspaper_rack",
        EXTENDED,
        "报刊台",
        "Newspaper rack",
        "M4 4h13v16H6a2 2 0 0 1-2-2zM17 8h3v10a2 2 0 0 1-2 2M7 8h7M7 12h7M7 16h4",
    ),
    (
        "priority_seats",
        EXTENDED,
        "爱心专座",
        "Priority seats",
        "M12 9c-1.5-3-6-2.5-6 1c0 2.5 3 4 6 6c3-2 6-3.5 6-6c0-3.5-4.5-4-6-1zM5 20h14",
    ),
    (
        "consumer_audio_corner",
        EXTENDED,
        "消保广播区",
        "Consumer-protection audio corner",
        "M4 9h4l5-4v14l-5-4H4zM16 9a4 4 0 0 1 0 6M19 6a8 8 0 0 1 0 12",
    ),
    ("book_corner", ZONE, "驿站书吧", "Book corner", "M4 4h4v16H4zM10 4h4v16h-4zM16 5l3.5-1 3 15.5-3.5 1z"),
    (
        "poverty_relief_zone",
        ZONE,
        "扶贫专区",
        "Poverty-relief products",
        "M4 8h16l-1.5 12h-13zM9 8V6a3 3 0 0 1 6 0v2M9 13h6",
    ),
    (
        "consumer_protection_zone",
        ZONE,
        "消费者权益保护专区",
        "Consumer-protection zone",
        "M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6zM8.5 12l2.5 2.5l4.5-5",
    ),
    (
        "elderly_care_zone",
        ZONE,
        "敬老关爱区",
        "Elderly-care zone",
        "M10 3a2 2 0 1 0 .01 0M8 21l2-7l-3-2l2-4h3l2 4M16 10v11M14 10h3",
    ),
    (
        "financial_education_zone",
        ZONE,
        "财商教育区",
        "Financial-education zone",
        "M2 9l10-5l10 5l-10 5zM6 11v5c3 2.5 9 2.5 12 0v-5M21 9v6",
    ),
    (
        "medical_priority_area",
        ZONE,
        "医护专属区域",
        "Medical-staff priority area",
        "M9 3h6v6h6v6h-6v6H9v-6H3V9h6z",
    ),
    (
        "sun_sleeves",
        THEMED,
        "防晒冰袖",
        "Sun-protection sleeves",
        "M6 3h5l-1 18H5zM13 3h5l1 18h-5zM5 7h6M13 7h6",
    ),
    (
        "sun_hats",
        THEMED,
        "遮阳帽",
        "Sun hats",
        "M2 16h20M6 16c0-5 2.5-9 6-9s6 4 6 9M12 3v1M4.5 6.5l.7.7M19.5 6.5l-.7.7",
    ),
    ("waist_bags", THEMED, "腰包", "Waist bags", "M3 9h18M5 9h14v8H5zM9 13h6M2 11h3M19 11h3"),
    (
        "courier_products",
        THEMED,
        "快递员专属金融产品",
        "Courier financial products (card, wealth, payment, micro-loans, insurance)",
        "M3 6h18v12H3zM3 10h18M6 15h4",
    ),
    (
        "age_friendly",
        THEMED,
        "适老化设施",
        "Age-friendly fit-out and senior facilities",
        "M8 3a2 2 0 1 0 .01 0M7 21v-7l-2-1l2-5h3l1 4l3 1M16 12v9M16 12a2 2 0 0 1 4 0",
    ),
    (
        "anti_fraud_teaching",
        THEMED,
        "老年人反诈宣教",
        "Anti-fraud teaching for the elderly",
        "M12 3l8 3v6c0 5-3.5 8-8 9c-4.5-1-8-4-8-9V6zM12 8v5M12 16h.01",
    ),
]

BASIC_EIGHT = [code for code, group, *_ in FACILITIES if group == BASIC]

GROUP_LABELS = {
    BASIC: _("8 basic facilities"),
    EXTENDED: _("Extended facilities"),
    ZONE: _("Zones"),
    THEMED: _("Themed gear and services"),
}

# (code, 中文, English)
THEMES = [
    ("little_bee", "小蜜蜂驿站", "Little Bee courier station"),
    ("new_citizen", "新·深圳·人-工行驿站", "New-citizen station"),
    ("elderly", "智志助老e站", "Elderly-friendly e-station"),
    ("medical_priority", "医护优先驿站", "Medical-staff priority station"),
]

# (code, version, 中文, English, facility codes, theme the standard applies to or None for all)
STANDARDS = [
    ("basic8", "2020", "基础八项", "The 8 basic facilities", BASIC_EIGHT, None),
    (
        "little_bee",
        "2023",
        "小蜜蜂驿站 2023",
        "Little Bee courier station 2023",
        [*BASIC_EIGHT, "sun_sleeves", "sun_hats", "waist_bags"],
        "little_bee",
    ),
    (
        "new_citizen",
        "2022",
        "新·深圳·人-工行驿站 2022",
        "New-citizen station 2022",
        [*BASIC_EIGHT, "tea_stand", "newspaper_rack"],
        "new_citizen",
    ),
    (
        "elderly",
        "2022",
        "智志助老e站 2022",
        "Elderly-friendly e-station 2022",
        [*BASIC_EIGHT, "age_friendly", "priority_seats", "magnifier", "anti_fraud_teaching"],
        "elderly",
    ),
]
