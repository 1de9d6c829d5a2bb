"""The pension-day diversion (seeds/004): "通过发送短信……多渠道劝导老年客户延期办理养老金支取业务……
对客户进行有效引导分流，减少客户排队聚集". An admin picks outlets (a unit's subtree, or a list); the
campaign invites their opted-in pensioners (consent topic `pension-day`), staggered over working
days so that each outlet gets at most its capacity a day; the schedule is previewed (per day, per
outlet) before anything is sent; above YIZHAN_NOTIFY_APPROVAL_ABOVE recipients a second admin
approves it (the same maker-checker as messages to staff); then each day's invitations are queued
with `notify(..., not_before=<that day, 08:00>)`."""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core.approval import Approval
from yizhan.notify import services
from yizhan.notify.models import Campaign, Consent

TEMPLATE = "pension-day"
DEFAULT_CAPACITY = 30
MAX_DAYS = 20  # working days: a longer spread means the capacities are too small for the audience
SEND_AT = datetime.time(8, 0)  # the morning of the day the invitation is for (quiet hours end at 8)
CAMPAIGNS = Approval(pending=Campaign.State.PENDING)


@dataclass
class Plan:
    outlets: list  # the units whose pensioners are invited, by path
    capacities: dict  # unit id -> people a day
    window: str
    days: list = field(default_factory=list)  # [(date, unit, [consent ids])]

    @property
    def recipients(self) -> int:
        return sum(len(ids) for _day, _unit, ids in self.days)

    def table(self) -> list[dict]:
        """Per day, per outlet counts, for the preview."""
        by_day = defaultdict(list)
        for day, unit, ids in self.days:
            by_day[day].append({"outlet": unit, "count": len(ids)})
        return [{"day": day, "outlets": rows, "total": sum(r["count"] for r in rows)}
                for day, rows in sorted(by_day.items())]  # fmt: skip


def _codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,，;；、]+", text or "") if c][:200]


def clean_campaign(actor, data: dict) -> dict:
    """Outlets (codes, each with its subtree, in the actor's scope), the first day, the default
    capacity and per-outlet ones ("CODE=N" lines), the time of day named in the message."""
    from yizhan.orgs.models import Unit
    from yizhan.orgs.scoping import scope_for

    errors = {}
    scope = scope_for(actor)
    codes = _codes(data.get("outlets", ""))
    units = {u.code: u for u in Unit.objects.filter(code__in=codes)}
    missing = [c for c in codes if c not in units or not scope.covers(units[c].path)]
    if not codes:
        errors["outlets"] = _("Name one or more outlets or units (their codes).")
    elif missing:
        errors["outlets"] = _("No unit with the code %(codes)s in your part of the network.") % {
            "codes": ", ".join(missing)[:200]
        }
    start = data.get("start")
    if isinstance(start, str):
        try:
            start = datetime.date.fromisoformat(start.strip())
        except ValueError:
            start = None
    today = timezone.localdate()
    if not isinstance(start, datetime.date):
        errors["start"] = _("Enter the first day as 2026-07-16.")
    elif start <= today or start > today + datetime.timedelta(days=366):
        errors["start"] = _("The first day is after today and within a year.")
    capacity = _number(data.get("capacity"), DEFAULT_CAPACITY)
    if capacity is None:
        errors["capacity"] = _("Enter how many people an outlet can serve a day (1 to 10000).")
    capacities = {}
    for number, line in enumerate(str(data.get("capacities") or "").splitlines()[:500], start=1):
        if not line.strip():
            continue
        code, _sep, value = line.partition("=")
        unit = units.get(code.strip()) or Unit.objects.filter(code=code.strip()[:40]).first()
        n = _number(value, None)
        if unit is None or not scope.covers(unit.path) or n is None:
            errors["capacities"] = _(
                "Line %(n)s: write CODE=number, for an outlet in your part of the network."
            ) % {"n": number}
            break
        capacities[unit.pk] = n
    window = str(data.get("window") or "").strip()
    if len(window) > 40:
        errors["window"] = _("At most %(n)s characters.") % {"n": 40}
    if errors:
        raise ValidationError(errors)
    return {"units": [units[c] for c in dict.fromkeys(codes)], "start": start, "capacity": capacity,
            "capacities": capacities, "window": window}  # fmt: skip


def _number(value, default):
    if value in (None, ""):
        return default
    try:
        n = int(str(value).strip())
    except ValueError:
        return None
    return n if 1 <= n <= 10000 else None


