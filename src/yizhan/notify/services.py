"""`notify()`: the one verb every app uses to tell people things.

    notify(recipients, "feedback-overdue", {"station": "三峡广场驿站", "days": 2}, key=f"fb-{pk}")

Checked when a message is queued: the template's variables (an unknown or missing one is refused
before anything is stored), consent (a member of the public receives nothing without a recorded
opt-in to the template's topic), staff mutes (non-urgent kinds), quiet hours (22:00–08:00 Beijing
time by default: SMS, e-mail and bot messages are held until the morning unless urgent; the
in-app inbox rings nothing and is not held) and the de-duplication key (one message per
key, recipient and channel: a retried job queues nothing twice). Checked again just before
sending: the per-recipient frequency caps the SMS providers enforce, so a message waits for its
window instead of failing at the provider.

Delivery runs on the queue (`deliver_due`): queued → sending → sent → delivered, or failed
(temporary failures are retried up to MAX_ATTEMPTS, permanent ones are not).
"""

import datetime
import secrets
import string
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core.approval import Approval
from yizhan.core.masking import mask_contact
from yizhan.notify import channels
from yizhan.notify.models import Channel, Consent, Message, Mute, Template

MAX_ATTEMPTS = 3
BATCH = 500


def _sending_lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.YIZHAN_NOTIFY_SENDING_LEASE_SECONDS)


