"""Bad input on every organisation form: refused with the field named, nothing half-written."""

import pytest

from yizhan.audit.models import AuditEvent
from yizhan.orgs.models import Membership, Unit

GOOD_OUTLET = {
    "code": "CQ-NEW-1",
    "kind": "outlet",
    "name": "新网点",
    "name_en": "",
    "address": "重庆市渝中区解放碑1号",
    "lat": "29.557",
    "lng": "106.577",
    "crs": "wgs84",
    "opened_on": "",
    "closed_on": "",
}


def post_unit(client, parent="CQ-YZ", **changes):
    return client.post(f"/manage/units/{parent}/new/", {**GOOD_OUTLET, **changes})


def test_good_outlet_is_created(client_for):
    response = post_unit(client_for("cq_admin"))
    assert response.status_code == 302
    created = Unit.objects.get(code="CQ-NEW-1")
    assert created.parent.code == "CQ-YZ" and created.path.endswith(f"/{created.pk}/")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "CQ-SXGC"}, "code"),  # duplicate code
        ({"code": "cq-sxgc"}, "code"),  # duplicate, other case
        ({"code": "坏 代码"}, "code"),
        ({"code": ""}, "code"),
        ({"kind": "palace"}, "kind"),  # unknown kind
        ({"kind": "province"}, "kind"),  # a province under a sub-branch
        ({"name": ""}, "name"),
        ({"address": ""}, "address"),  # an outlet without an address
        ({"lat": "", "lng": ""}, "lat"),  # an outlet without coordinates
        ({"lat": "91", "lng": "106.5"}, "lat"),  # out of range
        ({"lat": "29.5", "lng": "-200"}, "lng"),
        ({"lat": "48.85", "lng": "2.35"}, "lng"),  # Paris: outside China
        ({"lat": "abc"}, "lat"),
        ({"crs": "mercator"}, "crs"),
        ({"opened_on": "2023-02-30"}, "opened_on"),
        ({"opened_on": "2024-05-01", "closed_on": "2024-01-01"}, "closed_on"),
    ],
)
def test_bad_unit_is_refused_naming_the_field(client_for, changes, field):
    units, events = Unit.objects.count(), AuditEvent.objects.count()
    response = post_unit(client_for("cq_admin"), **changes)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert Unit.objects.count() == units and AuditEvent.objects.count() == events


def test_outlet_cannot_hold_units(client_for):
    response = post_unit(client_for("cq_admin"), parent="CQ-SXGC")
    assert "kind" in response.context["form"].errors


def test_edit_with_bad_coordinates_changes_nothing(client_for, unit):
    outlet = unit("CQ-SXGC")
    response = client_for("sanxia_manager").post(
        "/manage/units/CQ-SXGC/edit/",
        {
            "code": outlet.code,
            "kind": outlet.kind,
            "name": "改名",
            "address": outlet.address,
            "lat": "1.0",
            "lng": "106.4",
            "crs": "wgs84",
            "revision": outlet.revision,
        },
    )
    assert "lat" in response.context["form"].errors
    outlet.refresh_from_db()
    assert outlet.name == "三峡广场支行"


GOOD_STAFF = {
    "username": "new_clerk",
    "full_name": "张三",
    "password": "a-Long-pass-phrase-42",
    "unit": "CQ-SXGC",
    "role": "viewer",
}


def test_staff_is_created(client_for):
    response = client_for("cq_admin").post("/manage/staff/new/", GOOD_STAFF)
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="new_clerk")
    assert membership.unit.code == "CQ-SXGC" and membership.role == "viewer"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"role": "emperor"}, "role"),  # unknown role
        ({"username": "cq_admin"}, "username"),  # taken
        ({"username": "bad name!"}, "username"),
        ({"password": "123"}, "password"),
        ({"unit": "SZ-FT"}, "unit"),  # outside the admin's subtree
        ({"unit": "NOPE"}, "unit"),
    ],
)
def test_bad_staff_is_refused(client_for, changes, field):
    members = Membership.objects.count()
    response = client_for("cq_admin").post("/manage/staff/new/", {**GOOD_STAFF, **changes})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Membership.objects.count() == members


def test_admin_cannot_edit_own_membership(client_for, users):
    response = client_for("cq_admin").post(
        f"/manage/staff/{users['cq_admin'].pk}/",
        {"unit": "HQ", "role": "admin", "is_active": "on", "revision": 1},
    )
    assert (
        response.status_code == 404
        or "unit" in response.context["form"].errors
        or "role" in response.context["form"].errors
    )
    assert users["cq_admin"].membership.unit.code == "CQ"


def test_staff_edit_moves_member_and_audits(client_for, users):
    response = client_for("cq_admin").post(
        f"/manage/staff/{users['sanxia_manager'].pk}/",
        {"unit": "CQ-JXDL", "role": "viewer", "is_active": "on", "revision": 1},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=users["sanxia_manager"])
    assert (membership.unit.code, membership.role) == ("CQ-JXDL", "viewer")
    event = AuditEvent.objects.get(action="staff.updated")
    assert event.changes["role"] == ["manager", "viewer"]


def test_no_500_on_junk(client_for):
    client = client_for("hq_admin")
    assert client.get("/manage/units/%00/").status_code == 400
    assert client.get("/manage/units/", {"q": "a\x00b"}).status_code == 400
    for url in [
        "/manage/units/CQ/?page=abc",
        "/manage/audit/?page=-1&object_id=' or 1=1",
        "/manage/staff/?page=9999",
        "/manage/units/?q=" + "x" * 5000,
    ]:
        assert client.get(url).status_code in (200, 404)
    assert (
        client.post("/manage/units/CQ/new/", {"lat": "nan", "lng": "inf", "code": "X" * 500}).status_code
        == 200
    )
