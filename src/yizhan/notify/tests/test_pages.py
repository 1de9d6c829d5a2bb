"""The back-office pages and API of the notification centre: templates and their versions, consent
records (masked, filtered, an opt-in recorded with how it was given, an opt-out), and the schedule
list; each a matrix of the named demo users, each write with its bad input."""

import pytest

from yizhan.audit.models import AuditEvent
from yizhan.core.tests.pagecheck import problems
from yizhan.notify import services
from yizhan.notify.models import Consent, Template

PHONE = "13812345678"
NAMES = ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer", "notice", "pension-day", "feedback-overdue")


def new_version(client, key="notice", **values):
    latest = services.current_template(key)
    body = {"based_on": latest.version, "name": latest.name, "text_zh": latest.text_zh,
            "text_en": latest.text_en, **values}  # fmt: skip
    return client.post(f"/api/v1/manage/templates/{key}/versions", body, content_type="application/json")


@pytest.fixture(autouse=True)
def _without_demo_consents(db):
    """The demo's pensioners (notify/demo.py) would be counted with the ones these tests record."""
    Consent.objects.all().delete()


def named(answer) -> set[str]:
    """The fields a 422 answer names."""
    return {str(item["loc"][-1]) for item in answer.json()["detail"]}


READ = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 403, "sz_viewer": 403}
WRITE = {"hq_admin": 201, "cq_admin": 403, "sanxia_manager": 403, "sz_viewer": 403}


@pytest.mark.parametrize("username", READ)
def test_templates_matrix(db, client_for, username):
    client = client_for(username)
    for path in ("/manage/templates/", "/manage/templates/pension-day/", "/api/v1/manage/templates",
                 "/api/v1/manage/templates/pension-day"):  # fmt: skip
        assert client.get(path).status_code == READ[username], path
    assert new_version(client, text_zh="【通知】{text}").status_code == WRITE[username]
    page = client.post("/manage/templates/notice/", {"based_on": 2, "name": "x", "text_zh": "{text}"})
    assert page.status_code in (302, 403) and (page.status_code == 302) == (username == "hq_admin")
    if READ[username] == 200:
        html = client.get("/manage/templates/pension-day/").content.decode()
        assert "SMS_000000000" in html and problems(html, allow=NAMES) == []
        assert ("新版本" in html) == (username == "hq_admin")


def test_a_new_version_from_the_page_keeps_what_was_sent_and_is_audited(db, users, client_for):
    services.notify(services.staff([users["cq_admin"]]), "notice", {"text": "旧的"}, key="old")
    client = client_for("hq_admin")
    first = services.current_template("notice")
    answer = client.post("/manage/templates/notice/", {"based_on": first.version, "name": "工作通知",
                                                       "text_zh": "【通知】{text}", "text_en": "Notice: {text}"})  # fmt: skip
    assert answer.status_code == 302
    second = services.current_template("notice")
    assert second.version == first.version + 1 and second.variables == first.variables
    from yizhan.notify.models import Message

    assert Message.objects.get().template == first and Message.objects.get().text == "旧的"
    event = AuditEvent.objects.filter(action="notify.template_saved").latest("pk")
    assert event.changes["text_zh"] == ["{text}", "【通知】{text}"]
    html = client.get("/manage/templates/notice/").content.decode()
    assert "【通知】{text}" in html and "{text}" in html


def test_template_bad_input_names_the_field_and_saves_nothing(db, client_for):
    client = client_for("hq_admin")
    count = Template.objects.count()
    bad = new_version(client, text_zh="您好 {name}")
    assert bad.status_code == 422 and named(bad) == {"text_zh"} and "name" in bad.json()["detail"][0]["msg"]
    assert new_version(client, text_en="{oops").status_code == 422
    assert named(new_version(client, name=" ")) == {"name"}
    assert named(new_version(client, sms_signature="签" * 30)) == {"sms_signature"}
    stale = new_version(client, based_on=0)
    assert stale.status_code == 422 and named(stale) == {"based_on"}
    assert client.post("/api/v1/manage/templates/no-such/versions", {"based_on": 1, "name": "x", "text_zh": "x"},
                       content_type="application/json").status_code == 404  # fmt: skip
    page = client.post("/manage/templates/notice/", {"based_on": "1", "name": "x", "text_zh": "{who}"})
    assert page.status_code == 200 and "未知变量" in page.content.decode() and "who" in page.content.decode()
    assert client.get("/manage/templates/no-such/").status_code == 404
    assert Template.objects.count() == count


# --- consent records ------------------------------------------------------------------------------


@pytest.fixture
def consents(db, unit):
    services.record_consent(address=PHONE, topic="pension-day", how="纸质同意书", unit=unit("CQ-SXGC"))
    services.record_consent(address="13900000002", topic="pension-day", how="短信回复", unit=unit("SZ"))
    return Consent.objects.order_by("pk")


# user: (page/api status, how many they see)
CONSENT_READ = {"hq_admin": (200, 2), "cq_admin": (200, 1), "sanxia_manager": (200, 1), "sz_viewer": (403, 0)}


@pytest.mark.parametrize("username", CONSENT_READ)
def test_consent_list_matrix_masked(db, client_for, consents, username):
    status, count = CONSENT_READ[username]
    client = client_for(username)
    page = client.get("/manage/consents/")
    api = client.get("/api/v1/manage/consents")
    assert page.status_code == status and api.status_code == status
    if status == 200:
        html = page.content.decode()
        assert PHONE not in html and "13900000002" not in html
        assert len(api.json()) == count and all("****" in c["phone"] for c in api.json())
        assert problems(html, allow=NAMES) == []


