"""Sign-up without an account, capacity, the waiting list with expiring offers, and bad input."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.events import services
from yizhan.events.models import Occurrence, Registration, State
from yizhan.notify.models import Consent, Message

pytestmark = pytest.mark.django_db


def test_exactly_the_capacity_is_confirmed_and_the_rest_wait_in_order(make_event):
    _event, (occ,) = make_event(capacity=3)
    regs = [services.sign_up(occ, name=f"访客{i}", party=1) for i in range(5)]
    assert [r.state for r in regs] == ["confirmed"] * 3 + ["waitlisted"] * 2
    occ.refresh_from_db()
    assert occ.taken == 3
    assert (
        AuditEvent.objects.filter(action="events.signed_up", object_id__in=[str(r.pk) for r in regs]).count()
        == 5
    )


def test_a_party_counts_its_people_and_may_not_overflow(make_event):
    _event, (occ,) = make_event(capacity=3)
    assert services.sign_up(occ, name="一家", party=2).state == "confirmed"
    assert services.sign_up(occ, name="三口", party=2).state == "waitlisted"  # 1 left, 2 asked
    # Someone behind them who would fit still waits: the list is served in order.
    assert services.sign_up(occ, name="一个", party=1).state == "waitlisted"


def test_a_freed_place_is_offered_in_order_expires_and_moves_on(make_event):
    event, (occ,) = make_event(capacity=1, offer_hours=2)
    first = services.sign_up(occ, name="甲")
    second = services.sign_up(occ, name="乙")
    third = services.sign_up(occ, name="丙")
    services.cancel_registration(first)
    second.refresh_from_db()
    assert second.state == "offered" and second.offered_until > timezone.now()
    occ.refresh_from_db()
    assert occ.taken == 1  # held for the offer
    # Nothing expires before its time.
    assert services.expire_offers() == 0
    later = timezone.now() + datetime.timedelta(hours=2, minutes=1)
    assert services.expire_offers(now=later) == 1
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.state == "expired" and third.state == "offered"
    with pytest.raises(ValidationError) as exc:
        services.accept_offer(second)
    assert "state" in exc.value.message_dict
    services.accept_offer(third)
    third.refresh_from_db()
    assert third.state == "confirmed"
    occ.refresh_from_db()
    assert occ.taken == 1


def test_an_expired_offer_cannot_be_accepted_late(make_event):
    _event, (occ,) = make_event(capacity=1, offer_hours=1)
    first, second = services.sign_up(occ, name="甲"), services.sign_up(occ, name="乙")
    services.cancel_registration(first)
    second.refresh_from_db()
    with pytest.raises(ValidationError):
        services.accept_offer(second, now=timezone.now() + datetime.timedelta(hours=2))


def test_more_places_are_offered_to_the_waiting_list(make_event, users):
    _event, (occ,) = make_event(capacity=1)
    services.sign_up(occ, name="甲")
    waiting = services.sign_up(occ, name="乙")
    services.update_occurrence(occ, actor=users["cq_admin"], capacity=2, revision=occ.revision)
    waiting.refresh_from_db()
    assert waiting.state == "offered"


def test_consent_is_recorded_through_notify_and_an_offer_is_sent_only_with_it(make_event):
    _event, (occ,) = make_event(capacity=1)
    first = services.sign_up(occ, name="甲", phone="13800000001")
    services.sign_up(occ, name="乙", phone="13800000002", consent=True)
    services.sign_up(occ, name="丙", phone="13800000003")
    assert Consent.objects.filter(address="13800000002", topic="events").exists()
    assert not Consent.objects.filter(address="13800000003").exists()
    services.cancel_registration(first)
    msg = Message.objects.get(address="13800000002")
    assert msg.template.key == "event-offer" and msg.state in ("queued", "held")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 41}, "name"),
        ({"name": "甲", "party": "9"}, "party"),
        ({"name": "甲", "party": "-1"}, "party"),
        ({"name": "甲", "party": "two"}, "party"),
        ({"name": "甲", "phone": "12345"}, "phone"),
        ({"name": "甲", "phone": "not a phone"}, "phone"),
        ({"name": "甲", "consent": "1"}, "phone"),  # a reminder needs a number
    ],
)
def test_bad_sign_up_input_names_the_field_and_writes_nothing(make_event, data, field):
    _event, (occ,) = make_event()
    with pytest.raises(ValidationError) as exc:
        services.sign_up(occ, **data)
    assert field in exc.value.message_dict
    assert not Registration.objects.filter(occurrence=occ).exists()


def test_the_same_phone_twice_is_refused(make_event):
    _event, (occ,) = make_event()
    services.sign_up(occ, name="甲", phone="138 0000 0001")
    with pytest.raises(ValidationError) as exc:
        services.sign_up(occ, name="乙", phone="+86 13800000001")
    assert "phone" in exc.value.message_dict
    assert Registration.objects.filter(occurrence=occ).count() == 1


def test_after_the_window_or_cancelled_is_refused(make_event, users):
    event, (occ,) = make_event()
    event.signup_closes = timezone.now() - datetime.timedelta(minutes=1)
    event.save()
    with pytest.raises(ValidationError) as exc:
        services.sign_up(Occurrence.objects.get(pk=occ.pk), name="甲")
    assert "occurrence" in exc.value.message_dict
    event.signup_closes = None
    event.save()
    services.update_occurrence(occ, actor=users["cq_admin"], cancelled=True, revision=occ.revision)
    with pytest.raises(ValidationError) as exc:
        services.sign_up(Occurrence.objects.get(pk=occ.pk), name="甲")
    assert "occurrence" in exc.value.message_dict
    assert not Registration.objects.filter(occurrence=occ).exists()


def test_an_invitation_only_event_needs_its_link(make_event):
    event, (occ,) = make_event(public=False)
    # Without its link the occurrence is as good as missing (the pages and API answer 404).
    with pytest.raises(Occurrence.DoesNotExist):
        services.sign_up(occ, name="甲", invite="guessed")
    assert not occ.registrations.exists()
    assert services.sign_up(occ, name="甲", invite=event.invite_token).state == "confirmed"


def test_states_move_only_along_the_allowed_transitions(make_event):
    _event, (occ,) = make_event(capacity=1)
    reg = services.sign_up(occ, name="甲")
    services.cancel_registration(reg)
    with pytest.raises(ValidationError) as exc:
        services.cancel_registration(reg)
    assert "state" in exc.value.message_dict
    assert Registration.objects.get(pk=reg.pk).state == State.CANCELLED


def test_a_sign_up_costs_a_fixed_handful_of_statements(make_event):
    """A ratchet on the rush's hot path: one locked read, (while places last) the waiting-list
    check and the update of `taken`, the insert and its audit event; nothing per sign-up else."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _event, (occ,) = make_event(capacity=1)

    def statements(**data) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            services.sign_up(occ.pk, **data)
        return [q["sql"].split()[0] for q in queries if q["sql"].split()[0] not in ("SAVEPOINT", "RELEASE")]

    assert statements(name="甲", phone="13900000001") == ["SELECT", "SELECT", "UPDATE", "INSERT", "INSERT"]
    assert statements(name="乙", phone="13900000002") == ["SELECT", "INSERT", "INSERT"]  # full: it waits
    with pytest.raises(ValidationError) as exc:
        services.sign_up(occ.pk, name="甲又来", phone="13900000001")
    assert "phone" in exc.value.message_dict
    assert occ.registrations.count() == 2
