"""Opening hours and China's statutory calendar.

A station's hours are stored as JSON (``Station.opening_hours``) and compiled into a compact,
immutable ``Schedule``; the functions here (`open_at`, `next_change`, `intervals_on`,
`is_workday`, `add_working_days`) are pure and fast once given a ``Calendar``, so that the locator
can hold 200,000 schedules in memory and answer without the database. Only `current_calendar()`
and `load_calendar()` touch the database.

The stored JSON::

    {"weekly": {"mon": [["09:00", "12:00"], ["14:00", "17:30"]], ..., "sun": []},
     "always_open": false,      # a 24/7 area: open every minute, holidays included
     "statutory": true,         # closed on public holidays, open on make-up workdays (调休)
     "exceptions": [{"date": "2026-10-08", "closed": true, "reason": "..."},
                    {"date": "2026-10-09", "intervals": [["10:00", "15:00"]], "reason": "..."}]}

Rules for one date, first match wins: before `reopens_on` of a temporarily closed station (or
ever, for a closed one) → closed; a date exception; 24/7; with `statutory` and the year in the
calendar: a holiday → closed, a make-up workday → the station's *workday hours* (the most common
Monday–Friday hours); otherwise the weekly hours of that weekday. A year missing from the
calendar falls back to the weekly hours and `calendar_missing` says so.

On top of that, the outlet's operating status (`Station.operating_windows`, written by
`yizhan.operations`) cuts the minutes of its closing windows out of those intervals, from the
minute a window starts to the minute it ends: a change scheduled ahead takes effect at its time
without anything being reloaded. `status_at` gives the window in force for the badge and notice.
"""

import datetime
import re
import zoneinfo
from collections import Counter
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAY = ((0, 1440),)
NO_HOURS: tuple = ()
HORIZON_DAYS = 400

Interval = tuple[int, int]  # minutes from midnight, end exclusive, 0 <= start < end <= 1440


class Calendar:
    """The statutory arrangement in memory: {date: True for a make-up workday, False for a holiday}
    and the years it covers."""

    __slots__ = ("days", "years")

    def __init__(self, days: dict[datetime.date, bool] | None = None, years=()):
        self.days = dict(days or {})
        self.years = frozenset(years)

    def covers(self, year: int) -> bool:
        return year in self.years

    def kind(self, day: datetime.date) -> str | None:
        """ "off" (public holiday), "work" (make-up workday) or None (an ordinary day)."""
        flag = self.days.get(day)
        return None if flag is None else ("work" if flag else "off")

    def is_workday(self, day: datetime.date) -> bool:
        flag = self.days.get(day)
        return flag if flag is not None else day.weekday() < 5


class StatusWindow(NamedTuple):
    """One window of an outlet's operating status as its station sees it. `start` / `end` are
    local minutes (date.toordinal() * 1440 + minute of the day, Asia/Shanghai); `end` None = until
    further notice. `closes`: the station is shut for the window (a closed outlet, unless the
    station lives in its 24-hour self-service area)."""

    start: int
    end: int | None
    closes: bool
    state: str
    counter_windows: int | None
    self_service_24h: bool
    notice: str


