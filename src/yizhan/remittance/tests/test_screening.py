"""Chinese-aware matching: normalisation, aliases, spans in the original text, false-positive
guards, and the automaton agreeing with the plain substring loop."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.remittance.screening import (
    AllowSpec,
    ExclusionSpec,
    RuleSpec,
    Screener,
    alias_classes,
    expand,
    normalise,
    normalise_with_map,
    resolve,
    substring_matches,
)

RULES = [
    RuleSpec(1, "payee_name", "红十字会", 90),
    RuleSpec(2, "payee_name", "红十字", 85),
    RuleSpec(3, "payee_name", "卫健委", 80),
    RuleSpec(4, "payee_name", "医院", 40),
    RuleSpec(5, "purpose", "采购医疗物资", 80),
    RuleSpec(6, "purpose", "捐款", 85),
    RuleSpec(7, "purpose", "口罩", 70),
]
ALIASES = [("红会", "红十字会"), ("卫健委", "卫生健康委员会")]
EXCLUSIONS = [ExclusionSpec("红十字路"), ExclusionSpec("红会计"), ExclusionSpec("医院路")]


@pytest.fixture(scope="module")
def screener():
    return Screener(RULES, ALIASES, EXCLUSIONS)


def rules_hit(outcome, field=None):
    return sorted({h.rule_id for h in outcome.hits if field is None or h.field == field})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("红十字会", "红十字会"),
        ("紅十字會", "红十字会"),  # traditional -> simplified
        ("衛生健康委員會", "卫生健康委员会"),
        ("ＫＮ９５口罩", "kn95口罩"),  # full-width -> half-width, case folded
        ("红 十 字\u3000会", "红十字会"),  # ideographic space too
        ("采购·医疗（物资）!", "采购医疗物资"),  # punctuation dropped
        ("①号楼", "1号楼"),  # NFKC compatibility digits
        ("", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_normalised_positions_point_into_the_original():
    text = "福建省 紅十字·會"
    norm, positions = normalise_with_map(text)
    assert norm == "福建省红十字会"
    assert len(positions) == len(norm)
    assert [text[p] for p in positions] == list("福建省紅十字會")


def test_alias_classes_are_transitive_and_normalised():
    classes = alias_classes([("红会", "红十字会"), ("紅十字會", "红十字总会")])
    assert classes == [frozenset({"红会", "红十字会", "红十字总会"})]


def test_expand_swaps_aliases_inside_longer_terms():
    classes = alias_classes(ALIASES)
    assert expand("三明市红十字会", classes) == {"三明市红十字会", "三明市红会"}
    assert expand("卫健委", classes) == {"卫健委", "卫生健康委员会"}
    assert expand("口罩", classes) == {"口罩"}


@pytest.mark.parametrize(
    ("payee", "purpose", "rules"),
    [
        ("福建省紅十字會", "", [1, 2]),  # traditional
        ("三明市红会", "", [1]),  # alias: 红会 -> rule 红十字会
        ("三明市 红 十 字 会", "", [1, 2]),  # spaces ignored
        ("清流县卫健委", "", [3]),
        ("三明市卫生健康委员会", "", [3]),  # alias the other way round
        ("某医疗器械公司", "采购 医疗物资", [5]),
        ("某公司", "ＫＮ９５口罩", [7]),
        ("某公司", "红十字会", []),  # payee rules do not look at the purpose
        ("某公司捐款", "货款", []),  # purpose rules do not look at the payee
    ],
)
def test_rules_hit_their_field(screener, payee, purpose, rules):
    assert rules_hit(screener.screen(payee, purpose)) == rules


def test_hits_record_field_and_the_span_of_the_original_text(screener):
    payee = "福建省　紅十字·會"
    outcome = screener.screen(payee, "抗疫 捐款")
    by_rule = {h.rule_id: h for h in outcome.hits}
    hit = by_rule[1]
    assert hit.field == "payee_name"
    assert payee[hit.start : hit.end] == hit.text == "紅十字·會"
    assert (hit.start, hit.end) == (4, 9)
    donation = by_rule[6]
    assert donation.field == "purpose"
    assert "抗疫 捐款"[donation.start : donation.end] == "捐款"


def test_each_occurrence_counts_once_per_rule(screener):
    outcome = screener.screen("红十字会红十字会", "")
    spans = sorted((h.start, h.end) for h in outcome.hits if h.rule_id == 1)
    assert spans == [(0, 4), (4, 8)]
    # 红十字 lies inside 红十字会 but is its own rule, so it is recorded for rule 2 as well.
    assert sorted((h.start, h.end) for h in outcome.hits if h.rule_id == 2) == [(0, 3), (4, 7)]


# ------------------------------------------------------------ false-positive guards


@pytest.mark.parametrize(
    "payee",
    [
        "三明市红十字路农贸市场",
        "三明市紅十字路便民超市",
        "李红会计师事务所",
        "三明市医院路小学",
        "红 十 字 路 菜场",
    ],
)
def test_exclusion_contexts_drop_street_names_and_accountants(screener, payee):
    assert screener.screen(payee, "货款").hits == []


def test_an_exclusion_only_drops_the_hit_inside_it(screener):
    outcome = screener.screen("红十字路社区红十字会", "")
    assert [(h.rule_id, h.text) for h in outcome.hits if h.rule_id == 1] == [(1, "红十字会")]
    assert all(h.start >= 6 for h in outcome.hits)


def test_an_exclusion_can_be_limited_to_one_rule():
    screener = Screener(RULES, ALIASES, [ExclusionSpec("红十字路", rule_id=2)])
    outcome = screener.screen("红十字路", "")
    assert rules_hit(outcome) == []
    screener = Screener(RULES, ALIASES, [ExclusionSpec("红十字路", rule_id=1)])
    assert rules_hit(screener.screen("红十字路", "")) == [2]


def test_an_exclusion_can_be_limited_to_one_field():
    rules = [RuleSpec(1, "payee_name", "口罩", 50), RuleSpec(2, "purpose", "口罩", 50)]
    screener = Screener(rules, exclusions=[ExclusionSpec("口罩厂", field="payee_name")])
    outcome = screener.screen("某口罩厂", "口罩厂货款")
    assert [(h.rule_id, h.field) for h in outcome.hits] == [(2, "purpose")]


def test_a_hospital_paying_salaries_is_not_screened(screener):
    """The payer is never a screened field: a hospital paying its staff does not hit 医院."""
    outcome = screener.screen(
        "王五", "1月工资", payer_name="三明市第一医院", payer_account="6222024100000012345"
    )
    assert outcome.hits == []


def test_allow_list_suppresses_the_listed_rule_and_says_which_entry():
    allow = [AllowSpec(9, "payer_account", "6222 0241 0000 0012 345", rule_id=4)]
    screener = Screener(RULES, ALIASES, EXCLUSIONS, allow)
    outcome = screener.screen("三明市第一医院工会", "职工福利 捐款", payer_account="6222024100000012345")
    assert rules_hit(outcome) == [6]  # 医院 suppressed, 捐款 still hits
    assert outcome.allowed_by == 9
    # another payer paying the same union is still flagged
    assert rules_hit(
        screener.screen("三明市第一医院工会", "职工福利", payer_account="6222000000000000001")
    ) == [4]


def test_allow_list_by_name_for_every_rule():
    allow = [AllowSpec(3, "payee_name", "三明市 红十字会", rule_id=None)]
    screener = Screener(RULES, ALIASES, EXCLUSIONS, allow)
    outcome = screener.screen("三明市红十字会", "捐款")
    assert outcome.hits == [] and outcome.allowed_by == 3


def test_no_rules_no_hits():
    assert Screener([]).screen("红十字会", "捐款").hits == []


def test_resolve_drops_contained_matches_of_one_rule_only():
    assert resolve([(1, 0, 4), (1, 0, 2), (2, 0, 2)], []) == [(1, 0, 4), (2, 0, 2)]
    assert resolve([(1, 2, 5)], [(None, 0, 6)]) == []
    assert resolve([(1, 2, 5)], [(2, 0, 6)]) == [(1, 2, 5)]


# ------------------------------------------------------------ the automaton agrees with the peer

ALPHABET = list("红十字会路卫健委生康员医院采购疗物资捐款口罩计李 ·,　紅會衛醫ＡＢ1２")


@settings(max_examples=300, deadline=None)
@given(payee=st.text(alphabet=ALPHABET, max_size=30), purpose=st.text(alphabet=ALPHABET, max_size=30))
def test_automaton_matches_the_substring_loop(screener, payee, purpose):
    texts = {"payee_name": normalise(payee), "purpose": normalise(purpose)}
    fast = screener.raw_matches(texts)
    slow = substring_matches(screener, texts)
    for field in ("payee_name", "purpose"):
        assert sorted(fast[field][0]) == sorted(slow[field][0])
        assert sorted(set(fast[field][1])) == sorted(set(slow[field][1]))
    # and every hit's original span normalises to a term of its rule
    for hit in screener.screen(payee, purpose).hits:
        original = payee if hit.field == "payee_name" else purpose
        assert normalise(original[hit.start : hit.end]) in screener.terms[hit.rule_id]
