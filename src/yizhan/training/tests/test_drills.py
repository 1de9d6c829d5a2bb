"""Drill findings become rectifications of the operations mechanism, and close through it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from yizhan.operations import rectifications
from yizhan.operations.models import Rectification
from yizhan.training import services
from yizhan.training.models import Drill

pytestmark = pytest.mark.django_db


def test_findings_become_rectifications_with_working_day_deadlines_and_close(users, unit, cq_people):
    outlet = unit("CQ-SXGC")
    drill = services.record_drill(
        actor=users["cq_admin"], unit=outlet, kind="age_friendly",
        held_at=timezone.now() - datetime.timedelta(hours=2), scenario="老年客户晕倒",
        times=[{"label": "拨打 120", "seconds": 60}], participants=[p.pk for p in cq_people[:3]],
        findings=[{"title": "AED 位置标识不清"}], working_days=5, opened_on=datetime.date(2026, 9, 30),
    )  # fmt: skip
    finding = drill.findings.get()
    rect = finding.rectification
    assert rect.unit == outlet and rect.source == finding
    assert rect.due_on == datetime.date(2026, 10, 13)  # five working days after National Day week
    assert list(rectifications.for_source(finding)) == [rect]
    rect = rectifications.respond(rect, actor=users["sanxia_manager"], text="已张贴标识")
    rect = rectifications.recheck(rect, actor=users["cq_admin"], passed=True, note="复查通过")
    assert Rectification.objects.get(pk=rect.pk).status == "closed"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "flood"}, "kind"),
        ({"scenario": ""}, "scenario"),
        ({"held_at": "2999-01-01 09:00"}, "held_at"),
        ({"held_at": "abc"}, "held_at"),
        ({"times": [{"label": "x", "seconds": -1}]}, "times"),
        ({"times": [{"label": "", "seconds": 3}]}, "times"),
        ({"participants": ["abc"]}, "participants"),
        ({"findings": [{"title": ""}]}, "title"),
        ({"working_days": 0, "findings": [{"title": "x"}]}, "working_days"),
    ],
)
def test_a_bad_drill_is_refused_and_nothing_is_written(users, unit, data, field):
    values = {"kind": "fire", "held_at": "2026-11-01 10:00", "scenario": "火警"}
    values.update(data)
    before = (Drill.objects.count(), Rectification.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.record_drill(actor=users["cq_admin"], unit=unit("CQ-SXGC"), **values)
    assert field in exc.value.message_dict
    assert (Drill.objects.count(), Rectification.objects.count()) == before


def test_a_drill_is_at_an_outlet_of_the_scope(users, unit):
    with pytest.raises(ValidationError) as exc:
        services.record_drill(
            actor=users["cq_admin"],
            unit=unit("SZ-MLYC"),
            kind="fire",
            held_at="2026-11-01 10:00",
            scenario="x",
        )
    assert "outlet" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.record_drill(
            actor=users["cq_admin"], unit=unit("CQ"), kind="fire", held_at="2026-11-01 10:00", scenario="x"
        )


def test_the_demo_drills_have_findings_one_still_open():
    drills = Drill.objects.filter(unit__code__in=["SZ-MLYC", "SZ-QCXJ", "SZ-JT"])
    assert drills.count() == 3
    states = [f.rectification.status for d in drills for f in d.findings.all()]
    assert states.count("open") == 1 and states.count("closed") == len(states) - 1


def test_a_drill_can_exercise_the_outlets_contingency_plan(users, unit, client):
    from yizhan.operations import plans

    sxgc = unit("CQ-SXGC")
    moment = timezone.now() - datetime.timedelta(hours=1)
    values = {"kind": "fire", "held_at": moment, "scenario": "备岗人员到岗演练", "exercises_plan": True}
    before = (Drill.objects.count(), Rectification.objects.count())
    with pytest.raises(ValidationError) as exc:  # no plan filled in yet: refused, nothing written
        services.record_drill(actor=users["cq_admin"], unit=sxgc, findings=["x"], **values)
    assert "exercises_plan" in exc.value.message_dict
    assert (Drill.objects.count(), Rectification.objects.count()) == before

    template = plans.save_template(
        unit("CQ"), actor=users["cq_admin"], name="四个备份", measures=plans.default_measures()
    )
    plan = plans.fill_plan(sxgc, actor=users["cq_admin"], template=template, cash_route="由江北支行调拨")
    drill = services.record_drill(actor=users["cq_admin"], unit=sxgc, **values)
    assert drill.plan == plan and list(plan.drills.all()) == [drill]
    assert (
        services.record_drill(actor=users["cq_admin"], unit=sxgc, **{**values, "exercises_plan": False}).plan
        is None
    )

    client.force_login(users["cq_admin"])
    page = client.get(f"/manage/training/drills/{drill.pk}/").content.decode()
    assert "四个备份" in page and f"/manage/operations/outlets/{sxgc.code}/plan/" in page
    from yizhan.core.tests.pagecheck import problems

    assert problems(page) == []
