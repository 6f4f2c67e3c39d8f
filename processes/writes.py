"""The writes of the state changes, as SQL built once per process (see locking.py for the reads).

`Model.save(update_fields=...)` and `bulk_create` compile a new statement on every call, and on the
state-change path that compiling cost more CPU time than the database took to run the statement
(`make bench-engine`, and `seed_demo` on SQLite). These do the same writes with the statement's text
kept per model and field list. Values go through each field's `get_db_prep_save`, as the ORM's own
writes do, except where that is known to return the value unchanged (`_preparer`). No model on this path has save() overrides, signal receivers or auto_now fields; the
tests of each service compare what they write with what a fresh read returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import ForeignKey, Model, fields
from django.db.models.fields import NOT_PROVIDED

_sql: dict[tuple, tuple[str, list]] = {}
# A state change writes a few rows of a kind; statements for more are not kept (nor prepared).
_KEEP_ROWS = 8


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


_TEXT = (fields.CharField, fields.TextField)
_INTEGER = (
    fields.IntegerField,
    fields.BigIntegerField,
    fields.SmallIntegerField,
    fields.PositiveIntegerField,
    fields.PositiveSmallIntegerField,
    fields.PositiveBigIntegerField,
    fields.AutoField,
    fields.BigAutoField,
)
_preparers: dict[tuple[str, fields.Field], Callable[[Any, Any], Any]] = {}


def _unchanged_types(field: fields.Field) -> tuple[type, ...]:
    """The value types this exact field class saves as they are: a str in a CharField, a bool in a
    BooleanField, an int in an integer column or foreign key where the backend passes integers
    through (SQLite; PostgreSQL wraps them for server-side binding). Subclasses may convert, so only
    exact classes qualify. Seeding the demo spends a tenth of its time in these conversions."""
    if type(field) is ForeignKey:
        field = field.target_field
    kind = type(field)
    if kind in _TEXT:
        return (str, type(None))
    if kind is fields.BooleanField:
        return (bool, type(None))
    integers_as_is = (
        type(connection.ops).adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
    )
    if kind in _INTEGER and integers_as_is:
        return (int, type(None))
    return ()


def _preparer(field: fields.Field) -> Callable[[Any, Any], Any]:
    """`prep(value, conn)`; `conn` is the connection itself: each attribute read through the
    `django.db.connection` proxy costs a context-local lookup, a tenth of a seeding run's time."""
    key = (connection.vendor, field)
    found = _preparers.get(key)
    if found is None:
        prep = field.get_db_prep_save
        as_is = _unchanged_types(field)
        if as_is:

            def found(value: Any, conn: Any) -> Any:
                return value if type(value) in as_is else prep(value, conn)
        elif type(field) is fields.DateTimeField:
            # An aware datetime goes straight to the backend's adapter: the checks before it
            # (lazy text, to_python, the naive-datetime warning) leave such a value as it is.
            def found(value: Any, conn: Any) -> Any:
                if type(value) is datetime and value.tzinfo is not None:
                    return conn.ops.adapt_datetimefield_value(value)
                return prep(value, conn)
        else:
            found = prep

        _preparers[key] = found
    return found


def _reader(field: fields.Field) -> Callable[[Model], Any]:
    """The value to insert: the attribute, or what the field's pre_save makes of it (auto_now…)."""
    if type(field).pre_save is fields.Field.pre_save:
        attname = field.attname
        return lambda obj: getattr(obj, attname)
    return lambda obj: field.pre_save(obj, add=True)


_orders: dict[type[Model], list[tuple[str, fields.Field]]] = {}


def new(model: type[Model], /, **values: Any) -> Model:
    """An unsaved instance from column values (attnames: "case_id"), every other field at its
    default. Built with positional arguments, the ORM's own fast path (as rows read from the
    database are): the keyword path looks each field up, pops related objects and defaults, and
    was a tenth of a state change's Python."""
    order = _orders.get(model)
    if order is None:
        order = _orders[model] = [(f.attname, f) for f in model._meta.concrete_fields]
    return model(*[values[name] if name in values else field.get_default() for name, field in order])


def update(obj: Model, fields: Iterable[str]) -> None:
    """UPDATE one row's named fields (names as for update_fields: "assignee", not "assignee_id")."""
    model = type(obj)
    names = tuple(fields)
    conn = connections[DEFAULT_DB_ALIAS]
    key = ("update", conn.vendor, model, names)
    found = _sql.get(key)
    if found is None:
        meta = model._meta
        concrete = [meta.get_field(name) for name in names]
        sets = ", ".join(f"{_qn(f.column)} = %s" for f in concrete)
        steps = [(f.attname, _preparer(f)) for f in concrete]
        found = (f"UPDATE {_qn(meta.db_table)} SET {sets} WHERE {_qn(meta.pk.column)} = %s", steps)  # noqa: S608
        _sql[key] = found
    sql, steps = found
    params = [prep(getattr(obj, attname), conn) for attname, prep in steps]
    params.append(obj.pk)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)


def insert(objs: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT the rows in one statement; each object gets its primary key (unless conflicts are
    ignored: a row that was not written has none to give)."""
    if not objs:
        return
    model = type(objs[0])
    conn = connections[DEFAULT_DB_ALIAS]
    if not ignore_conflicts and not conn.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(objs)  # no RETURNING: the ORM's way to the keys
        return
    key = ("insert", conn.vendor, model, len(objs), ignore_conflicts)
    found = _sql.get(key)
    meta = model._meta
    if found is None:
        # Columns the database fills itself (db_default, e.g. the event's transaction id) are left out.
        concrete = [f for f in meta.concrete_fields if not f.primary_key and f.db_default is NOT_PROVIDED]
        columns = ", ".join(_qn(f.column) for f in concrete)
        row = "(" + ", ".join(["%s"] * len(concrete)) + ")"
        on_conflict = None
        if ignore_conflicts:
            from django.db.models.constants import OnConflict

            on_conflict = OnConflict.IGNORE
        head = connection.ops.insert_statement(on_conflict=on_conflict)
        sql = f"{head} {_qn(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(objs))}"
        if on_conflict is not None:
            sql += " " + connection.ops.on_conflict_suffix_sql(concrete, on_conflict, None, None)
        elif connection.features.can_return_rows_from_bulk_insert:
            sql += f" RETURNING {_qn(meta.pk.column)}"
        found = (sql, [(_reader(f), _preparer(f)) for f in concrete])
        if len(objs) <= _KEEP_ROWS:
            _sql[key] = found
    sql, steps = found
    params = [prep(read(obj), conn) for obj in objs for read, prep in steps]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        ids = cursor.fetchall() if not ignore_conflicts else []
    for obj, row in zip(objs, ids, strict=False):
        obj.pk = row[0]
    for obj in objs:
        obj._state.adding = False
        obj._state.db = conn.alias
