"""Demo stations, as the articles describe them (DOMAIN.md): every demo outlet gets a station.

- Chongqing: all outlets carry the sign (signed 2019–2021); 三峡广场 is a medical-staff priority
  station (nurses' day, 12 May).
- Shenzhen: every outlet runs 新·深圳·人 (new-citizen) with tea and newspaper stands; a share of
  them, 梅林一村 and 侨城西街 among them, are 智志助老e站 elderly-friendly stations too.
- Shandong: the Little Bee courier pilot in 8 outlets of 6 city branches (May 2023), then the
  roll-out to every outlet, part-way done.
- Liaoning and Fujian: the basic eight, some signs still to install.

Realistic gaps keep the reports honest: missing reading glasses, a broken charger, facilities
nobody has checked yet.
"""

import datetime

from django.utils import timezone

from yizhan.core.demo import DemoContext
from yizhan.orgs.models import Unit, UnitKind
from yizhan.stations.catalogue import BASIC_EIGHT
from yizhan.stations.hours import clean_schedule
from yizhan.stations.models import Facility, Station, StationFacility, Theme
from yizhan.stations.services import bump

# Shandong's pilot: 8 outlets in 6 city branches (two each in Jinan and Qingdao).
LITTLE_BEE_PILOT = {"SD-JN": 2, "SD-QD": 2, "SD-YT": 1, "SD-WF": 1, "SD-LY": 1, "SD-ZB": 1}
LITTLE_BEE_LAUNCH = datetime.date(2023, 5, 18)
ELDERLY_NAMED = {"SZ-MLYC", "SZ-QCXJ", "SZ-JT"}
MEDICAL_NAMED = {"CQ-SXGC", "CQ-JXDL"}


def _hours(rng) -> dict:
    """Bank-outlet hours: most open 09:00–17:00 on weekdays, some with a lunch break, many on
    weekends, nearly all following the statutory calendar; a few 24/7 self-service areas."""
    roll = rng.random()
    if roll < 0.05:
        return {"weekly": {}, "always_open": True, "statutory": False, "exceptions": []}
    if roll < 0.20:
        workday = [["09:00", "12:00"], ["14:00", "17:30"]]
    elif roll < 0.60:
        workday = [["09:00", "17:00"]]
    else:
        workday = [["08:30", "17:30"]]
    weekend = [["09:30", "16:00"]] if rng.random() < 0.6 else []
    weekly = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), workday)
    weekly.update({"sat": weekend, "sun": weekend if rng.random() < 0.5 else []})
    return {"weekly": weekly, "always_open": False, "statutory": rng.random() < 0.95, "exceptions": []}


