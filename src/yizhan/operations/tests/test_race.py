"""Two staff set overlapping statuses for one outlet at the same moment, in two real transactions
on two connections: exactly one is saved, the other is refused naming `starts_at`. Runs on
PostgreSQL (row locks); SQLite's shared-cache test database fails a second writer at once."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs a database whose writers wait for each other"
)


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_statuses_at_once_exactly_one_is_saved(django_user_model):
    from yizhan.operations import services
    from yizhan.operations.models import OperatingStatus
    from yizhan.orgs.models import Membership, Unit
    from yizhan.stations.models import Station

    # transactional_db flushes the database afterwards: this test builds what it needs.
    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="竞态测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    outlet = Unit.objects.create(
        code="RACE-1", kind="outlet", name="竞态测试网点", parent=root, path="/", level=1
    )
    outlet.path = f"{root.path}{outlet.pk}/"
    outlet.save()
    Station.objects.create(
        code="RACE-S1", name="竞态测试驿站", unit=outlet, address="测试路1号", lat=29.56, lng=106.55
    )
    users = []
    for name in ("race_alice", "race_bob"):
        user = django_user_model.objects.create_user(name, password="x-long-password-1")
        Membership.objects.create(user=user, unit=root, role="manager")
        users.append(user)

    for number in range(5):
        start = timezone.now() + datetime.timedelta(days=10 * number + 1)
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def attempt(user, results=results, barrier=barrier, start=start):
            try:
                barrier.wait(timeout=10)
                services.schedule_status(
                    outlet,
                    actor=user,
                    state="closed",
                    notice=user.username,
                    starts_at=start,
                    ends_at=start + datetime.timedelta(days=2),
                )
                results[user.username] = "won"
            except ValidationError as exc:
                results[user.username] = "refused:" + ",".join(exc.message_dict)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(results.values()) == ["refused:starts_at", "won"], results
    assert OperatingStatus.objects.filter(unit=outlet).count() == 5
    windows = Station.objects.get(code="RACE-S1").operating_windows
    assert len(windows) == 5


@pytest.mark.django_db(transaction=True)
def test_reports_at_once_are_all_counted_and_one_person_counts_once(django_user_model):
    from yizhan.operations import health
    from yizhan.operations.models import HealthDay, HealthReport, RosterEntry
    from yizhan.orgs.models import Unit
    from yizhan.stations import services as station_services

    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="竞态测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    outlet = Unit.objects.create(
        code="RACE-1", kind="outlet", name="竞态测试网点", parent=root, path="/", level=1
    )
    outlet.path = f"{root.path}{outlet.pk}/"
    outlet.save()
    today = timezone.localdate()
    if not health._calendar().is_workday(today):
        station_services.set_holiday(actor=None, date=today, kind="work", name="测试调休")
    people = [
        RosterEntry.objects.create(unit=outlet, name=f"员工{i}", on_from=today - datetime.timedelta(days=1))
        for i in range(6)
    ]
    health.open_day(today)
    # Six reports at once for six people, and the first person's report twice more.
    work = [*people, people[0], people[0]]
    barrier = threading.Barrier(len(work))
    results = []

    def attempt(entry):
        try:
            barrier.wait(timeout=10)
            health.submit_report(actor=None, entry=entry, temperature="36.5")
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(e,)) for e in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert HealthReport.objects.filter(unit=outlet, day=today).count() == 6
    row = HealthDay.objects.get(unit=root, day=today)
    assert row.on_time + row.late == 6
    assert (row.expected, row.on_time, row.late) == health.raw_completeness(root, today, today)[root.pk]


@pytest.mark.django_db(transaction=True)
def test_two_activations_for_one_outlet_at_once_exactly_one_is_saved(django_user_model):
    from yizhan.operations import plans
    from yizhan.operations.models import ActivatedOutlet, OperatingStatus
    from yizhan.orgs.models import Membership, Unit

    root = Unit.objects.create(code="RACE-HQ", kind="head_office", name="竞态测试总行", path="/", level=0)
    root.path = f"/{root.pk}/"
    root.save()
    outlet = Unit.objects.create(
        code="RACE-1", kind="outlet", name="竞态测试网点", parent=root, path="/", level=1
    )
    outlet.path = f"{root.path}{outlet.pk}/"
    outlet.save()
    template = plans.save_template(root, actor=None, name="竞态预案", measures=plans.default_measures())
    users = []
    for name in ("race_alice", "race_bob"):
        user = django_user_model.objects.create_user(name, password="x-long-password-1")
        Membership.objects.create(user=user, unit=root, role="admin")
        users.append(user)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def attempt(user):
        try:
            barrier.wait(timeout=10)
            plans.activate(template, actor=user, reason=user.username, outlets=["RACE-1"])
            results[user.username] = "won"
        except ValidationError as exc:
            results[user.username] = "refused:" + ",".join(exc.message_dict)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results.values()) == ["refused:outlets", "won"], results
    assert ActivatedOutlet.objects.filter(unit=outlet).count() == 1
    assert OperatingStatus.objects.live().filter(unit=outlet).count() == 1
