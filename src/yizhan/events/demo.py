"""Demo events: nurses' day 2020 at 三峡广场 and 建新东路 (8 medical staff honoured at 三峡广场),
Shenzhen's new-citizen month 2022 across its new-citizen stations with its reach, Sanming's staff
volunteers of February 2020, Shandong's courier ambassadors, the medical-staff credit card offer
and a few upcoming events in every province. Small: a few hundred rows, through the services."""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from yizhan.events import campaigns, offers, services
from yizhan.events.models import Registration, State
from yizhan.orgs.models import Unit, UnitKind
from yizhan.stations.models import Station, Theme

COURIER_COMPANIES = ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流"]
NURSES = ["王护士长", "李医生", "张护士", "刘护士", "陈医生", "杨护士", "赵护士", "周医生"]


def _at(day: datetime.date, hhmm: str) -> datetime.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, hour, minute))


def _past(occ, regs_attended: int, no_show: int = 0, *, names=None):
    """Past sign-ups written as they ended (the sign-up window is long closed)."""
    made = []
    for i in range(regs_attended + no_show):
        name = (names or [])[i] if names and i < len(names) else f"参加者{i + 1}"
        made.append(Registration(
            occurrence=occ, name=name, party=1, state=State.ATTENDED if i < regs_attended else State.NO_SHOW,
            attended_at=occ.starts_at if i < regs_attended else None, created_at=occ.starts_at - datetime.timedelta(days=3),
        ))  # fmt: skip
    Registration.objects.bulk_create(made)
    occ.taken = len(made)
    occ.save(update_fields=["taken"])


