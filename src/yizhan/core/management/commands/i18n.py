import json
from pathlib import Path

from django.core.management.base import BaseCommand

from yizhan.core import i18n


class Command(BaseCommand):
    help = "Extract translatable strings into every app's catalogue and compile them (no gettext needed)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--missing", action="store_true", help="Print untranslated zh-hans strings as JSON."
        )
        parser.add_argument("--apply", metavar="JSON", help="Fill zh-hans translations from a JSON object.")

    def handle(self, *args, missing=False, apply=None, **options):
        if missing:
            self.stdout.write(i18n.dumps_missing())
            return
        if apply:
            data = json.loads(Path(apply).read_text("utf-8"))
            count = i18n.apply_json(data)
            self.stdout.write(f"applied {count} translations")
        total = 0
        for domain in i18n.domains():
            result = i18n.update(domain)
            for locale, count in result.items():
                total += count if locale == "zh_Hans" else 0
                if count:
                    self.stdout.write(f"{domain.root.name}/{locale}: {count} untranslated")
        self.stdout.write(f"untranslated zh_Hans strings: {total}")
