from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.jobs import schedules


class Command(BaseCommand):
    help = "List the scheduled work declared in code, with its next run (Beijing time)."

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="Write the declared schedules first.")

    def handle(self, *args, sync=False, **options):
        if sync:
            for change in schedules.sync():
                self.stdout.write(change)
        items = schedules.listing()
        width = max((len(item["spec"].name) for item in items), default=0)
        for item in items:
            spec, next_run = item["spec"], item["next_run"]
            when = timezone.localtime(next_run).strftime("%Y-%m-%d %H:%M") if next_run else _("not synced")
            self.stdout.write(f"{spec.name:<{width}}  {spec.when():<12} {when:<17} {spec.label}")
