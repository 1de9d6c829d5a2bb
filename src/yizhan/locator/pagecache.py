"""The list page as rendered, kept per process, so that the same search is not rendered again.

Rendering the whole page (the 20 stations with badges and icons, the filter form, the city list:
~900 template values) costs ~8 ms; serving a kept copy costs tens of microseconds. A copy is
found by everything the page is made of:

- the path with its query string, the language, large-text mode and whether htmx asked for the
  results alone (the key);
- the station data version the index was built from and the gazetteer's "places" version (the
  key: any station or place write makes every copy old);
- time: a copy is used until the first moment one of its badges could read otherwise — the next
  opening or closing of a listed station, the start or end of an operating-status window, local
  midnight (the badges say "明天" / "周一") — and with "open now" the end of the minute (which
  stations are open decides which are listed); never longer than MAX_AGE_S (the facility labels
  and the city list the page shows are themselves kept that long);
- put in at each answer: the busy levels from one snapshot of the whole network per process
  (`busy.network_now`, at most BUSY_TTL_S old: check-ins move them, not data versions; a "full"
  mark made by this process shows at once), worked out once per snapshot and page.

Nothing on the page is the visitor's own: its forms are `core.crossorigin.public_form`s, checked
by the browser's origin headers, so it carries no CSRF token and sets no cookie.

Only pages whose place is certain are kept (a shared position, a picked city, one exact landmark);
"which place do you mean?" and "nothing found" pages read branch names from the database and are
rendered each time. The demand the page records (`locator.signals.searched`) is sent on every
answer, kept or not."""

import datetime
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.html import escape

MAX_AGE_S = 300.0
# Busy levels on a kept list are at most this old (the station page's are always current): one
# network-wide read per process this often, instead of three queries per kept page (a fifth of the
# kept pages' cost in bench/search.py once their own 30 seconds ran out).
BUSY_TTL_S = 30.0
# The kept pages of one process together: their lines are kept once however many pages share
# them (the head, the filter form, the city list, a station's row in every list near it), so a
# page of ~47 KB costs a few KB more. Past this, everything is dropped and kept afresh.
MAX_BYTES = 64 * 1024 * 1024

# Where the busy values go: a prefix of this process's own, which no visitor's text that a
# page echoes (the place typed, the "near" label) can forge.
SLOT = "yz" + secrets.token_hex(6)
SLOT_RE = re.compile(rb"(" + SLOT.encode() + rb"[a-z]+\d*)")


@dataclass
class Entry:
    parts: list  # the page cut at its slots: tuples of shared lines, slot names at odd positions
    until: float  # time.time() after which the page may read otherwise
    station_ids: list[int]
    demand: tuple | None  # (lat, lng, nearest station id) for `searched`, or None
    # The busy values last put in and the snapshot they came from (`busy_values`).
    busy: tuple = (0, {})


_entries: OrderedDict = OrderedDict()
_lines: dict[bytes, bytes] = {}
_state = {"bytes": 0}
_busy: dict = {"snapshot": None, "until": 0.0, "serial": 0}
_lock = threading.Lock()


def busy_slots(station_ids: list[int]):
    """Stand-ins for the rows' busy levels while the page is rendered for keeping."""
    return {pk: _BusySlot(i) for i, pk in enumerate(station_ids)}


class _BusySlot:
    def __init__(self, i: int):
        self.level = f"{SLOT}bl{i}"
        self.text = f"{SLOT}bt{i}"


def busy_values(entry: Entry) -> dict[bytes, bytes]:
    """The kept page's busy slots filled from the current snapshot, worked out once per snapshot
    and page: their words (a translation each) were a third of a kept page's view time."""
    from yizhan.locator import busy

    now = time.time()
    if now >= _busy["until"]:
        _busy["snapshot"], _busy["until"] = busy.network_now(), now + busy_ttl()
        _busy["serial"] += 1
    serial = _busy["serial"]
    made_from, values = entry.busy
    if made_from == serial:
        return values
    levels = _busy["snapshot"].levels(entry.station_ids)
    out = {}
    for i, pk in enumerate(entry.station_ids):
        level = levels[pk]
        out[f"{SLOT}bl{i}".encode()] = level.level.encode()
        out[f"{SLOT}bt{i}".encode()] = escape(level.text).encode()
    entry.busy = (serial, out)
    return out


