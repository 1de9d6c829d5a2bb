"""The index's mobile layer without the database: a mobile station is found only while it is
there (open now) or later that day, at the place of that visit, filters apply, and the merged
answer equals a brute force over fixed stations and vans at random moments."""

import datetime
import zoneinfo

import numpy as np
import pytest

from yizhan.core.geo import haversine_m
from yizhan.locator.index import StationIndex
from yizhan.locator.mobile import MobileLayer
from yizhan.locator.tests.test_index import CALENDAR, CATALOGUE, make_rows

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY0 = datetime.date(2026, 12, 7)  # a Monday


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        DAY0 + datetime.timedelta(days=day), datetime.time(hour, minute), SHANGHAI
    )


def make_layer(rng, m: int, days: int, centre=(22.6, 114.0), spread=0.2):
    """m vans, each with 0–2 visits a day for `days` days at random places, never overlapping."""
    visits = {"station": [], "starts": [], "ends": [], "lat": [], "lng": [], "ids": []}
    for van in range(m):
        for day in range(-1, days):
            hour = 7
            for _ in range(int(rng.integers(0, 3))):
                start = hour + int(rng.integers(0, 4))
                end = start + int(rng.integers(1, 5))
                if end > 23:
                    break
                visits["station"].append(van)
                visits["starts"].append(int(at(day, start).timestamp()))
                visits["ends"].append(int(at(day, end).timestamp()))
                visits["lat"].append(centre[0] + float(rng.normal(0, spread)))
                visits["lng"].append(centre[1] + float(rng.normal(0, spread)))
                visits["ids"].append(len(visits["ids"]) + 1)
                hour = end
    yes = rng.integers(0, 16, size=(m, 1)).astype(np.uint64)
    zeros = np.zeros((m, 1), dtype=np.uint64)
    n_visits = len(visits["ids"])
    layer = MobileLayer(
        station_ids=np.arange(10_001, 10_001 + m),
        yes=yes,
        no=zeros,
        out_of_order=zeros,
        themes=rng.integers(0, 4, size=m).astype(np.uint64),
        texts=[(f"M{i}", f"移动驿站{i}", "", "", "") for i in range(m)],
        visit_ids=visits["ids"],
        visit_station=visits["station"],
        starts=visits["starts"],
        ends=visits["ends"],
        lat=visits["lat"],
        lng=visits["lng"],
        places=[f"地点{i}" for i in range(n_visits)],
        addresses=[""] * n_visits,
    )
    return layer, visits


def van_points(visits, moment: datetime.datetime):
    """Brute force, written apart from the layer: each van's visit of the moment's day not over
    yet that starts first, and whether it has started. {van: (visit position, open)}."""
    t = moment.timestamp()
    day = moment.astimezone(SHANGHAI).date()
    best = {}
    for i, van in enumerate(visits["station"]):
        start, end = visits["starts"][i], visits["ends"][i]
        if datetime.datetime.fromtimestamp(start, SHANGHAI).date() != day or end <= t:
            continue
        if van not in best or start < visits["starts"][best[van]]:
            best[van] = i
    return {van: (i, visits["starts"][i] <= t) for van, i in best.items()}


@pytest.fixture(scope="module")
def network():
    rng = np.random.default_rng(17)
    n = 1500
    lat = 22.6 + rng.normal(0, 0.25, n)
    lng = 114.0 + rng.normal(0, 0.25, n)
    yes = rng.integers(0, 16, size=n)
    rows = make_rows(lat, lng, yes=yes.tolist(), themes=rng.integers(0, 4, size=n).tolist())
    index = StationIndex.build(rows, catalogue=CATALOGUE, calendar=CALENDAR)
    layer, visits = make_layer(rng, 200, 4)
    index.mobile = layer
    return index, rows, layer, visits, rng


def expected(index, rows, layer, visits, lat, lng, moment, k, radius, facilities, themes, open_now):
    """[(distance, ('fixed', id) | ('mobile', van))] nearest first, by brute force."""
    out = []
    fixed_open = index.open_rows(np.arange(index.n), moment)
    for row in range(index.n):
        if facilities and (int(index.usable[row, 0]) & facilities) != facilities:
            continue
        if themes and not int(index.themes[row]) & themes:
            continue
        if open_now and not fixed_open[row]:
            continue
        out.append(
            (
                haversine_m(lat, lng, float(rows.lat[row]), float(rows.lng[row])),
                ("fixed", int(index.ids[row])),
            )
        )
    for van, (i, is_open) in van_points(visits, moment).items():
        if facilities and (int(layer.usable[van, 0]) & facilities) != facilities:
            continue
        if themes and not int(layer.themes[van]) & themes:
            continue
        if open_now and not is_open:
            continue
        out.append((haversine_m(lat, lng, visits["lat"][i], visits["lng"][i]), ("mobile", van)))
    out = [item for item in out if radius is None or item[0] <= radius]
    return sorted(out)[:k]


