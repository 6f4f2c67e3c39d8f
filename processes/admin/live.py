"""The live operations page of leads and the quality office; a static script refreshes its body
from the JSON endpoint beside it (no inline script: the production CSP allows none)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from processes import live

LIVE_JS = "processes/live.js"
REFRESH_SECONDS = 30


def _context(request):
    if not live.may_see_live(request.user):
        raise PermissionDenied
    found = live.live_operations(user=request.user)
    return {"live": found, "chart": live.chart_svg(found), "buckets": live.AGEING}


def _refresh_seconds(request) -> int:
    """Every 30 s; `?every=N` (2 to 300) for a wall screen that wants it sooner or later."""
    value = request.GET.get("every", "")
    return min(300, max(2, int(value))) if value.isdigit() else REFRESH_SECONDS


def live_view(model_admin, request):
    context = {
        **model_admin.admin_site.each_context(request),
        **_context(request),
        "opts": model_admin.opts,
        "title": _("Live operations"),
        "refresh_seconds": _refresh_seconds(request),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/processes/handoff/live.html", context)


def live_data_view(model_admin, request):
    context = _context(request)
    found = context["live"]
    return JsonResponse(
        {
            "generated_at": found.now.isoformat(),
            "html": render_to_string("admin/processes/handoff/live_body.html", context, request=request),
            "departments": [
                {
                    "code": r.department.code,
                    "open": r.open,
                    "pending": r.pending,
                    "breached": r.breached,
                    "due_within_hour": r.due_within_hour,
                    "ageing": r.ageing,
                }
                for r in found.rows
            ],
            "today": {"hours": found.hours, "arrivals": found.arrivals, "completions": found.completions},
        }
    )
