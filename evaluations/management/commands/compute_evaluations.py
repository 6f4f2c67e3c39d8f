"""`manage.py compute_evaluations --period monthly --start 2026-11-01 [--count 3]`

Computes (or recomputes, replacing the previous result) every active department's evaluation of one
period, or of `--count` consecutive periods from `--start`, with a progress bar on stderr.
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import ApplicationError
from evaluations.periods import PeriodKind, period_starting
from evaluations.services import evaluation_compute_period


class Command(BaseCommand):
    help = "Compute the evaluations of a period (weekly, monthly or quarterly) for all departments."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, choices=PeriodKind.values, help="Period kind.")
        parser.add_argument("--start", required=True, help="First day of the period, YYYY-MM-DD.")
        parser.add_argument("--count", type=int, default=1, help="How many consecutive periods (default 1).")

    def handle(self, *args, **options):
        try:
            start = date.fromisoformat(options["start"])
        except ValueError as exc:
            raise CommandError(f"--start: not a date (YYYY-MM-DD): {options['start']!r}") from exc
        if options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        try:
            period = period_starting(options["period"], start)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        periods = [period]
        for _ in range(options["count"] - 1):
            periods.append(periods[-1].next())
        total = 0
        with tqdm(periods, unit="period", file=self.stderr._out, disable=None) as bar:
            for p in bar:
                bar.set_postfix_str(p.label)
                total += len(evaluation_compute_period(kind=p.kind, start=p.start))
        self.stdout.write(
            self.style.SUCCESS(
                f"{total} evaluations computed for {len(periods)} {options['period']} period(s) from {periods[0].label}."
            )
        )
