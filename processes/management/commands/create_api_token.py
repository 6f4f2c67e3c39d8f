"""`manage.py create_api_token USERNAME [--name NAME] [--days N]`: issue an API key and print it.

The key goes alone to stdout, once, so that scripts can capture it: `KEY=$(manage.py create_api_token
crm)`; only its hash is stored, the admin shows its prefix. The key acts as its user: the same
departments and rights as that user has in the admin. `--revoke` (with `--name` or `--prefix`, or
all of the user's keys) takes effect on the next request.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.errors import ApplicationError
from processes.api.tokens import api_token_issue, api_token_revoke


class Command(BaseCommand):
    help = "Issue an API key of USERNAME for `Authorization: Token <key>` and print it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default=None, help="Name of the key (default: default).")
        parser.add_argument("--days", type=int, default=None, help="Days until the key expires.")
        parser.add_argument(
            "--rotate", action="store_true", help="Revoke the user's keys of this name, then issue a new one."
        )
        parser.add_argument("--revoke", action="store_true", help="Revoke keys and print nothing.")
        parser.add_argument("--prefix", default=None, help="With --revoke: the key with this prefix.")

    def handle(self, *args, username: str, name, days, rotate: bool, revoke: bool, prefix, **options):
        try:
            if revoke:
                count = api_token_revoke(username=username, name=name, prefix=prefix)
                self.stderr.write(f"{username}: {count} key(s) revoked")
                return
            expires = timezone.now() + timedelta(days=days) if days else None
            issued = api_token_issue(
                username=username, name=name or "default", rotate=rotate, expires_at=expires
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        row = issued.api_key
        self.stderr.write(f"{username}: key {row.name!r} ({row.prefix}…), expires {row.expires_at:%Y-%m-%d}")
        self.stdout.write(issued.key)
