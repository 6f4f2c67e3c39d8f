"""Who may see and act on which case: department scope applied to the engine's objects."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from core.errors import PermissionDenied
from departments import policy as dept_policy
from departments.second_factor import second_factor_ok
from processes.models import Case, Handoff

PII_PERMISSION = "processes.view_customer_pii"


def visible_cases(user) -> QuerySet[Case]:
    """Cases that have been through one of the user's departments, and the cases the user opened (an
    integration or a branch opening on behalf of the call center reads back what it submitted);
    everything for the quality office."""
    if dept_policy.sees_all(user):
        return Case.objects.all()
    if not user.is_authenticated:
        return Case.objects.none()
    ids = dept_policy.acting_department_ids(user)
    if not ids:
        return Case.objects.filter(created_by=user)
    passed = Handoff.objects.filter(case=OuterRef("pk")).filter(
        Q(to_department_id__in=ids) | Q(from_department_id__in=ids)
    )
    return Case.objects.filter(Q(Exists(passed)) | Q(created_by=user))


def visible_handoffs(user) -> QuerySet[Handoff]:
    if dept_policy.sees_all(user):
        return Handoff.objects.all()
    if not user.is_authenticated:
        return Handoff.objects.none()
    ids = dept_policy.acting_department_ids(user)
    if not ids:
        return Handoff.objects.filter(case__created_by=user)
    passed = Handoff.objects.filter(case=OuterRef("case_id")).filter(
        Q(to_department_id__in=ids) | Q(from_department_id__in=ids)
    )
    return Handoff.objects.filter(Q(Exists(passed)) | Q(case__created_by=user))


def can_see_pii(user) -> bool:
    """The permission, and (where TOTP is required) a session verified with a second factor."""
    return bool(user.is_authenticated and user.has_perm(PII_PERMISSION) and second_factor_ok(user))


def handled_department_ids(case: Case) -> set[int]:
    rows = Handoff.objects.filter(case=case).values_list("to_department_id", "from_department_id")
    return {d for pair in rows for d in pair if d is not None}


def require_acts_for(user, department_id: int | None, *, action: str, member: bool | None = None) -> None:
    """`member` is what the caller's locking statement already found out (the user is a member of
    that department), so that the usual case costs no query; otherwise the department policy asks."""
    if member and user is not None and user.is_authenticated and user.is_active:
        return
    if user is None or not dept_policy.acts_for(user, department_id):
        raise PermissionDenied(
            f"You do not act for the department that must {action} this.", code="not_your_department"
        )


def require_works_on_case(user, case: Case, *, action: str) -> None:
    """Comment, reopen: any department the case went through, or the quality office."""
    if user is None or not user.is_authenticated:
        raise PermissionDenied("Authentication required.", code="not_authenticated")
    if dept_policy.acting_department_ids(user) & handled_department_ids(case):
        return
    if not dept_policy.acts_for_all(user):
        raise PermissionDenied(
            f"Only departments that handled this case may {action} it.", code="not_your_case"
        )


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, John Smith → J*** S****."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_id(value: str) -> str:
    value = value.strip()
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
