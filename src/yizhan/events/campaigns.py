"""Campaigns: a named period, a target group and participating units, its events, messages and
consumer-protection ambassadors, and its reach — sign-ups, attendance, messages, what the
ambassadors passed on, and the target group's check-ins at the participating stations during the
campaign against the same number of days just before."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from yizhan.audit.services import diff, record, snapshot
from yizhan.core import concurrency
from yizhan.events.models import (
    REACH_GROUPS,
    TARGET_GROUP_CODES,
    Campaign,
    MessageLog,
    Outreach,
    Registration,
    Source,
    State,
)
from yizhan.events.services import clean_text
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scope_for

FIELDS = ["name", "target_group", "starts_on", "ends_on", "partners", "description"]


def _day(value, field):
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError({field: _("Enter a date as 2022-09-01.")}) from None


def clean_campaign(data: dict) -> dict:
    errors, out = {}, {}
    for field, fn in (
        ("name", lambda: clean_text(data.get("name"), field="name", limit=120, required=True)),
        ("partners", lambda: clean_text(data.get("partners"), field="partners", limit=300)),
        ("description", lambda: clean_text(data.get("description"), field="description", limit=4000)),
        ("starts_on", lambda: _day(data.get("starts_on"), "starts_on")),
        ("ends_on", lambda: _day(data.get("ends_on"), "ends_on")),
    ):
        try:
            out[field] = fn()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    group = str(data.get("target_group") or "")
    if group not in TARGET_GROUP_CODES:
        errors["target_group"] = [_("Choose the target group.")]
    out["target_group"] = group
    if not errors and out["ends_on"] < out["starts_on"]:
        errors["ends_on"] = [_("The campaign must end on or after the day it starts.")]
    if not errors and (out["ends_on"] - out["starts_on"]).days > 366:
        errors["ends_on"] = [_("A campaign lasts at most a year.")]
    if errors:
        raise ValidationError(errors)
    return out


def _units(actor, unit, codes) -> list[Unit]:
    codes = [codes] if isinstance(codes, str) else list(codes or [])
    codes = [str(c).strip() for c in codes if str(c).strip()]
    found = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    scope = scope_for(actor)
    for code in codes:
        u = found.get(code)
        if u is None or not u.path.startswith(unit.path) or not scope.covers(u.path):
            raise ValidationError(
                {"units": _("No unit %(code)s in this campaign's area.") % {"code": code[:32]}}
            )
    return [found[c] for c in dict.fromkeys(codes)]


@transaction.atomic
def create_campaign(*, actor, unit, units=(), **data) -> Campaign:
    if unit is None or not scope_for(actor).covers(unit.path):
        raise ValidationError({"unit": _("Choose a unit in your area.")})
    values = clean_campaign(data)
    chosen = _units(actor, unit, units)
    campaign = Campaign.objects.create(unit=unit, **values)
    campaign.units.set(chosen)
    record("events.campaign_created", campaign, actor=actor, unit=unit,
           changes={**diff({}, snapshot(campaign, FIELDS)), "units": [None, [u.code for u in chosen]]})  # fmt: skip
    return campaign


@transaction.atomic
def update_campaign(campaign: Campaign, *, actor, revision=None, units=None, **data) -> Campaign:
    campaign = Campaign.objects.select_for_update().select_related("unit").get(pk=campaign.pk)
    concurrency.check(campaign, revision, actor=actor)
    values = clean_campaign(data)
    before = snapshot(campaign, FIELDS)
    for key, value in values.items():
        setattr(campaign, key, value)
    changes = diff(before, snapshot(campaign, FIELDS))
    if units is not None:
        chosen = _units(actor, campaign.unit, units)
        old = sorted(campaign.units.values_list("code", flat=True))
        if sorted(u.code for u in chosen) != old:
            campaign.units.set(chosen)
            changes["units"] = [old, sorted(u.code for u in chosen)]
    if not changes:
        return campaign
    concurrency.advance(campaign, changes, actor=actor)
    campaign.save()
    record("events.campaign_updated", campaign, actor=actor, unit=campaign.unit, changes=changes)
    return campaign


def participating(campaign: Campaign) -> list[Unit]:
    """The units taking part: those chosen, or the organising unit's children (each a row)."""
    chosen = list(campaign.units.all().order_by("path"))
    if chosen:
        return chosen
    children = list(Unit.objects.filter(parent=campaign.unit).order_by("code"))
    return children or [campaign.unit]


