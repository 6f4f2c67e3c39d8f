"""`manage.py attachments_sweep [--hours N]`: delete stored attachment files that have no row.

`attachment_add` deletes what it wrote when its own transaction fails; this removes what a caller's
enclosing transaction rolled back afterwards (or a process killed between the write and the commit)."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from processes.attachments import attachment_orphans_delete


class Command(BaseCommand):
    help = "Delete stored attachment files without a row, older than --hours (default 1)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=1.0)

    def handle(self, *args, hours: float, **options):
        deleted = attachment_orphans_delete(older_than=timedelta(hours=hours))
        self.stdout.write(f"{len(deleted)} file(s) deleted")
