from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone
from tqdm import tqdm

from departments.demo import seed_organisation
from evaluations.demo import seed_evaluations
from evaluations.reviews.demo import seed_reviews
from processes.demo import seed_processes
from processes.demo_history import last_demo_case_opened, seed_history

# Older than this, the demo's queues show nothing but cases breached long ago.
STALE_AFTER = timedelta(days=30)
# SQLite, for this connection only: a bulk load into a demo database. No fsync (a crash of the
# machine, not of the process, can spoil the file: start again from an empty one), fewer checkpoints,
# and a page cache that holds the indexes of a hundred thousand cases.
SQLITE_BULK_LOAD = (
    "PRAGMA synchronous=OFF",
    "PRAGMA wal_autocheckpoint=20000",
    "PRAGMA cache_size=-131072",
)


class Command(BaseCommand):
    def _progress(self, **kwargs):
        return tqdm(file=self.stderr._out, mininterval=1, **kwargs)

    help = (
        "Build the demo bank (departments, calendars, users, processes, history, feedback, inspections, "
        "evaluations, improvement reviews). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases", type=int, default=400, help="How many demo cases should exist (default 400)."
        )

    def handle(self, *args, **options):
        # With DEBUG on (make run) Django keeps the text of every SQL statement for the debug pages;
        # over a hundred thousand cases that bookkeeping alone is a sixth of the run.
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                for pragma in SQLITE_BULK_LOAD:
                    cursor.execute(pragma)
        with override_settings(DEBUG=False):
            self._seed(options)

    def _seed(self, options):
        self.stdout.write("Demo organisation:")
        seed_organisation(stdout=self.stdout)
        seed_processes(stdout=self.stdout)
        added = seed_history(cases=options["cases"], progress=self._progress)
        self.stdout.write(f"  cases: {added} added")
        newest = last_demo_case_opened()
        if newest is not None and timezone.now() - newest > STALE_AFTER:
            self.stdout.write(
                self.style.WARNING(
                    f"  The demo cases were opened up to {timezone.localdate(newest)}, more than "
                    f"{STALE_AFTER.days} days ago, so their SLAs lie far in the past. To reseed them relative "
                    "to today, start from an empty database (the default SQLite one: make clean && make run)."
                )
            )
        seed_evaluations(progress=self._progress, stdout=self.stdout)
        seed_reviews(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
