"""Station verbs: validation naming the field, one transaction, audit diffs, the data version."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from yizhan.audit.models import AuditEvent
from yizhan.orgs.scoping import scope_for
from yizhan.stations import hours, services
from yizhan.stations.models import (
    Facility,
    HolidayDate,
    HolidayYear,
    Station,
    StationFacility,
    StationStatus,
    Theme,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value.message_dict


def new_station(users, get_unit, **extra):
    data = {"code": "T-NEW-1", "name": "测试驿站", "unit": get_unit("CQ-SXGC"), **extra}
    return services.register_station(actor=users["cq_admin"], **data)


def test_catalogue_and_calendar_are_seeded(db):
    assert Facility.objects.filter(group="basic").count() == 8
    assert set(Theme.objects.values_list("code", flat=True)) >= {"little_bee", "new_citizen", "elderly"}
    years = set(HolidayYear.objects.values_list("year", flat=True))
    assert {2004, 2025, 2026} <= years and 2027 not in years
    assert HolidayDate.objects.get(date=datetime.date(2026, 10, 10)).kind == "work"


def test_demo_gives_every_outlet_a_station(db, unit):
    from yizhan.orgs.models import Unit

    outlets = Unit.objects.outlets().count()
    assert Station.objects.filter(kind="fixed").count() == outlets  # and the mobile ones of sub-branches
    assert (
        Station.objects.filter(
            themes__code="little_bee", sign_installed_on=datetime.date(2023, 5, 18)
        ).count()
        == 8
    )
    assert Station.objects.get(code="CQ-SXGC").unit == unit("CQ-SXGC")


def test_register_defaults_address_and_position_from_the_outlet(users, unit):
    before = services.data_version()
    station = new_station(users, unit, themes="little_bee, elderly", external_ids="amap=B0FFG1")
    outlet = unit("CQ-SXGC")
    assert (station.address, station.lat, station.lng) == (outlet.address, outlet.lat, outlet.lng)
    assert sorted(station.themes.values_list("code", flat=True)) == ["elderly", "little_bee"]
    assert station.external_ids == {"amap": "B0FFG1"}
    assert services.data_version() != before
    event = AuditEvent.objects.get(action="station.created", object_id=str(station.pk))
    assert event.changes["code"] == [None, "T-NEW-1"]
    assert event.changes["themes"] == [None, ["elderly", "little_bee"]]
    assert event.actor.username == "cq_admin"


def test_register_converts_gcj02_to_wgs84(users, unit):
    from yizhan.core.geo import from_wgs84

    lat, lng = from_wgs84(29.5570, 106.4569, "gcj02")
    station = new_station(users, unit, lat=lat, lng=lng, crs="gcj02")
    assert station.lat == pytest.approx(29.5570, abs=1e-6)
    assert station.lng == pytest.approx(106.4569, abs=1e-6)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"code": "CQ-SXGC"}, "code"),
        ({"code": "bad code!"}, "code"),
        ({"name": ""}, "name"),
        ({"lat": 48.85, "lng": 2.35}, "lng"),
        ({"lat": 106.5, "lng": 29.5}, "lat"),
        ({"lat": 30, "lng": 200}, "lng"),
        ({"crs": "mars"}, "crs"),
        ({"sign_installed_on": "2026-02-30"}, "sign_installed_on"),
        ({"sign_installed_on": "2999-01-01"}, "sign_installed_on"),
        ({"themes": "little_bee, unicorns"}, "themes"),
        ({"seats": "-3"}, "seats"),
        ({"status": "gone"}, "status"),
        ({"access_policy": "vip"}, "access_policy"),
        ({"phone": "call me"}, "phone"),
        ({"external_ids": "amap"}, "external_ids"),
        ({"opening_hours": {"weekly": {"mon": [["13:00", "12:00"]]}}}, "opening_hours.mon"),
        ({"reopens_on": "2026-10-08"}, "reopens_on"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(users, unit, extra, field):
    count, events, version = Station.objects.count(), AuditEvent.objects.count(), services.data_version()
    errors = errors_of(new_station, users, unit, **extra)
    assert field in errors, errors
    assert (Station.objects.count(), AuditEvent.objects.count()) == (count, events)
    assert services.data_version() == version


def test_a_station_belongs_to_an_outlet_in_scope(users, unit):
    errors = errors_of(new_station, users, unit, unit=unit("CQ-YZ"))
    assert "outlet" in errors["unit"][0]
    scope = scope_for(users["cq_admin"])
    errors = errors_of(
        services.register_station, actor=users["cq_admin"], unit="SZ-FT-001", scope=scope, code="X1", name="x"
    )
    assert (
        errors["unit"]
        == errors_of(
            services.register_station, actor=users["cq_admin"], unit="NOPE", scope=scope, code="X1", name="x"
        )["unit"]
    )


def test_update_diffs_only_what_changed_and_code_is_stable(users, unit):
    station = Station.objects.get(code="CQ-SXGC")
    services.update_station(station, actor=users["sanxia_manager"], seats=20, name="三峡广场驿站")
    event = AuditEvent.objects.filter(action="station.updated", object_id=str(station.pk)).latest("pk")
    assert set(event.changes) <= {"seats", "name", "revision"} and event.changes["seats"][1] == 20
    assert "code" in errors_of(services.update_station, station, actor=None, code="CQ-OTHER")
    version = services.data_version()
    services.update_station(station, actor=None, seats=20)  # nothing changed: no event, no bump
    assert services.data_version() == version


def test_facility_states(users):
    station = Station.objects.get(code="CQ-SXGC")
    row = services.set_facility_state(
        station,
        "phone_charging",
        actor=users["sanxia_manager"],
        state="yes",
        out_of_order=True,
        out_of_order_since="2026-01-05",
        note="接口损坏",
    )
    assert not row.usable and row.out_of_order_since == datetime.date(2026, 1, 5)
    event = AuditEvent.objects.filter(action="station.facility_set").latest("pk")
    assert event.changes["phone_charging.out_of_order"] == [False, True]
    assert "facility" in errors_of(services.set_facility_state, station, "jacuzzi", actor=None, state="yes")
    assert "state" in errors_of(services.set_facility_state, station, "wifi", actor=None, state="maybe")
    assert "out_of_order" in errors_of(
        services.set_facility_state, station, "wifi", actor=None, state="no", out_of_order=True
    )
    assert "out_of_order_since" in errors_of(
        services.set_facility_state,
        station,
        "wifi",
        actor=None,
        state="yes",
        out_of_order=True,
        out_of_order_since="31/12/2025",
    )
    assert StationFacility.objects.get(station=station, facility__code="wifi").state != "maybe"


def test_close_reopen_and_verify(users):
    station = Station.objects.get(code="CQ-JXDL")
    assert "public_notice" in errors_of(services.close_station, station, actor=None, notice=" ")
    services.close_station(
        station, actor=users["cq_admin"], notice="装修暂停", temporary=True, reopens_on="2026-10-08"
    )
    station.refresh_from_db()
    assert station.status == StationStatus.TEMPORARILY_CLOSED and station.reopens_on == datetime.date(
        2026, 10, 8
    )
    assert not hours.open_at(station.schedule(), datetime.datetime(2026, 9, 28, 10, tzinfo=hours.SHANGHAI))
    services.reopen_station(station, actor=users["cq_admin"])
    station.refresh_from_db()
    assert station.status == StationStatus.ACTIVE and station.reopens_on is None

    services.verify_station(station, actor=users["cq_admin"])
    station.refresh_from_db()
    assert station.verified_by == users["cq_admin"] and station.verification_source == "staff"
    services.verify_station(station, actor=None)
    station.refresh_from_db()
    assert station.verified_by is None and station.verification_source == "public"


def test_set_schedule_and_database_calendar(users):
    station = Station.objects.get(code="CQ-SXGC")
    services.set_schedule(
        station,
        {"weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}, "statutory": True},
        actor=users["sanxia_manager"],
    )
    station.refresh_from_db()
    national_day = datetime.datetime(2026, 10, 1, 10, tzinfo=hours.SHANGHAI)
    assert not hours.open_at(station.schedule(), national_day)
    # An admin edit to the calendar moves its version, and the next read sees it.
    HolidayDate.objects.filter(date=datetime.date(2026, 10, 1)).delete()
    services.bump("calendar", "stations")
    assert hours.open_at(station.schedule(), national_day)
    assert hours.is_workday(datetime.date(2026, 10, 10))
    assert hours.add_working_days(datetime.date(2026, 9, 30), 1) == datetime.date(2026, 10, 1)


def test_version_never_repeats_after_a_rollback(db):
    from django.db import transaction

    before = services.data_version()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.bump()
        rolled_back = services.data_version()
        raise RuntimeError
    assert services.data_version() == before
    services.bump()
    assert services.data_version() not in (before, rolled_back)


def test_seeding_is_idempotent_and_keeps_admin_edits(db):
    from yizhan.stations.models import Facility
    from yizhan.stations.seeding import seed_all

    services.set_holiday(actor=None, date="2026-06-01", kind="off", name="儿童节")
    counts = (Facility.objects.count(), HolidayDate.objects.count(), HolidayYear.objects.count())
    seed_all()
    seed_all()
    assert (Facility.objects.count(), HolidayDate.objects.count(), HolidayYear.objects.count()) == counts
    assert HolidayDate.objects.filter(date=datetime.date(2026, 6, 1)).exists()


def test_holiday_services_validate_and_audit(users):
    hq = users["hq_admin"]
    assert "kind" in errors_of(services.set_holiday, actor=hq, date="2026-06-03", kind="work")  # a Wednesday
    assert "kind" in errors_of(services.set_holiday, actor=hq, date="2026-06-06", kind="maybe")
    assert "date" in errors_of(services.set_holiday, actor=hq, date="2026-02-30", kind="off")
    version = services.data_version()
    services.set_holiday(actor=hq, date="2026-06-06", kind="班", name="调休")
    assert HolidayDate.objects.get(date=datetime.date(2026, 6, 6)).kind == "work"
    assert services.data_version() != version
    assert AuditEvent.objects.filter(action="holiday.set", actor=hq).exists()
    rows = [(2, {"date": "2027-01-01", "kind": "休", "name": "元旦"}), (3, {"date": "2027-02-30", "kind": "休"}),
            (4, {"date": "2028-01-01", "kind": "休"})]  # fmt: skip
    errors = errors_of(services.import_holiday_year, 2027, rows, actor=hq)
    assert set(errors) == {"row 3: date", "row 4: date"}
    assert not HolidayYear.objects.filter(year=2027).exists()
    services.import_holiday_year(2027, rows[:1], actor=hq)
    assert hours.missing_calendar_years(datetime.date(2027, 3, 1)) == []
    assert "year" in errors_of(services.import_holiday_year_from_package, 2031, actor=hq)


def test_set_facility_states_is_all_or_nothing(users):
    station = Station.objects.get(code="CQ-SXGC")
    items = [("wifi", {"state": "no"}), ("seating", {"state": "no", "out_of_order": True})]
    assert "seating__out_of_order" in errors_of(services.set_facility_states, station, items, actor=None)
    assert StationFacility.objects.get(station=station, facility__code="wifi").state != "no"
    assert services.set_facility_states(station, items[:1], actor=None) == 1
