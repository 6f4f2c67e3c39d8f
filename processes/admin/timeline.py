"""The case timeline: append-only here too, readable within the case scope, changeable by nobody."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.text import localized_name
from processes import selectors
from processes.models import CaseEvent
from processes.selectors import user_label


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    """Append-only: readable by whoever sees the case, changeable by nobody, superusers included."""

    list_display = ["created_at", "case_link", "kind", "department_name", "actor_name"]
    list_filter = ["kind", "created_at"]
    search_fields = ["case__reference"]
    search_help_text = _("Case reference")
    fields = ["case", "kind", "handoff", "department", "actor", "created_at", "payload"]
    actions = None
    list_per_page = 100

    def get_queryset(self, request):
        return selectors.case_events(user=request.user)

    def get_object(self, request, object_id, from_field=None):
        try:
            return self.get_queryset(request).select_related("handoff").get(pk=object_id)
        except (CaseEvent.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404(gettext("No such event.")) from exc

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("case"), ordering="case__reference")
    def case_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:processes_case_change", args=[obj.case_id]),
            obj.case.reference,
        )

    @admin.display(description=_("department"))
    def department_name(self, obj):
        return localized_name(obj.department) or "—"

    @admin.display(description=_("actor"))
    def actor_name(self, obj):
        return user_label(obj.actor) or "—"
