"""Loading the index from the database, and keeping each process's copy current.

A full load is a handful of set-wise queries: facility states come back already folded into one
bitmask per station and state (a SUM of distinct powers of two is their OR: a station has at most
one row per facility), so 200,000 stations with a dozen facility rows each cost 200,000 result
rows, not millions. Schedules are interned by their JSON text and compiled once each.

After that, a change of the data version is applied as a patch: the stations whose `updated_at`
moved since the last load (every station verb sets it; a facility change touches its station)
are read again and replace their rows — milliseconds, whatever the size of the network. A full
load happens instead when the catalogue changed, the version went backwards (a restored
database), the patch would be large, or the patched index does not hold as many stations as the
database (a station deleted outside the verbs).

Mobile stations are not rows of the arrays: their visits make the index's mobile layer
(`load_mobile`), read again whenever the `mobile` data version moved (every mobile verb bumps
it with the stations' version) and kept as it is otherwise.
"""

import datetime
import json
import os
import threading
import time

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from yizhan.locator.index import BITS_PER_WORD, STATUS_CODES, TEXT_FIELDS, Catalogue, Rows, StationIndex

# Transactions take time to commit and servers' clocks differ: re-read a little further back.
SYNC_MARGIN = datetime.timedelta(minutes=5)
MAX_PATCH_SHARE = 0.1
MAX_TEXT_BLOCKS = 64


def load_catalogue() -> tuple[Catalogue, dict[int, int]]:
    """The catalogue (bit positions in primary-key order) and {facility pk: position}."""
    from yizhan.stations.models import Facility, Theme

    facilities = list(Facility.objects.order_by("pk").values_list("pk", "code"))
    themes = list(Theme.objects.order_by("pk").values_list("code", flat=True))
    catalogue = Catalogue(tuple(code for _pk, code in facilities), tuple(themes))
    return catalogue, {pk: position for position, (pk, _code) in enumerate(facilities)}


