"""Two staff do the same step of one case at the same moment, on real threads and connections
(PostgreSQL row locks): exactly one wins, the other is refused as stale, one audit event."""

import threading

import pytest
from django.db import connection, connections


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_staff_doing_one_step_at_once_exactly_one_wins():
    from yizhan.audit.models import AuditEvent
    from yizhan.cases import services
    from yizhan.cases.models import Case, CaseStep
    from yizhan.core.concurrency import StaleEdit
    from yizhan.core.tests import race

    station, users = race.build()
    for round_ in range(3):
        case = services.open_case(actor=users[0], unit=station.unit, case_type="fraud", title=f"并发{round_}")
        revision = case.revision
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def attempt(user, case=case, revision=revision, barrier=barrier, results=results):
            try:
                barrier.wait(timeout=10)
                services.complete_step(case, actor=user, step="calmed", note=user.username, revision=revision)
                results[user.username] = "won"
            except StaleEdit:
                results[user.username] = "stale"
            except Exception as exc:  # noqa: BLE001 — reported, so the test shows what went wrong
                results[user.username] = f"error:{type(exc).__name__}:{exc}"
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results.values()) == ["stale", "won"], results
        winner = next(name for name, result in results.items() if result == "won")
        step = CaseStep.objects.get(case=case, code="calmed")
        assert step.note == winner and Case.objects.get(pk=case.pk).revision == revision + 1
        assert AuditEvent.objects.filter(object_id=str(case.pk), action="case.step_done").count() == 1
