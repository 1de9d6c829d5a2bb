"""Channels behind adapters. Each adapter takes a list of messages and answers one Outcome per
message; `YIZHAN_NOTIFY_BACKENDS` picks the adapter per channel. The default is the outbox for
everything that would leave the machine, so a demo or a test never sends anything outside."""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass
class Outcome:
    ok: bool
    provider_id: str = ""
    delivered: bool = False  # the provider confirmed delivery (or there is nothing further to wait for)
    permanent: bool = False  # a failure that retrying will not cure (a bad number, a refused template)
    reason: str = ""


class Outbox:
    """Keeps the message in the outbox page and sends nothing: the local backend of every channel."""

    def send(self, messages) -> list[Outcome]:
        return [Outcome(ok=True, delivered=True) for m in messages]


class Inbox:
    """The in-app inbox: the stored message is the delivery; the bell shows it until it is read."""

    def send(self, messages) -> list[Outcome]:
        return [Outcome(ok=True, delivered=True) for m in messages]


class DjangoEmail:
    """E-mail through Django's configured e-mail backend (SMTP in production)."""

    def send(self, messages) -> list[Outcome]:
        from django.core.mail import send_mail

        outcomes = []
        for message in messages:
            try:
                send_mail(message.template.name, message.text, None, [message.address])
            except OSError as exc:
                outcomes.append(Outcome(ok=False, reason=str(exc)[:200]))
            else:
                outcomes.append(Outcome(ok=True, provider_id=f"email-{message.pk}"))
        return outcomes


DEFAULT_BACKENDS = {
    "inbox": "yizhan.notify.channels.Inbox",
    "sms": "yizhan.notify.channels.Outbox",
    "email": "yizhan.notify.channels.Outbox",
    "bot": "yizhan.notify.channels.Outbox",
}


def adapter(channel: str):
    path = {**DEFAULT_BACKENDS, **getattr(settings, "YIZHAN_NOTIFY_BACKENDS", {})}[channel]
    return import_string(path)()


# --- the providers -------------------------------------------------------------------------------
# Each answers one Outcome per message, never raises for one message's failure: a refused number is
# permanent, a throttle, an outage or a timeout is temporary (retried with back-off by deliver_due).
# Endpoints are settings, so the tests point the official SDKs at a stub on 127.0.0.1.


def _timeout() -> float:
    return float(settings.YIZHAN_NOTIFY_TIMEOUT_SECONDS)


def _host_and_scheme(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"https://{url}")
    return parts.netloc, parts.scheme or "https"


def _failure(code: str, reason: str, temporary: tuple[str, ...]) -> Outcome:
    return Outcome(ok=False, permanent=not (code or "").startswith(temporary), reason=reason[:200])


