"""The `detail` of every API error code in the reader's language (`Accept-Language`: zh-hans, en).

English readers get the specific English message the error was raised with. Others get the message
itself where the catalogue translates it, else the translated sentence of its code below; the
`code` never changes. `tests/api/test_error_languages.py` fails on a code raised anywhere in the
apps that has no sentence here.
"""

from __future__ import annotations

from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

DETAILS = {
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
    "stale_page": _("The handoff named by the page is no longer open."),
    "invalid_idempotency_key": _(
        "The Idempotency-Key must have 1 to 255 printable ASCII characters, without spaces."
    ),
    "idempotency_key_reused": _("This Idempotency-Key was used with another request; use a new key."),
    "idempotency_key_in_progress": _("A request with this Idempotency-Key is still running."),
    # cases and handoffs
    "external_id_taken": _("This source and external id belong to a case outside your departments."),
    "external_id_reused": _("You opened a case with this source and external id in another process."),
    "no_open_handoff": _("The case has no open handoff."),
    "stage_without_target": _("The stage has no target for this priority; the quality office must set one."),
    "cannot_open_cases": _("You may not open cases."),
    "process_without_initial_stage": _("The process has no initial stage."),
    "unknown_process": _("Unknown process."),
    "unknown_stage": _("Unknown stage in this process."),
    "handoff_not_pending": _("Only a pending handoff can be accepted."),
    "handoff_not_open": _("The handoff is not open."),
    "nothing_to_return_to": _("The intake handoff has no sender to return to."),
    "handoff_is_approval": _("A compensation approval is decided, not returned or forwarded."),
    "case_not_open": _("The case is not open."),
    "handoff_not_accepted": _("Accept the handoff first."),
    "handoff_already_claimed": _("Someone else has claimed this handoff."),
    "handoff_paused": _("The handoff is already paused."),
    "handoff_not_paused": _("The handoff is not paused."),
    "awaiting_approval": _("The compensation is awaiting approval."),
    "stage_cannot_resolve": _("This stage cannot resolve cases."),
    "no_pending_approval": _("No compensation is awaiting approval."),
    "case_not_resolved": _("The case is not resolved."),
    "reopen_window_closed": _("The reopen window has passed."),
    "no_regulatory_deadline": _("This case has no regulatory deadline."),
    "not_lead": _("The first extension is approved by the department lead."),
    "not_approver": _("The second extension needs the designated approving department."),
    "no_more_extensions": _("The deadline has been extended twice already."),
    "not_your_department": _("You do not act for the department that must do this."),
    "not_your_case": _("Only departments that handled this case may do this."),
    "comment_required": _("A comment cannot be empty."),
    "reason_required": _("A reason is required."),
    "invalid_channel": _("Unknown channel."),
    "invalid_choice": _("Not one of the allowed choices."),
    "invalid_customer_lookup": _("The phone number or customer number is malformed."),
    "unknown_cause": _("Unknown pause cause."),
    "department_not_on_case": _("This department has not handled the case."),
    "invalid_amount": _("Invalid amount."),
    "negative_amount": _("The amount cannot be negative."),
    # attachments, linked cases, assignment
    "attachment_empty": _("The file is empty."),
    "attachment_too_large": _("The file is too large."),
    "attachment_type_refused": _("The file's content is not an accepted type (PDF, image or audio)."),
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
    "period_not_closed": _("The period has not ended yet."),
    "cycle_without_departments": _("This cycle reviews no active department."),
    "cannot_record_minutes": _("Only the chair or the quality office records the minutes."),
    "review_closed": _("This review is closed."),
    "cannot_verify_action": _("Only the quality office judges an action."),
    "cannot_create_action": _("You may not create this improvement action."),
    "cannot_change_action": _(
        "Only the owner, the department's lead or the quality office changes an action."
    ),
    "action_step_skipped": _("The action cannot move to this status from its current one."),
    "action_transition_not_allowed": _("The action cannot move to this status from its current one."),
    "action_checked": _("A checked action cannot be changed."),
    "no_answer": _("Give a CSAT (1–5), an NPS answer (0–10) or both."),
    "unknown_case": _("No such case in your departments."),
    "unknown_department": _("Unknown department."),
    "unknown_scorecard": _("Unknown scorecard."),
    "unknown_user": _("Unknown user."),
    "unknown_review": _("No such review in your scope."),
    "unknown_period": _("Unknown period."),
    "not_a_period_start": _("The date does not start a period."),
    "range_too_long": _("The date range is too long."),
    "nothing_to_change": _("Nothing to change."),
    "cannot_record_feedback": _("You may not record customer feedback."),
    "feedback_conflict": _("This survey was already recorded for this case with other answers."),
    "inspection_exists": _("This case is already inspected for this department at this level."),
    "cannot_assign_inspection": _("You may not assign this inspection."),
    "cannot_inspect": _("You may not inspect this case."),
    "cannot_sample": _("You may not sample cases for inspection."),
    "scorecard_without_criteria": _("The scorecard has no criteria."),
    "invalid_scores": _("Invalid scores."),
    "inspection_completed": _("This inspection is completed already."),
    "not_your_inspection": _("This inspection is assigned to someone else."),
    # calendars and configuration (reached through the admin and commands)
    "unknown_country": _("Unknown country code."),
    "year_not_supported": _("The holidays package has no data for this year yet."),
    "time_zone": _("Unknown time zone."),
    "inverted": _("A shift must end after it starts."),
    "cycle": _("A department cannot be its own ancestor."),
    "invalid_hours": _("Invalid working hours."),
}


def translated(code: str, detail: str) -> str:
    """`detail` for the active language: as raised for English, else translated (the message itself
    if the catalogue has it, else its code's sentence)."""
    if (get_language() or "").startswith("en"):
        return detail
    own = gettext(detail)
    if own != detail or _already_chinese(detail):  # DRF's own messages come translated
        return own
    if code in DETAILS:
        return str(DETAILS[code])
    return detail


def _already_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
