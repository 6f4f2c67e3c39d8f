from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from departments.checks import calendars_missing_years
from departments.history import configuration_changes
from departments.models import (
    ApiKey,
    AuditEntry,
    BusinessCalendar,
    CalendarException,
    Department,
    Heartbeat,
    Membership,
    UserSettings,
    WorkingHours,
)
from departments.services import hours_problems

# TOTP devices hold their users' secrets: enrolled with `manage.py totp_enroll`, never shown in a page.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)

admin.site.site_header = _("Baton · cross-department service")
admin.site.site_title = _("Baton")
admin.site.index_title = _("Service processes")

# Strings of Django's own admin templates that its zh_Hans catalogue lacks (the index's headings for
# screen readers). LOCALE_PATHS is searched before Django's catalogues, so ours translates them.
DJANGO_ADMIN_STRINGS = (_("Model name"), _("Add link"), _("Change or view list link"))


class WorkingHoursFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        rows = [
            (f.cleaned_data["weekday"], f.cleaned_data["start"], f.cleaned_data["end"])
            for f in self.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and {"weekday", "start", "end"} <= f.cleaned_data.keys()
        ]
        problems = hours_problems(rows)
        if problems:
            raise ValidationError(problems)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 0


class CalendarExceptionInline(admin.TabularInline):
    model = CalendarException
    extra = 0
    fields = ["date", "kind", "name", "source"]
    readonly_fields = ["source"]
    ordering = ["-date"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "time_zone", "always_open", "country"]
    search_fields = ["code", "name"]
    inlines = [WorkingHoursInline, CalendarExceptionInline]

    def changelist_view(self, request, extra_context=None):
        for code, _country, years in calendars_missing_years():
            self.message_user(
                request,
                _("Calendar %(code)s has no holiday data for %(years)s: import it or enter the dates.")
                % {"code": code, "years": ", ".join(map(str, years))},
                level=messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parent", "calendar", "team_email", "is_active"]
    list_filter = ["is_active", "calendar"]
    search_fields = ["code", "name", "name_en"]
    list_select_related = ["parent", "calendar"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        # Departments carry history; they are deactivated, never deleted.
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "department", "role"]
    list_filter = ["role", "department"]
    search_fields = ["user__username", "department__code"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["user", "department"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "count"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UserSettings)
class UserSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read by auditors and the quality office; changed by nobody, the superuser included."""

    list_display = ["created_at", "kind", "username", "ip_address", "object_type", "object_id", "path"]
    list_filter = ["kind", "object_type"]
    search_fields = ["username", "object_id", "ip_address"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # -- the configuration history: for those who read the audit log ----------------------------
    def get_urls(self):
        return [
            path(
                "configuration/",
                self.admin_site.admin_view(self.configuration_history_view),
                name="departments_configuration_history",
            ),
            *super().get_urls(),
        ]

    def configuration_history_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Configuration history"),
            "changes": configuration_changes(),
        }
        return TemplateResponse(request, "admin/departments/configuration_history.html", context)


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["user", "name", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Issue (the key is shown once, in the confirmation message), see and revoke API keys. The key
    itself is never stored: the list shows its prefix, expiry, last use and revocation."""

    form = ApiKeyForm
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, as the record of who could reach the API when

    def save_model(self, request, obj, form, change):
        if change:
            return
        from departments.api_keys import api_key_issue

        issued = api_key_issue(
            username=obj.user.get_username(), name=obj.name, expires_at=form.cleaned_data["expires_at"]
        )
        obj.pk = issued.api_key.pk
        obj.prefix, obj.key_hash = issued.api_key.prefix, issued.api_key.key_hash
        self.message_user(
            request,
            _("The new key, shown this once: %(key)s") % {"key": issued.key},
            level=messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected keys (at once)"), permissions=["change"])
    def revoke(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(revoked_at=None).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d key(s) revoked.") % {"count": count})


# Clear-text authtoken keys are gone (migrated to hashed API keys): its admin would show an empty,
# misleading "Tokens" page. The app stays installed only for its table's migrations.
try:
    from rest_framework.authtoken.models import TokenProxy

    admin.site.unregister(TokenProxy)
except admin.sites.NotRegistered:
    pass
