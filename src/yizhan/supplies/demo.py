"""Demo supplies (small and fast): Shenyang's January 2021 epidemic supplies for 向工街支行 by the
daily cash van (seeds/001), Shandong's little-bee gear handed out to couriers through the summer
(seeds/003), Sanming's purchases and 慰问 hand-outs (seeds/004), and station consumables at a few
dozen outlets with some below minimum, one lot of first-aid kits expiring, a transfer in transit
and a requisition awaiting approval."""

import datetime
import importlib

from django.utils import timezone

from yizhan.core.demo import DemoContext
from yizhan.orgs.models import Unit
from yizhan.supplies import jobs, services
from yizhan.supplies.models import Item


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=timezone.get_current_timezone())


def _catalogue() -> None:
    """The seeded catalogue again, if a flush (a transactional test) took the migration's rows."""
    seed = importlib.import_module("yizhan.supplies.migrations.0003_catalogue")
    if Item.objects.count() < len(seed.ITEMS):
        from django.apps import apps

        seed.seed(apps, None)


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("supplies")
    _catalogue()
    items = {i.code: i for i in Item.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    if "HQ" not in units:
        return
    today = timezone.localdate()
    posted = 0

    def receive(code, item, qty, day, **kw):
        nonlocal posted
        posted += 1
        return services.receive_stock(units[code], actor=None, item=items[item], qty=qty, at=_at(day), **kw)

    def send(src, dst, lines, day, carrier="", receive_day=None):
        nonlocal posted
        t = services.send_transfer(units[src], units[dst], actor=None, lines=[(items[c], q) for c, q in lines],
                                   carrier=carrier, at=_at(day))  # fmt: skip
        if receive_day:
            services.receive_transfer(t, actor=None, at=_at(receive_day, 15))
        posted += 2 * len(lines)
        return t

    def give(code, lines, day, hour=11, **kw):
        nonlocal posted
        posted += len(lines)
        return services.issue_stock(units[code], actor=None, lines=[(items[c], q) for c, q in lines],
                                    at=_at(day, hour), **kw)  # fmt: skip

    # Shenyang, January 2021: the city branch equips 向工街支行 by the daily cash van (seeds/001).
    if "LN-SY-XGJ" in units:
        jan = datetime.date(2021, 1, 11)
        receive("LN-SY", "SUIT", 250, jan, lot="SY-2101", expires_on="2023-01-31", reason="应急采购")
        receive("LN-SY", "WIPES", 1250, jan, expires_on="2022-01-31", reason="应急采购")
        send("LN-SY", "LN-SY-XGJ", [("SUIT", 250), ("WIPES", 1250)], jan + datetime.timedelta(days=1),
             carrier="每日运钞车", receive_day=jan + datetime.timedelta(days=1))  # fmt: skip
        for week in range(4):
            day = jan + datetime.timedelta(days=3 + 7 * week)
            give("LN-SY-XGJ", [("SUIT", 45), ("WIPES", 300 if week < 3 else 350)], day, recipient_kind="staff",
                 note="管控区网点营业人员防护")  # fmt: skip
        services.write_off(
            units["LN-SY-XGJ"], actor=None, item=items["SUIT"], qty=70, reason="防护服过期报损"
        )

    # Shandong, summer 2023: little-bee gear for couriers at the pilot outlets (seeds/003).
    pilots = [c for c in ctx.data.get("little_bee_pilots", []) if c in units][: 8 if not ctx.small else 3]
    if pilots and "SD" in units:
        may = datetime.date(2023, 5, 18)
        receive("SD", "SLEEVES", 250 * len(pilots), may, reason="省快递协会共建")
        receive("SD", "SUN-HAT", 150 * len(pilots), may, reason="省快递协会共建")
        receive("SD", "WAIST-BAG", 60 * len(pilots), may, reason="省快递协会共建")
        for code in pilots:
            send("SD", code, [("SLEEVES", 250), ("SUN-HAT", 150), ("WAIST-BAG", 60)], may + datetime.timedelta(days=2),
                 receive_day=may + datetime.timedelta(days=4))  # fmt: skip
            for week in range(13):
                day = datetime.date(2023, 6, 5) + datetime.timedelta(days=7 * week + rng.randrange(5))
                n = rng.randint(8, 16)
                give(code, [("SLEEVES", n), ("SUN-HAT", rng.randint(5, n)), ("WAIST-BAG", rng.randint(1, 3))], day,
                     recipient_kind="worker", group="courier", people=n)  # fmt: skip
            # This week too, so a pilot's page shows gear given beside couriers checked in.
            services.issue_stock(units[code], actor=None, lines=[(items["WAIST-BAG"], rng.randint(2, 5))],
                                 at=timezone.now() - datetime.timedelta(minutes=5), recipient_kind="worker",
                                 group="courier")  # fmt: skip

    # Sanming, early 2020: UV lamps and ozone machines bought, masks and gel for staff, and 慰问
    # for quarantined families, a checkpoint and close contacts (seeds/004).
    if "FJ-SM" in units:
        jan = datetime.date(2020, 1, 28)
        receive("FJ-SM", "UV-LAMP", 2, jan, reason="中心现金库紧急购置")
        receive("FJ-SM", "OZONE", 2, jan, reason="中心现金库紧急购置")
        receive("FJ-SM", "MASK", 3000, jan, expires_on="2022-01-31")
        receive("FJ-SM", "HAND-GEL", 200, jan, expires_on="2021-12-31")
        give("FJ-SM", [("MASK", 2000), ("HAND-GEL", 200)], jan + datetime.timedelta(days=1), recipient_kind="staff",
             note="营业人员上岗佩戴")  # fmt: skip
        if "FJ-SM-LD" in units:
            send(
                "FJ-SM",
                "FJ-SM-LD",
                [("MASK", 1000)],
                jan + datetime.timedelta(days=1),
                receive_day=jan + datetime.timedelta(days=2),
            )
            give("FJ-SM-LD", [("MASK", 1000)], jan + datetime.timedelta(days=3), recipient_kind="staff")
        relief = [
            ("FJ-SM-SY", [("FRUIT", 20)], datetime.date(2020, 1, 31), "暂居三元南方大酒店的湖北籍群众及家属"),
            ("FJ-SM-QL", [("NOODLES", 10), ("BISCUITS", 6), ("WATER-CASE", 10)], datetime.date(2020, 2, 4),
             "清流县龙津镇严坊村劝返站值守干部"),
            ("FJ-SM-SX", [("MILK", 50)], datetime.date(2020, 2, 6), "密切接触者和湖北籍来沙人员"),
        ]  # fmt: skip
        for code, lines, day, who in relief:
            if code not in units:
                continue
            for item, qty in lines:
                extra = {"expires_on": "2020-08-31"} if items[item].expiry_tracked else {}
                receive(code, item, qty, day, reason="慰问物资采购", **extra)
            give(code, lines, day, hour=15, recipient_kind="outside", recipient=who, note="疫情防控慰问")

    # Station consumables at a few dozen outlets, used week by week; some end below minimum.
    outlets = [u for u in units.values() if u.kind == "outlet" and u.closed_on is None]
    outlets.sort(key=lambda u: (u.code not in ("CQ-SXGC", "CQ-JXDL", "SZ-MLYC", "LN-SY-XGJ"), u.code))
    low = {"CQ-SXGC": "CUP", "SZ-MLYC": "WATER-BARREL"}
    start = today - datetime.timedelta(days=34)
    for unit in outlets[: 12 if ctx.small else 60]:
        cups, barrels = rng.randint(600, 1000), rng.randint(20, 30)
        receive(unit.code, "CUP", cups, start, reason="季度配送")
        receive(unit.code, "WATER-BARREL", barrels, start, reason="季度配送")
        receive(unit.code, "GLASSES", rng.randint(4, 8), start)
        for week in range(4):
            day = start + datetime.timedelta(days=3 + 7 * week)
            used_cups = (cups - 150) // 4 if low.get(unit.code) == "CUP" else cups // 7
            used_barrels = (barrels - 3) // 4 if low.get(unit.code) == "WATER-BARREL" else barrels // 7
            give(unit.code, [("CUP", used_cups), ("WATER-BARREL", used_barrels)], day, recipient_kind="worker",
                 note="驿站日常消耗")  # fmt: skip
        services.save_level(
            unit, items["CUP"], actor=None, minimum=200, reorder_point=300, maximum=1000, lead_days=7
        )
        services.save_level(
            unit, items["WATER-BARREL"], actor=None, minimum=5, reorder_point=8, maximum=30, lead_days=5
        )
    if "CQ-SXGC" in units:
        receive(
            "CQ-SXGC",
            "FIRST-AID",
            2,
            start,
            lot="FA-2406",
            expires_on=(today + datetime.timedelta(days=20)).isoformat(),
        )
        receive(
            "CQ-SXGC",
            "FIRST-AID",
            2,
            start,
            lot="FA-2612",
            expires_on=(today + datetime.timedelta(days=400)).isoformat(),
        )
        services.save_level(
            units["CQ-SXGC"], items["FIRST-AID"], actor=None, minimum=1, reorder_point=2, maximum=4
        )
    if "CQ-SPB" in units and "CQ-SXGC" in units:
        receive("CQ-SPB", "CUP", 3000, start, reason="支行周转库存")
        receive("CQ-SPB", "WATER-BARREL", 40, start, reason="支行周转库存")
        services.request_stock(
            units["CQ-SXGC"],
            actor=None,
            lines=[(items["CUP"], 500), (items["WATER-BARREL"], 4)],
            note="纸杯低于最低库存，饮用水备几桶",
        )
    if "CQ" in units and "CQ-JXDL" in units:
        receive("CQ", "GLASSES", 200, start)
        send("CQ", "CQ-JXDL", [("GLASSES", 10)], today - datetime.timedelta(days=1), carrier="运钞车")
    jobs.scan_expiry(today)
    ctx.data["supplies_entries"] = posted
    ctx.log(f"Supplies: about {posted} ledger entries, {len(pilots)} little-bee pilots equipped.")
