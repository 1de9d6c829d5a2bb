from django.core.management.base import BaseCommand

from yizhan.visits.services import purge_device_marks


class Command(BaseCommand):
    help = "Forget device marks older than the 30-minute check-in window (run it daily, e.g. from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"{purge_device_marks()} device marks removed.")
