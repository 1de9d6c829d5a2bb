"""notify(): templates and their variables, consent and opt-out, mutes, quiet hours, caps,
de-duplication, delivery states through adapters, the inbox and the scoped outbox."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from yizhan.notify import channels, services
from yizhan.notify.models import Consent, Message, Mute

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 7, 15, 12, 0, tzinfo=BEIJING)
PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _without_demo_consents(db):
    """The demo's pensioners (notify/demo.py) would be counted with the ones these tests record."""
    Consent.objects.all().delete()


@pytest.fixture
def at(monkeypatch):
    def freeze(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    freeze(NOON)
    return freeze


@pytest.fixture
def outlet(unit):
    return unit("CQ-SXGC")


def consent(outlet, phone=PHONE, topic="pension-day"):
    return services.record_consent(address=phone, topic=topic, how="纸质同意书", unit=outlet)


def pension(phone, outlet):
    return services.notify(
        [services.public(phone, outlet)], "pension-day",
        {"outlet": "三峡广场支行", "date": "7月16日", "window": "10:00-11:00"}, key="pension-0716",
    )  # fmt: skip


def test_unknown_and_missing_variables_are_refused_before_anything_is_stored(db, users, at):
    with pytest.raises(ValidationError) as err:
        services.notify(services.staff([users["cq_admin"]]), "notice", {"txt": "x"})
    assert "context" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.save_template(
            actor=users["hq_admin"], key="x", name="x", text_zh="你好 {name}", variables=[]
        )
    assert "text_zh" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.save_template(actor=users["hq_admin"], key="x", name="x", text_zh="你好 {", variables=[])
    with pytest.raises(ValidationError):
        services.notify(services.staff([users["cq_admin"]]), "no-such-template", {})
    assert not Message.objects.exists()


def test_a_new_template_version_leaves_what_was_sent_alone(db, users, at):
    first = services.current_template("notice")
    services.notify(services.staff([users["cq_admin"]]), "notice", {"text": "旧"})
    second = services.save_template(
        actor=users["hq_admin"], key="notice", name="通知", text_zh="【通知】{text}", variables=["text"]
    )
    assert second.version == first.version + 1 and services.current_template("notice") == second
    assert Message.objects.get().template == first


def test_the_public_get_nothing_without_consent_and_opt_out_stops_them(db, outlet, at):
    summary = pension(PHONE, outlet)
    assert summary.refused == 1 and Message.objects.get().state == Message.State.REFUSED
    consent(outlet, "13900000001")
    summary = pension("13900000001", outlet)
    assert summary.queued == 1
    services.opt_out("13900000001", how="sms reply")
    assert Message.objects.get(address="13900000001").state == Message.State.REFUSED
    assert Consent.objects.get(address="13900000001").withdrawn_at is not None
    again = services.notify(
        [services.public("13900000001", outlet)], "pension-day",
        {"outlet": "x", "date": "y", "window": "z"}, key="pension-0717",
    )  # fmt: skip
    assert again.refused == 1


def test_staff_mute_holds_back_only_non_urgent_kinds(db, users, at):
    Mute.objects.create(user=users["cq_admin"], key="notice")
    assert services.notify(services.staff([users["cq_admin"]]), "notice", {"text": "x"}).refused == 1
    from yizhan.notify.models import Template

    Template.objects.filter(key="notice").update(urgent=True)
    assert services.notify(services.staff([users["cq_admin"]]), "notice", {"text": "x"}).queued == 1


def test_quiet_hours_hold_sms_until_eight_unless_urgent(db, outlet, at):
    consent(outlet)
    at(datetime.datetime(2026, 7, 15, 23, 30, tzinfo=BEIJING))
    assert pension(PHONE, outlet).held == 1
    held = Message.objects.get()
    assert timezone.localtime(held.not_before) == datetime.datetime(2026, 7, 16, 8, 0, tzinfo=BEIJING)
    assert services.deliver_due() == 0
    at(datetime.datetime(2026, 7, 16, 8, 0, 1, tzinfo=BEIJING))
    assert services.deliver_due() == 1
    held.refresh_from_db()
    assert held.state == Message.State.DELIVERED
    from yizhan.notify.models import Template

    Template.objects.filter(key="pension-day").update(urgent=True)
    other = "13900000009"
    consent(outlet, other)
    at(datetime.datetime(2026, 7, 16, 23, 30, tzinfo=BEIJING))
    assert pension(other, outlet).queued == 1


def test_the_inbox_is_not_held_in_quiet_hours(db, users, at):
    """It rings no phone: a manager reading the inbox at 23:30 sees what was just sent."""
    at(datetime.datetime(2026, 7, 15, 23, 30, tzinfo=BEIJING))
    summary = services.notify(services.staff([users["cq_admin"]]), "notice", {"text": "夜间"})
    assert summary.queued == 1 and summary.held == 0
    assert Message.objects.get().not_before is None
    assert services.deliver_due() == 1


def test_caps_hold_the_second_sms_of_a_minute_instead_of_failing_at_the_provider(db, outlet, at):
    consent(outlet)
    for n in range(2):
        services.notify(
            [services.public(PHONE, outlet)], "pension-day", {"outlet": "x", "date": str(n), "window": "z"},
            key=f"cap-{n}",
        )  # fmt: skip
    assert services.deliver_due() == 1
    first, second = Message.objects.order_by("pk")
    assert first.state == Message.State.DELIVERED
    second.refresh_from_db()
    assert second.state == Message.State.HELD and second.not_before == first.sent_at + datetime.timedelta(
        seconds=60
    )
    at(NOON + datetime.timedelta(seconds=61))
    assert services.deliver_due() == 1


def test_the_same_occasion_twice_queues_nothing_twice(db, users, at):
    recipients = services.staff([users["cq_admin"], users["sz_viewer"]])
    assert services.notify(recipients, "notice", {"text": "x"}, key="retry-me").queued == 2
    again = services.notify(recipients, "notice", {"text": "x"}, key="retry-me")
    assert again.queued == 0 and again.duplicates == 2
    assert Message.objects.count() == 2


class Flaky:
    calls = 0

    def send(self, messages):
        Flaky.calls += 1
        if Flaky.calls == 1:
            raise TimeoutError("provider did not answer in 5 s")
        return [channels.Outcome(ok=True, provider_id=f"p-{m.pk}") for m in messages]


class Refusing:
    def send(self, messages):
        return [
            channels.Outcome(ok=False, permanent=True, reason="isv.MOBILE_NUMBER_ILLEGAL") for m in messages
        ]


@override_settings(YIZHAN_NOTIFY_BACKENDS={"sms": "yizhan.notify.tests.test_notify.Flaky"})
def test_a_provider_timeout_is_retried_then_sent(db, outlet, at):
    consent(outlet)
    pension(PHONE, outlet)
    services.deliver_due()
    message = Message.objects.get()
    assert message.state == Message.State.FAILED_TEMP and "did not answer" in message.reason
    at(NOON + datetime.timedelta(minutes=3))
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.provider_id == f"p-{message.pk}"


@override_settings(YIZHAN_NOTIFY_BACKENDS={"sms": "yizhan.notify.tests.test_notify.Refusing"})
def test_a_permanent_failure_is_not_retried(db, outlet, at):
    consent(outlet)
    pension(PHONE, outlet)
    services.deliver_due()
    message = Message.objects.get()
    assert message.state == Message.State.FAILED and message.reason == "isv.MOBILE_NUMBER_ILLEGAL"


def test_a_message_a_killed_worker_left_sending_goes_out_once(db, users, at):
    services.notify(services.staff([users["cq_admin"]]), "notice", {"text": "x"})
    Message.objects.update(
        state=Message.State.SENDING, claim="dead", sent_at=NOON - datetime.timedelta(minutes=6)
    )
    assert services.deliver_due() == 1
    assert Message.objects.get().state == Message.State.DELIVERED


def test_inbox_bell_counts_unread_and_reads_in_the_readers_language(db, users, client_for, at):
    services.notify(
        services.staff([users["sanxia_manager"]]), "feedback-overdue", {"station": "三峡广场驿站", "days": 2}
    )
    services.deliver_due()
    client = client_for("sanxia_manager")
    home = client.get("/manage/").content.decode()
    assert 'class="bell has-unread"' in home and "1 条未读消息" in home
    page = client.get("/manage/inbox/").content.decode()
    assert "三峡广场驿站的问题反馈已逾期 2 天" in page
    client.cookies["django_language"] = "en"
    assert (
        "A problem report at 三峡广场驿站 is 2 days overdue" in client.get("/manage/inbox/").content.decode()
    )
    client.cookies["django_language"] = "zh-hans"
    api = client.get("/api/v1/manage/inbox?unread=true").json()
    assert len(api) == 1 and not api[0]["read"]
    client.post("/manage/inbox/read")
    assert 'class="bell"' in client.get("/manage/").content.decode()


OUTBOX = {"hq_admin": (200, 2), "cq_admin": (200, 1), "sanxia_manager": (403, 0), "sz_viewer": (403, 0)}


@pytest.mark.parametrize("username,expected", OUTBOX.items())
def test_outbox_is_for_admins_and_scoped(db, users, unit, client_for, username, expected, at):
    consent(unit("CQ-SXGC"))
    pension(PHONE, unit("CQ-SXGC"))
    sz = unit("SZ")
    services.notify([services.Recipient(unit_id=sz.pk, user=users["sz_viewer"])], "notice", {"text": "深圳"})
    status, count = expected
    client = client_for(username)
    page = client.get("/manage/outbox/")
    assert page.status_code == status
    api = client.get("/api/v1/manage/outbox")
    assert api.status_code == status
    if status == 200:
        assert len(api.json()) == count
        body = page.content.decode()
        assert PHONE not in body and "138****5678" in body  # masked


def test_reply_callback_needs_the_token_and_td_opts_out(db, client, outlet, settings, at):
    settings.YIZHAN_NOTIFY_REPLY_TOKEN = "s3cret-token"
    consent(outlet)
    body = {"phone": PHONE, "text": "TD"}
    assert client.post("/api/v1/notify/replies", body, content_type="application/json").status_code == 401
    ok = client.post(
        "/api/v1/notify/replies",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer s3cret-token",
    )
    assert ok.status_code == 200 and ok.json() == {"count": 1}
    bad = client.post("/api/v1/notify/replies", {"phone": "12", "text": "TD"}, content_type="application/json",
                      HTTP_AUTHORIZATION="Bearer s3cret-token")  # fmt: skip
    assert bad.status_code == 422


def test_opt_out_link_asks_then_stops(db, client, outlet, at):
    from yizhan.notify.views import opt_out_link

    consent(outlet)
    link = opt_out_link(PHONE)
    page = client.get(link)
    assert page.status_code == 200 and "138****5678" in page.content.decode()
    assert Consent.objects.get().withdrawn_at is None  # a link preview does not opt out
    client.post(link)
    assert Consent.objects.get().withdrawn_at is not None
    assert client.get("/u/forged-token").status_code == 404


def test_consent_needs_a_valid_number_and_how(db, outlet):
    with pytest.raises(ValidationError) as err:
        services.record_consent(address="123", topic="pension-day", how="x", unit=outlet)
    assert "address" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.record_consent(address=PHONE, topic="pension-day", how=" ", unit=outlet)
    assert "how" in err.value.message_dict
