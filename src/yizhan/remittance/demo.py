"""A holiday batch of delayed remittance instructions, as in the Sanming article (seeds/004):
50,000 instructions (a few hundred with --small) across the network's outlets, a few hundred
donations and medical-supply payments among them, duplicates, traps for false positives, and
some of it already worked (claimed, called, decided, awaiting approval).

The holiday is anchored to the build day (it ends tomorrow night), so the deadline and the
claims are live in the demo; everything else follows the seed.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yizhan.audit.services import audit_via, record
from yizhan.core.demo import DemoContext
from yizhan.orgs.models import Unit
from yizhan.remittance import services
from yizhan.remittance.models import Callback, Decision, Instruction, Rule, State

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海燕文斌宇浩凯鹏飞雪梅晨晓东丹俊"
CITIES = ["三明市", "重庆市", "深圳市", "济南市", "青岛市", "沈阳市", "福州市", "厦门市", "成都市", "武汉市"]
TRADES = [
    "商贸",
    "科技",
    "建材",
    "物流",
    "食品",
    "服装",
    "电子",
    "机械",
    "农业",
    "餐饮",
    "印务",
    "家具",
    "汽车服务",
]
BANKS = [
    "中国工商银行",
    "中国建设银行",
    "中国农业银行",
    "中国银行",
    "交通银行",
    "兴业银行",
    "招商银行",
    "福建海峡银行",
]
ORDINARY_PURPOSES = [
    "货款",
    "工资",
    "房租",
    "还款",
    "服务费",
    "报销",
    "往来款",
    "生活费",
    "学费",
    "物业费",
    "运费",
    "租金",
    "材料款",
    "劳务费",
    "",
]
CHANNELS = ["网上银行", "手机银行", "企业网银", "柜面"]

# Payments the green channel is for: (payee, purposes, amount range in yuan).
DONATION_PAYEES = [
    "三明市红十字会",
    "福建省红十字会",
    "宁化县红十字会",
    "重庆市红十字会",
    "福建省紅十字會",  # traditional characters, as some channels send them
    "三明市红会",
    "三明市 红十字会",
    "三明市红会计划财务科",
    "ＲＥＤ ＣＲＯＳＳ ＳＯＣＩＥＴＹ ＯＦ ＣＨＩＮＡ",  # full-width Latin, as some channels send it
    "三明市慈善总会",
    "重庆市慈善总会",
]
DONATION_PURPOSES = ["捐款", "抗疫捐款", "爱心捐赠", "疫情防控捐款", "抗击疫情 捐款", "捐贈"]
HEALTH_PAYEES = [
    "三明市卫生健康委员会",
    "宁化县卫生局",
    "清流县卫健委",
    "宁化县卫生健康局",
    "清流县卫健局",
    "三明市卫计委",  # the old name
    "三明市疾病预防控制中心",
    "沙县疾控中心",
    "三明市疫情防控指挥部",
]
HEALTH_PURPOSES = ["防疫专项资金", "采购医疗物资", "防疫物资款", "疫情防控经费"]
SUPPLY_PAYEES = [
    "福建康源医疗器械有限公司",
    "三明市仁心医药有限公司",
    "重庆安康医疗器械有限公司",
    "深圳市卫康科技有限公司",
]
SUPPLY_PURPOSES = [
    "采购医疗物资",
    "口罩采购款",
    "医用防护服货款",
    "消毒液采购",
    "采购 医疗物资",
    "医疗物质采购",  # a typo the rules know
    "ＫＮ９５口罩",
]
HOSPITAL_PAYEES = ["三明市第一医院", "宁化县总医院", "清流县医院", "重庆医科大学附属第一医院"]
HOSPITAL_PURPOSES = ["捐赠", "医疗设备款", "采购医疗物资"]

# Traps: text that contains a keyword but is not a donation or a medical payment.
HOSPITAL_PAYER = ("三明市第一医院", "6222024100000012345")  # pays salaries and its staff union
TRAPS = [
    ("三明市红十字路农贸市场管理有限公司", "摊位租金"),
    ("三明市紅十字路便民超市", "货款"),
    ("李红会计师事务所", "审计费"),
    ("三明市医院路小学", "学费"),
    ("重庆红十字街餐饮有限公司", "餐费"),
    ("李红会", "生活费"),  # a person's name containing 红会
    ("红十字路口便利店", "货款"),
]


def _person(rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _company(rng) -> str:
    return f"{rng.choice(CITIES)}{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(TRADES)}有限公司"


def _account(rng) -> str:
    return f"6222{rng.randrange(10**15):015d}"


def _phone(rng) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10)}{rng.randrange(10**8):08d}"


def _amount(rng, low: int, high: int) -> Decimal:
    return (Decimal(rng.randrange(low * 100, high * 100 + 1)) / 100).quantize(Decimal("0.01"))


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("remittance")
    total = 400 if ctx.small else 50_000
    special = 40 if ctx.small else 360
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    start = datetime.datetime.combine(today - datetime.timedelta(days=5), datetime.time(0, 0), tzinfo=tz)
    end = timezone.now() - datetime.timedelta(minutes=30)
    deadline = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(23, 59), tzinfo=tz)
    first_workday = today + datetime.timedelta(days=2)
    span = int((end - start).total_seconds())

    outlets = list(Unit.objects.outlets().open().order_by("code").values_list("pk", "code"))
    sanming = [pk for pk, code in outlets if code.startswith("FJ-SM")]
    sanxia = [pk for pk, code in outlets if code == "CQ-SXGC"]
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[pk for pk, _c in outlets])}
    hq = Unit.objects.get(code="HQ")

    seq = 0

    def record_for(payee, purpose, amount, *, unit_pk=None, payer=None, created=None):
        nonlocal seq
        seq += 1
        created = created or start + datetime.timedelta(seconds=rng.randrange(span))
        payer_name, payer_account = payer or (
            _person(rng) if rng.random() < 0.6 else _company(rng),
            _account(rng),
        )
        return {
            "instruction_id": f"ZL{today:%Y%m%d}{seq:07d}",
            "created_at": created,
            "scheduled_date": first_workday,
            "payer_name": payer_name,
            "payer_account": payer_account,
            "payer_phone": _phone(rng),
            "payee_name": payee,
            "payee_account": _account(rng),
            "payee_bank": f"{rng.choice(BANKS)}{rng.choice(CITIES)}分行",
            "amount": amount,
            "purpose": purpose,
            "channel": rng.choice(CHANNELS),
            "unit": units[unit_pk or rng.choice(outlets)[0]],
            "row_number": seq,
        }

    records = []
    # The green-channel payments, most of them at Sanming (the article's branch) and a few at 三峡广场.
    kinds = [
        (DONATION_PAYEES, DONATION_PURPOSES, 100, 200_000),
        (HEALTH_PAYEES, HEALTH_PURPOSES, 5_000, 800_000),
        (SUPPLY_PAYEES, SUPPLY_PURPOSES, 2_000, 500_000),
        (HOSPITAL_PAYEES, HOSPITAL_PURPOSES, 1_000, 300_000),
    ]
    for i in range(special):
        payees, purposes, low, high = kinds[i % len(kinds)]
        where = rng.random()
        unit_pk = (
            rng.choice(sanming)
            if where < 0.5 and sanming
            else rng.choice(sanxia)
            if where < 0.58 and sanxia
            else None
        )
        records.append(
            record_for(rng.choice(payees), rng.choice(purposes), _amount(rng, low, high), unit_pk=unit_pk)
        )
    # Traps, and the hospital paying salaries (never screened: the payer is not a screened field).
    for payee, purpose in TRAPS * (2 if ctx.small else 10):
        records.append(
            record_for(payee, purpose, _amount(rng, 50, 20_000), unit_pk=rng.choice(sanming or [None]))
        )
    for _ in range(6 if ctx.small else 60):
        records.append(
            record_for(
                _person(rng),
                rng.choice(["1月工资", "春节加班费", "工资"]),
                _amount(rng, 3_000, 15_000),
                payer=HOSPITAL_PAYER,
            )
        )
    for _ in range(2 if ctx.small else 6):
        records.append(
            record_for(
                "三明市第一医院工会委员会", "职工福利", _amount(rng, 10_000, 90_000), payer=HOSPITAL_PAYER
            )
        )
    # Everything else: ordinary payments that are simply late because of the holiday.
    while len(records) < total - (special // 6) * 2:
        payee = _company(rng) if rng.random() < 0.5 else _person(rng)
        records.append(record_for(payee, rng.choice(ORDINARY_PURPOSES), _amount(rng, 10, 50_000)))
    # Duplicates: green-channel payments submitted again (same fields, an hour later), and near
    # duplicates (same payer, payee and amount, different remark, within the window).
    originals = rng.sample(records[:special], special // 6)
    for original in originals:
        again = dict(original)
        seq += 1
        again["instruction_id"] = f"ZL{today:%Y%m%d}{seq:07d}"
        again["row_number"] = seq
        again["created_at"] = min(
            original["created_at"] + datetime.timedelta(minutes=rng.randrange(5, 240)), end
        )
        if rng.random() < 0.3:
            again["purpose"] = original["purpose"] + "（补）"
        records.append(again)
    for original in rng.sample(records[special:], special // 6):
        again = dict(original)
        seq += 1
        again["instruction_id"] = f"ZL{today:%Y%m%d}{seq:07d}"
        again["row_number"] = seq
        again["created_at"] = min(
            original["created_at"] + datetime.timedelta(minutes=rng.randrange(1, 90)), end
        )
        records.append(again)
    # Core banking exported a few instructions twice (same instruction id).
    for original in rng.sample(records[:special], 2 if ctx.small else 8):
        records.append(dict(original, row_number=seq + 1))
        seq += 1

    with audit_via("system"), transaction.atomic():
        hospital_rule = Rule.objects.filter(field="payee_name", term="医院").first()
        services.create_allow_entry(
            actor=None,
            field="payer_account",
            value=HOSPITAL_PAYER[1],
            rule=hospital_rule,
            reason="三明市第一医院代发工资户：向本院工会划拨职工福利",
        )
        batch = services.create_batch(
            actor=None,
            unit=hq,
            name="春节假期延时汇款指令（演示）",
            deadline=deadline,
        )
        screener = services.load_screener()
        outcomes = [services.screen_record(screener, r) for r in records]
        services.create_instructions(batch, records, outcomes, screener=screener)
        services.regroup_batch(batch)
        batch.screened_at = timezone.now()
        batch.save(update_fields=["screened_at"])
        record(
            "remittance.batch.imported",
            batch,
            actor=None,
            changes={"rows_imported": [None, len(records)], "source": [None, "demo"]},
        )
    _work_some(ctx, batch)
    flagged = Instruction.objects.filter(batch=batch, flagged=True).count()
    ctx.log(f"Remittance: 1 holiday batch, {len(records)} instructions, {flagged} to look at.")


def _work_some(ctx: DemoContext, batch) -> None:
    """Sanming's manager has already called and decided a few, so every state shows in the demo."""
    User = get_user_model()
    worker = User.objects.filter(username="sm_manager").first()
    if worker is None:
        return
    flagged = Instruction.objects.filter(
        batch=batch, hit_count__gt=0, unit__path__startswith=_path("FJ-SM")
    ).order_by("-priority", "-amount", "pk")
    wanted = 6 if ctx.small else 24
    above = list(flagged.filter(amount__gt=batch.approval_threshold)[:wanted])
    below = list(flagged.filter(amount__lte=batch.approval_threshold)[:wanted])
    # Both sides of the approval threshold, and at most one member of any duplicate group.
    items, seen_groups = [], set()
    for inst in (x for pair in zip(above, below, strict=False) for x in pair):
        if inst.dup_group_id in seen_groups:
            continue
        if inst.dup_group_id:
            seen_groups.add(inst.dup_group_id)
        items.append(inst)
    items = items[:wanted]
    with audit_via("system"):
        for n, inst in enumerate(items):
            services.claim(inst, actor=worker)
            if n % 4 == 3:
                continue  # still being called
            outcome = Callback.Outcome.UNREACHABLE if n % 4 == 2 else Callback.Outcome.CONFIRMED
            services.log_callback(inst, actor=worker, outcome=outcome, dialled_on_file=True, note="")
            if outcome == Callback.Outcome.CONFIRMED:
                services.decide(inst, actor=worker, decision=Decision.PROCESS_NOW, note="客户确认，立即处理")
        leftovers = Instruction.objects.filter(
            batch=batch, dup_group__isnull=False, state=State.OPEN, unit__path__startswith=_path("FJ-SM")
        ).exclude(dup_group__keep_id=F("pk"))[:3]
        for inst in leftovers:
            services.claim(inst, actor=worker)
            services.decide(inst, actor=worker, decision=Decision.DELETE_DUPLICATE, note="重复指令，删除预约")


def _path(code: str) -> str:
    return Unit.objects.get(code=code).path
