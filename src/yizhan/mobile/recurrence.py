"""Visit recurrences: RFC 5545 RRULEs (python-dateutil) made holiday-aware with the registry's
statutory calendar. Pure functions over a `stations.hours.Calendar`; nothing here reads the
database.

Rules, per date the RRULE gives within the validity period:
- a public holiday (休): skipped, or moved to the next workday (`next_workday`), where make-up
  workdays (调休, a weekend day worked) count as workdays and holidays do not;
- a make-up workday is a workday: a rule that visits every weekday Monday to Friday
  (`BYDAY=MO,TU,WE,TH,FR`) also visits on it, the way the outlets open on it;
- a year missing from the calendar has no holidays known: the RRULE's dates stand.
"""

import datetime

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
WORKWEEK = frozenset(range(5))  # Monday .. Friday, as dateutil numbers weekdays
# How far ahead "never occurs" and overlaps are looked for when a schedule has no end.
LOOKAHEAD_DAYS = 366


def normalise(text) -> str:
    """The stored form: "FREQ=WEEKLY;BYDAY=TU" (upper case, no "RRULE:" prefix, no spaces)."""
    value = "".join(str(text or "").split()).upper()
    return value.removeprefix("RRULE:")


def parse(text, valid_from: datetime.date, *, field: str = "rrule") -> rrule:
    """The rule for `text`, its dates counted from `valid_from`; a ValidationError naming `field`
    for anything dateutil cannot read, a DTSTART of its own, or a frequency finer than a day."""
    value = normalise(text)
    if not value:
        raise ValidationError({field: _("Enter a recurrence, e.g. FREQ=WEEKLY;BYDAY=TU.")})
    if "DTSTART" in value or "\n" in value:
        raise ValidationError({field: _("The recurrence starts on its valid-from date; leave DTSTART out.")})
    try:
        rule = rrulestr(value, dtstart=datetime.datetime.combine(valid_from, datetime.time()))
    except (ValueError, TypeError, OverflowError, IndexError, KeyError):
        raise ValidationError(
            {field: _("Not a recurrence rule dateutil can read (RFC 5545 RRULE).")}
        ) from None
    if not isinstance(rule, rrule) or rule._freq not in ALLOWED_FREQUENCIES:
        raise ValidationError({field: _("Visits recur daily, weekly, monthly or yearly at most.")})
    return rule


def _is_workweek(rule: rrule) -> bool:
    return rule._freq in (DAILY, WEEKLY) and set(rule._byweekday or ()) == WORKWEEK and rule._interval == 1


def next_workday(day: datetime.date, calendar) -> datetime.date:
    for _step in range(60):
        day += datetime.timedelta(days=1)
        if calendar.is_workday(day):
            return day
    return day


def visit_dates(
    rule: rrule,
    first: datetime.date,
    last: datetime.date,
    calendar,
    *,
    on_holiday: str = "skip",
    valid_to: datetime.date | None = None,
) -> list[tuple[datetime.date, datetime.date]]:
    """(planned date, visit date) pairs whose visit date lies in [first, last], in order. The
    planned date is the rule's; the visit date differs when a holiday moved it."""
    end = min(last, valid_to) if valid_to else last
    # A holiday week can push a planned date up to ~10 days later: look that far back.
    since = datetime.datetime.combine(first - datetime.timedelta(days=14), datetime.time())
    until = datetime.datetime.combine(end, datetime.time())
    planned = [d.date() for d in rule.between(since, until, inc=True)]
    if _is_workweek(rule):
        seen = set(planned)
        day = since.date()
        while day <= end:
            if calendar.kind(day) == "work" and day not in seen and day >= rule._dtstart.date():
                planned.append(day)
            day += datetime.timedelta(days=1)
        planned.sort()
    out, taken = [], set()
    for day in planned:
        visit = day
        if calendar.kind(day) == "off":
            if on_holiday != "next_workday":
                continue
            visit = next_workday(day, calendar)
            if valid_to and visit > valid_to:
                continue
        if first <= visit <= last and visit not in taken:
            taken.add(visit)
            out.append((day, visit))
    return out
