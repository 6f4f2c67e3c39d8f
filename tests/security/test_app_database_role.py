"""The append-only rule holds against the app's own database role: connected as that role (set up by
`manage.py grant_app_role`, as the production entrypoint does), TRUNCATE, ALTER TABLE … DISABLE
TRIGGER and SET session_replication_role all fail on the timeline, the audit log and the
improvement-action history, while the app's ordinary reads and writes work."""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APPEND_ONLY = ["departments_auditentry", "evaluations_improvementactionevent", "processes_caseevent"]
CONFIGURATION_HISTORY = [
    "departments_historicalbusinesscalendar",
    "departments_historicalcalendarexception",
    "departments_historicaldepartment",
    "departments_historicalmembership",
    "departments_historicalworkinghours",
    "evaluations_historicalkpi",
    "processes_historicalserviceprocess",
    "processes_historicalstage",
    "processes_historicalstagetarget",
    "processes_historicaltransition",
]


@pytest.fixture
def app_role():
    role = f"baton_app_test_{os.getpid()}"
    password = secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
        cursor.execute(
            f"CREATE ROLE \"{role}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'"
        )
    try:
        call_command("grant_app_role", role)
        yield role, password
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def _connect(role: str, password: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=role,
        password=password,
        autocommit=True,
    )


def test_the_command_finds_the_append_only_tables():
    from departments.management.commands.grant_app_role import append_only_tables

    with connection.cursor() as cursor:
        assert append_only_tables(cursor) == sorted(APPEND_ONLY + CONFIGURATION_HISTORY)


@pytest.mark.parametrize("table", [*APPEND_ONLY, "processes_historicalstagetarget"])
@pytest.mark.parametrize(
    "attack",
    [
        "TRUNCATE {table}",
        "TRUNCATE {table} CASCADE",
        "ALTER TABLE {table} DISABLE TRIGGER ALL",
        "ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
        "SET session_replication_role = replica",
        "SET LOCAL session_replication_role = replica",
        "UPDATE {table} SET id = id",
        "DELETE FROM {table}",
        "DROP TABLE {table}",
        "GRANT TRUNCATE ON {table} TO CURRENT_USER; TRUNCATE {table}",
    ],
)
def test_the_app_role_cannot_undo_the_append_only_rule(app_role, table, attack):
    with _connect(*app_role) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(attack.format(table=table))
        # and nothing changed: the trigger is still there, enabled
        enabled = conn.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [f"{table}_append_only"]
        ).fetchone()
        assert enabled == ("O",)
        assert conn.execute("SHOW session_replication_role").fetchone() == ("origin",)


def test_the_app_role_reads_and_appends(app_role):
    with _connect(*app_role) as conn:
        conn.execute(
            "INSERT INTO departments_auditentry (kind, username, ip_address, user_agent, path, object_type,"
            " object_id, detail, created_at) VALUES ('login', 'probe', NULL, '', '', '', '', '{}', now())"
        )
        assert conn.execute("SELECT count(*) FROM departments_auditentry").fetchone() == (1,)
        conn.execute("UPDATE departments_department SET name = name")  # an ordinary table: DML works


def test_a_superuser_is_refused_as_the_app_role():
    with pytest.raises(CommandError, match="superuser"):
        call_command("grant_app_role", connection.settings_dict["USER"] or "postgres")
