"""Mobile stations' verbs on the demo network: schedules refused naming the field, visits
generated ahead idempotently, a visit cancelled with a notice (and gone from the locator), what
visits did counted by site, and a home-service case scheduled as a visit."""

import datetime
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.mobile import services
from yizhan.mobile.models import Visit, VisitPlace, VisitSchedule, VisitStatus
from yizhan.stations.models import Station

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def van(db):
    return Station.objects.get(code="SZ-YD-BA")


@pytest.fixture
def admin(users):
    return users["hq_admin"]


@pytest.fixture
def place(van, admin):
    return services.create_place(
        actor=admin,
        unit=van.unit,
        name="福永物流园",
        kind="logistics_park",
        address="深圳市宝安区福永街道",
        lat=22.67,
        lng=113.82,
    )


def good(place, **changes):
    return {
        "place": place,
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "start_time": "10:00",
        "end_time": "15:00",
        "valid_from": "2026-12-01",
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),  # never occurs
        ({"rrule": "FREQ=WEEKLY;BYDAY=MO", "valid_to": "2026-12-05", "valid_from": "2026-12-01"}, "rrule"),
        ({"rrule": "not a rule"}, "rrule"),
        ({"rrule": "FREQ=SECONDLY"}, "rrule"),
        ({"end_time": "09:00"}, "end_time"),  # ends before it starts
        ({"end_time": "10:00"}, "end_time"),
        ({"start_time": "25:00"}, "start_time"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_to": "2026-11-01"}, "valid_to"),
        ({"on_holiday": "pray"}, "on_holiday"),
        ({"place": None}, "place"),
        (
            {"rrule": "FREQ=WEEKLY;BYDAY=TU", "start_time": "15:00", "end_time": "17:00"},
            "start_time",
        ),  # overlap
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field_and_nothing_is_written(van, admin, place, changes, field):
    schedules, visits = VisitSchedule.objects.count(), Visit.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.save_schedule(van, actor=admin, **{**good(place), **changes})
    assert field in caught.value.message_dict
    assert (VisitSchedule.objects.count(), Visit.objects.count()) == (schedules, visits)


def test_the_overlap_names_the_day_and_the_other_place(van, admin, place):
    with pytest.raises(ValidationError) as caught:
        services.save_schedule(
            van,
            actor=admin,
            **good(place, rrule="FREQ=WEEKLY;BYDAY=TU", start_time="15:30", end_time="18:00"),
        )
    assert "宝安中心区建筑工地" in caught.value.message_dict["start_time"][0]
    # The same hours on another van are fine.
    other = Station.objects.get(code="SZ-YD-LG")
    place_lg = VisitPlace.objects.get(name="平湖物流园")
    services.save_schedule(
        other,
        actor=admin,
        **good(place_lg, rrule="FREQ=WEEKLY;BYDAY=TU", start_time="15:30", end_time="18:00"),
    )


@pytest.mark.parametrize(
    ("lat", "lng", "field"),
    [
        (48.85, 2.35, "lng"),
        (22.6, 200, "lng"),
        ("abc", 114, "lat"),
        (-33.9, 151.2, "lat"),
        (51.5, -0.12, "lng"),
    ],
)
def test_a_place_outside_china_is_refused(van, admin, lat, lng, field):
    before = VisitPlace.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.create_place(actor=admin, unit=van.unit, name="巴黎", address="Paris", lat=lat, lng=lng)
    assert field in caught.value.message_dict
    assert VisitPlace.objects.count() == before


def test_only_a_mobile_station_has_a_schedule_and_it_hangs_on_a_sub_branch(admin, place, unit):
    fixed = Station.objects.filter(kind="fixed").first()
    with pytest.raises(ValidationError) as caught:
        services.save_schedule(fixed, actor=admin, **good(place))
    assert "station" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.register_mobile_station(
            actor=admin, unit=unit("SZ"), code="SZ-YD-X", name="x", address="x", lat=22.5, lng=114
        )
    assert caught.value.message_dict["unit"]


def test_generation_ahead_is_idempotent_and_keeps_cancellations(van, admin, place):
    schedule = services.save_schedule(van, actor=admin, **good(place))
    today = timezone.now().astimezone(SHANGHAI).date()
    own = Visit.objects.filter(schedule=schedule)
    first = own.count()
    assert 8 <= first <= 10  # weekly Mondays over 60 days
    assert all(v.starts_at.astimezone(SHANGHAI).date() <= today + datetime.timedelta(days=60) for v in own)
    visit = own.filter(starts_at__gt=timezone.now()).first()
    services.cancel_visit(visit, actor=admin, notice="车辆年检，暂停一次")
    assert services.generate_visits() == 0
    assert services.generate_visits() == 0
    assert own.count() == first
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    # A day later the horizon moves one day on: at most one new Monday, and again nothing twice.
    later = services.generate_visits(today + datetime.timedelta(days=7), schedules=[schedule])
    assert later == 1
    assert services.generate_visits(today + datetime.timedelta(days=7), schedules=[schedule]) == 0


def test_a_cancelled_visit_tells_the_staff_and_leaves_the_locator(van, admin, client):
    from yizhan.locator import loading
    from yizhan.notify.models import Message

    visit = Visit.objects.filter(station=van, starts_at__gt=timezone.now(), status="planned").first()
    with pytest.raises(ValidationError) as caught:
        services.cancel_visit(visit, actor=admin, notice="  ")
    assert "notice" in caught.value.message_dict
    during = visit.starts_at + datetime.timedelta(hours=1)
    place = visit.place
    url = f"/api/v1/stations/nearby?lat={place.lat}&lng={place.lng}&limit=3&at={during.isoformat().replace('+', '%2B')}"
    loading.forget()
    assert client.get(url).json()["results"][0]["code"] == "SZ-YD-BA"
    services.cancel_visit(visit, actor=admin, notice="车辆年检，暂停一次")
    assert Message.objects.filter(template__key="mobile-visit-cancelled").exists()
    codes = [r["code"] for r in client.get(url).json()["results"]]
    assert (
        "SZ-YD-BA" not in codes
        or client.get(url).json()["results"][0]["visit"]["starts_at"] != visit.starts_at.isoformat()
    )
    page = client.get("/s/SZ-YD-BA").content.decode()
    assert "车辆年检，暂停一次" in page
    with pytest.raises(ValidationError):
        services.cancel_visit(visit, actor=admin, notice="again")


def test_the_station_page_lists_the_next_visits_with_the_moved_one_named(client):
    page = client.get("/s/SZ-YD-LG?at=2026-10-05T12:00").content.decode()
    assert "平湖物流园" in page
    assert "10-08 09:30–15:30" in page  # Wednesday 7 October (National Day) moved to the 8th


def test_visits_record_their_work_and_the_figures_count_by_site(van, admin):
    from yizhan.visits.services import record_checkin

    past = Visit.objects.filter(station=van, ends_at__lte=timezone.now()).order_by("-starts_at").first()
    with pytest.raises(ValidationError) as caught:
        services.record_services(past, actor=admin, counts={"card_issued": -1})
    assert "services" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.record_services(past, actor=admin, counts={"teleportation": 1})
    services.record_services(
        past, actor=admin, counts={"card_issued": 3, "anti_fraud_talk": 12}, staff=[admin]
    )
    record_checkin(van, group="construction_worker", now=past.starts_at + datetime.timedelta(minutes=5))
    record_checkin(
        van, group="courier", now=past.ends_at + datetime.timedelta(minutes=5)
    )  # after: not counted
    month = past.starts_at.astimezone(SHANGHAI).strftime("%Y-%m")
    rows = services.site_figures(Visit.objects.filter(station=van))
    row = next(r for r in rows if r["place"] == past.place and r["month"] == month)
    assert row["services"]["card_issued"] >= 3 and row["services"]["anti_fraud_talk"] >= 12
    assert row["groups"].get("construction_worker", 0) >= 1
    before = row["checkins"]
    record_checkin(van, group="construction_worker", now=past.starts_at + datetime.timedelta(minutes=9))
    row = next(
        r
        for r in services.site_figures(Visit.objects.filter(station=van))
        if r["place"] == past.place and r["month"] == month
    )
    assert row["checkins"] == before + 1
    future = Visit.objects.filter(station=van, starts_at__gt=timezone.now()).first()
    with pytest.raises(ValidationError):
        services.record_services(future, actor=admin, counts={"card_issued": 1})


def test_a_home_service_case_is_scheduled_as_a_visit_of_a_mobile_station(van, admin, unit):
    from yizhan.cases import services as cases

    case = cases.open_case(
        actor=admin,
        unit=unit("SZ-FM"),
        case_type="home_service",
        title="福利院上门换卡",
        person_name="小李",
        need="补办银行卡",
    )
    place = VisitPlace.objects.get(name="西乡外卖骑手服务站")
    monday = timezone.now().astimezone(SHANGHAI).date()
    monday += datetime.timedelta(days=(7 - monday.weekday()) % 7 or 7)
    start = datetime.datetime.combine(monday, datetime.time(9), SHANGHAI)
    with pytest.raises(ValidationError) as caught:
        services.schedule_case_visit(
            case,
            actor=admin,
            station=van,
            place=place,
            starts_at=start,
            ends_at=start - datetime.timedelta(hours=1),
        )
    assert "ends_at" in caught.value.message_dict
    visit = services.schedule_case_visit(
        case,
        actor=admin,
        station=van,
        place=place,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    assert visit.case == case and visit.schedule is None
    with pytest.raises(ValidationError) as caught:  # the van is taken then
        services.schedule_case_visit(
            case,
            actor=admin,
            station=van,
            place=place,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
        )
    assert "starts_at" in caught.value.message_dict
    fraud = cases.open_case(
        actor=admin, unit=unit("SZ-FM"), case_type="fraud", title="x", person_name="王", need="x"
    )
    with pytest.raises(ValidationError) as caught:
        services.schedule_case_visit(
            fraud,
            actor=admin,
            station=van,
            place=place,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
        )
    assert "case" in caught.value.message_dict


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_van_s_page_and_the_list_read_well(client, lang):
    from yizhan.core.tests.pagecheck import problems

    client.cookies["django_language"] = lang
    for url in (
        "/s/SZ-YD-LG?at=2026-10-05T12:00",
        "/s/SZ-YD-BA",
        "/?lat=22.6930&lng=114.1230&at=2026-12-09T10:00&when=at",
    ):
        response = client.get(url)
        assert response.status_code == 200
        # The search box's example (pinyin initials) is the list page's own, not the van's.
        assert problems(response.content.decode(), lang=lang, allow=("sxgc", "e.g")) == [], url