def _bit_expression(positions: dict[int, int], word: int) -> str:
    """SQL for the bit of `facility_id` within mask word `word` (0 for facilities of other words)."""
    members = {pk: p % BITS_PER_WORD for pk, p in positions.items() if p // BITS_PER_WORD == word}
    if not members:
        return "0"
    base = min(members)
    if all(bit == pk - base for pk, bit in members.items()):
        # The seeded catalogue is one run of primary keys: a shift beats a long CASE.
        return (
            f"(CASE WHEN facility_id BETWEEN {base} AND {max(members)} "
            f"THEN CAST(1 AS BIGINT) << CAST(facility_id - {base} AS INTEGER) ELSE 0 END)"
        )
    whens = " ".join(f"WHEN {pk} THEN {1 << bit}" for pk, bit in members.items())
    return f"(CASE facility_id {whens} ELSE 0 END)"


def load_rows(catalogue: Catalogue, positions: dict[int, int], *, since=None) -> tuple[np.ndarray, Rows]:
    """(ids of every station read, Rows of those that are public). With `since`, only stations
    whose updated_at is at or after it."""
    from yizhan.stations import hours
    from yizhan.stations.models import Station, StationFacility

    quote = connection.ops.quote_name
    station_table = quote(Station._meta.db_table)
    # Mobile stations have no fixed place: they are the mobile layer's (load_mobile).
    where, params = "WHERE kind = 'fixed'", []
    if since is not None:
        where += " AND updated_at >= %s"
        params = [connection.ops.adapt_datetimefield_value(since)]
    text_columns = ", ".join(quote(name) for name in TEXT_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, lat, lng, status, reopens_on, CAST(opening_hours AS TEXT), {text_columns}, "  # noqa: S608
            "CAST(operating_windows AS TEXT) "
            f"FROM {station_table} {where} ORDER BY id",
            params,
        )
        fetched = cursor.fetchall()
    read_ids = np.fromiter((r[0] for r in fetched), dtype=np.int64, count=len(fetched))
    public = [r for r in fetched if r[3] in STATUS_CODES]
    n = len(public)
    ids = np.fromiter((r[0] for r in public), dtype=np.int64, count=n)
    words = catalogue.words
    yes = np.zeros((n, words), dtype=np.uint64)
    no = np.zeros((n, words), dtype=np.uint64)
    broken = np.zeros((n, words), dtype=np.uint64)

    if n:
        facility_table = quote(StationFacility._meta.db_table)
        facility_where = ""
        if since is not None:
            facility_where = f"WHERE station_id IN (SELECT id FROM {station_table} WHERE updated_at >= %s)"  # noqa: S608
        for word in range(words):
            bit = _bit_expression(positions, word)
            with connection.cursor() as cursor:
                # The CASTs keep PostgreSQL's SUM in bigint (it widens to numeric otherwise).
                cursor.execute(
                    f"SELECT station_id, "  # noqa: S608
                    f"CAST(SUM(CASE WHEN state = 'yes' THEN {bit} ELSE 0 END) AS BIGINT), "
                    f"CAST(SUM(CASE WHEN state = 'no' THEN {bit} ELSE 0 END) AS BIGINT), "
                    f"CAST(SUM(CASE WHEN out_of_order THEN {bit} ELSE 0 END) AS BIGINT) "
                    f"FROM {facility_table} {facility_where} GROUP BY station_id",
                    params,
                )
                masks = cursor.fetchall()
            if not masks:
                continue
            columns = [np.array(c, dtype=np.int64) for c in zip(*masks, strict=True)]
            rows, present = _rows_of(ids, columns[0])
            yes[rows, word] = columns[1][present].astype(np.uint64)
            no[rows, word] = columns[2][present].astype(np.uint64)
            broken[rows, word] = columns[3][present].astype(np.uint64)

    themes = np.zeros(n, dtype=np.uint64)
    if n and catalogue.themes:
        theme_bits = _theme_bits(catalogue)
        through = Station.themes.through.objects
        if since is not None:
            through = through.filter(station__updated_at__gte=since)
        links = list(through.values_list("station_id", "theme_id"))
        if links:
            station_ids = np.fromiter((s for s, _t in links), dtype=np.int64, count=len(links))
            bits = np.fromiter((theme_bits.get(t, 0) for _s, t in links), dtype=np.uint64, count=len(links))
            rows, present = _rows_of(ids, station_ids)
            np.bitwise_or.at(themes, rows, bits[present])

    schedule_keys, compiled = [], {}
    for r in public:
        windows = r[-1] if r[-1] not in (None, "[]") else ""
        key = (r[3], str(r[4]) if r[4] else "", r[5] or "", windows)
        schedule_keys.append(key)
        if key not in compiled:
            reopens_on = r[4] if not isinstance(r[4], str) else datetime.date.fromisoformat(r[4])
            compiled[key] = hours.Schedule.from_station(
                json.loads(r[5]) if r[5] else {}, r[3], reopens_on, json.loads(windows) if windows else None
            )
    rows = Rows(
        ids=ids,
        lat=np.fromiter((r[1] for r in public), dtype=np.float64, count=n),
        lng=np.fromiter((r[2] for r in public), dtype=np.float64, count=n),
        yes=yes,
        no=no,
        out_of_order=broken,
        themes=themes,
        status=np.fromiter((STATUS_CODES[r[3]] for r in public), dtype=np.uint8, count=n),
        schedule_keys=schedule_keys,
        schedules=compiled,
        text={name: [r[6 + i] or "" for r in public] for i, name in enumerate(TEXT_FIELDS)},
    )
    return read_ids, rows


def _rows_of(ids: np.ndarray, station_ids: np.ndarray):
    """Positions in `ids` (ascending) of `station_ids`, and which of them are there at all."""
    found = np.searchsorted(ids, station_ids)
    clipped = np.minimum(found, len(ids) - 1)
    present = (found < len(ids)) & (ids[clipped] == station_ids)
    return found[present], present


def _theme_bits(catalogue: Catalogue) -> dict[int, int]:
    from yizhan.stations.models import Theme

    codes = dict(Theme.objects.values_list("pk", "code"))
    return {pk: 1 << catalogue.themes.index(code) for pk, code in codes.items() if code in catalogue.themes}


def public_count() -> int:
    from yizhan.stations.models import Station

    return Station.objects.filter(status__in=list(STATUS_CODES), kind="fixed").count()


def load_mobile(catalogue: Catalogue, positions: dict[int, int], version: int = 0):
    """The mobile layer: every active mobile station with its masks and texts, and its planned
    visits from yesterday to the generation horizon and a day."""
    from yizhan.locator.mobile import MobileLayer
    from yizhan.mobile.models import Visit
    from yizhan.mobile.services import HORIZON_DAYS
    from yizhan.stations.models import Station, StationFacility

    stations = list(
        Station.objects.filter(kind="mobile", status="active")
        .order_by("pk")
        .values_list("pk", "code", "name", "name_en", "phone", "public_notice")
    )
    slot = {row[0]: i for i, row in enumerate(stations)}
    words = catalogue.words
    m = len(stations)
    yes = np.zeros((m, words), dtype=np.uint64)
    no = np.zeros((m, words), dtype=np.uint64)
    broken = np.zeros((m, words), dtype=np.uint64)
    themes = np.zeros(m, dtype=np.uint64)
    if m:
        for station_id, facility_id, state, out_of_order in StationFacility.objects.filter(
            station__kind="mobile", station__status="active"
        ).values_list("station_id", "facility_id", "state", "out_of_order"):
            position = positions.get(facility_id)
            if position is None:
                continue
            word, bit = divmod(position, BITS_PER_WORD)
            mask = np.uint64(1 << bit)
            row = slot[station_id]
            if state == "yes":
                yes[row, word] |= mask
                if out_of_order:
                    broken[row, word] |= mask
            elif state == "no":
                no[row, word] |= mask
        theme_bits = _theme_bits(catalogue)
        for station_id, theme_id in Station.themes.through.objects.filter(
            station__kind="mobile", station__status="active"
        ).values_list("station_id", "theme_id"):
            themes[slot[station_id]] |= np.uint64(theme_bits.get(theme_id, 0))
    now = timezone.now()
    visits = list(
        Visit.objects.filter(
            status="planned",
            station__kind="mobile",
            station__status="active",
            ends_at__gt=now - datetime.timedelta(days=1),
            starts_at__lt=now + datetime.timedelta(days=HORIZON_DAYS + 1),
        ).values_list(
            "pk",
            "station_id",
            "starts_at",
            "ends_at",
            "place__lat",
            "place__lng",
            "place__name",
            "place__address",
        )
    )
    return MobileLayer(
        station_ids=[row[0] for row in stations],
        yes=yes,
        no=no,
        out_of_order=broken,
        themes=themes,
        texts=[tuple(row[1:]) for row in stations],
        visit_ids=[v[0] for v in visits],
        visit_station=[slot[v[1]] for v in visits],
        starts=[int(v[2].timestamp()) for v in visits],
        ends=[int(v[3].timestamp()) for v in visits],
        lat=[v[4] for v in visits],
        lng=[v[5] for v in visits],
        places=[v[6] for v in visits],
        addresses=[v[7] for v in visits],
        version=version,
    )


def full_load(version: int = 0) -> StationIndex:
    from yizhan.stations import hours
    from yizhan.stations.services import version_of

    started = timezone.now()
    calendar_version = version_of("calendar")
    mobile_version = version_of("mobile")
    catalogue, positions = load_catalogue()
    _read, rows = load_rows(catalogue, positions)
    index = StationIndex.build(
        rows,
        catalogue=catalogue,
        calendar=hours.load_calendar(),
        version=version,
        calendar_version=calendar_version,
        synced_at=started,
    )
    index.mobile = load_mobile(catalogue, positions, mobile_version)
    return index


def refreshed(old: StationIndex | None, version: int) -> StationIndex:
    """The index for data version `version`: `old` patched with what changed, or a full load."""
    from yizhan.stations import hours
    from yizhan.stations.services import version_of

    if old is None or version < old.version or len(old.text_blocks) >= MAX_TEXT_BLOCKS:
        return full_load(version)
    started = timezone.now()
    catalogue, positions = load_catalogue()
    if catalogue != old.catalogue:
        return full_load(version)
    calendar_version = version_of("calendar")
    calendar = old.calendar if calendar_version == old.calendar_version else hours.load_calendar()
    read_ids, rows = load_rows(catalogue, positions, since=old.synced_at - SYNC_MARGIN)
    if len(read_ids) > MAX_PATCH_SHARE * max(old.n, 1000):
        return full_load(version)
    index = old.patched(
        read_ids,
        rows,
        calendar=calendar,
        version=version,
        calendar_version=calendar_version,
        synced_at=started,
    )
    if index.n != public_count():
        return full_load(version)
    mobile_version = version_of("mobile")
    if old.mobile is None or old.mobile.version != mobile_version:
        index.mobile = load_mobile(catalogue, positions, mobile_version)
    return index


# --- this process's index -------------------------------------------------------------------------

_current: dict = {"index": None, "checked": 0.0, "stale": False, "interval": None}
_build_lock = threading.Lock()


def refresh_interval() -> float:
    """Seconds between reads of the data version: YIZHAN_LOCATOR_REFRESH_MS (setting or environment
    variable), 500 ms by default. Tests change data in transactions that never commit (so no
    on_commit signal): there the version is read on every request."""
    value = getattr(settings, "YIZHAN_LOCATOR_REFRESH_MS", None)
    if value is None:
        value = os.environ.get("YIZHAN_LOCATOR_REFRESH_MS") or (
            0 if getattr(settings, "TESTING", False) else 500
        )
    return float(value) / 1000.0


def current_index() -> StationIndex:
    """This process's index, current with the station data version. The version (one indexed
    SELECT) is read at most once per YIZHAN_LOCATOR_REFRESH_MS, and on the next request after
    this process itself committed a station change."""
    index = _current["index"]
    now = time.monotonic()
    interval = _current["interval"]
    if interval is None:
        interval = _current["interval"] = refresh_interval()
    if index is not None and not _current["stale"] and now - _current["checked"] < interval:
        return index
    from yizhan.stations.services import data_version

    _current["stale"] = False
    version = data_version()
    _current["checked"] = now
    if index is not None and index.version == version:
        return index
    with _build_lock:
        index = _current["index"]
        if index is None or index.version != version:
            index = refreshed(index, version)
            _current["index"] = index
    return index


def mark_stale(**_kwargs) -> None:
    _current["stale"] = True


def settings_changed(*, setting, **_kwargs) -> None:
    """Signal receiver (tests override settings): read the refresh interval again."""
    if setting in ("YIZHAN_LOCATOR_REFRESH_MS", "TESTING"):
        _current["interval"] = None


def forget() -> None:
    """Drop this process's index (tests that need a cold start)."""
    _current.update(index=None, checked=0.0, stale=False, interval=None)
