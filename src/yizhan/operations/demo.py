"""The Liaoning episode of January 2021 (seeds/001), replayed in the last fortnight so that it
shows on the public locator now: 向工街支行 closed inside a locked-down area, then reopened under
control with one window and its self-service bank open 24 hours (63 customers on the first day);
Shenyang's staff on the roster with a named desk and daily health reports with realistic gaps;
the province's spot checks with two rectifications, one of them overdue.

Small and fast: a few hundred reports written in bulk, rollups by the verb the morning job runs.
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from yizhan.core.demo import DemoContext

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
]
DAYS = 10


def build(ctx: DemoContext) -> None:
    from yizhan.operations import health, rectifications, services
    from yizhan.operations.models import HealthReport, RosterEntry
    from yizhan.orgs.models import Unit

    xgj = Unit.objects.filter(code="LN-SY-XGJ").first()
    shenyang = Unit.objects.filter(code="LN-SY").first()
    if xgj is None or shenyang is None:
        return
    rng = ctx.rng("operations")
    now = timezone.now()
    today = timezone.localdate()
    midnight = datetime.datetime.combine(today, datetime.time(), SHANGHAI)

    # 向工街: closed with its area, then reopened under control at 09:00 three days ago.
    reopened = midnight - datetime.timedelta(days=3) + datetime.timedelta(hours=9)
    services.schedule_status(
        xgj,
        actor=None,
        state="closed_by_order",
        starts_at=midnight - datetime.timedelta(days=12),
        ends_at=reopened,
        notice="所在小区封闭管理，网点按疫情防控要求暂停营业。",
        reason="属地疫情防控指挥部通知",
        allow_past=True,
    )
    services.schedule_status(
        xgj,
        actor=None,
        state="limited",
        starts_at=reopened,
        counter_windows=1,
        self_service_24h=True,
        notice="网点在封控区内限流营业：开放 1 个窗口，自助银行 24 小时服务。请佩戴口罩、配合测温。",
        reason="经上级行批准有序恢复营业",
        allow_past=True,
    )
    services.record_customers(xgj, actor=None, day=reopened.date(), customers=63)
    services.record_customers(xgj, actor=None, day=reopened.date() + datetime.timedelta(days=1), customers=48)

    # The roster: every Shenyang outlet's staff, a desk at the city branch.
    first_day = today - datetime.timedelta(days=DAYS + 30)
    RosterEntry.objects.create(
        unit=shenyang, name="赵敏", position="运营管理部", health_desk=False, on_from=first_day
    )
    outlets = list(Unit.objects.filter(path__startswith=shenyang.path, kind="outlet").order_by("path"))
    if ctx.small:
        outlets = [o for o in outlets if o.pk == xgj.pk] + [o for o in outlets if o.pk != xgj.pk][:7]
    entries = []
    for outlet in outlets:
        for _n in range(rng.randint(4, 7)):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            entries.append(RosterEntry(unit=outlet, name=name, position="柜员", on_from=first_day))
    RosterEntry.objects.bulk_create(entries)
    entries = list(RosterEntry.objects.filter(unit__in=outlets))
    for entry in rng.sample(entries, max(1, len(entries) // 25)):
        health.add_leave(
            entry,
            actor=None,
            starts_on=today - datetime.timedelta(days=4),
            ends_on=today + datetime.timedelta(days=3),
        )

    # Reports for the last days (not today, which the desk is still collecting): about 93 % in,
    # a few late; a quarter of an outlet's staff forgets on Mondays.
    reports = []
    calendar = health._calendar()
    for back in range(1, DAYS + 1):
        day = today - datetime.timedelta(days=back)
        if not calendar.is_workday(day):
            continue
        for entry in entries:
            if rng.random() < (0.12 if day.weekday() == 0 else 0.05):
                continue
            late = rng.random() < 0.06
            at = datetime.datetime.combine(
                day, datetime.time(8 if not late else 11, rng.randint(0, 59)), SHANGHAI
            )
            reports.append(
                HealthReport(
                    entry=entry,
                    unit_id=entry.unit_id,
                    day=day,
                    temperature=Decimal(str(round(rng.uniform(36.0, 37.1), 1))),
                    late=late,
                    submitted_at=min(at, now),
                    isolation="none",
                )
            )
    HealthReport.objects.bulk_create(reports, batch_size=2000)
    for back in range(0, DAYS + 1):
        health.open_day(today - datetime.timedelta(days=back))

    # The province's spot checks: one by video last week (overdue), one on site days ago.
    video = rectifications.record_inspection(
        xgj,
        actor=None,
        kind="video",
        checked_at=now - datetime.timedelta(days=12),
        opened_on=today - datetime.timedelta(days=12),
        items=[
            {"item": "一米线已施划并执行", "ok": False, "note": "自助区一米线磨损，需重新施划"},
            {"item": "入口测温", "ok": True, "note": ""},
            {"item": "员工佩戴口罩", "ok": True, "note": ""},
        ],
        findings="监控联网抽查：大堂秩序良好，自助区一米线不清晰。",
        working_days=3,
    )
    on_site = rectifications.record_inspection(
        outlets[1] if len(outlets) > 1 else xgj,
        actor=None,
        kind="on_site",
        checked_at=now - datetime.timedelta(days=3),
        opened_on=today - datetime.timedelta(days=3),
        items=[
            {"item": "柜台和机具已消毒并张贴标识", "ok": False, "note": "ATM 未张贴“已消毒”标识"},
            {"item": "收入现金已消毒，医院现金单独存放", "ok": True, "note": ""},
        ],
        findings="实地检查：消毒记录齐全，个别机具标识缺失。",
        working_days=10,
    )
    answered = rectifications.for_source(on_site).first()
    if answered is not None:
        rectifications.respond(answered, actor=None, text="已在全部机具张贴“已消毒”标识并拍照留存。")
    rectifications.escalate_overdue(today)
    activated = _contingency_plan(ctx, rng, shenyang, xgj, entries)
    ctx.log(
        f"operations: 向工街 reopened under control, {len(entries)} staff, {len(reports)} health reports, {video.failed + on_site.failed} rectifications, four-backup plan for {activated} 皇姑区 outlets"
    )


def _contingency_plan(ctx, rng, shenyang, xgj, entries) -> int:
    """The province's four-backup plan (seeds/001), filled by Shenyang's 皇姑区 outlets with five
    backup staff lent by other outlets, activated for them; controls under way at each."""
    from yizhan.operations import controls, plans
    from yizhan.operations.models import PlanTask
    from yizhan.orgs.models import Unit

    province = Unit.objects.get(pk=shenyang.parent_id)
    template = plans.save_template(
        province, actor=None, name="网点疫情防控“四个备份”应急预案", measures=plans.default_measures()
    )
    huanggu = list(
        Unit.objects.filter(
            path__startswith=shenyang.path, kind="outlet", address__contains="皇姑区"
        ).order_by("code")
    )
    if not huanggu:
        return 0
    lenders = [e for e in entries if e.unit_id not in {u.pk for u in huanggu}]
    backups = rng.sample(lenders, min(5, len(lenders)))
    for n, outlet in enumerate(huanggu):
        mine = [e.pk for i, e in enumerate(backups) if i % len(huanggu) == n]
        plans.fill_plan(
            outlet,
            actor=None,
            template=template,
            backup_staff=mine,
            cash_route="由沈阳分行现金中心每日 8:30 专车调拨，备用路线经北陵大街",
            service_channel="手机银行、95588 客服热线；大额业务预约至浑南支行办理",
        )
    activation = plans.activate(
        template,
        actor=None,
        reason="皇姑区发现本土确诊病例，按属地防控要求执行“四个备份”",
        outlets=[u.code for u in huanggu],
        state="limited",
        counter_windows=1,
        self_service_24h=True,
        notice="按疫情防控要求限流营业：开放 1 个窗口，自助银行 24 小时服务；请戴口罩、扫码测温。",
    )
    # About half of the staff and business measures already done.
    for task in PlanTask.objects.filter(activation=activation, backup__in=["staff", "business"]).order_by(
        "pk"
    ):
        if rng.random() < 0.5:
            plans.complete_task(task, actor=None, note="已落实")
    now = timezone.now()
    for outlet in [*huanggu, xgj]:
        for name, kind, every in [
            ("营业柜台", "counters", 4),
            ("自助设备", "self_service", 2),
            ("驿站休息区", "station", 4),
            ("电梯按钮", "lift", 2),
        ]:
            area = controls.add_area(outlet, actor=None, name=name, kind=kind, every_hours=every)
            if rng.random() < 0.8:
                controls.log_disinfection(
                    area, actor=None, at=now - datetime.timedelta(minutes=rng.randint(10, 100))
                )
    controls.fill_checklist(
        huanggu[0],
        actor=None,
        day=timezone.localdate(),
        answers={"1": True, "2": True, "3": True, "8": "withdraw_only"},
    )
    return len(huanggu)