def answer(index, layer, rows_out, metres):
    out = []
    for row, distance in zip(rows_out, metres, strict=True):
        if index.is_mobile(row):
            out.append((distance, ("mobile", layer.station_of(row - index.n))))
        else:
            out.append((distance, ("fixed", int(index.ids[row]))))
    return out


def test_the_merged_answer_equals_brute_force_at_random_moments(network):
    index, rows, layer, visits, rng = network
    checked = mobile_seen = 0
    for j in range(240):
        moment = at(int(rng.integers(0, 4)), int(rng.integers(5, 24)), int(rng.integers(0, 60)))
        lat, lng = 22.6 + float(rng.normal(0, 0.3)), 114.0 + float(rng.normal(0, 0.3))
        k = int(rng.choice([1, 5, 10, 30]))
        radius = float(rng.choice([500.0, 3000.0, 20000.0])) if j % 3 == 0 else None
        facilities = int(rng.choice([0, 1, 3])) if j % 2 else 0
        themes = int(rng.choice([0, 1, 2])) if j % 5 == 1 else 0
        open_now = j % 2 == 0
        for repeat in range(2):  # the second time a cell's list may answer
            got_rows, got_metres = index.nearest_rows(
                lat,
                lng,
                k=k,
                radius_m=radius,
                facilities=np.array([facilities], dtype=np.uint64) if facilities else None,
                themes=themes,
                open_at=moment if open_now else None,
                at=moment,
            )
            got = answer(index, layer, got_rows, got_metres)
            want = expected(
                index, rows, layer, visits, lat, lng, moment, k, radius, facilities, themes, open_now
            )
            assert [w[1] for w in got] == [w[1] for w in want], (j, repeat)
            assert np.allclose([g[0] for g in got], [w[0] for w in want], atol=0.01)
            checked += 1
            mobile_seen += sum(1 for _d, (kind, _x) in got if kind == "mobile")
    assert checked == 480 and mobile_seen > 50  # the vans did come up


def test_a_van_is_found_only_while_it_is_there_or_later_that_day():
    zeros = np.zeros((1, 1), dtype=np.uint64)
    # One van: Tuesday 10:00–16:00 at a logistics park, nothing else.
    layer = MobileLayer(
        station_ids=[7], yes=zeros + 1, no=zeros, out_of_order=zeros, themes=np.zeros(1, dtype=np.uint64),
        texts=[("SZ-YD", "移动驿站", "", "", "")], visit_ids=[1], visit_station=[0],
        starts=[int(at(1, 10).timestamp())], ends=[int(at(1, 16).timestamp())],
        lat=[22.69], lng=[114.12], places=["平湖物流园"], addresses=[""],
    )  # fmt: skip
    far = make_rows([23.5], [115.0])  # one fixed station ~130 km away, always there
    index = StationIndex.build(far, catalogue=CATALOGUE, calendar=CALENDAR)
    index.mobile = layer

    def found(moment, **kw):
        got, _m = index.nearest_rows(22.69, 114.12, k=2, at=moment, **kw)
        return [index.is_mobile(r) for r in got]

    assert found(at(1, 11)) == [True, False]  # there now
    assert found(at(1, 11), open_at=at(1, 11)) == [True, False]  # "open now": there now, office open
    assert found(at(1, 8)) == [True, False]  # later today
    assert found(at(1, 8), open_at=at(1, 8)) == []  # not there yet (the fixed one opens at 09:00)
    assert found(at(1, 16)) == [False]  # gone for the day
    assert found(at(0, 11)) == [False]  # the day before: not today
    assert found(at(2, 11)) == [False]
    assert found(at(1, 11), facilities=np.array([2], dtype=np.uint64)) == []  # lacks facility 2
    assert found(None) == [False]  # no moment, no van


def test_before_any_van_is_there_the_open_grid_is_built_once_and_found_empty():
    zeros = np.zeros((1, 1), dtype=np.uint64)
    layer = MobileLayer(
        station_ids=[7], yes=zeros, no=zeros, out_of_order=zeros, themes=np.zeros(1, dtype=np.uint64),
        texts=[("SZ-YD", "移动驿站", "", "", "")], visit_ids=[1], visit_station=[0],
        starts=[int(at(1, 10).timestamp())], ends=[int(at(1, 16).timestamp())],
        lat=[22.69], lng=[114.12], places=["平湖物流园"], addresses=[""],
    )  # fmt: skip
    snap = layer.snapshot(at(1, 7))
    point = (0.0, 0.0, 0.0)
    assert layer.near(snap, point, 22.69, 114.12, 1000.0, True) == ()
    built = [grid for grid in snap.grids[True] if grid is not None]
    assert built == [{}]
    layer.near(snap, point, 22.69, 114.12, 1000.0, True)
    assert [grid for grid in snap.grids[True] if grid is not None] == built and built[0] is not None
