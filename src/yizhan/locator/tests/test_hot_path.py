"""The nearby API's hot path gives what the general path gives: clean_nearby's short way for the
everyday request, the lean query-string reader, the route served ahead of ninja, and the k-d
tree without threads."""

import datetime
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from yizhan.locator import services
from yizhan.locator.index import Catalogue

CATALOGUE = Catalogue(("drinking_water", "wifi", "restroom"), ("little_bee", "elderly"))
NOW = datetime.datetime(2026, 7, 15, 4, 0, tzinfo=datetime.UTC)
POOLS = {
    "lat": ["29.56", "30", " 30 ", "1e1", "3_0", "91", "-0.12", "abc", "", "nan", "inf"],
    "lng": ["106.55", "120", "120 ", "1.2e2", "181", "-0.12", "abc", "", "nan"],
    "limit": ["5", "05", " 5", "+5", "0", "1", "50", "51", "-3", "٥", "²", "", "ten", "5.0"],
    "facility": [
        "wifi",
        "drinking_water",
        "wifi,restroom",
        "wifi,,restroom",
        "wifi, restroom",
        "",
        "jacuzzi",
    ],
    "theme": ["little_bee", "elderly,little_bee", "", "vip", " elderly"],
    "open_now": ["true", "false", "TRUE", "yes", "on", "0", "1", "", "maybe", " true"],
    "crs": ["wgs84", "gcj02", "WGS84", "mars"],
    "radius_m": ["1000", "0", "nan"],
    "at": ["2026-07-15T12:00", "soon", ""],
    "page": ["2"],
}


def full(params):
    # With `now` given, clean_nearby takes its general way (the short one reads the clock).
    return services.clean_nearby(params, catalogue=CATALOGUE, now=NOW)


def assert_agree(params):
    quick = services._everyday(params, CATALOGUE)
    try:
        expected = full(params)
    except ValidationError:
        assert quick is None, f"the quick check accepted what the full one refuses: {params}"
        return
    if quick is not None:
        assert (
            quick.at_given is False
            and abs(quick.at - datetime.datetime.now(datetime.UTC)).total_seconds() < 5
        )
        quick.at = NOW
        assert quick == expected, params


BASES = [
    {"lat": ["29.56"], "lng": ["106.55"]},
    {"lat": ["30"], "lng": ["120"], "limit": ["5"], "facility": ["wifi"], "open_now": ["true"]},
    {
        "lat": ["29.56"],
        "lng": ["106.55"],
        "theme": ["little_bee"],
        "open_now": ["0"],
        "facility": ["wifi,restroom"],
    },
]


def test_quick_check_agrees_with_the_full_one_on_every_listed_value():
    # A valid request with one parameter changed to each usual and unusual value, alone, after
    # another value (the last one counts) and, for the repeatable ones, beside another.
    for base in BASES:
        assert_agree(base)
        for name, pool in POOLS.items():
            for value in pool:
                for values in ([value], ["5", value], [value, "wifi"]):
                    assert_agree({**base, name: values})


@settings(max_examples=300, deadline=None)
@given(
    base=st.sampled_from(BASES),
    name=st.sampled_from(sorted(POOLS)),
    values=st.lists(st.text(max_size=8), min_size=1, max_size=3),
)
def test_quick_check_agrees_with_the_full_one_on_any_text(base, name, values):
    assert_agree({**base, name: values})


@pytest.mark.parametrize(
    "params",
    [
        {"lat": ["29.56"], "lng": ["106.55"]},
        {"lat": ["29.56"], "lng": ["106.55"], "limit": ["20"]},
        {"lat": ["29.56"], "lng": ["106.55"], "facility": ["wifi", "drinking_water"], "open_now": ["true"]},
        {"lat": ["29.56"], "lng": ["106.55"], "theme": ["little_bee"], "open_now": ["false"]},
    ],
)
def test_everyday_requests_take_the_quick_path(params):
    quick = services._everyday(params, CATALOGUE)
    assert quick is not None
    quick.at = NOW
    assert quick == full(params)


