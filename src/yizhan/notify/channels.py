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
