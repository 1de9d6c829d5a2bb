"""Every history view reads the audit log in the reader's language, times in Beijing time."""

import ast
import datetime
import pathlib

import pytest
from django.db import transaction
from django.utils import translation

from yizhan.audit import registry
from yizhan.audit.display import format_events
from yizhan.audit.models import AuditEvent
from yizhan.audit.services import audit_via, record
from yizhan.core.tests.pagecheck import problems
from yizhan.stations import services as station_services
from yizhan.stations.models import Station
from yizhan.visits import services as visit_services

pytestmark = pytest.mark.django_db
SRC = pathlib.Path(__file__).resolve().parents[2]


def rows_for(obj, lang="zh-hans", **filters):
    events = AuditEvent.objects.filter(object_id=str(obj.pk), **filters)
    with translation.override(lang):
        return format_events(events)


def changes(row) -> dict:
    return {c.label: (c.old, c.new) for c in row.changes}


def test_feedback_history_reads_in_chinese_with_beijing_times(users):
    station = Station.objects.get(code="CQ-SXGC")
    when = datetime.datetime(2026, 3, 2, 1, 30, tzinfo=datetime.UTC)  # 09:30 in Beijing
    item = visit_services.submit_feedback(
        station, kind="facility_broken", facility="phone_charging", text="坏了", now=when
    )
    with audit_via("web"):
        visit_services.acknowledge_feedback(item, actor=users["sanxia_manager"])
    received, acknowledged = sorted(rows_for(item, object_type="visits.feedback"), key=lambda r: r.event.pk)

    assert received.action == "收到反馈" and received.actor == "系统" and received.channel == "网页"
    got = changes(received)
    assert got["类型"][1] == "有设施坏了"  # the kind's choice label, not facility_broken
    assert got["设施"][1] == "手机充电"  # the facility's name, not its code
    assert got["驿站"][1] == station.name  # the station's name, not CQ-SXGC
    assert got["照片"][1] == "否"  # not False
    assert got["截止日期"][1] == "2026-03-04"

    assert acknowledged.action == "受理反馈" and acknowledged.actor == "sanxia_manager"
    got = changes(acknowledged)
    assert got["状态"] == ("新反馈", "已受理")  # not new → acknowledged
    assert got["处理人"][1] == "sanxia_manager"  # the user, not the id
    stamp = got["受理时间"][1]
    assert "T" not in stamp and "+00:00" not in stamp and len(stamp) == len("2026-03-02 09:30")


def test_datetimes_are_shown_in_beijing_time(users):
    station = Station.objects.get(code="CQ-SXGC")
    with transaction.atomic():
        record(
            "station.verified",
            station,
            actor=users["cq_admin"],
            changes={"verified_at": [None, "2026-12-01T07:45:00+00:00"]},
        )
    (row,) = rows_for(station, action="station.verified", actor=users["cq_admin"])
    assert changes(row)["核实时间"] == ("—", "2026-12-01 15:45")


def test_facility_and_tally_diffs_name_the_facility_and_group(users):
    station = Station.objects.get(code="CQ-SXGC")
    station_services.set_facility_state(
        station, "drinking_water", actor=users["sanxia_manager"], state="yes", out_of_order=True
    )
    visit_services.set_tallies(
        station, actor=users["sanxia_manager"], day=datetime.date(2026, 11, 30), counts={"elderly": 7}
    )
    facility = rows_for(station, action="station.facility_set")[0]
    assert facility.action == "设置设施状态"
    labels = changes(facility)
    assert labels.get("饮水设施 · 故障") == ("否", "是"), labels
    tally = rows_for(station, action="visits.tally_set")[0]
    assert tally.action == "记录人工计数"
    # The tally took the station's next revision (yizhan.core.concurrency), shown with its label.
    assert set(changes(tally)) == {"2026-11-30 · 老年人", "修订号"}  # jsonb keeps no key order


def test_english_reader_sees_english_labels(users):
    station = Station.objects.get(code="CQ-SXGC")
    station_services.update_station(station, actor=users["cq_admin"], status="temporarily_closed")
    (row,) = rows_for(station, lang="en", action="station.updated")
    assert row.action == "Station changed"
    assert changes(row)["status"] == ("Active", "Temporarily closed")


