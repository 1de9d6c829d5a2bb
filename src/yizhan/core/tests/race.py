"""Two staff save the same station at the same moment from the same revision, in two real
transactions on two connections (threads). Shared by the PostgreSQL test (in the test database)
and the SQLite test, which runs this module in a subprocess on a file database: the in-memory
test database is shared-cache, where a second writer fails at once instead of waiting.

    YIZHAN_DEBUG=1 YIZHAN_VAR_DIR=/tmp/x python -m yizhan.core.tests.race   # prints JSON
"""

import json
import threading


def build():
    """A head office, an outlet, its station and two managers, made here: the race runs in a
    database that is emptied afterwards (PostgreSQL) or made for it (SQLite)."""
    from django.contrib.auth import get_user_model

    from yizhan.orgs.models import Membership, Unit
    from yizhan.stations.models import Station

    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="并发测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    outlet = Unit.objects.create(
        code="RACE-1", kind="outlet", name="并发测试网点", parent=root, path="/", level=1,
        address="重庆市渝中区测试路1号", lat=29.56, lng=106.55,
    )  # fmt: skip
    outlet.path = f"{root.path}{outlet.pk}/"
    outlet.save()
    users = []
    for name in ("race_alice", "race_bob"):
        user = get_user_model().objects.create_user(name, password="x-long-password-1")
        Membership.objects.create(user=user, unit=root, role="manager")
        users.append(user)
    station = Station.objects.create(
        code="RACE-S1", name="并发测试驿站", unit=outlet, address=outlet.address, lat=29.56, lng=106.55
    )
    return station, users


def race(station, users, rounds: int = 5) -> list[dict]:
    """Each round both read the station's revision, then both save a different name from it.
    Returns per round: who won, who was refused, and the audit events the round wrote."""
    from django.db import connections

    from yizhan.audit.models import AuditEvent
    from yizhan.core.concurrency import StaleEdit
    from yizhan.stations import services
    from yizhan.stations.models import Station

    outcomes = []
    for number in range(rounds):
        revision = Station.objects.get(pk=station.pk).revision
        events_before = AuditEvent.objects.filter(object_id=str(station.pk), action="station.updated").count()
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def attempt(user, results=results, barrier=barrier, revision=revision, number=number):
            try:
                barrier.wait(timeout=10)
                services.update_station(
                    station, actor=user, revision=revision, name=f"{user.username} 第{number}轮"
                )
                results[user.username] = "won"
            except StaleEdit as exc:
                results[user.username] = "stale:" + ",".join(exc.fields)
            except Exception as exc:  # noqa: BLE001 — reported, so the test shows what went wrong
                results[user.username] = f"error:{type(exc).__name__}:{exc}"
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        after = Station.objects.get(pk=station.pk)
        events = AuditEvent.objects.filter(object_id=str(station.pk), action="station.updated")
        outcomes.append(
            {
                "results": results,
                "revision": [revision, after.revision],
                "name": after.name,
                "events": events.count() - events_before,
                "event_actor": events.order_by("-pk").first().actor_name if events.exists() else None,
            }
        )
    return outcomes


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yizhan.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    station, users = build()
    print(json.dumps(race(station, users)))


if __name__ == "__main__":
    main()
