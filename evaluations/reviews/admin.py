"""The admin of improvement reviews (PDCA): review cycles (the quality office's), the review page with
its findings, scorecards, charts, minutes and actions, and the improvement actions with "my actions"
for their owners.

Thin by design (docs/architecture.md): reads within the user's scope (evaluations.reviews.policy), every
write one call of an evaluations.reviews.services function. Imported by the evaluations.admin package.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError, InvalidInput
from core.messages import add_service_errors, error_text
from core.text import localized_name
from departments.models import Department, Membership
from evaluations import charts
from evaluations.admin.common import ScopedDepartmentFilter
from evaluations.models import Evaluation
from evaluations.periods import Period, period_containing, today
from evaluations.reviews import emails as review_emails
from evaluations.reviews import policy
from evaluations.reviews import services as reviews
from evaluations.reviews.findings import findings_in_scope
from evaluations.reviews.forms import (
    ActionCreateForm,
    ActionEditForm,
    ActionStatusForm,
    ReviewCycleForm,
    ReviewMinutesForm,
)
from evaluations.reviews.models import ImprovementAction, ImprovementReview, ReviewCycle

REVIEW_CSS = {"all": ["evaluations/admin.css", "evaluations/reviews.css"]}
TREND_PERIODS = 6


def _scope_codes(user) -> set[str] | None:
    ids = policy.review_department_ids(user)
    if ids is None:
        return None
    return set(Department.objects.filter(pk__in=ids).values_list("code", flat=True))


# == review cycles ==================================================================================
@admin.register(ReviewCycle)
class ReviewCycleAdmin(admin.ModelAdmin):
    form = ReviewCycleForm
    list_display = [
        "name",
        "kind",
        "schedule",
        "reviewed",
        "next_run_at",
        "last_run_at",
        "is_active",
        "error",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]
    filter_horizontal = ["departments"]
    readonly_fields = ["next_period_label", "next_run_at", "last_run_at", "last_error", "created_at"]
    actions = ["run_last_closed_period"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "run_day", "run_time", "is_active"]}),
        (_("Departments reviewed"), {"fields": ["all_departments", "departments"]}),
        (_("Recipients"), {"fields": ["notify_leads", "notify_quality_office", "extra_recipients"]}),
        (
            _("Inspection sample"),
            {"fields": ["chair", "inspection_scorecard", "inspection_level", "inspection_sample_size"]},
        ),
        (
            _("Schedule"),
            {"fields": ["next_period_label", "next_run_at", "last_run_at", "last_error", "created_at"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("departments")

    @admin.display(description=_("runs"))
    def schedule(self, obj: ReviewCycle) -> str:
        return gettext("day %(day)s of the next period, %(time)s") % {
            "day": obj.run_day,
            "time": obj.run_time.strftime("%H:%M"),
        }

    @admin.display(description=_("departments"))
    def reviewed(self, obj: ReviewCycle) -> str:
        if obj.all_departments:
            return gettext("all departments")
        return ", ".join(d.code for d in obj.departments.all()) or "—"

    @admin.display(description=_("next period reviewed"))
    def next_period_label(self, obj: ReviewCycle) -> str:
        return obj.next_period.label if obj.next_period else "—"

    @admin.display(description=_("last error"))
    def error(self, obj: ReviewCycle) -> str:
        return (obj.last_error[:60] + "…") if len(obj.last_error) > 60 else (obj.last_error or "")

    def has_delete_permission(self, request, obj=None):
        # A cycle that has reviews is their history: deactivate it instead.
        return super().has_delete_permission(request, obj) and (obj is None or not obj.reviews.exists())

    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k in reviews.CYCLE_FIELDS}
        data["departments"] = list(form.cleaned_data.get("departments") or [])
        if change:
            reviews.review_cycle_update(cycle=obj, actor=request.user, **data)
            obj.refresh_from_db()
        else:
            created = reviews.review_cycle_create(actor=request.user, **data)
            obj.pk, obj._state = created.pk, created._state
            obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The departments were set by the service; only inlines (none here) would remain.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description=_("Run now for the last closed period"))
    def run_last_closed_period(self, request, queryset):
        for cycle in queryset:
            period = period_containing(cycle.kind, today()).previous()
            try:
                review, created = reviews.review_cycle_run(
                    cycle=cycle, period_start=period.start, actor=request.user
                )
            except ApplicationError as exc:
                messages.error(request, f"{cycle.name}: {error_text(exc)}")
                continue
            text = (
                gettext("%(cycle)s: review of %(period)s created, %(n)d e-mails queued.")
                if created
                else gettext("%(cycle)s: %(period)s was reviewed before; nothing changed.")
            )
            messages.success(
                request, text % {"cycle": cycle.name, "period": period.label, "n": review.emails}
            )


# == reviews ========================================================================================
class ActionInline(admin.TabularInline):
    model = ImprovementAction
    fk_name = "review"
    fields = [
        "title",
        "department",
        "owner",
        "kind",
        "kpi_code",
        "baseline",
        "goal",
        "due_date",
        "status",
        "result_value",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("actions decided in this review")

    def get_queryset(self, request):
        return policy.visible_actions(request.user).select_related("department", "owner")

    def has_add_permission(self, request, obj=None):
        return False  # through "Add an action", which calls the service

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImprovementReview)
class ImprovementReviewAdmin(admin.ModelAdmin):
    form = ReviewMinutesForm
    change_form_template = "admin/evaluations/improvementreview/change_form.html"
    list_display = [
        "__str__",
        "cycle",
        "period_label",
        "status",
        "departments_count",
        "actions_count",
        "run_at",
        "emails",
    ]
    list_filter = ["status", "kind", "cycle"]
    list_select_related = ["cycle"]
    readonly_fields = ["cycle", "period_label", "status", "run_at", "emails", "closed_at", "closed_by"]
    fieldsets = [
        (None, {"fields": ["cycle", "period_label", "status", "run_at", "emails", "closed_at", "closed_by"]}),
        (_("Minutes"), {"fields": ["minutes", "close_review"]}),
    ]
    inlines = [ActionInline]
    actions = None

    class Media:
        css = REVIEW_CSS

    def get_queryset(self, request):
        return (
            policy.visible_reviews(request.user)
            .select_related("cycle")
            .annotate(
                n_departments=Count("departments", distinct=True), n_actions=Count("actions", distinct=True)
            )
        )

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return [(None, {"fields": ["cycle", "period_label", "status", "run_at", "emails", "minutes"]})]
        return super().get_fieldsets(request, obj)

    def has_add_permission(self, request):
        return False  # reviews are run by their cycle

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == ImprovementReview.Status.CLOSED:
            return False
        if obj is not None and obj.cycle.chair_id == request.user.pk:
            return True
        return super().has_change_permission(request, obj)

    @admin.display(description=_("period"))
    def period_label(self, obj: ImprovementReview) -> str:
        return obj.period.label

    @admin.display(description=_("departments"), ordering="n_departments")
    def departments_count(self, obj) -> int:
        return obj.n_departments

    @admin.display(description=_("actions"), ordering="n_actions")
    def actions_count(self, obj) -> int:
        return obj.n_actions

    def save_model(self, request, obj, form, change):
        try:
            reviews.review_close(
                review=obj,
                actor=request.user,
                minutes=form.cleaned_data["minutes"],
                close=form.cleaned_data.get("close_review", False),
            )
        except ApplicationError as exc:
            messages.error(request, error_text(exc))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = self.get_object(request, unquote(object_id))
        if review is None:
            raise Http404(gettext("No such review."))
        findings = findings_in_scope(review.findings, _scope_codes(request.user))
        context = review_emails.review_context(review, findings, "office")
        context["notes"] = findings.get("notes", [])
        charts_ = _score_charts(review, [c["department"] for c in context["scorecards"]])
        for card in context["scorecards"]:
            card["chart"] = charts_.get(card["department"])
        department_ids = list(
            Department.objects.filter(code__in=[c["department"] for c in context["scorecards"]]).values_list(
                "pk", flat=True
            )
        )
        can_add = review.status == ImprovementReview.Status.OPEN and any(
            policy.can_create_action(request.user, pk) for pk in department_ids
        )
        extra = {
            "review_page": context,
            "add_action_url": (
                reverse("admin:evaluations_improvementaction_add") + f"?review={review.pk}"
                if can_add
                else None
            ),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)


def _score_charts(review: ImprovementReview, codes: list[str]) -> dict[str, Any]:
    """The overall score of each department over the last periods, as an inline SVG (one query)."""
    periods = [review.period]
    for _step in range(TREND_PERIODS - 1):
        periods.insert(0, periods[0].previous())
    rows = Evaluation.objects.filter(
        kind=review.kind, period_start__in=[p.start for p in periods], department__code__in=codes
    ).values_list("department__code", "period_start", "overall_score")
    scores = {(code, start): score for code, start, score in rows}
    return {
        code: charts.trend_svg(
            [charts.ChartPoint(p.label, scores.get((code, p.start))) for p in periods],
            title=gettext("overall score"),
            width=320,
            height=120,
        )
        for code in codes
    }


# == improvement actions ============================================================================
class MineFilter(admin.SimpleListFilter):
    title = _("owner")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("my actions"))]

    def queryset(self, request, queryset):
        return queryset.filter(owner=request.user) if self.value() == "1" else queryset


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("1", _("overdue")), ("0", _("not overdue"))]

    def queryset(self, request, queryset):
        overdue = {"status__in": ImprovementAction.PENDING, "due_date__lt": today()}
        if self.value() == "1":
            return queryset.filter(**overdue)
        if self.value() == "0":
            return queryset.exclude(**overdue)
        return queryset


class ActionDepartmentFilter(ScopedDepartmentFilter):
    """The departments whose actions the user may see (those of the scorecards' scope)."""


@admin.register(ImprovementAction)
class ImprovementActionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "department",
        "owner",
        "kind",
        "kpi_code",
        "baseline",
        "goal",
        "due",
        "status_badge",
        "review",
    ]
    list_filter = [MineFilter, "status", OverdueFilter, "kind", ActionDepartmentFilter]
    list_select_related = ["department", "owner", "review__cycle"]
    search_fields = ["title", "owner__username"]
    actions = None
    list_per_page = 100

    class Media:
        css = REVIEW_CSS

    def get_queryset(self, request):
        return policy.visible_actions(request.user)

    def has_add_permission(self, request):
        # A department's lead decides its actions without holding the model permission.
        return (
            super().has_add_permission(request)
            or Membership.objects.filter(
                user=request.user, role=Membership.Role.LEAD, department__is_active=True
            ).exists()
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("due date"), ordering="due_date")
    def due(self, obj: ImprovementAction):
        if obj.is_overdue():
            return format_html(
                '<span class="action-overdue">{} ({})</span>', obj.due_date, gettext("overdue")
            )
        return obj.due_date

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: ImprovementAction):
        return format_html(
            '<span class="action-status action-status-{}">{}</span>', obj.status, obj.get_status_display()
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("mine/", view(self.mine_view), name="evaluations_improvementaction_mine"),
            *super().get_urls(),
        ]

    def mine_view(self, request):
        return HttpResponseRedirect(reverse("admin:evaluations_improvementaction_changelist") + "?mine=1")

    def changelist_view(self, request, extra_context=None):
        context = {"title": gettext("My improvement actions") if request.GET.get("mine") == "1" else None}
        return super().changelist_view(
            request, {**{k: v for k, v in context.items() if v}, **(extra_context or {})}
        )

    def _page(self, request, template: str, title: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": title,
                "media": self.media,
                **context,
            },
        )

    def add_view(self, request, form_url="", extra_context=None):
        reviews_open = policy.visible_reviews(request.user).filter(status=ImprovementReview.Status.OPEN)
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"review": request.GET.get("review")} if request.GET.get("review") else None
        form = ActionCreateForm(
            request.POST or None, initial=initial, reviews_queryset=reviews_open.select_related("cycle")
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                action = reviews.action_create(
                    review=data["review"],
                    department=data["department"],
                    owner=data["owner"],
                    title=data["title"],
                    description=data["description"],
                    kind=data["kind"],
                    kpi_code=data["kpi_code"],
                    baseline=data["baseline"],
                    goal=data["goal"],
                    due_date=data["due_date"],
                    actor=request.user,
                )
            except InvalidInput as exc:
                add_service_errors(form, exc, renames={"kpi": "kpi_code"})
            except ApplicationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, gettext("Action created."))
                return HttpResponseRedirect(
                    reverse("admin:evaluations_improvementaction_change", args=[action.pk])
                )
        return self._page(
            request, "admin/evaluations/form_page.html", gettext("Add an improvement action"), form=form
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The action's page: what it plans, its status with the allowed next steps, its history."""
        try:
            action = (
                self.get_queryset(request)
                .select_related("department", "owner", "review__cycle", "result_review")
                .get(pk=int(unquote(object_id)))
            )
        except (ImprovementAction.DoesNotExist, ValueError) as exc:
            raise Http404(gettext("No such action.")) from exc
        if not self.has_view_permission(request, action):
            raise PermissionDenied
        user = request.user
        can_edit = action.status not in reviews.VERDICTS and policy.can_progress_action(user, action)
        edit_form = ActionEditForm(action=action) if can_edit else None
        if request.method == "POST":
            try:
                if request.POST.get("do") == "status":
                    status_form = ActionStatusForm(request.POST)
                    if not status_form.is_valid():
                        raise InvalidInput(
                            gettext("Invalid status change."), extra={"fields": status_form.errors}
                        )
                    data = status_form.cleaned_data
                    reviews.action_change_status(
                        action=action,
                        status=data["status"],
                        actor=user,
                        note=data["note"],
                        result_value=data["result_value"],
                    )
                    messages.success(request, gettext("Status changed."))
                    return HttpResponseRedirect(request.path)
                if request.POST.get("do") == "edit" and can_edit:
                    edit_form = ActionEditForm(request.POST, action=action)
                    if edit_form.is_valid():
                        reviews.action_update(action=action, actor=user, **edit_form.cleaned_data)
                        messages.success(request, gettext("Action saved."))
                        return HttpResponseRedirect(request.path)
            except InvalidInput as exc:
                if edit_form is not None and request.POST.get("do") == "edit":
                    add_service_errors(edit_form, exc)
                else:
                    messages.error(request, error_text(exc))
            except ApplicationError as exc:
                messages.error(request, error_text(exc))
        steps = [
            {
                "status": status,
                "label": ImprovementAction.Status(status).label,
                "verdict": status in reviews.VERDICTS,
            }
            for status in sorted(reviews.TRANSITIONS[action.status], key=lambda s: reviews.STEP[s])
            if (
                policy.can_verify_action(user)
                if status in reviews.VERDICTS
                else policy.can_progress_action(user, action)
            )
        ]
        events = list(action.events.select_related("actor").order_by("created_at", "pk"))
        return self._page(
            request,
            "admin/evaluations/improvementaction/action.html",
            action.title,
            action=action,
            overdue=action.is_overdue(),
            review_link=reverse("admin:evaluations_improvementreview_change", args=[action.review_id]),
            review_label=f"{action.review.cycle.name} {Period(action.review.kind, action.review.period_start).label}",
            steps=steps,
            edit_form=edit_form,
            events=events,
            department_name=localized_name(action.department),
        )