def _checkins(paths: list[str], groups: list[str], start: datetime.date, end: datetime.date) -> int:
    from yizhan.visits.models import DailyRollup, checkin_column

    if not groups:
        return 0
    where = Q()
    for path in paths:
        where |= Q(station__unit__path__startswith=path)
    sums = DailyRollup.objects.filter(where, day__gte=start, day__lte=end).aggregate(
        **{g: Sum(checkin_column(g)) for g in groups}
    )
    return sum(v or 0 for v in sums.values())


def reach(campaign: Campaign) -> dict:
    """Per participating unit and in total: sign-ups, attendance, people messaged, and the target
    group's check-ins during the campaign and in the same number of days just before. The rows
    add up to the total (units chosen do not overlap: a unit inside another is counted once)."""
    units = participating(campaign)
    # Drop units inside another chosen one, so that no station is counted twice.
    units = [u for u in units if not any(o is not u and u.path.startswith(o.path) for o in units)]
    days = (campaign.ends_on - campaign.starts_on).days + 1
    before_end = campaign.starts_on - datetime.timedelta(days=1)
    before_start = before_end - datetime.timedelta(days=days - 1)
    groups = REACH_GROUPS.get(campaign.target_group, [])
    regs = Registration.objects.filter(occurrence__event__campaign=campaign)
    passed = Outreach.objects.filter(ambassador__campaign=campaign)
    enrolled = campaign.ambassadors.all()
    rows = []
    for unit in units:
        mine = regs.filter(occurrence__station__unit__path__startswith=unit.path)
        signed = mine.filter(source=Source.PUBLIC).aggregate(n=Sum("party"))["n"] or 0
        attended = mine.filter(state=State.ATTENDED).aggregate(n=Sum("party"))["n"] or 0
        during = _checkins([unit.path], groups, campaign.starts_on, campaign.ends_on)
        earlier = _checkins([unit.path], groups, before_start, before_end)
        ambassadors_here = enrolled.filter(unit__path__startswith=unit.path).count()
        passed_on = (
            passed.filter(ambassador__unit__path__startswith=unit.path).aggregate(n=Sum("people"))["n"] or 0
        )
        rows.append({"unit": unit, "signed_up": signed, "attended": attended, "checkins": during,
                     "checkins_before": earlier, "change": _change(during, earlier),
                     "ambassadors": ambassadors_here, "passed_on": passed_on})  # fmt: skip
    keys = ("signed_up", "attended", "checkins", "checkins_before", "ambassadors", "passed_on")
    total = {key: sum(r[key] for r in rows) for key in keys}
    total["change"] = _change(total["checkins"], total["checkins_before"])
    logs = MessageLog.objects.filter(event__campaign=campaign).aggregate(r=Sum("recipients"), q=Sum("queued"))
    return {
        "rows": rows,
        "total": total,
        "messages": {"recipients": logs["r"] or 0, "queued": logs["q"] or 0},
        "events": campaign.events.count(),
        "period": (campaign.starts_on, campaign.ends_on),
        "before": (before_start, before_end),
        "groups": groups,
    }


def _change(now: int, before: int) -> float | None:
    return None if not before else round((now - before) / before * 100, 1)


# --- consumer-protection ambassadors (消保宣传使者) ------------------------------------------------


