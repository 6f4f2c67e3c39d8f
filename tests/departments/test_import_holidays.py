"""`manage.py import_holidays`: a year's official holidays and make-up days from the holidays package."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from departments.models import CalendarException
from tests.factories import CalendarExceptionFactory, CalendarFactory

pytestmark = pytest.mark.django_db

HOLIDAY = CalendarException.Kind.HOLIDAY
EXTRA_WORKDAY = CalendarException.Kind.EXTRA_WORKDAY


def import_holidays(*args: str) -> str:
    out = StringIO()
    call_command("import_holidays", *args, stdout=out)
    return out.getvalue()


def rows(calendar) -> list[tuple]:
    return list(calendar.exceptions.order_by("date").values_list("date", "kind", "name", "source"))


def kinds(calendar) -> dict[date, str]:
    return dict(calendar.exceptions.values_list("date", "kind"))


@pytest.fixture
def head_office():
    return CalendarFactory(code="CN_HEAD_OFFICE", country="CN")


def test_import_writes_the_official_2026_holidays_and_make_up_days(head_office):
    output = import_holidays("--country", "CN", "--year", "2026")

    imported = kinds(head_office)
    assert imported[date(2026, 10, 1)] == HOLIDAY
    assert imported[date(2026, 10, 4)] == HOLIDAY  # the Sunday inside the National Day block
    assert imported[date(2026, 10, 10)] == EXTRA_WORKDAY
    assert imported[date(2026, 9, 20)] == EXTRA_WORKDAY
    assert imported[date(2026, 2, 14)] == EXTRA_WORKDAY
    assert imported[date(2026, 2, 17)] == HOLIDAY  # Spring Festival
    assert {d for d, kind in imported.items() if kind == EXTRA_WORKDAY} == {
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    }
    assert all(d.year == 2026 for d in imported)
    assert set(head_office.exceptions.values_list("source", flat=True)) == {"holidays:CN"}
    assert "CN_HEAD_OFFICE:" in output
    assert "6 make-up working days for 2026" in output


def test_the_imported_days_change_the_business_time(head_office):
    import_holidays("--country", "CN", "--year", "2026")

    schedule = head_office.schedule()
    assert date(2026, 10, 1) in schedule.holidays
    assert date(2026, 10, 10) in schedule.extra_workdays


def test_importing_twice_changes_nothing(head_office):
    import_holidays("--country", "CN", "--year", "2026")
    first = rows(head_office)

    import_holidays("--country", "CN", "--year", "2026")

    assert rows(head_office) == first


def test_only_calendars_of_that_country_are_filled_unless_named(head_office):
    other = CalendarFactory(code="HK_OFFICE", country="HK")
    round_the_clock = CalendarFactory(code="CN_24X7", country="", always_open=True)

    import_holidays("--country", "CN", "--year", "2026")

    assert head_office.exceptions.exists()
    assert not other.exceptions.exists()
    assert not round_the_clock.exceptions.exists()


def test_a_named_calendar_without_a_country_gets_it(db):
    calendar = CalendarFactory(code="NEW_OFFICE", country="")

    import_holidays("--country", "cn", "--year", "2026", "--calendar", "NEW_OFFICE")

    calendar.refresh_from_db()
    assert calendar.country == "CN"
    assert kinds(calendar)[date(2026, 10, 1)] == HOLIDAY


def test_entries_made_in_the_admin_are_kept(head_office):
    # The bank decided 8 Oct is off too, and works 1 Oct (an entry on an imported date wins).
    extra_day_off = CalendarExceptionFactory(
        calendar=head_office, date=date(2026, 10, 8), kind=HOLIDAY, name="Bank holiday"
    )
    works_anyway = CalendarExceptionFactory(
        calendar=head_office, date=date(2026, 10, 1), kind=EXTRA_WORKDAY, name="Systems cut-over"
    )

    output = import_holidays("--country", "CN", "--year", "2026")
    import_holidays("--country", "CN", "--year", "2026")

    manual = head_office.exceptions.filter(source="").order_by("date")
    assert list(manual.values_list("pk", "date", "kind", "name")) == [
        (works_anyway.pk, date(2026, 10, 1), EXTRA_WORKDAY, "Systems cut-over"),
        (extra_day_off.pk, date(2026, 10, 8), HOLIDAY, "Bank holiday"),
    ]
    assert kinds(head_office)[date(2026, 10, 2)] == HOLIDAY
    assert "(2 manual entries kept)" in output


def test_an_unknown_country_is_refused_and_nothing_is_written(head_office):
    with pytest.raises(CommandError, match="Unknown country code 'XX'"):
        import_holidays("--country", "XX", "--year", "2026")
    with pytest.raises(CommandError, match="Unknown country code 'XX'"):
        import_holidays("--country", "XX", "--year", "2026", "--calendar", "CN_HEAD_OFFICE")

    assert not CalendarException.objects.exists()


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (2027, "official CN holiday schedule for 2027 is not in the installed holidays package"),
        (1900, "no data for CN 1900"),
    ],
)
def test_a_year_without_official_data_is_refused_and_nothing_is_written(head_office, year, message):
    second = CalendarFactory(code="CN_BRANCH", country="CN")
    CalendarExceptionFactory(calendar=second, date=date(2026, 10, 8))
    before = rows(head_office), rows(second)

    with pytest.raises(CommandError, match=message):
        import_holidays("--country", "CN", "--year", str(year))

    assert (rows(head_office), rows(second)) == before


def test_an_unknown_calendar_is_refused(head_office):
    with pytest.raises(CommandError, match="NOPE"):
        import_holidays("--country", "CN", "--year", "2026", "--calendar", "NOPE")

    assert not CalendarException.objects.exists()
