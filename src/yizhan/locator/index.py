"""The in-process nearest-station index: the locator's hot path never queries the database.

Every public station (active or temporarily closed) is a row in a set of plain arrays:

- its position as a 3-D unit vector in a k-d tree: the straight-line (chord) distance between
  two points on the sphere grows with the great-circle distance (chord = 2·sin(arc/2)), so the
  tree's order is exactly the great-circle order, without the distortion of a lat/lng grid;
- facility bitmasks, one bit per catalogue facility: `usable` (state yes and not out of order),
  which the filters use, and the raw yes / no / out-of-order states for display; a theme bitmask;
  a status code;
- a schedule id into a list of distinct compiled `hours.Schedule`s (a national network shares a
  few dozen timetables), so "open at t" is one array lookup per candidate in a per-minute memo
  filled by the registry's own `hours.open_at` — holidays, make-up workdays, exceptions and
  temporary closure follow exactly the rules the station page shows;
- text (code, names, address, phone, notice) as one string per column plus offsets, tens of
  megabytes for 200,000 stations instead of millions of small objects.

A query asks the tree for the nearest candidates and filters them; when too few pass, it asks
again for more. A facility/theme combination that only a small share of stations passes gets its
own small tree (built once, cached), so a rare facility never makes a query walk the country.

Mobile stations (kind `mobile`) are not in these arrays: they have no fixed position. The
index's `mobile` layer (locator/mobile.py) holds their visits and answers where each van is now
or later today; `nearest_rows` merges its points into the fixed stations' answer.

The station data never changes inside an index: `loading.current_index()` swaps in a new one
when the stations' data version counter moves — patched from the stations changed since the last
load (milliseconds), or rebuilt from the database when that is not enough — so a request never
sees half-updated data. What does change is derived from that data and kept for reuse, behind
`_lock` and each bounded: the per-minute memos of opening state (`MinuteMemo`), the facility/theme
filters' counts and small trees, the grid cells' candidate lists and the marks of cells asked
about once, the stations' JSON fragments (services.py) and the mobile layer's snapshots. Losing
any of them only costs the time to compute it again.
"""

import bisect
import datetime
import functools
import itertools
import math
import os
import threading
from array import array
from dataclasses import dataclass, field

import numpy as np

from yizhan.core.geo import EARTH_RADIUS_M

# pykdtree parallelises queries with OpenMP. A web worker answers one small query at a time, and
# idle OpenMP threads spin-wait on the cores the other workers need: one thread, unless the
# operator chose otherwise. libgomp reads this once, when the extension below loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
from pykdtree.kdtree import KDTree  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

STATUS_ACTIVE = 0
STATUS_TEMPORARILY_CLOSED = 1
STATUS_CODES = {"active": STATUS_ACTIVE, "temporarily_closed": STATUS_TEMPORARILY_CLOSED}
TEXT_FIELDS = ("code", "name", "name_en", "address", "phone", "public_notice")
# 63 bits per word: a SQL SUM() of signed 64-bit integers must not overflow while masks are built.
BITS_PER_WORD = 63
# A filter passed by fewer than this share of stations gets its own smaller tree: searching the
# whole tree would mean asking for ~k / share candidates, and wide queries cost far more than
# narrow ones (see PointTree).
SUBTREE_SHARE = 0.12
STATIC_CACHE_SIZE = 256
SUBTREE_CACHE_SIZE = 32
# ... and all of them together hold at most this many times the stations (~36 bytes a point).
SUBTREE_POINTS = 3
MEMO_MINUTES = 16
# Cells of a lat/lng grid keep the stations that can be among the k nearest of any point inside
# them (see nearest_rows): ~550 m a side, so a city cell holds k plus a few dozen stations.
CELL_DEG = 0.005
CELL_CACHE = 8192
CELL_MARKS = 32768
MAX_CELL_K = 50  # the API's largest limit
CELL_MAX_LAT = 80.0  # closer to the poles cells are slivers: the tree answers there
FULL_MEMO_SCHEDULES = 2000
TWO_R = 2.0 * EARTH_RADIUS_M