def _phone(rng, province: str) -> str:
    area = {"CQ": "023", "SZ": "0755", "SD": "0531", "LN": "024", "FJ": "0598"}.get(province, "010")
    return f"{area}-{rng.randrange(6000_0000, 8999_9999)}"


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("stations")
    facilities = {f.code: f for f in Facility.objects.all()}
    themes = {t.code: t for t in Theme.objects.all()}
    outlets = list(
        Unit.objects.filter(kind=UnitKind.OUTLET, closed_on__isnull=True)
        .select_related("parent")
        .order_by("path")
    )
    provinces = {u.pk: u.code for u in Unit.objects.filter(kind=UnitKind.PROVINCE)}
    now = timezone.now()
    pilots: set[str] = set()
    per_tier: dict[str, int] = {}
    for outlet in outlets:
        tier = outlet.parent.code
        if per_tier.get(tier, 0) < LITTLE_BEE_PILOT.get(tier, 0):
            per_tier[tier] = per_tier.get(tier, 0) + 1
            pilots.add(outlet.code)

    stations, plans = [], []
    for outlet in outlets:
        province = provinces[outlet.ancestor_ids()[1]]
        theme_codes: list[str] = []
        extra: dict[str, str] = {}
        signed = None
        if province == "CQ":
            signed = datetime.date(2019, 3, 1) + datetime.timedelta(days=rng.randrange(0, 900))
            if outlet.code in MEDICAL_NAMED:
                theme_codes.append("medical_priority")
                extra["medical_priority_area"] = "yes"
        elif province == "SZ":
            signed = datetime.date(2021, 6, 1) + datetime.timedelta(days=rng.randrange(0, 500))
            theme_codes.append("new_citizen")
            extra.update(tea_stand="yes", newspaper_rack="yes" if rng.random() < 0.85 else "no")
            if outlet.code in ELDERLY_NAMED or rng.random() < 0.25:
                theme_codes.append("elderly")
                for code in ("age_friendly", "priority_seats", "magnifier", "anti_fraud_teaching"):
                    extra[code] = "yes" if rng.random() < 0.9 else "no"
        elif province == "SD":
            signed = datetime.date(2021, 1, 1) + datetime.timedelta(days=rng.randrange(0, 700))
            rolled_out = outlet.code in pilots or rng.random() < 0.55
            if rolled_out:
                theme_codes.append("little_bee")
                if outlet.code in pilots:
                    signed = LITTLE_BEE_LAUNCH
                for code in ("sun_sleeves", "sun_hats", "waist_bags", "courier_products"):
                    extra[code] = "yes" if outlet.code in pilots or rng.random() < 0.85 else "unknown"
        elif rng.random() < 0.8:
            signed = datetime.date(2020, 1, 1) + datetime.timedelta(days=rng.randrange(0, 1200))

        for code in ("restroom", "first_aid_kit", "wheelchair", "consumer_protection_zone", "book_corner"):
            if rng.random() < 0.3:
                extra.setdefault(code, "yes")

        station = Station(
            code=outlet.code,
            name=f"{outlet.name}驿站",
            name_en=f"{outlet.name_en} Station" if outlet.name_en else "",
            unit=outlet,
            address=outlet.address,
            lat=outlet.lat,
            lng=outlet.lng,
            phone=_phone(rng, province),
            sign_installed_on=signed,
            seats=rng.choice([4, 6, 8, 10, 12, 16]),
            opening_hours=clean_schedule(_hours(rng)),
            external_ids={"amap": f"B0FF{rng.randrange(10**5, 10**6)}"} if rng.random() < 0.7 else {},
            verified_at=now - datetime.timedelta(days=rng.randrange(1, 400)) if rng.random() < 0.6 else None,
            verification_source="staff",
            created_at=now,
            updated_at=now,
        )
        if station.verified_at is None:
            station.verification_source = ""
        stations.append(station)
        plans.append((theme_codes, extra))

    Station.objects.bulk_create(stations, batch_size=500)
    stations = list(Station.objects.filter(code__in=[s.code for s in stations]).order_by("code"))
    by_code = {s.code: s for s in stations}
    plan_by_code = {o.code: p for o, p in zip(outlets, plans, strict=True)}

    links, rows = [], []
    today = timezone.localdate()
    for code, station in by_code.items():
        theme_codes, extra = plan_by_code[code]
        links += [Station.themes.through(station_id=station.pk, theme_id=themes[t].pk) for t in theme_codes]
        states = {}
        pilot = code in pilots  # the pilots opened with everything in place
        for fcode in BASIC_EIGHT:
            roll = 0.0 if pilot else rng.random()
            states[fcode] = "yes" if roll < 0.985 else ("unknown" if roll < 0.993 else "no")
        if not pilot and rng.random() < 0.04:
            states["reading_glasses"] = "no"
        states.update(extra)
        for fcode, state in states.items():
            row = StationFacility(
                station_id=station.pk, facility_id=facilities[fcode].pk, state=state, updated_at=now
            )
            if state == "no" and fcode == "reading_glasses":
                row.note = "老花镜被借走未归还"
            if state == "yes" and fcode == "phone_charging" and not pilot and rng.random() < 0.03:
                row.out_of_order = True
                row.out_of_order_since = today - datetime.timedelta(days=rng.randrange(1, 40))
                row.note = "充电器接口损坏，已报修"
            rows.append(row)
    Station.themes.through.objects.bulk_create(links, batch_size=1000)
    StationFacility.objects.bulk_create(rows, batch_size=1000)
    bump()
    _waves(pilots)
    ctx.data["stations"] = len(stations)
    ctx.data["little_bee_pilots"] = sorted(pilots)
    ctx.log(f"Stations: {len(stations)} ({len(pilots)} Little Bee pilots), {len(rows)} facility states.")


def _waves(pilots: set[str]) -> None:
    """Shandong's Little Bee pilot and roll-out, and Chongqing's signing of every outlet."""
    from yizhan.stations.models import Standard
    from yizhan.stations.services import save_wave

    standards = {s.code: s for s in Standard.objects.current()}
    units = {u.code: u for u in Unit.objects.filter(code__in=["SD", "CQ"])}
    save_wave(
        actor=None,
        unit=units["SD"],
        name="小蜜蜂驿站试点（6个二级分行8个网点）",
        name_en="Little Bee pilot: 8 outlets in 6 city branches",
        standard=standards["little_bee"],
        target_date=datetime.date(2023, 5, 31),
        outlets=sorted(pilots),
        note="与山东省快递行业协会共建，2023年5月启动",
    )
    save_wave(
        actor=None,
        unit=units["SD"],
        name="小蜜蜂驿站全省推广",
        name_en="Little Bee roll-out to every Shandong outlet",
        standard=standards["little_bee"],
        target_date=datetime.date(2025, 12, 31),
        outlets="all",
    )
    save_wave(
        actor=None,
        unit=units["CQ"],
        name="重庆驿站全辖挂牌（基础八项）",
        name_en="Chongqing: every outlet signed, the 8 basic facilities",
        standard=standards["basic8"],
        target_date=datetime.date(2021, 12, 31),
        outlets="all",
    )
