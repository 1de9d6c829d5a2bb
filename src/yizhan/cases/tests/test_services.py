"""Case types, steps in order with working-day deadlines (across National Day and the Spring
Festival), closure rules, edits with revisions, links and rule proposals, and the figures."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yizhan.audit.models import AuditEvent
from yizhan.cases import services
from yizhan.cases.models import TEMPLATES, Case, CaseStep, CaseType, ProposalState, RuleProposal
from yizhan.cases.tests.conftest import at
from yizhan.core.concurrency import StaleEdit
from yizhan.remittance.models import Instruction, Rule
from yizhan.stations import hours

pytestmark = pytest.mark.django_db


def test_every_type_has_a_template_and_fraud_reads_as_the_article():
    assert set(TEMPLATES) == set(CaseType.values)
    assert [s.code for s in TEMPLATES[CaseType.FRAUD]] == [
        "calmed",
        "police_called",
        "transaction_stopped",
        "follow_up",
    ]


def test_deadlines_in_working_days_across_national_day(new_case):
    # Wednesday 30 September 2026; 1–7 October off, Saturday 10 October a make-up workday.
    case = new_case(opened_at=at("2026-09-30", 16))
    due = dict(CaseStep.objects.filter(case=case).values_list("code", "due_on"))
    assert due["calmed"] == due["police_called"] == datetime.date(2026, 9, 30)
    assert due["transaction_stopped"] == datetime.date(2026, 10, 8)
    assert due["follow_up"] == datetime.date(2026, 10, 10)  # the make-up Saturday counts
    assert case.due_on == datetime.date(2026, 10, 10)
    assert not case.is_overdue(datetime.date(2026, 10, 10)) and case.is_overdue(datetime.date(2026, 10, 11))


def test_deadlines_across_the_spring_festival_use_the_shared_helper(new_case):
    case = new_case(case_type="complaint", opened_at=at("2026-02-13", 9))
    expected = hours.add_working_days(datetime.date(2026, 2, 13), 10)
    assert case.due_on == expected
    # Ten working days from a Friday before the festival land well after two calendar weeks.
    assert (expected - datetime.date(2026, 2, 13)).days > 14


def test_unknown_type_names_the_field_and_writes_nothing(users, unit):
    before = Case.objects.count()
    with pytest.raises(ValidationError) as err:
        services.open_case(actor=users["hq_admin"], unit=unit("CQ-SXGC"), case_type="burglary", title="x")
    assert "case_type" in err.value.message_dict
    assert Case.objects.count() == before


@pytest.mark.parametrize(
    "amount", ["0", "-5", "abc", "1e3000", "NaN", "Infinity", "12.345", "1000000000000", True]
)
def test_an_amount_that_is_not_a_positive_amount_is_refused(new_case, amount):
    with pytest.raises(ValidationError) as err:
        new_case(amount_protected=amount)
    assert "amount_protected" in err.value.message_dict


def test_a_positive_amount_is_kept_to_the_fen(new_case):
    assert new_case(amount_protected="38,000.5").amount_protected == Decimal("38000.50")


def test_a_bad_phone_and_a_long_title_name_their_fields(new_case):
    with pytest.raises(ValidationError) as err:
        new_case(person_phone="call me maybe", title="长" * 201)
    assert {"person_phone", "title"} <= set(err.value.message_dict)


def test_steps_in_order_a_step_out_of_order_is_refused_naming_the_field(new_case, users):
    case = new_case()
    with pytest.raises(ValidationError) as err:
        services.complete_step(case, actor=users["hq_admin"], step="police_called")
    assert "step" in err.value.message_dict
    assert (
        "Customer calmed" in err.value.message_dict["step"][0] or "客户" in err.value.message_dict["step"][0]
    )
    with pytest.raises(ValidationError) as err:
        services.complete_step(case, actor=users["hq_admin"], step="no_such_step")
    assert "step" in err.value.message_dict
    assert not CaseStep.objects.filter(case=case, done_at__isnull=False).exists()
    services.complete_step(case, actor=users["hq_admin"], step="calmed", note="已安抚")
    services.complete_step(case, actor=users["hq_admin"], step="police_called")
    with pytest.raises(ValidationError):
        services.complete_step(case, actor=users["hq_admin"], step="calmed")  # done already
    event = AuditEvent.objects.filter(object_id=str(case.pk), action="case.step_done").latest("pk")
    assert event.changes["step"] == [None, "police_called"]


def test_closing_needs_a_summary_the_steps_done_and_for_fraud_kept_an_amount(new_case, users):
    actor = users["hq_admin"]
    case = new_case()
    with pytest.raises(ValidationError) as err:
        services.close_case(case, actor=actor, outcome="protected", summary="")
    assert {"summary", "outcome"} <= set(err.value.message_dict)
    for step in ["calmed", "police_called", "transaction_stopped", "follow_up"]:
        services.complete_step(case, actor=actor, step=step)
    with pytest.raises(ValidationError) as err:
        services.close_case(case, actor=actor, outcome="protected", summary="保住了")
    assert "amount_protected" in err.value.message_dict
    closed = services.close_case(
        case,
        actor=actor,
        outcome="protected",
        summary="保住了",
        amount_protected="5000",
        police_reference="JQ-1",
    )
    assert closed.status == "closed" and closed.amount_protected == Decimal("5000.00")
    with pytest.raises(ValidationError):
        services.complete_step(closed, actor=actor, step="follow_up")
    with pytest.raises(ValidationError):
        services.close_case(closed, actor=actor, outcome="resolved", summary="again")


def test_a_case_can_end_early_as_withdrawn_but_only_fraud_keeps_money(new_case, users):
    case = new_case(case_type="complaint")
    with pytest.raises(ValidationError) as err:
        services.close_case(
            case, actor=users["hq_admin"], outcome="protected", summary="x", amount_protected="1"
        )
    assert "outcome" in err.value.message_dict
    assert (
        services.close_case(case, actor=users["hq_admin"], outcome="withdrawn", summary="客户撤回").status
        == "closed"
    )
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_two_staff_editing_one_case_the_stale_one_is_refused(new_case, users):
    case = new_case()
    based_on = case.revision
    services.update_case(case, actor=users["cq_admin"], revision=based_on, police_reference="JQ-9")
    with pytest.raises(StaleEdit) as stale:
        services.update_case(case, actor=users["sanxia_manager"], revision=based_on, title="我的标题")
    assert "police_reference" in stale.value.fields
    assert Case.objects.get(pk=case.pk).title == "测试案件"


def test_personal_data_is_masked_in_the_audit_log(new_case, users):
    case = new_case()
    services.update_case(case, actor=users["cq_admin"], person_phone="13900001111")
    event = AuditEvent.objects.filter(object_id=str(case.pk), action="case.updated").latest("pk")
    assert event.changes["person_phone"] == ["138****5678", "139****1111"]
    opened = AuditEvent.objects.get(object_id=str(case.pk), action="case.opened")
    assert "刘先生" not in str(opened.changes) and "13812345678" not in str(opened.changes)


def test_a_viewer_and_an_outsider_cannot_open_or_change(new_case, users, unit):
    with pytest.raises(PermissionDenied):
        services.open_case(actor=users["sz_viewer"], unit=unit("SZ-GM"), case_type="fraud", title="x")
    with pytest.raises(ValidationError) as err:
        services.open_case(actor=users["cq_admin"], unit=unit("SZ-GM"), case_type="fraud", title="x")
    assert "unit" in err.value.message_dict


def test_a_fraud_case_links_instructions_in_scope_only(new_case, users):
    inst = Instruction.objects.select_related("unit").filter(unit__path__startswith="/").first()
    if inst is None:
        pytest.skip("the demo has no remittance instruction")
    case = new_case(code=inst.unit.code if inst.unit.kind == "outlet" else "CQ-SXGC")
    link = services.link_instruction(case, actor=users["hq_admin"], instruction=inst.pk)
    assert link.instruction_id == inst.pk
    with pytest.raises(ValidationError) as err:
        services.link_instruction(case, actor=users["hq_admin"], instruction=inst.pk)
    assert "instruction" in err.value.message_dict
    outsider = Instruction.objects.exclude(
        unit__path__startswith=users_scope(users["sanxia_manager"])
    ).first()
    own = new_case(actor="sanxia_manager")
    if outsider is not None:
        with pytest.raises(ValidationError) as err:
            services.link_instruction(own, actor=users["sanxia_manager"], instruction=outsider.pk)
        assert "instruction" in err.value.message_dict
    for bad in ["abc", -1, 10**30]:
        with pytest.raises(ValidationError):
            services.link_instruction(own, actor=users["sanxia_manager"], instruction=bad)
    complaint = new_case(case_type="complaint")
    with pytest.raises(ValidationError):
        services.link_instruction(complaint, actor=users["hq_admin"], instruction=inst.pk)


def users_scope(user):
    from yizhan.orgs.scoping import scope_for

    return scope_for(user).path


def test_a_proposed_rule_becomes_a_screening_rule_when_head_office_accepts(new_case, users):
    case = new_case(actor="sanxia_manager")
    proposal = services.propose_rule(
        case, actor=users["sanxia_manager"], field="purpose", term="安全账户测试"
    )
    assert proposal.state == ProposalState.PROPOSED
    with pytest.raises(ValidationError) as err:
        services.propose_rule(case, actor=users["sanxia_manager"], field="purpose", term="安全账户测试")
    assert "term" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.propose_rule(case, actor=users["sanxia_manager"], field="colour", term="x")
    assert "field" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        services.decide_proposal(proposal, actor=users["cq_admin"], accept=True)
    decided = services.decide_proposal(proposal, actor=users["hq_admin"], accept=True)
    assert decided.state == ProposalState.ACCEPTED
    assert Rule.objects.get(pk=decided.rule_id).term == "安全账户测试"
    with pytest.raises(ValidationError):
        services.decide_proposal(
            RuleProposal.objects.get(pk=proposal.pk), actor=users["hq_admin"], accept=False
        )


def test_figures_count_cases_by_type_and_amounts_protected(new_case, users, unit):
    before = services.figures(users["cq_admin"], unit("CQ-SXGC"))
    case = new_case()
    for step in ["calmed", "police_called", "transaction_stopped", "follow_up"]:
        services.complete_step(case, actor=users["hq_admin"], step=step)
    services.close_case(
        case, actor=users["hq_admin"], outcome="protected", summary="ok", amount_protected="1200"
    )
    new_case(case_type="home_service")
    after = services.figures(users["cq_admin"], unit("CQ-SXGC"))
    assert after["amount_protected"] - before["amount_protected"] == Decimal("1200.00")
    fraud = {r["case_type"]: r for r in after["by_type"]}["fraud"]
    assert fraud["closed"] == {r["case_type"]: r for r in before["by_type"]}["fraud"]["closed"] + 1
    # Out of scope: Shenzhen's viewer counts nothing in Chongqing.
    assert services.figures(users["sz_viewer"], unit("CQ-SXGC"))["opened"] == 0
