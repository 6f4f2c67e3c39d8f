"""The customer in the admin: lookup at intake, the case page's history, search by phone or number,
the customer messages, their templates and the console outbox of the SMS gateway."""

from __future__ import annotations

from django.contrib import admin

from processes.customers import crypto, lookup
from processes.customers.messages import DEFAULT_WORDS
from processes.models import ConsoleSms, CustomerMessage, CustomerMessageTemplate


def intake_lookup(request, form) -> list[lookup.HistoryRow] | None:
    """The cases of the customer typed into the intake form; a malformed value is the field's error."""
    data = form.data
    errors: dict[str, list[str]] = {}
    keys = lookup.intake_keys(
        customer_phone=data.get("customer_phone", ""), customer_id=data.get("customer_id", ""), errors=errors
    )
    form.errors.clear()  # only the lookup's own errors: the case is not being opened
    for field, messages in errors.items():
        form.add_error(field, messages)
    if errors or not keys:
        return None
    rows = lookup.customer_history(user=request.user, keys=keys)
    lookup.audit_lookup(user=request.user, request=request, keys=keys, via="intake", found=len(rows))
    return rows


def case_history(request, case) -> list[lookup.HistoryRow] | None:
    keys = lookup.case_keys(case)
    if not keys:
        return None
    rows = lookup.customer_history(user=request.user, keys=keys, exclude_case_id=case.pk)
    lookup.audit_lookup(user=request.user, request=request, keys=keys, via="case_page", found=len(rows))
    return rows


def search(request, queryset, term: str, results):
    """The admin's search, widened by the customer whose full phone or number the term is."""
    term = (term or "").strip()
    found = {}
    for make, field in ((crypto.phone_key, "phone"), (crypto.customer_id_key, "customer_id")):
        try:
            found[field] = make(term) if term else ""
        except crypto.Malformed:
            found[field] = ""
    keys = lookup.CustomerKeys(**found)
    if not keys:
        return results
    matches = queryset.filter(keys.q())
    lookup.audit_lookup(user=request.user, request=request, keys=keys, via="admin_search", found=-1)
    return results | matches


@admin.register(CustomerMessage)
class CustomerMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "case",
        "kind",
        "channel",
        "recipient_masked",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "kind", "channel"]
    readonly_fields = [f.name for f in CustomerMessage._meta.fields]
    list_select_related = ["case"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what the customer was sent


@admin.register(CustomerMessageTemplate)
class CustomerMessageTemplateAdmin(admin.ModelAdmin):
    """The quality office's words; without a row for a kind and language the built-in ones apply."""

    list_display = ["kind", "language", "subject"]
    list_filter = ["kind", "language"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kind, language = initial.get("kind"), initial.get("language")
        if kind in DEFAULT_WORDS and language in DEFAULT_WORDS[kind]:
            initial.setdefault("subject", DEFAULT_WORDS[kind][language][0])
            initial.setdefault("body", DEFAULT_WORDS[kind][language][1])
        return initial


@admin.register(ConsoleSms)
class ConsoleSmsAdmin(admin.ModelAdmin):
    """What the console SMS gateway would have sent (development and tests)."""

    list_display = ["created_at", "to_masked", "body"]
    readonly_fields = ["created_at", "to_masked", "body", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what the customer was sent
