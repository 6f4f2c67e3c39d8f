import holidays
from django.core.management.base import BaseCommand, CommandError

from core.errors import InvalidInput
from departments.models import BusinessCalendar
from departments.services import calendar_import_holidays


class Command(BaseCommand):
    help = "Import a year's public holidays and make-up working days into business calendars."

    def add_arguments(self, parser):
        parser.add_argument("--country", required=True, help="ISO country code, e.g. CN")
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument(
            "--calendar",
            action="append",
            dest="calendars",
            help="Calendar code (repeatable). Default: every calendar of that country.",
        )

    def handle(self, *args, country: str, year: int, calendars: list[str] | None, **options):
        country = country.upper()
        # Checked first: otherwise an unknown code finds no calendar and the error blames that.
        if country not in holidays.list_supported_countries():
            raise CommandError(f"Unknown country code {country!r}: the holidays package has no such country.")
        qs = BusinessCalendar.objects.filter(always_open=False)
        if calendars:
            qs = qs.filter(code__in=calendars)
            missing = set(calendars) - set(qs.values_list("code", flat=True))
            if missing:
                raise CommandError(f"Unknown or 24×7 calendar(s): {', '.join(sorted(missing))}")
        else:
            qs = qs.filter(country=country)
        if not qs.exists():
            raise CommandError(f"No calendar to import into for {country}; pass --calendar CODE.")
        for calendar in qs.order_by("code"):
            try:
                result = calendar_import_holidays(calendar=calendar, country=country, year=year)
            except InvalidInput as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(
                f"{calendar.code}: {result.holidays} holidays, {result.extra_workdays} make-up working days"
                f" for {year}"
                + (f" ({result.kept_manual} manual entries kept)" if result.kept_manual else "")
            )
