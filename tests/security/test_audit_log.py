"""Logins, failed logins and every view of unmasked customer data are recorded, and nobody edits them."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from departments.models import AuditEntry
from processes import services
from processes.models import ServiceProcess

pytestmark = pytest.mark.django_db


def _user(name):
    return get_user_model().objects.get(username=name)


@pytest.fixture
def case(demo_org):
    from processes.demo import seed_processes

    seed_processes()
    opened, _ = services.case_open(
        process=ServiceProcess.objects.get(code="COMPLAINT"),
        title="信用卡年费争议",
        channel="phone",
        actor=_user("call_center_agent"),
        customer_name="张小三",
        customer_phone="13812345678",
    )
    return opened


def test_a_login_and_a_failed_login_are_recorded_with_the_address(client, demo_org):
    client.post("/admin/login/", {"username": "auditor", "password": "wrong"}, REMOTE_ADDR="10.1.2.3")
    client.post("/admin/login/", {"username": "auditor", "password": "demo"}, REMOTE_ADDR="10.1.2.3")

    failed, login = AuditEntry.objects.order_by("pk")
    assert (failed.kind, failed.username, failed.user, failed.ip_address) == (
        "login_failed",
        "auditor",
        None,
        "10.1.2.3",
    )
    assert (login.kind, login.user.username, login.ip_address) == ("login", "auditor", "10.1.2.3")
    assert "wrong" not in str(failed.detail)


def test_viewing_unmasked_customer_data_is_recorded_and_masked_views_are_not(client, case):
    client.force_login(_user("call_center_agent"))
    page = client.get(f"/admin/processes/case/{case.pk}/change/")
    assert "张*三" in page.content.decode()
    assert not AuditEntry.objects.filter(kind="pii_view").exists()

    client.force_login(_user("quality_officer"))
    page = client.get(f"/admin/processes/case/{case.pk}/change/")
    assert "张小三" in page.content.decode()
    client.get("/admin/processes/case/")

    detail, listing = AuditEntry.objects.filter(kind="pii_view").order_by("pk")
    assert (detail.username, detail.object_type, detail.object_id) == (
        "quality_officer",
        "case",
        case.reference,
    )
    assert listing.object_type == "case_list" and case.reference in listing.detail["references"]


def test_the_auditor_reads_the_log_and_nobody_can_change_it(client, demo_org):
    client.post("/admin/login/", {"username": "auditor", "password": "wrong"})
    entry = AuditEntry.objects.get()
    client.force_login(_user("auditor"))
    assert client.get("/admin/departments/auditentry/").status_code == 200
    assert client.get(f"/admin/departments/auditentry/{entry.pk}/change/").status_code == 200
    assert client.post(f"/admin/departments/auditentry/{entry.pk}/change/", {}).status_code == 403
    client.force_login(_user("admin"))
    assert (
        client.post(f"/admin/departments/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    client.force_login(_user("call_center_agent"))
    assert client.get("/admin/departments/auditentry/").status_code == 403
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE departments_auditentry SET username = 'x' WHERE id = %s",
        "DELETE FROM departments_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_rewrite_the_audit_log(client, demo_org, sql):
    client.post("/admin/login/", {"username": "auditor", "password": "wrong"})
    entry = AuditEntry.objects.get()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, username="auditor").exists()


def test_the_api_records_unmasked_reads_too(client, case):
    client.force_login(_user("quality_officer"))
    assert client.get(f"/api/v1/cases/{case.reference}/").json()["customer"]["name"] == "张小三"
    client.get("/api/v1/cases/")
    one, page = AuditEntry.objects.filter(kind="pii_view").order_by("pk")
    assert (one.object_type, one.object_id, one.detail["via"]) == ("case", case.reference, "api")
    assert page.object_type == "case_list" and case.reference in page.detail["references"]

    client.force_login(_user("call_center_agent"))
    client.get(f"/api/v1/cases/{case.reference}/")
    assert AuditEntry.objects.filter(kind="pii_view").count() == 2
