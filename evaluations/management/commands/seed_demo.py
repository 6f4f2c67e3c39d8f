from django.core.management.base import BaseCommand

from departments.demo import seed_organisation
from processes.demo import seed_processes


class Command(BaseCommand):
    help = "Build the demo bank (departments, calendars, users, processes, history). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=None, help="How many historical cases to create.")

    def handle(self, *args, **options):
        self.stdout.write("Demo organisation:")
        seed_organisation(stdout=self.stdout)
        seed_processes(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
