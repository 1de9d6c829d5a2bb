"""Attendance: tickets scanned at the door (a re-uploaded scan counts once), marked afterwards from
the paper sheet, walk-ins and volunteers; messages to participants filtered by attendance."""

import pytest
from django.core.exceptions import ValidationError

from yizhan.events import services
from yizhan.events.models import Registration, Scan, State
from yizhan.notify.models import Message

pytestmark = pytest.mark.django_db


def test_a_scan_uploaded_twice_counts_once(make_event, users):
    _event, (occ,) = make_event()
    reg = services.sign_up(occ, name="甲", party=2)
    first = services.scan_ticket(
        occ, actor=users["sanxia_manager"], code=f"YZE:{reg.code}", nonce="scan-0001"
    )
    again = services.scan_ticket(
        occ, actor=users["sanxia_manager"], code=f"YZE:{reg.code}", nonce="scan-0001"
    )
    assert not first.duplicate and again.duplicate and again.registration.pk == reg.pk
    assert Scan.objects.filter(registration=reg).count() == 1
    assert Registration.objects.get(pk=reg.pk).state == State.ATTENDED


@pytest.mark.parametrize("case", ["wrong", "other_event", "used", "waiting", "garbage"])
def test_bad_tickets_are_refused_naming_the_code(make_event, users, case):
    _event, (occ,) = make_event(capacity=1)
    _other_event, (other,) = make_event(capacity=5)
    reg = services.sign_up(occ, name="甲")
    code = {"wrong": "ZZZZ2222", "garbage": "!!", "waiting": services.sign_up(occ, name="乙").code,
            "other_event": services.sign_up(other, name="丙").code, "used": reg.code}[case]  # fmt: skip
    if case == "used":
        services.scan_ticket(occ, actor=users["cq_admin"], code=code, nonce="first-scan")
    before = Scan.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.scan_ticket(occ, actor=users["cq_admin"], code=code, nonce="second-scan")
    assert "code" in exc.value.message_dict
    assert Scan.objects.count() == before


def test_a_scan_without_a_nonce_is_refused(make_event, users):
    _event, (occ,) = make_event()
    reg = services.sign_up(occ, name="甲")
    with pytest.raises(ValidationError) as exc:
        services.scan_ticket(occ, actor=users["cq_admin"], code=reg.code, nonce="")
    assert "nonce" in exc.value.message_dict


def test_paper_attendance_marks_the_ticked_and_leaves_scans_alone(make_event, users):
    _event, (occ,) = make_event(capacity=5)
    a, b, c = (services.sign_up(occ, name=n) for n in "甲乙丙")
    services.scan_ticket(occ, actor=users["cq_admin"], code=c.code, nonce="door-scan-1")
    occ.refresh_from_db()
    changed = services.mark_attendance(
        occ, actor=users["sanxia_manager"], attended=[a.pk], shown=[a.pk, b.pk, c.pk], revision=occ.revision
    )
    assert changed == {a.code: ["confirmed", "attended"], b.code: ["confirmed", "no_show"]}
    states = dict(Registration.objects.filter(occurrence=occ).values_list("code", "state"))
    assert states == {a.code: "attended", b.code: "no_show", c.code: "attended"}


def test_two_staff_marking_from_one_sheet_the_second_is_refused_as_stale(make_event, users):
    _event, (occ,) = make_event(capacity=5)
    a, b = services.sign_up(occ, name="甲"), services.sign_up(occ, name="乙")
    shown_at = occ.revision
    services.mark_attendance(
        occ, actor=users["cq_admin"], attended=[a.pk], shown=[a.pk, b.pk], revision=shown_at
    )
    with pytest.raises(ValidationError):
        services.mark_attendance(
            occ, actor=users["sanxia_manager"], attended=[b.pk], shown=[a.pk, b.pk], revision=shown_at
        )
    assert Registration.objects.get(pk=b.pk).state == "no_show"


def test_bad_attendance_input(make_event, users):
    _event, (occ,) = make_event()
    _e2, (other,) = make_event()
    stranger = services.sign_up(other, name="外人")
    for attended, shown, field in (
        ([1], [], "attended"),
        (["x"], ["x"], "attended"),
        ([], [stranger.pk], "shown"),
    ):
        with pytest.raises(ValidationError) as exc:
            services.mark_attendance(occ, actor=users["cq_admin"], attended=attended, shown=shown)
        assert field in exc.value.message_dict


def test_walk_ins_and_volunteers_count_with_their_group_and_hours(make_event, users):
    _event, (occ,) = make_event()
    services.record_walk_in(occ, actor=users["cq_admin"], group="courier", party=3, affiliation="顺丰速运")
    services.record_walk_in(occ, actor=users["cq_admin"], name="员工", staff=True, hours="4.5")
    assert services.counts([occ.pk])[occ.pk] == {"walk_in": 4}
    for bad, field in (({"group": "pirates"}, "group"), ({"party": 0}, "party"), ({"hours": "lots"}, "hours"),
                       ({"hours": "30"}, "hours"), ({"affiliation": "x" * 81}, "affiliation")):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            services.record_walk_in(occ, actor=users["cq_admin"], **bad)
        assert field in exc.value.message_dict


def test_messages_go_only_to_the_filtered_states_and_only_with_consent(make_event, users):
    event, (occ,) = make_event(capacity=5)
    came = services.sign_up(occ, name="甲", phone="13900000001", consent=True)
    missed = services.sign_up(occ, name="乙", phone="13900000002", consent=True)
    services.sign_up(occ, name="丙", phone="13900000003")  # attended, but gave no consent
    occ.refresh_from_db()
    regs = list(Registration.objects.filter(occurrence=occ))
    services.mark_attendance(occ, actor=users["cq_admin"], attended=[came.pk, regs[2].pk],
                             shown=[r.pk for r in regs], revision=occ.revision)  # fmt: skip
    log = services.message_participants(
        event, actor=users["cq_admin"], text="感谢参加！", states=["attended"]
    )
    assert (log.recipients, log.queued, log.refused) == (2, 1, 1)
    sent = Message.objects.filter(template__key="event-message").exclude(state="refused")
    assert list(sent.values_list("address", flat=True)) == ["13900000001"]
    assert not Message.objects.filter(address=missed.phone, template__key="event-message").exists()
    with pytest.raises(ValidationError) as exc:
        services.message_participants(event, actor=users["cq_admin"], text="x", states=["everyone"])
    assert "states" in exc.value.message_dict
