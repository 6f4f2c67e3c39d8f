"""Cases: a scoped, masked list; opening through the service; the case page and its actions,
each one POST to its own URL that calls one service function."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import processes.admin.desk as desk
from core.errors import ApplicationError
from core.messages import error_text
from core.text import localized_name
from departments.audit import audit_record
from departments.models import AuditEntry
from processes import policy, rules, selectors, services
from processes.admin.common import ADMIN_CSS, form_error_text
from processes.admin.customers import case_history, intake_lookup
from processes.admin.customers import search as customer_search
from processes.forms import (
    ACTION_FORMS,
    ActionForm,
    CaseOpenForm,
)
from processes.models import Case


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases are read here and changed only through the actions of the case page."""

    list_display = [
        "reference",
        "title",
        "process_name",
        "status",
        "priority",
        "department_name",
    ]
    list_filter = ["status", "priority", "process", "current_department", "channel"]
    search_fields = ["reference", "title", "external_id"]
    search_help_text = _("Reference, title, external id, or a customer's full phone or number")
    actions = None
    list_per_page = 50
    fieldsets = [
        (
            _("Details"),
            {"fields": ["reference", "title", "description", "process", "channel", "priority", "status"]},
        ),
        (
            _("Routing and deadlines"),
            {
                "fields": [
                    "current_stage",
                    "current_department",
                    "due_at",
                    "regulatory_deadline",
                    "regulatory_extensions",
                ]
            },
        ),
        (
            _("Resolution and service recovery"),
            {
                "fields": [
                    "resolution",
                    "recovery_measure",
                    "compensation_amount",
                    "compensation_approval",
                    "resolved_at",
                    "resolved_by",
                    "closed_at",
                    "cancelled_at",
                    "reopen_count",
                ]
            },
        ),
        (
            _("Intake"),
            {
                "classes": ["collapse"],
                "fields": ["source", "external_id", "created_by", "created_at", "updated_at"],
            },
        ),
    ]

    class Media:
        css = ADMIN_CSS
        js = [desk.DESK_JS]

    # -- scope and permissions ----------------------------------------------------------------
    def get_queryset(self, request):
        return selectors.case_list(user=request.user)

    def get_object(self, request, object_id, from_field=None):
        """Outside the user's scope a case does not exist: 404, not the admin's redirect."""
        try:
            return selectors.case_detail(user=request.user).get(pk=object_id)
        except (Case.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404(gettext("No such case.")) from exc

    def has_change_permission(self, request, obj=None):
        return False  # nobody edits a case row: every change is an action of the case page

    def has_delete_permission(self, request, obj=None):
        return False  # cases carry the audit trail

    # -- the list -----------------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        shown = getattr(response, "context_data", None) and response.context_data.get("cl")
        if shown is not None and policy.can_see_pii(request.user):
            audit_record(
                kind=AuditEntry.Kind.PII_VIEW,
                request=request,
                object_type="case_list",
                detail={"references": [case.reference for case in shown.result_list]},
            )
        return response

    def get_search_results(self, request, queryset, search_term):
        """Also the full phone or customer number, through the blind index (exact match, audited)."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        return customer_search(request, queryset, search_term, results), duplicates

    def get_list_display(self, request):
        pii = policy.can_see_pii(request.user)

        @admin.display(description=_("customer name"))
        def customer_name(obj):
            return obj.customer_name if pii else policy.mask_name(obj.customer_name)

        @admin.display(description=_("customer phone"))
        def customer_phone(obj):
            return obj.customer_phone if pii else policy.mask_phone(obj.customer_phone)

        return [
            *self.list_display,
            customer_name,
            customer_phone,
            "repeat_complaint",
            "due_at",
            "regulatory_deadline",
        ]

    @admin.display(description=_("process"), ordering="process__code")
    def process_name(self, obj):
        return localized_name(obj.process)

    @admin.display(description=_("current department"), ordering="current_department__code")
    def department_name(self, obj):
        return localized_name(obj.current_department) or "—"

    # -- opening a case -----------------------------------------------------------------------
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CaseOpenForm(request.POST or None)
        history = None
        if request.method == "POST" and "_lookup" in request.POST:
            # The agent typed the caller's phone or number: the customer's cases, nothing opened.
            form.is_valid()
            history = intake_lookup(request, form)
        elif request.method == "POST" and form.is_valid():
            try:
                case, _created = services.case_open(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                for field, errors in (exc.extra.get("fields") or {}).items():
                    form.add_error(field if field in form.fields else None, errors)
                messages.error(request, error_text(exc, model=Case))
            else:
                messages.success(
                    request, gettext("Case %(reference)s opened.") % {"reference": case.reference}
                )
                if selectors.case_list(user=request.user).filter(pk=case.pk).exists():
                    return HttpResponseRedirect(reverse("admin:processes_case_change", args=[case.pk]))
                return HttpResponseRedirect(reverse("admin:processes_case_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Open a case"),
            "form": form,
            "customer_history": history,
            "media": self.media + form.media,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/processes/case/open_case.html", context)

    # -- the case page ------------------------------------------------------------------------
    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            page = selectors.case_page(case=obj, user=request.user)
            if not page.customer.masked:
                audit_record(
                    kind=AuditEntry.Kind.PII_VIEW,
                    request=request,
                    object_type="case",
                    object_id=obj.reference,
                )
            desk_context = desk.case_context(obj, request.user)
            action_forms = self._action_forms(page)
            desk.with_replies(action_forms, desk_context["replies"])
            context.update(
                title=f"{obj.reference} · {obj.title}",
                subtitle=None,
                page=page,
                customer_history=case_history(request, obj),
                action_forms=action_forms,
                desk=desk_context,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _action_forms(self, page: selectors.CasePage) -> list[dict[str, Any]]:
        rows = []
        for action in rules.actions_in_order():
            if action not in page.actions or action not in ACTION_FORMS:
                continue
            form_class = ACTION_FORMS[action]
            rows.append(
                {
                    "action": action,
                    "form": form_class(**form_class.page_kwargs(page)),
                    "url": reverse("admin:processes_case_action", args=[page.case.pk, action]),
                }
            )
        return rows

    def get_urls(self):
        return [
            path(
                "<path:object_id>/action/<slug:action>/",
                self.admin_site.admin_view(self.action_view),
                name="processes_case_action",
            ),
            path(
                "<path:object_id>/attachments/add/",
                self.admin_site.admin_view(
                    lambda request, object_id: desk.attach_view(self, request, object_id)
                ),
                name="processes_case_attach",
            ),
            path(
                "<path:object_id>/attachments/<str:attachment_id>/",
                self.admin_site.admin_view(
                    lambda request, object_id, attachment_id: desk.download_view(
                        self, request, object_id, attachment_id
                    )
                ),
                name="processes_case_attachment",
            ),
            path(
                "<path:object_id>/link/",
                self.admin_site.admin_view(
                    lambda request, object_id: desk.link_view(self, request, object_id)
                ),
                name="processes_case_link",
            ),
            *super().get_urls(),
        ]

    def action_view(self, request, object_id, action):
        """One action of the case page: parse the form, call the service, report, go back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        case = self.get_object(request, unquote(object_id))
        if not self.has_view_permission(request, case):
            raise PermissionDenied
        form_class: type[ActionForm] | None = ACTION_FORMS.get(action)
        if form_class is None:
            raise Http404(gettext("No such action."))
        form = form_class(request.POST, **form_class.post_kwargs(case))
        if not form.is_valid():
            messages.error(request, form_error_text(form))
        else:
            try:
                messages.success(request, form.perform(request.user, case))
            except ApplicationError as exc:
                messages.error(request, error_text(exc, model=Case))
        return HttpResponseRedirect(reverse("admin:processes_case_change", args=[case.pk]))
