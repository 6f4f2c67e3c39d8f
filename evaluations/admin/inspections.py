"""The inspection admin: the list, assigning, sampling and recording three-level inspections."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, NotFound
from core.messages import error_text
from core.text import localized_name
from evaluations import policy, selectors, services
from evaluations.admin.common import ADMIN_CSS, ScopedDepartmentFilter, _case_link, _page, _visible_case
from evaluations.forms import (
    InspectionAssignForm,
    InspectionRecordForm,
    SampleForm,
)
from evaluations.models import (
    Inspection,
    InspectionScore,
)
from evaluations.periods import Period
from processes import policy as process_policy


# == inspections ====================================================================================
class InspectionDepartmentFilter(ScopedDepartmentFilter):
    def lookups(self, request, model_admin):
        from departments import policy as dept_policy

        return [
            (d.pk, localized_name(d)) for d in dept_policy.visible_departments(request.user).order_by("code")
        ]


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = [
        "case_link",
        "department",
        "level",
        "scorecard",
        "inspector",
        "status",
        "score",
        "case_resolved_at",
        "sampled_for",
    ]
    list_filter = ["status", "level", "scorecard", "period_kind", InspectionDepartmentFilter]
    list_select_related = ["case", "department", "scorecard", "inspector"]
    search_fields = ["case__reference"]
    search_help_text = _("Case reference")
    actions = None
    list_per_page = 100

    class Media:
        css = ADMIN_CSS

    def get_queryset(self, request):
        return selectors.inspection_list(user=request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("case"), ordering="case__reference")
    def case_link(self, obj):
        return _case_link(obj.case)

    @admin.display(description=_("sampled for"))
    def sampled_for(self, obj):
        return Period(obj.period_kind, obj.period_start).label if obj.period_start else "—"

    def get_urls(self):
        return [
            path(
                "sample/", self.admin_site.admin_view(self.sample_view), name="evaluations_inspection_sample"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = {"can_sample": request.user.has_perm(policy.SAMPLE_INSPECTIONS), **(extra_context or {})}
        return super().changelist_view(request, context)

    def add_view(self, request, form_url="", extra_context=None):
        """Assign a case for inspection; the inspection's own page then records it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = InspectionAssignForm(request.POST or None, initial=request.GET.dict() or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            case = _visible_case(request, data["case"])
            if case is None:
                form.add_error("case", gettext("No such case in your departments."))
            else:
                try:
                    inspection = services.inspection_assign(
                        case=case,
                        department=data["department"],
                        level=data["level"],
                        scorecard=data["scorecard"],
                        inspector=data["inspector"],
                        actor=request.user,
                    )
                except ApplicationError as exc:
                    messages.error(request, error_text(exc))
                else:
                    messages.success(request, gettext("Inspection assigned."))
                    return HttpResponseRedirect(
                        reverse("admin:evaluations_inspection_change", args=[inspection.pk])
                    )
        return _page(
            self, request, "admin/evaluations/form_page.html", gettext("Assign an inspection"), form=form
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The inspection's page: its scores, or the form that records them."""
        try:
            inspection = selectors.inspection_get(user=request.user, pk=int(unquote(object_id)))
        except (NotFound, ValueError) as exc:
            raise Http404(gettext("No such inspection.")) from exc
        if not self.has_view_permission(request, inspection):
            raise PermissionDenied
        can_record = (
            inspection.status == Inspection.Status.ASSIGNED
            and self.has_change_permission(request, inspection)
            and policy.can_inspect(request.user, inspection.department_id, inspection.level)
        )
        criteria = list(inspection.scorecard.criteria.order_by("order", "pk"))
        form = InspectionRecordForm(request.POST or None, criteria=criteria) if can_record else None
        if form is not None and request.method == "POST" and form.is_valid():
            try:
                services.inspection_record(
                    inspection=inspection,
                    actor=request.user,
                    scores=form.scores(),
                    comment=form.cleaned_data["comment"],
                )
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, gettext("Inspection recorded."))
                return HttpResponseRedirect(
                    reverse("admin:evaluations_inspection_change", args=[inspection.pk])
                )
        scores: list[InspectionScore] = list(inspection.scores.all())
        return _page(
            self,
            request,
            "admin/evaluations/inspection/record.html",
            f"{inspection.case.reference} · {inspection.get_level_display()}",
            inspection=inspection,
            case=inspection.case,
            # An inspection judges the service, not the customer: their data stays masked here.
            customer_name=process_policy.mask_name(inspection.case.customer_name),
            process_name=localized_name(inspection.case.process),
            case_link=_case_link(inspection.case),
            case_url=reverse("admin:processes_case_change", args=[inspection.case.pk]),
            criteria=criteria,
            scores=scores,
            form=form,
        )

    def sample_view(self, request):
        if not request.user.has_perm(policy.SAMPLE_INSPECTIONS):
            raise PermissionDenied
        form = SampleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                sampled = services.inspection_sample(actor=request.user, **data)
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, gettext("%(n)d inspections in the sample.") % {"n": len(sampled)})
                url = reverse("admin:evaluations_inspection_changelist")
                return HttpResponseRedirect(f"{url}?period_kind={data['kind']}&level={data['level']}")
        return _page(
            self,
            request,
            "admin/evaluations/form_page.html",
            gettext("Sample cases for inspection"),
            form=form,
        )
