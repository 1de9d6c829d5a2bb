"""The index over plain arrays, without the database: order, filters, hours, patches."""

import datetime
import math
import zoneinfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.core.geo import haversine_m
from yizhan.locator.index import CELL_DEG, Catalogue, Rows, StationIndex
from yizhan.stations.hours import Calendar, Schedule

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CATALOGUE = Catalogue(("water", "charging", "restroom", "wifi"), ("little_bee", "elderly"))
OFFICE = {"weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, "statutory": True}
ALWAYS = {"weekly": {}, "always_open": True}
# 2026-10-01 (Thursday) is a public holiday; 2026-09-20 (Sunday) a make-up workday.
CALENDAR = Calendar({datetime.date(2026, 10, 1): False, datetime.date(2026, 9, 20): True}, [2026])


def make_rows(lat, lng, *, yes=None, themes=None, status=None, hours=None, first_id=1) -> Rows:
    n = len(lat)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    hours = hours or [OFFICE] * n
    status = status or ["active"] * n
    keys = [(s, "", repr(sorted(h.items()))) for s, h in zip(status, hours, strict=True)]
    compiled = {key: Schedule.from_station(h, s, None) for key, s, h in zip(keys, status, hours, strict=True)}
    return Rows(
        ids=ids,
        lat=np.asarray(lat, dtype=np.float64),
        lng=np.asarray(lng, dtype=np.float64),
        yes=np.asarray(yes if yes is not None else [0] * n, dtype=np.uint64).reshape(n, 1),
        no=np.zeros((n, 1), dtype=np.uint64),
        out_of_order=np.zeros((n, 1), dtype=np.uint64),
        themes=np.asarray(themes if themes is not None else [0] * n, dtype=np.uint64),
        status=np.array([0 if s == "active" else 1 for s in status], dtype=np.uint8),
        schedule_keys=keys,
        schedules=compiled,
        text={"code": [f"S{i}" for i in ids]},
    )


def build(rows: Rows) -> StationIndex:
    return StationIndex.build(rows, catalogue=CATALOGUE, calendar=CALENDAR)


def brute(lat, lng, points_lat, points_lng, k, keep=None):
    d = np.array([haversine_m(lat, lng, a, b) for a, b in zip(points_lat, points_lng, strict=True)])
    candidates = np.flatnonzero(keep) if keep is not None else np.arange(len(d))
    order = candidates[np.argsort(d[candidates], kind="stable")]
    return order[:k], d


@pytest.fixture(scope="module")
def national():
    rng = np.random.default_rng(7)
    n = 5000
    lat = np.concatenate([rng.normal(29.56, 0.2, n // 2), rng.uniform(18, 53, n - n // 2)])
    lng = np.concatenate([rng.normal(106.55, 0.2, n // 2), rng.uniform(74, 134, n - n // 2)])
    yes = rng.integers(0, 16, n)
    themes = rng.integers(0, 4, n)
    hours = [ALWAYS if i % 10 == 0 else OFFICE for i in range(n)]
    status = ["temporarily_closed" if i % 50 == 1 else "active" for i in range(n)]
    rows = make_rows(lat, lng, yes=yes, themes=themes, hours=hours, status=status)
    return rows, build(rows)


@settings(max_examples=60, deadline=None)
@given(lat=st.floats(18, 53), lng=st.floats(74, 134), k=st.integers(1, 30))
def test_nearest_order_is_the_brute_force_haversine_order(national, lat, lng, k):
    rows, index = national
    got, metres = index.nearest(lat, lng, k=k)
    expected, d = brute(lat, lng, rows.lat, rows.lng, k)
    assert list(got) == list(expected)
    assert np.allclose(metres, d[got], atol=0.01)


def test_order_holds_across_the_antimeridian_and_at_the_poles():
    # Chord distance on the unit sphere has no seam: a lat/lng grid would get these wrong.
    lat = [0.0, 0.0, 89.9, -10.0]
    lng = [179.9, -179.9, 0.0, 170.0]
    index = build(make_rows(lat, lng))
    got, metres = index.nearest(0.0, -179.95, k=4)
    assert list(got[:2]) in ([1, 0], [0, 1])
    assert metres[0] < 6000
    assert list(got) == list(brute(0.0, -179.95, lat, lng, 4)[0])


def test_radius_limits_the_answer(national):
    rows, index = national
    got, metres = index.nearest(29.56, 106.55, k=50, radius_m=2000)
    expected, d = brute(29.56, 106.55, rows.lat, rows.lng, 50, keep=None)
    expected = [i for i in expected if d[i] <= 2000]
    assert list(got) == expected
    assert (metres <= 2000).all()


def cell_key(lat, lng, k, facilities=None, themes=0):
    static = (facilities.tobytes() if facilities is not None else b"", themes)
    return (math.floor(lat / CELL_DEG), math.floor(lng / CELL_DEG), k, static)


def cell_points(rng, south, west, count):
    """Points inside one grid cell, its corners and edges included."""
    size = CELL_DEG * 0.999999
    fixed = [(0.0, 0.0), (size, 0.0), (0.0, size), (size, size), (size / 2, 0.0), (0.0, size / 2)]
    return [(south + a, west + b) for a, b in fixed] + [
        (south + a, west + b) for a, b in rng.uniform(0, size, (count, 2))
    ]


@pytest.mark.parametrize("k", [1, 10, 30])
def test_cell_answers_equal_the_brute_force_for_every_point_of_the_cell(national, k):
    rows, index = national
    rng = np.random.default_rng(k)
    # Cells in the dense cluster, on its edge and far out, each asked about twice so that it is
    # built, then about points all over it.
    for lat, lng in [(29.56, 106.55), (29.9, 106.9), (31.0, 108.0), (45.0, 125.0), (20.0, 80.0)]:
        south, west = math.floor(lat / CELL_DEG) * CELL_DEG, math.floor(lng / CELL_DEG) * CELL_DEG
        index.nearest(lat, lng, k=k)
        index.nearest(lat, lng, k=k)
        assert index._cells[cell_key(lat, lng, k)], "cell built"
        for p_lat, p_lng in cell_points(rng, south, west, 25):
            got, metres = index.nearest(p_lat, p_lng, k=k)
            expected, d = brute(p_lat, p_lng, rows.lat, rows.lng, k)
            assert list(got) == list(expected), (p_lat, p_lng)
            assert np.allclose(metres, d[got], atol=0.01)
            got, metres = index.nearest(p_lat, p_lng, k=k, radius_m=3000)
            assert list(got) == [i for i in expected if d[i] <= 3000]


@pytest.mark.parametrize(
    ("wanted", "theme", "hour"),
    [
        (["water"], [], 10),  # a common facility, open in office hours
        (["water", "wifi"], ["elderly"], 10),  # rare: its own small tree
        (["charging"], [], 23),  # at night only the round-the-clock stations are open
        ([], ["little_bee"], None),  # a theme alone, no time
    ],
)
def test_filtered_cell_answers_equal_the_brute_force(national, wanted, theme, hour):
    rows, index = national
    rng = np.random.default_rng(len(wanted) * 10 + (hour or 0))
    mask = CATALOGUE.facility_mask(wanted) if wanted else None
    themes = CATALOGUE.theme_mask(theme) if theme else 0
    at = datetime.datetime(2026, 6, 17, hour, 30, tzinfo=SHANGHAI) if hour is not None else None
    keep = np.ones(len(rows.ids), dtype=bool)
    if mask is not None:
        keep &= (rows.yes[:, 0] & mask[0]) == mask[0]
    if themes:
        keep &= (rows.themes & np.uint64(themes)) != 0
    if at is not None:
        keep &= index.open_rows(np.arange(len(rows.ids)), at)
    for lat, lng in [(29.56, 106.55), (29.9, 106.9), (45.0, 125.0)]:
        south, west = math.floor(lat / CELL_DEG) * CELL_DEG, math.floor(lng / CELL_DEG) * CELL_DEG
        for _ in range(2):
            index.nearest(lat, lng, k=10, facilities=mask, themes=themes, open_at=at)
        assert index._cells[cell_key(lat, lng, 10, mask, themes)], "cell built"
        for p_lat, p_lng in cell_points(rng, south, west, 15):
            for radius in (None, 2500):
                got, metres = index.nearest(
                    p_lat, p_lng, k=10, radius_m=radius, facilities=mask, themes=themes, open_at=at
                )
                expected, d = brute(p_lat, p_lng, rows.lat, rows.lng, 10, keep)
                if radius is not None:
                    expected = [i for i in expected if d[i] <= radius]
                assert list(got) == list(expected), (p_lat, p_lng, radius)
                assert np.allclose(metres, d[got], atol=0.01)


def test_cells_hold_across_the_antimeridian():
    lng = [179.999, -179.999, 179.99, -179.99, 179.9, -179.9]
    index = build(make_rows([10.0] * 6, lng))
    for _ in range(3):
        got, _m = index.nearest(10.0, 179.9999, k=4)
    assert index._cells, "the cell was built"
    assert list(got) == list(brute(10.0, 179.9999, [10.0] * 6, lng, 4)[0])
    got, _m = index.nearest(10.001, -179.9999, k=4)
    assert list(got) == list(brute(10.001, -179.9999, [10.0] * 6, lng, 4)[0])


def test_one_off_points_never_push_built_cells_out(national, monkeypatch):
    from yizhan.locator import index as index_module

    _rows, index = national
    monkeypatch.setattr(index_module, "CELL_MARKS", 8)
    for _ in range(2):
        index.nearest(29.56, 106.55, k=7)
    built = cell_key(29.56, 106.55, 7)
    assert index._cells[built]
    for i in range(50):
        index.nearest(20 + i * 0.1, 110.0, k=7)
    assert index._cells[built], "still there after 50 one-off points"
    assert len(index._cell_marks) <= 8


def test_a_cell_asked_about_once_is_only_marked(national):
    _rows, index = national
    index.nearest(33.333, 100.001, k=10)
    assert cell_key(33.333, 100.001, 10) in index._cell_marks
    assert cell_key(33.333, 100.001, 10) not in index._cells


@pytest.mark.parametrize("wanted", [["water"], ["water", "wifi"], ["restroom", "charging", "wifi", "water"]])
def test_facility_filter_requires_every_facility(national, wanted):
    rows, index = national
    mask = CATALOGUE.facility_mask(wanted)
    got, _m = index.nearest(29.6, 106.6, k=15, facilities=mask)
    keep = (rows.yes[:, 0] & mask[0]) == mask[0]
    assert list(got) == list(brute(29.6, 106.6, rows.lat, rows.lng, 15, keep)[0])


def test_rare_filter_uses_its_own_tree_and_gives_the_same_answer(national):
    rows, index = national
    # Facilities 0..3 all present: 1 in 16 stations, under the small-tree threshold only with a theme.
    mask = CATALOGUE.facility_mask(["water", "charging", "restroom", "wifi"])
    theme = CATALOGUE.theme_mask(["elderly"])
    got, _m = index.nearest(40.0, 116.0, k=10, facilities=mask, themes=theme)
    keep = ((rows.yes[:, 0] & mask[0]) == mask[0]) & ((rows.themes & np.uint64(theme)) != 0)
    assert keep.sum() < 0.05 * len(keep)
    assert index._subtrees, "a rare filter should have built its own tree"
    assert list(got) == list(brute(40.0, 116.0, rows.lat, rows.lng, 10, keep)[0])


def test_theme_filter_matches_any_of_the_themes(national):
    rows, index = national
    theme = CATALOGUE.theme_mask(["little_bee", "elderly"])
    got, _m = index.nearest(29.6, 106.6, k=12, themes=CATALOGUE.theme_mask(["little_bee"]))
    keep = (rows.themes & np.uint64(1)) != 0
    assert list(got) == list(brute(29.6, 106.6, rows.lat, rows.lng, 12, keep)[0])
    got_any, _m = index.nearest(29.6, 106.6, k=12, themes=theme)
    keep_any = rows.themes != 0
    assert list(got_any) == list(brute(29.6, 106.6, rows.lat, rows.lng, 12, keep_any)[0])


def test_open_filter_at_night_keeps_only_round_the_clock_stations(national):
    rows, index = national
    night = datetime.datetime(2026, 6, 17, 23, 30, tzinfo=SHANGHAI)
    got, _m = index.nearest(29.6, 106.6, k=10, open_at=night)
    assert len(got) == 10
    always = np.array([i % 10 == 0 for i in range(len(rows.ids))])
    temporarily_closed = np.array([i % 50 == 1 for i in range(len(rows.ids))])
    assert list(got) == list(brute(29.6, 106.6, rows.lat, rows.lng, 10, always & ~temporarily_closed)[0])


def test_temporarily_closed_station_is_listed_but_never_open():
    lat, lng = [30.0, 30.001], [110.0, 110.001]
    index = build(make_rows(lat, lng, hours=[ALWAYS, ALWAYS], status=["temporarily_closed", "active"]))
    at = datetime.datetime(2026, 6, 17, 12, 0, tzinfo=SHANGHAI)
    got, _m = index.nearest(30.0, 110.0, k=2)
    assert list(got) == [0, 1]
    assert list(index.open_rows(got, at)) == [False, True]
    assert list(index.nearest(30.0, 110.0, k=2, open_at=at)[0]) == [1]


def test_open_filter_follows_the_holiday_calendar():
    statutory = {**OFFICE, "statutory": True}
    weekly_only = {**OFFICE, "statutory": False}
    index = build(make_rows([30.0, 30.001], [110.0, 110.001], hours=[statutory, weekly_only]))
    holiday = datetime.datetime(2026, 10, 1, 10, 0, tzinfo=SHANGHAI)  # a Thursday off
    makeup = datetime.datetime(2026, 9, 20, 10, 0, tzinfo=SHANGHAI)  # a Sunday at work
    assert list(index.nearest(30.0, 110.0, k=2, open_at=holiday)[0]) == [1]
    assert list(index.nearest(30.0, 110.0, k=2, open_at=makeup)[0]) == [0]
    # The memo is per minute: the same index answers both moments correctly, in any order.
    assert list(index.open_rows(np.array([0, 1]), holiday)) == [False, True]
    assert index.next_change(0, holiday) == datetime.datetime(2026, 10, 2, 9, 0, tzinfo=SHANGHAI)


def test_patch_replaces_changed_rows_and_keeps_the_tree_when_nobody_moved():
    base = make_rows([30.0, 30.1, 30.2], [110.0, 110.0, 110.0], yes=[1, 1, 1])
    index = build(base)
    changed = make_rows([30.1], [110.0], yes=[0b1001], first_id=2)
    patched = index.patched([2], changed)
    assert patched.tree is index.tree
    assert patched.usable_facilities(1) == ["water", "wifi"]
    assert index.usable_facilities(1) == ["water"], "the old index is never changed in place"
    assert patched.text("code", 1) == "S2"


def test_patch_moves_adds_and_removes_stations():
    index = build(make_rows([30.0, 30.1, 30.2], [110.0, 110.0, 110.0]))
    moved = make_rows([31.0], [111.0], first_id=1)
    added = make_rows([30.05], [110.0], first_id=9)
    delta = Rows(
        ids=np.concatenate([moved.ids, added.ids]),
        lat=np.concatenate([moved.lat, added.lat]),
        lng=np.concatenate([moved.lng, added.lng]),
        yes=np.concatenate([moved.yes, added.yes]),
        no=np.concatenate([moved.no, added.no]),
        out_of_order=np.concatenate([moved.out_of_order, added.out_of_order]),
        themes=np.concatenate([moved.themes, added.themes]),
        status=np.concatenate([moved.status, added.status]),
        schedule_keys=moved.schedule_keys + added.schedule_keys,
        schedules={**moved.schedules, **added.schedules},
        text={"code": ["S1", "S9"]},
    )
    # Station 3 closed for good: read again, not public any more, so it goes.
    patched = index.patched([1, 3, 9], delta)
    assert list(patched.ids) == [1, 2, 9]
    assert patched.tree is not index.tree
    got, _m = patched.nearest(30.0, 110.0, k=3)
    assert [patched.text("code", r) for r in got] == ["S9", "S2", "S1"]