def plan(actor, data: dict) -> Plan:
    """The schedule: each outlet's opted-in pensioners, in the order they opted in, fill its days
    up to its capacity, working day after working day from the first day."""
    from yizhan.orgs.models import Unit
    from yizhan.stations import hours

    values = clean_campaign(actor, data)
    within = Q()
    for unit in values["units"]:
        within |= Q(unit__path__startswith=unit.path)
    consents = Consent.objects.filter(within, topic=TEMPLATE, withdrawn_at__isnull=True)
    by_outlet = defaultdict(list)
    for pk, unit_id in consents.values_list("pk", "unit_id").order_by("pk"):
        by_outlet[unit_id].append(pk)
    if not by_outlet:
        raise ValidationError({"outlets": _("Nobody at these outlets has opted in to these messages.")})
    calendar = hours.current_calendar()
    first = values["start"] if hours.is_workday(values["start"], calendar) else hours.add_working_days(
        values["start"], 1, calendar
    )  # fmt: skip
    working_days = [first]
    outlets = {u.pk: u for u in Unit.objects.filter(pk__in=by_outlet)}
    result = Plan(outlets=values["units"], capacities=values["capacities"], window=values["window"])
    for unit_id in sorted(by_outlet, key=lambda pk: outlets[pk].path):
        ids = by_outlet[unit_id]
        per_day = values["capacities"].get(unit_id, values["capacity"])
        for index, start in enumerate(range(0, len(ids), per_day)):
            if index >= MAX_DAYS:
                raise ValidationError({"capacity": _(
                    "%(outlet)s would need more than %(days)s working days at %(n)s a day: raise its capacity."
                ) % {"outlet": outlets[unit_id].name, "days": MAX_DAYS, "n": per_day}})  # fmt: skip
            while len(working_days) <= index:
                working_days.append(hours.add_working_days(working_days[-1], 1, calendar))
            result.days.append((working_days[index], outlets[unit_id], ids[start : start + per_day]))
    result.days.sort(key=lambda d: (d[0], d[1].path))
    return result


def _common_unit(units):
    """The lowest unit above (or equal to) all of them: who sees and approves the campaign."""
    from yizhan.orgs.models import Unit

    parts = [u.path.strip("/").split("/") for u in units]
    common = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    return Unit.objects.get(pk=int(common[-1]))


def propose(*, actor, **data) -> Campaign:
    """Store the previewed plan; schedule it at once when small, else wait for a second admin."""
    from yizhan.audit.services import record
    from yizhan.orgs.scoping import require

    require(actor, "admin")
    schedule = plan(actor, data)
    template = services.current_template(TEMPLATE)
    waits = CAMPAIGNS.required(schedule.recipients, settings.YIZHAN_NOTIFY_APPROVAL_ABOVE)
    stored = [
        {"day": day.isoformat(), "outlet": unit.pk, "consents": ids} for day, unit, ids in schedule.days
    ]
    unit = _common_unit([u for _d, u, _i in schedule.days])
    with transaction.atomic():
        campaign = Campaign.objects.create(
            unit=unit, template=template, window=schedule.window, plan=stored, recipients=schedule.recipients,
            state=Campaign.State.PENDING if waits else Campaign.State.SENT, created_by=actor,
            decided_at=None if waits else timezone.now(),
        )  # fmt: skip
        record("notify.campaign_proposed", campaign, actor=actor, unit=unit,
               changes={"recipients": [None, schedule.recipients], "days": [None, len({d for d, _u, _i in schedule.days})]})  # fmt: skip
        if not waits:
            _schedule(campaign)
    return campaign


def approve(campaign, *, actor) -> Campaign:
    from yizhan.orgs.scoping import require

    require(actor, "admin")
    with transaction.atomic():
        locked = CAMPAIGNS.approve(
            campaign, actor=actor, to=Campaign.State.SENT, action="notify.campaign_approved", unit=campaign.unit,
            own=_("You prepared this campaign; a second person must approve it."),
        )  # fmt: skip
        _schedule(locked)
    return locked


def reject(campaign, *, actor) -> Campaign:
    from yizhan.orgs.scoping import require

    require(actor, "admin")
    return CAMPAIGNS.reject(campaign, actor=actor, to=Campaign.State.REJECTED,
                            action="notify.campaign_rejected", unit=campaign.unit)  # fmt: skip


def _schedule(campaign: Campaign) -> None:
    """One notify() per day and outlet, held until the morning of that day. The occasion key is
    the campaign: a pensioner is invited once, whatever retries happen."""
    from yizhan.orgs.models import Unit

    outlets = Unit.objects.in_bulk({row["outlet"] for row in campaign.plan})
    addresses = dict(Consent.objects.filter(pk__in=[pk for row in campaign.plan for pk in row["consents"]])
                     .values_list("pk", "address"))  # fmt: skip
    for row in campaign.plan:
        day, outlet = datetime.date.fromisoformat(row["day"]), outlets[row["outlet"]]
        recipients = [services.public(addresses[pk], outlet) for pk in row["consents"] if pk in addresses]
        at = timezone.make_aware(datetime.datetime.combine(day, SEND_AT))
        services.notify(recipients, campaign.template, {"outlet": outlet.name, "date": f"{day.month}月{day.day}日",
                        "window": campaign.window}, not_before=at, key=f"campaign-{campaign.pk}")  # fmt: skip


def table(campaign: Campaign) -> list[dict]:
    """A stored campaign's schedule, per day and outlet, as the preview showed it."""
    from yizhan.orgs.models import Unit

    outlets = Unit.objects.in_bulk({row["outlet"] for row in campaign.plan})
    by_day = defaultdict(list)
    for row in campaign.plan:
        by_day[row["day"]].append({"outlet": outlets[row["outlet"]], "count": len(row["consents"])})
    return [{"day": datetime.date.fromisoformat(day), "outlets": rows, "total": sum(r["count"] for r in rows)}
            for day, rows in sorted(by_day.items())]  # fmt: skip
