"""The real provider adapters (Aliyun Dysms and Tencent Cloud SMS through their official SDKs, a
WeCom group bot through Apprise) against stub HTTP servers on 127.0.0.1: success with the
provider's id, a permanent refusal, a throttle, a hang past our timeout; the delivery receipts that
follow; nothing sent twice on retry."""

import datetime
import json
import threading
import time
import zoneinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from yizhan.notify import services
from yizhan.notify.models import Message

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = datetime.datetime(2026, 7, 15, 12, 0, tzinfo=BEIJING)
PHONE = "13812345678"
HANG = 2.5  # seconds; past the 1 s timeout the tests set (Tencent's SDK counts whole seconds)


class Stub:
    """A provider on 127.0.0.1. `answers` is consumed one per request: (status, body) or "hang"."""

    def __init__(self):
        self.answers, self.requests = [], []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.requests.append((self.path, body))
                answer = stub.answers.pop(0) if stub.answers else (500, {"error": "no answer scripted"})
                if answer == "hang":
                    time.sleep(HANG)
                    answer = (200, {})
                status, payload = answer
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting: what a timeout is
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    server = Stub()
    yield server
    server.close()


@pytest.fixture
def at(monkeypatch):
    def freeze(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    freeze(NOON)
    return freeze


@pytest.fixture
def aliyun(settings, stub):
    settings.YIZHAN_NOTIFY_BACKENDS = {"sms": "yizhan.notify.channels.AliyunSms"}
    settings.YIZHAN_NOTIFY_ALIYUN = {"access_key_id": "ak", "access_key_secret": "sk", "endpoint": stub.url}
    settings.YIZHAN_NOTIFY_TIMEOUT_SECONDS = 1
    settings.YIZHAN_NOTIFY_RECEIPT_TOKEN = "receipt-token"
    return stub


@pytest.fixture
def tencent(settings, stub):
    settings.YIZHAN_NOTIFY_BACKENDS = {"sms": "yizhan.notify.channels.TencentSms"}
    settings.YIZHAN_NOTIFY_TENCENT = {"secret_id": "id", "secret_key": "key", "sdk_app_id": "1400000000",
                                      "region": "ap-guangzhou", "endpoint": stub.url}  # fmt: skip
    settings.YIZHAN_NOTIFY_TIMEOUT_SECONDS = 1
    settings.YIZHAN_NOTIFY_RECEIPT_TOKEN = "receipt-token"
    return stub


def ali_ok(biz_id):
    return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": "r"}


def tc_status(code, serial=""):
    return 200, {"Response": {"RequestId": "r", "SendStatusSet": [
        {"SerialNo": serial, "PhoneNumber": f"+86{PHONE}", "Fee": 1, "Code": code, "Message": code, "IsoCode": "CN"}
    ]}}  # fmt: skip


def send_pension(unit, key="pension-0716"):
    outlet = unit("CQ-SXGC")
    services.record_consent(address=PHONE, topic="pension-day", how="纸质同意书", unit=outlet)
    services.notify([services.public(PHONE, outlet)], "pension-day",
                    {"outlet": "三峡广场支行", "date": "7月16日", "window": "10:00-11:00"}, key=key)  # fmt: skip
    return Message.objects.get(dedup_key__contains=key)


def receipt(client, provider, body, token="receipt-token"):
    return client.post(
        f"/notify/receipts/{provider}?token={token}", json.dumps(body), content_type="application/json"
    )


def later(at, minutes):
    at(NOON + datetime.timedelta(minutes=minutes))


def test_aliyun_sent_with_its_id_then_delivered_by_receipt_once(db, unit, client, aliyun, at):
    aliyun.answers = [ali_ok("900619746936498440")]
    message = send_pension(unit)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.provider_id == "900619746936498440"
    path, _body = aliyun.requests[0]
    assert "PhoneNumbers=13812345678" in path and "TemplateCode=SMS_000000000" in path
    assert f"OutId={message.pk}" in path
    report = [{"phone_number": PHONE, "success": True, "err_code": "DELIVERED", "err_msg": "用户接收成功",
               "biz_id": "900619746936498440", "out_id": str(message.pk)}]  # fmt: skip
    answer = receipt(client, "aliyun", report)
    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "成功", "updated": 1}
    message.refresh_from_db()
    assert message.state == Message.State.DELIVERED and message.delivered_at is not None
    assert receipt(client, "aliyun", report).json()["updated"] == 0  # idempotent
    later(at, 30)
    services.deliver_due()
    assert len(aliyun.requests) == 1


def test_aliyun_permanent_refusal_fails_without_retry(db, unit, aliyun, at):
    aliyun.answers = [(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "r"})]
    message = send_pension(unit)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and message.reason.startswith("isv.MOBILE_NUMBER_ILLEGAL")
    later(at, 60)
    services.deliver_due()
    assert len(aliyun.requests) == 1


def test_aliyun_throttle_and_outage_are_retried_and_sent_once(db, unit, aliyun, at):
    aliyun.answers = [
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发流控", "RequestId": "r"}),
        (503, {"Code": "ServiceUnavailable", "Message": "busy", "RequestId": "r"}),
        ali_ok("b-1"),
    ]
    message = send_pension(unit)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP and "BUSINESS_LIMIT_CONTROL" in message.reason
    later(at, 3)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP and "ServiceUnavailable" in message.reason
    later(at, 10)
    services.deliver_due()
    later(at, 60)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.provider_id == "b-1" and message.attempts == 3
    assert len(aliyun.requests) == 3


