"""The staff's work queue: open handoffs of their departments, the most urgent first."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

import processes.admin.desk as desk
import processes.admin.live as live
from core.text import localized_name
from processes import selectors
from processes.admin.common import ADMIN_CSS, format_due, sla_badge_html
from processes.clock import format_time_left
from processes.models import Handoff
from processes.selectors import user_label


def _id(value: str | int) -> int:
    """A filter's id parameter; anything else is the admin's 'incorrect lookup' (?e=1), not a 500."""
    if not str(value).isdigit():
        raise IncorrectLookupParameters(value)
    return int(value)


class QueueStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s, Handoff.Status(s).label) for s in Handoff.OPEN_STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class BreachedFilter(admin.SimpleListFilter):
    title = _("breached")
    parameter_name = "breached"

    def lookups(self, request, model_admin):
        return [("yes", _("yes")), ("no", _("no"))]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        return selectors.filter_breached(queryset, breached=self.value() == "yes", now=timezone.now())


class ProcessFilter(admin.SimpleListFilter):
    title = _("process")
    parameter_name = "process"

    def lookups(self, request, model_admin):
        return [(p.pk, localized_name(p)) for p in selectors.processes()]

    def queryset(self, request, queryset):
        return queryset.filter(case__process_id=_id(self.value())) if self.value() else queryset


class DepartmentFilter(admin.SimpleListFilter):
    title = _("department")
    parameter_name = "department"

    def lookups(self, request, model_admin):
        return [(d.pk, localized_name(d)) for d in selectors.queue_departments(user=request.user)]

    def queryset(self, request, queryset):
        return queryset.filter(to_department_id=_id(self.value())) if self.value() else queryset


class QueueChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # Evaluates the page's queryset once (the template reuses its cache) and computes every
        # badge with one ScheduleCache loaded for all the page's calendars.
        selectors.attach_sla(self.result_list)


@admin.register(Handoff)
class QueueAdmin(admin.ModelAdmin):
    """Handoffs are shown as the work queue: the open ones waiting on the user's departments, the
    most urgent first. A handoff's own page is its case's page."""

    # Five columns that fit beside the navigation and the filters on a 1366 px laptop (the case with
    # its priority; the SLA with its due time, time left and the regulatory deadline); on a phone each
    # row is a card (processes/admin.css).
    list_display = [
        "case_link",
        "process_stage",
        "route",
        "status_assignee",
        "sla",
    ]
    list_display_links = None
    list_filter = [
        QueueStatusFilter,
        desk.AssigneeFilter,
        BreachedFilter,
        ProcessFilter,
        "priority",
        DepartmentFilter,
    ]
    search_fields = ["case__reference", "case__title"]
    search_help_text = _("Case reference or title")
    actions = [desk.bulk_claim, desk.bulk_assign]
    list_per_page = 50

    class Media:
        css = ADMIN_CSS

    def get_queryset(self, request):
        return selectors.handoff_queue(user=request.user)

    def get_ordering(self, request):
        return ["current_due", "pk"]

    def get_changelist(self, request, **kwargs):
        return QueueChangeList

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "bulk-assign/",
                self.admin_site.admin_view(lambda request: desk.bulk_assign_view(self, request)),
                name="processes_handoff_bulk_assign",
            ),
            path(
                "live/",
                self.admin_site.admin_view(lambda request: live.live_view(self, request)),
                name="processes_handoff_live",
            ),
            path(
                "live/data/",
                self.admin_site.admin_view(lambda request: live.live_data_view(self, request)),
                name="processes_handoff_live_data",
            ),
            path(
                "save-view/",
                self.admin_site.admin_view(lambda request: desk.save_view_view(self, request)),
                name="processes_handoff_save_view",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        context = {
            "title": _("Queue"),
            "query_string": request.GET.urlencode(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            handoff = selectors.visible_handoffs(user=request.user).filter(pk=unquote(object_id)).first()
        except ValueError:
            handoff = None
        if handoff is None or not self.has_view_permission(request):
            raise Http404(gettext("No such handoff."))
        url = reverse("admin:processes_case_change", args=[handoff.case_id])
        return HttpResponseRedirect(f"{url}#handoff-{handoff.pk}")

    @admin.display(description=_("case"), ordering="case__reference")
    def case_link(self, obj):
        repeat = (
            format_html(
                ' <span class="sla-badge sla-breached repeat-flag">{}</span>', gettext("repeat complaint")
            )
            if obj.case.repeat_complaint
            else ""
        )
        return format_html(
            '<a href="{}">{}</a> <span class="priority priority-{}">{}</span>{}<div class="queue-title">{}</div>',
            reverse("admin:processes_case_change", args=[obj.case_id]),
            obj.case.reference,
            obj.priority,
            obj.get_priority_display(),
            repeat,
            Truncator(obj.case.title).chars(40),
        )

    @admin.display(description=_("process · stage"))
    def process_stage(self, obj):
        stage = localized_name(obj.to_stage) if obj.to_stage else Handoff.Kind(obj.kind).label
        return format_html('{}<div class="queue-quiet">{}</div>', localized_name(obj.case.process), stage)

    @admin.display(description=_("from → to"))
    def route(self, obj):
        source = localized_name(obj.from_department) if obj.from_department else gettext("intake")
        return f"{source} → {localized_name(obj.to_department)}"

    @admin.display(description=_("status"), ordering="status")
    def status_assignee(self, obj):
        assignee = user_label(obj.assignee)
        if not assignee:
            return obj.get_status_display()
        return format_html('{}<div class="queue-quiet">{}</div>', obj.get_status_display(), assignee)

    @admin.display(description=_("SLA"), ordering="current_due")
    def sla(self, obj):
        """The badge, when the running clock is due, what is left of it (or how overdue it is), and
        the regulatory deadline beside it when the case has one."""
        return format_html(
            '{}<div class="queue-due">{}</div><div class="queue-left">{}</div>{}',
            sla_badge_html(obj.sla),
            format_due(obj.sla.due_at),
            format_time_left(obj.sla.business_seconds_left),
            self.regulatory_deadline(obj),
        )

    def regulatory_deadline(self, obj) -> str:
        deadline = obj.case.regulatory_deadline
        if deadline is None:
            return ""
        passed = " deadline-passed" if deadline < timezone.localdate() else ""
        return format_html(
            '<div class="queue-deadline{}">{} {}</div>',
            passed,
            gettext("regulatory deadline"),
            deadline.isoformat(),
        )
