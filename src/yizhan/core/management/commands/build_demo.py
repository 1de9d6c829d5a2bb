from django.core.management.base import BaseCommand
from django.db import transaction

from yizhan.core import demo


class Command(BaseCommand):
    help = "Build the deterministic demo network (org tree, stations, visits, remittance batch)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if any unit exists.")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
        parser.add_argument("--small", action="store_true", help="A reduced network (for quick tries).")

    def handle(self, *args, if_empty=False, seed=demo.DEFAULT_SEED, small=False, **options):
        from yizhan.orgs.models import Unit

        if Unit.objects.exists():
            if if_empty:
                self.stdout.write("Demo data already present.")
                self._print_logins()
                return
            self.stderr.write("The database already has units; build the demo only into an empty one.")
            raise SystemExit(1)
        ctx = demo.DemoContext(seed=seed, small=small, log=lambda msg: self.stdout.write(msg))
        with transaction.atomic():
            demo.build(ctx)
        self._print_logins()

    def _print_logins(self):
        from yizhan.orgs.demo import DEMO_USERS

        self.stdout.write("")
        self.stdout.write("Demo logins (password for all: %s)" % demo.DEMO_PASSWORD)
        for username, _unit, role, note in DEMO_USERS:
            self.stdout.write(f"  {username:<16} {role:<8} {note}")
        self.stdout.write("Back office: /manage/    Public locator: /")
