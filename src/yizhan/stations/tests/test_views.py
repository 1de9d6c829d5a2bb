"""Back-office write paths: each good input changes and audits, each bad input shows the field's
error and changes nothing."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yizhan.audit.models import AuditEvent
from yizhan.core.tests.pagecheck import problems
from yizhan.stations import jobs
from yizhan.stations.models import (
    HolidayDate,
    HolidayYear,
    RolloutWave,
    Standard,
    Station,
    StationFacility,
)


@pytest.fixture
def admin(client_for):
    client = client_for("cq_admin")
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def hq(client_for):
    client = client_for("hq_admin")
    client.cookies["django_language"] = "en"
    return client


def form_errors(response) -> str:
    return response.content.decode()


def test_register_station(admin):
    data = {"code": "WEB-1", "name": "网页驿站", "unit": "CQ-SXGC", "crs": "wgs84", "access_policy": "open",
            "themes": ["elderly"], "seats": "8", "external_ids": "amap=B0FF1"}  # fmt: skip
    response = admin.post("/manage/stations/new/", data)
    assert response.status_code == 302 and response["Location"] == "/manage/stations/WEB-1/"
    station = Station.objects.get(code="WEB-1")
    assert station.seats == 8 and station.external_ids == {"amap": "B0FF1"}
    assert AuditEvent.objects.filter(action="station.created", object_id=str(station.pk), via="web").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "CQ-SXGC"}, "already exists"),
        ({"unit": "SZ-FT-001"}, "No unit with this code"),
        ({"lat": "48.85", "lng": "2.35"}, "outside China"),
        ({"external_ids": "amap"}, "source=id"),
        ({"code": "new"}, "reserved"),
    ],
)
def test_register_bad_input(admin, changes, message):
    data = {
        "code": "WEB-1",
        "name": "网页驿站",
        "unit": "CQ-SXGC",
        "crs": "wgs84",
        "access_policy": "open",
        **changes,
    }
    response = admin.post("/manage/stations/new/", data)
    assert response.status_code == 200 and message in form_errors(response)
    assert not Station.objects.filter(name="网页驿站").exists()


def revision(code: str = "CQ-SXGC") -> int:
    return Station.objects.get(code=code).revision


def test_edit_station_and_code_stays(admin):
    station = Station.objects.get(code="CQ-SXGC")
    data = {"code": "HACKED", "name": "新名字", "unit": "CQ-SXGC", "crs": "wgs84", "access_policy": "ask_staff",
            "address": station.address, "lat": station.lat, "lng": station.lng,
            "revision": station.revision}  # fmt: skip
    response = admin.post("/manage/stations/CQ-SXGC/edit/", data)
    assert response.status_code == 302
    station.refresh_from_db()
    assert station.code == "CQ-SXGC" and station.name == "新名字" and station.access_policy == "ask_staff"
    bad = admin.post(
        "/manage/stations/CQ-SXGC/edit/", {**data, "sign_installed_on": "2999-01-01", "revision": revision()}
    )
    assert bad.status_code == 200 and "future" in form_errors(bad)


def test_facilities_form(admin):
    from yizhan.stations.models import Facility

    data = {}
    for f in Facility.objects.all():
        data[f"{f.code}__state"] = "unknown"
    data.update({"wifi__state": "yes", "wifi__out_of_order": "on", "wifi__out_of_order_since": "2026-01-02",
                 "wifi__note": "路由器坏了", "reading_glasses__state": "no", "revision": revision()})  # fmt: skip
    response = admin.post("/manage/stations/CQ-SXGC/facilities/", data)
    assert response.status_code == 302
    wifi = StationFacility.objects.get(station__code="CQ-SXGC", facility__code="wifi")
    assert wifi.out_of_order and wifi.note == "路由器坏了"
    bad = admin.post(
        "/manage/stations/CQ-SXGC/facilities/",
        {
            **data,
            "wifi__note": "改了",
            "seating__state": "no",
            "seating__out_of_order": "on",
            "revision": revision(),
        },  # fmt: skip
    )
    assert bad.status_code == 200 and "Only a facility the station has" in form_errors(bad)
    # One bad row, nothing saved: the good change on another row is not half-written either.
    assert StationFacility.objects.get(station__code="CQ-SXGC", facility__code="wifi").note == "路由器坏了"


def test_hours_form(admin):
    data = {"mon": "09:00-12:00, 14:00-17:30", "tue": "09:00-17:00", "statutory": "on",
            "exceptions": "2026-10-08 closed 设备检修\n2026-10-09 10:00-15:00 值班",
            "revision": revision()}  # fmt: skip
    response = admin.post("/manage/stations/CQ-SXGC/hours/", data)
    data["revision"] = revision()
    assert response.status_code == 302
    hours = Station.objects.get(code="CQ-SXGC").opening_hours
    assert hours["weekly"]["mon"] == [["09:00", "12:00"], ["14:00", "17:30"]] and hours["statutory"]
    assert hours["exceptions"][0] == {"date": "2026-10-08", "reason": "设备检修", "closed": True}
    bad = admin.post("/manage/stations/CQ-SXGC/hours/", {**data, "wed": "13:00-12:00"})
    assert bad.status_code == 200 and "ends before it starts" in form_errors(bad)
    overlap = admin.post("/manage/stations/CQ-SXGC/hours/", {**data, "exceptions": "2026-02-30 closed"})
    assert overlap.status_code == 200 and "valid date" in form_errors(overlap)
    assert Station.objects.get(code="CQ-SXGC").opening_hours == hours


def test_close_reopen_verify(admin):
    refused = admin.post("/manage/stations/CQ-SXGC/close/", {"public_notice": " ", "revision": revision()})
    assert refused.status_code == 200 and "This field is required" in form_errors(refused)
    assert Station.objects.get(code="CQ-SXGC").status == "active"
    response = admin.post(
        "/manage/stations/CQ-SXGC/close/",
        {"public_notice": "装修", "temporary": "on", "reopens_on": "2026-12-01", "revision": revision()},
    )
    assert response.status_code == 302
    assert Station.objects.get(code="CQ-SXGC").status == "temporarily_closed"
    admin.post("/manage/stations/CQ-SXGC/reopen/")
    assert Station.objects.get(code="CQ-SXGC").status == "active"
    admin.post("/manage/stations/CQ-SXGC/verify/")
    assert Station.objects.get(code="CQ-SXGC").verified_by.username == "cq_admin"


def test_detail_page_shows_state_and_compliance(admin):
    body = admin.get("/manage/stations/CQ-SXGC/").content.decode()
    assert "The 8 basic facilities" in body and "<svg" in body and "Opening hours" in body


def test_bulk_facility_with_bad_input(admin):
    response = admin.post(
        "/manage/stations/bulk-facility/", {"stations": ["CQ-SXGC"], "facility": "wifi", "state": "maybe"}
    )
    assert response.status_code == 302
    assert StationFacility.objects.get(station__code="CQ-SXGC", facility__code="wifi").state != "maybe"
    response = admin.post("/manage/stations/bulk-facility/", {"facility": "wifi", "state": "no"})
    assert response.status_code == 302  # nothing selected: a message, no change


def test_import_page_dry_run_then_commit(admin):
    data = "驿站编码,驿站名称,网点编码\nWEB-IMP,网页导入,CQ-SXGC\n".encode()
    response = admin.post(
        "/manage/stations/import/", {"file": SimpleUploadedFile("s.csv", data), "dry_run": "on"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Dry run: the file is good" in body
    assert not Station.objects.filter(code="WEB-IMP").exists()
    token = body.split('name="token" value="')[1].split('"')[0]
    response = admin.post("/manage/stations/import/", {"token": token})
    assert response.status_code == 200 and Station.objects.filter(code="WEB-IMP").exists()
    bad = "驿站编码,驿站名称,网点编码\nWEB-IMP2,,NOPE\n".encode()
    response = admin.post("/manage/stations/import/", {"file": SimpleUploadedFile("s.csv", bad)})
    body = response.content.decode()
    assert "nothing was written" in body and "网点编码" in body and "驿站名称" in body


def test_someone_elses_upload_cannot_be_committed(admin, client_for, users):
    token = jobs.save_upload(
        users["hq_admin"], "s.csv", "驿站编码,驿站名称,网点编码\nX-1,x,CQ-SXGC\n".encode()
    )
    response = admin.post("/manage/stations/import/", {"token": token})
    assert response.status_code == 302 and not Station.objects.filter(code="X-1").exists()


def test_long_import_runs_as_a_job_with_progress(
    admin, monkeypatch, client_for, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    from yizhan.jobs import services as job_services
    from yizhan.jobs.models import Job

    monkeypatch.setattr(jobs, "SYNC_LIMIT_BYTES", 10)
    data = "驿站编码,驿站名称,网点编码\nJOB-1,任务导入,CQ-SXGC\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/manage/stations/import/", {"file": SimpleUploadedFile("s.csv", data), "dry_run": ""}
        )
    assert response.status_code == 302
    job = Job.objects.get(kind="station_import")
    assert OrmQ.objects.filter(key="yizhan").count() == 1  # handed to the queue once committed
    job_url = response["Location"]
    waiting = admin.get(job_url).content.decode()
    assert "<progress" in waiting and f"/manage/jobs/{job.pk}/progress" in waiting
    assert not Station.objects.filter(code="JOB-1").exists()
    job_services.run(job.pk)  # what the worker runs
    done = admin.get(job_url).content.decode()
    assert "Imported" in done and Station.objects.filter(code="JOB-1").exists()
    fragment = admin.get(f"/manage/jobs/{job.pk}/progress")
    assert fragment["HX-Refresh"] == "true"
    assert client_for("sanxia_manager").get(job_url).status_code == 404  # the job is above their outlet


def test_holiday_editing_and_next_year_import(hq):
    response = hq.post(
        "/manage/stations/holidays/2026/", {"date": "2026-06-01", "kind": "off", "name": "儿童节"}
    )
    assert (
        response.status_code == 302 and HolidayDate.objects.get(date=datetime.date(2026, 6, 1)).kind == "off"
    )
    bad = hq.post("/manage/stations/holidays/2026/", {"date": "2026-06-02", "kind": "work", "name": ""})
    assert "Saturday or Sunday" in bad.content.decode()
    hq.post("/manage/stations/holidays/2026/", {"remove": "2026-06-01"})
    assert not HolidayDate.objects.filter(date=datetime.date(2026, 6, 1)).exists()
    assert "2027" in hq.get("/manage/stations/holidays/").content.decode()  # the warning names it

    arrangement = "日期,类型,名称\n2027-01-01,休,元旦\n2027-02-06,休,春节\n2027-02-07,班,春节\n"
    response = import_holidays(hq, "2027.csv", arrangement.encode("gbk"))
    assert (
        "The 2027 arrangement is in the calendar (holidays: 2, make-up workdays: 1)."
        in response.content.decode()
    )
    assert HolidayYear.objects.get(year=2027).source == "import"
    assert HolidayDate.objects.filter(date__year=2027).count() == 3

    broken = "日期,类型,名称\n2027-01-01,休,元旦\n2028-01-01,休,元旦\n2027-03-03,班,周三\n"
    page = import_holidays(hq, "b.csv", broken.encode()).content.decode()
    assert "row 3: date" in page and "row 4: kind" in page  # the failed job's reason names the rows
    assert HolidayDate.objects.filter(date__year=2027).count() == 3  # all-or-nothing: unchanged
    # The holiday import reads through the shared reader: a hostile file is one clear message.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<x>" + b"a" * (20 * 2**20) + b"</x>")
    for name, data, fragment in [
        ("2027.xlsx", bomb.getvalue(), "compressed more than 100 to 1"),
        ("2027.txt", arrangement.encode(), ".xlsx or .csv"),
    ]:
        assert fragment in import_holidays(hq, name, data).content.decode()
    assert HolidayDate.objects.filter(date__year=2027).count() == 3
    # A year chinesecalendar does not cover, asked of the package: the job fails saying so.
    page = import_holidays(hq, None, None, year="2099").content.decode()
    assert "does not cover 2099" in page and not HolidayYear.objects.filter(year=2099).exists()


def import_holidays(client, name, data, year="2027"):
    """Post the import form, run the job as a worker would, and open the job's page."""
    from yizhan.jobs import services as job_services
    from yizhan.jobs.models import Job

    fields = {"year": year}
    if name is not None:
        fields["file"] = SimpleUploadedFile(name, data)
    response = client.post("/manage/stations/holidays/import/", fields)
    assert response.status_code == 302
    job = Job.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    waiting = client.get(response["Location"]).content.decode()
    assert "<progress" in waiting and job.kind == "holiday_import"
    job_services.run(job.pk)
    page = client.get(response["Location"])
    assert page.status_code == 200 and not problems(page.content.decode(), lang="en")
    return page


