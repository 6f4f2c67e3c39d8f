"""Process definitions, administered by the quality office (model permissions); staff read them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from departments.models import Department
from processes.models import Priority, ServiceProcess, Stage, StageTarget, Transition


class OneQueryChoicesMixin:
    """Foreign-key selects of an inline render from one list instead of one query per row.
    `choice_querysets(obj)` gives the queryset of each such field (and may narrow it)."""

    def choice_querysets(self, obj) -> dict[str, Any]:
        return {}

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        for name, queryset in self.choice_querysets(obj).items():
            field = formset.form.base_fields.get(name)
            if field is None:
                continue
            field.queryset = queryset
            field.choices = [(getattr(value, "value", value), label) for value, label in field.choices]
        return formset


class StageInline(OneQueryChoicesMixin, admin.TabularInline):
    model = Stage
    extra = 0
    fields = ["order", "code", "name", "name_en", "department", "is_initial", "is_final", "can_resolve"]
    ordering = ["order", "pk"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("process")  # for each row's title

    def choice_querysets(self, obj):
        return {"department": Department.objects.all()}


class TransitionInline(OneQueryChoicesMixin, admin.TabularInline):
    model = Transition
    fk_name = "process"
    extra = 0
    fields = ["from_stage", "to_stage", "is_return", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_stage", "to_stage")

    def choice_querysets(self, obj):
        stages = Stage.objects.filter(process=obj).select_related("process") if obj else Stage.objects.none()
        return {"from_stage": stages, "to_stage": stages}


@admin.register(ServiceProcess)
class ServiceProcessAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "category", "reference_prefix", "regulatory_days", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["code", "name", "name_en"]
    inlines = [StageInline, TransitionInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "name_en", "category", "reference_prefix", "is_active"]}),
        (
            _("End-to-end targets (business hours)"),
            {"fields": ["e2e_hours_urgent", "e2e_hours_high", "e2e_hours_normal", "e2e_hours_low"]},
        ),
        (
            _("Regulatory deadline (calendar days)"),
            {
                "fields": [
                    "regulatory_days",
                    "first_extension_days",
                    "second_extension_days",
                    "second_extension_approver",
                ]
            },
        ),
        (
            _("Service recovery and reopening"),
            {"fields": ["compensation_threshold", "compensation_approver", "reopen_window_days"]},
        ),
    ]


class StageTargetInline(admin.TabularInline):
    model = StageTarget
    extra = 0
    max_num = len(Priority.choices)
    fields = ["priority", "response_minutes", "resolution_minutes"]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "department", "order", "is_initial", "is_final", "can_resolve"]
    list_filter = ["process", "department", "can_resolve"]
    search_fields = ["code", "name", "name_en", "process__code"]
    list_select_related = ["process", "department"]
    inlines = [StageTargetInline]
    fields = [
        "process",
        "code",
        "name",
        "name_en",
        "department",
        "order",
        "is_initial",
        "is_final",
        "can_resolve",
    ]
