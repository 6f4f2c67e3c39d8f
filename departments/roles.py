"""The role groups a bank assigns: what each kind of user may do in the admin.

Department scope (which cases) comes from memberships and the policy module; these groups only say
which screens and actions a role has at all.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

DOMAIN_APPS = ("departments", "processes", "evaluations")

STAFF = "Department staff"
QUALITY_OFFICE = "Quality office"
AUDITORS = "Auditors"

# Extra codenames staff need beyond viewing; the engine's issue adds its models to this list.
STAFF_CODENAMES: tuple[str, ...] = (
    "view_case",
    "change_case",
    "add_case",
    "view_handoff",
    "change_handoff",
    "view_caseevent",
    "view_serviceprocess",
    "view_stage",
    "view_stagetarget",
    "view_transition",
    "view_department",
    "view_customerfeedback",
    "view_evaluation",
    "view_improvementreview",
    "view_improvementaction",
    "change_improvementaction",
    "view_inspection",
    "add_inspection",
    "change_inspection",
    # evaluations: definitions and the rows inside an evaluation or an inspection (read-only for staff)
    "view_kpi",
    "view_scorecard",
    "view_scorecardcriterion",
    "view_evaluationscore",
    "view_inspectionscore",
)


def ensure_role_groups() -> dict[str, Group]:
    """Create or refresh the three role groups; safe to run any number of times."""
    domain = Permission.objects.filter(content_type__app_label__in=DOMAIN_APPS)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in (STAFF, QUALITY_OFFICE, AUDITORS)}
    groups[STAFF].permissions.set(domain.filter(codename__in=STAFF_CODENAMES))
    # The quality office administers the whole domain (and the schedules of periodic work), sees and
    # acts for every department; it is the only role that sees customers' PII unmasked.
    # auth.view_user: to pick people when administering memberships (the admin's user autocomplete).
    groups[QUALITY_OFFICE].permissions.set(
        Permission.objects.filter(
            Q(content_type__app_label__in=DOMAIN_APPS)
            | Q(content_type__app_label="django_celery_beat")
            | Q(content_type__app_label="auth", codename="view_user")
        )
    )
    # Auditors read everything and change nothing.
    groups[AUDITORS].permissions.set(
        domain.filter(Q(codename__startswith="view_") | Q(codename="view_all_departments")).exclude(
            codename="view_customer_pii"
        )
    )
    return groups
