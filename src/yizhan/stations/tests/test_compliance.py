"""Compliance with the standards, coverage reports with drill-down, roll-out waves, xlsx export."""

import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from yizhan.orgs.models import Unit
from yizhan.stations import compliance, reports, services
from yizhan.stations.catalogue import BASIC_EIGHT
from yizhan.stations.models import RolloutWave, Standard, Station, StationFacility


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def set_all(station, codes, state="yes"):
    for code in codes:
        services.set_facility_state(station, code, actor=None, state=state)


def result_for(station, code):
    return next(r for r in compliance.station_compliance(station) if r.standard.code == code)


@pytest.fixture
def station(db, unit):
    """A fresh station with nothing recorded: every facility unknown."""
    return services.register_station(actor=None, unit=unit("CQ-SXGC"), code="T-COMP", name="合规测试驿站")


def test_nothing_recorded_lacks_all_eight(station):
    basic = result_for(station, "basic8")
    assert basic.applies and not basic.met
    assert [f.code for f in basic.lacking] == BASIC_EIGHT


def test_meets_the_basic_eight_when_all_are_there_and_working(station):
    set_all(station, BASIC_EIGHT)
    assert result_for(station, "basic8").met
    services.set_facility_state(station, "phone_charging", actor=None, state="yes", out_of_order=True)
    basic = result_for(station, "basic8")
    assert not basic.met and not basic.lacking
    assert [f.code for f in basic.out_of_order] == ["phone_charging"]
    services.set_facility_state(station, "reading_glasses", actor=None, state="no")
    assert [f.code for f in result_for(station, "basic8").lacking] == ["reading_glasses"]


def test_themed_standard_applies_only_to_its_theme(station):
    set_all(station, BASIC_EIGHT)
    assert not result_for(station, "little_bee").applies
    services.update_station(station, actor=None, themes=["little_bee"])
    bee = result_for(station, "little_bee")
    assert bee.applies and sorted(f.code for f in bee.lacking) == ["sun_hats", "sun_sleeves", "waist_bags"]
    set_all(station, ["sun_sleeves", "sun_hats", "waist_bags"])
    assert result_for(station, "little_bee").met


def test_newest_version_in_force_applies(station):
    set_all(station, BASIC_EIGHT)
    services.save_standard(
        actor=None,
        code="basic8",
        version="2026",
        name="基础八项 2026",
        facilities=[*BASIC_EIGHT, "first_aid_kit"],
    )
    basic = result_for(station, "basic8")
    assert basic.standard.version == "2026" and [f.code for f in basic.lacking] == ["first_aid_kit"]
    newest = Standard.objects.get(code="basic8", version="2026")
    services.save_standard(actor=None, instance=newest, is_active=False)
    assert result_for(station, "basic8").met  # back to the 2020 version


def test_closed_stations_are_out_of_the_reckoning(station, unit):
    report = reports.coverage_report(unit("CQ-SXGC"))
    before = report.totals.per_standard
    services.close_station(station, actor=None, notice="撤并")
    after = reports.coverage_report(unit("CQ-SXGC")).totals
    rule = next(r for r in report.rules if r.code == "basic8")
    assert after.per_standard[rule.id][0] == before[rule.id][0] - 1


def test_coverage_report_rolls_up_and_drills_down(db, unit):
    cq = unit("CQ")
    report = reports.coverage_report(cq)
    outlets = Unit.objects.subtree(cq).outlets().count()
    assert report.totals.outlets == outlets
    assert report.totals.outlets_with_station == outlets  # the demo gives every outlet a station
    assert sum(row.outlets for row in report.rows) == outlets
    rule = next(r for r in report.rules if r.code == "basic8")
    applicable, met = report.totals.per_standard[rule.id]
    assert applicable == Station.objects.subtree(cq).exclude(status="closed").count()
    # The demo has realistic gaps: neither nothing nor everything meets the basic eight.
    assert 0 < met < applicable
    assert sum(row.per_standard[rule.id][1] for row in report.rows if rule.id in row.per_standard) == met
    # Ranked: the most often missing facility first.
    counts = [n for _f, n in report.missing]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0
    # Drill down to one sub-branch, then one outlet.
    child = report.rows[0]
    down = reports.coverage_report(child.unit)
    assert down.totals.outlets == child.outlets and down.totals.per_standard == child.per_standard
    outlet = reports.coverage_report(unit("CQ-SXGC"), with_stations=True)
    assert [s.facts.code for s in outlet.stations] == ["CQ-SXGC"]


def test_missing_facility_counts_match_the_data(db, unit):
    sd = unit("SD")
    report = reports.coverage_report(sd)
    glasses = {f.code: n for f, n in report.missing}.get("reading_glasses", 0)
    stations = Station.objects.subtree(sd).exclude(status="closed")
    has = StationFacility.objects.filter(
        station__in=stations, facility__code="reading_glasses", state="yes", out_of_order=False
    ).count()
    assert glasses == stations.count() - has


def test_wave_progress(db, unit):
    pilot = RolloutWave.objects.get(name__startswith="小蜜蜂驿站试点")
    progress = reports.wave_progress(pilot)
    assert progress.total == 8 and progress.done == 8 and progress.pct == 100.0
    assert len({row[0].code for row in progress.rows}) == 6  # six city branches
    roll_out = reports.wave_progress(RolloutWave.objects.get(name="小蜜蜂驿站全省推广"))
    assert roll_out.total == Unit.objects.subtree(unit("SD")).outlets().count()
    assert 8 <= roll_out.done < roll_out.total
    # Breaking a pilot's charger takes it out of "done".
    station = Station.objects.get(code=sorted(o.code for o in pilot.outlets.all())[0])
    services.set_facility_state(station, "phone_charging", actor=None, state="yes", out_of_order=True)
    assert reports.wave_progress(pilot).done == 7


def test_wave_validation(db, unit):
    from django.core.exceptions import ValidationError

    standard = Standard.objects.current().get(code="basic8")
    with pytest.raises(ValidationError) as info:
        services.save_wave(
            actor=None,
            unit=unit("CQ"),
            name="跨省",
            standard=standard,
            target_date="2026-13-01",
            outlets="CQ-SXGC SZ-FT-001 NOPE",
        )
    errors = info.value.message_dict
    assert "target_date" in errors and "SZ-FT-001" in errors["outlets"][0] and "NOPE" in errors["outlets"][0]


def test_report_workbook(db, unit):
    report = reports.coverage_report(unit("SD"), with_stations=True)
    waves = [reports.wave_progress(w) for w in RolloutWave.objects.filter(unit=unit("SD"))]
    book = load_workbook(io.BytesIO(reports.report_workbook(report, waves)), read_only=True)
    assert book.sheetnames == ["Summary", "Missing facilities", "Stations", "Roll-out waves"]
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[1][0] == "SD" and summary[1][2] == report.totals.outlets
    assert len(summary) == 1 + 1 + len(report.rows)
    stations = list(book["Stations"].iter_rows(values_only=True))
    assert len(stations) == 1 + report.totals.stations
    waves_sheet = list(book["Roll-out waves"].iter_rows(values_only=True))
    assert {row[0] for row in waves_sheet[1:]} == {w.wave.display_name for w in waves}
    assert {str(row[2])[:10] for row in waves_sheet[1:]} == {w.wave.target_date.isoformat() for w in waves}
