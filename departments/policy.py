"""Department scope: who acts for which department and who sees what.

The quality office and auditors see everything through a permission, never through a department
name, so a bank can grant it to whoever it wants.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from departments import access
from departments.models import Department, Membership

SEE_ALL = "departments.view_all_departments"
ACT_FOR_ALL = "departments.act_for_all_departments"

User = AbstractBaseUser | AnonymousUser


def sees_all(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(SEE_ALL))


def acts_for_all(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(ACT_FOR_ALL))


def _roles(user: User) -> dict[int, str]:
    """The user's role in each active department, cached on the user object for the request (and
    across requests under the configuration stamp: departments.access)."""
    if not (user.is_authenticated and user.is_active):
        return {}
    cached = getattr(user, "_baton_department_roles", None)
    if cached is None:
        cached = access.member_ids(
            user,
            lambda: dict(
                Membership.objects.filter(user=user, department__is_active=True).values_list(
                    "department_id", "role"
                )
            ),
        )
        user._baton_department_roles = cached
    return cached


def _member_ids(user: User) -> set[int]:
    """Departments the user belongs to."""
    return set(_roles(user))


def acting_department_ids(user: User) -> set[int]:
    """Departments whose queues the user works (membership in any role)."""
    return set(_member_ids(user))


def acts_for(user: User, department_id: int | None) -> bool:
    if department_id is None:
        return False
    # Membership first: one cached query, where the permission check costs two.
    return department_id in _roles(user) or acts_for_all(user)


def leads(user: User, department_id: int) -> bool:
    if acts_for_all(user):
        return True
    return _roles(user).get(department_id) == Membership.Role.LEAD


def visible_departments(user: User) -> QuerySet[Department]:
    if sees_all(user):
        return Department.objects.all()
    return Department.objects.filter(pk__in=_member_ids(user))
