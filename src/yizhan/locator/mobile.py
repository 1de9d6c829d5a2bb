"""Mobile stations in the locator's index: where each van is now, or will be later today.

A mobile station has no fixed position: the public finds it at the place of its current visit,
or of its next visit of the day ("今天 10:00–16:00 在 XX 物流园"). The layer holds every planned
visit of the public mobile stations from yesterday to the horizon (plain arrays, sorted by local
day, station and start) and the stations' facility and theme masks. For a minute it picks each
station's point — the visit of that (Beijing) day still running or still to come that ends first
— once, and keeps the pick as a `Snapshot` (a few per layer): positions on the unit sphere, whether
the van is there now, and a coarse grid of them.

The fixed stations' query is not touched: `StationIndex.nearest_rows` answers from its own tree
and cells, then asks the snapshot for the vans nearer than its k-th answer (a bound that is
usually a few hundred metres in a city), which is the lookup of one block of a grid. Rows of
mobile answers are numbered after the fixed stations' (`index.n + visit`), so one list of rows
carries both.
"""

import datetime
import math
import threading
import zoneinfo
from dataclasses import dataclass, field

import numpy as np

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# Grids of a snapshot, finest first (0.005° is ~550 m of latitude), each cell √2 times the last.
# A cell's block lists the vans of the cell and of its eight neighbours, so a query reads the one
# block of its cell in the finest grid whose cell is at least its reach in degrees (either way):
# one lookup and a few vans, whatever the reach — where a single grid would hold hundreds of a
# big city's vans in the cells of a wide query. Steps of √2 rather than 2 leave a block half the
# area to read on average (the nearest-10 with vans went from 1.22× to 1.19× the query without).
# A grid is built on first need in a minute.
GRID_LEVELS = tuple(0.005 * 2 ** (i / 2) for i in range(13))  # up to 0.32°, ~35 km
SQRT_HALF = 2**-0.5
GRID_MAX_LAT = 80.0
CELL_KEY = 1 << 20  # a cell's key is one int (cheaper to hash than a pair): columns stay below 2**17
EARTH_M = 6_371_008.8
DEG_M = math.radians(1.0) * EARTH_M  # metres per degree of latitude
SNAPSHOTS = 8


def _xyz(lat, lng) -> np.ndarray:
    from yizhan.locator.index import unit_vectors

    return unit_vectors(lat, lng)


@dataclass
class Snapshot:
    """Each mobile station's point for one minute: `visits` (into the layer's visit arrays),
    `open` (the van is there now), and per point (x, y, z, visit, open, station) as plain
    Python, in the grid cell of its position; blocks of 3 × 3 cells and trees on first need."""

    visits: np.ndarray
    open: np.ndarray
    entries: list  # (x, y, z, visit, open, station) per point
    lat: list
    lng: list
    # [open only][level] -> {row * CELL_KEY + column: [entry] of the 3 × 3 cells around}, on first need
    grids: tuple = field(default_factory=lambda: ([None] * len(GRID_LEVELS), [None] * len(GRID_LEVELS)))
    _trees: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.visits)

    def grid(self, level: int, open_only: bool) -> dict:
        size = GRID_LEVELS[level]
        found: dict = {}
        for entry, lat, lng in zip(self.entries, self.lat, self.lng, strict=True):
            if entry[4] or not open_only:
                row, column = math.floor(lat / size), math.floor(lng / size)
                for r in (row - 1, row, row + 1):
                    for c in (column - 1, column, column + 1):
                        found.setdefault(r * CELL_KEY + c, []).append(entry)
        self.grids[open_only][level] = found  # a race only builds the same grid twice
        return found

    def tree(self, open_only: bool):
        """(tree or None, entries in tree order) over all points or the open ones."""
        from yizhan.locator.index import PointTree

        found = self._trees.get(open_only)
        if found is None:
            entries = [entry for entry in self.entries if entry[4]] if open_only else self.entries
            tree = (
                PointTree(np.array([entry[:3] for entry in entries], dtype=np.float64)) if entries else None
            )
            found = self._trees[open_only] = (tree, entries)
        return found