def build(ctx) -> None:
    rng = ctx.rng("events")
    admin = get_user_model().objects.get(username="hq_admin")
    units = {u.code: u for u in Unit.objects.filter(kind__in=[UnitKind.HEAD_OFFICE, UnitKind.PROVINCE])}
    extra = {u.code: u for u in Unit.objects.filter(code__in=["CQ", "SZ", "FJ-SM", "SD"])}
    stations = {s.code: s for s in Station.objects.filter(code__in=["CQ-SXGC", "CQ-JXDL"])}

    # Nurses' day, 12 May 2020, at two stations at once.
    cq = extra["CQ"]
    nurses = services.create_event(
        actor=admin, unit=cq, title="“工行驿站”暖心行动 致敬最美白衣天使", kind="honour",
        target_groups=["medical_staff"], capacity=20, max_party=2,
        description="国际护士节：鲜花与掌声迎接一线医护人员，分享战“疫”故事；医院专家防疫讲座、教授讲座；"
        "现场发放医护专属信用卡；下午赴肿瘤医院开展上门服务。",
        speakers="重庆大学附属肿瘤医院专家", partners="重庆大学附属肿瘤医院",
    )  # fmt: skip
    day = datetime.date(2020, 5, 12)
    occs = services.add_occurrences(
        nurses, actor=admin, stations=list(stations), starts_at=_at(day, "09:30"), ends_at=_at(day, "11:30")
    )
    for occ in occs:
        _past(occ, 8 if occ.station.code == "CQ-SXGC" else 6, 0 if occ.station.code == "CQ-SXGC" else 1,
              names=NURSES if occ.station.code == "CQ-SXGC" else None)  # fmt: skip
    services.report_event(
        nurses, actor=admin, note="三峡广场支行迎接8名一线医护人员，建新东路支行同步开展。", people=15
    )
    ctx.data["nurses_day"] = nurses.pk

    # Shenzhen: new-citizen financial services month, September 2022 (the article's) and again last
    # September, which the demo's check-ins cover, so that its reach has figures to compare.
    sz = extra["SZ"]
    theme = Theme.objects.filter(code="new_citizen").first()
    sz_stations = list(Station.objects.filter(unit__path__startswith=sz.path, themes=theme).order_by("code"))
    last_year = timezone.localdate().year - 1
    for year, count in ((2022, 6 if ctx.small else 40), (last_year, 4 if ctx.small else 20)):
        month = campaigns.create_campaign(
            actor=admin, unit=sz, name="新市民金融服务宣传月" if year == 2022 else f"新市民金融服务宣传月（{year}）",
            target_group="new_citizen", starts_on=datetime.date(year, 9, 1), ends_on=datetime.date(year, 9, 30),
            partners="深圳市地方金融监督管理局", description="面向新市民、学生和老年人的金融知识宣传。",
        )  # fmt: skip
        if year == 2022:
            ctx.data["new_citizen_month"] = month.pk
        picks = rng.sample(sz_stations, min(count, len(sz_stations)))
        if not picks:
            continue
        talk = services.create_event(
            actor=admin, unit=sz, campaign=month.pk, title="新市民金融知识讲堂", kind="financial_education",
            target_groups=["new_citizen", "student", "elderly"], capacity=30,
        )  # fmt: skip
        for i, station in enumerate(sorted(picks, key=lambda s: s.code)):
            start = _at(datetime.date(year, 9, 3 + (i % 25)), "14:30")
            occ = services.add_occurrences(talk, actor=admin, stations=[station.code], starts_at=start,
                                           ends_at=start + datetime.timedelta(hours=2))[0]  # fmt: skip
            _past(occ, rng.randint(8, 25), rng.randint(0, 4))

    # Sanming, February 2020: staff volunteering at community checkpoints.
    sm = extra["FJ-SM"]
    sm_station = Station.objects.filter(unit__path__startswith=sm.path).order_by("code").first()
    if sm_station:
        vol = services.create_event(actor=admin, unit=sm, title="社区卡口志愿服务", kind="volunteering",
                                    target_groups=[], capacity=20, public=False)  # fmt: skip
        occ = services.add_occurrences(vol, actor=admin, stations=[sm_station.code],
                                       starts_at=_at(datetime.date(2020, 2, 10), "08:00"), ends_at=_at(datetime.date(2020, 2, 10), "18:00"))[0]  # fmt: skip
        for i in range(13):
            services.record_walk_in(
                occ, actor=admin, name=f"员工{i + 1}", staff=True, hours="4", affiliation="清流支行"
            )

    # Shandong: couriers as consumer-protection ambassadors.
    sd = extra["SD"]
    sd_station = (
        Station.objects.filter(unit__path__startswith=sd.path, themes__code="little_bee")
        .order_by("code")
        .first()
    )
    if sd_station:
        amb = campaigns.create_campaign(actor=admin, unit=sd, name="快递小哥消保宣传使者", target_group="courier",
                                        starts_on=datetime.date(2024, 3, 1), ends_on=datetime.date(2024, 3, 31),
                                        partners="山东省快递协会")  # fmt: skip
        ev = services.create_event(actor=admin, unit=sd, campaign=amb.pk, title="金融知识进驿站：消保宣传使者培训",
                                   kind="financial_education", target_groups=["courier"], partners="山东省快递协会")  # fmt: skip
        occ = services.add_occurrences(ev, actor=admin, stations=[sd_station.code],
                                       starts_at=_at(datetime.date(2024, 3, 15), "15:00"), ends_at=_at(datetime.date(2024, 3, 15), "16:30"))[0]  # fmt: skip
        _past(occ, 12, 2)
        for i in range(5):
            services.record_walk_in(
                occ, actor=admin, name=f"快递员{i + 1}", group="courier", affiliation="山东省快递协会会员企业"
            )
        # The couriers trained that day became ambassadors and passed it on along their rounds.
        enrolling = next(u for u in campaigns.participating(amb) if sd_station.unit.path.startswith(u.path))
        topics = ["anti_fraud", "consumer_rights", "payments", "savings", "cash"]
        for i, company in enumerate(COURIER_COMPANIES):
            ambassador = campaigns.enrol_ambassador(
                amb, actor=admin, name=f"{company[:2]}快递员{'甲乙丙丁戊己'[i]}", unit=enrolling.code,
                affiliation=company, enrolled_on=datetime.date(2024, 3, 15),
            )  # fmt: skip
            for week in range(2):
                campaigns.record_outreach(
                    ambassador, actor=admin, day=datetime.date(2024, 3, 18 + 7 * week),
                    topic=topics[(i + week) % len(topics)], people=rng.randint(8, 40),
                    note="派件途中向社区居民讲解" if week == 0 else "",
                )  # fmt: skip
        ctx.data["courier_ambassadors"] = amb.pk

    # A few upcoming events in every province: sign-up open now.
    now = timezone.localtime(ctx.data.get("now") or timezone.now())
    kinds = ["anti_fraud", "financial_education", "lecture", "service_day"]
    for i, (code, province) in enumerate(
        sorted((c, u) for c, u in units.items() if u.kind == UnitKind.PROVINCE)
    ):
        picks = list(
            Station.objects.filter(unit__path__startswith=province.path, status="active").order_by("code")[:2]
        )
        if code == "CQ":
            picks = [stations[c] for c in ("CQ-SXGC", "CQ-JXDL") if c in stations] or picks
        if not picks:
            continue
        ev = services.create_event(actor=admin, unit=province, title=f"{province.name}驿站防诈骗小课堂",
                                   kind=kinds[i % len(kinds)], target_groups=["elderly", "courier"], capacity=20)  # fmt: skip
        day = (now + datetime.timedelta(days=3 + i % 5)).date()
        services.add_occurrences(ev, actor=admin, stations=[s.code for s in picks],
                                 starts_at=_at(day, "10:00"), ends_at=_at(day, "11:00"))  # fmt: skip

    # The medical-staff credit card, kept by head office, for medical-priority stations.
    offers.save_offer(
        actor=admin, unit=units["HQ"], group="medical_staff", theme="medical_priority",
        title="医护专属信用卡", title_en="Medical-staff credit card",
        text="白金卡终身免年费；还款宽限期；境外消费返现。", text_en="Platinum with a lifetime fee waiver; a grace period on repayment; cash-back abroad.",
        valid_from=datetime.date(2020, 5, 1), valid_until=datetime.date(2030, 12, 31),
    )  # fmt: skip
    offers.save_offer(
        actor=admin, unit=units["HQ"], group="courier", theme="little_bee",
        title="快递小哥专属借记卡与小额贷款", title_en="Courier debit card, micro-loans and insurance",
        text="专属借记卡免年费、小额信用贷款、意外保险。", text_en="A fee-free debit card, small loans and accident insurance.",
        valid_from=datetime.date(2023, 1, 1), valid_until=datetime.date(2030, 12, 31),
    )  # fmt: skip
