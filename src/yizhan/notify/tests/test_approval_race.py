"""Two checkers approve the same pending message at the same moment, on real threads and two
connections (PostgreSQL row locks): exactly one approves it, the other is told it is no longer
awaiting approval; it is sent once and audited once (yizhan.core.approval)."""

import threading

import pytest
from django.db import connection


def build():
    from django.contrib.auth import get_user_model

    from yizhan.notify.models import Template
    from yizhan.orgs.models import Membership, Unit

    Template.objects.get_or_create(key="notice", version=1, defaults={"name": "工作通知", "text_zh": "{text}",
                                                                       "variables": ["text"]})  # fmt: skip
    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="并发测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    users = {}
    for name, role in (
        ("race_maker", "admin"),
        ("race_alice", "admin"),
        ("race_bob", "admin"),
        ("race_staff", "manager"),
    ):
        users[name] = get_user_model().objects.create_user(name, password="x-long-password-1")
        Membership.objects.create(user=users[name], unit=root, role=role)
    return root, users


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_checkers_at_once_one_approves(settings):
    from django.core.exceptions import ValidationError
    from django.db import connections

    from yizhan.audit.models import AuditEvent
    from yizhan.notify import services
    from yizhan.notify.models import Broadcast, Message

    settings.YIZHAN_NOTIFY_APPROVAL_ABOVE = 0
    root, users = build()
    for _round in range(3):
        broadcast = services.propose_broadcast(
            actor=users["race_maker"], unit=root, roles=["manager"], text="并发"
        )
        assert broadcast.state == "pending"
        barrier, results = threading.Barrier(2), {}

        def attempt(name, broadcast=broadcast, barrier=barrier, results=results):
            try:
                barrier.wait(timeout=10)
                services.approve_broadcast(broadcast, actor=users[name])
                results[name] = "approved"
            except ValidationError as exc:
                results[name] = "refused:" + ",".join(exc.message_dict)
            except Exception as exc:  # noqa: BLE001 — reported, so the test shows what went wrong
                results[name] = f"error:{type(exc).__name__}:{exc}"
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(n,)) for n in ("race_alice", "race_bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results.values()) == ["approved", "refused:state"], results
        winner = next(n for n, r in results.items() if r == "approved")
        assert Broadcast.objects.get(pk=broadcast.pk).decided_by.username == winner
        assert Message.objects.filter(dedup_key__contains=f":broadcast-{broadcast.pk}:").count() == 1
        assert (
            AuditEvent.objects.filter(action="notify.broadcast_approved", object_id=str(broadcast.pk)).count()
            == 1
        )
