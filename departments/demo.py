"""The demo organisation: calendars, departments, users. Idempotent."""

from __future__ import annotations

import functools
from datetime import date, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from departments.models import BusinessCalendar, Department, Membership
from departments.roles import AUDITORS, QUALITY_OFFICE, STAFF, ensure_role_groups
from departments.services import calendar_import_holidays, calendar_set_hours

HEAD_OFFICE_HOURS = [(d, time(9), time(12)) for d in range(5)] + [
    (d, time(13, 30), time(17, 30)) for d in range(5)
]
BRANCH_HOURS = [(d, time(9), time(17)) for d in range(7)]

CALENDARS = [
    # code, name, always open, hours
    ("CN_24X7", "7×24 小时 (客服中心)", True, []),
    ("CN_BRANCH", "网点营业时间 每日 09:00–17:00", False, BRANCH_HOURS),
    ("CN_HEAD_OFFICE", "总行工作日 09:00–12:00, 13:30–17:30", False, HEAD_OFFICE_HOURS),
]

DEPARTMENTS = [
    # code, name, English name, calendar
    ("BRANCH", "网点", "Branch network", "CN_BRANCH"),
    ("CALL_CENTER", "客服中心", "Call center", "CN_24X7"),
    ("CARD_CENTER", "信用卡中心", "Card center", "CN_HEAD_OFFICE"),
    ("RETAIL_LENDING", "个人贷款部", "Retail lending", "CN_HEAD_OFFICE"),
    ("RISK", "风险管理部", "Risk management", "CN_HEAD_OFFICE"),
    ("COMPLIANCE", "合规部", "Compliance", "CN_HEAD_OFFICE"),
    ("IT", "信息科技部", "Information technology", "CN_HEAD_OFFICE"),
    ("SERVICE_QUALITY", "服务质量管理部", "Service quality office", "CN_HEAD_OFFICE"),
]

# The first year the demo imports: cases and tests at fixed 2026 dates rely on its holidays whatever
# the clock says. From there up to next year, because the history reaches months back and SLA clocks
# run into next year.
FIRST_HOLIDAY_YEAR = 2025


def holiday_years(today: date) -> range:
    return range(min(FIRST_HOLIDAY_YEAR, today.year - 1), today.year + 2)


def missing_holidays_warning(country: str, missing: dict[int, list[str]]) -> str:
    """One warning for the years the installed holidays package has no data for, with the next step."""
    years = sorted(missing)
    calendars = sorted({code for codes in missing.values() for code in codes})
    return (
        f"  Warning: no {country} holiday data for {', '.join(map(str, years))} in the installed holidays "
        f"package (calendars {', '.join(calendars)}); until there is, those holidays count as working "
        f"days. Next step: .venv/bin/pip install --upgrade holidays, then manage.py import_holidays "
        f"--country {country} --year {years[0]} for each year (it says so if the package still lacks "
        f"one), or enter the dates in the admin."
    )


@functools.cache
def _demo_hash(password: str) -> str:
    return make_password(password)


def _user(username: str, *, email: str, first_name: str = "", staff: bool = True, superuser: bool = False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": email, "first_name": first_name, "is_staff": staff, "is_superuser": superuser},
    )
    if created:
        password = getattr(settings, "BATON_DEMO_PASSWORD", None)
        # Demo passwords exist in development and tests only; elsewhere the accounts cannot log in.
        if password:
            # One hash for every demo account (a million PBKDF2 rounds each is seconds of a seed).
            user.password = _demo_hash(password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_organisation(*, stdout=None, today: date | None = None) -> dict[str, Department]:
    def say(msg: str) -> None:
        if stdout is not None:
            stdout.write(msg)

    today = today or timezone.localdate()
    missing: dict[int, list[str]] = {}
    calendars: dict[str, BusinessCalendar] = {}
    for code, name, always_open, hours in CALENDARS:
        calendar, created = BusinessCalendar.objects.get_or_create(
            code=code,
            defaults={"name": name, "always_open": always_open, "country": "" if always_open else "CN"},
        )
        if created and hours:
            calendar_set_hours(calendar=calendar, hours=hours)
        if not always_open:
            # Only years without any entry: a rerun keeps what an import or the admin wrote, and picks
            # up a year the holidays package has learnt since.
            have = {d.year for d in calendar.exceptions.dates("date", "year")}
            for year in holiday_years(today):
                if year in have:
                    continue
                try:
                    calendar_import_holidays(calendar=calendar, country="CN", year=year)
                except InvalidInput:
                    # Not yet published (or not yet in the package): a warning, never a failed seed.
                    missing.setdefault(year, []).append(code)
        calendars[code] = calendar
    say(f"  calendars: {', '.join(calendars)}")
    if missing:
        say(missing_holidays_warning("CN", missing))

    departments: dict[str, Department] = {}
    for code, name, name_en, calendar_code in DEPARTMENTS:
        dept, _ = Department.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "calendar": calendars[calendar_code],
                "team_email": f"{code.lower().replace('_', '-')}@bank.example",
            },
        )
        departments[code] = dept
    say(f"  departments: {len(departments)}")

    groups = ensure_role_groups()
    for code, dept in departments.items():
        for role, suffix in ((Membership.Role.MEMBER, "agent"), (Membership.Role.LEAD, "lead")):
            user = _user(f"{code.lower()}_{suffix}", email=f"{code.lower()}_{suffix}@bank.example")
            user.groups.add(groups[STAFF])
            Membership.objects.get_or_create(user=user, department=dept, role=role)
    officer = _user("quality_officer", email="quality_officer@bank.example", first_name="质量")
    officer.groups.add(groups[QUALITY_OFFICE])
    Membership.objects.get_or_create(
        user=officer, department=departments["SERVICE_QUALITY"], role=Membership.Role.INSPECTOR
    )
    auditor = _user("auditor", email="auditor@bank.example", first_name="审计")
    auditor.groups.add(groups[AUDITORS])
    _user("admin", email="admin@bank.example", superuser=True)
    say("  users: <department>_agent, <department>_lead, quality_officer, auditor, admin")
    return departments