def _ambassador_unit(campaign: Campaign, actor, code) -> Unit:
    """The enrolling unit: inside one of the campaign's participating units and the actor's scope."""
    code = str(code or "").strip()[:32]
    unit = Unit.objects.filter(code=code).first() if code else campaign.unit
    # Inside a participating unit, so that the reach's rows still add up to its total.
    areas = [u.path for u in participating(campaign)]
    if (
        unit is None
        or not any(unit.path.startswith(p) for p in areas)
        or not scope_for(actor).covers(unit.path)
    ):
        if not code:
            raise ValidationError({"unit": _("Name the participating unit that enrolled them.")})
        raise ValidationError({"unit": _("No unit %(code)s in this campaign's area.") % {"code": code}})
    return unit


@transaction.atomic
def enrol_ambassador(campaign: Campaign, *, actor, name, unit=None, affiliation="", enrolled_on=None):
    from django.utils import timezone

    from yizhan.events.models import Ambassador

    errors, values = {}, {}
    for field, fn in (
        ("name", lambda: clean_text(name, field="name", limit=40, required=True)),
        ("affiliation", lambda: clean_text(affiliation, field="affiliation", limit=80)),
        ("unit", lambda: _ambassador_unit(campaign, actor, unit)),
        ("enrolled_on", lambda: _day(enrolled_on or timezone.localdate(), "enrolled_on")),
    ):
        try:
            values[field] = fn()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not errors and values["enrolled_on"] > timezone.localdate():
        errors["enrolled_on"] = [_("The day cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    amb = Ambassador.objects.create(campaign=campaign, **values)
    record("events.ambassador_enrolled", amb, actor=actor, unit=amb.unit,
           changes={"name": [None, amb.name], "campaign": [None, campaign.name],
                    "affiliation": [None, amb.affiliation]})  # fmt: skip
    return amb


MAX_PEOPLE_PASSED_ON = 100_000


@transaction.atomic
def record_outreach(ambassador, *, actor, day, topic, people, note=""):
    """What an ambassador passed on: counted in the campaign's reach under its enrolling unit."""
    from django.utils import timezone

    from yizhan.events.models import Outreach, Topic
    from yizhan.events.services import clean_int

    errors, values = {}, {}
    for field, fn in (
        ("day", lambda: _day(day, "day")),
        ("people", lambda: clean_int(people, field="people", low=1, high=MAX_PEOPLE_PASSED_ON)),
        ("note", lambda: clean_text(note, field="note", limit=200)),
    ):
        try:
            values[field] = fn()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if topic not in Topic.values:
        errors["topic"] = [_("Choose the topic passed on.")]
    if "day" in values and not (ambassador.enrolled_on <= values["day"] <= timezone.localdate()):
        errors["day"] = [
            _("Enter a day from the enrolment (%(day)s) to today.")
            % {"day": ambassador.enrolled_on.isoformat()}
        ]
    if errors:
        raise ValidationError(errors)
    row = Outreach.objects.create(ambassador=ambassador, topic=topic, by=actor, **values)
    record("events.outreach_recorded", ambassador, actor=actor, unit=ambassador.unit,
           changes={"day": [None, row.day.isoformat()], "topic": [None, topic], "people": [None, row.people]})  # fmt: skip
    return row


def ambassadors(campaign: Campaign) -> list:
    """The campaign's ambassadors, each with `people` passed on and `topics` [(label, people)]."""
    from yizhan.events.models import Topic

    found = list(campaign.ambassadors.select_related("unit").order_by("enrolled_on", "pk"))
    by_topic: dict[int, dict[str, int]] = {}
    rows = campaign.ambassadors.values("pk", "outreach__topic").annotate(n=Sum("outreach__people"))
    for row in rows:
        if row["outreach__topic"]:
            by_topic.setdefault(row["pk"], {})[row["outreach__topic"]] = row["n"] or 0
    for amb in found:
        topics = by_topic.get(amb.pk, {})
        amb.people = sum(topics.values())
        amb.topics = [(Topic(t).label, n) for t, n in sorted(topics.items(), key=lambda kv: -kv[1])]
    return found
