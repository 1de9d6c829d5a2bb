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
usually a few hundred metres in a city), which is a lookup of one to four grid cells. Rows of
mobile answers are numbered after the fixed stations' (`index.n + visit`), so one list of rows
carries both.
"""

import datetime
import math
import threading
import zoneinfo
from dataclasses import dataclass

import numpy as np

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
GRID_DEG = 0.05  # ~5.5 km: a city's vans spread over a few dozen cells
MAX_GRID_CELLS = 16  # a bound wider than this many cells asks the snapshot's tree instead
SNAPSHOTS = 8


def _xyz(lat, lng) -> np.ndarray:
    from yizhan.locator.index import unit_vectors

    return unit_vectors(lat, lng)


@dataclass
class Snapshot:
    """Each mobile station's point for one minute: `visits` (into the layer's visit arrays),
    `open` (the van is there now), their unit vectors as Python floats, and the grid of them."""

    visits: np.ndarray
    open: np.ndarray
    x: list
    y: list
    z: list
    grid: dict  # (row, column) -> [position in the snapshot]
    _tree: object = None
    _open_tree: object = None

    @property
    def count(self) -> int:
        return len(self.visits)

    def tree(self, open_only: bool):
        """(tree, positions) over all points or the open ones, built on first need."""
        from yizhan.locator.index import PointTree

        if open_only:
            if self._open_tree is None:
                positions = np.flatnonzero(self.open)
                points = (
                    np.column_stack((self.x, self.y, self.z))[positions]
                    if len(positions)
                    else np.zeros((0, 3))
                )
                self._open_tree = (PointTree(points) if len(positions) else None, positions)
            return self._open_tree
        if self._tree is None:
            points = np.column_stack((self.x, self.y, self.z))
            self._tree = (PointTree(points), np.arange(self.count))
        return self._tree


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
        self._lock = threading.Lock()

    @property
    def n_visits(self) -> int:
        return len(self.visit_ids)

    def snapshot(self, at: datetime.datetime) -> Snapshot:
        minute = int(at.timestamp() // 60)
        snap = self._snapshots.get(minute)
        if snap is None:
            snap = self._build_snapshot(minute * 60)
            with self._lock:
                if len(self._snapshots) >= SNAPSHOTS:
                    self._snapshots.clear()
                snap = self._snapshots.setdefault(minute, snap)
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
        grid: dict = {}
        rows = np.floor(self.lat[visits] / GRID_DEG).astype(np.int64).tolist()
        columns = np.floor(self.lng[visits] / GRID_DEG).astype(np.int64).tolist()
        for position, key in enumerate(zip(rows, columns, strict=True)):
            grid.setdefault(key, []).append(position)
        return Snapshot(
            visits=visits,
            open=is_open,
            x=points[:, 0].tolist(),
            y=points[:, 1].tolist(),
            z=points[:, 2].tolist(),
            grid=grid,
        )

    def passes(self, station: int, facilities, themes: int) -> bool:
        if facilities is not None:
            for word, bits in enumerate(facilities.tolist()):
                if bits and (self.usable_words[word][station] & bits) != bits:
                    return False
        return not themes or bool(self.theme_list[station] & themes)

    def nearest(
        self,
        snap: Snapshot,
        point,
        lat: float,
        lng: float,
        k: int,
        bound2: float,
        facilities,
        themes,
        open_only,
    ):
        """(squared chord, visit) of up to k points of the snapshot within squared chord `bound2`
        of `point` (math.inf: any) that pass the filters, nearest first."""
        px, py, pz = point
        found = []
        if bound2 < 4.0:
            reach_deg = math.degrees(2.0 * math.asin(min(math.sqrt(bound2) / 2.0, 1.0))) * 1.001
            squeeze = math.cos(math.radians(min(abs(lat) + reach_deg, 89.0)))
            r0, r1 = math.floor((lat - reach_deg) / GRID_DEG), math.floor((lat + reach_deg) / GRID_DEG)
            c0 = math.floor((lng - reach_deg / squeeze) / GRID_DEG)
            c1 = math.floor((lng + reach_deg / squeeze) / GRID_DEG)
            if (r1 - r0 + 1) * (c1 - c0 + 1) <= MAX_GRID_CELLS:
                grid, xs, ys, zs = snap.grid, snap.x, snap.y, snap.z
                for r in range(r0, r1 + 1):
                    for c in range(c0, c1 + 1):
                        for position in grid.get((r, c), ()):
                            d2 = (
                                (xs[position] - px) ** 2 + (ys[position] - py) ** 2 + (zs[position] - pz) ** 2
                            )
                            if d2 <= bound2:
                                found.append((d2, position))
                return self._finish(snap, sorted(found), k, facilities, themes, open_only)
        tree, positions = snap.tree(open_only)
        if tree is None:
            return []
        ask = min(tree.n, max(4 * k, 16))
        bound = math.sqrt(bound2) if bound2 < 4.0 else None
        while True:
            chords, rows = tree.query(point, ask, bound)
            hits = [
                (c * c, int(positions[r]))
                for c, r in zip(chords.tolist(), rows.tolist(), strict=True)
                if r < tree.n
            ]
            out = self._finish(snap, hits, k, facilities, themes, open_only)
            if len(out) >= k or len(hits) < ask or ask >= tree.n:
                return out
            ask = min(tree.n, ask * 4)

    def _finish(self, snap, ordered, k, facilities, themes, open_only):
        out = []
        for d2, position in ordered:
            if open_only and not snap.open[position]:
                continue
            visit = int(snap.visits[position])
            filtered = facilities is not None or themes
            if filtered and not self.passes(int(self.visit_station[visit]), facilities, themes):
                continue
            out.append((d2, visit))
            if len(out) == k:
                break
        return out

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
        return [
            int(v)
            for v in visits[inside].tolist()
            if not (facilities is not None or themes)
            or self.passes(int(self.visit_station[v]), facilities, themes)
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