def test_an_unknown_action_reads_as_a_generic_label_never_its_code(users):
    station = Station.objects.get(code="CQ-SXGC")
    with transaction.atomic():
        record("station.teleported", station, actor=users["cq_admin"], changes={"flag": [False, True]})
    (row,) = rows_for(station, action="station.teleported")
    assert row.action == "其他变更" and "teleported" not in row.action
    assert changes(row)["flag"] == ("否", "是")


def test_long_lists_are_cut_and_counted(users):
    station = Station.objects.get(code="CQ-SXGC")
    codes = [f"X{i:03d}" for i in range(25)]
    with transaction.atomic():
        record("station.updated", station, actor=users["cq_admin"], changes={"outlets": [None, codes]})
    (row,) = rows_for(station, action="station.updated", actor=users["cq_admin"])
    shown = changes(row)["网点"][1]
    assert "X009" in shown and "X010" not in shown and "15" in shown


def test_history_pages_pass_the_page_check(client_for, users):
    """The audit log, a station's and a unit's history, in Chinese: no code, field name, raw
    value, English channel or UTC time."""
    station = Station.objects.get(code="CQ-SXGC")
    with audit_via("web"):
        station_services.verify_station(station, actor=users["sanxia_manager"])
        station_services.update_station(
            station, actor=users["sanxia_manager"], seats=20, status="temporarily_closed"
        )
    names = set(users)
    for path in (
        "/manage/audit/",
        "/manage/stations/CQ-SXGC/",
        "/manage/units/CQ-SXGC/",
        "/manage/units/HQ/",
    ):
        html = client_for("hq_admin").get(path).content.decode()
        assert problems(html, allow=names) == [], path


# --- every action recorded anywhere has a label ------------------------------------------------


def _strings(node, constants) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) | _strings(node.orelse, constants)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return {a + b for a in _strings(node.left, constants) for b in _strings(node.right, constants)}
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    return set()


def recorded_actions() -> dict[str, str]:
    """{action: where} for every action code the source passes to audit's record / record_many:
    the first argument of record(...), through module constants, conditionals and a helper's
    `action` parameter; and the first item of the (action, obj, changes) tuples that
    record_many writes."""
    found: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text()
        if "yizhan.audit.services import" not in text:
            continue
        tree = ast.parse(text)
        constants = {
            n.targets[0].id: {n.value.value}
            for n in tree.body
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Name)
            and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str)
        }
        # Helpers that take the action as a parameter and pass it on to record().
        relays: dict[str, int] = {}
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef):
                params = [a.arg for a in fn.args.args]
                for call in ast.walk(fn):
                    if (
                        isinstance(call, ast.Call)
                        and getattr(call.func, "id", None) == "record"
                        and call.args
                        and isinstance(call.args[0], ast.Name)
                        and call.args[0].id in params
                    ):
                        relays[fn.name] = params.index(call.args[0].id)
        where = str(path.relative_to(SRC))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name == "record" and node.args:
                    for code in _strings(node.args[0], constants):
                        found[code] = f"{where}:{node.lineno}"
                elif name in relays and len(node.args) > relays[name]:
                    for code in _strings(node.args[relays[name]], constants):
                        found[code] = f"{where}:{node.lineno}"
            if "record_many" in text and isinstance(node, ast.Tuple) and len(node.elts) == 3:
                for code in _strings(node.elts[0], constants):
                    if "." in code and " " not in code:
                        found[code] = f"{where}:{node.lineno}"
    return found


def test_the_scan_finds_the_actions_it_should():
    found = recorded_actions()
    # One of each way of writing it: a literal, a conditional, a prefix constant, a relay, a bulk tuple.
    for code in (
        "unit.moved",
        "standard.updated",
        "remittance.rules.rule_created",
        "feedback.resolved",
        "station.created",
    ):
        assert code in found, code


def test_every_recorded_action_has_a_label():
    labelled = registry.registered_actions()
    missing = {code: where for code, where in recorded_actions().items() if code not in labelled}
    assert missing == {}, "add these to the app's audit_actions.py"


def test_every_action_in_the_demo_has_a_label():
    labelled = registry.registered_actions()
    in_demo = set(AuditEvent.objects.values_list("action", flat=True).distinct())
    assert in_demo - set(labelled) == set()
