"""Screening benchmark: 1,000,000 generated instructions against 200 rules with aliases.

Runs the production screener (`yizhan.remittance.screening.Screener`: per-character folding with
str.translate, one Aho-Corasick pass over payee and purpose, exclusions, allow-list) and, as the
peer, a plain per-rule str.find loop over the same normalised text with the same guards. The
peer runs on a sample (every k-th instruction) unless --peer-full; its time is scaled to the full
run for the ratio, and its hits are compared with the automaton's on that sample.

Screening is pure computation over text, so no database is involved; the data is generated in
memory, deterministically from --seed. Peak memory is the process's peak resident set size
(data included).

    .venv/bin/python bench/screening.py [--n 1000000] [--repeat 3] [--peer-sample 10] [--peer-full]
"""

import argparse
import csv
import importlib
import random
import resource
import statistics
import sys
import time
from pathlib import Path

from yizhan.remittance.screening import (
    ExclusionSpec,
    RuleSpec,
    Screener,
    normalise,
    substring_matches,
)


def _defaults():
    """The default rules, aliases and exclusions exactly as migrations 0002 and 0003 seed them."""
    rules, aliases, exclusions = [], [], []
    for name in ("0002_default_rules", "0003_screening_explained"):
        module = importlib.import_module(f"yizhan.remittance.migrations.{name}")
        rules += [(f, t, p) for f, t, _c, p in getattr(module, "RULES", [])]
        aliases += getattr(module, "ALIASES", [])
        exclusions += [t for t, _n in getattr(module, "EXCLUSIONS", [])]
    return rules, aliases, exclusions


BASE_RULES, BASE_ALIASES, BASE_EXCLUSIONS = _defaults()
CORPUS = Path(__file__).resolve().parent.parent / "src/yizhan/remittance/tests/fixtures/beneficiaries.csv"
SUPPLIES = [
    "呼吸机",
    "测温枪",
    "护目镜",
    "隔离衣",
    "检测试剂",
    "核酸试剂",
    "医用酒精",
    "消毒液",
    "额温枪",
    "医用手套",
    "防护面罩",
    "担架",
    "监护仪",
    "氧气瓶",
    "输液器",
    "注射器",
    "中药饮片",
    "紫外线灯",
    "臭氧机",
    "救护车",
    "负压病房",
    "方舱",
    "体温计",
    "采样管",
    "口罩机",
    "熔喷布",
    "洗手液",
    "药品",
    "疫苗",
    "血浆",
]
ORGS = [
    "慈善会",
    "基金会",
    "红十字基金会",
    "人民医院",
    "中医院",
    "妇幼保健院",
    "疾病预防控制中心",
    "卫生监督所",
    "应急管理局",
    "民政局",
    "医疗保障局",
    "急救中心",
    "血液中心",
    "社区卫生服务中心",
    "乡镇卫生院",
    "防控办",
    "抗疫指挥部",
    "医药公司",
    "药房",
    "医疗用品",
]
EXTRA_ALIASES = [
    ("疾控中心", "疾病预防控制中心"),
    ("防控办", "防控办公室"),
    ("应急局", "应急管理局"),
    ("医保局", "医疗保障局"),
    ("红十字基金会", "红基会"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉海燕文斌宇浩凯鹏飞雪梅晨晓东丹俊"
CITIES = [
    "三明市",
    "重庆市",
    "深圳市",
    "济南市",
    "青岛市",
    "沈阳市",
    "福州市",
    "厦门市",
    "成都市",
    "武汉市",
    "宁化县",
    "清流县",
]
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
    "软件",
]
PURPOSES = [
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
    "借款",
    "投资款",
    "装修款",
    "保证金",
]
TRAPS = [
    "三明市红十字路农贸市场",
    "紅十字路便民超市",
    "李红会计师事务所",
    "三明市医院路小学",
    "重庆红十字街餐饮有限公司",
    "李红会",
    "王红会",
    "红十字路口便利店",
]


def build_rules(rng):
    rules = [RuleSpec(i + 1, f, t, p) for i, (f, t, p) in enumerate(BASE_RULES)]
    terms = {(r.field, r.term) for r in rules}
    candidates = [("purpose", s) for s in SUPPLIES] + [("payee_name", o) for o in ORGS]
    candidates += [("purpose", f"采购{s}") for s in SUPPLIES] + [("purpose", f"{s}货款") for s in SUPPLIES]
    candidates += [("payee_name", f"{c}{o}") for c in CITIES for o in ORGS[:6]]
    rng.shuffle(candidates)
    for field, term in candidates:
        if len(rules) == 200:
            break
        if (field, term) not in terms:
            terms.add((field, term))
            rules.append(RuleSpec(len(rules) + 1, field, term, rng.randrange(10, 90)))
    aliases = [*BASE_ALIASES, *EXTRA_ALIASES]
    return rules, aliases, [ExclusionSpec(t) for t in BASE_EXCLUSIONS]


def vary(rng, text):
    """How keywords arrive from the channels: traditional characters, full width, stray spaces."""
    roll = rng.random()
    if roll < 0.15:
        return (
            text.replace("红", "紅")
            .replace("会", "會")
            .replace("卫", "衛")
            .replace("医", "醫")
            .replace("资", "資")
        )
    if roll < 0.25:
        return " ".join(text)
    if roll < 0.3:
        return (
            text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}) + "　"
        )
    return text


