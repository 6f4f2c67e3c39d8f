"""Grant the application's database role what the running app needs, and nothing that could undo the
append-only tables.

Run by the owner role (the one that ran the migrations) after every `migrate`, so that tables added by
a release are granted too; the entrypoint of the production image does this. The app role then:
- reads and writes ordinary tables (SELECT, INSERT, UPDATE, DELETE; sequences);
- only reads and appends to the append-only tables (those guarded by the baton_refuse_change trigger:
  the case timeline, the audit log, the improvement-action history);
- gets no TRUNCATE, owns nothing (so it cannot ALTER a table or DISABLE its triggers) and, not being a
  superuser, cannot SET session_replication_role (which would skip the triggers).
The command refuses a role that is a superuser or owns tables: those rights cannot be granted away.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

APPEND_ONLY_TABLES_SQL = """
SELECT DISTINCT c.relname
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE p.proname = 'baton_refuse_change' AND n.nspname = current_schema() AND NOT t.tgisinternal
ORDER BY 1
"""


def append_only_tables(cursor) -> list[str]:
    cursor.execute(APPEND_ONLY_TABLES_SQL)
    return [row[0] for row in cursor.fetchall()]


class Command(BaseCommand):
    help = (
        "Grant the app's PostgreSQL role DML on ordinary tables and only SELECT/INSERT on append-only ones."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the web, worker and beat processes connect as.")

    def handle(self, *args, role: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL matter; nothing to do on this database.")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
            found = cursor.fetchone()
            if found is None:
                raise CommandError(f"No role {role!r}: create it first (CREATE ROLE ... LOGIN PASSWORD ...).")
            if found[0]:
                raise CommandError(f"{role!r} is a superuser: it could switch the append-only triggers off.")
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner = %s",
                [role],
            )
            if cursor.fetchone()[0]:
                raise CommandError(
                    f"{role!r} owns tables: an owner can ALTER them and DISABLE their triggers."
                )
            who = sql.Identifier(role)
            cursor.execute("SELECT current_database(), current_schema()")
            database, schema = cursor.fetchone()
            statements = [
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), who),
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), who),
                sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(sql.Identifier(schema), who),
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                    sql.Identifier(schema), who
                ),
                sql.SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                    sql.Identifier(schema), who
                ),
            ]
            tables = append_only_tables(cursor)
            statements += [
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), who)
                for table in tables
            ]
            for statement in statements:
                cursor.execute(statement.as_string(cursor.connection))
        self.stdout.write(f"{role}: DML granted; append-only (SELECT, INSERT): {', '.join(tables)}")