def unit_vectors(lat, lng) -> np.ndarray:
    """WGS-84 degrees to points on the unit sphere (float64, shape (n, 3))."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lng, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_for_metres(metres: float) -> float:
    return 2.0 * math.sin(min(metres / EARTH_RADIUS_M, math.pi) / 2.0)


class StringColumn:
    """Many short strings in one: O(1) access by position, a few bytes of overhead each."""

    __slots__ = ("text", "offsets")

    def __init__(self, values: list[str]):
        self.text = "".join(values)
        self.offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)), out=self.offsets[1:])

    def __getitem__(self, position: int) -> str:
        return self.text[self.offsets[position] : self.offsets[position + 1]]

    @property
    def nbytes(self) -> int:
        widest = max(map(ord, self.text)) if self.text and not self.text.isascii() else 0
        width = 1 if widest < 256 else 2 if widest < 65536 else 4
        return len(self.text) * width + self.offsets.nbytes


@dataclass(frozen=True)
class Catalogue:
    """Bit positions: facility codes and theme codes, in catalogue order."""

    facilities: tuple[str, ...]
    themes: tuple[str, ...]

    @property
    def words(self) -> int:
        return max(1, -(-len(self.facilities) // BITS_PER_WORD))

    def facility_mask(self, codes) -> np.ndarray:
        """Codes to a mask of shape (words,); a ValueError carries the first unknown code."""
        mask = np.zeros(self.words, dtype=np.uint64)
        for code in codes:
            if code not in self.facilities:
                raise ValueError(code)
            word, bit = divmod(self.facilities.index(code), BITS_PER_WORD)
            mask[word] |= np.uint64(1 << bit)
        return mask

    def theme_mask(self, codes) -> int:
        mask = 0
        for code in codes:
            if code not in self.themes:
                raise ValueError(code)
            mask |= 1 << self.themes.index(code)
        return mask

    def facility_codes_in(self, masks) -> list[str]:
        """The codes whose bit is set in one row's masks (shape (words,))."""
        out = []
        for word in range(self.words):
            value = int(masks[word])
            while value:
                low = value & -value
                out.append(self.facilities[word * BITS_PER_WORD + low.bit_length() - 1])
                value ^= low
        return out

    def theme_codes_in(self, mask: int) -> list[str]:
        return [code for i, code in enumerate(self.themes) if mask >> i & 1]

    @functools.cached_property
    def _pieces(self) -> dict:
        """{state: [word][byte position][byte value] -> '"code":"state"' pieces} for states_json."""
        tables = {}
        for state in ("yes", "no", "out_of_order"):
            words = []
            for word in range(self.words):
                positions = []
                for position in range(8):
                    table = []
                    for value in range(256):
                        pieces = []
                        for bit in range(8):
                            index = word * BITS_PER_WORD + position * 8 + bit
                            if (
                                value >> bit & 1
                                and position * 8 + bit < BITS_PER_WORD
                                and index < len(self.facilities)
                            ):
                                pieces.append(f'"{self.facilities[index]}":"{state}"')
                        table.append(tuple(pieces))
                    positions.append(table)
                words.append(positions)
            tables[state] = words
        return tables

    def states_json(self, yes, no, broken) -> str:
        """The JSON object {code: "yes" | "no" | "out_of_order"} of one row's masks, through
        per-byte tables (a facility out of order wins over its "yes"; "no" wins over "yes")."""
        pieces: list[str] = []
        tables = self._pieces
        for word in range(self.words):
            b = int(broken[word])
            n = int(no[word]) & ~b
            y = int(yes[word]) & ~n & ~b
            for state, value in (("yes", y), ("no", n), ("out_of_order", b)):
                position = 0
                while value:
                    if value & 255:
                        pieces.extend(tables[state][word][position][value & 255])
                    value >>= 8
                    position += 1
        return "{" + ",".join(pieces) + "}"


class PointTree:
    """A k-d tree over points on the unit sphere, queried one point at a time.

    Two implementations, each where it is fast. pykdtree answers the common query (tens of
    neighbours) in ~4–9 µs where scipy's cKDTree spends ~11–15, most of it preparing arguments
    and results; the nearby API makes one such query per request. But pykdtree's cost grows
    with k² (k=400: 120 µs against cKDTree's 50), so the wide queries a rare filter asks for go
    to a cKDTree, built the first time one is needed. Both give the same rows and distances
    (bench/locator.py checks the index against a brute-force haversine)."""

    __slots__ = ("points", "n", "_narrow", "_wide")
    WIDE_K = 128

    def __init__(self, points: np.ndarray):
        self.points = np.ascontiguousarray(points, dtype=np.float64)
        self.n = len(self.points)
        self._narrow = KDTree(self.points, leafsize=16) if self.n else None
        self._wide = None

    def query(self, point, k: int, bound: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chord lengths, rows) of the k nearest points, nearest first; where fewer than k lie
        within `bound`, the rest have row == n and chord inf. Needs 1 <= k <= n."""
        if k > self.WIDE_K:
            if self._wide is None:  # two threads may both build it: the same tree, no harm
                self._wide = cKDTree(self.points, leafsize=16, balanced_tree=False)
            chords, rows = self._wide.query(
                point, k=k, distance_upper_bound=math.inf if bound is None else bound
            )
            return chords, rows
        chords, rows = self._narrow.query(np.array((point,)), k=k, distance_upper_bound=bound)
        return chords.reshape(-1), rows.reshape(-1)

    @property
    def nbytes(self) -> int:
        # The points, pykdtree's uint32 permutation and, once built, cKDTree's intp one.
        return self.points.nbytes + 4 * self.n + (8 * self.n if self._wide is not None else 0)


@dataclass
class MinuteMemo:
    """What the index knows about opening hours for one minute (open_at and next_change only
    look at the minute, so all of it is exact for any moment within it)."""

    known: np.ndarray  # per schedule id: 1 open, 0 closed, -1 not worked out yet
    open_share: float  # the share of stations open (0.5 when not every schedule is settled)
    settled: np.ndarray | None  # per schedule id, open as booleans, when every schedule is settled
    changes: dict = field(default_factory=dict)  # schedule id -> next change (datetime or None)
    change_texts: dict = field(default_factory=dict)  # schedule id -> next change as ISO text
    open_list: list | None = None  # `settled` as a list, for the grid cells' plain-Python scan
    callers: dict = field(default_factory=dict)  # schedule id -> what a caller derives (minute_cache)


@dataclass
class StaticFilter:
    """A facility/theme filter's count of passing stations; a rare one gets its own tree."""

    count: int
    rare: bool