def generate(n, rng, rules):
    payee_terms = [r.term for r in rules if r.field == "payee_name"]
    purpose_terms = [r.term for r in rules if r.field == "purpose"]
    payees, purposes = [], []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.012:  # green-channel payments: a keyword in the payee, the purpose or both
            payees.append(vary(rng, rng.choice(CITIES) + rng.choice(payee_terms)))
            purposes.append(
                vary(rng, rng.choice(purpose_terms)) if rng.random() < 0.5 else rng.choice(PURPOSES)
            )
        elif roll < 0.02:
            payees.append(f"{rng.choice(CITIES)}{rng.choice(SURNAMES)}{rng.choice(TRADES)}有限公司")
            purposes.append(vary(rng, rng.choice(purpose_terms) + rng.choice(["", "款", "采购"])))
        elif roll < 0.022:  # traps for false positives
            payees.append(rng.choice(TRAPS))
            purposes.append(rng.choice(PURPOSES))
        elif roll < 0.6:
            payees.append(
                f"{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(GIVEN) if rng.random() < 0.6 else ''}"
            )
            purposes.append(
                rng.choice(PURPOSES) + (f"{rng.randrange(1, 13)}月" if rng.random() < 0.3 else "")
            )
        else:
            payees.append(
                f"{rng.choice(CITIES)}{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(TRADES)}有限公司"
            )
            purposes.append(
                rng.choice(PURPOSES) + (f"合同{rng.randrange(10**6)}" if rng.random() < 0.4 else "")
            )
    return payees, purposes


def corpus_quality():
    """Precision and recall of the default rules alone on the labelled corpus of beneficiaries."""
    screener = Screener(
        [RuleSpec(i + 1, f, t, p) for i, (f, t, p) in enumerate(BASE_RULES)],
        BASE_ALIASES,
        [ExclusionSpec(t) for t in BASE_EXCLUSIONS],
    )
    with CORPUS.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    tp = fp = fn = 0
    for row in rows:
        hit = bool(screener.screen(row["payee"], row["purpose"]).hits)
        wanted = row["expected"] == "hit"
        tp += hit and wanted
        fp += hit and not wanted
        fn += wanted and not hit
    return len(rows), tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def run_automaton(screener, payees, purposes, indexes):
    hits = {}
    screen = screener.screen
    for i in indexes:
        outcome = screen(payees[i], purposes[i])
        if outcome.hits:
            hits[i] = outcome.hits
    return hits


def run_peer(screener, payees, purposes, indexes):
    hits = {}
    for i in indexes:
        payee, purpose = payees[i], purposes[i]
        texts = {"payee_name": normalise(payee), "purpose": normalise(purpose)}
        outcome = screener.finish(substring_matches(screener, texts), payee, purpose)
        if outcome.hits:
            hits[i] = outcome.hits
    return hits


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="automaton runs; the median is reported")
    parser.add_argument("--peer-sample", type=int, default=10, help="the peer screens every k-th instruction")
    parser.add_argument("--peer-full", action="store_true", help="run the peer over everything (slow)")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    rules, aliases, exclusions = build_rules(rng)
    screener = Screener(rules, aliases, exclusions)
    n_terms = sum(len(t) for t in screener.terms.values())
    t = time.perf_counter()
    payees, purposes = generate(args.n, rng, rules)
    print(
        f"generated {args.n:,} instructions in {time.perf_counter() - t:.1f} s; "
        f"{len(rules)} rules ({n_terms} terms with aliases), {len(aliases)} alias pairs, {len(exclusions)} exclusions",
        flush=True,
    )

    everything = range(args.n)
    runs, hits = [], None
    for attempt in range(max(args.repeat, 1)):
        t = time.perf_counter()
        hits = run_automaton(screener, payees, purposes, everything)
        runs.append(time.perf_counter() - t)
        print(
            f"  automaton run {attempt + 1}: {runs[-1]:.2f} s, {len(hits):,} instructions with hits",
            flush=True,
        )
    seconds = statistics.median(runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    step = 1 if args.peer_full else max(args.peer_sample, 1)
    sample = range(0, args.n, step)
    t = time.perf_counter()
    peer_hits = run_peer(screener, payees, purposes, sample)
    peer_seconds = (time.perf_counter() - t) * args.n / len(sample)
    expected = {i: h for i, h in hits.items() if i % step == 0}
    identical = peer_hits == expected
    print(
        f"  peer (per-rule substring loop) on {len(sample):,} instructions"
        f"{'' if step == 1 else f' (every {step}th, time scaled to {args.n:,})'}: "
        f"{peer_seconds:.1f} s; hits identical to the automaton: {'yes' if identical else 'NO'} "
        f"({len(expected):,} instructions with hits compared)",
        flush=True,
    )
    trapped = sum(1 for i, p in enumerate(payees) if p in TRAPS and i in hits)
    print(f"  trap payees (红十字路, 李红会计师, 李红会…) that hit: {trapped}")
    n_corpus, precision, recall = corpus_quality()
    print(
        f"  default rules on the labelled corpus ({n_corpus} beneficiaries): "
        f"precision {precision:.3f}, recall {recall:.3f}"
    )
    verdict = "goal met" if seconds < 10 and peak_mb < 1024 and identical else "goal NOT met"
    print(
        f"screening {args.n:,} instructions x {len(rules)} rules: median {seconds:.2f} s, "
        f"peak memory {peak_mb:.0f} MB, {peer_seconds / seconds:.1f}x faster than the per-rule substring loop "
        f"({verdict}: < 10 s, < 1 GB, identical hits)"
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
