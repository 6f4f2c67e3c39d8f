from django.core.management.base import BaseCommand
from tqdm import tqdm

from departments.demo import seed_organisation
from processes.demo import seed_processes
from processes.demo_history import seed_history


class Command(BaseCommand):
    def _progress(self, **kwargs):
        return tqdm(file=self.stderr._out, mininterval=1, **kwargs)

    help = "Build the demo bank (departments, calendars, users, processes, history). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--cases", type=int, default=400, help="How many demo cases should exist (default 400)."
        )

    def handle(self, *args, **options):
        self.stdout.write("Demo organisation:")
        seed_organisation(stdout=self.stdout)
        seed_processes(stdout=self.stdout)
        added = seed_history(cases=options["cases"], progress=self._progress)
        self.stdout.write(f"  cases: {added} added")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
