"""Create an API token for a user and print it once: manage.py create_api_token alice."""

from django.core.management.base import BaseCommand, CommandError

from leadflow.accounts.models import User
from leadflow.accounts.tokens import issue_token


class Command(BaseCommand):
    help = (
        "Create an API token for a user; the token is printed once and stored hashed."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="a label for the token")
        parser.add_argument(
            "--days", type=int, default=None, help="lifetime in days (0: no expiry)"
        )

    def handle(self, *args, username, name, days, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        _token, key = issue_token(user, actor=None, name=name, days=days)
        self.stdout.write(key)
