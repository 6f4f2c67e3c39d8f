"""One table: every error code and its sentence, in the reader's language (zh-hans, en).

The services speak English to logs and raise errors with a stable `code`; people read the code's
sentence here. Two readers:

- the API (`translated`, from core.api.errors): English readers get the specific English message the
  error was raised with; others get the message itself where the catalogue translates it, else the
  code's sentence. The `code` never changes.
- the admin pages (`error_text`, `error_message`, `add_service_errors`): the code's sentence, in the
  page's language, whatever the service's English said.

Most sentences are below; a rule may declare the sentences of the codes it raises next to it
(`declare`, e.g. processes/rules.py), into the same table. `tests/api/test_error_languages.py` fails
on a code raised anywhere in the apps that has no sentence.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

MESSAGES: dict[str, Promise] = {
    # DRF and the API's plumbing
    "invalid": _("Invalid input."),
    "parse_error": _("Malformed request."),
    "not_authenticated": _("Authentication credentials were not provided."),
    "authentication_failed": _("Incorrect authentication credentials."),
    "permission_denied": _("You do not have permission to perform this action."),
    "not_found": _("Not found."),
    "method_not_allowed": _("Method not allowed."),
    "not_acceptable": _("Could not satisfy the request Accept header."),
    "unsupported_media_type": _("Unsupported media type in request."),
    "throttled": _("Request was throttled."),
    "server_error": _("Server error."),
    "invalid_page": _("Invalid page."),
    "invalid_page_size": _("The page size must be a whole number from 1 to 200."),
    "required": _("This field is required."),
    "invalid_cursor": _("Invalid cursor."),
    "out_of_range": _("Give a time between 1900 and 9000."),
    "stale_page": _("The case has moved on since the page was loaded; look again."),
    "invalid_idempotency_key": _(
        "The Idempotency-Key must have 1 to 255 printable ASCII characters, without spaces."
    ),
    "idempotency_key_reused": _("This Idempotency-Key was used with another request; use a new key."),
    "idempotency_key_in_progress": _("A request with this Idempotency-Key is still running."),
    # cases and handoffs (the rules' own codes: processes/rules.py)
    "external_id_taken": _("This source and external id belong to a case outside your departments."),
    "external_id_reused": _("You opened a case with this source and external id in another process."),
    "stage_without_target": _("The stage has no target for this priority; the quality office must set one."),
    "cannot_open_cases": _("You may not open cases."),
    "process_without_initial_stage": _("This process has no initial stage."),
    "unknown_process": _("Unknown process."),
    "unknown_stage": _("Unknown stage in this process."),
    "not_your_department": _("You do not act for the department that must do this."),
    "not_your_case": _("Only departments that handled this case may do this."),
    "comment_required": _("A comment cannot be empty."),
    "reason_required": _("A reason is required."),
    "invalid_channel": _("Unknown channel."),
    "invalid_choice": _("Not one of the allowed choices."),
    "invalid_customer_lookup": _("The phone number or customer number is malformed."),
    "unknown_cause": _("Unknown pause cause."),
    "department_not_on_case": _("This department has not handled the case."),
    "invalid_amount": _("Not a valid amount (at most 2 decimals)."),
    "negative_amount": _("A compensation cannot be negative."),
    # attachments, linked cases, assignment
    "attachment_empty": _("The file is empty."),
    "attachment_too_large": _("The file is too large."),
    "attachment_type_refused": _(
        "Only PDF files, images (PNG, JPEG, GIF, WebP) and audio (MP3, WAV, M4A, OGG) are accepted; the file's content is checked, not its name."
    ),
    "attachment_over_quota": _("The case's files would exceed its quota."),
    "attachment_infected": _("The virus scanner refused the file."),
    "link_to_itself": _("A case cannot be linked to itself."),
    "already_linked": _("The case already has a link of this kind."),
    "primary_is_duplicate": _("The primary is itself a duplicate."),
    "primary_cancelled": _("A cancelled case cannot be the primary."),
    "link_cycle": _("The parent is a child of this case."),
    "handoff_taken": _("Someone else has taken this handoff meanwhile."),
    "assign_needs_lead": _("Only a lead of the receiving department assigns its handoffs."),
    "assignee_not_member": _("The assignee is not a member of the receiving department."),
    # evaluations, reviews, inspections, feedback
    "cannot_administer_cycles": _("Only the quality office administers review cycles."),
    "period_not_closed": _("This period has not ended yet."),
    "cycle_without_departments": _(
        "This cycle reviews no active department: choose the departments to review, or review all "
        "departments."
    ),
    "cannot_record_minutes": _("Only the chair or the quality office records the minutes."),
    "review_closed": _("This review is closed."),
    "cannot_verify_action": _("Only the quality office judges whether an action worked."),
    "cannot_create_action": _(
        "Only the department's lead or the quality office decides its improvement actions."
    ),
    "cannot_change_action": _(
        "Only the owner, the department's lead or the quality office changes an action."
    ),
    "action_step_skipped": _("An action goes step by step: open → in progress → done → checked."),
    "action_transition_not_allowed": _("The action cannot move to this status from its current one."),
    "action_checked": _("A checked action cannot be changed."),
    "no_answer": _("Give a CSAT (1–5), an NPS answer (0–10) or both."),
    "unknown_case": _("No such case in your departments."),
    "unknown_department": _("Unknown department."),
    "unknown_scorecard": _("Unknown scorecard."),
    "unknown_user": _("Unknown user."),
    "unknown_review": _("No such review in your scope."),
    "unknown_period": _("Choose weekly, monthly or quarterly."),
    "not_a_period_start": _("That date does not start a period of this kind."),
    "range_too_long": _("At most 400 days at a time."),
    "nothing_to_change": _("Nothing to change."),
    "cannot_record_feedback": _("You may not record customer feedback."),
    "feedback_conflict": _("This survey was already recorded for this case with other answers."),
    "inspection_exists": _("This case is already inspected for this department at this level."),
    "cannot_assign_inspection": _("You may not assign this inspection."),
    "cannot_inspect": _("You may not inspect this department at this level."),
    "cannot_sample": _("You may not sample cases for inspection."),
    "scorecard_without_criteria": _("The scorecard has no criteria."),
    "invalid_scores": _("Some scores are missing or outside 0 to the criterion's maximum."),
    "inspection_completed": _("This inspection is completed already."),
    "not_your_inspection": _("This inspection is assigned to someone else."),
    # the admin's own forms (review cycles, improvement actions, the case page)
    "no_such_route": _("The process has no route to that stage."),
    "invalid_run_day": _(
        "The day must lie within the next period (1–7 weekly, 1–28 monthly, 1–90 quarterly)."
    ),
    "invalid_run_time": _("A time of day, e.g. 08:00."),
    "name_required": _("A name is required."),
    "invalid_email": _("Not an e-mail address."),
    "scorecard_required": _("Sampling needs an active scorecard."),
    "chair_cannot_sample": _("Sampling is done in the chair's name: choose a chair who may sample cases."),
    "due_date_in_past": _("The due date lies in the past."),
    "department_not_in_review": _("This review did not review this department."),
    "owner_required": _("An owner is required."),
    "owner_not_in_department": _("The owner must work in the action's department."),
    "cannot_reassign": _("Only the department's lead or the quality office hands an action over."),
    "title_required": _("A title is required."),
    "unknown_kpi": _("Unknown KPI."),
    "goal_required": _("Give the KPI value the action should reach."),
    "goal_without_kpi": _("A goal needs a KPI to be measured by."),
    "goal_not_an_improvement": _("The goal is no improvement on the baseline."),
    "unknown_status": _("Unknown status."),
    # calendars and configuration (reached through the admin and commands)
    "unknown_country": _("Unknown country code."),
    "year_not_supported": _("The holidays package has no data for this year yet."),
    "time_zone": _("Unknown time zone."),
    "inverted": _("A shift must end after it starts."),
    "cycle": _("A department cannot be its own ancestor."),
    "invalid_hours": _("Invalid working hours."),
}


def declare(**sentences: Promise) -> None:
    """Add the sentences of error codes to the table, next to the rule that raises them. A code has one
    sentence: declaring it again with another is a mistake found at start-up."""
    for code, sentence in sentences.items():
        if MESSAGES.setdefault(code, sentence) is not sentence:
            raise ValueError(f"the error code {code!r} has a sentence already")


def _english() -> bool:
    return (get_language() or "").startswith("en")


def translated(code: str, detail: str) -> str:
    """The API's `detail` for the active language: as raised for English, else translated (the
    message itself if the catalogue has it, else its code's sentence)."""
    if _english():
        return detail
    own = gettext(detail)
    if own != detail or _already_chinese(detail):  # DRF's own messages come translated
        return own
    if code in MESSAGES:
        return str(MESSAGES[code])
    return detail


