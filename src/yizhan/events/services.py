"""Events, occurrences, sign-ups, the waiting list and attendance: the verbs pages and API share.

Every verb validates with the `clean_*` functions here, runs in one transaction and records an
audit event. Verbs that change an occurrence's places lock its row first, so the confirmed never
exceed the capacity and the waiting list is served strictly in order, also under a rush.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.events.models import (
    ACTIVE,
    TARGET_GROUP_CODES,
    Event,
    EventPhoto,
    Kind,
    MessageLog,
    Occurrence,
    Registration,
    Scan,
    Source,
    State,
)
from yizhan.orgs.scoping import scope_for
from yizhan.stations.models import Station

TITLE_LIMIT = 120
TEXT_LIMIT = 4000
MAX_CAPACITY = 100_000
MAX_PARTY = 20
CONSENT_TOPIC = "events"

# The participant states and the steps between them (CiviCRM's allowed transitions).
TRANSITIONS = {
    State.WAITLISTED: {State.OFFERED, State.CANCELLED},
    State.OFFERED: {State.CONFIRMED, State.EXPIRED, State.CANCELLED},
    State.CONFIRMED: {State.ATTENDED, State.NO_SHOW, State.CANCELLED},
    State.ATTENDED: {State.NO_SHOW},  # corrected from the paper sheet
    State.NO_SHOW: {State.ATTENDED},
    State.CANCELLED: set(),
    State.EXPIRED: set(),
}
HOLDS_PLACE = {State.CONFIRMED, State.OFFERED, State.ATTENDED, State.NO_SHOW}


def _step(reg: Registration, target: str) -> None:
    if target not in TRANSITIONS[State(reg.state)]:
        raise ValidationError(
            {"state": _("A participant who is “%(from)s” cannot become “%(to)s”.")
             % {"from": State(reg.state).label, "to": State(target).label}}
        )  # fmt: skip
    reg.state = target


# --- validation shared by forms, API and the demo -------------------------------------------------


def clean_text(value, *, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": limit}})
    return text


def clean_int(value, *, field: str, low: int, high: int, default=None) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if not low <= number <= high:
        raise ValidationError(
            {field: _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        )
    return number


def clean_when(value, *, field: str, required: bool = False) -> datetime.datetime | None:
    if value in (None, ""):
        if required:
            raise ValidationError({field: _("Enter a date and time.")})
        return None
    if isinstance(value, datetime.datetime):
        when = value
    else:
        try:
            when = parse_datetime(str(value).strip().replace(" ", "T"))
        except ValueError:
            when = None
        if when is None:
            raise ValidationError({field: _("Enter a date and time as 2026-05-12 09:30.")})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if not 2000 <= when.year <= 2100:
        raise ValidationError({field: _("Enter a date between 2000 and 2100.")})
    return when


def clean_groups(value, *, field: str = "target_groups") -> list[str]:
    if value in (None, ""):
        return []
    codes = [value] if isinstance(value, str) else list(value)
    unknown = [str(c)[:30] for c in codes if c not in TARGET_GROUP_CODES]
    if unknown:
        raise ValidationError({field: _("Unknown group: %(codes)s.") % {"codes": ", ".join(unknown)[:100]}})
    return list(dict.fromkeys(codes))


EVENT_FIELDS = [
    "title", "kind", "target_groups", "description", "speakers", "partners", "capacity", "max_party",
    "signup_opens", "signup_closes", "public", "offer_hours", "campaign_id",
]  # fmt: skip


def clean_event(data: dict) -> dict:
    errors, out = {}, {}

    def take(field, fn):
        try:
            out[field] = fn()
        except ValidationError as exc:
            errors.update(exc.message_dict)

    take("title", lambda: clean_text(data.get("title"), field="title", limit=TITLE_LIMIT, required=True))
    kind = str(data.get("kind") or "")
    if kind not in Kind.values:
        errors["kind"] = [_("Choose the kind of event.")]
    out["kind"] = kind
    take("target_groups", lambda: clean_groups(data.get("target_groups")))
    take("description", lambda: clean_text(data.get("description"), field="description", limit=TEXT_LIMIT))
    take("speakers", lambda: clean_text(data.get("speakers"), field="speakers", limit=300))
    take("partners", lambda: clean_text(data.get("partners"), field="partners", limit=300))
    take(
        "capacity",
        lambda: clean_int(data.get("capacity"), field="capacity", low=1, high=MAX_CAPACITY, default=30),
    )
    take(
        "max_party",
        lambda: clean_int(data.get("max_party"), field="max_party", low=1, high=MAX_PARTY, default=4),
    )
    take(
        "offer_hours",
        lambda: clean_int(data.get("offer_hours"), field="offer_hours", low=1, high=168, default=24),
    )
    take("signup_opens", lambda: clean_when(data.get("signup_opens"), field="signup_opens"))
    take("signup_closes", lambda: clean_when(data.get("signup_closes"), field="signup_closes"))
    public = data.get("public", True)
    out["public"] = public if isinstance(public, bool) else str(public).lower() in {"1", "true", "on", "yes"}
    if (
        not errors
        and out["signup_opens"]
        and out["signup_closes"]
        and out["signup_closes"] <= out["signup_opens"]
    ):
        errors["signup_closes"] = [_("Sign-up must close after it opens.")]
    if errors:
        raise ValidationError(errors)
    return out


def _campaign_for(actor, value):
    from yizhan.events.models import Campaign
    from yizhan.orgs.scoping import scoped

    if value in (None, ""):
        return None
    try:
        return scoped(actor, Campaign).get(pk=int(value))
    except (Campaign.DoesNotExist, TypeError, ValueError):
        raise ValidationError({"campaign": _("No such campaign in your area.")}) from None


def _unit_for(actor, unit):
    scope = scope_for(actor)
    if unit is None or not scope.covers(unit.path):
        raise ValidationError({"unit": _("Choose a unit in your area.")})
    return unit


@transaction.atomic
def create_event(*, actor, unit, campaign=None, **data) -> Event:
    unit = _unit_for(actor, unit)
    values = clean_event(data)
    event = Event.objects.create(unit=unit, campaign=_campaign_for(actor, campaign), **values)
    record(
        "events.event_created", event, actor=actor, unit=unit, changes=diff({}, snapshot(event, EVENT_FIELDS))
    )
    return event


@transaction.atomic
def update_event(event: Event, *, actor, revision=None, campaign=None, **data) -> Event:
    event = Event.objects.select_for_update().get(pk=event.pk)
    concurrency.check(event, revision, actor=actor)
    values = clean_event(data)
    before = snapshot(event, EVENT_FIELDS)
    for key, value in values.items():
        setattr(event, key, value)
    event.campaign = _campaign_for(actor, campaign)
    changes = diff(before, snapshot(event, EVENT_FIELDS))
    if not changes:
        return event
    concurrency.advance(event, changes, actor=actor)
    event.save()
    record("events.event_updated", event, actor=actor, unit=event.unit, changes=changes)
    return event


@transaction.atomic
def report_event(event: Event, *, actor, note: str = "", people=None, revision=None) -> Event:
    """After the event: a short record of what happened and how many were reached."""
    event = Event.objects.select_for_update().get(pk=event.pk)
    concurrency.check(event, revision, actor=actor)
    note = clean_text(note, field="report_note", limit=TEXT_LIMIT)
    people = (
        None if people in (None, "") else clean_int(people, field="report_people", low=0, high=10_000_000)
    )
    before = snapshot(event, ["report_note", "report_people"])
    event.report_note, event.report_people = note, people
    changes = diff(before, snapshot(event, ["report_note", "report_people"]))
    if changes:
        concurrency.advance(event, changes, actor=actor)
        event.save()
        record("events.event_reported", event, actor=actor, unit=event.unit, changes=changes)
    return event


MAX_PHOTOS = 12


def _store_photo(data: bytes) -> str:
    import uuid

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    now = timezone.localtime()
    return default_storage.save(f"events/{now:%Y/%m}/{uuid.uuid4().hex}.jpg", ContentFile(data))


def add_report_photo(event: Event, *, actor, upload, caption: str = "") -> EventPhoto:
    """A photo for the after-event record. Its bytes decide: the reports' photo reader
    (`yizhan.visits.photos`, as service cases use it) decodes JPEG, PNG or WebP only, refuses
    what is too large or has too many pixels, and stores a fresh JPEG without metadata."""
    from yizhan.visits import photos

    caption = clean_text(caption, field="caption", limit=120)
    data = photos.clean_photo(upload, field="photo")
    if data is None:
        raise ValidationError({"photo": _("Choose a photo (JPEG, PNG or WebP).")})
    path = _store_photo(data)
    try:
        with transaction.atomic():
            event = Event.objects.select_for_update().select_related("unit").get(pk=event.pk)
            if event.photos.count() >= MAX_PHOTOS:
                raise ValidationError({"photo": _("At most %(n)s photos per event.") % {"n": MAX_PHOTOS}})
            photo = EventPhoto.objects.create(event=event, path=path, caption=caption, by=actor)
            record("events.photo_added", event, actor=actor, unit=event.unit,
                   changes={"photo": [None, caption or str(photo.pk)]})  # fmt: skip
    except BaseException:
        photos.delete(path)  # nothing half-written: no file without its row
        raise
    return photo


@transaction.atomic
def remove_report_photo(photo: EventPhoto, *, actor) -> None:
    from yizhan.visits import photos

    event = Event.objects.select_for_update().select_related("unit").get(pk=photo.event_id)
    path = photo.path
    photo.delete()
    record("events.photo_removed", event, actor=actor, unit=event.unit,
           changes={"photo": [photo.caption or str(path.rsplit("/", 1)[-1]), None]})  # fmt: skip
    transaction.on_commit(lambda: photos.delete(path))


# --- occurrences ----------------------------------------------------------------------------------


def _stations_for(event: Event, actor, codes) -> list[Station]:
    codes = [codes] if isinstance(codes, str) else list(codes or [])
    codes = [str(c).strip() for c in codes if str(c).strip()]
    if not codes:
        raise ValidationError({"stations": _("Choose at least one station.")})
    if len(codes) > 500:
        raise ValidationError({"stations": _("At most 500 stations at once.")})
    scope = scope_for(actor) if actor is not None else None
    found = {s.code: s for s in Station.objects.public().select_related("unit").filter(code__in=codes)}
    for code in codes:
        station = found.get(code)
        # Outside the event's unit, or the actor's scope: the same answer as a missing one.
        if (
            station is None
            or not station.unit.path.startswith(event.unit.path)
            or (scope is not None and not scope.covers(station.unit.path))
        ):
            raise ValidationError(
                {"stations": _("No station %(code)s in this event's area.") % {"code": code[:32]}}
            )
    return [found[c] for c in dict.fromkeys(codes)]


@transaction.atomic
def add_occurrences(event: Event, *, actor, stations, starts_at, ends_at, capacity=None) -> list[Occurrence]:
    """The event at one or many stations at once (三峡广场 and 建新东路 on the same morning)."""
    errors = {}
    try:
        starts = clean_when(starts_at, field="starts_at", required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        ends = clean_when(ends_at, field="ends_at", required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not errors and ends <= starts:
        errors["ends_at"] = [_("The end must be after the start.")]
    if not errors and ends - starts > datetime.timedelta(days=31):
        errors["ends_at"] = [_("An occurrence lasts at most 31 days.")]
    try:
        places = clean_int(capacity, field="capacity", low=1, high=MAX_CAPACITY, default=event.capacity)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        chosen = _stations_for(event, actor, stations)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    made = []
    for station in chosen:
        occ = Occurrence.objects.create(
            event=event, station=station, starts_at=starts, ends_at=ends, capacity=places
        )
        occ.event = event
        record(
            "events.occurrence_added", occ, actor=actor, unit=event.unit,
            changes={"station": [None, station.code], "starts_at": [None, starts.isoformat()], "capacity": [None, places]},
        )  # fmt: skip
        made.append(occ)
    return made


@transaction.atomic
def update_occurrence(occ: Occurrence, *, actor, revision=None, starts_at=None, ends_at=None, capacity=None,
                      cancelled=None) -> Occurrence:  # fmt: skip
    """Move, resize or cancel one occurrence. More places offer them to the waiting list; fewer
    than are taken is refused (cancel sign-ups first)."""
    occ = Occurrence.objects.select_for_update().select_related("event__unit", "station").get(pk=occ.pk)
    concurrency.check(occ, revision, actor=actor)
    fields = ["starts_at", "ends_at", "capacity", "cancelled"]
    before = snapshot(occ, fields)
    errors = {}
    try:
        if starts_at not in (None, ""):
            occ.starts_at = clean_when(starts_at, field="starts_at")
        if ends_at not in (None, ""):
            occ.ends_at = clean_when(ends_at, field="ends_at")
        if capacity not in (None, ""):
            occ.capacity = clean_int(capacity, field="capacity", low=1, high=MAX_CAPACITY)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not errors and occ.ends_at <= occ.starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    if not errors and occ.capacity < occ.taken:
        errors["capacity"] = [
            _("%(n)s places are taken: cancel sign-ups before making it smaller.") % {"n": occ.taken}
        ]
    if cancelled is not None:
        if before["cancelled"] and not cancelled:
            errors["cancelled"] = [_("A cancelled occurrence stays cancelled; add a new one.")]
        occ.cancelled = bool(cancelled)
    if errors:
        raise ValidationError(errors)
    changes = diff(before, snapshot(occ, fields))
    if not changes:
        return occ
    concurrency.advance(occ, changes, actor=actor)
    occ.save()
    record("events.occurrence_updated", occ, actor=actor, unit=occ.event.unit, changes=changes)
    if occ.cancelled and not before["cancelled"]:
        _tell(occ, occ.registrations.filter(state__in=ACTIVE), "event-cancelled", key=f"ev-cancel-{occ.pk}")
    else:
        _offer_freed(occ)
    return occ


@dataclass(frozen=True)
class Warning:
    code: str
    text: str


def warnings_for(occ: Occurrence, calendar=None) -> list[Warning]:
    """A public holiday, outside the station's opening hours, or the outlet closed then."""
    from yizhan.stations import hours

    calendar = calendar or hours.current_calendar()
    found = []
    local_start, local_end = timezone.localtime(occ.starts_at), timezone.localtime(occ.ends_at)
    day = local_start.date()
    kind = calendar.kind(day)
    if kind == "off":
        found.append(Warning("holiday", _("%(day)s is a public holiday.") % {"day": day.isoformat()}))
    station = occ.station
    if station.status != "active" and (station.reopens_on is None or day < station.reopens_on):
        found.append(
            Warning(
                "closed",
                _("The station is closed then (%(status)s).") % {"status": station.get_status_display()},
            )
        )
        return found
    schedule = station.schedule()
    if schedule.known:
        start_min = local_start.hour * 60 + local_start.minute
        end_min = (local_end.hour * 60 + local_end.minute) if local_end.date() == day else 1440
        intervals = hours.intervals_on(schedule, day, calendar)
        inside = any(a <= start_min and end_min <= b for a, b in intervals)
        if not intervals:
            found.append(
                Warning("closed", _("The station is not open on %(day)s.") % {"day": day.isoformat()})
            )
        elif not inside:
            found.append(Warning("hours", _("It falls outside the station's opening hours that day.")))
    return found