def test_consent_filters_by_topic_unit_and_state(db, client_for, consents):
    client = client_for("hq_admin")
    assert [c["unit"] for c in client.get("/api/v1/manage/consents?unit=CQ").json()] == ["CQ-SXGC"]
    assert client.get("/api/v1/manage/consents?topic=other").json() == []
    assert len(client.get("/api/v1/manage/consents?state=active").json()) == 2
    assert client.get("/api/v1/manage/consents?state=withdrawn").json() == []
    outside = client_for("cq_admin").get("/api/v1/manage/consents?unit=SZ")
    assert outside.status_code == 422 and named(outside) == {"unit"}
    page = client_for("cq_admin").get("/manage/consents/?unit=SZ")
    assert page.status_code == 200 and "您的管辖范围内没有该编码的机构" in page.content.decode()


RECORD = [  # user, outlet, status
    ("hq_admin", "SZ", 201), ("cq_admin", "CQ-SXGC", 201), ("cq_admin", "SZ", 404),
    ("sanxia_manager", "CQ-SXGC", 201), ("sanxia_manager", "CQ", 404), ("sz_viewer", "SZ", 403),
]  # fmt: skip


@pytest.mark.parametrize("username,code,status", RECORD)
def test_record_an_opt_in_matrix(db, client_for, username, code, status):
    body = {"phone": "+86 139-0000-0003", "topic": "pension-day", "unit": code, "how": "纸质同意书"}
    answer = client_for(username).post("/api/v1/manage/consents", body, content_type="application/json")
    assert answer.status_code == status
    assert Consent.objects.filter(address="13900000003").exists() == (status == 201)
    if status == 201:
        assert answer.json()["phone"] == "139****0003"
        event = AuditEvent.objects.filter(action="notify.consent_given").latest("pk")
        assert event.actor.username == username


def test_record_an_opt_in_from_the_page_and_its_bad_input(db, client_for):
    client = client_for("sanxia_manager")
    ok = client.post("/manage/consents/", {"address": PHONE, "topic": "pension-day", "unit": "CQ-SXGC",
                                           "how": "柜台签署纸质同意书"})  # fmt: skip
    assert ok.status_code == 302 and Consent.objects.get().how == "柜台签署纸质同意书"
    for field, body in [
        ("address", {"address": "123", "topic": "pension-day", "unit": "CQ-SXGC", "how": "x"}),
        ("topic", {"address": PHONE, "topic": "marketing", "unit": "CQ-SXGC", "how": "x"}),
        ("how", {"address": PHONE, "topic": "pension-day", "unit": "CQ-SXGC", "how": " "}),
        ("unit", {"address": PHONE, "topic": "pension-day", "unit": "NOPE", "how": "x"}),
    ]:
        page = client.post("/manage/consents/", body)
        assert page.status_code == 200 and 'class="error"' in page.content.decode(), field
        api = client.post("/api/v1/manage/consents", {**body, "phone": body["address"]},
                          content_type="application/json")  # fmt: skip
        assert api.status_code in (404, 422)
        if api.status_code == 422:
            assert named(api) == {{"address": "phone"}.get(field, field)}
    assert Consent.objects.count() == 1


WITHDRAW = {"hq_admin": 200, "cq_admin": 200, "sanxia_manager": 200, "sz_viewer": 404}


@pytest.mark.parametrize("username", WITHDRAW)
def test_opt_out_by_staff_matrix(db, client_for, consents, username):
    cq_consent = consents[0]
    client = client_for(username)
    answer = client.post(f"/api/v1/manage/consents/{cq_consent.pk}/withdraw", {"how": "电话告知"},
                         content_type="application/json")  # fmt: skip
    assert answer.status_code == WITHDRAW[username]
    cq_consent.refresh_from_db()
    assert (cq_consent.withdrawn_at is not None) == (answer.status_code == 200)
    if answer.status_code == 200:
        assert cq_consent.withdrawn_how == "电话告知"
        again = client.post(f"/api/v1/manage/consents/{cq_consent.pk}/withdraw", {"how": "x"},
                            content_type="application/json")  # fmt: skip
        assert again.status_code == 422 and named(again) == {"state"}


def test_opt_out_page_needs_how_and_scope(db, client_for, consents):
    sz_consent = consents[1]
    client = client_for("cq_admin")
    assert client.post(f"/manage/consents/{sz_consent.pk}/withdraw", {"how": "x"}).status_code == 404
    assert (
        client_for("sz_viewer").post(f"/manage/consents/{sz_consent.pk}/withdraw", {"how": "x"}).status_code
        == 403
    )
    cq_consent = consents[0]
    client.post(f"/manage/consents/{cq_consent.pk}/withdraw", {"how": " "})
    cq_consent.refresh_from_db()
    assert cq_consent.withdrawn_at is None
    client.post(f"/manage/consents/{cq_consent.pk}/withdraw", {"how": "到柜台要求退订"})
    cq_consent.refresh_from_db()
    assert cq_consent.withdrawn_at is not None
    api = client.post(
        f"/api/v1/manage/consents/{cq_consent.pk}/withdraw", {"how": ""}, content_type="application/json"
    )
    assert api.status_code == 422


# --- schedules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", READ)
def test_schedules_matrix_lists_the_declared_schedules_with_their_next_run(db, client_for, username):
    from yizhan.jobs.schedules import declared

    client = client_for(username)
    page, api = client.get("/manage/schedules/"), client.get("/api/v1/manage/schedules")
    assert page.status_code == api.status_code == READ[username]
    if READ[username] == 200:
        names = [s["name"] for s in api.json()]
        assert names == [s.name for s in declared()] and "notify.deliver_due" in names
        assert all(s["next_run"] for s in api.json())
        html = page.content.decode()
        assert "每 1 分钟" in html or "每1分钟" in html or "1 分钟" in html
        assert problems(html, allow=NAMES) == []
