"""Working the list: the claim lock, callbacks, decisions, maker-checker, the export for core
banking, progress up the tree, and the audit trail of every step."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.remittance import services
from yizhan.remittance.models import CLAIM_TTL, Callback, Instruction, State


def fresh(inst):
    return Instruction.objects.get(pk=inst.pk)


def confirm(inst, user):
    services.claim(inst, actor=user)
    services.log_callback(inst, actor=user, outcome=Callback.Outcome.CONFIRMED, dialled_on_file=True)


# ------------------------------------------------------------ the claim lock


def test_a_claimed_item_cannot_be_claimed_by_someone_else(green, users):
    _batch, by_id = green
    inst = by_id["G-001"]
    services.claim(inst, actor=users["sm_manager"])
    with pytest.raises(ValidationError) as exc:
        services.claim(inst, actor=users["hq_admin"])
    assert "sm_manager" in exc.value.message_dict["claimed_by"][0]
    assert fresh(inst).claimed_by == users["sm_manager"]


def test_the_claim_is_a_conditional_update_not_a_read_then_write(green, users):
    """Both load the item while it is free; the second UPDATE finds it taken and changes nothing."""
    _batch, by_id = green
    seen_by_a = Instruction.objects.get(pk=by_id["G-001"].pk)
    seen_by_b = Instruction.objects.get(pk=by_id["G-001"].pk)
    assert seen_by_a.claimed_by_id is None and seen_by_b.claimed_by_id is None
    services.claim(seen_by_b, actor=users["hq_admin"])
    with pytest.raises(ValidationError):
        services.claim(seen_by_a, actor=users["sm_manager"])
    assert fresh(seen_by_a).claimed_by == users["hq_admin"]


def test_a_lapsed_claim_can_be_taken_over(green, users):
    _batch, by_id = green
    inst = by_id["G-001"]
    services.claim(inst, actor=users["sm_manager"])
    Instruction.objects.filter(pk=inst.pk).update(
        claimed_at=timezone.now() - CLAIM_TTL - datetime.timedelta(minutes=1)
    )
    services.claim(inst, actor=users["hq_admin"])
    assert fresh(inst).claimed_by == users["hq_admin"]
    event = AuditEvent.objects.filter(action="remittance.instruction.claimed", object_id=str(inst.pk)).latest(
        "pk"
    )
    assert event.changes == {"claimed_by": [None, "hq_admin"]}


def test_release_by_the_holder_or_an_admin_only(green, users):
    _batch, by_id = green
    inst = by_id["G-005"]
    services.claim(inst, actor=users["sanxia_manager"])
    with pytest.raises(PermissionDenied):
        services.release(inst, actor=users["sm_manager"])  # a manager, not the holder
    services.release(inst, actor=users["cq_admin"])
    assert fresh(inst).claimed_by is None


def test_a_viewer_cannot_claim(green, users):
    _batch, by_id = green
    with pytest.raises(PermissionDenied):
        services.claim(by_id["G-008"], actor=users["sz_viewer"])


# ------------------------------------------------------------ callbacks


def test_callback_needs_the_claim_and_is_logged_masked(green, users):
    _batch, by_id = green
    inst = by_id["G-001"]
    worker = users["sm_manager"]
    with pytest.raises(ValidationError) as exc:
        services.log_callback(inst, actor=worker, outcome="confirmed", dialled_on_file=True)
    assert "claimed_by" in exc.value.message_dict
    services.claim(inst, actor=worker)
    callback = services.log_callback(
        inst, actor=worker, outcome="confirmed", dialled_on_file=True, note="客户确认"
    )
    assert callback.phone == "13812345678"  # the payer's number by default
    assert callback.phone_masked == "138****5678"
    assert callback.caller_name == "sm_manager"
    event = AuditEvent.objects.filter(action="remittance.callback.logged").latest("pk")
    assert event.changes["phone"] == [None, "138****5678"]
    assert "13812345678" not in str(event.changes)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({"outcome": "call_back"}, "call_back_at"),
        ({"outcome": "call_back", "call_back_at": "2020-01-01 10:00"}, "call_back_at"),
        ({"outcome": "call_back", "call_back_at": "tomorrow"}, "call_back_at"),
        ({"outcome": "confirmed", "phone": "12"}, "phone"),
        ({"outcome": "confirmed", "note": "x" * 501}, "note"),
    ],
)
def test_bad_callbacks_name_the_field(green, users, data, field):
    _batch, by_id = green
    inst = by_id["G-001"]
    services.claim(inst, actor=users["sm_manager"])
    with pytest.raises(ValidationError) as exc:
        services.log_callback(inst, actor=users["sm_manager"], **data)
    assert field in exc.value.message_dict
    assert not Callback.objects.filter(instruction=inst).exists()


def test_call_back_later_keeps_the_time(green, users):
    _batch, by_id = green
    inst = by_id["G-001"]
    services.claim(inst, actor=users["sm_manager"])
    later = timezone.now() + datetime.timedelta(hours=2)
    callback = services.log_callback(
        inst, actor=users["sm_manager"], outcome="call_back", call_back_at=later, dialled_on_file=True
    )
    assert callback.call_back_at == later


# ------------------------------------------------------------ decisions and maker-checker


def test_process_now_needs_a_confirmed_call(green, users):
    _batch, by_id = green
    inst, worker = by_id["G-005"], users["sanxia_manager"]
    services.claim(inst, actor=worker)
    services.log_callback(inst, actor=worker, outcome="unreachable", dialled_on_file=True)
    with pytest.raises(ValidationError) as exc:
        services.decide(inst, actor=worker, decision="process_now")
    assert "decision" in exc.value.message_dict
    services.log_callback(inst, actor=worker, outcome="confirmed", dialled_on_file=True)
    services.decide(inst, actor=worker, decision="process_now")
    inst = fresh(inst)
    assert inst.state == State.DECIDED  # 30,000 is below the 50,000 threshold: no second person needed
    assert inst.claimed_by is None and inst.decided_by == worker


def test_deciding_needs_the_claim(green, users):
    _batch, by_id = green
    with pytest.raises(ValidationError) as exc:
        services.decide(by_id["G-005"], actor=users["sanxia_manager"], decision="leave_scheduled")
    assert "claimed_by" in exc.value.message_dict


def test_bad_decision_names_the_field(green, users):
    _batch, by_id = green
    services.claim(by_id["G-005"], actor=users["sanxia_manager"])
    with pytest.raises(ValidationError) as exc:
        services.decide(by_id["G-005"], actor=users["sanxia_manager"], decision="pay_twice")
    assert "decision" in exc.value.message_dict


def test_above_the_threshold_a_second_person_approves_and_the_maker_cannot(green, users):
    _batch, by_id = green
    inst, maker, checker = by_id["G-001"], users["sm_manager"], users["hq_admin"]
    confirm(inst, maker)
    services.decide(inst, actor=maker, decision="process_now", note="客户确认")
    assert fresh(inst).state == State.PENDING  # 200,000 > 50,000
    with pytest.raises(ValidationError) as exc:
        services.approve(inst, actor=maker)
    assert "approved_by" in exc.value.message_dict
    assert fresh(inst).state == State.PENDING
    services.approve(inst, actor=checker)
    inst = fresh(inst)
    assert (inst.state, inst.decided_by, inst.approved_by) == (State.DECIDED, maker, checker)
    actions = list(
        AuditEvent.objects.filter(object_type="remittance.instruction", object_id=str(inst.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "remittance.instruction.claimed",
        "remittance.callback.logged",
        "remittance.instruction.decided",
        "remittance.instruction.approved",
    ]


def test_the_threshold_is_configurable(green, users):
    batch, by_id = green
    services.update_batch(batch, actor=users["hq_admin"], approval_threshold="0")
    inst, worker = by_id["G-005"], users["sanxia_manager"]
    confirm(inst, worker)
    services.decide(inst, actor=worker, decision="process_now")
    assert fresh(inst).state == State.PENDING


def test_leave_as_scheduled_needs_no_approval(green, users):
    _batch, by_id = green
    inst = by_id["G-001"]
    services.claim(inst, actor=users["sm_manager"])
    services.decide(inst, actor=users["sm_manager"], decision="leave_scheduled")
    assert fresh(inst).state == State.DECIDED


def test_a_rejected_decision_goes_back_to_the_list(green, users):
    _batch, by_id = green
    inst = by_id["G-001"]
    confirm(inst, users["sm_manager"])
    services.decide(inst, actor=users["sm_manager"], decision="process_now")
    services.reject(inst, actor=users["hq_admin"], note="金额不符")
    inst = fresh(inst)
    assert (inst.state, inst.decision, inst.decided_by) == (State.OPEN, "", None)
    with pytest.raises(ValidationError):
        services.approve(inst, actor=users["hq_admin"])


def test_delete_as_duplicate_keeps_one_of_the_group(green, users):
    _batch, by_id = green
    first, second, worker = by_id["G-001"], by_id["G-002"], users["sm_manager"]
    services.claim(second, actor=worker)
    services.decide(second, actor=worker, decision="delete_duplicate")  # pending: 200,000
    services.approve(second, actor=users["hq_admin"])
    services.claim(first, actor=worker)
    with pytest.raises(ValidationError) as exc:
        services.decide(first, actor=worker, decision="delete_duplicate")
    assert "one must stay" in exc.value.message_dict["decision"][0]


def test_delete_as_duplicate_needs_a_group(green, users):
    _batch, by_id = green
    services.claim(by_id["G-008"], actor=users["hq_admin"])
    with pytest.raises(ValidationError):
        services.decide(by_id["G-008"], actor=users["hq_admin"], decision="delete_duplicate")


def test_one_instruction_id_is_never_processed_twice(hq_batch, users):
    from .conftest import ROWS, csv_bytes

    services.run_import(hq_batch, actor=None, filename="a.csv", data=csv_bytes([ROWS[4]]))
    services.run_import(hq_batch, actor=None, filename="b.csv", data=csv_bytes([ROWS[4], ROWS[8]]))
    first, copy = Instruction.objects.filter(batch=hq_batch, instruction_id="G-005").order_by("pk")
    worker = users["sanxia_manager"]
    confirm(first, worker)
    services.decide(first, actor=worker, decision="process_now")
    confirm(copy, worker)
    with pytest.raises(ValidationError) as exc:
        services.decide(copy, actor=worker, decision="process_now")
    assert "decision" in exc.value.message_dict
    services.decide(copy, actor=worker, decision="delete_duplicate")
    assert fresh(copy).state == State.DECIDED


def test_reopen_is_for_admins_and_only_before_export(green, users):
    batch, by_id = green
    inst = by_id["G-005"]
    services.claim(inst, actor=users["sanxia_manager"])
    services.decide(inst, actor=users["sanxia_manager"], decision="leave_scheduled")
    with pytest.raises(PermissionDenied):
        services.reopen(inst, actor=users["sanxia_manager"], note="错了")
    with pytest.raises(ValidationError) as exc:
        services.reopen(inst, actor=users["cq_admin"], note="")
    assert "note" in exc.value.message_dict
    services.reopen(inst, actor=users["cq_admin"], note="客户又来电")
    assert fresh(inst).state == State.OPEN
    services.claim(inst, actor=users["sanxia_manager"])
    services.decide(inst, actor=users["sanxia_manager"], decision="leave_scheduled")
    services.export_decisions(batch, actor=users["cq_admin"], scope=users["cq_admin"])
    with pytest.raises(ValidationError):
        services.reopen(inst, actor=users["cq_admin"], note="太晚了")


# ------------------------------------------------------------ export for core banking


def read_export(content: bytes):
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_export_format_and_scope(green, users):
    batch, by_id = green
    sanming, cq = users["sm_manager"], users["sanxia_manager"]
    confirm(by_id["G-001"], sanming)
    services.decide(by_id["G-001"], actor=sanming, decision="process_now", note='=HYPERLINK("http://x")')
    services.approve(by_id["G-001"], actor=users["hq_admin"])
    services.claim(by_id["G-002"], actor=sanming)
    services.decide(by_id["G-002"], actor=sanming, decision="delete_duplicate")  # pending: not exported yet
    services.claim(by_id["G-005"], actor=cq)
    services.decide(by_id["G-005"], actor=cq, decision="leave_scheduled")

    name, content, count = services.export_decisions(batch, actor=users["hq_admin"], scope=users["hq_admin"])
    assert name.startswith(f"remittance-decisions-{batch.pk}-") and name.endswith(".csv")
    rows = read_export(content)
    assert rows[0] == services.EXPORT_HEADERS
    body = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert set(body) == {"G-001", "G-005"} and count == 2
    g1 = body["G-001"]
    assert (g1["decision"], g1["amount"], g1["currency"], g1["branch_code"]) == (
        "PROCESS_NOW",
        "200000.00",
        "CNY",
        "FJ-SM-LD",
    )
    assert (g1["decided_by"], g1["approved_by"]) == ("sm_manager", "hq_admin")
    assert g1["decided_at"].endswith("+08:00")
    assert g1["note"].startswith("'=")  # formula injection guarded
    assert body["G-005"]["decision"] == "KEEP_SCHEDULED"
    assert fresh(by_id["G-001"]).exported_at is not None

    # A city branch exports only its own subtree.
    _name, content, _count = services.export_decisions(batch, actor=sanming, scope=sanming)
    assert [r[0] for r in read_export(content)[1:]] == ["G-001"]
    event = AuditEvent.objects.filter(action="remittance.batch.exported").latest("pk")
    assert event.changes["rows"] == [None, 1] and event.actor == sanming


def test_export_amounts_are_exact(hq_batch, users):
    from .conftest import ROWS, csv_bytes

    services.run_import(hq_batch, actor=None, filename="a.csv", data=csv_bytes([ROWS[8]]))
    inst = Instruction.objects.get(batch=hq_batch)
    services.claim(inst, actor=users["sd_admin"])
    services.decide(inst, actor=users["sd_admin"], decision="leave_scheduled")
    rows = read_export(
        services.export_decisions(hq_batch, actor=users["sd_admin"], scope=users["sd_admin"])[1]
    )
    assert rows[1][2] == "12345.67" and Decimal(rows[1][2]) == Decimal("12345.67")


def test_a_viewer_cannot_export(green, users):
    batch, _ = green
    with pytest.raises(PermissionDenied):
        services.export_decisions(batch, actor=users["sz_viewer"], scope=users["sz_viewer"])


# ------------------------------------------------------------ progress up the tree


def test_progress_rolls_up_what_is_still_open(green, users, unit):
    batch, by_id = green
    confirm(by_id["G-001"], users["sm_manager"])
    services.decide(by_id["G-001"], actor=users["sm_manager"], decision="process_now")
    services.claim(by_id["G-010"], actor=users["sm_manager"])
    total, rows = services.progress(batch, users["hq_admin"], unit("HQ"))
    by_code = {r.unit.code: r for r in rows}
    # flagged: G-001/002/010 in Fujian, G-005/006 in Chongqing, G-008 in Shenzhen
    c = total.counts
    assert (c.total, c.unclaimed, c.calling, c.pending, c.decided) == (6, 4, 1, 1, 0)
    fj = by_code["FJ"].counts
    assert (fj.total, fj.unclaimed, fj.calling, fj.pending, fj.unfinished) == (3, 1, 1, 1, 3)
    assert by_code["CQ"].counts.unfinished == 2 and by_code["SZ"].counts.unfinished == 1
    assert "SD" not in by_code  # nothing flagged in Shandong
    total, rows = services.progress(batch, users["sm_manager"], unit("FJ-SM"))
    assert {r.unit.code for r in rows} == {"FJ-SM-LD", "FJ-SM-QL"} and total.counts.total == 3


def test_progress_is_scoped(green, users, unit):
    batch, _ = green
    total, rows = services.progress(batch, users["sanxia_manager"], unit("CQ"))
    assert total.counts.total == 2  # only 三峡广场's two, though the CQ subtree is asked for


def test_the_proposed_keep_follows_the_decisions(green, users):
    _batch, by_id = green
    first, second, worker = by_id["G-001"], by_id["G-002"], users["sm_manager"]
    group = first.dup_group
    assert group.keep_id == first.pk
    confirm(second, worker)
    services.decide(second, actor=worker, decision="process_now")  # the customer confirmed the later one
    group.refresh_from_db()
    assert group.keep_id == second.pk
    services.reject(second, actor=users["hq_admin"], note="先处理早的一笔")
    group.refresh_from_db()
    assert group.keep_id == first.pk
