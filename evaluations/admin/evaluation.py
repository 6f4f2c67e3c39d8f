"""The admin of the quality office and the department leads: KPI definitions and scorecards (the
quality office edits them), customer feedback, inspections (assign, record, sample), evaluations with
CSV/XLSX export, a department scorecard page with KPI trend charts and the handoff-flow heat map.

Thin by design (docs/architecture.md): reads come from evaluations.selectors within the user's scope, and
every write is one call of an evaluations.services function.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError
from core.messages import error_text
from core.text import localized_name
from evaluations import charts, exports, selectors, services
from evaluations.admin.common import ADMIN_CSS, ScopedDepartmentFilter, _case_link, _page, _visible_case
from evaluations.forms import (
    ComputeForm,
    FeedbackForm,
    FlowForm,
)
from evaluations.kpi_definitions import DEFINITIONS
from evaluations.models import (
    CustomerFeedback,
    Evaluation,
    EvaluationScore,
    Kpi,
    Scorecard,
    ScorecardCriterion,
)
from evaluations.periods import Period, PeriodKind, period_containing, today


# == definitions: the quality office's ==============================================================
@admin.register(Kpi)
class KpiAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "unit", "direction", "target", "weight", "is_active", "order"]
    list_editable = ["target", "weight", "is_active"]
    list_display_links = ["code", "name"]
    fields = [
        "code",
        "name",
        "name_en",
        "description",
        "unit",
        "direction",
        "target",
        "weight",
        "is_active",
        "order",
    ]
    actions = None

    def get_readonly_fields(self, request, obj=None):
        # The code selects the computation (docs/kpis.md); a built-in KPI's code never changes.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: past evaluations name the KPI


class CriterionInline(admin.TabularInline):
    model = ScorecardCriterion
    extra = 1
    fields = ["order", "code", "name", "name_en", "weight", "max_score"]


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "weight_self", "weight_department", "weight_quality_office", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [CriterionInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "description", "is_active"]}),
        (
            _("Weight of each level in the QA score"),
            {"fields": ["weight_self", "weight_department", "weight_quality_office"]},
        ),
    ]


# == customer feedback ==============================================================================
@admin.register(CustomerFeedback)
class CustomerFeedbackAdmin(admin.ModelAdmin):
    list_display = ["case_link", "survey_id", "csat", "nps", "channel", "source", "responded_at"]
    list_filter = ["channel", "csat", "nps", "source"]
    search_fields = ["case__reference", "survey_id"]
    search_help_text = _("Case reference or survey id")
    fields = [
        "case",
        "survey_id",
        "csat",
        "nps",
        "comment",
        "channel",
        "source",
        "responded_at",
        "created_by",
        "created_at",
    ]
    actions = None
    list_per_page = 100

    def get_queryset(self, request):
        return selectors.feedback_list(user=request.user)

    def has_change_permission(self, request, obj=None):
        return False  # an answer is what the customer said: recorded once, never edited

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("case"), ordering="case__reference")
    def case_link(self, obj):
        return _case_link(obj.case)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = FeedbackForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            case = _visible_case(request, data["case"])
            if case is None:
                form.add_error("case", gettext("No such case in your departments."))
            else:
                try:
                    feedback, created = services.feedback_record(
                        case=case,
                        actor=request.user,
                        survey_id=data["survey_id"],
                        csat=data["csat"],
                        nps=data["nps"],
                        comment=data["comment"],
                        channel=data["channel"],
                        source="admin",
                        responded_at=data["responded_at"],
                    )
                except ApplicationError as exc:
                    for field, errors in (exc.extra.get("fields") or {}).items():
                        form.add_error(field if field in form.fields else None, errors)
                    if not exc.extra.get("fields"):
                        form.add_error(None, error_text(exc))
                else:
                    if created:
                        messages.success(
                            request, gettext("Feedback recorded for %(case)s.") % {"case": case.reference}
                        )
                    else:
                        messages.info(request, gettext("This survey was recorded before; nothing changed."))
                    return HttpResponseRedirect(
                        reverse("admin:evaluations_customerfeedback_change", args=[feedback.pk])
                    )
        return _page(
            self, request, "admin/evaluations/form_page.html", gettext("Record customer feedback"), form=form
        )


# == evaluations ====================================================================================
class EvaluationScoreInline(admin.TabularInline):
    model = EvaluationScore
    fields = ["kpi_code", "value", "unit", "target", "direction", "met", "points", "weight", "sample_size"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GradeFilter(admin.SimpleListFilter):
    title = _("grade")
    parameter_name = "grade"

    def lookups(self, request, model_admin):
        return [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D"), ("none", _("no score"))]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(grade="" if self.value() == "none" else self.value())


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = [
        "department_name",
        "period_label",
        "kind",
        "period_start",
        "overall_score",
        "grade_badge",
        "computed_at",
    ]
    list_filter = ["kind", GradeFilter, ScopedDepartmentFilter]
    search_fields = ["department__code", "department__name"]
    fields = [
        "department",
        "kind",
        "period_start",
        "period_end",
        "overall_score",
        "grade",
        "computed_at",
        "as_of",
    ]
    readonly_fields = fields
    inlines = [EvaluationScoreInline]
    actions = ["export_csv", "export_xlsx"]
    list_per_page = 100

    class Media:
        css = ADMIN_CSS

    def get_queryset(self, request):
        return selectors.evaluation_list(user=request.user)

    def has_add_permission(self, request):
        return False  # computed, never typed in: see "Compute a period"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_object(self, request, object_id, from_field=None):
        try:
            return self.get_queryset(request).get(pk=object_id)
        except (Evaluation.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404(gettext("No such evaluation.")) from exc

    @admin.display(description=_("department"), ordering="department__code")
    def department_name(self, obj):
        return localized_name(obj.department)

    @admin.display(description=_("period"))
    def period_label(self, obj):
        return Period(obj.kind, obj.period_start).label

    @admin.display(description=_("grade"), ordering="grade")
    def grade_badge(self, obj):
        return format_html('<span class="grade grade-{}">{}</span>', obj.grade or "none", obj.grade or "—")

    # -- exports ----------------------------------------------------------------------------------
    @admin.action(description=_("Export selected as CSV"))
    def export_csv(self, request, queryset):
        return exports.as_csv(queryset.order_by("-period_start", "kind", "department__code"))

    @admin.action(description=_("Export selected as XLSX"))
    def export_xlsx(self, request, queryset):
        return exports.as_xlsx(queryset.order_by("-period_start", "kind", "department__code"))

    def export_view(self, request, fmt: str):
        """The whole filtered list (the changelist's own filters and search) as a file."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("-period_start", "kind", "department__code")
        return exports.as_xlsx(queryset) if fmt == "xlsx" else exports.as_csv(queryset)

    # -- pages ------------------------------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("scorecard/", view(self.scorecard_view), name="evaluations_evaluation_scorecard"),
            path("flow/", view(self.flow_view), name="evaluations_evaluation_flow"),
            path("kpis/", view(self.kpis_view), name="evaluations_evaluation_kpis"),
            path("compute/", view(self.compute_view), name="evaluations_evaluation_compute"),
            path("export/<str:fmt>/", view(self.export_view), name="evaluations_evaluation_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        query = request.GET.urlencode()
        context = {
            "export_csv_url": reverse("admin:evaluations_evaluation_export", args=["csv"])
            + (f"?{query}" if query else ""),
            "export_xlsx_url": reverse("admin:evaluations_evaluation_export", args=["xlsx"])
            + (f"?{query}" if query else ""),
            "can_compute": request.user.has_perm("evaluations.add_evaluation"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def scorecard_view(self, request):
        """A department's scorecard for one period (the last closed one unless another is asked for),
        each KPI's figure of that period and its trend over the 12 periods up to it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        departments = list(selectors.scorecard_departments(user=request.user))
        kind = request.GET.get("kind") or PeriodKind.MONTHLY
        if kind not in PeriodKind.values:
            raise Http404(gettext("No such period."))
        code = request.GET.get("department") or (departments[0].code if departments else None)
        department = next((d for d in departments if d.code == code), None)
        if code is not None and department is None:
            raise Http404(gettext("No such department in your scope."))
        try:
            requested = date.fromisoformat(request.GET["period"]) if request.GET.get("period") else None
        except ValueError:
            requested = None  # a period of another kind or a mistyped date: the default period
        context: dict[str, Any] = {
            "departments": departments,
            "department": department,
            "kind": kind,
            "kinds": PeriodKind.choices,
            "kpis_url": reverse("admin:evaluations_evaluation_kpis"),
        }
        if department is not None:
            page = selectors.department_scorecard(
                user=request.user, department=department, kind=kind, period_start=requested
            )
            context["page"] = page
            context["trends"] = [
                {
                    "trend": trend,
                    "name": localized_name(trend.kpi) if trend.kpi else trend.code,
                    "unit": trend.kpi.get_unit_display() if trend.kpi else "",
                    "figure": trend.figure,
                    "chart": charts.trend_svg(
                        [
                            charts.ChartPoint(
                                p.period.label,
                                p.score.value if p.score else None,
                                p.score.met if p.score else None,
                            )
                            for p in trend.points
                        ],
                        target=trend.figure.target
                        if trend.figure
                        else (trend.kpi.target if trend.kpi else None),
                        direction=trend.kpi.direction if trend.kpi else "higher",
                        title=localized_name(trend.kpi) if trend.kpi else trend.code,
                    ),
                }
                for trend in page.trends
            ]
        title = gettext("Department scorecard")
        if department is not None:
            title = f"{title}: {localized_name(department)}"
        return _page(self, request, "admin/evaluations/scorecard.html", title, **context)

    def kpis_view(self, request):
        """The KPI definitions as staff read them: what each one counts, its unit, direction and target."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        rows = [
            {
                "kpi": kpi,
                "name": localized_name(kpi),
                "definition": DEFINITIONS.get(kpi.code, ""),
                "description": kpi.description,
            }
            for kpi in selectors.kpi_definitions()
        ]
        return _page(self, request, "admin/evaluations/kpis.html", gettext("KPI definitions"), rows=rows)

    def flow_view(self, request):
        """The handoff-flow heat map: from × to departments, coloured by the chosen measure."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Like the scorecard, the last closed month: the one in progress has a few days' handoffs.
        shown = period_containing(PeriodKind.MONTHLY, today()).previous()
        form = FlowForm(request.GET or {"start": shown.start, "end": shown.end, "metric": "count"})
        matrix = None
        rows: list[dict[str, Any]] = []
        if form.is_valid():
            start: date = form.cleaned_data["start"]
            end: date = form.cleaned_data["end"]
            metric = form.cleaned_data.get("metric") or "count"
            try:
                matrix = selectors.handoff_flow(user=request.user, start=start, end=end)
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
            else:
                rows = _heat_rows(matrix, metric)
        return _page(
            self,
            request,
            "admin/evaluations/flow.html",
            gettext("Handoff flow"),
            form=form,
            matrix=matrix,
            rows=rows,
            target_names=[localized_name(t) for t in matrix.targets] if matrix else [],
        )

    def compute_view(self, request):
        if not request.user.has_perm("evaluations.add_evaluation"):
            raise PermissionDenied
        current = period_containing(PeriodKind.MONTHLY, today()).previous()
        form = ComputeForm(request.POST or None, initial={"start": current.start})
        if request.method == "POST" and form.is_valid():
            try:
                evaluations = services.evaluation_compute_period(**form.cleaned_data)
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, gettext("%(n)d evaluations computed.") % {"n": len(evaluations)})
                url = reverse("admin:evaluations_evaluation_changelist")
                return HttpResponseRedirect(f"{url}?kind={form.cleaned_data['kind']}")
        return _page(
            self, request, "admin/evaluations/form_page.html", gettext("Compute a period"), form=form
        )


def _heat_rows(matrix: selectors.FlowMatrix, metric: str) -> list[dict[str, Any]]:
    rows = []
    for source in matrix.sources:
        cells = []
        for target in matrix.targets:
            cell = matrix.cell(source, target)
            if cell is None:
                cells.append(None)
                continue
            if metric == "median":
                colour = charts.heat(cell.median_minutes_to_accept, matrix.max_median)
            elif metric == "bounce":
                colour = charts.heat(cell.bounce_rate, 100)
            else:
                colour = charts.heat(cell.count, matrix.max_count, alarming=False)
            cells.append({"cell": cell, "colour": colour})
        rows.append(
            {
                "source": source,
                "name": localized_name(source) if source else gettext("intake"),
                "cells": cells,
            }
        )
    return rows
