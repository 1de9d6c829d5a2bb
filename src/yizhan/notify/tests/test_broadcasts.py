"""Messages to staff chosen by the org tree: the count before sending, a second admin above the
approval size, and the message in the recipients' inboxes and in the outbox."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from yizhan.notify import services
from yizhan.notify.models import Broadcast, Message


def test_all_outlet_managers_under_a_unit_get_it_in_their_inbox(db, users, unit, client_for):
    cq = unit("CQ")
    managers = set(services.audience(cq, ["manager"]).values_list("username", flat=True))
    assert "sanxia_manager" in managers and "sz_viewer" not in managers
    client = client_for("cq_admin")
    preview = client.post(
        "/manage/broadcasts/",
        {"unit": "CQ", "roles": ["manager"], "text": "明早 8:30 开例会", "action": "preview"},
    )
    assert f"{len(managers)} 位收件人" in preview.content.decode() and not Broadcast.objects.exists()
    client.post(
        "/manage/broadcasts/",
        {"unit": "CQ", "roles": ["manager"], "text": "明早 8:30 开例会", "action": "send"},
    )
    broadcast = Broadcast.objects.get()
    assert broadcast.state == "sent" and broadcast.recipients == len(managers)
    services.deliver_due()
    inbox = client_for("sanxia_manager").get("/manage/inbox/").content.decode()
    assert "明早 8:30 开例会" in inbox
    assert "明早 8:30 开例会" in client.get("/manage/outbox/").content.decode()
    assert Message.objects.filter(state="delivered").count() == len(managers)


@override_settings(YIZHAN_NOTIFY_APPROVAL_ABOVE=0)
def test_a_large_send_waits_for_a_second_admin(db, users, unit):
    cq = unit("CQ")
    broadcast = services.propose_broadcast(actor=users["cq_admin"], unit=cq, roles=["manager"], text="x")
    assert broadcast.state == "pending" and not Message.objects.exists()
    with pytest.raises(ValidationError) as err:
        services.approve_broadcast(broadcast, actor=users["cq_admin"])
    assert "decided_by" in err.value.message_dict
    services.approve_broadcast(broadcast, actor=users["hq_admin"])
    broadcast.refresh_from_db()
    assert broadcast.state == "sent" and broadcast.decided_by == users["hq_admin"]
    assert Message.objects.count() == broadcast.recipients
    with pytest.raises(ValidationError):
        services.approve_broadcast(broadcast, actor=users["hq_admin"])  # not twice


MATRIX = [
    ("hq_admin", "CQ", 201), ("cq_admin", "CQ", 201), ("cq_admin", "SZ", 404),
    ("sanxia_manager", "CQ-SXGC", 403), ("sanxia_manager", "CQ", 404),
    ("sz_viewer", "SZ", 403), ("sz_viewer", "CQ", 404),
]  # fmt: skip


@pytest.mark.parametrize("username,code,status", MATRIX)
def test_api_matrix(db, client_for, username, code, status):
    response = client_for(username).post(
        "/api/v1/manage/broadcasts",
        {"unit": code, "roles": ["manager", "admin"], "text": "通知"},
        content_type="application/json",
    )
    assert response.status_code == status


def test_outside_the_subtree_is_404_and_bad_input_names_the_field(db, client_for):
    client = client_for("cq_admin")
    assert client.post("/api/v1/manage/broadcasts", {"unit": "SZ", "roles": ["manager"], "text": "x"},
                       content_type="application/json").status_code == 404  # fmt: skip
    bad = client.post(
        "/api/v1/manage/broadcasts",
        {"unit": "CQ", "roles": ["boss"], "text": ""},
        content_type="application/json",
    )
    assert bad.status_code == 422 and {d["loc"][-1] for d in bad.json()["detail"]} == {"roles", "text"}
    assert client.get("/manage/broadcasts/").status_code == 200
    assert client_for("sanxia_manager").get("/manage/broadcasts/").status_code == 403
    page = client.post("/manage/broadcasts/", {"unit": "CQ", "roles": [], "text": "x", "action": "send"})
    assert page.status_code == 200 and not Broadcast.objects.exists()
