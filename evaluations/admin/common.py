"""What the evaluation admin pages share: the stylesheet, the page frame, a case link, a case looked
up within the user's scope, and the department filter."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.text import localized_name
from evaluations import selectors
from processes import policy as process_policy

ADMIN_CSS = {"all": ["evaluations/admin.css"]}


def _case_link(case) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:processes_case_change", args=[case.pk]), case.reference
    )


def _page(
    model_admin: admin.ModelAdmin, request, template: str, title: str, **context: Any
) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            "media": model_admin.media,
            **context,
        },
    )


def _visible_case(request, reference: str):
    return process_policy.visible_cases(request.user).filter(reference=reference.strip()).first()


class ScopedDepartmentFilter(admin.SimpleListFilter):
    title = _("department")
    parameter_name = "department"

    def lookups(self, request, model_admin):
        return [(d.pk, localized_name(d)) for d in selectors.scorecard_departments(user=request.user)]

    def queryset(self, request, queryset):
        return queryset.filter(department_id=self.value()) if self.value() else queryset
