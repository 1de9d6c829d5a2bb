"""Scheduled work, declared in code. Each app lists its schedules in its jobs.py as `SCHEDULES`;
`sync()` (run after every `migrate`) writes them into django-q's Schedule table, updates the ones
that changed and removes the ones no longer declared. `yizhan schedules` lists them."""

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string

PREFIX = "yizhan:"  # our rows in django-q's table; anything else there is left alone


@dataclass(frozen=True)
class Every:
    """Run `func` every `minutes`, or daily at `at` ("HH:MM", Beijing time)."""

    name: str
    func: str
    label: str
    minutes: int | None = None
    at: str | None = None

    def when(self) -> str:
        """ "every 5 min" / "daily at 03:30", in the reader's language."""
        from django.utils.translation import gettext as _

        if self.minutes:
            return _("every %(n)s min") % {"n": self.minutes}
        return _("daily at %(at)s") % {"at": self.at}

    def first_run(self, now: datetime.datetime) -> datetime.datetime:
        if self.minutes:
            return now
        hour, minute = (int(part) for part in self.at.split(":"))
        local = timezone.localtime(now)
        candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return candidate if candidate > local else candidate + datetime.timedelta(days=1)


def declared() -> list[Every]:
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("yizhan."):
            continue
        try:
            module = import_string(f"{config.name}.jobs.SCHEDULES")
        except ImportError:
            continue
        found.extend(module)
    return sorted(found, key=lambda s: s.name)


def sync() -> list[str]:
    from django_q.models import Schedule

    now = timezone.now()
    wanted = {PREFIX + s.name: s for s in declared()}
    changes = []
    for name, spec in wanted.items():
        import_string(spec.func)  # a typo fails the migrate, not a worker at 3 a.m.
        values = {
            "func": spec.func,
            "schedule_type": Schedule.MINUTES if spec.minutes else Schedule.DAILY,
            "minutes": spec.minutes,
            "repeats": -1,
        }
        row = Schedule.objects.filter(name=name).first()
        if row is None:
            Schedule.objects.create(name=name, next_run=spec.first_run(now), **values)
            changes.append(f"+ {name}")
        elif any(getattr(row, k) != v for k, v in values.items()) or _at_changed(row, spec):
            for key, value in values.items():
                setattr(row, key, value)
            row.next_run = spec.first_run(now)
            row.save()
            changes.append(f"~ {name}")
    stale = Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted)
    changes += [f"- {name}" for name in stale.values_list("name", flat=True)]
    stale.delete()
    return changes


def _at_changed(row, spec: Every) -> bool:
    if spec.minutes or row.next_run is None:
        return False
    local = timezone.localtime(row.next_run)
    return f"{local:%H:%M}" != spec.at


def listing() -> list[dict]:
    from django_q.models import Schedule

    rows = {r.name: r for r in Schedule.objects.filter(name__startswith=PREFIX)}
    result = []
    for spec in declared():
        row = rows.get(PREFIX + spec.name)
        result.append({"spec": spec, "next_run": row.next_run if row else None})
    return result