@dataclass(frozen=True)
class Recipient:
    """A staff member (`user`) or a member of the public at an address (a phone number)."""

    unit_id: int
    user: object = None
    address: str = ""
    channel: str = ""  # the recipient's own channel (a group bot); else the caller's or the default

    @property
    def ident(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else self.address


def staff(users, unit=None) -> list[Recipient]:
    from yizhan.orgs.models import Membership

    memberships = {m.user_id: m.unit_id for m in Membership.objects.filter(user__in=users)}
    return [
        Recipient(unit_id=unit.pk if unit else memberships[u.pk], user=u)
        for u in users
        if u.pk in memberships
    ]


def public(address: str, unit) -> Recipient:
    return Recipient(unit_id=unit.pk, address=address)


def bot(url: str, unit) -> Recipient:
    """A WeCom / DingTalk / Feishu group bot (its Apprise URL): staff's own group, no consent."""
    return Recipient(unit_id=unit.pk, address=url, channel=Channel.BOT)


def shown_address(message) -> str:
    """The recipient as lists show it: a number masked, a bot without its secret key."""
    if message.user_id:
        return message.user.get_username()
    if message.channel == Channel.BOT:
        return message.address.split("://", 1)[0] + "://…"
    return mask_contact(message.address)


# --- templates ------------------------------------------------------------------------------------


def current_template(key: str) -> Template:
    template = Template.objects.filter(key=key, active=True).order_by("-version").first()
    if template is None:
        raise ValidationError(
            {"template": _("No active message template is called “%(key)s”.") % {"key": key[:60]}}
        )
    return template


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


TEMPLATE_FIELDS = ["name", "text_zh", "text_en", "sms_template_code", "sms_signature", "urgent"]


def clean_template(data: dict) -> dict:
    """One set of rules for the page, the API and internal callers. Placeholders must be declared
    variables: an unknown one is refused naming the text it is in."""
    errors = {}
    text_zh, text_en = (data.get("text_zh") or "").strip(), (data.get("text_en") or "").strip()
    name = (data.get("name") or "").strip()
    if not text_zh:
        errors["text_zh"] = _("Write the Chinese text.")
    if not name:
        errors["name"] = _("Give the template a name.")
    for field, most in (("name", 100), ("text_zh", 500), ("text_en", 1000), ("sms_template_code", 40),
                        ("sms_signature", 20)):  # fmt: skip
        value = data.get(field) or ""
        if not isinstance(value, str):
            errors[field] = _("Enter text.")
        elif len(value.strip()) > most:
            errors[field] = _("At most %(n)s characters.") % {"n": most}
    variables = data.get("variables") or []
    if not isinstance(variables, list) or not all(isinstance(v, str) and v.isidentifier() for v in variables):
        errors["variables"] = _("Variables are names of letters, digits and _, such as station.")
        variables = []
    declared = set(variables)
    for field, text in (("text_zh", text_zh), ("text_en", text_en)):
        try:
            used = placeholders(text)
        except ValueError:
            errors[field] = _("A { or } is unbalanced; write {{ or }} for a brace itself.")
            continue
        unknown = used - declared
        if unknown:
            errors[field] = _("Unknown variable: %(names)s.") % {"names": ", ".join(sorted(unknown))[:200]}
    if errors:
        raise ValidationError(errors)
    out = {**data, "text_zh": text_zh, "text_en": text_en, "name": name, "variables": variables}
    for field in ("sms_template_code", "sms_signature"):
        out[field] = (data.get(field) or "").strip()
    out["urgent"] = bool(data.get("urgent"))
    return out


def save_template(*, actor, key: str, based_on: int | None = None, **data) -> Template:
    """A new version of `key` (templates are never edited in place: what was sent stays readable).
    A new version keeps the variables and topic of the one before: the code that sends it and the
    consents given for it depend on them. `based_on` is the version the writer saw; a newer one
    saved meanwhile refuses the save (nothing is silently superseded)."""
    from yizhan.audit.services import record
    from yizhan.orgs.scoping import require

    if actor is not None:
        require(actor, "hq_admin")
    with transaction.atomic():
        latest = Template.objects.select_for_update().filter(key=key).order_by("-version").first()
        if latest is not None:
            if based_on is not None and based_on != latest.version:
                raise ValidationError(
                    {"based_on": _("Version %(n)s was saved meanwhile; read it and write yours again.")
                     % {"n": latest.version}}
                )  # fmt: skip
            if "variables" in data and list(data["variables"] or []) != list(latest.variables):
                raise ValidationError(
                    {"variables": _("A new version keeps the variables of the one before.")}
                )
            data = {"variables": latest.variables, "topic": latest.topic, **data}
        data = clean_template(data)
        values = {f: data[f] for f in TEMPLATE_FIELDS}
        template = Template.objects.create(
            key=key, version=(latest.version + 1) if latest else 1, variables=data["variables"],
            topic=data.get("topic") or "", **values,
        )  # fmt: skip
        before = {f: getattr(latest, f) for f in TEMPLATE_FIELDS} if latest else {}
        changes = {f: [before.get(f), values[f]] for f in TEMPLATE_FIELDS if before.get(f) != values[f]}
        record("notify.template_saved", template, actor=actor,
               changes={"version": [latest.version if latest else None, template.version], **changes})  # fmt: skip
    return template


def template_keys():
    """The newest version of every template key."""
    newest = {}
    for template in Template.objects.order_by("key", "-version"):
        newest.setdefault(template.key, template)
    return list(newest.values())


def known_topics() -> list[str]:
    return sorted(set(Template.objects.exclude(topic="").values_list("topic", flat=True)))


def topic_choices() -> list[tuple[str, str]]:
    """(topic, the name of the newest template of it), for pages."""
    return sorted({t.topic: t.name for t in reversed(template_keys()) if t.topic}.items())


def render(template: Template, context: dict, language: str = "zh-hans") -> str:
    missing = set(template.variables) - set(context)
    unknown = set(context) - set(template.variables)
    if missing or unknown:
        raise ValidationError(
            {"context": _("The message needs %(missing)s and does not know %(unknown)s.")
             % {"missing": ", ".join(sorted(missing)) or "—", "unknown": ", ".join(sorted(unknown))[:200] or "—"}}
        )  # fmt: skip
    text = template.text_en if language.startswith("en") and template.text_en else template.text_zh
    return text.format(**{k: str(v) for k, v in context.items()})


# --- quiet hours and caps ------------------------------------------------------------------------


def quiet_until(now: datetime.datetime) -> datetime.datetime | None:
    """The end of the quiet hours `now` falls in, or None outside them."""
    start, end = settings.YIZHAN_NOTIFY_QUIET_HOURS
    local = timezone.localtime(now)
    if start == end:
        return None
    in_quiet = local.hour >= start or local.hour < end if start > end else start <= local.hour < end
    if not in_quiet:
        return None
    morning = local.replace(hour=end, minute=0, second=0, microsecond=0)
    return morning if morning > local else morning + datetime.timedelta(days=1)


def caps(channel: str) -> list[tuple[int, int]]:
    """[(window seconds, most messages per recipient in it)] for a channel."""
    return settings.YIZHAN_NOTIFY_CAPS.get(channel, [])


# --- queueing -------------------------------------------------------------------------------------


@dataclass
class Summary:
    queued: int = 0
    held: int = 0
    refused: int = 0
    duplicates: int = 0


def notify(recipients, template: str | Template, context: dict, *, channel: str | None = None,
           not_before: datetime.datetime | None = None, key: str | None = None) -> Summary:  # fmt: skip
    """Queue one message per recipient. `key` names the occasion ("fb-overdue-123"); without it
    every call is a new occasion."""
    template = template if isinstance(template, Template) else current_template(template)
    if channel is not None and channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    text = render(template, context, "zh-hans")  # as sent; the inbox shows each reader their language
    context = {k: str(v) for k, v in context.items()}
    now = timezone.now()
    occasion = key or secrets.token_hex(8)
    quiet = None if template.urgent else quiet_until(now)
    # Quiet hours keep phones from ringing at night; the in-app inbox rings nothing, so it is not held.
    hold_for = {
        False: max(filter(None, [not_before, quiet]), default=None),
        True: not_before,
    }
    recipients = list(recipients)
    consented = _consented(
        {r.address for r in recipients if r.user is None and not r.channel}, template.topic
    )
    muted = set() if template.urgent else set(
        Mute.objects.filter(key=template.key, user__in=[r.user for r in recipients if r.user]).values_list("user_id", flat=True)
    )  # fmt: skip
    summary = Summary()
    rows, seen = [], set()
    for r in recipients:
        chan = r.channel or channel or (Channel.INBOX if r.user is not None else Channel.SMS)
        dedup = f"{template.key}:{occasion}:{chan}:{r.ident}"[:200]
        if dedup in seen:
            summary.duplicates += 1
            continue
        seen.add(dedup)
        state, reason = Message.State.QUEUED, ""
        hold_until = hold_for[chan == Channel.INBOX]
        if r.user is None and chan != Channel.BOT and r.address not in consented:
            state, reason = Message.State.REFUSED, _("No opt-in recorded for this number.")
        elif r.user is not None and r.user.pk in muted:
            state, reason = Message.State.REFUSED, _("The recipient muted this kind of message.")
        elif hold_until and hold_until > now:
            state = Message.State.HELD
        rows.append(
            (chan, r.user.pk if r.user is not None else None, r.address, r.unit_id, dedup, state, reason,
             hold_until)
        )  # fmt: skip
    existing = set()
    keys = [row[4] for row in rows]
    for start in range(0, len(keys), 5000):
        existing.update(
            Message.objects.filter(dedup_key__in=keys[start : start + 5000]).values_list(
                "dedup_key", flat=True
            )
        )
    fresh = [row for row in rows if row[4] not in existing]
    summary.duplicates += len(rows) - len(fresh)
    shared = {
        "template_id": template.pk,
        "text": text,
        "context": context,
        "created_at": now,
    }
    with transaction.atomic():
        _insert(fresh, shared)
        by_state = Counter(row[5] for row in fresh)
        if by_state.get(Message.State.QUEUED):
            transaction.on_commit(lambda: _kick(by_state[Message.State.QUEUED]))
    summary.queued = by_state.get(Message.State.QUEUED, 0)
    summary.held = by_state.get(Message.State.HELD, 0)
    summary.refused = by_state.get(Message.State.REFUSED, 0)
    return summary


_VARYING = ("channel", "user_id", "address", "unit_id", "dedup_key", "state", "reason", "not_before")


def _insert(rows: list[tuple], shared: dict) -> None:
    """One INSERT … ON CONFLICT DO NOTHING run with executemany. Why not bulk_create: for a fan-out
    it spent four fifths of the time preparing each field of each row (measured: 20,000 rows,
    20 of 26 s), while here all but eight columns hold the same value, prepared once."""
    from django.db import connection

    if not rows:
        return
    fields = {f.attname: f for f in Message._meta.concrete_fields if f.attname != "id"}
    constant = {"attempts": 0, "provider_id": "", "sent_at": None, "delivered_at": None, "read_at": None,
                "claim": "", **shared}  # fmt: skip
    prepared = {name: fields[name].get_db_prep_save(value, connection) for name, value in constant.items()}
    columns = list(_VARYING) + list(prepared)
    quote = connection.ops.quote_name
    # Identifiers come from the model; every value is a parameter.
    names = ", ".join(quote(fields[c].column) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {quote(Message._meta.db_table)} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"  # noqa: S608
    tail = tuple(prepared.values())
    # A fan-out holds at most two distinct not_before values: prepare each once.
    when = {v: fields["not_before"].get_db_prep_save(v, connection) for v in {row[-1] for row in rows}}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(
                sql, [row[:-1] + (when[row[-1]],) + tail for row in rows[start : start + 5000]]
            )


def _consented(addresses: set[str], topic: str) -> set[str]:
    if not addresses:
        return set()
    found = set()
    address_list = list(addresses)
    for start in range(0, len(address_list), 5000):
        found.update(
            Consent.objects.filter(
                address__in=address_list[start : start + 5000], topic=topic, withdrawn_at__isnull=True
            ).values_list("address", flat=True)
        )
    return found


def _kick(queued: int) -> None:
    """Start delivery now rather than at the next minute: one run per worker for a large send."""
    from django_q.tasks import async_task

    runs = max(1, min(-(-queued // BATCH), settings.Q_CLUSTER["workers"]))
    for _run in range(runs):
        async_task("yizhan.notify.services.deliver_due", save=False)


# --- delivery -------------------------------------------------------------------------------------


def release_held(now=None) -> int:
    now = now or timezone.now()
    return Message.objects.filter(state=Message.State.HELD, not_before__lte=now).update(
        state=Message.State.QUEUED
    )


def deliver_due(limit: int | None = None) -> int:
    """Send what is due, batch by batch, until nothing is left (or `limit` messages). Several
    workers may run this at once: each batch is claimed by one conditional UPDATE."""
    release_held()
    _recover_stuck()
    sent = 0
    while limit is None or sent < limit:
        batch = _claim()
        if not batch:
            break
        sent += _send(batch)
    return sent


def _claim() -> list[Message]:
    now = timezone.now()
    token = secrets.token_hex(8)
    due = (
        Message.objects.filter(
            Q(state=Message.State.QUEUED) | Q(state=Message.State.FAILED_TEMP, not_before__lte=now)
        )
        .order_by("pk")
        .values("pk")[:BATCH]
    )
    with transaction.atomic():
        Message.objects.filter(pk__in=list(due.values_list("pk", flat=True))).filter(
            Q(state=Message.State.QUEUED) | Q(state=Message.State.FAILED_TEMP)
        ).update(state=Message.State.SENDING, claim=token, sent_at=now)
    return list(
        Message.objects.select_related("template")
        .filter(claim=token, state=Message.State.SENDING)
        .order_by("pk")
    )


def _recover_stuck() -> int:
    """Messages a killed worker held in `sending` go back to the queue once their lease lapsed."""
    lapsed = timezone.now() - _sending_lease()
    return Message.objects.filter(state=Message.State.SENDING, sent_at__lt=lapsed).update(
        state=Message.State.QUEUED, claim=""
    )


def _send(batch: list[Message]) -> int:
    """Check the caps, hand the rest to the channel's adapter, write each outcome."""
    now = timezone.now()
    held = _over_cap(batch, now)
    sendable = [m for m in batch if m.pk not in held]
    for pk, until in held.items():
        Message.objects.filter(pk=pk).update(state=Message.State.HELD, not_before=until, claim="",
                                             reason=_("Held by the frequency cap."))  # fmt: skip
    by_channel: dict[str, list[Message]] = {}
    for message in sendable:
        by_channel.setdefault(message.channel, []).append(message)
    done = 0
    for channel, messages in by_channel.items():
        try:
            outcomes = channels.adapter(channel).send(messages)
        except Exception as exc:  # noqa: BLE001 — a provider's outage is a temporary failure of the batch
            outcomes = [channels.Outcome(ok=False, reason=str(exc)[:200]) for _m in messages]
        ok = [(m, o) for m, o in zip(messages, outcomes, strict=True) if o.ok]
        with transaction.atomic():
            # The common case (the outbox, the inbox) in one statement; a provider's ids row by row.
            plain = [m.pk for m, o in ok if o.delivered and not o.provider_id]
            if plain:
                Message.objects.filter(pk__in=plain).update(
                    state=Message.State.DELIVERED, delivered_at=now, claim="", attempts=F("attempts") + 1
                )
            for m, o in ok:
                if o.provider_id or not o.delivered:
                    Message.objects.filter(pk=m.pk).update(
                        state=Message.State.DELIVERED if o.delivered else Message.State.SENT,
                        delivered_at=now if o.delivered else None,
                        provider_id=o.provider_id[:100], claim="", attempts=m.attempts + 1,
                    )  # fmt: skip
            for m, o in zip(messages, outcomes, strict=True):
                if o.ok:
                    continue
                attempts = m.attempts + 1
                final = o.permanent or attempts >= MAX_ATTEMPTS
                Message.objects.filter(pk=m.pk).update(
                    state=Message.State.FAILED if final else Message.State.FAILED_TEMP,
                    attempts=attempts, reason=o.reason[:300], claim="",
                    not_before=None if final else now + datetime.timedelta(minutes=2**attempts),
                )  # fmt: skip
        done += len(ok)
    return done


def _over_cap(batch: list[Message], now) -> dict[int, datetime.datetime]:
    """Messages that would exceed a recipient's cap, with when their window frees."""
    held: dict[int, datetime.datetime] = {}
    for channel in {m.channel for m in batch}:
        limits = caps(channel)
        members = [m for m in batch if m.channel == channel]
        if not limits:
            continue
        addresses = {m.address or f"u{m.user_id}" for m in members}
        widest = max(seconds for seconds, _n in limits)
        counts = _recent_counts(channel, addresses, now - datetime.timedelta(seconds=widest), limits, now)
        pending: Counter = Counter()
        for m in members:
            ident = m.address or f"u{m.user_id}"
            for seconds, most in limits:
                if counts.get((ident, seconds), (0, None))[0] + pending[(ident, seconds)] >= most:
                    latest = counts.get((ident, seconds), (0, now))[1] or now
                    held[m.pk] = latest + datetime.timedelta(seconds=seconds)
                    break
            else:
                for seconds, _most in limits:
                    pending[(ident, seconds)] += 1
    return held


def _recent_counts(channel, idents, since, limits, now) -> dict:
    addresses = [i for i in idents if not i.startswith("u")]
    user_ids = [int(i[1:]) for i in idents if i.startswith("u")]
    sent = Message.objects.filter(
        channel=channel, state__in=[Message.State.SENT, Message.State.DELIVERED], sent_at__gte=since
    ).filter(Q(address__in=addresses) | Q(user_id__in=user_ids))
    annotations = {}
    for seconds, _most in limits:
        annotations[f"n{seconds}"] = Count(
            "pk", filter=Q(sent_at__gte=now - datetime.timedelta(seconds=seconds))
        )
    result = {}
    for row in sent.values("address", "user_id").annotate(latest=Max("sent_at"), **annotations):
        ident = row["address"] or f"u{row['user_id']}"
        for seconds, _most in limits:
            result[(ident, seconds)] = (row[f"n{seconds}"], row["latest"])
    return result


# --- delivery receipts ---------------------------------------------------------------------------

RECEIPT_PROVIDERS = ("aliyun", "tencent")


@dataclass(frozen=True)
class Receipt:
    provider_id: str
    delivered: bool
    reason: str = ""
    message_pk: int | None = None  # Aliyun hands back our OutId


def parse_receipts(provider: str, reports) -> list[Receipt]:
    """The provider's status report (a JSON list) as receipts; raises ValidationError naming the row."""
    if not isinstance(reports, list):
        raise ValidationError({"body": _("A status report is a list of receipts.")})
    found = []
    for row, item in enumerate(reports[:1000], start=1):
        if not isinstance(item, dict):
            raise ValidationError({f"body[{row}]": _("Each receipt is an object.")})
        if provider == "aliyun":
            ident, ok = item.get("biz_id"), item.get("success")
            reason = f"{item.get('err_code', '')}: {item.get('err_msg', '')}"
            out_id = str(item.get("out_id") or "")
            pk = int(out_id) if out_id.isdigit() and len(out_id) < 18 else None
        else:
            ident, ok = item.get("sid"), {"SUCCESS": True, "FAIL": False}.get(item.get("report_status"))
            reason = f"{item.get('errmsg', '')}: {item.get('description', '')}"
            pk = None
        if not isinstance(ident, str) or not ident or len(ident) > 100 or not isinstance(ok, bool):
            raise ValidationError(
                {f"body[{row}]": _("A receipt needs the provider's message id and its outcome.")}
            )
        found.append(Receipt(ident, ok, "" if ok else str(reason)[:300], pk))
    return found


def record_receipts(receipts: list[Receipt]) -> int:
    """Sent → delivered or failed, by the provider's message id. Idempotent (a repeated receipt
    finds the message no longer in `sent` and changes nothing). A receipt naming our own id (Aliyun's
    OutId) also settles a message whose send timed out on our side though the provider took it:
    it is not retried, so it is not sent twice."""
    now = timezone.now()
    changed = 0
    with transaction.atomic():
        for receipt in receipts:
            match = Q(channel=Channel.SMS, provider_id=receipt.provider_id, state=Message.State.SENT)
            if receipt.message_pk is not None:
                match |= Q(channel=Channel.SMS, pk=receipt.message_pk,
                           state__in=[Message.State.SENT, Message.State.FAILED_TEMP])  # fmt: skip
            values = (
                {"state": Message.State.DELIVERED, "delivered_at": now}
                if receipt.delivered
                else {"state": Message.State.FAILED, "reason": receipt.reason}
            )
            changed += Message.objects.filter(match).update(provider_id=receipt.provider_id, **values)
    return changed


# --- consent, opt-out, mutes, inbox ----------------------------------------------------------------


def clean_phone(value: str, field: str = "address") -> str:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) != 11 or not digits.startswith("1"):
        raise ValidationError({field: _("Enter an 11-digit mobile number.")})
    return digits


def clean_consent(data: dict) -> dict:
    errors = {}
    try:
        address = clean_phone(data.get("address") or "", "address")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        address = ""
    topic = data.get("topic") or ""
    if topic not in known_topics():
        errors["topic"] = _("Choose a kind of message members of the public can opt in to.")
    how = data.get("how") or ""
    if not isinstance(how, str) or not how.strip():
        errors["how"] = _("Say how the consent was given (a signed form, a reply, a web page).")
    elif len(how.strip()) > 200:
        errors["how"] = _("At most %(n)s characters.") % {"n": 200}
    if errors:
        raise ValidationError(errors)
    return {"address": address, "topic": topic, "how": how.strip()}


def record_consent(*, address: str, topic: str, how: str, unit, actor=None) -> Consent:
    """An opt-in: what (the topic), when (now), how it was given, at which outlet."""
    from yizhan.audit.services import record

    values = clean_consent({"address": address, "topic": topic, "how": how})
    if actor is not None:
        from yizhan.orgs.scoping import require, scope_for

        require(actor, "change")
        if not scope_for(actor).covers(unit.path):
            raise ValidationError({"unit": _("This unit is outside your part of the network.")})
    with transaction.atomic():
        consent, _created = Consent.objects.update_or_create(
            address=values["address"], topic=values["topic"],
            defaults={"given_at": timezone.now(), "how": values["how"], "withdrawn_at": None, "withdrawn_how": "",
                      "unit": unit},
        )  # fmt: skip
        record(
            "notify.consent_given",
            consent,
            actor=actor,
            changes={"topic": [None, values["topic"]], "how": [None, consent.how]},
        )
    return consent


def opt_out(address: str, *, how: str, topic: str | None = None, actor=None) -> int:
    """A reply of TD (退订) or the link in a message: every (or one) topic for that number stops."""
    from yizhan.audit.services import record

    address = clean_phone(address)
    with transaction.atomic():
        consents = Consent.objects.filter(address=address, withdrawn_at__isnull=True)
        if topic:
            consents = consents.filter(topic=topic)
        withdrawn = list(consents)
        consents.update(withdrawn_at=timezone.now(), withdrawn_how=how[:200])
        for consent in withdrawn:
            record(
                "notify.consent_withdrawn",
                consent,
                actor=actor,
                changes={"withdrawn": [False, True], "how": [None, how[:200]]},
            )
        # Messages not yet sent to that number are not sent.
        Message.objects.filter(address=address, state__in=[Message.State.QUEUED, Message.State.HELD]).filter(
            Q(template__topic=topic) if topic else Q()
        ).update(state=Message.State.REFUSED, reason=_("The recipient opted out."))
    return len(withdrawn)


def withdraw_consent(consent: Consent, *, actor, how: str) -> int:
    """Staff record an opt-out they were told of (a call, a visit to the counter)."""
    from yizhan.orgs.scoping import require

    require(actor, "change")
    if not isinstance(how, str) or not how.strip():
        raise ValidationError({"how": _("Say how the person asked to stop (a call, at the counter).")})
    if consent.withdrawn_at is not None:
        raise ValidationError({"state": _("This consent was already withdrawn.")})
    return opt_out(consent.address, how=how.strip()[:200], topic=consent.topic, actor=actor)


def is_opt_out_reply(text: str) -> bool:
    return (text or "").strip().upper() in {"TD", "T", "退订", "N"}


def set_mute(user, key: str, muted: bool) -> None:
    if muted:
        Mute.objects.get_or_create(user=user, key=key)
    else:
        Mute.objects.filter(user=user, key=key).delete()


def unread_count(user) -> int:
    return Message.objects.filter(
        user=user, channel=Channel.INBOX, read_at__isnull=True, state=Message.State.DELIVERED
    ).count()


def mark_read(user, pks=None) -> int:
    items = Message.objects.filter(user=user, channel=Channel.INBOX, read_at__isnull=True)
    if pks is not None:
        items = items.filter(pk__in=pks)
    return items.update(read_at=timezone.now())


# --- broadcasts: an audience by the org tree, maker-checker above a size --------------------------


def audience(unit, roles):
    """The staff with one of `roles` anywhere in `unit`'s subtree."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(
        is_active=True, membership__unit__path__startswith=unit.path, membership__role__in=roles
    )


def clean_broadcast(data: dict) -> dict:
    from yizhan.orgs.models import Role

    errors = {}
    roles = data.get("roles") or []
    if not isinstance(roles, list) or not roles or any(r not in Role.values for r in roles):
        errors["roles"] = _("Choose one or more roles.")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = _("Write the message.")
    elif len(text) > 500:
        errors["text"] = _("At most 500 characters.")
    if errors:
        raise ValidationError(errors)
    return {"roles": sorted(set(roles)), "text": text.strip()}


BROADCASTS = Approval(pending="pending")


def propose_broadcast(*, actor, unit, **data):
    """Count the audience; send at once when it is small, else wait for a second person."""
    from yizhan.audit.services import record
    from yizhan.notify.models import Broadcast
    from yizhan.orgs.scoping import require

    require(actor, "admin")
    values = clean_broadcast(data)
    users = list(audience(unit, values["roles"]))
    if not users:
        raise ValidationError({"roles": _("Nobody of these roles works in this unit's subtree.")})
    template = current_template("notice")
    waits = BROADCASTS.required(len(users), settings.YIZHAN_NOTIFY_APPROVAL_ABOVE)
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            unit=unit, roles=values["roles"], template=template, context={"text": values["text"]},
            recipients=len(users), state=Broadcast.State.PENDING if waits else Broadcast.State.SENT,
            created_by=actor, decided_at=None if waits else timezone.now(),
        )  # fmt: skip
        record("notify.broadcast_proposed", broadcast, actor=actor, unit=unit,
               changes={"recipients": [None, len(users)]})  # fmt: skip
        if not waits:
            _send_broadcast(broadcast, users)
    return broadcast


def approve_broadcast(broadcast, *, actor):
    from yizhan.notify.models import Broadcast
    from yizhan.orgs.scoping import require

    require(actor, "admin")
    with transaction.atomic():
        locked = BROADCASTS.approve(
            broadcast, actor=actor, to=Broadcast.State.SENT, action="notify.broadcast_approved",
            own=_("You wrote this message; a second person must approve it."), unit=broadcast.unit,
        )  # fmt: skip
        _send_broadcast(locked, list(audience(locked.unit, locked.roles)))
    return locked


def reject_broadcast(broadcast, *, actor):
    from yizhan.notify.models import Broadcast
    from yizhan.orgs.scoping import require

    require(actor, "admin")
    return BROADCASTS.reject(broadcast, actor=actor, to=Broadcast.State.REJECTED,
                             action="notify.broadcast_rejected", unit=broadcast.unit)  # fmt: skip


def _send_broadcast(broadcast, users) -> None:
    notify(
        [Recipient(unit_id=broadcast.unit_id, user=u) for u in users], broadcast.template, broadcast.context,
        key=f"broadcast-{broadcast.pk}",
    )  # fmt: skip