class Schedule:
    """A compiled, immutable schedule. Build it with `Schedule.from_json` or `Station.schedule()`."""

    __slots__ = (
        "weekly",
        "workday",
        "always_open",
        "statutory",
        "exceptions",
        "closed_until",
        "known",
        "windows",
        "closing",
    )

    def __init__(
        self,
        weekly=(NO_HOURS,) * 7,
        *,
        always_open=False,
        statutory=False,
        exceptions=None,
        closed_until: datetime.date | None = None,
        known=True,
        windows: tuple[StatusWindow, ...] = (),
    ):
        self.weekly = tuple(_merge(day) for day in weekly)
        self.windows = tuple(sorted(windows))
        self.closing = tuple(w for w in self.windows if w.closes)
        self.always_open = always_open
        self.statutory = statutory
        self.exceptions = {d: _merge(iv) for d, iv in (exceptions or {}).items()}
        self.closed_until = closed_until
        self.known = known
        weekdays = Counter(day for day in self.weekly[:5] if day)
        # Ties go to the earliest weekday (most_common keeps insertion order among equals).
        self.workday = weekdays.most_common(1)[0][0] if weekdays else NO_HOURS

    @classmethod
    def from_json(cls, data: dict | None, *, closed_until: datetime.date | None = None) -> "Schedule":
        """Compile stored JSON (already validated by `clean_schedule`)."""
        if not data:
            return cls(known=False, closed_until=closed_until)
        weekly_json = data.get("weekly") or {}
        weekly = [tuple(_interval(a, b) for a, b in weekly_json.get(key) or ()) for key in DAY_KEYS]
        exceptions = {}
        for item in data.get("exceptions") or ():
            day = datetime.date.fromisoformat(item["date"])
            exceptions[day] = (
                () if item.get("closed") else tuple(_interval(a, b) for a, b in item["intervals"])
            )
        return cls(
            weekly,
            always_open=bool(data.get("always_open")),
            statutory=bool(data.get("statutory")),
            exceptions=exceptions,
            closed_until=closed_until,
        )

    @classmethod
    def from_station(
        cls, data: dict | None, status: str, reopens_on: datetime.date | None, windows=None
    ) -> "Schedule":
        if status == "closed":
            closed_until = datetime.date.max
        elif status == "temporarily_closed":
            closed_until = reopens_on or datetime.date.max
        else:
            closed_until = None
        schedule = cls.from_json(data, closed_until=closed_until)
        if windows:
            schedule = cls(
                schedule.weekly,
                always_open=schedule.always_open,
                statutory=schedule.statutory,
                exceptions=schedule.exceptions,
                closed_until=closed_until,
                known=schedule.known,
                windows=compile_windows(windows),
            )
        return schedule

    @property
    def never_changes(self) -> bool:
        if self.closed_until == datetime.date.max:
            return True
        if self.closing:
            return False
        if self.closed_until is not None:
            return False
        if self.always_open:
            return not self.exceptions
        return not self.exceptions and not any(self.weekly)


def local_minute(t: datetime.datetime) -> int:
    """A moment as a local minute (see StatusWindow)."""
    local = _local(t)
    return local.date().toordinal() * 1440 + local.hour * 60 + local.minute


def compile_windows(items) -> tuple[StatusWindow, ...]:
    """`Station.operating_windows` JSON ([{"from", "to", "closes", "state", "counter_windows",
    "self_service_24h", "notice"}], ISO-8601 times with offset) as StatusWindows."""
    out = []
    for item in items or ():
        end = item.get("to")
        out.append(
            StatusWindow(
                local_minute(datetime.datetime.fromisoformat(item["from"])),
                local_minute(datetime.datetime.fromisoformat(end)) if end else None,
                bool(item.get("closes")),
                str(item.get("state") or ""),
                item.get("counter_windows"),
                bool(item.get("self_service_24h")),
                str(item.get("notice") or ""),
            )
        )
    return tuple(out)


def status_at(schedule: Schedule, t: datetime.datetime) -> StatusWindow | None:
    """The operating-status window in force at t, or None (ordinary operation)."""
    if not schedule.windows:
        return None
    minute = local_minute(t)
    for window in schedule.windows:
        if window.start <= minute and (window.end is None or minute < window.end):
            return window
    return None


def _cut(intervals: tuple[Interval, ...], day: datetime.date, closing) -> tuple[Interval, ...]:
    """`intervals` of `day` without the minutes of the closing windows."""
    base = day.toordinal() * 1440
    out = intervals
    for window in closing:
        start = window.start - base
        end = 1440 if window.end is None else window.end - base
        if end <= 0 or start >= 1440:
            continue
        start, end = max(start, 0), min(end, 1440)
        kept: list[Interval] = []
        for s, e in out:
            if s < start:
                kept.append((s, min(e, start)))
            if e > end:
                kept.append((max(s, end), e))
        out = tuple(kept)
    return out


