"""Scheduled work is declared in code and written into django-q's table by `migrate`."""

import datetime

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

    # The test database was migrated when the run began, maybe before 03:30 passed: sync afresh.
    Schedule.objects.filter(name="yizhan:visits.purge_device_marks").delete()
    before = timezone.now()
    assert "+ yizhan:visits.purge_device_marks" in schedules.sync()
    row = Schedule.objects.get(name="yizhan:visits.purge_device_marks")
    local = timezone.localtime(row.next_run)
    assert (local.hour, local.minute) == (3, 30)
    assert before < row.next_run <= before + datetime.timedelta(days=1)


def test_a_daily_first_run_is_today_before_its_time_and_tomorrow_after():
    from zoneinfo import ZoneInfo

    spec = schedules.Every(name="x", func="f", label="x", at="03:30")
    beijing = ZoneInfo("Asia/Shanghai")
    early = datetime.datetime(2026, 12, 2, 3, 29, 59, tzinfo=beijing)
    assert spec.first_run(early) == datetime.datetime(2026, 12, 2, 3, 30, tzinfo=beijing)
    for late in (early.replace(minute=30, second=0), early.replace(minute=31)):
        assert spec.first_run(late) == datetime.datetime(2026, 12, 3, 3, 30, tzinfo=beijing)


def test_the_command_lists_each_with_its_next_run(db, capsys):
    call_command("schedules")
    out = capsys.readouterr().out
    for spec in schedules.declared():
        assert spec.name in out
    assert "03:30" in out
