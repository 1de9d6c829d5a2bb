"""Demo demand: worker sites and searched points near a few outlets that have no station yet, so
that a city admin's plan has something to choose (and some near stations, already covered)."""

import math
import random

from django.utils import timezone

from yizhan.core.demo import DemoContext

SITE_NAMES = ["快递分拨点", "外卖骑手集合点", "建筑工地", "批发市场装卸区", "环卫作业站", "网约车候客区"]
# Outlets of the bank that have no station yet (every other demo outlet has one): code, parent,
# name, WGS-84 position, address — on the edges of the built-up areas, where couriers and builders work.
NEW_OUTLETS = [
    ("CQ-YB-KGC", "CQ-YB", "空港城网点", 29.7050, 106.6300, "重庆市渝北区空港大道 18 号"),
    ("CQ-YB-YL", "CQ-YB", "悦来网点", 29.6960, 106.4980, "重庆市渝北区悦来大道 6 号"),
    ("CQ-BN-LJT", "CQ-BN", "李家沱网点", 29.4700, 106.5300, "重庆市巴南区李家沱正街 21 号"),
    ("CQ-SPB-XY", "CQ-SPB", "西永网点", 29.5960, 106.3120, "重庆市沙坪坝区西永大道 9 号"),
    ("SZ-BA-FY", "SZ-BA", "福永网点", 22.6720, 113.8240, "深圳市宝安区福永大道 88 号"),
    ("SZ-LG-PH", "SZ-LG", "平湖物流园网点", 22.6880, 114.1310, "深圳市龙岗区平湖大道 3 号"),
    ("SD-JN-GX", "SD-JN", "高新区网点", 36.6800, 117.1400, "济南市历城区经十路 7000 号"),
]


def build(ctx: DemoContext) -> None:
    """The full demo (`make run`) adds the outlets without a station; the small one (tests, CI)
    keeps "every outlet has a station" and gets the searches next to stations only."""
    rng = random.Random(ctx.seed + 18)
    points = [] if ctx.small else add_outlets_with_demand(rng)
    points += covered_searches(rng)
    ctx.log(
        f"  planning: {0 if ctx.small else len(NEW_OUTLETS)} outlets without a station, {len(points)} demand points"
    )


def add_outlets_with_demand(rng: random.Random) -> list:
    """NEW_OUTLETS, each with a worker site and searches within 450 m (tests call this too)."""
    from yizhan.orgs import services as org_services
    from yizhan.orgs.models import Unit
    from yizhan.planning.models import DemandPoint, DemandSource

    month = timezone.localdate().replace(day=1)
    points = []
    for code, parent_code, name, lat, lng, address in NEW_OUTLETS:
        parent = Unit.objects.filter(code=parent_code).first()
        if parent is None:
            continue
        outlet = org_services.create_unit(
            actor=None,
            parent=parent,
            code=code,
            kind="outlet",
            name=name,
            address=address,
            lat=lat,
            lng=lng,
            crs="wgs84",
        )
        site = rng.randint(0, 1)
        for i in range(3):
            angle, metres = rng.uniform(0, 2 * math.pi), rng.uniform(80, 450)
            p_lat = lat + metres * math.cos(angle) / 111_000
            p_lng = lng + metres * math.sin(angle) / (111_000 * math.cos(math.radians(lat)))
            if i == site:
                points.append(
                    DemandPoint(
                        unit=outlet,
                        source=DemandSource.SITE,
                        name=rng.choice(SITE_NAMES),
                        lat=round(p_lat, 6),
                        lng=round(p_lng, 6),
                        month=month,
                        weight=rng.randint(10, 60),
                    )
                )
            else:
                points.append(
                    DemandPoint(
                        unit=outlet,
                        source=DemandSource.SEARCH,
                        lat=round(p_lat, 3),
                        lng=round(p_lng, 3),
                        month=month,
                        weight=rng.randint(1, 15),
                    )
                )
    DemandPoint.objects.bulk_create(points, ignore_conflicts=True)
    return points


def covered_searches(rng: random.Random) -> list:
    """Searches next to stations: demand that is covered already."""
    from yizhan.planning.models import DemandPoint, DemandSource
    from yizhan.stations.models import Station

    month = timezone.localdate().replace(day=1)
    points = [
        DemandPoint(
            unit_id=station.unit_id,
            source=DemandSource.SEARCH,
            lat=round(station.lat, 3),
            lng=round(station.lng, 3),
            month=month,
            weight=rng.randint(5, 30),
        )
        for station in Station.objects.filter(status="active").order_by("code")[::7][:20]
    ]
    DemandPoint.objects.bulk_create(points, ignore_conflicts=True)
    return points