# --- sign-up and the waiting list -----------------------------------------------------------------


def clean_signup(data: dict, event: Event) -> dict:
    from yizhan.notify.services import clean_phone

    errors, out = {}, {}
    try:
        out["name"] = clean_text(data.get("name"), field="name", limit=40, required=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    phone = str(data.get("phone") or "").strip()
    out["phone"] = ""
    if phone:
        try:
            out["phone"] = clean_phone(phone, field="phone")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        out["party"] = clean_int(data.get("party"), field="party", low=1, high=event.max_party, default=1)
    except ValidationError:
        errors["party"] = [_("Sign up from 1 to %(n)s people.") % {"n": event.max_party}]
    consent = data.get("consent", False)
    out["consent"] = (
        consent if isinstance(consent, bool) else str(consent).lower() in {"1", "true", "on", "yes"}
    )
    if out["consent"] and not phone:
        errors.setdefault("phone", [_("Give a phone number for the reminder, or untick it.")])
    if errors:
        raise ValidationError(errors)
    return out


def signup_closed_reason(occ: Occurrence, now=None) -> str:
    """Why sign-up is not open for this occurrence now, or "" when it is."""
    now = now or timezone.now()
    event = occ.event
    if occ.cancelled:
        return _("This occurrence is cancelled.")
    if event.signup_opens and now < event.signup_opens:
        return _("Sign-up opens on %(when)s.") % {
            "when": timezone.localtime(event.signup_opens).strftime("%Y-%m-%d %H:%M")
        }
    closes = event.signup_closes or occ.starts_at
    if now >= min(closes, occ.starts_at):
        return _("Sign-up for this occurrence has closed.")
    return ""


# What a sign-up reads of its occurrence, event, station and unit: one locked query, the columns
# it needs only (a station row is wide, and compiling its columns cost as much as the query).
SIGNUP_COLUMNS = (
    "capacity", "taken", "cancelled", "starts_at", "ends_at", "event__public", "event__invite_token",
    "event__max_party", "event__signup_opens", "event__signup_closes", "event__title", "station__code",
    "station__name", "station__unit__path",
)  # fmt: skip


def sign_up(occ: Occurrence | int, *, invite: str = "", **data) -> Registration:
    """A public sign-up, no account: confirmed while places last, else on the waiting list.
    An occurrence that does not exist, or is by invitation without its link, raises
    Occurrence.DoesNotExist (the API and pages answer 404 for both)."""
    pk = occ if isinstance(occ, int) else occ.pk
    try:
        with transaction.atomic():
            # Locks the occurrence row only (of=self): the event, station and unit stay free for
            # everyone else while the rush queues on this one row.
            occ = (
                Occurrence.objects.select_for_update(of=("self",))
                .select_related("event", "station__unit")
                .only(*SIGNUP_COLUMNS)
                .get(pk=pk)
            )
            event = occ.event
            if not event.public and invite != event.invite_token:
                raise Occurrence.DoesNotExist
            values = clean_signup(data, event)
            consent = values.pop("consent")
            reason = signup_closed_reason(occ)
            if reason:
                raise ValidationError({"occurrence": reason})
            # Confirmed while places last and nobody waits (a freed place goes to the line first);
            # once full, a sign-up waits without asking who else does.
            fits = occ.taken + values["party"] <= occ.capacity
            if fits and not occ.registrations.filter(state__in=[State.WAITLISTED, State.OFFERED]).exists():
                state = State.CONFIRMED
                Occurrence.objects.filter(pk=occ.pk).update(taken=occ.taken + values["party"])
            else:
                state = State.WAITLISTED
            # A phone already active here is refused by the partial unique index (IntegrityError
            # below), which also holds for two simultaneous requests: no query asks first.
            reg = Registration.objects.create(occurrence=occ, state=state, **values)
            record(
                "events.signed_up", reg, actor=None, unit=occ.station.unit,
                changes={"state": [None, state], "party": [None, reg.party]},
            )  # fmt: skip
            if consent:
                from yizhan.notify.services import record_consent

                record_consent(
                    address=reg.phone,
                    topic=CONSENT_TOPIC,
                    how=f"event sign-up {reg.code}",
                    unit=occ.station.unit,
                )
    except IntegrityError:  # the same phone twice (at once or not): the constraint held
        raise ValidationError(
            {"phone": _("This phone number has already signed up for this occurrence.")}
        ) from None
    reg.occurrence = occ
    return reg


def _offer_freed(occ: Occurrence, now=None) -> int:
    """Offer the free places to the waiting list strictly in order (caller holds the row lock)."""
    now = now or timezone.now()
    occ = Occurrence.objects.select_related("event", "station__unit").get(pk=occ.pk)
    if occ.cancelled:
        return 0
    free = occ.capacity - occ.taken
    offered = []
    for reg in occ.registrations.filter(state=State.WAITLISTED).order_by("pk"):
        if reg.party > free:
            break
        _step(reg, State.OFFERED)
        reg.offered_until = now + datetime.timedelta(hours=occ.event.offer_hours)
        reg.save(update_fields=["state", "offered_until"])
        free -= reg.party
        offered.append(reg)
        record(
            "events.offered", reg, unit=occ.station.unit, changes={"state": [State.WAITLISTED, State.OFFERED]}
        )
    if offered:
        Occurrence.objects.filter(pk=occ.pk).update(taken=occ.capacity - free)
        for reg in offered:
            _tell(occ, [reg], "event-offer", key=f"ev-offer-{reg.pk}",
                  extra={"until": timezone.localtime(reg.offered_until).strftime("%m-%d %H:%M"), "code": reg.code})  # fmt: skip
    return len(offered)


def _release(reg: Registration, target: str, *, actor=None, action: str) -> Registration:
    with transaction.atomic():
        occ = Occurrence.objects.select_for_update().get(pk=reg.occurrence_id)
        reg = (
            Registration.objects.select_for_update()
            .select_related("occurrence__station__unit")
            .get(pk=reg.pk)
        )
        held = reg.state in HOLDS_PLACE
        before = reg.state
        _step(reg, target)
        reg.save(update_fields=["state"])
        if held:
            Occurrence.objects.filter(pk=occ.pk).update(taken=max(occ.taken - reg.party, 0))
        record(
            action, reg, actor=actor, unit=reg.occurrence.station.unit, changes={"state": [before, target]}
        )
        _offer_freed(occ)
    return reg


def cancel_registration(reg: Registration, *, actor=None) -> Registration:
    """By the participant's own link (or staff): a held place goes to the waiting list."""
    return _release(reg, State.CANCELLED, actor=actor, action="events.cancelled")


@transaction.atomic
def accept_offer(reg: Registration, now=None) -> Registration:
    now = now or timezone.now()
    reg = Registration.objects.select_for_update().select_related("occurrence__station__unit").get(pk=reg.pk)
    if reg.state == State.OFFERED and reg.offered_until and reg.offered_until <= now:
        raise ValidationError(
            {
                "state": _("The offer expired at %(when)s.")
                % {"when": timezone.localtime(reg.offered_until).strftime("%m-%d %H:%M")}
            }
        )
    _step(reg, State.CONFIRMED)
    reg.save(update_fields=["state"])
    record(
        "events.offer_accepted",
        reg,
        unit=reg.occurrence.station.unit,
        changes={"state": [State.OFFERED, State.CONFIRMED]},
    )
    return reg


def expire_offers(now=None) -> int:
    """The job (every 5 minutes): offers not taken in time expire and go to the next in line."""
    now = now or timezone.now()
    expired = 0
    for pk in Registration.objects.filter(state=State.OFFERED, offered_until__lte=now).values_list(
        "pk", flat=True
    )[:5000]:
        reg = Registration.objects.get(pk=pk)
        if reg.state == State.OFFERED:
            _release(reg, State.EXPIRED, action="events.offer_expired")
            expired += 1
    return expired


# --- messages ---------------------------------------------------------------------------------------


def _tell(occ: Occurrence, regs, template: str, *, key: str, extra: dict | None = None):
    """Through notify() only: it checks each number's consent, quiet hours and caps."""
    from yizhan.notify.services import notify, public

    recipients = [public(r.phone, occ.station.unit) for r in regs if r.phone]
    if not recipients:
        return None
    context = {"event": occ.event.title, "station": occ.station.name,
               "time": timezone.localtime(occ.starts_at).strftime("%m-%d %H:%M"), **(extra or {})}  # fmt: skip
    return notify(recipients, template, context, key=key)


def send_reminders(now=None) -> int:
    """The job (hourly): a reminder to those confirmed for an occurrence starting within a day.
    The key makes every later run queue nothing twice."""
    now = now or timezone.now()
    sent = 0
    soon = Occurrence.objects.upcoming(now).filter(
        starts_at__gt=now, starts_at__lte=now + datetime.timedelta(days=1)
    )
    for occ in soon.select_related("event", "station__unit"):
        regs = occ.registrations.filter(state=State.CONFIRMED).exclude(phone="")
        summary = _tell(occ, regs, "event-reminder", key=f"ev-remind-{occ.pk}")
        sent += summary.queued + summary.held if summary else 0
    return sent


MESSAGE_STATES = [State.CONFIRMED, State.ATTENDED, State.NO_SHOW, State.WAITLISTED]


@transaction.atomic
def message_participants(
    event: Event, *, actor, text: str, states, occurrence: Occurrence | None = None
) -> MessageLog:
    """A message to an event's participants, filtered by attendance ("thank you for coming" to
    those who attended; "sorry we missed you" to those who did not)."""
    from yizhan.notify.services import notify, public

    text = clean_text(text, field="text", limit=300, required=True)
    states = [states] if isinstance(states, str) else list(states or [])
    if not states or any(s not in MESSAGE_STATES for s in states):
        raise ValidationError(
            {"states": _("Choose whom to write to: confirmed, attended, did not come or waiting.")}
        )
    regs = Registration.objects.filter(occurrence__event=event, state__in=states).exclude(phone="")
    if occurrence is not None:
        regs = regs.filter(occurrence=occurrence)
    regs = list(regs.select_related("occurrence__station__unit"))
    log = MessageLog.objects.create(event=event, states=states, text=text, recipients=len(regs), by=actor)
    if regs:
        summary = notify(
            [public(r.phone, r.occurrence.station.unit) for r in regs],
            "event-message", {"event": event.title, "text": text}, key=f"ev-msg-{log.pk}",
        )  # fmt: skip
        log.queued, log.refused = summary.queued + summary.held, summary.refused
        log.save(update_fields=["queued", "refused"])
    record("events.messaged", event, actor=actor, unit=event.unit,
           changes={"states": [None, states], "recipients": [None, log.recipients]})  # fmt: skip
    return log


# --- attendance --------------------------------------------------------------------------------------


def clean_code(value, field: str = "code") -> str:
    """A typed code or a scanned QR (its text is the ticket's address or `YZE:<code>`)."""
    text = str(value or "").strip().upper()
    if "/T/" in text or text.startswith("YZE:"):
        text = text.rsplit("/", 1)[-1].removeprefix("YZE:")
    text = "".join(ch for ch in text if ch.isalnum())
    if not 4 <= len(text) <= 12:
        raise ValidationError({field: _("Enter the 8-character code on the ticket.")})
    return text


def clean_nonce(value) -> str:
    text = str(value or "").strip()
    if not 8 <= len(text) <= 64 or not all(ch.isalnum() or ch in "-_" for ch in text):
        raise ValidationError({"nonce": _("The scan carries no valid nonce; reload the page.")})
    return text


@dataclass(frozen=True)
class ScanResult:
    registration: Registration | None
    duplicate: bool  # this nonce was uploaded before: the first answer, nothing new


def scan_ticket(occ: Occurrence, *, actor, code, nonce) -> ScanResult:
    """A ticket scanned (or typed) at the door. The same scan uploaded again counts once."""
    nonce = clean_nonce(nonce)
    earlier = Scan.objects.filter(nonce=nonce).select_related("registration").first()
    if earlier is not None:
        if earlier.occurrence_id != occ.pk:
            raise ValidationError({"nonce": _("This scan belongs to another occurrence.")})
        return ScanResult(earlier.registration, duplicate=True)
    code = clean_code(code)
    try:
        with transaction.atomic():
            reg = (
                Registration.objects.select_for_update()
                .select_related("occurrence__event", "occurrence__station__unit")
                .filter(code=code)
                .first()
            )
            if reg is None:
                raise ValidationError({"code": _("No ticket has the code %(code)s.") % {"code": code}})
            if reg.occurrence_id != occ.pk:
                other = reg.occurrence
                raise ValidationError({"code": _("This ticket is for another occurrence: %(event)s, %(station)s, %(when)s.") % {
                    "event": other.event.title, "station": other.station.name,
                    "when": timezone.localtime(other.starts_at).strftime("%m-%d %H:%M")}})  # fmt: skip
            if reg.state == State.ATTENDED:
                raise ValidationError({"code": _("This ticket was already used at %(when)s.") % {
                    "when": timezone.localtime(reg.attended_at).strftime("%H:%M") if reg.attended_at else "—"}})  # fmt: skip
            if reg.state != State.CONFIRMED:
                raise ValidationError(
                    {
                        "code": _("This ticket is not confirmed: %(state)s.")
                        % {"state": State(reg.state).label}
                    }
                )
            _step(reg, State.ATTENDED)
            reg.attended_at, reg.by_scan = timezone.now(), True
            reg.save(update_fields=["state", "attended_at", "by_scan"])
            Scan.objects.create(occurrence=occ, registration=reg, nonce=nonce, result="attended", by=actor)
            record("events.scanned", reg, actor=actor, unit=reg.occurrence.station.unit,
                   changes={"state": [State.CONFIRMED, State.ATTENDED]})  # fmt: skip
    except IntegrityError:  # the same nonce at the same moment: the first one counted
        earlier = Scan.objects.filter(nonce=nonce).select_related("registration").first()
        return ScanResult(earlier.registration if earlier else None, duplicate=True)
    return ScanResult(reg, duplicate=False)


@transaction.atomic
def mark_attendance(occ: Occurrence, *, actor, attended, shown, revision=None) -> dict:
    """From the paper sign-in sheet: of the participants the list showed, the ticked attended and
    the rest did not come. An attendance scanned at the door is never undone from paper."""
    occ = Occurrence.objects.select_for_update().select_related("event", "station__unit").get(pk=occ.pk)
    concurrency.check(occ, revision, actor=actor)

    def ids(values, field):
        values = [values] if isinstance(values, str | int) else list(values or [])
        try:
            return {int(v) for v in values}
        except (TypeError, ValueError):
            raise ValidationError({field: _("Participants are named by their number.")}) from None

    attended, shown = ids(attended, "attended"), ids(shown, "shown")
    if not attended <= shown:
        raise ValidationError({"attended": _("Tick only participants on the list.")})
    regs = {r.pk: r for r in occ.registrations.select_for_update().filter(pk__in=shown)}
    if set(regs) != shown:
        raise ValidationError({"shown": _("A participant on the list is not in this occurrence.")})
    changed = {}
    now = timezone.now()
    for pk, reg in regs.items():
        target = State.ATTENDED if pk in attended else State.NO_SHOW
        if reg.state == target or (reg.by_scan and reg.state == State.ATTENDED):
            continue
        if reg.state not in (State.CONFIRMED, State.ATTENDED, State.NO_SHOW):
            continue  # waiting, cancelled: not on a sign-in sheet
        before = reg.state
        _step(reg, target)
        reg.attended_at = now if target == State.ATTENDED else None
        reg.save(update_fields=["state", "attended_at"])
        changed[reg.code] = [before, target]
    if changed:
        changes = concurrency.advance(occ, {"attendance": [None, len(changed)]}, actor=actor)
        record(
            "events.attendance_marked",
            occ,
            actor=actor,
            unit=occ.station.unit,
            changes={**changes, **changed},
        )
    return changed


@transaction.atomic
def record_walk_in(occ: Occurrence, *, actor, name: str = "", group: str = "", party=1, affiliation: str = "",
                   staff: bool = False, hours=None) -> Registration:  # fmt: skip
    """Someone who came without signing up (or a staff volunteer, with hours): counted as
    attended with their group and organisation; they take no sign-up place."""
    from decimal import Decimal, InvalidOperation

    errors = {}
    values = {}
    try:
        values["name"] = clean_text(name, field="name", limit=40) or _("walk-in")
        values["affiliation"] = clean_text(affiliation, field="affiliation", limit=80)
        values["party"] = clean_int(party, field="party", low=1, high=500, default=1)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if group and group not in TARGET_GROUP_CODES:
        errors["group"] = [_("Unknown group.")]
    if hours not in (None, ""):
        try:
            values["hours"] = Decimal(str(hours))
            if not Decimal("0") < values["hours"] <= Decimal("24"):
                raise InvalidOperation
        except InvalidOperation:
            errors["hours"] = [_("Enter the hours as a number from 0.5 to 24.")]
    if errors:
        raise ValidationError(errors)
    reg = Registration.objects.create(
        occurrence=occ, state=State.ATTENDED, source=Source.STAFF if staff else Source.WALK_IN,
        group=group, attended_at=timezone.now(), **values,
    )  # fmt: skip
    record("events.walk_in", reg, actor=actor, unit=occ.station.unit,
           changes={"party": [None, reg.party], "group": [None, group], "source": [None, reg.source]})  # fmt: skip
    return reg


def counts(occ_ids) -> dict[int, dict]:
    """{occurrence id: {state: people}} for a list of occurrences, in one query."""
    from django.db.models import Sum

    out: dict[int, dict] = {}
    rows = Registration.objects.filter(occurrence_id__in=list(occ_ids)).values(
        "occurrence_id", "state", "source"
    )
    for row in rows.annotate(n=Sum("party")):
        bucket = out.setdefault(row["occurrence_id"], {})
        key = "walk_in" if row["source"] != Source.PUBLIC else row["state"]
        bucket[key] = bucket.get(key, 0) + row["n"]
    return out
