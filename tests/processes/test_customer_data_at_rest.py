"""Customer data at rest: the table holds tokens, never the name, phone or
number; the ORM, the lean write path and the locking reads all see clear text."""

from __future__ import annotations

import pytest
from django.db import connection

from processes import locking
from processes.customers import crypto
from processes.models import Case

from .support import open_handoff

NAME, PHONE, NUMBER = "张小三", "13812345678", "C-000123456"
CLEAR = (NAME, PHONE, NUMBER, "zhang@example.cn")


def _raw_row(case: Case) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM processes_case WHERE id = %s", [case.pk])
        columns = [c[0] for c in cursor.description]
        return dict(zip(columns, cursor.fetchone(), strict=True))


def test_the_table_holds_no_clear_customer_data_after_the_lean_write_path(story):
    case = story.open(customer_name=NAME, customer_phone=PHONE, customer_id=NUMBER, customer_email=CLEAR[3])
    # Through the lean write path too: locked reads, cached UPDATEs, the resolution.
    story.accept(case, "call_center_agent")
    story.forward(case, "INVESTIGATE_CARD", "call_center_agent")
    story.accept(case, "card_center_agent")
    story.resolve(case)

    row = _raw_row(case)
    text = " ".join(str(v) for v in row.values())
    for value in CLEAR:
        assert value not in text
    assert crypto.decrypt(row["customer_phone"]) == PHONE
    assert crypto.decrypt(row["customer_name"]) == NAME
    assert row["customer_phone_key"] == crypto.phone_key(PHONE) != ""
    assert Case.objects.get(pk=case.pk).customer_phone == PHONE


def test_the_orm_and_the_locking_read_see_clear_text(story):
    case = story.open(customer_name=NAME, customer_phone=PHONE, customer_id=NUMBER)

    assert Case.objects.get(pk=case.pk).customer_name == NAME
    locked = locking.open_handoff(case, None)
    assert (locked.case.customer_name, locked.case.customer_phone, locked.case.customer_id) == (
        NAME,
        PHONE,
        NUMBER,
    )
    assert open_handoff(case).case.customer_phone == PHONE


def test_a_tampered_token_fails_loudly(story):
    case = story.open(customer_phone=PHONE)
    token = _raw_row(case)["customer_phone"]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE processes_case SET customer_phone = %s WHERE id = %s", [token[:-6] + "AAAAAA", case.pk]
        )

    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        Case.objects.get(pk=case.pk)


def test_a_malformed_phone_at_intake_is_a_field_error(story, org, user):
    from core.errors import InvalidInput
    from processes import services

    with pytest.raises(InvalidInput) as refused:
        services.case_open(
            process=org.processes["COMPLAINT"],
            title="x",
            channel=Case.Channel.PHONE,
            actor=user("call_center_agent"),
            customer_phone="call me maybe",
        )
    assert "customer_phone" in refused.value.extra["fields"]
