"""How busy a station is now: 空闲 / 较忙 / 拥挤, from the check-ins of the last 30 minutes against
the station's seats, or "full" when its staff said so (for an hour); and the hour it is usually
busiest, from the month rollups' hour-of-day counts. Counts only: no person is looked at.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yizhan.audit.services import record

WINDOW = datetime.timedelta(minutes=30)
FULL_FOR = datetime.timedelta(hours=1)
# A station whose seats are not recorded is taken to have this many.
DEFAULT_SEATS = 6
# Share of the seats the last 30 minutes' check-ins fill: below BUSY is quiet, from FULL crowded.
BUSY, FULL = 0.5, 1.0
# The profile needs this many check-ins, and its peak hour this share above an even spread, to say
# "usually busy at".
PROFILE_MIN_CHECKINS = 20
PROFILE_PEAK_FACTOR = 1.5
PROFILE_MONTHS = 3

QUIET, BUSY_LEVEL, CROWDED = "quiet", "busy", "crowded"
LABELS = {
    QUIET: gettext_lazy("Quiet"),
    BUSY_LEVEL: gettext_lazy("Busy"),
    CROWDED: gettext_lazy("Crowded"),
}
CSS = {QUIET: "ok", BUSY_LEVEL: "warn", CROWDED: "bad"}


@dataclass(frozen=True)
class Busy:
    level: str
    recent: int  # check-ins in the last 30 minutes
    seats: int
    full_until: datetime.datetime | None = None

    @property
    def label(self) -> str:
        return str(LABELS[self.level])

    @property
    def css(self) -> str:
        return CSS[self.level]

    @property
    def text(self) -> str:
        if self.full_until is not None:
            return _("Full (staff, until %(time)s)") % {
                "time": timezone.localtime(self.full_until).strftime("%H:%M")
            }
        return self.label


def level_for(recent: int, seats: int | None) -> str:
    capacity = seats or DEFAULT_SEATS
    share = recent / capacity
    if share >= FULL:
        return CROWDED
    if share >= BUSY:
        return BUSY_LEVEL
    return QUIET


def busy_now(station_ids: list[int], now: datetime.datetime | None = None) -> dict[int, Busy]:
    """{station id: Busy} for the stations, in three queries whatever their number."""
    from yizhan.locator.models import StationFull
    from yizhan.stations.models import Station
    from yizhan.visits.models import CheckIn

    if not station_ids:
        return {}
    now = now or timezone.now()
    recent = dict(
        # The day bound lets the (station, day) index skip each station's history.
        CheckIn.objects.filter(
            station_id__in=station_ids,
            day__gte=timezone.localtime(now - WINDOW).date(),
            at__gt=now - WINDOW,
            at__lte=now,
        )
        .values("station_id")
        .annotate(n=Count("id"))
        .values_list("station_id", "n")
    )
    seats = dict(Station.objects.filter(pk__in=station_ids).values_list("pk", "seats"))
    full = dict(
        StationFull.objects.filter(station_id__in=station_ids, until__gt=now).values_list(
            "station_id", "until"
        )
    )
    return {pk: _busy(recent.get(pk, 0), seats.get(pk), full.get(pk)) for pk in station_ids}


def _busy(recent: int, seats: int | None, full_until: datetime.datetime | None) -> Busy:
    capacity = seats or DEFAULT_SEATS
    if full_until is not None:
        return Busy(CROWDED, recent, capacity, full_until)
    return Busy(level_for(recent, capacity), recent, capacity)


@dataclass(frozen=True)
class Snapshot:
    """The whole network's busy state at one moment (see `network_now`)."""

    recent: dict  # {station id: (check-ins in the window, seats)}, stations with any only
    full: dict  # {station id: until}

    def levels(self, station_ids) -> dict[int, Busy]:
        """busy_now()'s levels and words for these stations at the snapshot's moment (the seats
        of a station without check-ins in the window are not read: it is quiet or full anyway)."""
        out = {}
        for pk in station_ids:
            n, seats = self.recent.get(pk, (0, None))
            out[pk] = _busy(n, seats, self.full.get(pk))
        return out


def network_now(now: datetime.datetime | None = None) -> Snapshot:
    """Every station's state in two queries, for lists kept per process (locator.pagecache): a
    station without check-ins in the window is quiet whatever its seats, so only the stations with
    some are read, with their seats."""
    from yizhan.locator.models import StationFull
    from yizhan.visits.models import CheckIn

    now = now or timezone.now()
    rows = (
        CheckIn.objects.filter(
            day__gte=timezone.localtime(now - WINDOW).date(), at__gt=now - WINDOW, at__lte=now
        )
        .values("station_id", "station__seats")
        .annotate(n=Count("id"))
        .values_list("station_id", "station__seats", "n")
    )
    full = dict(StationFull.objects.filter(until__gt=now).values_list("station_id", "until"))
    return Snapshot({pk: (n, seats) for pk, seats, n in rows}, full)


def usual_peak(station_id: int, today: datetime.date | None = None) -> int | None:
    """The hour of day (0–23) the station is usually busiest, from the last three months' hour
    counts; None when there are too few check-ins or no hour stands out."""
    from yizhan.visits.models import HOUR_COLUMNS, MonthlyRollup

    today = today or timezone.localdate()
    first = today.replace(day=1)
    for _month in range(PROFILE_MONTHS - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    rows = MonthlyRollup.objects.filter(station_id=station_id, month__gte=first).values_list(*HOUR_COLUMNS)
    hours = [sum(column) for column in zip(*rows, strict=True)] if rows else []
    total = sum(hours)
    if total < PROFILE_MIN_CHECKINS:
        return None
    open_hours = [h for h in hours if h] or [0]
    peak = max(range(24), key=lambda h: (hours[h], -h))
    if hours[peak] < PROFILE_PEAK_FACTOR * total / len(open_hours):
        return None
    return peak


# --- staff: "full for an hour" -------------------------------------------------------------------


@transaction.atomic
def mark_full(station, *, actor, now: datetime.datetime | None = None):
    """The station counts as crowded for the next hour (staff see the room; check-ins lag)."""
    from yizhan.locator.models import StationFull

    until = (now or timezone.now()) + FULL_FOR
    row, _created = StationFull.objects.update_or_create(station=station, defaults={"until": until})
    record(
        "station.marked_full",
        station,
        actor=actor,
        changes={"full_until": [None, timezone.localtime(until).strftime("%Y-%m-%d %H:%M")]},
    )
    return row


@transaction.atomic
def clear_full(station, *, actor, now: datetime.datetime | None = None) -> bool:
    """Take the "full" mark off; False when there was none in force."""
    from yizhan.locator.models import StationFull

    now = now or timezone.now()
    deleted, _kinds = StationFull.objects.filter(station=station, until__gt=now).delete()
    StationFull.objects.filter(station=station).delete()  # an expired mark too
    if deleted:
        record("station.full_cleared", station, actor=actor, changes={})
    return bool(deleted)
