from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Prove that every stock balance equals the sum of its ledger entries (exit 1 if not)."

    def handle(self, *args, **options):
        import time

        from yizhan.supplies import ledger

        started = time.perf_counter()
        checked, problems = ledger.check()
        for p in problems:
            self.stdout.write(
                f"unit {p.unit_id} item {p.item_id}: balance {p.balance}, ledger {p.ledger} ({p.what})"
            )
        elapsed = time.perf_counter() - started
        if problems:
            raise CommandError(_("%(n)s balances differ from their ledger.") % {"n": len(problems)})
        self.stdout.write(
            _("%(n)s balances checked in %(s).1f s: each equals the sum of its entries.")
            % {"n": checked, "s": elapsed}
        )
