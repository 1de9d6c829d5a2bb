"""The one maker-checker mechanism (yizhan.core.approval), on a model that uses it (a message to
staff): the threshold, the maker refused, a caller's own check, the audit diff, decided once."""

import pytest
from django.core.exceptions import ValidationError

from yizhan.audit.models import AuditEvent
from yizhan.core.approval import Approval
from yizhan.notify.models import Broadcast
from yizhan.notify.services import BROADCASTS, current_template


@pytest.fixture
def pending(db, users, unit):
    return Broadcast.objects.create(unit=unit("CQ"), roles=["manager"], template=current_template("notice"),
                                    context={"text": "x"}, recipients=60, state="pending",
                                    created_by=users["cq_admin"])  # fmt: skip


def test_threshold():
    assert Approval.required(51, 50) and not Approval.required(50, 50)


def test_the_maker_is_refused_and_a_second_person_approves_once(pending, users):
    with pytest.raises(ValidationError) as err:
        BROADCASTS.approve(
            pending, actor=users["cq_admin"], to="sent", action="notify.broadcast_approved", own="自己"
        )
    assert err.value.message_dict == {"decided_by": ["自己"]}
    done = BROADCASTS.approve(pending, actor=users["hq_admin"], to="sent", action="notify.broadcast_approved")
    assert done.state == "sent" and done.decided_by == users["hq_admin"] and done.decided_at is not None
    event = AuditEvent.objects.filter(action="notify.broadcast_approved").latest("pk")
    assert event.changes == {"state": ["pending", "sent"]} and event.actor == users["hq_admin"]
    with pytest.raises(ValidationError) as err:
        BROADCASTS.reject(pending, actor=users["hq_admin"], to="rejected", action="notify.broadcast_rejected")
    assert "state" in err.value.message_dict


def test_a_callers_check_refuses_with_nothing_changed_and_a_snapshot_makes_the_diff(pending, users):
    def refuse(locked):
        raise ValidationError({"decision": "不行"})

    named = Approval(pending="pending", error_field="decision")
    with pytest.raises(ValidationError):
        named.approve(
            pending, actor=users["hq_admin"], to="sent", action="notify.broadcast_approved", check=refuse
        )
    pending.refresh_from_db()
    assert pending.state == "pending" and pending.decided_by is None
    named.approve(pending, actor=users["hq_admin"], to="sent", action="notify.broadcast_approved",
                  snapshot=lambda b: {"state": b.state, "decided_by": b.decided_by_id})  # fmt: skip
    event = AuditEvent.objects.filter(action="notify.broadcast_approved").latest("pk")
    assert event.changes["decided_by"] == [None, users["hq_admin"].pk]
    with pytest.raises(ValidationError) as err:
        named.approve(pending, actor=users["hq_admin"], to="sent", action="notify.broadcast_approved")
    assert "decision" in err.value.message_dict
