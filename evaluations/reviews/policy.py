"""Who sees and changes which reviews and improvement actions.

- Review cycles are administered by whoever may change them (`evaluations.change_reviewcycle`: the
  quality office's role group).
- Reviews: whoever sees every department's scorecard sees every review; a department lead (or
  inspector) sees the reviews of their departments, limited to what concerns those departments; an
  action owner sees the reviews that gave them an action.
- Actions: seen by those who see the department's scorecard and by their owner. Created by a
  department's lead or by whoever acts for all departments. Moved along (open → in progress → done)
  by the owner, the department's lead or the quality office; judged (verified / not effective) by
  hand only with `evaluations.verify_improvementaction`.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from core.errors import PermissionDenied
from departments import policy as dept_policy
from departments.models import Membership
from evaluations import policy as evaluation_policy
from evaluations.reviews.models import ImprovementAction, ImprovementReview

ADMINISTER_CYCLES = "evaluations.change_reviewcycle"
VERIFY_ACTIONS = "evaluations.verify_improvementaction"


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def review_department_ids(user) -> set[int] | None:
    """Departments whose part of a review the user sees; None means all of them."""
    return evaluation_policy.scorecard_department_ids(user)


def visible_reviews(user) -> QuerySet[ImprovementReview]:
    ids = review_department_ids(user)
    if ids is None:
        return ImprovementReview.objects.all()
    if not _active(user):
        return ImprovementReview.objects.none()
    owned = ImprovementAction.objects.filter(owner=user).values("review_id")
    reviewed = ImprovementReview.departments.through.objects.filter(department_id__in=ids).values(
        "improvementreview_id"
    )
    return ImprovementReview.objects.filter(Q(pk__in=reviewed) | Q(pk__in=owned))


def visible_actions(user) -> QuerySet[ImprovementAction]:
    ids = review_department_ids(user)
    if ids is None:
        return ImprovementAction.objects.all()
    if not _active(user):
        return ImprovementAction.objects.none()
    return ImprovementAction.objects.filter(Q(department_id__in=ids) | Q(owner=user))


def can_create_action(user, department_id: int) -> bool:
    return _active(user) and dept_policy.leads(user, department_id)


def require_can_create_action(user, department_id: int) -> None:
    if not can_create_action(user, department_id):
        raise PermissionDenied(
            "Only the department's lead or the quality office may decide its improvement actions.",
            code="cannot_create_action",
        )


def can_progress_action(user, action: ImprovementAction) -> bool:
    """Move it along (and edit it): the owner, the department's lead, the quality office."""
    if not _active(user):
        return False
    return action.owner_id == user.pk or dept_policy.leads(user, action.department_id)


def can_verify_action(user) -> bool:
    return _active(user) and user.has_perm(VERIFY_ACTIONS)


def can_own_action(user, department_id: int) -> bool:
    """An owner works in the department (any role) or acts for all departments."""
    if not _active(user):
        return False
    if dept_policy.acts_for_all(user):
        return True
    return Membership.objects.filter(user=user, department_id=department_id).exists()
