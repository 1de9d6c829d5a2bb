from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import translation

from yizhan.audit.services import audit_via
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scope_for
from yizhan.remittance import services
from yizhan.remittance.models import Batch


class Command(BaseCommand):
    help = (
        "Import pending remittance instructions (csv in UTF-8/GBK, or xlsx) into a batch: check every row, "
        "screen, group duplicates, and print a summary. Nothing is imported from a file with errors unless "
        "--valid-only is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .csv or .xlsx export from core banking")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--batch", type=int, help="id of the batch to import into")
        target.add_argument("--new-batch", metavar="NAME", help="create a batch with this name")
        parser.add_argument(
            "--deadline", help="with --new-batch: end of the holiday, e.g. '2020-02-02 23:59'"
        )
        parser.add_argument(
            "--unit", default="", help="with --new-batch: owner unit code (default: head office)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check, screen and group only; write nothing"
        )
        parser.add_argument(
            "--valid-only", action="store_true", help="import the valid rows of a file with errors"
        )
        parser.add_argument(
            "--report", metavar="OUT.csv", help="write one row per instruction: rules hit, group, errors"
        )
        parser.add_argument(
            "--user", default="", help="act as this staff user (scope and audit); default: system"
        )

    def handle(self, *args, **opts):
        translation.activate(settings.LANGUAGE_CODE)
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        actor = scope = None
        if opts["user"]:
            actor = get_user_model().objects.filter(username=opts["user"], is_active=True).first()
            if actor is None or not scope_for(actor).can("change"):
                raise CommandError(f"{opts['user']}: no active staff user allowed to import")
            scope = scope_for(actor)
        with audit_via("cli"), transaction.atomic():
            batch = self._batch(opts, actor, scope)
            if batch.pk and scope is not None and not services.owns_batch(scope, batch):
                raise CommandError("the batch belongs to a unit outside the user's part of the tree")
            try:
                report = services.run_import(
                    batch,
                    actor=actor,
                    filename=path.name,
                    data=path.read_bytes(),
                    dry_run=opts["dry_run"],
                    valid_only=opts["valid_only"],
                    scope=scope,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            if not report.imported:
                transaction.set_rollback(True)  # a batch created for a refused file is not kept
        for error in report.errors[:200]:
            self.stderr.write(str(error))
        if len(report.errors) > 200:
            self.stderr.write(f"… {len(report.errors) - 200} more errors (see --report)")
        if opts["report"]:
            Path(opts["report"]).write_bytes(report.report_csv())
        for line in report.summary_lines():
            self.stdout.write(line)
        if report.errors and not report.imported:
            raise CommandError("the file has errors" if report.dry_run else "nothing imported")

    def _batch(self, opts, actor, scope) -> Batch:
        if opts["batch"]:
            batch = Batch.objects.select_related("unit").filter(pk=opts["batch"]).first()
            if batch is None or (
                scope is not None and not Batch.objects.for_user(scope).filter(pk=batch.pk).exists()
            ):
                raise CommandError(f"no batch {opts['batch']}")
            return batch
        code = opts["unit"] or (Unit.objects.get(pk=scope.unit_id).code if scope else "")
        unit = (
            Unit.objects.filter(code=code).first()
            if code
            else Unit.objects.filter(parent__isnull=True).first()
        )
        if unit is None or (scope is not None and not scope.covers(unit.path)):
            raise CommandError(f"no unit {code!r} in your part of the tree")
        values = {"name": opts["new_batch"], "deadline": opts["deadline"]}
        try:
            clean = services.clean_batch(values)
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        if opts["dry_run"]:
            return Batch(unit=unit, **clean)  # never saved: a dry run writes nothing
        return services.create_batch(actor=actor, unit=unit, **values)
