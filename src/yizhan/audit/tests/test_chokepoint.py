"""The audit log is read through the scope only, and written only inside a transaction."""

import re
from pathlib import Path

import pytest
from django.db import transaction

import yizhan
from yizhan.audit.models import AuditEvent
from yizhan.audit.services import NotInTransaction, events_for, record
from yizhan.orgs.models import Unit, UnitKind

pytestmark = pytest.mark.django_db


def test_record_refuses_to_run_outside_a_transaction(unit):
    hq = unit("HQ")
    before = AuditEvent.objects.count()
    with pytest.raises(NotInTransaction):
        record("test.outside", hq)
    with pytest.raises(NotInTransaction):
        from yizhan.audit.services import record_many

        record_many([("test.outside", hq, {})])
    assert AuditEvent.objects.count() == before
    with transaction.atomic():
        record("test.inside", hq)
    assert AuditEvent.objects.count() == before + 1


def test_no_view_or_api_reads_the_log_around_the_chokepoint():
    """Views and APIs read events with events_for() (scoped); AuditEvent.objects there would not be."""
    root = Path(yizhan.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in [*root.glob("*/views.py"), *root.glob("*/api.py"), *root.glob("*/panels.py")]
        if re.search(r"AuditEvent\.objects|scoped\([^)]*AuditEvent", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.fixture
def station_factory(db):
    from yizhan.stations.models import Station

    return lambda code: Station.objects.select_related("unit").get(code=code)


def _actions(response) -> list[str]:
    return [event.action for event in response.context["events"]]


def test_after_a_station_moves_each_reader_sees_only_its_own_side(client_for, users, station_factory):
    """CQ-SXGC (Chongqing, 三峡广场 outlet) moves to a Shenzhen outlet; its report moves with it."""
    from yizhan.stations import services as stations
    from yizhan.visits import services as visits

    sxgc = station_factory("CQ-SXGC")
    report = visits.submit_feedback(sxgc, kind="suggestion", text="多放几把椅子")
    stations.update_station(sxgc, actor=users["cq_admin"], name="三峡广场驿站（旧）")
    shenzhen_outlet = Unit.objects.filter(
        path__startswith=Unit.objects.get(code="SZ").path, kind=UnitKind.OUTLET
    ).first()
    stations.update_station(sxgc, actor=users["hq_admin"], unit=shenzhen_outlet)

    station_page = f"/manage/stations/{sxgc.code}/"
    report_page = f"/manage/feedback/{report.pk}/"
    seen = {}
    for username in ("hq_admin", "cq_admin", "sanxia_manager", "sz_viewer"):
        client = client_for(username)
        answers = client.get(station_page), client.get(report_page)
        seen[username] = [_actions(r) if r.status_code == 200 else r.status_code for r in answers]
    assert seen["hq_admin"][0][:2] == ["station.updated", "station.updated"]  # the move, the rename
    assert "feedback.received" in seen["hq_admin"][1]
    assert seen["cq_admin"] == [404, 404] and seen["sanxia_manager"] == [404, 404]
    # Shenzhen sees the station from the move on: not its Chongqing past (the rename, the report).
    assert seen["sz_viewer"] == [["station.updated"], []]
    assert events_for(users["sz_viewer"], sxgc).count() == 1


def test_after_a_unit_moves_its_events_follow_it(client_for, users, unit, station_factory):
    """A unit's own events belong to the unit itself, so they go wherever it goes."""
    from yizhan.orgs import services as orgs

    outlet = station_factory("CQ-SXGC").unit
    orgs.update_unit(outlet, actor=users["cq_admin"], name=outlet.name + "（改）")
    new_parent = Unit.objects.filter(path__startswith=unit("SZ").path, kind=outlet.parent.kind).first()
    orgs.move_unit(outlet, new_parent, actor=users["hq_admin"])
    page = f"/manage/units/{outlet.code}/"
    assert client_for("cq_admin").get(page).status_code == 404
    sz = _actions(client_for("sz_viewer").get(page))
    assert sz[:2] == ["unit.moved", "unit.updated"]
    assert _actions(client_for("hq_admin").get(page)) == sz
