"""Demo: Shenzhen's mobile stations (移动驿站) of the new-citizen programme visit three worker
sites weekly (seeds/002: they "go regularly to where delivery riders and construction workers
are stationed"). The Longgang van's Wednesday visit on National Day (2026-10-07) is moved to the
next workday; the Bao'an van's Tuesday visit that week is skipped. Positions are approximate
(WGS-84, to a few hundred metres)."""

import datetime
import zoneinfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from yizhan.core.demo import DemoContext
from yizhan.mobile import services
from yizhan.mobile.models import Visit
from yizhan.orgs.models import Unit

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# (code, sub-branch, name, name_en, base address, base lat, lng): where the van is kept
VANS = [
    ("SZ-YD-BA", "SZ-BA", "宝安移动驿站", "Bao'an mobile station", "深圳市宝安区新安街道", 22.5700, 113.8800),
    (
        "SZ-YD-LG",
        "SZ-LG",
        "龙岗移动驿站",
        "Longgang mobile station",
        "深圳市龙岗区龙城街道",
        22.7200,
        114.2470,
    ),
]
# (van, name, kind, address, lat, lng, RRULE, from, until, on a holiday)
SITES = [
    ("SZ-YD-BA", "宝安中心区建筑工地", "construction_site", "深圳市宝安区新安街道宝安中心区", 22.5545, 113.8835,
     "FREQ=WEEKLY;BYDAY=TU", "10:00", "16:00", "skip"),
    ("SZ-YD-BA", "西乡外卖骑手服务站", "delivery_hub", "深圳市宝安区西乡街道", 22.5790, 113.8660,
     "FREQ=WEEKLY;BYDAY=TH", "11:00", "15:00", "skip"),
    ("SZ-YD-LG", "平湖物流园", "logistics_park", "深圳市龙岗区平湖街道", 22.6930, 114.1230,
     "FREQ=WEEKLY;BYDAY=WE", "09:30", "15:30", "next_workday"),
]  # fmt: skip
FACILITIES = ("drinking_water", "phone_charging", "seating", "public_education", "reading_glasses")
VALID_FROM = datetime.date(2026, 9, 1)
GENERATED_FROM = datetime.date(2026, 9, 28)  # the National Day week is in the demo's past


def build(ctx: DemoContext) -> None:
    from yizhan.stations.services import set_facility_state
    from yizhan.visits.services import record_checkin

    actor = get_user_model().objects.filter(username="hq_admin").first()
    units = {u.code: u for u in Unit.objects.filter(code__in=[v[1] for v in VANS])}
    if actor is None or len(units) != len(VANS):
        return
    vans = {}
    for code, unit_code, name, name_en, address, lat, lng in VANS:
        van = services.register_mobile_station(
            actor=actor,
            unit=units[unit_code],
            code=code,
            name=name,
            name_en=name_en,
            themes=["new_citizen"],
            address=address,
            lat=lat,
            lng=lng,
        )
        for facility in FACILITIES:
            set_facility_state(van, facility, actor=actor, state="yes")
        vans[code] = van
    today = timezone.now().astimezone(SHANGHAI).date()
    for code, name, kind, address, lat, lng, rule, start, end, on_holiday in SITES:
        place = services.create_place(
            actor=actor, unit=vans[code].unit, name=name, kind=kind, address=address, lat=lat, lng=lng
        )
        services.save_schedule(
            vans[code],
            actor=actor,
            place=place,
            rrule=rule,
            start_time=start,
            end_time=end,
            valid_from=VALID_FROM,
            on_holiday=on_holiday,
        )
    # The visits since the National Day week, as the nightly job would have made them.
    services.generate_visits(GENERATED_FROM, horizon=(today - GENERATED_FROM).days + services.HORIZON_DAYS)

    # What the past visits did: check-ins at the van (its QR code travels with it) and services.
    rng = ctx.rng("mobile")
    now = timezone.now()
    past = Visit.objects.filter(station__in=vans.values(), ends_at__lte=now).select_related(
        "station", "place"
    )
    kinds = ["card_issued", "account_opened", "payroll_card", "question_answered", "anti_fraud_talk"]
    for visit in past.order_by("starts_at"):
        span = int((visit.ends_at - visit.starts_at).total_seconds())
        for _ in range(rng.randint(3, 9 if not ctx.small else 4)):
            at = visit.starts_at + datetime.timedelta(seconds=rng.randint(0, span - 60))
            group = "construction_worker" if "工地" in visit.place.name else "delivery_rider"
            record_checkin(visit.station, group=group, services=["water", "charging"], now=at)
        counts = {kind: rng.randint(0, 4) for kind in kinds}
        services.record_services(visit, actor=actor, counts=counts, staff=[])
    ctx.log(
        f"mobile: {len(vans)} mobile stations, {Visit.objects.filter(station__in=vans.values()).count()} visits"
    )