class AliyunSms:
    """Aliyun Dysms (SendSms, API 2017-05-25) through Alibaba Cloud's official SDK. Our message id
    goes with it as OutId, which the delivery receipt carries back beside the BizId."""

    # Throttles and the provider's own faults; anything else (a bad number, an unapproved template
    # or signature) is not cured by retrying.
    TEMPORARY = ("isp.", "Throttling", "ServiceUnavailable", "InternalError", "isv.BUSINESS_LIMIT_CONTROL")

    def __init__(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi

        conf = settings.YIZHAN_NOTIFY_ALIYUN
        endpoint, scheme = _host_and_scheme(conf["endpoint"])
        millis = int(_timeout() * 1000)
        self.client = Client(
            openapi.Config(
                access_key_id=conf["access_key_id"], access_key_secret=conf["access_key_secret"],
                endpoint=endpoint, protocol=scheme.upper(), read_timeout=millis, connect_timeout=millis,
            )
        )  # fmt: skip

    def send(self, messages) -> list[Outcome]:
        return [self._one(m) for m in messages]

    def _one(self, message) -> Outcome:
        import json

        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_util import models as util
        from Tea.exceptions import TeaException

        request = models.SendSmsRequest(
            phone_numbers=message.address, sign_name=message.template.sms_signature,
            template_code=message.template.sms_template_code,
            template_param=json.dumps(message.context, ensure_ascii=False), out_id=str(message.pk),
        )  # fmt: skip
        try:
            # Our own retries (with back-off, counted) replace the SDK's.
            answer = self.client.send_sms_with_options(request, util.RuntimeOptions(autoretry=False)).body
        except TeaException as exc:
            code = getattr(exc, "code", None) or ""
            reason = f"{code}: {getattr(exc, 'message', exc)}" if code else str(getattr(exc, "message", exc))
            # No code: the request never got an answer (a timeout, a refused connection).
            return _failure(code, reason, self.TEMPORARY) if code else Outcome(ok=False, reason=reason[:200])
        except OSError as exc:
            return Outcome(ok=False, reason=str(exc)[:200])
        if answer.code == "OK":
            return Outcome(ok=True, provider_id=answer.biz_id or "")
        return _failure(answer.code, f"{answer.code}: {answer.message}", self.TEMPORARY)


class TencentSms:
    """Tencent Cloud SMS (SendSms, API 2021-01-11) through Tencent Cloud's official SDK. Its
    templates take positional parameters: the template's variables in their declared order."""

    TEMPORARY = ("RequestLimitExceeded", "LimitExceeded.", "InternalError", "ClientNetworkError",
                 "ServerNetworkError", "ResourceUnavailable")  # fmt: skip

    def __init__(self):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        conf = settings.YIZHAN_NOTIFY_TENCENT
        endpoint, scheme = _host_and_scheme(conf["endpoint"])
        http = HttpProfile(endpoint=endpoint, reqTimeout=max(1, round(_timeout())))
        http.scheme = scheme
        self.app_id = conf["sdk_app_id"]
        self.client = sms_client.SmsClient(
            credential.Credential(conf["secret_id"], conf["secret_key"]), conf["region"],
            ClientProfile(httpProfile=http),
        )  # fmt: skip

    def send(self, messages) -> list[Outcome]:
        return [self._one(m) for m in messages]

    def _one(self, message) -> Outcome:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{message.address}"]
        request.SmsSdkAppId = self.app_id
        request.SignName = message.template.sms_signature
        request.TemplateId = message.template.sms_template_code
        request.TemplateParamSet = [str(message.context.get(name, "")) for name in message.template.variables]
        request.SessionContext = str(message.pk)
        try:
            answer = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            return _failure(code, f"{code}: {exc.get_message()}", self.TEMPORARY)
        except OSError as exc:
            return Outcome(ok=False, reason=str(exc)[:200])
        status = (answer.SendStatusSet or [None])[0]
        if status is None:
            return Outcome(ok=False, reason="no status in the answer")
        if status.Code == "Ok":
            return Outcome(ok=True, provider_id=status.SerialNo or "")
        return _failure(status.Code, f"{status.Code}: {status.Message}", self.TEMPORARY)


class AppriseBot:
    """WeCom, DingTalk and Feishu group bots through Apprise: a message's address is the bot's
    Apprise URL (wecombot://KEY, dingtalk://TOKEN, feishu://TOKEN). A bot has no receipts: a
    webhook that accepted the message is delivered. Apprise answers only yes or no, so a failure is
    temporary (retried up to three times) unless the URL itself is unusable."""

    def send(self, messages) -> list[Outcome]:
        return [self._one(m) for m in messages]

    def _one(self, message) -> Outcome:
        import apprise

        plugin = apprise.Apprise.instantiate(message.address)
        if plugin is None:
            return Outcome(ok=False, permanent=True, reason="not a usable group-bot address")
        plugin.socket_connect_timeout = plugin.socket_read_timeout = _timeout()
        plugin.request_rate_per_sec = 0  # our caps pace the bots
        base = settings.YIZHAN_NOTIFY_BOT_ENDPOINT
        if base:
            _redirect(plugin, base)
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            ok = plugin.notify(body=message.text)
        if ok:
            return Outcome(ok=True, delivered=True)
        return Outcome(
            ok=False, reason=(log.getvalue().strip().splitlines() or ["the bot refused"])[-1][:200]
        )


def _redirect(plugin, base: str) -> None:
    """Send a bot's webhook to `base` (scheme://host:port) instead of the provider's host, keeping
    the path: how the tests reach a stub on 127.0.0.1."""
    from urllib.parse import urlsplit, urlunsplit

    target = urlsplit(base)
    for attr in ("notify_url", "api_url"):
        url = getattr(plugin, attr, None)
        if url:
            parts = urlsplit(url)
            setattr(plugin, attr, urlunsplit((target.scheme, target.netloc, parts.path, parts.query, "")))
