"""Shenzhen's first-responder year (seeds/002), replayed over the twelve months before the demo
is built so that its certificates are valid now: ~50 first-aid sessions across the 140+ outlets,
each at three outlets at once (2,000+ staff trained), two sessions of the city's 应急第一响应人
course (104 certified), a few older Red Cross certificates expiring in the coming weeks with a
renewal session ahead, and the age-friendly emergency drills at 梅林一村, 侨城西街 and 景田 with
their findings (two rectifications closed, one still open).

Fast: the roster, enrolments and certificates are written in bulk (certificate expiry from
`services.expiry`, the one rule); drills and findings go through the verbs.
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from yizhan.core.demo import DemoContext

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玲红建文辉鹏宇欣怡晨浩然婷雪琳"
POSITIONS = ["柜员", "柜员", "柜员", "大堂经理", "客户经理", "理财经理", "网点负责人"]
FA_SESSIONS = 48
PER_SESSION_OUTLETS = 3


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), SHANGHAI)


def build(ctx: DemoContext) -> None:
    from yizhan.operations import rectifications
    from yizhan.operations.models import RosterEntry
    from yizhan.orgs.models import Unit
    from yizhan.training import services
    from yizhan.training.models import Certificate, Course, Enrolment, Session, Status, VenueKind

    sz = Unit.objects.filter(code="SZ").first()
    if sz is None:
        return
    rng = ctx.rng("training")
    today = timezone.localdate()
    year_ago = today - datetime.timedelta(days=365)
    outlets = list(Unit.objects.filter(path__startswith=sz.path, kind="outlet").order_by("path"))

    # The roster of every Shenzhen outlet.
    per_outlet = (4, 6) if ctx.small else (14, 16)
    entries, n = [], 0
    for outlet in outlets:
        for _i in range(rng.randint(*per_outlet)):
            n += 1
            entries.append(
                RosterEntry(
                    unit=outlet,
                    name=rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _g in range(rng.randint(1, 2))),
                    employee_no=f"SZ{n:05d}",
                    position=rng.choice(POSITIONS),
                    on_from=year_ago - datetime.timedelta(days=rng.randint(30, 2000)),
                )
            )
    RosterEntry.objects.bulk_create(entries)
    people = list(RosterEntry.objects.filter(unit__in=outlets).order_by("pk"))
    by_outlet: dict[int, list] = {}
    for p in people:
        by_outlet.setdefault(p.unit_id, []).append(p)

    fa = Course.objects.create(
        code="SZ-FA", title="急救知识普及培训", title_en="First-aid awareness", hours=Decimal("2"), pass_mark=60,
        provider_kind="in_house", owner=sz,
    )  # fmt: skip
    fr = Course.objects.create(
        code="SZ-FR", title="应急第一响应人培训", title_en="Emergency first responder", hours=Decimal("16"),
        pass_mark=80, provider_kind="external", provider="深圳市应急第一响应人培训项目",
        certificate="应急第一响应人证书", validity_months=36, first_responder=True, owner=sz,
    )  # fmt: skip
    redcross = Course.objects.create(
        code="SZ-RC", title="红十字救护员培训", title_en="Red Cross first aider", hours=Decimal("16"), pass_mark=80,
        provider_kind="external", provider="深圳市红十字会", certificate="红十字救护员证", validity_months=36,
        first_responder=True, owner=sz,
    )  # fmt: skip
    renewal = Course.objects.create(
        code="SZ-FR-R", title="应急第一响应人复训", title_en="First responder refresher", hours=Decimal("4"),
        pass_mark=80, provider_kind="external", provider="深圳市应急第一响应人培训项目",
        certificate="应急第一响应人证书", validity_months=36, first_responder=True, renews=redcross, owner=sz,
    )  # fmt: skip

    enrolments: list[Enrolment] = []
    graded: list[tuple[Enrolment, Course, datetime.date]] = []

    def held(course, day, *, unit, venue_kind, at_outlets=(), venue="", trainer="", capacity=60):
        session = Session.objects.create(
            course=course, unit=unit, venue_kind=venue_kind, venue=venue, trainer=trainer, capacity=capacity,
            starts_at=_at(day, 14), ends_at=_at(day, 16 if course.hours <= 4 else 17),
        )  # fmt: skip
        if at_outlets:
            session.outlets.set(at_outlets)
        return session

    # ~50 first-aid sessions, each at three neighbouring outlets at once.
    groups = [outlets[i : i + PER_SESSION_OUTLETS] for i in range(0, len(outlets), PER_SESSION_OUTLETS)]
    sessions = FA_SESSIONS if not ctx.small else len(groups)
    for i in range(sessions):
        group = groups[i % len(groups)]
        day = year_ago + datetime.timedelta(days=20 + i * 6)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        session = held(
            fa, day, unit=group[0].parent, venue_kind=VenueKind.OUTLETS, at_outlets=group,
            trainer="深圳市急救中心讲师", capacity=80,
        )  # fmt: skip
        if i >= len(groups):
            continue  # a second round at the same outlets: for those who missed the first
        for outlet in group:
            for p in by_outlet.get(outlet.pk, []):
                came = rng.random() < 0.95
                grade = Decimal(rng.randint(62, 100)) if came else None
                status = Status.PASSED if came else Status.ABSENT
                enrolments.append(
                    Enrolment(session=session, entry=p, unit_id=p.unit_id, status=status, grade=grade)
                )

    # The city's first-responder course, twice: 104 certified in all.
    fr_days = [today - datetime.timedelta(days=300), today - datetime.timedelta(days=75)]
    picked = rng.sample(people, min(len(people), 120))
    certified_target = 104 if not ctx.small else 10
    for n_session, day in enumerate(fr_days):
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        session = held(
            fr,
            day,
            unit=sz,
            venue_kind=VenueKind.EXTERNAL,
            venue="深圳市急救中心培训基地",
            trainer="深圳市急救中心",
            capacity=70,
        )
        half = picked[n_session::2]
        passes = certified_target // 2
        for k, p in enumerate(half):
            passed = k < passes
            grade = Decimal(rng.randint(80, 98) if passed else rng.randint(55, 79))
            e = Enrolment(
                session=session,
                entry=p,
                unit_id=p.unit_id,
                status=Status.PASSED if passed else Status.FAILED,
                grade=grade,
            )
            enrolments.append(e)
            if passed:
                graded.append((e, fr, day))

    # Older Red Cross certificates, about to expire; the refresher is three weeks ahead.
    rc_day = today - datetime.timedelta(days=365 * 3 - 20)
    rc_session = held(
        redcross,
        rc_day,
        unit=sz,
        venue_kind=VenueKind.EXTERNAL,
        venue="深圳市红十字会",
        trainer="深圳市红十字会",
        capacity=30,
    )
    for k, p in enumerate(picked[:5]):
        e = Enrolment(
            session=rc_session, entry=p, unit_id=p.unit_id, status=Status.PASSED, grade=Decimal(85 + k)
        )
        enrolments.append(e)
        graded.append((e, redcross, rc_day))
    mlyc = Unit.objects.filter(code="SZ-MLYC").first() or outlets[0]
    held(
        renewal,
        today + datetime.timedelta(days=21),
        unit=sz,
        venue_kind=VenueKind.OUTLETS,
        at_outlets=[mlyc],
        trainer="深圳市急救中心",
        capacity=40,
    )

    Enrolment.objects.bulk_create(enrolments, batch_size=2000)
    Certificate.objects.bulk_create(
        [
            Certificate(
                entry_id=e.entry_id,
                unit_id=e.unit_id,
                course=course,
                enrolment=e,
                name=course.certificate,
                first_responder=course.first_responder,
                issued_on=day,
                expires_on=services.expiry(course, day),
            )  # fmt: skip
            for e, course, day in graded
        ]
    )

    # The age-friendly emergency drills (seeds/002) and what they showed.
    drills = [
        ("SZ-MLYC", 60, "一位老年客户在大堂等候时突然晕倒：大堂经理呼叫、现场急救、拨打 120、疏导其他客户。",
         [("呼叫与报告", 30), ("开始心肺复苏", 95), ("拨打 120", 60), ("AED 取到", 180)],
         [("AED 位置标识不清，取用耗时 3 分钟", "closed")]),
        ("SZ-QCXJ", 40, "一位老年客户在自助设备前操作困难、情绪激动：引导、安抚、协助办理并防范诈骗。",
         [("发现并上前协助", 45), ("安抚完成", 240)],
         [("爱心专座旁缺少紧急呼叫按钮", "closed"), ("急救箱药品部分过期", "closed")]),
        ("SZ-JT", 3, "一位行动不便的老年客户在门口台阶摔倒：现场处置、通知家属、做好记录。",
         [("发现", 20), ("现场处置", 150), ("联系家属", 300)],
         [("门口台阶缺少防滑条和扶手", "open")]),
    ]  # fmt: skip
    for code, days_ago, scenario, times, findings in drills:
        outlet = Unit.objects.filter(code=code).first()
        if outlet is None:
            continue
        held_on = today - datetime.timedelta(days=days_ago)
        crew = by_outlet.get(outlet.pk, [])[:6]
        drill = services.record_drill(
            actor=None, unit=outlet, kind="age_friendly", held_at=_at(held_on, 10), scenario=scenario,
            times=[{"label": label, "seconds": s} for label, s in times], participants=crew,
            summary="适老化服务应急演练", opened_on=held_on,
            findings=[{"title": title} for title, _state in findings],
        )  # fmt: skip
        for finding, (_title, state) in zip(drill.findings.order_by("pk"), findings, strict=True):
            if state == "closed":
                rect = rectifications.respond(finding.rectification, actor=None, text="已整改完毕，附照片。")
                rectifications.recheck(rect, actor=None, passed=True, note="复查通过。")
    ctx.data["training_people"] = len(people)
    ctx.log(
        f"Training: {len(people)} Shenzhen staff on the roster, {Session.objects.count()} sessions, "
        f"{Certificate.objects.count()} certificates, {len(drills)} drills."
    )