def _merge(intervals) -> tuple[Interval, ...]:
    """Sorted, with touching intervals (12:00–14:00, 14:00–18:00) joined into one."""
    out: list[list[int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return tuple((s, e) for s, e in out)


def parse_time(text, *, end: bool = False) -> int:
    """ "09:30" -> 570. "24:00" is allowed as an end only. Raises ValueError."""
    match = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", str(text))
    if not match:
        raise ValueError(text)
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not end)):
        raise ValueError(text)
    return hours * 60 + minutes


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _interval(start, end) -> Interval:
    return parse_time(start), parse_time(end, end=True)


def intervals_on(schedule: Schedule, day: datetime.date, calendar: Calendar) -> tuple[Interval, ...]:
    """The open intervals of one date, after every rule in the module docstring."""
    if schedule.closing:
        return _cut(_intervals_on(schedule, day, calendar), day, schedule.closing)
    return _intervals_on(schedule, day, calendar)


def _intervals_on(schedule: Schedule, day: datetime.date, calendar: Calendar) -> tuple[Interval, ...]:
    if schedule.closed_until is not None and day < schedule.closed_until:
        return NO_HOURS
    special = schedule.exceptions.get(day)
    if special is not None:
        return special
    if schedule.always_open:
        return ALL_DAY
    if schedule.statutory and day.year in calendar.years:
        flag = calendar.days.get(day)
        if flag is False:
            return NO_HOURS
        if flag is True and day.weekday() >= 5:
            return schedule.workday
    return schedule.weekly[day.weekday()]


def calendar_missing(schedule: Schedule, day: datetime.date, calendar: Calendar) -> bool:
    """True when the schedule follows the statutory calendar but the year is not in it."""
    return schedule.statutory and not schedule.always_open and day.year not in calendar.years


def _local(t: datetime.datetime) -> datetime.datetime:
    if t.tzinfo is None:
        raise ValueError("open_at / next_change need a timezone-aware datetime")
    return t.astimezone(SHANGHAI)


def _at(day: datetime.date, minute: int) -> datetime.datetime:
    if minute >= 1440:
        day, minute = day + datetime.timedelta(days=1), minute - 1440
    return datetime.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=SHANGHAI)


def open_at(schedule: Schedule, t: datetime.datetime, calendar: Calendar | None = None) -> bool:
    calendar = calendar if calendar is not None else current_calendar()
    local = _local(t)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in intervals_on(schedule, local.date(), calendar))


def next_change(
    schedule: Schedule, t: datetime.datetime, calendar: Calendar | None = None
) -> datetime.datetime | None:
    """When the station next opens (if closed at t) or closes (if open), in Asia/Shanghai time;
    None when nothing changes within the next 400 days."""
    if schedule.never_changes:
        return None
    calendar = calendar if calendar is not None else current_calendar()
    local = _local(t)
    day = local.date()
    pos = local.hour * 60 + local.minute
    intervals = intervals_on(schedule, day, calendar)
    is_open = any(start <= pos < end for start, end in intervals)
    for _step in range(HORIZON_DAYS):
        if is_open:
            end = next(e for s, e in intervals if s <= pos < e)
            if end < 1440:
                return _at(day, end)
            day, pos = day + datetime.timedelta(days=1), 0
            intervals = intervals_on(schedule, day, calendar)
            if not intervals or intervals[0][0] != 0:
                return _at(day, 0)
        else:
            start = next((s for s, _e in intervals if s >= pos), None)
            if start is not None:
                return _at(day, start)
            day, pos = day + datetime.timedelta(days=1), 0
            intervals = intervals_on(schedule, day, calendar)
    return None


def is_workday(day: datetime.date, calendar: Calendar | None = None) -> bool:
    """Monday–Friday unless the calendar says holiday; a make-up Saturday or Sunday is a workday.
    For a year missing from the calendar this is plain Monday–Friday."""
    calendar = calendar if calendar is not None else current_calendar()
    return calendar.is_workday(day)