def test_aliyun_hang_times_out_to_a_retry(db, unit, aliyun, at):
    aliyun.answers = ["hang", ali_ok("b-2")]
    message = send_pension(unit)
    started = time.monotonic()
    services.deliver_due()
    assert time.monotonic() - started < HANG
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP and "timed out" in message.reason
    later(at, 3)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.provider_id == "b-2"


def test_a_receipt_for_a_send_that_timed_out_on_our_side_stops_the_retry(db, unit, client, aliyun, at):
    """The provider took the message though its answer came too late: its receipt (our OutId)
    settles the message, and the retry sends nothing a second time."""
    aliyun.answers = ["hang"]
    message = send_pension(unit)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP
    report = [{"success": True, "err_code": "DELIVERED", "biz_id": "late-1", "out_id": str(message.pk)}]
    assert receipt(client, "aliyun", report).json()["updated"] == 1
    later(at, 10)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.DELIVERED and message.provider_id == "late-1"
    assert len(aliyun.requests) == 1


def test_tencent_states_from_answers_and_receipts(db, unit, client, tencent, at):
    tencent.answers = [
        (
            200,
            {
                "Response": {
                    "RequestId": "r",
                    "Error": {"Code": "RequestLimitExceeded", "Message": "频率限制"},
                }
            },
        ),
        "hang",
        tc_status("Ok", "2433:3380001"),
    ]
    message = send_pension(unit)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP and "RequestLimitExceeded" in message.reason
    later(at, 3)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP and "ClientNetworkError" in message.reason
    later(at, 10)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.provider_id == "2433:3380001"
    body = json.loads(tencent.requests[-1][1])
    assert body["PhoneNumberSet"] == [f"+86{PHONE}"] and body["TemplateParamSet"] == [
        "三峡广场支行", "7月16日", "10:00-11:00"
    ]  # fmt: skip
    report = [{"mobile": PHONE, "report_status": "FAIL", "errmsg": "MK:0001", "description": "用户关机",
               "sid": "2433:3380001"}]  # fmt: skip
    answer = receipt(client, "tencent", report)
    assert answer.json() == {"result": 0, "errmsg": "OK", "updated": 1}
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and "用户关机" in message.reason
    later(at, 60)
    services.deliver_due()
    assert len(tencent.requests) == 3


def test_tencent_refused_number_is_permanent(db, unit, tencent, at):
    tencent.answers = [tc_status("InvalidParameterValue.IncorrectPhoneNumber")]
    message = send_pension(unit)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and "IncorrectPhoneNumber" in message.reason


def test_wecom_bot_through_apprise(db, unit, settings, stub, at):
    settings.YIZHAN_NOTIFY_BACKENDS = {"bot": "yizhan.notify.channels.AppriseBot"}
    settings.YIZHAN_NOTIFY_BOT_ENDPOINT = stub.url
    settings.YIZHAN_NOTIFY_TIMEOUT_SECONDS = 1
    stub.answers = [(500, {"errcode": -1}), "hang", (200, {"errcode": 0, "errmsg": "ok"})]
    outlet = unit("CQ-SXGC")
    summary = services.notify([services.bot("wecombot://a1b2c3d4-bot-key", outlet)], "notice", {"text": "今日盘点"},
                              key="bot-1")  # fmt: skip
    assert summary.queued == 1  # a staff group needs no consent
    message = Message.objects.get()
    assert message.channel == "bot" and services.shown_address(message) == "wecombot://…"
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP
    later(at, 3)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.FAILED_TEMP
    later(at, 10)
    services.deliver_due()
    message.refresh_from_db()
    assert message.state == Message.State.DELIVERED, (message.reason, stub.requests)
    path, body = stub.requests[-1]
    assert path == "/cgi-bin/webhook/send?key=a1b2c3d4-bot-key"
    assert json.loads(body) == {"msgtype": "text", "text": {"content": "今日盘点"}}
    later(at, 60)
    services.deliver_due()
    assert len(stub.requests) == 3


def test_an_unusable_bot_address_fails_for_good(db, unit, settings, at):
    settings.YIZHAN_NOTIFY_BACKENDS = {"bot": "yizhan.notify.channels.AppriseBot"}
    services.notify([services.bot("nonsense://", unit("CQ-SXGC"))], "notice", {"text": "x"})
    services.deliver_due()
    assert Message.objects.get().state == Message.State.FAILED


def test_receipt_callback_refuses_bad_input(db, unit, client, aliyun, at):
    aliyun.answers = [ali_ok("b-9")]
    message = send_pension(unit)
    services.deliver_due()
    ok = [{"success": True, "biz_id": "b-9"}]
    assert receipt(client, "aliyun", ok, token="wrong").status_code == 401
    assert (
        client.post("/notify/receipts/aliyun", json.dumps(ok), content_type="application/json").status_code
        == 401
    )
    assert receipt(client, "nosuch", ok).status_code == 404
    assert client.get("/notify/receipts/aliyun?token=receipt-token").status_code == 405
    bad = receipt(client, "aliyun", {"biz_id": "b-9"})
    assert bad.status_code == 422 and "body" in bad.json()["detail"]
    bad = receipt(client, "aliyun", [{"success": True, "biz_id": "b-9"}, {"success": "yes"}])
    assert bad.status_code == 422 and "body[2]" in bad.json()["detail"]
    message.refresh_from_db()
    assert message.state == Message.State.SENT  # nothing half-written: row 1 was not applied
    broken = client.post("/notify/receipts/aliyun?token=receipt-token", "[{", content_type="application/json")
    assert broken.status_code == 400
    assert receipt(client, "aliyun", [{"success": True, "biz_id": "unknown"}]).json()["updated"] == 0