def valid_until(idx, results, query) -> float:
    """The first moment (time.time()) one of the page's time-dependent words could change."""
    now = time.time()
    until = now + MAX_AGE_S
    if query is None:
        return until
    if query.at_given:
        return until  # "open at" a given moment: nothing on the page moves with the clock
    if query.open_now:
        return min(until, (now // 60 + 1) * 60)
    local = timezone.localtime(query.at)
    midnight = (local + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    until = min(until, midnight.timestamp())
    at_minute = local.toordinal() * 1440 + local.hour * 60 + local.minute
    for result in results:
        if result.next_change is not None:
            until = min(until, result.next_change.timestamp())
        if idx.is_mobile(result.row):
            continue  # a van's words change at its visit's start or end: its next_change above
        for window in idx.schedule(result.row).windows:
            for edge in (window.start, window.end):
                if edge is not None and edge > at_minute:
                    until = min(until, _minute_time(edge))
    return until


def _minute_time(minute: int) -> float:
    day = datetime.date.fromordinal(minute // 1440)
    rest = minute % 1440
    local = datetime.datetime(day.year, day.month, day.day, rest // 60, rest % 60)
    return timezone.make_aware(local, timezone.get_default_timezone()).timestamp()


def get(key) -> Entry | None:
    entry = _entries.get(key)
    if entry is None:
        return None
    if time.time() >= entry.until:
        with _lock:
            if _entries.get(key) is entry:
                del _entries[key]
        return None
    return entry


def put(key, html: str, *, until: float, station_ids: list[int], demand) -> Entry:
    parts = SLOT_RE.split(html.encode())
    entry = Entry(parts, until, station_ids, demand)
    with _lock:
        _entries.pop(key, None)
        if _state["bytes"] > MAX_BYTES:
            _entries.clear()
            _lines.clear()
            _state["bytes"] = 0
        entry.parts = [_shared(p) if i % 2 == 0 else p for i, p in enumerate(parts)]
        _entries[key] = entry
    return entry


def _shared(part: bytes) -> tuple:
    """The part as a tuple of lines, each line stored once for every kept page (bytes counted)."""
    out = []
    for line in part.split(b"\n"):
        kept = _lines.get(line)
        if kept is None:
            kept = _lines[line] = line
            _state["bytes"] += len(line) + 60  # the line and its slot in the table
        out.append(kept)
    _state["bytes"] += 8 * len(out)
    return tuple(out)


def body(entry: Entry) -> bytes:
    """The kept page with the busy levels of now put in."""
    values = busy_values(entry) if entry.station_ids else {}
    parts = entry.parts
    out = []
    for i in range(0, len(parts), 2):
        out.append(b"\n".join(parts[i]))
        if i + 1 < len(parts):
            out.append(values.get(parts[i + 1], b""))
    return b"".join(out)


def busy_ttl() -> float:
    # Tests change check-ins in transactions that are rolled back: there levels are read each time,
    # as the index reads its data version each time (YIZHAN_LOCATOR_REFRESH_MS is 0 there).
    from yizhan.locator.loading import refresh_interval

    return BUSY_TTL_S if refresh_interval() > 0 else 0.0


def forget_busy(**_kwargs) -> None:
    """A "full" mark was set or taken off in this process: its lists show it at once."""
    _busy["until"] = 0.0


post_save.connect(forget_busy, sender="locator.StationFull", dispatch_uid="pagecache.full_saved")
post_delete.connect(forget_busy, sender="locator.StationFull", dispatch_uid="pagecache.full_deleted")


def forget() -> None:
    with _lock:
        _entries.clear()
        _lines.clear()
        _state["bytes"] = 0
