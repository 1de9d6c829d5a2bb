"""A rush on the last units: many issues of the last few units at once, in real transactions on
separate connections. Exactly as many succeed as there are units; the balance never goes below
zero. Runs on PostgreSQL (row locks); SQLite serialises every writer (IMMEDIATE transactions), so
there the same refusal is the plain `test_an_issue_larger_than_the_balance_is_refused` and the
benchmark's threaded run."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a database whose writers wait for each other"
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads, units", [(2, 1), (6, 3)])
def test_concurrent_issues_of_the_last_units_never_oversell(django_user_model, threads, units):
    from yizhan.orgs.models import Membership, Unit
    from yizhan.supplies import ledger, services
    from yizhan.supplies.models import Balance, Entry, Item

    # transactional_db flushes the database afterwards: this test builds what it needs.
    root = Unit.objects.create(code="RACE-SUP", kind="head_office", name="竞态测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    item = Item.objects.create(code="RACE-HAT", name="竞态遮阳帽", uom="顶", category="courier_gear")
    people = []
    for n in range(threads):
        user = django_user_model.objects.create_user(f"race_sup_{n}", password="x-long-password-1")
        Membership.objects.create(user=user, unit=root, role="manager")
        people.append(user)
    from django.db import transaction

    with transaction.atomic():
        services.receive_stock(root, actor=people[0], item=item, qty=units)

    barrier = threading.Barrier(threads)
    results = []

    def attempt(user):
        try:
            barrier.wait(timeout=10)
            services.issue_stock(
                root, actor=user, lines=[(item, 1)], recipient_kind="worker", group="courier"
            )
            results.append("ok")
        except ValidationError as exc:
            results.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=attempt, args=(u,)) for u in people]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert results.count("ok") == units, results
    assert len(results) == threads
    assert Balance.objects.get(unit=root, item=item).qty == 0
    assert Entry.objects.filter(unit=root, item=item, kind="issue").count() == units
    assert ledger.check()[1] == []
