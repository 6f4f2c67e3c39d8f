"""Every admin changelist filters only on its declared filters, and customer fields never filter.

The test walks every ModelAdmin registered on the admin site (Baton's and the libraries') and puts a
lookup on every field of its model in the URL: the declared filters' own parameters answer the list,
anything else is refused with a 400, whoever asks (the superuser here, who sees everything).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from departments.admin_site import declared_filter_parameters

pytestmark = pytest.mark.django_db

LOOKUPS = ("", "__exact", "__startswith", "__regex", "__contains", "__isnull", "__gte")


def _changelists():
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield model, model_admin, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def _lookups(model):
    for field in model._meta.get_fields():
        if not getattr(field, "concrete", False):
            continue
        for suffix in LOOKUPS:
            yield field, f"{field.name}{suffix}"
        if field.is_relation:
            yield field, f"{field.name}__id__exact"
            yield field, f"{field.name}__pk__startswith"


@pytest.fixture
def superuser(demo_org):
    return get_user_model().objects.filter(
        is_superuser=True
    ).first() or get_user_model().objects.create_superuser("root", "root@bank.example", "x")


def test_every_changelist_refuses_lookups_that_are_not_declared_filters(superuser, rf):
    client = Client()
    client.force_login(superuser)
    checked, refused, answered, walked = 0, 0, 0, []
    wrong: list[str] = []
    for model, model_admin, url in _changelists():
        if client.get(url).status_code != 200:
            continue  # a changelist that redirects elsewhere (e.g. to its queue) is walked there
        walked.append(model._meta.label)
        request = rf.get(url)
        request.user = superuser
        declared = declared_filter_parameters(model_admin, request)
        for field, lookup in _lookups(model):
            value = "1" if lookup.endswith(("__isnull", "__id__exact")) else "13"
            status = client.get(url, {lookup: value}).status_code
            checked += 1
            customer = field.name.startswith("customer")
            if (lookup in declared or f"{lookup}__exact" in declared) and not customer:
                answered += 1
                if status == 400:
                    wrong.append(f"{model._meta.label} ?{lookup}: declared but refused")
            else:
                refused += 1
                if status != 400:
                    wrong.append(f"{model._meta.label} ?{lookup}: {status}, not refused")
    assert not wrong, "\n".join(wrong)
    assert len(walked) >= 20, walked
    assert refused > 1000 and answered > 20, (checked, refused, answered)
    print(
        f"{len(walked)} changelists, {checked} lookups: {refused} refused, {answered} declared and answered"
    )


def test_the_case_list_refuses_lookups_on_customer_fields():
    from processes.models import Case

    model_admin = admin.site._registry[Case]
    for lookup in (
        "customer_phone__startswith",
        "customer_phone__regex",
        "customer_name",
        "customer_id__exact",
    ):
        assert not model_admin.lookup_allowed(lookup, "138", None)


def test_no_admin_declares_a_customer_field_as_a_filter_or_a_search_field(rf, superuser):
    request = rf.get("/admin/")
    request.user = superuser
    offending = []
    for model, model_admin, _ in _changelists():
        names = [
            str(f if isinstance(f, str) else getattr(f, "parameter_name", f))
            for f in model_admin.get_list_filter(request)
        ]
        names += list(model_admin.get_search_fields(request))
        offending += [f"{model._meta.label}: {n}" for n in names if "customer" in n]
    assert not offending


def test_a_refused_lookup_on_customer_data_is_audited(superuser, demo_org):
    from departments.models import AuditEntry

    client = Client()
    client.force_login(superuser)

    response = client.get("/admin/processes/case/", {"customer_phone__startswith": "138"})

    assert response.status_code == 400
    entry = AuditEntry.objects.get(kind="refused_lookup")
    assert (entry.user, entry.object_type, entry.detail) == (
        superuser,
        "processes.case",
        {"lookup": "customer_phone__startswith"},
    )
