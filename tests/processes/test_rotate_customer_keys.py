"""Key rotation: a new key in front, `rotate_customer_keys` re-encrypts every row under it, lookup
still finds the customer, and the old key can then be dropped."""

from __future__ import annotations

from io import StringIO

from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from processes.customers import crypto
from processes.customers.lookup import customer_history, lookup_keys
from processes.models import Case

PHONE = "13812345678"


def _tokens() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_name, customer_phone, customer_id FROM processes_case ORDER BY id")
        return cursor.fetchall()


def test_rotation_re_encrypts_every_row_and_lookup_still_works(story, settings, user):
    cases = [story.open(customer_name="张小三", customer_phone=PHONE, customer_id=f"C-{i}") for i in range(7)]
    story.open()  # no customer data: nothing to rotate
    old_key = settings.BATON_CUSTOMER_KEYS[0]
    before = _tokens()

    new_key = Fernet.generate_key().decode()
    settings.BATON_CUSTOMER_KEYS = [new_key, old_key]
    out, err = StringIO(), StringIO()
    call_command("rotate_customer_keys", batch=3, stdout=out, stderr=err)

    assert "7 of 8 cases re-encrypted" in out.getvalue()
    assert "8/8" in err.getvalue()  # the progress bar
    after = _tokens()
    for old_row, new_row in zip(before, after, strict=True):
        for old, new in zip(old_row, new_row, strict=True):
            assert (old == new == "") or (old != new and crypto.is_current(new))
    # The old key can go: everything reads under the new one alone, and lookup finds the customer.
    settings.BATON_CUSTOMER_KEYS = [new_key]
    assert {c.customer_phone for c in Case.objects.filter(pk__in=[c.pk for c in cases])} == {PHONE}
    rows = customer_history(user=user("call_center_agent"), keys=lookup_keys(phone=PHONE))
    assert sorted(r.reference for r in rows) == sorted(c.reference for c in cases)
    # A second run has nothing left to do.
    out = StringIO()
    call_command("rotate_customer_keys", stdout=out, stderr=StringIO())
    assert "0 of 8 cases re-encrypted" in out.getvalue()
