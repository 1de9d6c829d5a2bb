"""Problem reports, confirmations and the queue: deadlines across a holiday, transitions, the
facility state set on resolving, audit, masking, photos and bad input."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yizhan.audit.models import AuditEvent
from yizhan.stations.models import StationFacility
from yizhan.visits import services
from yizhan.visits.models import Feedback, FeedbackStatus
from yizhan.visits.tests.conftest import JPEG_HEAD, NOT_AN_IMAGE, PNG

pytestmark = pytest.mark.django_db
SH = datetime.timezone(datetime.timedelta(hours=8))


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=SH)


# --- deadlines -------------------------------------------------------------------------------------


def test_deadline_is_two_working_days_across_the_national_day_holiday(station):
    # 2025: 1–8 October off; Saturday 11 October a make-up workday.
    item = services.submit_feedback(station("CQ-SXGC"), kind="wrong_hours", now=at("2025-09-30", 16))
    assert item.due_on == datetime.date(2025, 10, 10)
    assert not item.is_overdue(datetime.date(2025, 10, 8))
    assert not item.is_overdue(datetime.date(2025, 10, 10))
    assert item.is_overdue(datetime.date(2025, 10, 11))


def test_deadline_counts_a_make_up_saturday_as_a_working_day(station):
    # Thursday 9 October 2025 + 2 working days: Friday 10th, then the make-up Saturday 11th.
    item = services.submit_feedback(station("CQ-SXGC"), kind="wrong_hours", now=at("2025-10-09"))
    assert item.due_on == datetime.date(2025, 10, 11)


def test_deadline_on_an_ordinary_friday_skips_the_weekend(station):
    item = services.submit_feedback(station("CQ-SXGC"), kind="suggestion", text="雨伞", now=at("2025-11-14"))
    assert item.due_on == datetime.date(2025, 11, 18)


def test_overdue_items_are_queryable_and_closed_ones_never_are(station, users):
    s = station("CQ-SXGC")
    old = services.submit_feedback(s, kind="wrong_hours", now=at("2025-09-30"))
    assert Feedback.objects.overdue(datetime.date(2025, 10, 13)).filter(pk=old.pk).exists()
    services.acknowledge_feedback(old, actor=users["sanxia_manager"])
    assert Feedback.objects.overdue(datetime.date(2025, 10, 13)).filter(pk=old.pk).exists()
    services.resolve_feedback(old, actor=users["sanxia_manager"])
    assert not Feedback.objects.overdue(datetime.date(2025, 10, 13)).filter(pk=old.pk).exists()


# --- transitions -----------------------------------------------------------------------------------


def test_queue_transitions_and_their_audit_trail(station, users):
    actor = users["sanxia_manager"]
    item = services.submit_feedback(station("CQ-SXGC"), kind="closed_when_open", text="周六关门")
    with pytest.raises(ValidationError) as exc:
        services.resolve_feedback(item, actor=actor)  # new cannot jump to resolved
    assert "status" in exc.value.message_dict
    item = services.acknowledge_feedback(item, actor=actor, note="核实中")
    assert item.status == FeedbackStatus.ACKNOWLEDGED and item.acknowledged_at and item.handled_by == actor
    with pytest.raises(ValidationError):
        services.acknowledge_feedback(item, actor=actor)
    item = services.resolve_feedback(item, actor=actor, note="已调整营业时间")
    assert item.status == FeedbackStatus.RESOLVED and item.closed_at
    for verb in (services.acknowledge_feedback, services.resolve_feedback, services.reject_feedback):
        with pytest.raises(ValidationError):
            verb(item, actor=actor, note="again")
    events = AuditEvent.objects.filter(object_type="visits.feedback", object_id=str(item.pk)).order_by("pk")
    assert [e.action for e in events] == ["feedback.received", "feedback.acknowledged", "feedback.resolved"]
    assert events[1].changes["status"] == ["new", "acknowledged"]
    assert events[2].changes["status"] == ["acknowledged", "resolved"] and events[2].actor == actor


def test_rejecting_needs_a_reason(station, users):
    actor = users["sanxia_manager"]
    item = services.acknowledge_feedback(
        services.submit_feedback(station("CQ-SXGC"), kind="suggestion", text="加微信"), actor=actor
    )
    with pytest.raises(ValidationError) as exc:
        services.reject_feedback(item, actor=actor, note="  ")
    assert "note" in exc.value.message_dict
    assert services.reject_feedback(item, actor=actor, note="广告").status == FeedbackStatus.REJECTED


@pytest.mark.parametrize(
    ("outcome", "state", "out_of_order"),
    [("repaired", "yes", False), ("out_of_order", "yes", True), ("removed", "no", False)],
)
def test_resolving_a_broken_facility_sets_its_state_through_the_station_service(
    station, users, outcome, state, out_of_order
):
    s = station("CQ-SXGC")
    actor = users["sanxia_manager"]
    item = services.submit_feedback(s, kind="facility_broken", facility="wifi", text="连不上")
    services.acknowledge_feedback(item, actor=actor)
    services.resolve_feedback(item, actor=actor, facility_outcome=outcome)
    row = StationFacility.objects.get(station=s, facility__code="wifi")
    assert (row.state, row.out_of_order) == (state, out_of_order)
    if out_of_order:
        assert row.out_of_order_since == timezone.localdate()
    event = AuditEvent.objects.filter(action="station.facility_set", object_id=str(s.pk)).latest("pk")
    assert event.actor == actor and any(key.startswith("wifi.") for key in event.changes)


def test_resolving_a_broken_facility_report_without_a_facility_can_name_it(station, users):
    s = station("CQ-SXGC")
    actor = users["sanxia_manager"]
    item = services.submit_feedback(s, kind="facility_broken", text="那个机器坏了")
    services.acknowledge_feedback(item, actor=actor)
    with pytest.raises(ValidationError) as exc:
        services.resolve_feedback(item, actor=actor, facility_outcome="repaired")
    assert "facility" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.resolve_feedback(item, actor=actor, facility="warp_drive")
    assert "facility" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.resolve_feedback(item, actor=actor, facility="note_checker", facility_outcome="exploded")
    assert "facility_outcome" in exc.value.message_dict
    services.resolve_feedback(item, actor=actor, facility="note_checker", facility_outcome="out_of_order")
    assert StationFacility.objects.get(station=s, facility__code="note_checker").out_of_order


def test_a_facility_outcome_only_goes_with_a_broken_facility(station, users):
    actor = users["sanxia_manager"]
    item = services.acknowledge_feedback(
        services.submit_feedback(station("CQ-SXGC"), kind="praise", text="谢谢"), actor=actor
    )
    with pytest.raises(ValidationError) as exc:
        services.resolve_feedback(item, actor=actor, facility_outcome="repaired")
    assert "facility_outcome" in exc.value.message_dict


# --- public pages and the API ----------------------------------------------------------------------


def test_report_page_stores_a_report_and_thanks(client, station):
    before = Feedback.objects.count()
    response = client.post(
        "/s/CQ-SXGC/report",
        {"kind": "facility_broken", "facility": "drinking_water", "text": "没热水", "contact": "13812345678"},
    )
    assert response.status_code == 303 and response["Location"].endswith("/s/CQ-SXGC/report/thanks")
    item = Feedback.objects.latest("pk")
    assert Feedback.objects.count() == before + 1
    assert (item.station.code, item.kind, item.facility.code, item.contact) == (
        "CQ-SXGC",
        "facility_broken",
        "drinking_water",
        "13812345678",
    )
    received = AuditEvent.objects.get(action="feedback.received", object_id=str(item.pk))
    assert received.changes["contact"] == [None, "138****5678"]  # the audit log never holds it whole
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "complaint_about_weather"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"kind": "suggestion", "text": ""}, "text"),
        ({"kind": "suggestion", "text": "x" * 100_000}, "text"),
        ({"kind": "facility_broken", "facility": "flux_capacitor"}, "facility"),
        ({"kind": "praise", "text": "好", "contact": "call me maybe"}, "contact"),
        ({"kind": "praise", "text": "好", "contact": "a@b"}, "contact"),
        ({"kind": "praise", "text": "nul\x00byte"}, "text"),
    ],
)
def test_report_bad_input_is_named_on_the_page_and_in_the_api(client, data, field):
    before = Feedback.objects.count()
    page = client.post("/s/CQ-SXGC/report", data)
    if "\x00" in data.get("text", ""):
        # Refused at the input boundary, before any form: the site's 400 page names the field.
        assert page.status_code == 400 and "text" in page.content.decode()
    else:
        assert page.status_code == 422
        assert (
            'class="field has-error"' in page.content.decode()
            or 'class="choices has-error"' in page.content.decode()
        )
    api = client.post("/api/v1/stations/CQ-SXGC/reports", data)
    assert api.status_code == 422
    assert [d["loc"][-1] for d in api.json()["detail"]] == [field]
    assert Feedback.objects.count() == before


def photo(content: bytes, name: str = "p.png", content_type: str = "image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_photo_is_checked_by_its_content_and_stored_re_encoded_under_media_root(client, media):
    response = client.post(
        "/api/v1/stations/CQ-SXGC/reports",
        {"kind": "facility_broken", "facility": "seating", "photo": photo(PNG, "chair.gif", "image/gif")},
    )
    assert response.status_code == 201
    item = Feedback.objects.get(pk=response.json()["id"])
    assert item.photo_type == "image/jpeg" and item.photo.endswith(".jpg")
    stored = media / item.photo
    assert stored.read_bytes().startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (NOT_AN_IMAGE, "evil.jpg", "image/jpeg"),  # the name and the browser's claim lie
        (b"GIF89a" + b"\x00" * 20, "anim.gif", "image/gif"),
        (b"%PDF-1.7 ...", "doc.png", "image/png"),
        (JPEG_HEAD + b"\x00" * (4 * 1024 * 1024), "huge.jpg", "image/jpeg"),
    ],
)
def test_a_bad_photo_is_refused_and_nothing_is_written(client, media, content, name, content_type):
    before = Feedback.objects.count()
    response = client.post(
        "/s/CQ-SXGC/report",
        {"kind": "facility_broken", "facility": "seating", "photo": photo(content, name, content_type)},
    )
    assert response.status_code == 422 and "has-error" in response.content.decode()
    api = client.post(
        "/api/v1/stations/CQ-SXGC/reports",
        {"kind": "facility_broken", "facility": "seating", "photo": photo(content, name, content_type)},
    )
    assert api.status_code == 422 and api.json()["detail"][0]["loc"][-1] == "photo"
    assert Feedback.objects.count() == before
    assert not list(media.rglob("*.*")) if media.exists() else True


def test_the_photo_file_is_removed_when_the_database_write_fails(station, media, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr("yizhan.visits.services.record", boom)
    upload = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    with pytest.raises(RuntimeError):
        services.submit_feedback(station("CQ-SXGC"), kind="facility_broken", facility="seating", photo=upload)
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_report_rate_limit(client, settings):
    settings.YIZHAN_VISITS_RATE_LIMITS = {"report": (2, 3600)}
    for _ in range(2):
        assert client.post("/s/CQ-SXGC/report", {"kind": "praise", "text": "好"}).status_code == 303
    assert client.post("/s/CQ-SXGC/report", {"kind": "praise", "text": "好"}).status_code == 429
    assert (
        client.post("/api/v1/stations/CQ-SXGC/reports", {"kind": "praise", "text": "好"}).status_code == 429
    )


# --- confirmations -----------------------------------------------------------------------------------


def test_confirmation_page_updates_verified_at(client, station):
    s = station("SZ-MLYC")
    before = s.verified_at
    assert client.get("/s/SZ-MLYC/confirm").status_code == 200
    response = client.post("/s/SZ-MLYC/confirm")
    assert response.status_code == 200
    s.refresh_from_db()
    assert s.verified_at and (before is None or s.verified_at > before)
    assert s.verification_source == "public" and s.verified_by is None
    event = AuditEvent.objects.filter(action="station.verified", object_id=str(s.pk)).latest("pk")
    assert event.actor is None


def test_confirmation_through_the_api(client, station):
    response = client.post("/api/v1/stations/CQ-JXDL/reports", {"kind": "confirmation"})
    assert response.status_code == 201
    s = station("CQ-JXDL")
    assert response.json()["verified_at"] and s.verification_source == "public"
    assert abs((s.verified_at - timezone.now()).total_seconds()) < 60


def test_confirmation_rate_limit(client, settings):
    settings.YIZHAN_VISITS_RATE_LIMITS = {"confirm": (1, 3600)}
    assert client.post("/s/CQ-JXDL/confirm").status_code == 200
    assert client.post("/s/CQ-JXDL/confirm").status_code == 429


# --- masking and escaping in the back office -------------------------------------------------------


def test_contact_is_masked_in_lists_and_whole_only_for_those_who_act(client_for, station):
    item = services.submit_feedback(station("SZ-MLYC"), kind="praise", text="好", contact="13912345678")
    listing = client_for("hq_admin").get("/manage/feedback/?status=all").content.decode()
    assert "139****5678" in listing and "13912345678" not in listing
    assert "13912345678" in client_for("hq_admin").get(f"/manage/feedback/{item.pk}/").content.decode()
    viewer = client_for("sz_viewer").get(f"/manage/feedback/{item.pk}/").content.decode()
    assert "139****5678" in viewer and "13912345678" not in viewer


def test_script_tags_in_a_report_are_escaped_wherever_shown(client_for, station):
    item = services.submit_feedback(
        station("CQ-SXGC"), kind="suggestion", text="<script>alert('x')</script><img src=x onerror=alert(1)>"
    )
    client = client_for("cq_admin")
    for url in ("/manage/feedback/?status=all", f"/manage/feedback/{item.pk}/", "/manage/audit/"):
        body = client.get(url).content.decode()
        assert "<script>alert(" not in body and "<img src=x" not in body


def test_statistics_export_is_a_workbook(client_for):
    from openpyxl import load_workbook

    response = client_for("cq_admin").get("/manage/visits/export.xlsx?unit=CQ")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(book.sheetnames) == 9
