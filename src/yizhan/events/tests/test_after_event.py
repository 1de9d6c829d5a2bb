"""The after-event record's photos (judged by their bytes through the reports' photo reader,
stored with a random name, served only to staff in scope) and the campaign edit page."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from yizhan.audit.models import AuditEvent
from yizhan.core.tests.pagecheck import problems
from yizhan.events import campaigns, services
from yizhan.events.models import Campaign, EventPhoto
from yizhan.orgs.services import create_api_token

pytestmark = pytest.mark.django_db
ALLOW = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer")


def _png(size=(8, 6)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_a_photo_is_re_encoded_stored_and_shown_to_staff_in_scope_only(make_event, client_for, media):
    event, _ = make_event()
    client = client_for("cq_admin")
    upload = SimpleUploadedFile("现场.png", _png(), content_type="image/png")
    done = client.post(f"/manage/events/{event.pk}/photo/", {"photo": upload, "caption": "鲜花与掌声"})
    assert done.status_code == 302
    photo = EventPhoto.objects.get(event=event)
    assert photo.path.startswith("events/") and photo.path.endswith(".jpg") and "现场" not in photo.path
    page = client.get(f"/manage/events/{event.pk}/")
    assert "鲜花与掌声" in page.content.decode() and problems(page.content.decode(), allow=ALLOW) == []
    served = client.get(f"/manage/events/{event.pk}/photos/{photo.pk}.jpg")
    body = b"".join(served.streaming_content)
    assert (
        served.status_code == 200
        and body[:3] == b"\xff\xd8\xff"
        and served["X-Content-Type-Options"] == "nosniff"
    )
    assert AuditEvent.objects.filter(action="events.photo_added", object_id=str(event.pk)).exists()
    # Outside the scope the photo does not exist; anonymous visitors are sent to log in.
    assert client_for("sz_viewer").get(f"/manage/events/{event.pk}/photos/{photo.pk}.jpg").status_code == 404
    assert Client().get(f"/manage/events/{event.pk}/photos/{photo.pk}.jpg").status_code in (302, 403, 404)
    # A read-only role sees it but cannot remove it; the organiser can, and the file goes too.
    assert (
        client_for("sanxia_manager").post(f"/manage/events/{event.pk}/photos/{photo.pk}/remove/").status_code
        == 404
    )
    assert client.post(f"/manage/events/{event.pk}/photos/{photo.pk}/remove/").status_code == 302
    assert not EventPhoto.objects.filter(pk=photo.pk).exists()


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "JPEG"),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"x" * 200, "JPEG"),
        ("doc.pdf", b"%PDF-1.4\n%%EOF\n", "JPEG"),
        ("empty.png", b"", "WebP"),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_naming_the_field_and_nothing_is_kept(
    make_event, users, media, name, data, words
):
    event, _ = make_event()
    upload = SimpleUploadedFile(name, data, content_type="image/jpeg")
    with pytest.raises(Exception) as exc:
        services.add_report_photo(event, actor=users["cq_admin"], upload=upload)
    assert "photo" in exc.value.message_dict and words in " ".join(exc.value.message_dict["photo"])
    assert not EventPhoto.objects.filter(event=event).exists() and _files(media) == []


def test_too_large_and_too_many_photos_are_refused(make_event, users, media, settings):
    event, _ = make_event()
    settings.YIZHAN_REPORT_PHOTO_MAX_BYTES = 100
    big = SimpleUploadedFile("big.png", _png((200, 200)) + b"\0" * 200, content_type="image/png")
    with pytest.raises(Exception) as exc:
        services.add_report_photo(event, actor=users["cq_admin"], upload=big)
    assert "photo" in exc.value.message_dict
    settings.YIZHAN_REPORT_PHOTO_MAX_BYTES = 4 * 1024 * 1024
    for i in range(services.MAX_PHOTOS):
        services.add_report_photo(
            event, actor=users["cq_admin"], upload=SimpleUploadedFile(f"{i}.png", _png())
        )
    with pytest.raises(Exception) as exc:
        services.add_report_photo(event, actor=users["cq_admin"], upload=SimpleUploadedFile("x.png", _png()))
    assert "photo" in exc.value.message_dict
    assert EventPhoto.objects.filter(event=event).count() == services.MAX_PHOTOS == len(_files(media))


def test_the_api_takes_a_photo_and_answers_422_naming_it_for_a_bad_one(make_event, users, media):
    event, _ = make_event()
    _row, token = create_api_token(user=users["cq_admin"], name="photos")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    ok = api.post(
        f"/api/v1/manage/events/{event.pk}/photos",
        {"photo": SimpleUploadedFile("a.webp", _png()), "caption": "合影"},
    )
    assert ok.status_code == 201 and ok.json()["caption"] == "合影"
    bad = api.post(
        f"/api/v1/manage/events/{event.pk}/photos", {"photo": SimpleUploadedFile("a.png", b"GIF89a....")}
    )
    assert bad.status_code == 422 and "photo" in bad.content.decode()
    _row, viewer = create_api_token(user=users["sz_viewer"], name="photos")
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {viewer}")
    assert (
        outsider.post(
            f"/api/v1/manage/events/{event.pk}/photos", {"photo": SimpleUploadedFile("a.png", _png())}
        ).status_code
        == 404
    )


# --- the campaign edit page -------------------------------------------------------------------------


def _campaign(users, unit) -> Campaign:
    return campaigns.create_campaign(actor=users["hq_admin"], unit=unit("SZ"), name="新市民月", target_group="new_citizen",
                                     starts_on=datetime.date(2031, 9, 1), ends_on=datetime.date(2031, 9, 30))  # fmt: skip


def _form(campaign, **changes) -> dict:
    return {"name": campaign.name, "target_group": campaign.target_group, "starts_on": campaign.starts_on.isoformat(),
            "ends_on": campaign.ends_on.isoformat(), "units": "", "partners": "", "description": "",
            "revision": campaign.revision, **changes}  # fmt: skip


@pytest.mark.parametrize(
    ("username", "status"),
    [("hq_admin", 200), ("sz_viewer", 403), ("cq_admin", 404), ("sanxia_manager", 404)],
)
def test_the_campaign_edit_page_permission_matrix(client_for, users, unit, username, status):
    campaign = _campaign(users, unit)
    client = client_for(username)
    page = client.get(f"/manage/events/campaigns/{campaign.pk}/edit/")
    assert page.status_code == status
    if status == 200:
        assert problems(page.content.decode(), allow=ALLOW) == []
    saved = client.post(
        f"/manage/events/campaigns/{campaign.pk}/edit/", _form(campaign, partners="深圳市总工会")
    )
    assert saved.status_code == (302 if status == 200 else status)
    assert Campaign.objects.get(pk=campaign.pk).partners == ("深圳市总工会" if status == 200 else "")


def test_a_campaign_edit_ending_before_it_starts_is_refused_naming_the_field(client_for, users, unit):
    campaign = _campaign(users, unit)
    response = client_for("hq_admin").post(
        f"/manage/events/campaigns/{campaign.pk}/edit/", _form(campaign, ends_on="2031-08-01")
    )
    assert response.status_code == 200 and "ends_on" in response.context["form"].errors
    assert Campaign.objects.get(pk=campaign.pk).ends_on == datetime.date(2031, 9, 30)
    units = client_for("hq_admin").post(
        f"/manage/events/campaigns/{campaign.pk}/edit/", _form(campaign, units="CQ")
    )
    assert "units" in units.context["form"].errors and not Campaign.objects.get(pk=campaign.pk).units.exists()


def test_the_campaign_api_patch_changes_only_what_is_sent(users, unit):
    campaign = _campaign(users, unit)
    _row, token = create_api_token(user=users["hq_admin"], name="campaigns")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = f"/api/v1/manage/events/campaigns/{campaign.pk}"
    done = api.patch(
        url, {"revision": campaign.revision, "partners": "深圳市总工会"}, content_type="application/json"
    )
    assert (
        done.status_code == 200
        and done.json()["partners"] == "深圳市总工会"
        and done.json()["name"] == "新市民月"
    )
    bad = api.patch(
        url, {"revision": done.json()["revision"], "ends_on": "2031-01-01"}, content_type="application/json"
    )
    assert bad.status_code == 422 and "ends_on" in bad.content.decode()
    assert api.get(url).json()["ends_on"] == "2031-09-30"