def add_working_days(day: datetime.date, n: int, calendar: Calendar | None = None) -> datetime.date:
    """The date `n` working days after `day` (before it, for negative n); `day` itself never
    counts, so a feedback received on a Friday before a holiday week is due after it."""
    calendar = calendar if calendar is not None else current_calendar()
    step = datetime.timedelta(days=1 if n >= 0 else -1)
    remaining = abs(n)
    while remaining:
        day += step
        if calendar.is_workday(day):
            remaining -= 1
    return day


def missing_calendar_years(today: datetime.date | None = None, calendar: Calendar | None = None) -> list[int]:
    """Years an admin should add: this year if missing, and next year from October on
    (the State Council publishes the arrangement each late autumn)."""
    from django.utils import timezone

    today = today or timezone.localdate()
    calendar = calendar if calendar is not None else current_calendar()
    wanted = [today.year] + ([today.year + 1] if today.month >= 10 else [])
    return [year for year in wanted if not calendar.covers(year)]


# --- validation -------------------------------------------------------------------------------


def clean_schedule(data, *, field: str = "opening_hours") -> dict:
    """Validate and normalise schedule JSON; errors name the day or exception at fault, e.g.
    {"opening_hours.mon": "Interval 2 (13:00–12:00) ends before it starts."}."""
    if data in (None, "", {}):
        return {}
    if not isinstance(data, dict):
        raise ValidationError({field: _("Opening hours must be an object with weekly hours.")})
    errors: dict[str, str] = {}
    unknown = set(data) - {"weekly", "always_open", "statutory", "exceptions"}
    if unknown:
        errors[field] = _("Unknown key(s) in opening hours: %(keys)s.") % {"keys": ", ".join(sorted(unknown))}
    weekly_in = data.get("weekly") or {}
    weekly: dict[str, list] = {}
    if not isinstance(weekly_in, dict):
        errors[f"{field}.weekly"] = _("Weekly hours must map mon … sun to lists of intervals.")
        weekly_in = {}
    for key in set(weekly_in) - set(DAY_KEYS):
        errors[f"{field}.weekly"] = _("Unknown day %(day)s; use mon, tue, wed, thu, fri, sat, sun.") % {
            "day": key
        }
    for key in DAY_KEYS:
        weekly[key] = _clean_intervals(weekly_in.get(key), f"{field}.{key}", errors)
    exceptions = []
    seen: set[str] = set()
    items = data.get("exceptions") or []
    if not isinstance(items, list):
        errors[f"{field}.exceptions"] = _("Exceptions must be a list.")
        items = []
    for index, item in enumerate(items, start=1):
        name = f"{field}.exceptions[{index}]"
        if not isinstance(item, dict):
            errors[name] = _("Each exception needs a date.")
            continue
        try:
            day = datetime.date.fromisoformat(str(item.get("date", "")).strip())
        except ValueError:
            errors[f"{name}.date"] = _("Enter a valid date (YYYY-MM-DD).")
            continue
        if day.isoformat() in seen:
            errors[f"{name}.date"] = _("%(date)s appears twice.") % {"date": day.isoformat()}
            continue
        seen.add(day.isoformat())
        reason = str(item.get("reason") or "").strip()
        if len(reason) > 200:
            errors[f"{name}.reason"] = _("At most 200 characters.")
        closed = bool(item.get("closed"))
        intervals = [] if closed else _clean_intervals(item.get("intervals"), f"{name}.intervals", errors)
        if not closed and not intervals and f"{name}.intervals" not in errors:
            errors[f"{name}.intervals"] = _("Give opening intervals, or mark the date closed.")
        entry = {"date": day.isoformat(), "reason": reason[:200]}
        entry.update({"closed": True} if closed else {"intervals": intervals})
        exceptions.append(entry)
    if errors:
        raise ValidationError(errors)
    return {
        "weekly": weekly,
        "always_open": bool(data.get("always_open")),
        "statutory": bool(data.get("statutory")),
        "exceptions": sorted(exceptions, key=lambda e: e["date"]),
    }