class MobileLayer:
    """Planned visits of the public mobile stations, and the stations' masks and texts."""

    def __init__(
        self,
        *,
        station_ids,
        yes,
        no,
        out_of_order,
        themes,
        texts: list[tuple],
        visit_ids,
        visit_station,
        starts,
        ends,
        lat,
        lng,
        places: list[str],
        addresses: list[str],
        version: int = 0,
    ):
        self.version = version
        self.station_ids = np.asarray(station_ids, dtype=np.int64)
        self.yes, self.no, self.out_of_order = yes, no, out_of_order
        self.usable = yes & ~out_of_order
        self.usable_words = (
            [self.usable[:, w].tolist() for w in range(self.usable.shape[1])] if len(yes) else []
        )
        self.themes = themes
        self.theme_list = themes.tolist()
        self.texts = texts  # per station: (code, name, name_en, phone, public_notice)
        order = np.lexsort((starts, visit_station, _local_days(starts)))
        self.visit_ids = np.asarray(visit_ids, dtype=np.int64)[order]
        self.visit_station = np.asarray(visit_station, dtype=np.int32)[order]
        self.starts = np.asarray(starts, dtype=np.int64)[order]  # epoch seconds
        self.ends = np.asarray(ends, dtype=np.int64)[order]
        self.lat = np.asarray(lat, dtype=np.float64)[order]
        self.lng = np.asarray(lng, dtype=np.float64)[order]
        self.places = [places[i] for i in order.tolist()]
        self.addresses = [addresses[i] for i in order.tolist()]
        self.days = _local_days(self.starts)
        self.points = _xyz(self.lat, self.lng) if len(self.lat) else np.zeros((0, 3))
        self._snapshots: dict = {}
        self._last: tuple = (None, None)
        self._lock = threading.Lock()

    @property
    def n_visits(self) -> int:
        return len(self.visit_ids)

    def snapshot(self, at: datetime.datetime) -> Snapshot:
        last = self._last
        if last[0] is at:  # a request asks more than once about its own moment
            return last[1]
        minute = int(at.timestamp() // 60)
        snap = self._snapshots.get(minute)
        if snap is None:
            snap = self._build_snapshot(minute * 60)
            with self._lock:
                if len(self._snapshots) >= SNAPSHOTS:
                    self._snapshots.clear()
                snap = self._snapshots.setdefault(minute, snap)
        self._last = (at, snap)
        return snap

    def choose(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(visits, open) at epoch second `t`: per station the visit of t's local day that ends
        first among those not over, and whether it has started."""
        day = _local_days(np.array([t]))[0]
        lo, hi = np.searchsorted(self.days, [day, day + 1])
        candidates = np.arange(lo, hi)[self.ends[lo:hi] > t]
        if len(candidates) == 0:
            return candidates, np.zeros(0, dtype=bool)
        # Sorted by station then start within the day; a van's visits never overlap, so the first
        # not over is the one running now or the next.
        stations = self.visit_station[candidates]
        first = np.ones(len(candidates), dtype=bool)
        first[1:] = stations[1:] != stations[:-1]
        chosen = candidates[first]
        return chosen, self.starts[chosen] <= t

    def _build_snapshot(self, t: int) -> Snapshot:
        visits, is_open = self.choose(t)
        points = self.points[visits]
        entries = list(
            zip(
                points[:, 0].tolist(),
                points[:, 1].tolist(),
                points[:, 2].tolist(),
                visits.tolist(),
                is_open.tolist(),
                self.visit_station[visits].tolist(),
                strict=True,
            )
        )
        return Snapshot(
            visits=visits,
            open=is_open,
            entries=entries,
            lat=self.lat[visits].tolist(),
            lng=self.lng[visits].tolist(),
        )

    def near(
        self, snap: Snapshot, point, lat: float, lng: float, reach_m: float | None, open_only: bool
    ) -> list:
        """(squared chord, visit, station) of the snapshot's points within `reach_m` metres of
        `point` (None: all), unsorted; open ones only with `open_only`."""
        if reach_m is not None and -GRID_MAX_LAT < lat < GRID_MAX_LAT:
            # The box around the point holding everything within reach: a meridian degree is
            # DEG_M metres; along a parallel, at the box's poleward edge, it is cos(lat) of that
            # (1 % more for the poleward bend of a great circle this short).
            d_lat = reach_m / DEG_M
            d_lng = d_lat * 1.01 / math.cos(math.radians(min(abs(lat) + d_lat, 89.9)))
            ratio = (d_lng if d_lng > d_lat else d_lat) / GRID_LEVELS[0]
            # The finest level whose cell is at least `ratio` first cells wide, 2 ** (level / 2) >=
            # ratio: with ratio = m · 2**e (m in [0.5, 1)), 2e - 1 when m < √½, else 2e.
            level = 0
            if ratio > 1.0:
                m, e = math.frexp(ratio)
                level = 2 * e - 1 if m < SQRT_HALF else 2 * e
            if level < len(GRID_LEVELS):
                size = GRID_LEVELS[level]
                grid = snap.grids[open_only][level]
                if grid is None:  # (an empty grid is built: no van open yet at 07:00)
                    grid = snap.grid(level, open_only)
                block = grid.get(math.floor(lat / size) * CELL_KEY + math.floor(lng / size))
                if not block:
                    return ()
                px, py, pz = point
                # The squared chord of reach_m, with a little slack for rounding.
                bound2 = (2.0 * math.sin(reach_m / EARTH_M / 2.0)) ** 2 * (1 + 1e-9) + 1e-18
                out = []
                for x, y, z, visit, _open, station in block:
                    d2 = (x - px) ** 2 + (y - py) ** 2 + (z - pz) ** 2
                    if d2 <= bound2:
                        out.append((d2, visit, station))
                return out
        tree, entries = snap.tree(open_only)
        if tree is None:
            return []
        bound = math.sqrt(chord2_for_metres(reach_m)) if reach_m is not None else None
        # Without a reach (fewer fixed stations than asked for, no radius) every van counts.
        ask = min(tree.n, 16) if bound is not None else tree.n
        while True:
            chords, found = tree.query(point, ask, bound)
            out = [
                (c * c, entries[r][3], entries[r][5])
                for c, r in zip(chords.tolist(), found.tolist(), strict=True)
                if r < tree.n
            ]
            if len(out) < ask or ask >= tree.n:
                return out
            ask = min(tree.n, ask * 4)  # every van within reach is wanted: the filters come after

    def passes(self, station: int, facilities: list | None, themes: int) -> bool:
        """Whether a station has every facility of `facilities` (mask words as ints) working
        and any theme of `themes`."""
        if facilities is not None:
            for word, bits in enumerate(facilities):
                if bits and (self.usable_words[word][station] & bits) != bits:
                    return False
        return not themes or bool(self.theme_list[station] & themes)

    def in_box(self, at, south, west, north, east, facilities, themes, open_only) -> list[int]:
        snap = self.snapshot(at)
        visits = snap.visits
        inside = (
            (self.lat[visits] >= south)
            & (self.lat[visits] <= north)
            & (self.lng[visits] >= west)
            & (self.lng[visits] <= east)
        )
        if open_only:
            inside &= snap.open
        words = facilities.tolist() if facilities is not None else None
        return [
            int(v)
            for v in visits[inside].tolist()
            if (words is None and not themes) or self.passes(int(self.visit_station[v]), words, themes)
        ]

    # --- what a visit says ---------------------------------------------------------------------

    def is_open(self, visit: int, at: datetime.datetime) -> bool:
        t = at.timestamp()
        return bool(self.starts[visit] <= t < self.ends[visit])

    def station_of(self, visit: int) -> int:
        return int(self.visit_station[visit])

    def window(self, visit: int) -> tuple[datetime.datetime, datetime.datetime]:
        return (
            datetime.datetime.fromtimestamp(int(self.starts[visit]), SHANGHAI),
            datetime.datetime.fromtimestamp(int(self.ends[visit]), SHANGHAI),
        )


def chord2_for_metres(metres: float) -> float:
    """The squared chord of a great-circle distance, with a little slack for rounding."""
    return (2.0 * math.sin(min(metres / 6_371_008.8, math.pi) / 2.0)) ** 2 * (1 + 1e-9) + 1e-18


def _local_days(epoch_seconds) -> np.ndarray:
    """Beijing-time day numbers (days since 1970-01-01, local) of epoch seconds: UTC+8, no DST."""
    return (np.asarray(epoch_seconds, dtype=np.int64) + 8 * 3600) // 86400


def empty_layer(words: int, version: int = 0) -> MobileLayer:
    zeros = np.zeros((0, words), dtype=np.uint64)
    return MobileLayer(
        station_ids=[], yes=zeros, no=zeros, out_of_order=zeros, themes=np.zeros(0, dtype=np.uint64), texts=[],
        visit_ids=[], visit_station=[], starts=[], ends=[], lat=[], lng=[], places=[], addresses=[],
        version=version,
    )  # fmt: skip
