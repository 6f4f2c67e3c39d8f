"""Staff sign-in against the bank's directory (LDAP / Active Directory) with django-auth-ldap, and
their department memberships taken from directory groups.

A group named `<prefix><DEPARTMENT CODE>_<role>` (default prefix `baton_`, e.g. `baton_CARD_CENTER_lead`)
makes its members that department's member, lead or inspector. At every sign-in the memberships of a
directory user are set to exactly what the groups say (a user moved between departments in the
directory is moved here too), and the user gets the department-staff role group. Whoever is not in
AUTH_LDAP_REQUIRE_GROUP is refused. Local accounts (ModelBackend) stay for `make run` and for
break-glass administration.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django_auth_ldap.backend import LDAPBackend

from departments.models import Department, Membership
from departments.roles import STAFF


def memberships_from_groups(group_names) -> set[tuple[str, str]]:
    """{(department code, role)} named by the directory groups."""
    prefix = getattr(settings, "BATON_LDAP_GROUP_PREFIX", "baton_")
    roles = set(Membership.Role.values)
    found = set()
    for name in group_names:
        if not name.startswith(prefix):
            continue
        code, _, role = name[len(prefix) :].rpartition("_")
        if code and role in roles:
            found.add((code, role))
    return found


class BatonLDAPBackend(LDAPBackend):
    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            self._sync_memberships(user, memberships_from_groups(ldap_user.group_names))
        return user

    @transaction.atomic
    def _sync_memberships(self, user, wanted: set[tuple[str, str]]) -> None:
        departments = {d.code: d for d in Department.objects.filter(code__in={c for c, _ in wanted})}
        wanted_rows = {(departments[c].pk, r) for c, r in wanted if c in departments}
        current = {(m.department_id, m.role): m for m in Membership.objects.filter(user=user)}
        for key, membership in current.items():
            if key not in wanted_rows:
                membership.delete()
        for department_id, role in wanted_rows - set(current):
            Membership.objects.create(user=user, department_id=department_id, role=role)
        staff = Group.objects.filter(name=STAFF).first()
        if staff is not None:
            (user.groups.add if wanted_rows else user.groups.remove)(staff)
        if user.is_staff != bool(wanted_rows):
            user.is_staff = bool(wanted_rows)
            user.save(update_fields=["is_staff"])
