"""System checks: a calendar in use without holiday data for this or next year is a warning, not a crash."""

from django.core.checks import Warning, register
from django.db import DatabaseError


def calendars_missing_years() -> list[tuple[str, str, list[int]]]:
    """(calendar code, country, years without data) for calendars of active departments that import holidays."""
    from django.utils import timezone

    from departments.models import BusinessCalendar, CalendarException

    this_year = timezone.localdate().year
    wanted = {this_year, this_year + 1}
    have: dict[int, set[int]] = {}
    rows = CalendarException.objects.filter(date__year__in=wanted).values_list("calendar_id", "date")
    for calendar_id, day in rows:
        have.setdefault(calendar_id, set()).add(day.year)
    calendars = (
        BusinessCalendar.objects.filter(departments__is_active=True, always_open=False)
        .exclude(country="")
        .distinct()
        .order_by("code")
    )
    return [
        (c.code, c.country, sorted(wanted - have.get(c.pk, set())))
        for c in calendars
        if wanted - have.get(c.pk, set())
    ]


@register()
def holiday_data_check(app_configs=None, **kwargs):
    try:
        missing = calendars_missing_years()
    except DatabaseError:
        # No tables yet (before migrate) or no database reachable: nothing to say.
        return []
    return [
        Warning(
            f"Business calendar {code!r} has no holiday data for {', '.join(map(str, years))}.",
            hint=(
                "Until there is, those years' holidays count as working days. The holidays package learns "
                "a year in a release after its official schedule is published: "
                ".venv/bin/pip install --upgrade holidays, then "
                f"manage.py import_holidays --country {country} --year {years[0]} --calendar {code} "
                "(it says so if the package still lacks the year); or enter the holidays and make-up "
                "working days in the admin (business calendars)."
            ),
            id="departments.W001",
        )
        for code, country, years in missing
    ]
