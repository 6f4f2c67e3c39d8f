"""The statements that open every state change: the case row, and its named or open handoff, locked
in one statement, with what the checks after it need as extra columns.

They are written as SQL, built once per process from the models' fields (core.rows): each
state change runs one of them, and building them through the ORM's query compiler took more CPU time
than PostgreSQL took to plan and run them (`make bench-engine`).

Lock order: handoff and case together (`FOR NO KEY UPDATE OF h, c`), or the case alone. After a wait
PostgreSQL re-reads both locked rows and re-checks the WHERE clause, so a handoff that another
transaction closed meanwhile is not returned (the caller then locks the case and looks again). NO KEY
UPDATE because state changes never change a key: inserting events and handoffs (foreign keys to the
case) elsewhere takes KEY SHARE locks, which this does not block.

The extra columns:
  stamp     the configuration stamp (departments.snapshot), read under the same snapshot;
  member    whether the actor is a member of the handoff's receiving department (active ones);
  works_on  whether the case went through one of the actor's departments (the read scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from core.rows import Rows
from core.rows import table as _table
from departments.models import ConfigStamp, Department, Membership
from processes.models import Case, Handoff


@dataclass
class Locked:
    case: Case
    handoff: Handoff | None
    stamp: int | None


_CASE = Rows(Case, "c")
_HANDOFF = Rows(Handoff, "h")
_sql: dict[tuple[str, str], str] = {}


def _extras(*, with_member: bool) -> str:
    """The extra columns; each takes the actor's id as its one parameter."""
    mine = (
        f"SELECT m.department_id FROM {_table(Membership)} m "  # noqa: S608 (table names from models)
        f"JOIN {_table(Department)} d ON d.id = m.department_id WHERE m.user_id = %s AND d.is_active"
    )
    works_on = (
        f"EXISTS (SELECT 1 FROM {_table(Handoff)} x WHERE x.case_id = c.id "  # noqa: S608
        f"AND (x.to_department_id IN ({mine}) OR x.from_department_id IN ({mine})))"
    )
    stamp = f"(SELECT value FROM {_table(ConfigStamp)} WHERE id = 1)"  # noqa: S608
    columns = [stamp, works_on]
    if with_member:
        columns.append(
            f"EXISTS (SELECT 1 FROM {_table(Membership)} m JOIN {_table(Department)} d "  # noqa: S608
            "ON d.id = m.department_id WHERE m.user_id = %s "
            "AND m.department_id = h.to_department_id AND d.is_active)"
        )
    return ", ".join(columns)


def _locking(of: str) -> str:
    if not connection.features.has_select_for_update:
        return ""  # SQLite: one writer at a time already
    strength = "FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else "FOR UPDATE"
    return f" {strength} OF {of}" if connection.features.has_select_for_update_of else f" {strength}"


def _statement(name: str, where: str) -> str:
    key = (connection.vendor, name + where)
    sql = _sql.get(key)
    if sql is None:
        if name == "case":
            sql = (
                f"SELECT {_CASE.columns()}, {_extras(with_member=False)} "  # noqa: S608
                f"FROM {_table(Case)} c WHERE {where}{_locking('c')}"
            )
        else:
            sql = (
                f"SELECT {_CASE.columns()}, {_HANDOFF.columns()}, {_extras(with_member=True)} "  # noqa: S608
                f"FROM {_table(Handoff)} h JOIN {_table(Case)} c ON c.id = h.case_id "
                f"WHERE {where}{_locking('h, c')}"
            )
        _sql[key] = sql
    return sql


def _case_where(case: Case | str) -> tuple[str, Any]:
    if isinstance(case, str):
        return "c.reference = %s", case
    return "c.id = %s", case.pk


def _run(sql: str, params: list[Any], *, with_handoff: bool) -> Locked | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    case = _CASE.build(row[: _CASE.width])
    rest = row[_CASE.width :]
    handoff = None
    if with_handoff:
        handoff = _HANDOFF.build(rest[: _HANDOFF.width])
        rest = rest[_HANDOFF.width :]
        handoff._member = bool(rest[2])
        handoff.case = case
    case._works_on = bool(rest[1])
    return Locked(case=case, handoff=handoff, stamp=rest[0])


def _actor_id(actor) -> int | None:
    return actor.pk if actor is not None and actor.is_authenticated else None


def handoff(handoff_id: int, actor) -> Locked | None:
    """The handoff and its case, locked."""
    sql = _statement("handoff", "h.id = %s")
    me = _actor_id(actor)
    return _run(sql, [me, me, me, handoff_id], with_handoff=True)


def open_handoff(case: Case | str, actor) -> Locked | None:
    """The case's open handoff (at most one: a partial unique index) and the case, locked; None when
    the case has no open handoff or does not exist. `case` is a Case or a reference."""
    where, value = _case_where(case)
    sql = _statement("handoff", f"{where} AND h.status IN (%s, %s)")
    me = _actor_id(actor)
    return _run(sql, [me, me, me, value, Handoff.Status.PENDING, Handoff.Status.ACCEPTED], with_handoff=True)


def case(case: Case | str, actor) -> Locked | None:
    """The case alone, locked."""
    where, value = _case_where(case)
    me = _actor_id(actor)
    return _run(_statement("case", where), [me, me, value], with_handoff=False)


def intake(actor, source: str, external_id: str) -> Case | None:
    """The case this actor opened with this source + external id (no lock: the unique index decides
    a race). The partial unique index's own condition is spelled out, as SQLite uses a partial index
    only when the query repeats its WHERE term; no ORDER BY, which SQLite would follow down another
    index instead of looking the key up."""
    key = (connection.vendor, "intake")
    sql = _sql.get(key)
    if sql is None:
        sql = (
            f"SELECT {_CASE.columns()} FROM {_table(Case)} c "  # noqa: S608 (names from the models)
            "WHERE c.created_by_id = %s AND c.source = %s AND c.external_id = %s AND NOT (c.external_id = '') "
            "LIMIT 1"
        )
        _sql[key] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [_actor_id(actor), source, external_id])
        row = cursor.fetchone()
    return _CASE.build(row) if row is not None else None
