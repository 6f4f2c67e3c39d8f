"""Lookup by the full phone at 100,000 cases: the blind index's own index answers it, and the API's
answer costs the same few queries as with a handful of cases."""

from __future__ import annotations

import time

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from departments.api_keys import api_key_issue
from processes.customers import crypto
from processes.models import Case

PHONE = "13812345678"
CASES = 100_000


def _many_cases(process, user, count: int) -> None:
    now = timezone.now()
    rows = (
        Case(
            reference=f"BULK-{i:07d}",
            process=process,
            title="bulk",
            channel=Case.Channel.PHONE,
            customer_phone_key=f"{i:064x}",
            created_by=user,
            created_at=now,
            updated_at=now,
        )
        for i in range(count)
    )
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)


def test_a_phone_lookup_at_100_000_cases_uses_the_index_in_constant_queries(story, org, user):
    officer = user("quality_officer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_issue(username='quality_officer').key}")
    mine = [story.open(customer_phone=PHONE) for _ in range(2)]
    client.get("/api/v1/cases/", {"customer_phone": PHONE})  # warm
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/cases/", {"customer_phone": PHONE})

    _many_cases(org.processes["COMPLAINT"], officer, CASES)
    mine.append(story.open(customer_phone="+86 138 1234 5678"))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE processes_case")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/cases/", {"customer_phone": PHONE})
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert sorted(r["reference"] for r in response.json()["results"]) == sorted(c.reference for c in mine)
    assert Case.objects.count() > CASES
    assert len(many) == len(few)
    plan = Case.objects.filter(customer_phone_key=crypto.phone_key(PHONE)).explain()
    assert "case_customer_phone_key" in plan, plan
    print(f"lookup at {CASES} cases: {elapsed * 1000:.1f} ms, {len(many)} queries; plan: {plan}")
