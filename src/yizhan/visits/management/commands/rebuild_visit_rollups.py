from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yizhan.audit.services import audit_via, record
from yizhan.orgs.models import Unit
from yizhan.stations.models import Station
from yizhan.visits import rollups


class Command(BaseCommand):
    help = (
        "Recompute the daily and monthly visit rollups from the raw check-ins and tallies "
        "(all stations, or those given). Check-ins keep them current; this is for repair and audit."
    )

    def add_arguments(self, parser):
        parser.add_argument("stations", nargs="*", help="station codes (default: every station)")

    def handle(self, *args, stations=(), **options):
        ids = None
        if stations:
            found = dict(Station.objects.filter(code__in=stations).values_list("code", "pk"))
            missing = sorted(set(stations) - set(found))
            if missing:
                raise CommandError(f"Unknown station code(s): {', '.join(missing)}")
            ids = list(found.values())
        with transaction.atomic(), audit_via("cli"):
            rollups.rebuild(ids)
            root = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
            record(
                "visits.rollups_rebuilt",
                "rollups",
                unit=root,
                changes={"stations": [None, sorted(stations) or "all"]},
            )
        self.stdout.write(f"Rollups rebuilt for {len(ids) if ids is not None else 'all'} stations.")