def test_new_standard_version(hq):
    from yizhan.stations.catalogue import BASIC_EIGHT

    data = {"code": "basic8", "version": "2026", "name": "基础八项 2026", "facilities": [*BASIC_EIGHT, "first_aid_kit"],
            "is_active": "on"}  # fmt: skip
    assert hq.post("/manage/stations/standards/new/", data).status_code == 302
    assert Standard.objects.current().get(code="basic8").version == "2026"
    again = hq.post("/manage/stations/standards/new/", data)
    assert "already has this version" in again.content.decode()


def test_wave_create(admin):
    standard = Standard.objects.current().get(code="basic8")
    data = {"name": "渝中试点", "unit": "CQ-YZ", "standard": standard.pk, "target_date": "2027-06-30",
            "outlets": "CQ-YZ-001 CQ-YZ-002"}  # fmt: skip
    response = admin.post("/manage/stations/waves/new/", data)
    assert response.status_code == 302
    wave = RolloutWave.objects.get(name="渝中试点")
    assert sorted(wave.outlets.values_list("code", flat=True)) == ["CQ-YZ-001", "CQ-YZ-002"]
    bad = admin.post("/manage/stations/waves/new/", {**data, "name": "越权", "unit": "SZ"})
    assert "No unit with this code" in bad.content.decode()
    assert not RolloutWave.objects.filter(name="越权").exists()
