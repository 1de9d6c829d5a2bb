"""Two people claim the same instruction at the same moment, in two real transactions on two
connections: exactly one wins. Runs on PostgreSQL (row locks); SQLite's in-memory test database
is shared-cache, where a second writer fails at once instead of waiting, so there the
conditional UPDATE is tested without threads (test_work.py)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a database whose writers wait for each other"
)


@pytest.mark.django_db(transaction=True)
def test_two_claims_at_once_exactly_one_wins(django_user_model):
    from yizhan.orgs.models import Membership, Unit
    from yizhan.remittance import services
    from yizhan.remittance.models import Batch, Instruction
    from yizhan.remittance.screening import Screener

    # transactional_db flushes the database afterwards: this test builds what it needs.
    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="竞态测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    alice = django_user_model.objects.create_user("race_alice", password="x-long-password-1")
    bob = django_user_model.objects.create_user("race_bob", password="x-long-password-1")
    for user in (alice, bob):
        Membership.objects.create(user=user, unit=root, role="manager")
    batch = Batch.objects.create(name="race", unit=root, deadline=timezone.now() + datetime.timedelta(days=1))
    record = {
        "instruction_id": "R-1",
        "created_at": timezone.now(),
        "scheduled_date": timezone.localdate(),
        "payer_name": "张三",
        "payer_account": "6222020000000001",
        "payer_phone": "13812345678",
        "payee_name": "三明市红十字会",
        "payee_account": "6222030000000001",
        "payee_bank": "",
        "amount": Decimal("100.00"),
        "purpose": "捐款",
        "channel": "",
        "unit": root,
        "row_number": 1,
    }
    screener = Screener([])
    services.create_instructions(batch, [record], [screener.screen("", "")], screener=screener)
    inst = Instruction.objects.get(batch=batch)

    for _round in range(5):
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def attempt(user, results=results, barrier=barrier):
            try:
                barrier.wait(timeout=10)
                services.claim(inst, actor=user)
                results[user.username] = "won"
            except ValidationError:
                results[user.username] = "lost"
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(u,)) for u in (alice, bob)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(results.values()) == ["lost", "won"]
        winner = alice if results["race_alice"] == "won" else bob
        inst.refresh_from_db()
        assert inst.claimed_by_id == winner.pk
        services.release(inst, actor=winner)
