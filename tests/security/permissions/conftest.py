"""The seeded world of the permissions matrix, shared by its modules."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tests.security.permissions.world import _seed


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    """Seeded once for the package inside one transaction that is rolled back at the end; each request
    of the tests runs in a savepoint of its own, rolled back too (`isolated`), so no cell sees another
    cell's writes."""
    with django_db_blocker.unblock(), transaction.atomic():
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        try:
            yield _seed()
        finally:
            transaction.set_rollback(True)
