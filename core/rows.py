"""Rows read by hand-written SQL, turned back into model instances as the ORM would.

The hottest reads (the lock that opens every state change, the API key of every API request) are
written as SQL built once per process from the models' fields: compiling them through the ORM took
more CPU time than the database took to run them. Values go through the converters the ORM would
apply, so a new field needs no change in the statements.
"""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class Rows:
    """How to select a model's concrete fields under an alias and turn a row back into an instance."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.model, self.alias = model, alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.width = len(self.fields)
        self._converters: list[tuple[int, list, Any]] | None = None

    def columns(self) -> str:
        qn = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{qn(f.column)}" for f in self.fields)

    def converters(self) -> list[tuple[int, list, Any]]:
        if self._converters is None:
            found = []
            for i, field in enumerate(self.fields):
                col = field.get_col(self.alias)
                chain = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if chain:
                    found.append((i, chain, col))
            self._converters = found
        return self._converters

    def build(self, values: tuple | list) -> Model:
        conn = connections[DEFAULT_DB_ALIAS]  # not the proxy: each read through it is a context lookup
        values = list(values)
        for i, chain, col in self.converters():
            value = values[i]
            for convert in chain:
                value = convert(value, col, conn)
            values[i] = value
        return self.model.from_db(conn.alias, self.attnames, values)