def _already_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except (AttributeError, FieldDoesNotExist):
        return name


def error_text(exc: ApplicationError, *, model=None) -> str:
    """A domain error as one line for an admin page's message bar, in the page's language: its code's
    sentence. A code without one: in English the service's message and its fields (named by `model`'s
    verbose names), in another language a line that says what it can without the service's English."""
    known = MESSAGES.get(exc.code)
    if known is not None:
        return str(known)
    if not _english():
        return str(_("This could not be done (%(code)s): check the form and try again.") % {"code": exc.code})
    fields = exc.extra.get("fields") or {}
    details = "; ".join(
        f"{_field_label(model, name)}: {' '.join(map(str, errors))}" for name, errors in fields.items()
    )
    return f"{exc.message} {details}".strip()


def error_message(code: str, fallback: str) -> str:
    """One field's error: its code's sentence, else the service's own words."""
    known = MESSAGES.get(code)
    return str(known) if known is not None else fallback


def add_service_errors(
    form: forms.Form, exc: ApplicationError, *, renames: dict[str, str] | None = None
) -> None:
    """A domain error's `fields` as form errors, by their codes' sentences (`renames`: the service's
    field name → the form's); the whole error on the form when it names no field of the form."""
    fields = exc.extra.get("fields") or {}
    codes = exc.extra.get("field_codes") or {}
    placed = False
    for name, messages in fields.items():
        target = (renames or {}).get(name, name)
        if target in form.fields:
            form.add_error(target, [error_message(codes.get(name, ""), str(m)) for m in messages])
            placed = True
    if not placed:
        form.add_error(None, error_text(exc))
