from django.core.management.base import BaseCommand

from core.beat import install_schedules


class Command(BaseCommand):
    help = "Install the periodic tasks declared in core/beat.py into the beat schedule tables."

    def add_arguments(self, parser):
        parser.add_argument("--overwrite", action="store_true", help="Reset edited entries to the defaults.")

    def handle(self, *args, overwrite: bool, **options):
        created = install_schedules(overwrite=overwrite)
        self.stdout.write(f"Periodic tasks installed: {', '.join(created) or 'none new'}")
