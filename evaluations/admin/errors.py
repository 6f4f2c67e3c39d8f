"""Domain errors of the evaluations app as staff read them in the admin, by stable error code. The
services speak English to logs and the API; a Chinese page must not show that English."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from evaluations.reviews.forms import ERROR_MESSAGES as REVIEW_ERROR_MESSAGES
from processes.admin.common import error_text as process_error_text

# The inspections', feedback's and evaluations' codes; the reviews' are in evaluations.reviews.forms.
ERROR_MESSAGES = {
    "cycle_without_departments": _("This cycle reviews no active department."),
    "cannot_record_feedback": _("You may not record customer feedback."),
    "feedback_conflict": _("This survey was already recorded for this case with other answers."),
    "case_not_resolved": _("Only a resolved or closed case can be inspected."),
    "inspection_exists": _("This case is already inspected for this department at this level."),
    "cannot_assign_inspection": _("You may not assign this inspection."),
    "scorecard_without_criteria": _("The scorecard has no criteria."),
    "invalid_scores": _("Some scores are missing or outside 0 to the criterion's maximum."),
    "inspection_completed": _("This inspection is completed already."),
    "not_your_inspection": _("This inspection is assigned to someone else."),
    "cannot_sample": _("You may not sample cases for inspection."),
    "cannot_inspect": _("You may not inspect this department at this level."),
    "range_too_long": _("At most 400 days at a time."),
    "not_a_period_start": _("That date does not start a period of this kind."),
}


def error_text(exc: ApplicationError) -> str:
    """A domain error as one line for the admin's message bar, in the page's language."""
    known = ERROR_MESSAGES.get(exc.code) or REVIEW_ERROR_MESSAGES.get(exc.code)
    return str(known) if known is not None else process_error_text(exc)
