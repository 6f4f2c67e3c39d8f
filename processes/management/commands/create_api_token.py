"""`manage.py create_api_token USERNAME`: print the user's API key (created if missing).

The key goes alone to stdout, so that scripts can capture it: `KEY=$(manage.py create_api_token crm)`.
The token acts as its user: the same departments and rights as that user has in the admin.
"""

from django.core.management.base import BaseCommand, CommandError

from departments.errors import ApplicationError
from processes.api.tokens import api_token_issue, api_token_revoke


class Command(BaseCommand):
    help = "Print USERNAME's API token for `Authorization: Token <key>` (created if missing)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace an existing key; the old one stops working."
        )
        parser.add_argument("--revoke", action="store_true", help="Delete the key and print nothing.")

    def handle(self, *args, username: str, rotate: bool, revoke: bool, **options):
        try:
            if revoke:
                revoked = api_token_revoke(username=username)
                self.stderr.write(f"{username}: {'token revoked' if revoked else 'had no token'}")
                return
            token, created = api_token_issue(username=username, rotate=rotate)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"{username}: {'new' if created else 'existing'} token")
        self.stdout.write(token.key)
