"""The admin site: every changelist filters only on what its admin declares.

Django's admin answers any lookup on a model's own fields given in the URL
(`?customer_phone__startswith=138`, `__regex`), whatever the list's declared filters: a user who sees
only masked data could recover a phone number digit by digit, and a user list would answer lookups on
password hashes. This site wraps every ModelAdmin registered on it, ours and the libraries' alike, so
that a changelist accepts only the parameters of its `list_filter` and `date_hierarchy` (and the
`limit_choices_to` lookups of raw-id popups, which Django needs); anything else is a 400
(DisallowedModelAdminLookup). Customer fields never filter, even if someone declares them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.filters import FieldListFilter, ListFilter, SimpleListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.db.models.constants import LOOKUP_SEP

from departments.second_factor import second_factor_ok

# Fields that hold customer data (masked unless the viewer may see it): never a filter.
NEVER_FILTER_PREFIX = "customer"


def declared_filter_parameters(model_admin: admin.ModelAdmin, request) -> frozenset[str]:
    """The query parameters the changelist's declared filters read, computed once per request."""
    memo = request.__dict__.setdefault("_declared_filter_parameters", {})
    key = id(model_admin)
    if key not in memo:
        params: set[str] = set()
        model = model_admin.model
        for list_filter in model_admin.get_list_filter(request):
            if isinstance(list_filter, type) and issubclass(list_filter, SimpleListFilter):
                params.add(list_filter.parameter_name)
                continue
            if isinstance(list_filter, type) and issubclass(list_filter, ListFilter):
                spec = list_filter(request, {}, model, model_admin)
            else:
                field_path, factory = (
                    list_filter
                    if isinstance(list_filter, list | tuple)
                    else (list_filter, FieldListFilter.create)
                )
                field = get_fields_from_path(model, field_path)[-1]
                spec = factory(field, request, {}, model, model_admin, field_path=field_path)
            params.update(spec.expected_parameters())
        hierarchy = (
            model_admin.get_date_hierarchy(request) if hasattr(model_admin, "get_date_hierarchy") else None
        )
        hierarchy = hierarchy or model_admin.date_hierarchy
        if hierarchy:
            params.update(f"{hierarchy}__{part}" for part in ("year", "month", "day"))
        memo[key] = frozenset(params)
    return memo[key]


def _is_customer_field(lookup: str) -> bool:
    return any(part.startswith(NEVER_FILTER_PREFIX) for part in lookup.split(LOOKUP_SEP))


def _raw_id_popup_lookup(model, lookup: str, value) -> bool:
    """The `limit_choices_to` of a foreign key to this model, as a raw-id popup sends it."""
    for fk_lookup in model._meta.related_fkey_lookups:
        if callable(fk_lookup):
            fk_lookup = fk_lookup()
        if (lookup, value) in widgets.url_params_from_lookup_dict(fk_lookup).items():
            return True
    return False


class DeclaredFiltersOnly:
    """ModelAdmin mixin: lookups in the URL must be the parameters of a declared filter."""

    def lookup_allowed(self, lookup, value, request=None):
        if _is_customer_field(lookup):
            if request is not None:
                # Someone tried to filter on customer data: the security team wants to know who.
                from departments.audit import audit_record
                from departments.models import AuditEntry

                audit_record(
                    kind=AuditEntry.Kind.REFUSED_LOOKUP,
                    request=request,
                    object_type=self.model._meta.label_lower,
                    detail={"lookup": lookup[:100]},
                )
            return False
        if _raw_id_popup_lookup(self.model, lookup, value):
            return True
        if request is None:
            return False
        declared = declared_filter_parameters(self, request)
        # `?status=dead` is the declared `status__exact` written short (links and redirects use it).
        if lookup not in declared and f"{lookup}__exact" not in declared:
            return False
        return super().lookup_allowed(lookup, value, request)


class BatonAdminSite(admin.AdminSite):
    """Also: administrators, the quality office and whoever may see unmasked data reach the admin
    only with a session verified by TOTP (departments.second_factor); the login form asks for it."""

    def has_permission(self, request):
        return super().has_permission(request) and second_factor_ok(request.user)

    @property
    def login_form(self):
        if getattr(settings, "BATON_REQUIRE_TOTP", True):
            from django_otp.admin import OTPAdminAuthenticationForm

            return OTPAdminAuthenticationForm
        return None

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, DeclaredFiltersOnly):
            admin_class = type(
                admin_class.__name__,
                (DeclaredFiltersOnly, admin_class),
                {
                    "__module__": admin_class.__module__,
                    "__qualname__": admin_class.__qualname__,
                    "__doc__": admin_class.__doc__,
                },
            )
        return super().register(model_or_iterable, admin_class, **options)


class BatonAdminConfig(AdminConfig):
    """django.contrib.admin with this site as the default `admin.site` (INSTALLED_APPS names it)."""

    default = False
    default_site = "departments.admin_site.BatonAdminSite"
