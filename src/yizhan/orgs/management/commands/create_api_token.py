from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from yizhan.audit.services import audit_via
from yizhan.orgs.scoping import scope_for
from yizhan.orgs.services import create_api_token


class Command(BaseCommand):
    help = "Create a personal API token for a staff user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, username, name, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        if not scope_for(user).is_staff:
            raise CommandError(f"{username!r} has no staff membership; a token would grant nothing.")
        with audit_via("cli"):
            _token, raw = create_api_token(user=user, name=name)
        self.stdout.write(raw)
