"""What the admin pages share: the stylesheet, domain errors and form errors as message lines."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from processes import selectors
from processes.models import Case

ADMIN_CSS = {"all": ["processes/admin.css"]}

# The services speak English to logs and the API; staff read these, by stable error code.
ERROR_MESSAGES = {
    "cannot_open_cases": _("You may not open cases."),
    "process_without_initial_stage": _("This process has no initial stage."),
    "stage_without_target": _("The next stage has no SLA target for this priority; ask the quality office."),
    "not_your_department": _("You do not act for the department that must do this."),
    "not_your_case": _("Only departments that handled this case may do this."),
    "not_authenticated": _("Please log in again."),
    "not_lead": _("The first extension is approved by the current department's lead."),
    "not_approver": _("The second extension needs the designated approving department."),
    "handoff_not_pending": _("Only a pending handoff can be accepted."),
    "handoff_not_open": _("This handoff is no longer open."),
    "handoff_not_accepted": _("Accept the handoff first."),
    "handoff_already_claimed": _("Someone else has claimed this handoff."),
    "handoff_paused": _("The handoff is already paused."),
    "handoff_not_paused": _("The handoff is not paused."),
    "handoff_is_approval": _("A compensation approval is decided, not forwarded."),
    "nothing_to_return_to": _("The intake handoff has no sender to return to."),
    "no_open_handoff": _("The case has no open handoff."),
    "no_such_route": _("The process has no route to that stage."),
    "unknown_stage": _("Unknown stage."),
    "unknown_cause": _("Unknown pause cause."),
    "reason_required": _("A reason is required."),
    "comment_required": _("A comment cannot be empty."),
    "invalid_amount": _("Not a valid amount (at most 2 decimals)."),
    "negative_amount": _("A compensation cannot be negative."),
    "awaiting_approval": _("The compensation is awaiting approval."),
    "no_pending_approval": _("No compensation is awaiting approval."),
    "stage_cannot_resolve": _("Cases cannot be resolved at this stage."),
    "case_not_resolved": _("Only a resolved case can be closed or reopened."),
    "case_not_open": _("Only an open case can do this."),
    "reopen_window_closed": _("The reopen window has passed."),
    "no_regulatory_deadline": _("This case has no regulatory deadline."),
    "no_more_extensions": _("The deadline has been extended twice already."),
    "stale_page": _("The case has moved on since the page was loaded; look again."),
}


def _field_label(name: str) -> str:
    try:
        return str(Case._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def error_text(exc: ApplicationError) -> str:
    """A domain error as one line for the admin's message bar."""
    known = ERROR_MESSAGES.get(exc.code)
    if known is not None:
        return str(known)
    if not (get_language() or "").startswith("en"):
        # The service's own words are English: a page in another language says what it can.
        return str(_("This could not be done (%(code)s): check the form and try again.") % {"code": exc.code})
    fields = exc.extra.get("fields") or {}
    details = "; ".join(
        f"{_field_label(name)}: {' '.join(map(str, errors))}" for name, errors in fields.items()
    )
    return f"{exc.message} {details}".strip()


def form_error_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else name
        parts.append(f"{label}: {' '.join(errors)}")
    return "; ".join(parts)


def format_due(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def sla_badge_html(sla) -> str:
    return format_html(
        '<span class="sla-badge sla-{}">{}</span>', sla.badge, selectors.SLA_BADGE_LABELS[sla.badge]
    )