@dataclass
class Rows:
    """Stations as loaded, before they become (part of) an index. `ids` ascending."""

    ids: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    yes: np.ndarray
    no: np.ndarray
    out_of_order: np.ndarray
    themes: np.ndarray
    status: np.ndarray
    schedule_keys: list
    schedules: dict  # schedule key -> compiled hours.Schedule
    text: dict[str, list[str]] = field(default_factory=dict)


class StationIndex:
    """Arrays for every public fixed station, the tree over their positions, and the mobile
    layer. Its station data never changes once built (new data makes a new index); the caches
    derived from it fill as queries come (see the module docstring)."""

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        ids,
        lat,
        lng,
        yes,
        no,
        out_of_order,
        themes,
        status,
        schedule_ids,
        schedules: list,
        schedule_index: dict | None = None,
        text_blocks: list[dict[str, StringColumn]],
        text_block,
        text_pos,
        calendar=None,
        version: int = 0,
        calendar_version: int = 0,
        synced_at: datetime.datetime | None = None,
        tree: PointTree | None = None,
        mobile=None,
    ):
        self.catalogue = catalogue
        self.mobile = mobile  # locator.mobile.MobileLayer, or None
        self.version = version
        self.calendar_version = calendar_version
        self.synced_at = synced_at
        self.ids = ids
        self.n = len(ids)
        self.lat = lat
        self.lng = lng
        self.yes = yes
        self.no = no
        self.out_of_order = out_of_order
        self.usable = yes & ~out_of_order
        # One contiguous column per mask word: the filters read a few candidates' masks at a time.
        self.usable_words = [np.ascontiguousarray(self.usable[:, w]) for w in range(catalogue.words)]
        self.themes = themes
        self.status = status
        self.schedule_ids = schedule_ids
        self.schedule_of = memoryview(np.ascontiguousarray(schedule_ids))  # row -> schedule id, a Python int
        self.schedules = schedules
        self.schedule_counts = np.bincount(schedule_ids, minlength=len(schedules))
        self.schedule_index = schedule_index or {}
        self.text_blocks = text_blocks
        self.text_block = text_block
        self.text_pos = text_pos
        self.calendar = calendar
        self.tree = tree if tree is not None else PointTree(unit_vectors(lat, lng))
        self._projected = None
        self.fragments: dict = {}  # crs -> row -> JSON kept by services.nearby_json (bounded there)
        self._static: dict = {}
        self._subtrees: dict = {}
        self._memo: dict = {}
        self._cells: dict = {}  # (row, column, k, filter) -> the cell's candidates, or False: none
        self._cell_marks: dict = {}  # cells asked about once
        self._lock = threading.Lock()

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, rows: Rows, *, catalogue, calendar=None, version=0, calendar_version=0, synced_at=None):
        schedules: list = []
        schedule_index: dict = {}
        schedule_ids = _intern(rows.schedule_keys, rows.schedules, schedules, schedule_index)
        n = len(rows.ids)
        return cls(
            catalogue=catalogue,
            ids=rows.ids,
            lat=rows.lat,
            lng=rows.lng,
            yes=rows.yes,
            no=rows.no,
            out_of_order=rows.out_of_order,
            themes=rows.themes,
            status=rows.status,
            schedule_ids=schedule_ids,
            schedules=schedules,
            schedule_index=schedule_index,
            text_blocks=[{name: StringColumn(rows.text.get(name, [""] * n)) for name in TEXT_FIELDS}],
            text_block=np.zeros(n, dtype=np.int32),
            text_pos=np.arange(n, dtype=np.int32),
            calendar=calendar,
            version=version,
            calendar_version=calendar_version,
            synced_at=synced_at,
        )

    def patched(
        self, changed_ids, rows: Rows, *, calendar=None, version=0, calendar_version=0, synced_at=None
    ):
        """A new index: the stations in `changed_ids` replaced by `rows` (those of them still
        public). The tree is reused when no station moved, appeared or disappeared."""
        changed_ids = np.asarray(changed_ids, dtype=np.int64)
        keep = ~np.isin(self.ids, changed_ids)
        schedules = list(self.schedules)
        schedule_index = dict(self.schedule_index)
        new_sids = _intern(rows.schedule_keys, rows.schedules, schedules, schedule_index)
        m = len(rows.ids)
        block = len(self.text_blocks)
        text_blocks = [
            *self.text_blocks,
            {name: StringColumn(rows.text.get(name, [""] * m)) for name in TEXT_FIELDS},
        ]

        def merge(old, new):
            return np.concatenate((old[keep], new))

        ids = merge(self.ids, rows.ids)
        order = np.argsort(ids, kind="stable")
        columns = {
            "lat": merge(self.lat, rows.lat)[order],
            "lng": merge(self.lng, rows.lng)[order],
            "yes": merge(self.yes, rows.yes)[order],
            "no": merge(self.no, rows.no)[order],
            "out_of_order": merge(self.out_of_order, rows.out_of_order)[order],
            "themes": merge(self.themes, rows.themes)[order],
            "status": merge(self.status, rows.status)[order],
            "schedule_ids": merge(self.schedule_ids, new_sids)[order],
            "text_block": merge(self.text_block, np.full(m, block, dtype=np.int32))[order],
            "text_pos": merge(self.text_pos, np.arange(m, dtype=np.int32))[order],
        }
        ids = ids[order]
        same_places = (
            len(ids) == self.n
            and np.array_equal(ids, self.ids)
            and np.array_equal(columns["lat"], self.lat)
            and np.array_equal(columns["lng"], self.lng)
        )
        return StationIndex(
            catalogue=self.catalogue,
            ids=ids,
            schedules=schedules,
            schedule_index=schedule_index,
            text_blocks=text_blocks,
            calendar=calendar if calendar is not None else self.calendar,
            version=version,
            calendar_version=calendar_version,
            synced_at=synced_at,
            tree=self.tree if same_places else None,
            mobile=self.mobile,
            **columns,
        )

    # --- queries -------------------------------------------------------------------------------

    def nearest(
        self,
        lat: float,
        lng: float,
        *,
        k: int = 10,
        radius_m: float | None = None,
        facilities: np.ndarray | None = None,
        themes: int = 0,
        open_at: datetime.datetime | None = None,
        at: datetime.datetime | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the k nearest stations passing every filter, nearest first, and their
        great-circle distances in metres. `facilities`: all of these (a catalogue mask);
        `themes`: any of these (a bitmask); `open_at`: open at that aware datetime. Mobile
        stations come in where they are at `at` (or `open_at`) — there now, or later that day
        without `open_at` — as rows from `n` on (see `is_mobile`); with neither, none."""
        rows, metres = self.nearest_rows(
            lat, lng, k=k, radius_m=radius_m, facilities=facilities, themes=themes, open_at=open_at, at=at
        )
        return np.array(rows, dtype=np.intp), np.array(metres, dtype=np.float64)

    def nearest_rows(
        self,
        lat: float,
        lng: float,
        *,
        k: int = 10,
        radius_m: float | None = None,
        facilities: np.ndarray | None = None,
        themes: int = 0,
        open_at: datetime.datetime | None = None,
        at: datetime.datetime | None = None,
    ) -> tuple[list[int], list[float]]:
        """`nearest` as Python lists, for the API's hot path: ten rows are cheaper to finish in
        plain Python than through a dozen small numpy calls."""
        if k <= 0:
            return [], []
        phi, lam = math.radians(lat), math.radians(lng)
        cos_phi = math.cos(phi)
        point = (cos_phi * math.cos(lam), cos_phi * math.sin(lam), math.sin(phi))
        bound = chord_for_metres(radius_m) * (1 + 1e-9) if radius_m is not None else None
        has_facilities = facilities is not None and bool(facilities.any())
        facilities = facilities if has_facilities else None
        answer = self._fixed_nearest(lat, lng, point, k, bound, radius_m, facilities, themes, open_at)
        mobile_at = open_at or at
        if self.mobile is not None and mobile_at is not None and self.mobile.n_visits:
            answer = self._with_mobile(
                answer, point, lat, lng, k, radius_m, facilities, themes, open_at, mobile_at
            )
        return answer

    def _fixed_nearest(self, lat, lng, point, k, bound, radius_m, facilities, themes, open_at):
        if self.n == 0:
            return [], []
        if -CELL_MAX_LAT < lat < CELL_MAX_LAT and k <= MAX_CELL_K:
            static = (facilities.tobytes() if facilities is not None else b"", themes)
            key = (math.floor(lat / CELL_DEG), math.floor(lng / CELL_DEG), k, static)
            cell = self._cells.get(key)
            if cell:
                open_by_schedule = self._open_list(open_at) if open_at is not None else None
                if open_at is None or open_by_schedule is not None:
                    answer = _from_cell(cell, point, k, bound, radius_m, open_by_schedule)
                    if answer is not None:
                        return answer
            elif cell is None:
                self._remember_cell(key, facilities, themes)
        return self._tree_nearest(point, k, bound, radius_m, facilities, themes, open_at)

    def _with_mobile(self, answer, point, lat, lng, k, radius_m, facilities, themes, open_at, at):
        """The fixed stations' answer with the mobile stations nearer than its k-th (or within the
        radius, when fewer than k) merged in, nearest first."""
        rows, metres = answer
        layer = self.mobile
        snap = layer.snapshot(at)
        if not snap.count:
            return answer
        reach = metres[-1] if len(rows) == k else radius_m
        near = layer.near(snap, point, lat, lng, reach, open_at is not None)
        if not near:
            return answer
        words = facilities.tolist() if facilities is not None else None
        n = self.n
        rows, metres = list(rows), list(metres)
        # Nearest van first, each put in its place among the answer's (after a fixed station at
        # the same distance): one or two vans, cheaper to insert than to sort the whole list again.
        for chord2, visit, station in sorted(near):
            if (words is not None or themes) and not layer.passes(station, words, themes):
                continue
            distance = math.asin(min(math.sqrt(chord2) * 0.5, 1.0)) * TWO_R
            place = bisect.bisect_right(metres, distance)
            if place >= k or (radius_m is not None and distance > radius_m):
                break
            metres.insert(place, distance)
            rows.insert(place, n + visit)
        del rows[k:], metres[k:]
        return rows, metres

    def is_mobile(self, row: int) -> bool:
        """Whether a row of an answer is a mobile station's visit (its visit: row - n)."""
        return row >= self.n

    def _tree_nearest(self, point, k, bound, radius_m, facilities, themes, open_at):
        n = self.n
        if facilities is None and not themes and open_at is None:
            chords, rows = self.tree.query(point, min(k, n), bound)
            return _finish(rows.tolist(), chords.tolist(), n, radius_m)

        tree, subset, share = self.tree, None, 1.0
        checks = []  # (column, wanted bits): facility words tested on each candidate
        if facilities is not None or themes:
            count, subset, tree = self._static_filter(facilities, themes)
            if count == 0:
                return [], []
            if subset is None:
                tree, share = self.tree, count / n
                checks = self._checks(facilities)
        memo = None
        if open_at is not None:
            memo = self._minute_memo(open_at)
            share *= memo.open_share
        theme_bits = np.uint64(themes) if themes and subset is None else None
        size = tree.n
        # Enough candidates that k pass in one round, taking the filters as independent.
        ask = min(size, int(k / max(share, 1e-4) * 1.3) + 8)
        while True:
            chords, found = tree.query(point, ask, bound)
            if bound is not None:
                inside = found < size
                chords, found = chords[inside], found[inside]
            rows = subset[found] if subset is not None else found
            keep = self._passing(rows, checks, theme_bits, memo, open_at)
            hits = np.flatnonzero(keep) if keep is not None else np.arange(len(rows))
            if len(hits) >= k or len(found) < ask or ask >= size:
                hits = hits[:k]
                return _finish(rows[hits].tolist(), chords[hits].tolist(), n, radius_m)
            # Ask again, sized by the share that passed this round.
            passed = max(len(hits), 1) / max(len(rows), 1)
            ask = min(size, max(ask * 2, int(k / passed * 1.5) + 8))

    def _open_list(self, at: datetime.datetime) -> list[bool] | None:
        """Open at `at` per schedule id as a list, when every timetable is settled for the minute."""
        memo = self._minute_memo(at)
        if memo.settled is None:
            return None
        if memo.open_list is None:
            memo.open_list = memo.settled.tolist()
        return memo.open_list

    def _remember_cell(self, key: tuple, facilities, themes: int) -> None:
        """A cell's first query only marks it; its second builds its candidate list (False when
        it has none: fewer than k stations pass). Points people ask about come back (a depot, a
        street corner, a district); one-offs cost a mark, kept apart so that marks never push
        built cells out."""
        with self._lock:
            seen = self._cell_marks.pop(key, False)
            if not seen:
                drop_older_half(self._cell_marks, CELL_MARKS)
                self._cell_marks[key] = True
                return
        cell = self._cell_candidates(key[0], key[1], key[2], facilities, themes) or False
        with self._lock:
            drop_older_half(self._cells, CELL_CACHE)
            self._cells[key] = cell

    def _cell_candidates(self, row: int, column: int, k: int, facilities, themes: int):
        """Every station passing the facility/theme filter that can be among the k nearest
        passing ones of a point in the cell: with c the cell's centre, r the farthest a point
        of the cell lies from c and d_k the k-th nearest passing distance from c, the k nearest
        of any point p of the cell lie within d_k + r of p, so within d_k + 2r of c (chord
        lengths are distances in space: the triangle inequality holds). As columns of x, y, z,
        rows and schedule ids, with the centre and that reach; None when fewer than k pass."""
        south, west = row * CELL_DEG, column * CELL_DEG
        centre = unit_vectors([south + CELL_DEG / 2], [west + CELL_DEG / 2])[0]
        edge = unit_vectors(
            [south, south, south + CELL_DEG, south + CELL_DEG, south, south + CELL_DEG],
            [west, west + CELL_DEG, west, west + CELL_DEG, west + CELL_DEG / 2, west + CELL_DEG / 2],
        )
        r = float(np.sqrt(((edge - centre) ** 2).sum(axis=1)).max()) * 1.001  # corners, with slack
        c = tuple(centre.tolist())
        nearest, _metres = self._tree_nearest(c, k, None, None, facilities, themes, None)
        if len(nearest) < k:
            return None
        reach = float(np.sqrt(((self.tree.points[nearest[-1]] - centre) ** 2).sum())) + 2 * r
        filtered = facilities is not None or bool(themes)
        # A rare filter has its own tree over the passing stations; else filter the whole one's.
        _count, subset, tree = self._static_filter(facilities, themes) if filtered else (self.n, None, None)
        if tree is None:
            tree = self.tree
        size = tree.n
        ask = min(size, max(4 * k, 32))
        while True:
            _chords, found = tree.query(c, ask, reach)
            if found[-1] == size or ask == size:  # found all within reach
                break
            ask = min(size, ask * 4)
        found = found[found < size]
        rows = subset[found] if subset is not None else found
        if filtered and subset is None:
            rows = rows[
                self._passing(
                    rows, self._checks(facilities), np.uint64(themes) if themes else None, None, None
                )
            ]
        points = self.tree.points[rows]
        return (
            array("d", points[:, 0].tolist()),
            array("d", points[:, 1].tolist()),
            array("d", points[:, 2].tolist()),
            array("l", rows.tolist()),
            array("l", self.schedule_ids[rows].tolist()),
            c,
            reach,
        )

    def _checks(self, facilities) -> list:
        """(column, wanted bits) per mask word a facility filter uses: tested on each candidate."""
        if facilities is None:
            return []
        return [(self.usable_words[w], bits) for w, bits in enumerate(facilities) if bits]

    def _passing(self, rows, checks, theme_bits, memo, open_at):
        """Which candidate rows pass the filters (None: no filter to apply)."""
        keep = None
        for column, bits in checks:
            ok = (column[rows] & bits) == bits
            keep = ok if keep is None else keep & ok
        if theme_bits is not None:
            ok = (self.themes[rows] & theme_bits) != 0
            keep = ok if keep is None else keep & ok
        if memo is not None:
            ok = (
                memo.settled[self.schedule_ids[rows]]
                if memo.settled is not None
                else self.open_rows(rows, open_at)
            )
            keep = ok if keep is None else keep & ok
        return keep

    def in_box(
        self,
        south: float,
        west: float,
        north: float,
        east: float,
        *,
        facilities: np.ndarray | None = None,
        themes: int = 0,
        open_at: datetime.datetime | None = None,
        limit: int = 2000,
    ) -> tuple[np.ndarray, int]:
        """Rows inside a lat/lng box that pass the filters, at most `limit` of them (those nearest
        the box's centre), and how many passed in all. For the map."""
        inside = (self.lat >= south) & (self.lat <= north) & (self.lng >= west) & (self.lng <= east)
        rows = np.flatnonzero(inside)
        checks = self._checks(facilities)
        memo = self._minute_memo(open_at) if open_at is not None else None
        keep = self._passing(rows, checks, np.uint64(themes) if themes else None, memo, open_at)
        if keep is not None:
            rows = rows[keep]
        total = len(rows)
        if total > limit:
            mid_lat, mid_lng = (south + north) / 2, (west + east) / 2
            squeeze = math.cos(math.radians(mid_lat))
            far = (self.lat[rows] - mid_lat) ** 2 + ((self.lng[rows] - mid_lng) * squeeze) ** 2
            rows = rows[np.argpartition(far, limit)[:limit]]
        return rows, total

    def _static_filter(self, facilities, themes: int):
        """(count passing, subset rows or None, subset tree or None) for a facility/theme filter;
        rare filters get their own tree over just the stations that pass."""
        key = (facilities.tobytes() if facilities is not None else b"", themes)
        entry = self._static.get(key)
        subtree = None
        if entry is None:
            passing = self._pass_mask(facilities, themes)
            count = int(passing.sum())
            entry = StaticFilter(count, count < SUBTREE_SHARE * self.n)
            with self._lock:
                if len(self._static) >= STATIC_CACHE_SIZE:
                    self._static.clear()
                self._static[key] = entry
            if entry.rare and count:
                subtree = self._keep_subtree(key, np.flatnonzero(passing))
        if not entry.rare or entry.count == 0:
            return entry.count, None, None
        subtree = subtree or self._subtrees.get(key)
        if subtree is None:  # dropped from the cache since: the mask once more
            subtree = self._keep_subtree(key, np.flatnonzero(self._pass_mask(facilities, themes)))
        return entry.count, subtree[0], subtree[1]

    def _pass_mask(self, facilities, themes: int) -> np.ndarray:
        passing = np.ones(self.n, dtype=bool)
        if facilities is not None:
            passing &= np.all((self.usable & facilities) == facilities, axis=1)
        if themes:
            passing &= (self.themes & np.uint64(themes)) != 0
        return passing

    def _keep_subtree(self, key, subset: np.ndarray):
        subtree = (subset, PointTree(self.tree.points[subset]))
        with self._lock:
            trees = self._subtrees
            # The oldest go first (dicts keep insertion order) until the new one fits.
            while trees and (
                len(trees) >= SUBTREE_CACHE_SIZE
                or sum(len(rows) for rows, _tree in trees.values()) + len(subset) > SUBTREE_POINTS * self.n
            ):
                trees.pop(next(iter(trees)))
            trees[key] = subtree
        return subtree

    # --- opening hours -------------------------------------------------------------------------

    def _minute_memo(self, at: datetime.datetime) -> MinuteMemo:
        """The opening-hours memo of `at`'s minute, made on first need."""
        minute = int(at.timestamp() // 60)
        memo = self._memo.get(minute)
        if memo is None:
            from yizhan.stations.hours import open_at

            known = np.full(len(self.schedules), -1, dtype=np.int8)
            share, settled = 0.5, None
            if len(self.schedules) <= FULL_MEMO_SCHEDULES and self.n:
                # Few timetables: settle them all now, which also gives the exact open share.
                for sid, schedule in enumerate(self.schedules):
                    known[sid] = 1 if open_at(schedule, at, self.calendar) else 0
                settled = known == 1
                share = float(self.schedule_counts[settled].sum()) / self.n
            memo = MinuteMemo(known=known, open_share=share, settled=settled)
            with self._lock:
                if len(self._memo) >= MEMO_MINUTES:
                    self._memo.clear()
                memo = self._memo.setdefault(minute, memo)
        return memo

    def minute_cache(self, at: datetime.datetime) -> dict:
        """A dict that lives as long as the memo of `at`'s minute, keyed by schedule id: callers
        keep what they derive from a timetable's state in that minute there."""
        return self._minute_memo(at).callers

    def open_rows(self, rows: np.ndarray, at: datetime.datetime) -> np.ndarray:
        """Whether each row is open at `at` (aware), by the registry's hours rules."""
        from yizhan.stations.hours import open_at

        if len(rows) == 0:
            return np.zeros(0, dtype=bool)
        memo = self._minute_memo(at)
        known, sids = memo.known, self.schedule_ids[rows]
        if memo.settled is not None:
            return memo.settled[sids]
        values = known[sids]
        unknown = values < 0
        if unknown.any():
            for sid in np.unique(sids[unknown]).tolist():
                known[sid] = 1 if open_at(self.schedules[sid], at, self.calendar) else 0
            values = known[sids]
        return values == 1

    def next_change(self, row: int, at: datetime.datetime):
        from yizhan.stations.hours import next_change

        sid = int(self.schedule_ids[row])
        changes = self._minute_memo(at).changes
        if sid not in changes:
            changes[sid] = next_change(self.schedules[sid], at, self.calendar)
        return changes[sid]

    def next_change_texts(self, rows, at: datetime.datetime) -> list[str | None]:
        """`next_change` of each row as ISO-8601 text (Asia/Shanghai), for the API's hot path."""
        memo = self._minute_memo(at)
        changes, texts = memo.changes, memo.change_texts
        out = []
        for sid in self.schedule_ids[rows].tolist():
            text = texts.get(sid, False)
            if text is False:
                if sid not in changes:
                    from yizhan.stations.hours import next_change

                    changes[sid] = next_change(self.schedules[sid], at, self.calendar)
                change = changes[sid]
                text = texts[sid] = change.isoformat() if change is not None else None
            out.append(text)
        return out

    def schedule(self, row: int):
        return self.schedules[int(self.schedule_ids[row])]

    # --- rows ----------------------------------------------------------------------------------

    def text(self, name: str, row: int) -> str:
        return self.text_blocks[self.text_block[row]][name][self.text_pos[row]]

    def texts(self, row: int) -> list[str]:
        """All text fields of a row, in TEXT_FIELDS order."""
        block = self.text_blocks[int(self.text_block[row])]
        position = int(self.text_pos[row])
        return [block[name][position] for name in TEXT_FIELDS]

    def facility_states(self, row: int) -> dict[str, str]:
        """{code: "yes" | "no" | "out_of_order"} for the facilities whose state is known. Shared
        between stations with the same states: read it, never change it."""
        return _states(
            self.catalogue,
            tuple(self.yes[row].tolist()),
            tuple(self.no[row].tolist()),
            tuple(self.out_of_order[row].tolist()),
        )

    def projected(self, row: int) -> tuple[float, float, float, float]:
        """(GCJ-02 lat, lng, BD-09 lat, lng) of a row, from arrays converted once per index."""
        if self._projected is None:
            from yizhan.locator.coords import gcj_to_bd, wgs_to_gcj

            g_lat, g_lng = wgs_to_gcj(self.lat, self.lng)
            b_lat, b_lng = gcj_to_bd(g_lat, g_lng)
            self._projected = np.column_stack((g_lat, g_lng, b_lat, b_lng))
        return tuple(self._projected[row].tolist())

    def usable_facilities(self, row: int) -> list[str]:
        return self.catalogue.facility_codes_in(self.usable[row])

    def theme_codes(self, row: int) -> list[str]:
        return self.catalogue.theme_codes_in(int(self.themes[row]))

    @property
    def nbytes(self) -> int:
        arrays = (
            self.ids,
            self.lat,
            self.lng,
            self.yes,
            self.no,
            self.out_of_order,
            self.usable,
            *self.usable_words,
            self.themes,
            self.status,
            self.schedule_ids,
            self.text_block,
            self.text_pos,
        )
        text = sum(column.nbytes for block in self.text_blocks for column in block.values())
        return sum(a.nbytes for a in arrays) + text + self.tree.nbytes


@functools.lru_cache(maxsize=4096)
def _states(catalogue: Catalogue, yes: tuple, no: tuple, broken: tuple) -> dict[str, str]:
    states = dict.fromkeys(catalogue.facility_codes_in(yes), "yes")
    states.update(dict.fromkeys(catalogue.facility_codes_in(no), "no"))
    states.update(dict.fromkeys(catalogue.facility_codes_in(broken), "out_of_order"))
    return states


def _from_cell(cell, point, k: int, bound, radius_m, open_by_schedule):
    """The k nearest of `point` among a cell's candidates, by exact chord length (ties by row),
    in plain Python: for a few dozen candidates cheaper than any call into the tree. With an
    open-now filter on top, the answer is only sure when the k-th open one lies where the cell's
    list is complete around the point (or the radius stays inside it); otherwise None, and the
    tree answers."""
    xs, ys, zs, rows, sids, centre, reach = cell
    px, py, pz = point
    squared = [(x - px) ** 2 + (y - py) ** 2 + (z - pz) ** 2 for x, y, z in zip(xs, ys, zs, strict=True)]
    if open_by_schedule is None:
        chosen = sorted(zip(squared, rows, strict=True))[:k]
    else:
        chosen = []
        for chord2, row, sid in sorted(zip(squared, rows, sids, strict=True)):
            if open_by_schedule[sid]:
                chosen.append((chord2, row))
                if len(chosen) == k:
                    break
        # The list holds every candidate within `reach` of the centre, so within `sure` of p.
        sure = reach - math.sqrt((centre[0] - px) ** 2 + (centre[1] - py) ** 2 + (centre[2] - pz) ** 2)
        if not ((len(chosen) == k and chosen[-1][0] <= sure * sure) or (bound is not None and bound <= sure)):
            return None
    # _finish's loop over squared chords: through _finish itself it cost 1.7 µs more a query.
    out_rows, out_metres = [], []
    limit = math.inf if bound is None else bound * bound
    for chord2, row in chosen:
        if chord2 > limit:
            break
        metres = math.asin(min(math.sqrt(chord2) * 0.5, 1.0)) * TWO_R
        if radius_m is not None and metres > radius_m:
            break
        out_rows.append(row)
        out_metres.append(metres)
    return out_rows, out_metres


def drop_older_half(cache: dict, size: int) -> None:
    """Make room in a full cache by dropping its older half (dicts keep insertion order):
    cheaper than an LRU's bookkeeping."""
    if len(cache) >= size:
        for key in list(itertools.islice(cache, len(cache) // 2 + 1)):
            cache.pop(key, None)


def _finish(rows: list[int], chords: list[float], n: int, radius_m: float | None):
    """Rows and great-circle metres from a tree's answer (nearest first): rows == n mark "no
    more within the bound"; the radius is checked again in metres, the bound had some slack."""
    out_rows, out_metres = [], []
    asin = math.asin
    for row, chord in zip(rows, chords, strict=True):
        if row >= n:
            break
        metres = asin(min(chord * 0.5, 1.0)) * TWO_R
        if radius_m is not None and metres > radius_m:
            break
        out_rows.append(row)
        out_metres.append(metres)
    return out_rows, out_metres


def _intern(keys: list, compiled: dict, schedules: list, schedule_index: dict) -> np.ndarray:
    """Schedule ids for `keys`, appending unseen schedules to `schedules` / `schedule_index`."""
    out = np.empty(len(keys), dtype=np.int32)
    for i, key in enumerate(keys):
        sid = schedule_index.get(key)
        if sid is None:
            sid = schedule_index[key] = len(schedules)
            schedules.append(compiled[key])
        out[i] = sid
    return out
