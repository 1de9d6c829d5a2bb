import pytest
from django.core.exceptions import ValidationError

from yizhan.audit.models import AuditEvent
from yizhan.orgs import services
from yizhan.orgs.models import Unit


def test_move_repaths_whole_subtree(db, users, unit):
    sub = unit("CQ-SPB")
    outlets_before = set(Unit.objects.subtree(sub).values_list("code", flat=True))
    services.move_unit(sub, unit("SZ"), actor=users["hq_admin"])
    sub.refresh_from_db()
    assert sub.parent.code == "SZ"
    assert sub.path == f"{unit('SZ').path}{sub.pk}/"
    assert sub.level == unit("SZ").level + 1
    moved = Unit.objects.subtree(sub)
    assert set(moved.values_list("code", flat=True)) == outlets_before
    for outlet in moved.exclude(pk=sub.pk):
        assert outlet.path == f"{sub.path}{outlet.pk}/"
        assert outlet.level == sub.level + 1
    # The old province no longer holds them; the new one does.
    assert not Unit.objects.subtree(unit("CQ")).filter(code__in=outlets_before).exists()
    assert outlets_before <= set(Unit.objects.subtree(unit("SZ")).values_list("code", flat=True))
    event = AuditEvent.objects.get(action="unit.moved", object_id=str(sub.pk))
    assert event.changes["parent"] == ["CQ", "SZ"]


def test_move_across_levels_updates_levels(db, users, unit):
    outlet = unit("CQ-SXGC")
    services.move_unit(outlet, unit("CQ"), actor=users["hq_admin"])
    outlet.refresh_from_db()
    assert outlet.level == 2 and outlet.path == f"{unit('CQ').path}{outlet.pk}/"


@pytest.mark.parametrize("target", ["CQ", "CQ-SPB"])
def test_move_into_own_subtree_is_refused(db, users, unit, target):
    before = {u.code: u.path for u in Unit.objects.all()}
    with pytest.raises(ValidationError) as exc:
        services.move_unit(
            unit("CQ"), unit(target) if target != "CQ" else unit("CQ"), actor=users["hq_admin"]
        )
    assert "parent" in exc.value.message_dict
    assert {u.code: u.path for u in Unit.objects.all()} == before


def test_move_under_lower_rank_is_refused(db, users, unit):
    with pytest.raises(ValidationError) as exc:
        services.move_unit(unit("CQ-SPB"), unit("CQ-SXGC"), actor=users["hq_admin"])
    assert "parent" in exc.value.message_dict


def test_head_office_cannot_move(db, users, unit):
    with pytest.raises(ValidationError):
        services.move_unit(unit("HQ"), unit("CQ"), actor=users["hq_admin"])


def test_move_view_refuses_cycle_with_message(client_for, unit):
    response = client_for("cq_admin").post("/manage/units/CQ-SPB/move/", {"parent": "CQ-SXGC"})
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert unit("CQ-SPB").parent.code == "CQ"


def test_move_view_target_outside_scope_is_not_found(client_for, unit):
    response = client_for("cq_admin").post("/manage/units/CQ-SXGC/move/", {"parent": "SZ-FT"})
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert unit("CQ-SXGC").parent.code == "CQ-SPB"


def test_move_view_moves(client_for, unit):
    response = client_for("cq_admin").post("/manage/units/CQ-SXGC/move/", {"parent": "CQ-JB"})
    assert response.status_code == 302
    assert unit("CQ-SXGC").parent.code == "CQ-JB"


def test_pinyin_initials():
    assert services.pinyin_initials("三峡广场支行") == "sxgczh"
    assert services.pinyin_initials("三峡广场").startswith("sxgc")


def test_search_by_pinyin_initials(client_for):
    response = client_for("cq_admin").get("/manage/units/", {"q": "sxgc"})
    assert "/manage/units/CQ-SXGC/" in response.content.decode()


def test_unit_browser_tree_lazy_loads_children(client_for):
    client = client_for("cq_admin")
    page = client.get("/manage/units/").content.decode()
    assert 'hx-get="/manage/units/CQ-SPB/children/"' in page
    kids = client.get("/manage/units/CQ-SPB/children/").content.decode()
    assert "/manage/units/CQ-SXGC/" in kids
