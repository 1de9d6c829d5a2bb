"""The roster and the daily health report: denominator, rollups, visibility, reminders, bad input."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from yizhan.core.tests.pagecheck import problems
from yizhan.notify.models import Message
from yizhan.operations import health
from yizhan.operations import services as status_services
from yizhan.operations.models import HealthDay, HealthReport, Leave, RosterEntry
from yizhan.orgs.services import create_api_token, create_staff
from yizhan.stations import services as station_services

WORKDAY = datetime.date(2026, 10, 9)  # a Friday
HOLIDAY = datetime.date(2026, 10, 1)  # National Day
MAKEUP = datetime.date(2026, 10, 10)  # a Saturday worked in exchange (调休)
SUNDAY = datetime.date(2026, 10, 11)
LONG_AGO = datetime.date(2026, 1, 1)


@pytest.fixture
def team(db, unit, users):
    """三峡广场's roster: Zhang (login), Wang (no login), Li (on leave 9–10 October); the desk of
    Chongqing (a viewer with the desk flag); 建新东路 with one person, for a closed outlet."""
    cq, sxgc, jxdl = unit("CQ"), unit("CQ-SXGC"), unit("CQ-JXDL")
    admin = users["cq_admin"]
    desk_user = create_staff(
        actor=admin, username="cq_desk", password="x-long-password-1", unit=cq, role="viewer"
    )
    zhang_user = create_staff(
        actor=admin, username="sx_zhang", password="x-long-password-1", unit=sxgc, role="viewer"
    )
    desk = health.add_to_roster(
        cq, actor=admin, name="健康专员", user=desk_user, health_desk=True, on_from=LONG_AGO
    )
    zhang = health.add_to_roster(
        sxgc, actor=admin, name="张伟", user=zhang_user, employee_no="A1", on_from=LONG_AGO
    )
    wang = health.add_to_roster(sxgc, actor=admin, name="王芳", employee_no="A2", on_from=LONG_AGO)
    li = health.add_to_roster(sxgc, actor=admin, name="李娜", employee_no="A3", on_from=LONG_AGO)
    health.add_leave(li, actor=admin, starts_on=WORKDAY, ends_on=MAKEUP)
    chen = health.add_to_roster(jxdl, actor=admin, name="陈静", on_from=LONG_AGO)
    return {
        "desk": desk,
        "zhang": zhang,
        "wang": wang,
        "li": li,
        "chen": chen,
        "desk_user": desk_user,
        "zhang_user": zhang_user,
    }


@pytest.fixture
def today_is_a_workday(db, users):
    """Tests that report for today must not depend on the weekday they run on."""
    today = timezone.localdate()
    if not health._calendar().is_workday(today):
        station_services.set_holiday(actor=users["hq_admin"], date=today, kind="work", name="测试调休")
    return today


def _report(entry, day, *, late=False):
    # Reports on fixed past days for the denominator tests (the verb allows back-fill for 30 days).
    return HealthReport.objects.create(
        entry=entry, unit_id=entry.unit_id, day=day, temperature=Decimal("36.5"), late=late
    )


def _expected(day, entries):
    ids = set(health.expected_entries(day).values_list("pk", flat=True))
    people = {name: e for name, e in entries.items() if isinstance(e, RosterEntry)}
    expected = {name for name, e in people.items() if e.pk in ids}
    # The per-report check, plain SQL on the submission path, agrees with the ORM's denominator.
    assert {name for name, e in people.items() if health.is_expected(e, day)} == expected
    return expected


# --- the denominator -------------------------------------------------------------------------


def test_the_denominator_leave_holiday_and_make_up_workday(team):
    people = {k: v for k, v in team.items() if k in ("zhang", "wang", "li", "chen", "desk")}
    assert _expected(WORKDAY, people) == {"zhang", "wang", "chen", "desk"}  # Li is on leave
    assert _expected(HOLIDAY, people) == set()
    assert _expected(MAKEUP, people) == {"zhang", "wang", "chen", "desk"}  # Li's leave covers it
    assert _expected(SUNDAY, people) == set()


def test_a_closed_outlet_is_left_out_of_the_denominator(team, unit, users):
    status_services.schedule_status(
        unit("CQ-JXDL"),
        actor=users["cq_admin"],
        state="closed",
        notice="封控",
        starts_at=datetime.datetime(2026, 10, 8, 18, 0, tzinfo=status_services.SHANGHAI),
        ends_at=datetime.datetime(2026, 10, 10, 12, 0, tzinfo=status_services.SHANGHAI),
        allow_past=True,
    )
    people = {k: team[k] for k in ("zhang", "chen")}
    assert _expected(WORKDAY, people) == {"zhang"}  # closed all day
    assert _expected(MAKEUP, people) == {"zhang", "chen"}  # reopened at noon: open that day


def test_rollups_equal_a_raw_count_up_the_tree(team, unit):
    _report(team["zhang"], WORKDAY)
    _report(team["wang"], WORKDAY, late=True)
    _report(team["li"], WORKDAY)  # on leave: kept, not counted
    health.open_day(WORKDAY)
    cq = unit("CQ")
    rows = {r["unit"].code: r for r in health.completeness(cq, WORKDAY, WORKDAY)}
    raw = health.raw_completeness(cq, WORKDAY, WORKDAY)
    for r in rows.values():
        assert (r["expected"], r["on_time"], r["late"]) == raw[r["unit"].pk]
    assert (rows["CQ"]["expected"], rows["CQ"]["on_time"], rows["CQ"]["late"], rows["CQ"]["missing"]) == (
        4,
        1,
        1,
        2,
    )
    sxgc = HealthDay.objects.get(unit=unit("CQ-SXGC"), day=WORKDAY)
    assert (sxgc.expected, sxgc.on_time, sxgc.late) == (2, 1, 1)
    # A leave recorded afterwards moves the unit and every ancestor at once.
    health.add_leave(team["zhang"], actor=None, starts_on=WORKDAY, ends_on=WORKDAY)
    assert HealthDay.objects.get(unit=cq, day=WORKDAY).expected == 3
    assert HealthDay.objects.get(unit=cq, day=WORKDAY).on_time == 0


def test_a_report_today_moves_the_rollups_in_the_same_transaction(team, unit, today_is_a_workday):
    health.open_day(today_is_a_workday)
    before = HealthDay.objects.get(unit=unit("CQ"), day=today_is_a_workday)
    with override_settings(YIZHAN_HEALTH_DEADLINE="23:59"):
        report = health.submit_report(
            actor=team["zhang_user"], temperature="36.6", symptoms=[], isolation="none"
        )
    assert report.counted and not report.late
    after = HealthDay.objects.get(unit=unit("CQ"), day=today_is_a_workday)
    assert after.on_time == before.on_time + 1
    raw = health.raw_completeness(unit("CQ"), today_is_a_workday, today_is_a_workday)
    assert (after.expected, after.on_time, after.late) == raw[unit("CQ").pk]


def test_late_is_late_not_missing(team, unit, today_is_a_workday):
    health.open_day(today_is_a_workday)
    with override_settings(YIZHAN_HEALTH_DEADLINE="00:00"):
        report = health.submit_report(actor=team["zhang_user"], temperature="36.6")
    assert report.late
    row = HealthDay.objects.get(unit=unit("CQ-SXGC"), day=today_is_a_workday)
    assert row.late == 1 and row.on_time == 0 and row.missing == row.expected - 1


def test_the_desk_reports_for_someone_without_a_login_and_back_fills_with_a_reason(team, today_is_a_workday):
    desk = team["desk_user"]
    report = health.submit_report(actor=desk, entry=team["wang"], temperature="36.4")
    assert report.submitted_by == desk
    earlier = today_is_a_workday - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        health.submit_report(actor=desk, entry=team["wang"], day=earlier, temperature="36.4")
    assert "reason" in caught.value.message_dict
    back = health.submit_report(
        actor=desk, entry=team["wang"], day=earlier, temperature="36.4", reason="补报"
    )
    assert back.late
    with pytest.raises(ValidationError) as caught:
        health.submit_report(actor=team["zhang_user"], day=earlier, temperature="36.4", reason="x")
    assert "day" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        health.submit_report(actor=team["zhang_user"], entry=team["wang"], temperature="36.4")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"temperature": "45"}, "temperature"),
        ({"temperature": "abc"}, "temperature"),
        ({"temperature": "NaN"}, "temperature"),
        ({"temperature": ""}, "temperature"),
        ({"temperature": "36.5", "symptoms": ["hiccups"]}, "symptoms"),
        ({"temperature": "36.5", "isolation": "moon"}, "isolation"),
        ({"temperature": "36.5", "day": "2099-01-01"}, "day"),
        ({"temperature": "36.5", "day": "yesterday"}, "day"),
    ],
)
def test_bad_report_input_names_the_field_and_writes_nothing(team, fields, field):
    before = HealthReport.objects.count()
    with pytest.raises(ValidationError) as caught:
        health.submit_report(actor=team["zhang_user"], **fields)
    assert field in caught.value.message_dict
    assert HealthReport.objects.count() == before


def test_a_roster_entry_twice_is_refused(team, unit, users):
    with pytest.raises(ValidationError) as caught:
        health.add_to_roster(unit("CQ-SXGC"), actor=users["cq_admin"], name="张伟", user=team["zhang_user"])
    assert "user" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        health.add_to_roster(unit("CQ-SXGC"), actor=users["cq_admin"], name="另一个", employee_no="A1")
    assert "employee_no" in caught.value.message_dict
    with pytest.raises(PermissionDenied):  # a manager does not keep the roster
        health.add_to_roster(unit("CQ-SXGC"), actor=users["sanxia_manager"], name="新人")


def test_bad_leave_is_refused(team):
    with pytest.raises(ValidationError) as caught:
        health.add_leave(team["wang"], actor=None, starts_on=WORKDAY, ends_on=HOLIDAY)
    assert "ends_on" in caught.value.message_dict
    assert not Leave.objects.filter(entry=team["wang"]).exists()


# --- who sees health data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status", "sees"),
    [
        ("cq_desk", 200, True),  # the named desk (a viewer by role)
        ("sanxia_manager", 200, False),  # the outlet's manager: completeness, not health data
        ("sx_zhang", 200, False),  # a viewer in scope
        ("cq_admin", 200, True),  # admin above
        ("hq_admin", 200, True),
        ("sz_viewer", 404, False),  # outsider
    ],
)
def test_health_data_visibility_matrix(team, client_for, users, today_is_a_workday, username, status, sees):
    health.submit_report(actor=team["desk_user"], entry=team["wang"], temperature="37.9", symptoms=["cough"])
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    client = client_for(username) if username in users else None
    if client is None:
        from django.test import Client

        client = Client()
        client.force_login(user)
    page = client.get("/manage/operations/health/units/CQ-SXGC/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == status
    if status == 200:
        html = page.content.decode()
        assert ("37.9" in html) is sees
        assert ("***" in html) is not sees
        assert problems(html) == []
    export = client.get("/manage/operations/health/units/CQ-SXGC/export.xlsx?reason=复工核查")
    assert export.status_code == status
    if status == 200:
        import io

        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(export.content)).active
        values = [c for row in sheet.iter_rows(values_only=True) for c in row]
        assert "姓名" in values and "体温(°C)" in values
        assert ("37.9" in values) is sees


def test_an_export_without_a_reason_is_masked_and_one_with_it_is_recorded(
    team, client_for, today_is_a_workday
):
    from yizhan.audit.models import AuditEvent

    health.submit_report(actor=team["desk_user"], entry=team["wang"], temperature="37.9")
    client = client_for("cq_admin")
    assert b"37.9" not in client.get("/manage/operations/health/units/CQ-SXGC/export.xlsx").content
    before = AuditEvent.objects.filter(action="operations.health.exported").count()
    client.get("/manage/operations/health/units/CQ-SXGC/export.xlsx?reason=防控检查")
    assert AuditEvent.objects.filter(action="operations.health.exported").count() == before + 1


def test_the_audit_log_never_holds_health_data(team, today_is_a_workday):
    from yizhan.audit.models import AuditEvent

    report = health.submit_report(actor=team["zhang_user"], temperature="38.2", symptoms=["fever"])
    text = str(list(AuditEvent.objects.filter(object_id=str(report.pk)).values_list("changes", flat=True)))
    assert "38.2" not in text and "fever" not in text


# --- reminders --------------------------------------------------------------------------------


def test_chasing_reminders_are_sent_once(team, today_is_a_workday):
    first = health.chase()
    assert first == 2  # Zhang and the desk herself have logins; Wang has none (the desk reports for him)
    assert health.chase() == 0
    desks = health.chase(desks=True)
    assert desks == 1 and health.chase(desks=True) == 0
    to_desk = Message.objects.filter(user=team["desk_user"], template__key="health-missing-desk").get()
    assert "未报" in to_desk.text
    health.submit_report(actor=team["zhang_user"], temperature="36.5")
    assert Message.objects.filter(user=team["zhang_user"]).count() == 1


def test_the_schedules_are_declared():
    from yizhan.jobs.schedules import declared

    names = {s.name for s in declared()}
    assert {
        "operations.health_open_day",
        "operations.health_remind",
        "operations.health_remind_desk",
    } <= names


# --- pages and API ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_health_pages_read_cleanly(team, client_for, users, today_is_a_workday, lang):
    from django.test import Client

    health.open_day(today_is_a_workday)
    me = Client()
    me.force_login(team["zhang_user"])
    for client, url in [
        (me, "/manage/operations/health/"),
        (client_for("cq_admin"), "/manage/operations/health/units/?unit=CQ"),
        (client_for("cq_admin"), "/manage/operations/health/units/?unit=CQ&month=2026-10"),
        (client_for("cq_admin"), "/manage/operations/roster/CQ-SXGC/"),
    ]:
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
        assert page.status_code == 200, url
        assert problems(page.content.decode(), lang=lang, allow=("sx_zhang", "cq_desk")) == [], url


def test_one_screen_form_submits(team, today_is_a_workday):
    from django.test import Client

    me = Client()
    me.force_login(team["zhang_user"])
    # As the page sends it: the form names its entry, even for one's own report.
    page = me.get("/manage/operations/health/").content.decode()
    assert f'name="entry" value="{team["zhang"].pk}"' in page
    answer = me.post(
        "/manage/operations/health/", {"entry": team["zhang"].pk, "temperature": "36.7", "isolation": "none"}
    )
    assert answer.status_code == 302
    # Someone else's entry needs the desk: 404 for Zhang, nothing written for Wang.
    other = me.post("/manage/operations/health/", {"entry": team["wang"].pk, "temperature": "36.7"})
    assert other.status_code == 404
    assert not HealthReport.objects.filter(entry=team["wang"]).exists()
    assert HealthReport.objects.filter(entry=team["zhang"], day=today_is_a_workday).exists()
    bad = me.post("/manage/operations/health/", {"temperature": "45", "isolation": "none"})
    assert bad.status_code == 200 and "34.0" in bad.content.decode()


def test_api_report_roster_and_completeness(team, users, unit, today_is_a_workday):
    from django.test import Client

    _token, raw = create_api_token(user=team["zhang_user"], name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ok = api.post(
        "/api/v1/manage/operations/health/reports", {"temperature": 36.5}, content_type="application/json"
    )
    assert ok.status_code == 201
    bad = api.post(
        "/api/v1/manage/operations/health/reports", {"temperature": "abc"}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "temperature"
    other = api.post(
        "/api/v1/manage/operations/health/reports",
        {"temperature": 36.5, "entry": team["wang"].pk},
        content_type="application/json",
    )
    assert other.status_code == 404
    _token, raw = create_api_token(user=users["cq_admin"], name="t")
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    rows = admin.get("/api/v1/manage/operations/health/completeness?unit=CQ").json()
    assert rows[0]["unit"] == "CQ"
    twice = admin.post(
        "/api/v1/manage/operations/units/CQ-SXGC/roster",
        {"name": "张伟", "employee_no": "A1"},
        content_type="application/json",
    )
    assert twice.status_code == 422 and twice.json()["detail"][0]["loc"][-1] == "employee_no"
    _token, raw = create_api_token(user=users["sanxia_manager"], name="t")
    manager = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (
        manager.post(
            "/api/v1/manage/operations/units/CQ-SXGC/roster",
            {"name": "新人"},
            content_type="application/json",
        ).status_code
        == 403
    )


def test_closing_an_outlet_for_the_day_takes_its_staff_out_of_the_day_s_figures(
    team, unit, users, today_is_a_workday
):
    health.open_day(today_is_a_workday)
    before = HealthDay.objects.get(unit=unit("CQ"), day=today_is_a_workday).expected
    midnight = datetime.datetime.combine(today_is_a_workday, datetime.time(), status_services.SHANGHAI)
    entry = status_services.schedule_status(
        unit("CQ-SXGC"),
        actor=users["cq_admin"],
        state="closed",
        notice="封控",
        starts_at=midnight,
        allow_past=True,
    )
    after = HealthDay.objects.get(unit=unit("CQ"), day=today_is_a_workday).expected
    assert after == before - 3  # Zhang, Wang and Li (her leave was in October)
    raw = health.raw_completeness(unit("CQ"), today_is_a_workday, today_is_a_workday)[unit("CQ").pk]
    assert after == raw[0]
    status_services.end_status(entry, actor=users["cq_admin"])  # reopened today: the day counts again
    assert HealthDay.objects.get(unit=unit("CQ"), day=today_is_a_workday).expected == before


def test_leaving_the_roster(team, users):
    entry = health.update_roster(
        team["wang"], actor=users["cq_admin"], on_until=WORKDAY, revision=team["wang"].revision
    )
    assert entry.on_until == WORKDAY
    assert "wang" not in _expected(MAKEUP, {"wang": entry})
    with pytest.raises(ValidationError) as caught:
        health.update_roster(entry, actor=users["cq_admin"], on_until=LONG_AGO - datetime.timedelta(days=1))
    assert "on_until" in caught.value.message_dict
