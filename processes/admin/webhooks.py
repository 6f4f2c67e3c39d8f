"""Webhook subscriptions and their deliveries, for the quality office: add, rotate the secret,
enable again after an automatic disable, replay dead deliveries."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from processes.models import WebhookDelivery, WebhookSubscription
from processes.webhooks import signing, targets
from processes.webhooks.delivery import webhook_enable, webhook_replay

ROTATION_OVERLAP = timedelta(hours=24)


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "owner", "event_kinds", "departments", "all_departments", "is_active"]

    def clean_event_kinds(self):
        from processes.models import EVENT_KINDS

        kinds = self.cleaned_data["event_kinds"] or []
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise forms.ValidationError(_('A list of event kinds, e.g. ["resolved", "closed"].'))
        unknown = sorted(set(kinds) - set(EVENT_KINDS.values))
        if unknown:
            raise forms.ValidationError(_("Unknown event kinds: %(kinds)s") % {"kinds": ", ".join(unknown)})
        return kinds

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            targets.check(url)
        except targets.Refused as exc:
            raise forms.ValidationError(_("This target is refused: %(why)s") % {"why": exc}) from None
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ["name", "url", "owner", "is_active", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    filter_horizontal = ["departments"]
    readonly_fields = [
        "secret",
        "previous_secret_expires_at",
        "failing_since",
        "disabled_at",
        "disabled_reason",
    ]
    actions = ["rotate_secret", "enable"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not self.has_change_permission(request, obj):  # auditors read the settings, not the secret
            fields = [f for f in fields if f not in ("secret", "previous_secret")]
        return fields

    def save_model(self, request, obj, form, change):
        if not obj.secret:
            obj.secret = signing.new_secret()
        super().save_model(request, obj, form, change)

    @admin.action(
        description=_("Rotate the secret (the old one stays valid for 24 hours)"), permissions=["change"]
    )
    def rotate_secret(self, request, queryset):
        now = timezone.now()
        for sub in queryset:
            sub.previous_secret, sub.previous_secret_expires_at = sub.secret, now + ROTATION_OVERLAP
            sub.secret = signing.new_secret()
            sub.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
        self.message_user(request, _("Secrets rotated."), level=messages.SUCCESS)

    @admin.action(description=_("Enable the selected subscriptions again"), permissions=["change"])
    def enable(self, request, queryset):
        count = webhook_enable(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d subscription enabled.", "%(count)d subscriptions enabled.", count)
            % {"count": count},
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "subscription",
        "event",
        "status",
        "attempts",
        "last_status",
        "next_attempt_at",
    ]
    list_filter = ["status", "subscription"]
    list_select_related = ["subscription", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["replay"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Replay the selected deliveries"), permissions=["change"])
    def replay(self, request, queryset):
        count = webhook_replay(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            level=messages.SUCCESS if count else messages.WARNING,
        )
