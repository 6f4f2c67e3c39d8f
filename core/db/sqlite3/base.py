"""Django's SQLite backend, with each statement's placeholders converted once per process.

Django turns the `%s` placeholders of every statement into SQLite's `?` with a regular expression,
on every execution. The state changes run the same few statements over and over (their text is
built once: processes/writes.py, processes/locking.py), and seeding the demo runs them millions of
times, so the converted text is kept per statement text. Everything else is Django's backend.
"""

from __future__ import annotations

from functools import lru_cache

from django.db.backends.sqlite3 import base


@lru_cache(maxsize=4096)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
