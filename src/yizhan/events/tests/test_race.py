"""A rush on the last places, on real threads and connections: never more confirmed than the
capacity, the rest on the waiting list in order. PostgreSQL (row locks); on SQLite writers are
serialised by the IMMEDIATE transactions, which bench/signups.py exercises over HTTP."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs writers that wait for each other"
)


def _build():
    from django.contrib.auth import get_user_model

    from yizhan.events import services
    from yizhan.orgs.models import Membership, Unit
    from yizhan.stations.models import Station

    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="并发测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    admin = get_user_model().objects.create_user("race_admin", password="x-long-password-1")
    Membership.objects.create(user=admin, unit=root, role="admin")
    station = Station.objects.create(
        code="RACE-S1", name="并发测试驿站", unit=root, address="测试路1号", lat=29.5, lng=106.5
    )
    event = services.create_event(
        actor=admin, unit=root, title="抢名额", kind="lecture", capacity=5, max_party=2
    )
    start = timezone.now() + datetime.timedelta(days=1)
    (occ,) = services.add_occurrences(event, actor=admin, stations=[station.code], starts_at=start,
                                      ends_at=start + datetime.timedelta(hours=1))  # fmt: skip
    return admin, occ


@pytest.mark.django_db(transaction=True)
def test_a_rush_on_the_last_places_never_oversells():
    from yizhan.events import services
    from yizhan.events.models import Occurrence, Registration

    _admin, occ = _build()
    n = 24
    barrier = threading.Barrier(n)
    errors = []

    def attempt(i):
        try:
            barrier.wait(timeout=20)
            services.sign_up(
                Occurrence.objects.get(pk=occ.pk), name=f"抢{i}", phone=f"139{i:08d}", party=1 + i % 2
            )
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    regs = Registration.objects.filter(occurrence=occ)
    confirmed = sum(r.party for r in regs if r.state == "confirmed")
    assert regs.count() == n
    assert confirmed <= 5 and confirmed >= 4  # a party of 2 may leave one place it cannot use
    assert Occurrence.objects.get(pk=occ.pk).taken == confirmed
    assert regs.filter(state="waitlisted").count() == n - regs.filter(state="confirmed").count()


@pytest.mark.django_db(transaction=True)
def test_the_same_phone_at_the_same_moment_signs_up_once():
    from yizhan.events import services
    from yizhan.events.models import Occurrence, Registration

    _admin, occ = _build()
    barrier = threading.Barrier(6)
    outcomes = []

    def attempt():
        try:
            barrier.wait(timeout=20)
            services.sign_up(Occurrence.objects.get(pk=occ.pk), name="同一人", phone="13912345678")
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001
            outcomes.append(type(exc).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["ValidationError"] * 5 + ["ok"]
    assert Registration.objects.filter(occurrence=occ).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_staff_editing_one_event_one_wins():
    from yizhan.core.concurrency import StaleEdit
    from yizhan.events import services
    from yizhan.events.models import Event

    admin, occ = _build()
    event = occ.event
    barrier = threading.Barrier(2)
    results = []

    def attempt(title):
        try:
            barrier.wait(timeout=10)
            services.update_event(event, actor=admin, revision=event.revision, title=title, kind="lecture")
            results.append("won")
        except StaleEdit:
            results.append("stale")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(t,)) for t in ("甲改的", "乙改的")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["stale", "won"]
    assert Event.objects.get(pk=event.pk).revision == event.revision + 1
