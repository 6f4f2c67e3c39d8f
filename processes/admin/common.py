"""What the admin pages share: the stylesheet, form errors as a message line, due times and SLA badges.
Domain errors read as their codes' sentences: core.messages.error_text."""

from __future__ import annotations

from django.utils import timezone
from django.utils.html import format_html

from processes import selectors

ADMIN_CSS = {"all": ["processes/admin.css"]}


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