@pytest.mark.parametrize(
    "query",
    [
        "lat=29.5&lng=106.5",
        "facility=wifi&facility=drinking_water&lat=29.5",
        "name=%E4%B8%89%E5%B3%A1+%E5%B9%BF%E5%9C%BA&x=a%2Bb",
        "empty=&=novalue&&flag",
        "bad=%E4%B8&pct=100%&latin=%FF",
        "lat=1;lng=2",
    ],
)
def test_query_string_reader_decodes_as_django_does(query):
    request = RequestFactory().get("/api/v1/stations/nearby?" + query)
    assert services.read_query_string(request.META["QUERY_STRING"]) == dict(QueryDict(query).lists())


def test_query_string_reader_takes_raw_utf8_bytes_as_django_does():
    request = RequestFactory().get("/api/v1/stations/nearby")
    request.META["QUERY_STRING"] = "q=三峡".encode().decode("iso-8859-1")  # what WSGI hands over
    assert (
        services.read_query_string(request.META["QUERY_STRING"])
        == {"q": ["三峡"]}
        == dict(request.GET.lists())
    )


def test_too_many_parameters_are_refused_as_django_refuses_them(client, db, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    many = "&".join(f"x{i}=1" for i in range(25))
    assert client.get(f"/api/v1/stations/nearby?lat=29.5&lng=106.5&{many}").status_code == 400
    assert client.get("/api/v1/stations/nearby?lat=29.5&lng=106.5&x=1").status_code == 200


def test_nul_in_the_query_string_is_refused(client, db):
    response = client.get("/api/v1/stations/nearby?lat=29.5&lng=106.5%00")
    assert response.status_code == 422  # at the input boundary, naming the parameter
    assert response.json()["detail"][0]["loc"] == ["query", "lng"]
    assert client.get("/api/v1/stations/nearby?lat=29.5&lng=106.5&note=%2500").status_code == 200


def test_nearby_route_is_read_only_and_still_documented(client, db):
    assert client.post("/api/v1/stations/nearby?lat=29.5&lng=106.5").status_code == 405
    assert client.head("/api/v1/stations/nearby?lat=29.5&lng=106.5").status_code == 200
    doc = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/stations/nearby"]["get"]
    assert {p["name"] for p in doc["parameters"]} >= {"lat", "lng", "facility", "open_now"}


def threads_added_by_queries(**env) -> int:
    script = (
        "import os, numpy as np\n"
        "from yizhan.locator.index import PointTree, unit_vectors\n"
        "rng = np.random.default_rng(1)\n"
        "tree = PointTree(unit_vectors(rng.uniform(20, 40, 5000), rng.uniform(100, 120, 5000)))\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "for _ in range(50): tree.query((0.1, 0.8, 0.5), 10)\n"
        "tree.query((0.1, 0.8, 0.5), 500)\n"
        "print(len(os.listdir('/proc/self/task')) - before)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), **env}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return int(out.stdout.strip())


def test_the_tree_runs_queries_on_the_calling_thread():
    # OpenMP threads would spin-wait on the cores the other web workers need.
    assert threads_added_by_queries() == 0
    assert threads_added_by_queries(OMP_NUM_THREADS="2") == 1, "an operator's explicit choice stands"


def test_wide_and_narrow_queries_agree():
    import numpy as np

    from yizhan.locator.index import PointTree, unit_vectors

    rng = np.random.default_rng(3)
    tree = PointTree(unit_vectors(rng.uniform(20, 40, 3000), rng.uniform(100, 120, 3000)))
    point = tuple(unit_vectors([30.0], [110.0])[0])
    narrow = tree.query(point, PointTree.WIDE_K)
    wide = tree.query(point, PointTree.WIDE_K + 1)
    assert list(narrow[1]) == list(wide[1][: PointTree.WIDE_K])
    assert np.allclose(narrow[0], wide[0][: PointTree.WIDE_K], rtol=0, atol=1e-15)
