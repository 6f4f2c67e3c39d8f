"""Who sees which evaluations and inspections, and who may inspect at which level.

- Scorecards (evaluations, KPI trends, the handoff flow): the quality office and auditors see every
  department (the `view_all_departments` permission); a department's lead (and its inspectors, who do
  its quality work) see that department's. Other staff see none.
- Inspections: whoever sees all, the members of the inspected department (self-checks are theirs),
  and the assigned inspector.
- Feedback: the cases the user may see (processes.policy.visible_cases).
- Inspecting: a self-check by any member of the department; a department check by its lead or one of
  its inspectors; a quality-office check by whoever has `inspect_as_quality_office`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.errors import PermissionDenied
from departments import policy as dept_policy
from departments.models import Membership
from evaluations.models import CustomerFeedback, Evaluation, Inspection, Level
from processes import policy as process_policy

INSPECT_AS_QUALITY_OFFICE = "evaluations.inspect_as_quality_office"
SAMPLE_INSPECTIONS = "evaluations.sample_inspections"
RECORD_FEEDBACK = "evaluations.add_customerfeedback"
SCORECARD_ROLES = (Membership.Role.LEAD, Membership.Role.INSPECTOR)


def scorecard_department_ids(user) -> set[int] | None:
    """Departments whose scorecards the user sees; None means all of them."""
    if dept_policy.sees_all(user):
        return None
    if not (user.is_authenticated and user.is_active):
        return set()
    cached = getattr(user, "_baton_scorecard_department_ids", None)
    if cached is None:
        cached = set(
            Membership.objects.filter(
                user=user, role__in=SCORECARD_ROLES, department__is_active=True
            ).values_list("department_id", flat=True)
        )
        user._baton_scorecard_department_ids = cached
    return cached


def sees_scorecard(user, department_id: int) -> bool:
    ids = scorecard_department_ids(user)
    return ids is None or department_id in ids


def visible_evaluations(user) -> QuerySet[Evaluation]:
    ids = scorecard_department_ids(user)
    if ids is None:
        return Evaluation.objects.all()
    return Evaluation.objects.filter(department_id__in=ids)


def visible_inspections(user) -> QuerySet[Inspection]:
    if dept_policy.sees_all(user):
        return Inspection.objects.all()
    if not (user.is_authenticated and user.is_active):
        return Inspection.objects.none()
    ids = dept_policy.acting_department_ids(user)
    return Inspection.objects.filter(Q(department_id__in=ids) | Q(inspector=user))


def visible_feedback(user) -> QuerySet[CustomerFeedback]:
    if dept_policy.sees_all(user):
        return CustomerFeedback.objects.all()
    return CustomerFeedback.objects.filter(case__in=process_policy.visible_cases(user))


def can_inspect(user, department_id: int, level: str) -> bool:
    if user is None or not (user.is_authenticated and user.is_active):
        return False
    if level == Level.QUALITY_OFFICE:
        return user.has_perm(INSPECT_AS_QUALITY_OFFICE)
    if dept_policy.acts_for_all(user):
        return True
    roles = set(
        Membership.objects.filter(user=user, department_id=department_id).values_list("role", flat=True)
    )
    if level == Level.SELF:
        return bool(roles)
    return bool(roles & set(SCORECARD_ROLES))


def require_can_inspect(user, department_id: int, level: str) -> None:
    if not can_inspect(user, department_id, level):
        raise PermissionDenied(
            f"You may not inspect this department at the {level} level.", code="cannot_inspect"
        )


def can_assign(user, department_id: int, level: str) -> bool:
    """The quality office assigns any inspection; a department's lead its self and department checks."""
    if user is None or not (user.is_authenticated and user.is_active):
        return False
    if user.has_perm(SAMPLE_INSPECTIONS):
        return True
    return level != Level.QUALITY_OFFICE and dept_policy.leads(user, department_id)
