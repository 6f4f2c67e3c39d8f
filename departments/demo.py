"""The demo organisation of SPEC section 7: calendars, departments, users. Idempotent."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from departments.errors import InvalidInput
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

HOLIDAY_YEARS = (2025, 2026)


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
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_organisation(*, stdout=None) -> dict[str, Department]:
    def say(msg: str) -> None:
        if stdout is not None:
            stdout.write(msg)

    calendars: dict[str, BusinessCalendar] = {}
    for code, name, always_open, hours in CALENDARS:
        calendar, created = BusinessCalendar.objects.get_or_create(
            code=code,
            defaults={"name": name, "always_open": always_open, "country": "" if always_open else "CN"},
        )
        if created and hours:
            calendar_set_hours(calendar=calendar, hours=hours)
        if not always_open and not calendar.exceptions.exists():
            for year in HOLIDAY_YEARS:
                try:
                    calendar_import_holidays(calendar=calendar, country="CN", year=year)
                except InvalidInput as exc:
                    say(f"  {code} {year}: {exc.message}")
        calendars[code] = calendar
    say(f"  calendars: {', '.join(calendars)}")

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
