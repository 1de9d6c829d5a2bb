"""Scheduled work is declared in code and written into django-q's table by `migrate`."""

from django.core.management import call_command
from django_q.models import Schedule

from yizhan.jobs import schedules


def test_every_declared_schedule_is_synced_with_a_next_run(db):
    names = {s.name for s in schedules.declared()}
    assert {"jobs.sweep", "visits.purge_device_marks", "remittance.release_lapsed_claims"} <= names
    rows = {r.name: r for r in Schedule.objects.filter(name__startswith=schedules.PREFIX)}
    assert set(rows) == {schedules.PREFIX + n for n in names}  # post_migrate already ran
    assert all(r.next_run is not None for r in rows.values())


def test_sync_updates_changed_and_removes_undeclared(db):
    Schedule.objects.filter(name="yizhan:jobs.sweep").update(minutes=99)
    Schedule.objects.create(
        name="yizhan:gone", func="yizhan.jobs.services.sweep", schedule_type="I", minutes=5
    )
    Schedule.objects.create(name="hand-made", func="yizhan.jobs.services.sweep", schedule_type="I", minutes=5)
    changes = schedules.sync()
    assert "~ yizhan:jobs.sweep" in changes and "- yizhan:gone" in changes
    assert Schedule.objects.get(name="yizhan:jobs.sweep").minutes == 1
    assert Schedule.objects.filter(name="hand-made").exists()  # not ours: left alone
    assert schedules.sync() == []


def test_daily_schedules_run_at_their_beijing_time(db):
    from django.utils import timezone

    row = Schedule.objects.get(name="yizhan:visits.purge_device_marks")
    local = timezone.localtime(row.next_run)
    assert (local.hour, local.minute) == (3, 30) and row.next_run > timezone.now()


def test_the_command_lists_each_with_its_next_run(db, capsys):
    call_command("schedules")
    out = capsys.readouterr().out
    for spec in schedules.declared():
        assert spec.name in out
    assert "03:30" in out
