"""A database dump (what a backup holds) has no clear customer name, phone, number or e-mail:
SQLite's own dump, or pg_dump of the PostgreSQL test database. Committed data, so a transactional test
(the tests/processes fixtures hold their demo data in an open transaction)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from django.db import connection

CLEAR = ("张小三", "13812345678", "C-000123456", "zhang@example.cn")


def _dump() -> str:
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    db = connection.settings_dict  # the test database's own name
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    args = ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-U", db["USER"], db["NAME"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603


@pytest.mark.django_db(transaction=True)
def test_a_dump_holds_no_clear_customer_data(story):
    name, phone, number, email = CLEAR
    case = story.at_card_center(
        customer_name=name, customer_phone=phone, customer_id=number, customer_email=email
    )

    dump = _dump()

    assert case.reference in dump  # the dump has the case
    for value in CLEAR:
        assert value not in dump
