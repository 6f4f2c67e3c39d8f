"""Triggers that change the configuration stamp (`ConfigStamp`) on every write to a table whose rows
the processes keep in memory. Used by migrations: the set of tables is part of the schema's history."""

from __future__ import annotations

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION baton_bump_config_stamp() RETURNS trigger AS $$
BEGIN
    -- An upsert: a flushed (test) database has no row until its configuration is written again.
    INSERT INTO departments_configstamp (id, value)
    VALUES (1, floor(random() * 9007199254740991)::bigint)
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def create(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
    for table in tables:
        if vendor == "postgresql":
            # Per statement: an import of a year of holidays changes the stamp once.
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {table}_config_stamp ON {table};"
                f"CREATE TRIGGER {table}_config_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION baton_bump_config_stamp();",
                params=None,
            )
        elif vendor == "sqlite":
            for op in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS {table}_config_stamp_{op.lower()};", params=None
                )
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_config_stamp_{op.lower()} AFTER {op} ON {table} "  # noqa: S608 (fixed table names)
                    # An UPDATE, then an insert for a flushed database: a trigger's own conflict
                    # clause gives way to the outer statement's, so the INSERT OR REPLACE of an
                    # upsert would be ignored under Django's INSERT OR IGNORE (ignore_conflicts).
                    "BEGIN UPDATE departments_configstamp SET value = abs(random()) WHERE id = 1; "
                    "INSERT OR IGNORE INTO departments_configstamp (id, value) VALUES (1, abs(random())); END;",
                    params=None,
                )


def drop(schema_editor, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_config_stamp ON {table};", params=None)
        elif vendor == "sqlite":
            for op in ("insert", "update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_config_stamp_{op};", params=None)
