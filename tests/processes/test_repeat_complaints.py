"""A repeat complaint: the same customer (phone or number) and process within the process's window,
flagged on the case at intake."""

from __future__ import annotations

from datetime import UTC

from processes.models import CaseEvent

PHONE = "13812345678"


def test_the_same_customer_and_process_within_the_window_is_a_repeat(story):
    first = story.open(customer_phone=PHONE)
    second = story.open(customer_phone="+86 138-1234-5678")
    by_number = story.open(customer_phone="", customer_id=" c-1 ")
    again_by_number = story.open(customer_id="C-1")

    assert (first.repeat_complaint, second.repeat_complaint) == (False, True)
    assert (by_number.repeat_complaint, again_by_number.repeat_complaint) == (False, True)
    created = CaseEvent.objects.get(case=second, kind=CaseEvent.Kind.CREATED)
    assert created.payload["repeat_complaint"] is True
    second.refresh_from_db()
    assert second.repeat_complaint is True


def test_another_process_another_customer_or_after_the_window_is_not(story, org):
    story.open(customer_phone=PHONE)

    assert story.open("CARD_DISPUTE", customer_phone=PHONE).repeat_complaint is False
    assert story.open(customer_phone="13900001111").repeat_complaint is False
    window = org.processes["COMPLAINT"].repeat_window_days
    story.tick(60 * 24 * (window + 1))
    assert story.open(customer_phone=PHONE).repeat_complaint is False


def test_a_window_of_zero_days_never_flags(story, org):
    process = org.processes["COMPLAINT"]
    process.repeat_window_days = 0
    process.save(update_fields=["repeat_window_days"])
    story.open(customer_phone=PHONE)

    assert story.open(customer_phone=PHONE).repeat_complaint is False


def test_the_repeat_check_looks_up_the_blind_indexes_not_every_case_of_the_process(story, org):
    """The check is a column of every intake's first statement: a plan that walked the process's
    cases made intake O(cases) (seeding 100,000 demo cases slowed to a crawl)."""
    from datetime import datetime

    from django.db import connection

    from processes.customers.lookup import repeat_exists_sql

    sql, params = repeat_exists_sql(
        process_id=org.processes["COMPLAINT"].pk, keys=("a" * 64, "b" * 64, datetime(2026, 1, 1, tzinfo=UTC))
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN SELECT {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "case_customer_phone_key" in plan and "case_customer_id_key" in plan, plan
    assert "processes_case_process_id" not in plan, plan