def _clean_intervals(value, name: str, errors: dict) -> list[list[str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        errors[name] = _("Give a list of [start, end] intervals.")
        return []
    parsed = []
    for index, pair in enumerate(value, start=1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            errors[name] = _("Interval %(n)s must be a [start, end] pair.") % {"n": index}
            return []
        try:
            start, end = parse_time(pair[0]), parse_time(pair[1], end=True)
        except ValueError:
            errors[name] = _("Interval %(n)s: use HH:MM times between 00:00 and 24:00.") % {"n": index}
            return []
        if end <= start:
            errors[name] = _("Interval %(n)s (%(start)s–%(end)s) ends before it starts.") % {
                "n": index,
                "start": format_time(start),
                "end": format_time(end),
            }
            return []
        parsed.append((start, end, index))
    parsed.sort()
    for (s1, e1, i1), (s2, e2, i2) in zip(parsed, parsed[1:], strict=False):
        if s2 < e1:
            errors[name] = _("Intervals %(a)s and %(b)s overlap (%(s1)s–%(e1)s, %(s2)s–%(e2)s).") % {
                "a": min(i1, i2),
                "b": max(i1, i2),
                "s1": format_time(s1),
                "e1": format_time(e1),
                "s2": format_time(s2),
                "e2": format_time(e2),
            }
            return []
    return [[format_time(s), format_time(e)] for s, e, _i in parsed]


# --- the calendar from the database -------------------------------------------------------------

_cache: dict = {"version": None, "calendar": None}


def load_calendar() -> Calendar:
    from yizhan.stations.models import HolidayDate, HolidayYear

    days = {d: kind == "work" for d, kind in HolidayDate.objects.values_list("date", "kind")}
    return Calendar(days, HolidayYear.objects.values_list("year", flat=True))


def current_calendar() -> Calendar:
    """The calendar, reloaded only when its version counter has moved (one small query)."""
    from yizhan.stations.services import version_of

    version = version_of("calendar")
    if _cache["calendar"] is None or _cache["version"] != version:
        _cache["calendar"] = load_calendar()
        _cache["version"] = version
    return _cache["calendar"]


# --- the one-line text form used in spreadsheets -------------------------------------------------

_DAY_WORDS = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
}  # fmt: skip
_ALWAYS = {"24/7", "24h", "24小时", "全天", "全天24小时", "always"}
CLOSED_WORDS = frozenset({"休息", "闭馆", "不开放", "closed", "-"})
# The word a closed day or date is written with: shown in help texts and forms; "closed" and the
# other words above are still read, for files and habits from before.
CLOSED_KEYWORD = "休息"


def _day_set(text: str) -> list[int]:
    words = text.strip().lower().replace("周", "").replace("星期", "").replace("礼拜", "")
    if words in {"每天", "每日", "daily", "all", "天天"}:
        return list(range(7))
    if words in {"工作日", "weekdays"}:
        return list(range(5))
    if words in {"末", "weekend", "weekends", "六日", "六、日", "六至日"}:
        return [5, 6]
    days: list[int] = []
    for part in re.split(r"[,，、/]", words):
        part = part.strip()
        if not part:
            continue
        bounds = re.split(r"\s*(?:至|到|-|–|~)\s*", part)
        if len(bounds) == 2 and bounds[0] in _DAY_WORDS and bounds[1] in _DAY_WORDS:
            a, b = _DAY_WORDS[bounds[0]], _DAY_WORDS[bounds[1]]
            if b < a:
                raise ValueError(part)
            days.extend(range(a, b + 1))
        elif part in _DAY_WORDS:
            days.append(_DAY_WORDS[part])
        elif part[:3] in _DAY_WORDS and part.isascii():
            days.append(_DAY_WORDS[part[:3]])
        else:
            raise ValueError(part)
    return days


def parse_hours_text(text: str, *, field: str = "opening_hours") -> dict:
    """ "周一至周五 09:00-12:00,14:00-17:30；周六 09:30-16:00" or "mon-fri 09:00-17:00; sat closed"
    or "24小时" -> weekly JSON (days not named are closed). Raises ValidationError naming `field`."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.lower().replace(" ", "") in _ALWAYS:
        return {"weekly": {}, "always_open": True}
    weekly: dict[str, list] = {}
    for segment in re.split(r"[;；\n]+", text):
        segment = segment.strip()
        if not segment:
            continue
        match = re.match(
            r"^(.*?)\s*((?:\d{1,2}[:：]\d{2}\s*[-–~至到]\s*\d{1,2}[:：]\d{2}[\s,，、]*)+|休息|闭馆|不开放|closed|-)$",
            segment,
            re.I,
        )
        if not match:
            raise ValidationError(
                {
                    field: _("Cannot read %(part)s: write days then times, e.g. 周一至周五 09:00-17:00.")
                    % {"part": segment}
                }
            )
        try:
            days = _day_set(match[1]) if match[1].strip() else list(range(7))
        except ValueError:
            raise ValidationError({field: _("Unknown days in %(part)s.") % {"part": segment}}) from None
        intervals = []
        if match[2].strip().lower() not in CLOSED_WORDS:
            for a, b in re.findall(r"(\d{1,2}[:：]\d{2})\s*[-–~至到]\s*(\d{1,2}[:：]\d{2})", match[2]):
                intervals.append([a.replace("：", ":"), b.replace("：", ":")])
        for day in days:
            weekly[DAY_KEYS[day]] = weekly.get(DAY_KEYS[day], []) + intervals
    return {"weekly": weekly}


def _day_runs(data: dict) -> list[tuple[int, int, list]]:
    """Consecutive days with the same intervals, as (first day index, last day index, intervals)."""
    weekly = data.get("weekly") or {}
    runs: list[tuple[int, int, list]] = []
    for index, key in enumerate(DAY_KEYS):
        intervals = weekly.get(key) or []
        if runs and runs[-1][2] == intervals and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index, intervals)
        else:
            runs.append((index, index, intervals))
    return runs


def format_hours_text(data: dict | None) -> str:
    """The inverse of parse_hours_text for the weekly part (Chinese day names, runs joined)."""
    if not data:
        return ""
    if data.get("always_open"):
        return "24小时"
    names = "一二三四五六日"
    parts = []
    for start, end, intervals in _day_runs(data):
        if not intervals:
            continue
        days = f"周{names[start]}" if start == end else f"周{names[start]}至周{names[end]}"
        parts.append(f"{days} " + ",".join(f"{a}-{b}" for a, b in intervals))
    return "；".join(parts) if parts else "休息"


# --- for reading, in the reader's language ------------------------------------------------------

_DAY_ABBR = (
    pgettext_lazy("weekday", "Mon"),
    pgettext_lazy("weekday", "Tue"),
    pgettext_lazy("weekday", "Wed"),
    pgettext_lazy("weekday", "Thu"),
    pgettext_lazy("weekday", "Fri"),
    pgettext_lazy("weekday", "Sat"),
    pgettext_lazy("weekday", "Sun"),
)


def describe_hours(data: dict | None, *, exceptions: bool = False) -> str:
    """The weekly hours for a page, in the active language: "周一至周五 09:00-17:00；周六
    09:30-16:00" in Chinese, "Mon–Fri 09:00-17:00; Sat 09:30-16:00" in English (the text form
    for spreadsheets, `format_hours_text`, stays Chinese whatever the language). With
    `exceptions`, the dated exceptions follow ("2026-10-08 休息")."""
    if not data:
        return ""
    if data.get("always_open"):
        text = str(_("open 24 hours"))
    else:
        parts = []
        for start, end, intervals in _day_runs(data):
            if not intervals:
                continue
            days = (
                str(_DAY_ABBR[start])
                if start == end
                else _("%(first)s–%(last)s") % {"first": _DAY_ABBR[start], "last": _DAY_ABBR[end]}
            )
            parts.append(f"{days} " + ",".join(f"{a}-{b}" for a, b in intervals))
        text = _("; ").join(parts) if parts else str(_("closed"))
    if exceptions:
        for item in data.get("exceptions") or ():
            what = (
                CLOSED_KEYWORD if item.get("closed") else ",".join(f"{a}-{b}" for a, b in item["intervals"])
            )
            text += _("; ") + f"{item['date']} {what}" + (f" {item['reason']}" if item.get("reason") else "")
    return text
