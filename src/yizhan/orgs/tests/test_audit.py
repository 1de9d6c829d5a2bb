from yizhan.audit.models import AuditEvent
from yizhan.orgs import services


def test_update_records_field_diff(db, users, unit):
    outlet = unit("CQ-SXGC")
    services.update_unit(
        outlet, actor=users["sanxia_manager"], name="三峡广场支行（新）", address="重庆市沙坪坝区新址8号"
    )
    event = AuditEvent.objects.filter(action="unit.updated", object_id=str(outlet.pk)).get()
    assert event.actor == users["sanxia_manager"]
    assert event.changes["name"] == ["三峡广场支行", "三峡广场支行（新）"]
    assert event.changes["address"][1] == "重庆市沙坪坝区新址8号"
    assert "code" not in event.changes
    assert event.unit == outlet


def test_unchanged_update_writes_nothing(db, users, unit):
    outlet = unit("CQ-SXGC")
    before = AuditEvent.objects.count()
    services.update_unit(outlet, actor=users["sanxia_manager"], name=outlet.name)
    assert AuditEvent.objects.count() == before


def test_gcj02_input_is_stored_as_wgs84(db, users, unit):
    outlet = unit("CQ-SXGC")
    # Sanxia Square as Amap shows it (GCJ-02); stored WGS-84 differs by a few hundred metres.
    services.update_unit(outlet, actor=users["cq_admin"], lat=29.55380, lng=106.46030, crs="gcj02")
    outlet.refresh_from_db()
    assert abs(outlet.lat - 29.5566) < 0.01 and abs(outlet.lng - 106.4569) < 0.01
    assert (outlet.lat, outlet.lng) != (29.55380, 106.46030)


def test_audit_page_is_scoped_and_filterable(db, users, unit, client_for):
    services.update_unit(unit("CQ-SXGC"), actor=users["cq_admin"], name="三峡广场A")
    services.update_unit(unit("SZ-FT"), actor=users["hq_admin"], name="福田支行A")
    cq = client_for("cq_admin").get("/manage/audit/").content.decode()
    assert "三峡广场A" in cq and "福田支行A" not in cq
    sz = client_for("sz_viewer").get("/manage/audit/").content.decode()
    assert "福田支行A" in sz and "三峡广场A" not in sz
    by_actor = client_for("hq_admin").get("/manage/audit/", {"actor": "cq_admin"}).content.decode()
    assert "三峡广场A" in by_actor and "福田支行A" not in by_actor
    by_object = (
        client_for("hq_admin")
        .get("/manage/audit/", {"object_type": "orgs.unit", "object_id": str(unit("SZ-FT").pk)})
        .content.decode()
    )
    assert "福田支行A" in by_object and "三峡广场A" not in by_object


def test_edit_view_audits_through_service(client_for, unit):
    outlet = unit("CQ-SXGC")
    response = client_for("sanxia_manager").post(
        "/manage/units/CQ-SXGC/edit/",
        {
            "code": outlet.code,
            "kind": outlet.kind,
            "name": outlet.name,
            "name_en": "Sanxia",
            "address": outlet.address,
            "lat": outlet.lat,
            "lng": outlet.lng,
            "crs": "wgs84",
            "opened_on": outlet.opened_on.isoformat(),
            "revision": outlet.revision,
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="unit.updated", object_id=str(outlet.pk))
    assert event.changes == {"name_en": ["Sanxia Square Sub-branch", "Sanxia"], "revision": [1, 2]}
    assert event.via == "web"
