"""Statistics that can be trusted: year on year like with like, the dates the page reports in
its fields, one ranking where two would overlap."""

import datetime
import json
import re

import pytest

from yizhan.visits import services, stats
from yizhan.visits.models import DailyRollup, MonthlyRollup

pytestmark = pytest.mark.django_db
SH = datetime.timezone(datetime.timedelta(hours=8))


@pytest.fixture
def quiet_outlet(station, unit):
    """三峡广场 with its check-ins in 2030 and 2031 only (the demo's years are left alone)."""
    s = station("CQ-SXGC")

    def visits(day: datetime.date, n: int) -> None:
        for _ in range(n):
            services.record_checkin(s, now=datetime.datetime.combine(day, datetime.time(10), tzinfo=SH))

    visits(datetime.date(2030, 3, 10), 4)
    visits(datetime.date(2031, 3, 10), 2)
    visits(datetime.date(2031, 1, 5), 3)  # January 2030 has no data at all
    visits(datetime.date(2030, 12, 1), 2)
    visits(datetime.date(2030, 12, 15), 5)
    visits(datetime.date(2031, 12, 1), 3)
    return unit("CQ-SXGC")


def by_month(rows):
    return {r["month"]: r for r in rows}


def test_the_current_month_is_compared_month_to_date(quiet_outlet):
    rows = by_month(
        stats.year_on_year(quiet_outlet, 2031, datetime.date(2031, 12, 1), today=datetime.date(2031, 12, 2))
    )
    # 1 December against 1 December, not against the whole of December 2030 (7, i.e. −57 %).
    assert rows[12] == {"month": 12, "this": 3, "last": 2, "change": 50.0, "to_day": 1}


def test_today_is_not_a_complete_day(quiet_outlet):
    rows = by_month(
        stats.year_on_year(quiet_outlet, 2031, datetime.date(2031, 12, 1), today=datetime.date(2031, 12, 1))
    )
    assert rows[12] == {"month": 12, "this": None, "last": None, "change": None, "to_day": 0}


def test_whole_months_and_months_without_data(quiet_outlet):
    rows = by_month(
        stats.year_on_year(quiet_outlet, 2031, datetime.date(2031, 11, 30), today=datetime.date(2031, 12, 5))
    )
    assert rows[3] == {"month": 3, "this": 2, "last": 4, "change": -50.0, "to_day": None}
    # No rollup row in January 2030: no figure and no change, never "+∞" or a zero.
    assert rows[1]["this"] == 3 and rows[1]["last"] is None and rows[1]["change"] is None
    # A month with no data on either side stays empty rather than 0 against 0.
    assert rows[6]["this"] is None and rows[6]["last"] is None
    # December 2031 is still to come: last year's whole month stays as the line to meet.
    assert rows[12] == {"month": 12, "this": None, "last": 7, "change": None, "to_day": None}


def test_rollups_agree(quiet_outlet):
    assert MonthlyRollup.objects.get(station__code="CQ-SXGC", month=datetime.date(2030, 12, 1)).checkins == 7
    assert DailyRollup.objects.get(station__code="CQ-SXGC", day=datetime.date(2030, 12, 1)).checkins == 2


def test_page_fills_the_date_fields_and_says_month_to_date(client_for):
    html = client_for("cq_admin").get("/manage/visits/", {"end": "2026-11-15"}).content.decode()
    assert re.search(r'name="start" value="2026-10-17"', html)
    assert re.search(r'name="end" value="2026-11-15"', html)
    assert "2026-10-17 – 2026-11-15" in html
    assert "按月初至今比较：两年均取 1–15 日" in html
    empty = client_for("cq_admin").get("/manage/visits/").content.decode()
    assert re.search(r'name="start" value="\d{4}-\d{2}-\d{2}"', empty)
    assert re.search(r'name="end" value="\d{4}-\d{2}-\d{2}"', empty)


def test_axis_labels_use_wan_in_chinese_and_k_in_english(client_for):
    def compact(lang):
        client = client_for("cq_admin")
        client.cookies["django_language"] = lang
        html = client.get("/manage/visits/").content.decode()
        data = re.search(r'<script id="visits-chart-data" type="application/json">(.*?)</script>', html, re.S)
        return json.loads(data.group(1))["compact"]

    assert compact("zh-hans") == {"div": 10000, "suffix": "万"}
    assert compact("en") == {"div": 1000, "suffix": "k"}


def test_a_single_outlet_gets_one_ranking(client_for):
    html = client_for("sanxia_manager").get("/manage/visits/").content.decode()
    assert "驿站到访排名" in html
    assert "访问最多的驿站" not in html and "访问最少的开放驿站" not in html


def test_a_province_gets_both_lists(client_for):
    html = client_for("cq_admin").get("/manage/visits/", {"unit": "CQ"}).content.decode()
    assert "驿站到访排名" not in html
    assert "访问最多的驿站" in html and "访问最少的开放驿站" in html
