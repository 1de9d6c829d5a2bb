"""Demo service cases, as the articles tell them (seeds/002 and seeds/000):

- 光明支行: a customer in panic, a telecom fraud stopped with the local police (closed), and the
  screening keyword it suggests for the green channel (awaiting head office);
- 福民支行: the welfare home's call — an orphan's lost card and forgotten password, handled at the
  home (closed);
- 云城支行: photos taken at home for elderly veterans' preferential-treatment cards (closed);
- open cases: 建新东路 bringing the medical-staff credit card to the cancer hospital, an elderly
  customer at 三峡广场 helped with a pension account, and at 景田 a complaint left overdue.

Small and fast: six cases, a few dozen rows. The amounts and references are the demo's own.
"""

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from yizhan.cases import services
from yizhan.core.demo import DemoContext
from yizhan.orgs.models import Unit
from yizhan.stations.models import Station

# (unit, type, days ago, title, person, need, [step notes], closure or None, extra fields)
CASES = [
    (
        "SZ-GM", "fraud", 75, "客户疑遭电信诈骗，警银联动成功堵截", "刘先生",
        "客户神色惊慌冲入营业部，怀疑银行卡状态异常；排查发现正在遭遇电信诈骗。",
        ["帮助客户平复焦急情绪、耐心劝导。", "联系辖区民警到场。", "与民警一起阻止转账，资金保住。",
         "回访：客户资金安全，已开启转账限额。"],
        {"outcome": "protected", "amount_protected": "38000.00", "police_reference": "光明派出所 警情 GM-0912",
         "summary": "警银联动成功堵截一起电信网络诈骗，保障了客户的财产安全，获得民警的高度认可。"},
        {},
    ),
    (
        "SZ-FM", "home_service", 60, "福利院孤儿银行卡挂失补办、密码重置上门办理", "L先生",
        "养母不慎将银行卡遗失并忘记密码，无法支取日常基础开支；客户因脑瘫无法行动，难以亲自来网点。",
        ["接到福利院紧急求助电话，核实监护关系与合规要求。", "与福利院约定上门时间。",
         "网点工作人员上门为客户办理挂失、补卡和密码重置。", "回访福利院：日常开支已可正常支取。"],
        {"outcome": "resolved", "summary": "坚守合规，上门为客户办理相关业务，及时化解群众难题。"},
        {},
    ),
    (
        "SZ-YC", "home_service", 45, "退役军人优待证上门免费拍照", "",
        "客户普遍高龄，办理退役军人优待证需要照片，行动不便。",
        ["主动联系辖区退役军人。", "组织爱心服务小分队与照相馆约定上门日期。",
         "上门为客户免费拍照，协助办理优待证。", "回访：客户来电致谢。"],
        {"outcome": "resolved",
         "summary": "爱心服务小分队与照相馆上门免费拍照，助力退役军人办理优待证，客户称赞把党和政府的关怀送到心中。"},
        {},
    ),
    (
        "CQ-JXDL", "home_service", 1, "为重庆市肿瘤医院医护人员上门递送医护专属信用卡", "",
        "医护人员工作繁忙，不便来网点领卡。",
        ["核对医护专属信用卡申请资料。"],
        None,
        {},
    ),
    (
        "CQ-SXGC", "vulnerable", 0, "高龄客户养老金账户激活协助", "王阿姨",
        "客户视力不好，不会使用自助机，需要工作人员陪同办理。",
        [],
        None,
        {"person_phone": "13800001234"},
    ),
    (
        "SZ-JT", "complaint", 30, "客户投诉排队时间过长", "陈先生",
        "客户反映养老金发放日排队超过一小时。",
        ["已向客户致歉并登记。"],
        None,
        {"person_phone": "13900005678"},
    ),
]  # fmt: skip
PROPOSAL = ("SZ-GM", "purpose", "安全账户", "诈骗分子要求客户把钱转入“安全账户”。")


def build(ctx: DemoContext) -> None:
    actor = get_user_model().objects.filter(username="hq_admin").first()
    units = {u.code: u for u in Unit.objects.filter(code__in=[c[0] for c in CASES])}
    if actor is None or not units:
        return
    now = timezone.now()
    by_unit = {}
    for code, case_type, days_ago, title, person, need, notes, closure, extra in CASES:
        unit = units.get(code)
        if unit is None:
            continue
        opened = now - datetime.timedelta(days=days_ago, hours=2)
        station = Station.objects.filter(unit=unit).order_by("pk").first()
        case = services.open_case(
            actor=actor, unit=unit, case_type=case_type, opened_at=opened, title=title,
            person_name=person, need=need, station=station, **extra,
        )  # fmt: skip
        for i, (step, note) in enumerate(zip(case.steps.order_by("position"), notes, strict=False)):
            when = min(opened + datetime.timedelta(hours=1 + 20 * i), now)
            services.complete_step(case, actor=actor, step=step.code, note=note, now=when)
        if closure:
            services.close_case(
                case, actor=actor, now=min(opened + datetime.timedelta(days=6), now), **closure
            )
        by_unit[code] = case
    code, field, term, note = PROPOSAL
    if code in by_unit:
        services.propose_rule(by_unit[code], actor=actor, field=field, term=term, note=note)
    ctx.log(f"cases: {len(by_unit)} service cases")
