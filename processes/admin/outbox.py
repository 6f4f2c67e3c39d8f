"""The outbox for the quality office: what was sent, what waits, what died, and a retry."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from processes.models import Notification, NotificationPreference
from processes.outbox import notification_retry


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "language",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["recipient", "subject", "dedup_key"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # The outbox is the record of what was told to whom.
        return False

    @admin.action(description=_("Retry the selected dead notifications"), permissions=["change"])
    def retry(self, request, queryset):
        count = notification_retry(ids=list(queryset.values_list("pk", flat=True)), actor=request.user)
        self.message_user(
            request,
            ngettext("%(count)d notification queued again.", "%(count)d notifications queued again.", count)
            % {"count": count},
            level=messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Everyone may choose which kinds of e-mail they get; only the quality office sees everyone's."""

    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    fields = ["kind", "email"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        return (
            qs
            if request.user.has_perm("departments.act_for_all_departments")
            else qs.filter(user=request.user)
        )

    def _own(self, request, obj) -> bool:
        return obj is None or obj.user_id == request.user.pk

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (
            self._own(request, obj) or super().has_view_permission(request, obj)
        )

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request) and self._own(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
        super().save_model(request, obj, form, change)
