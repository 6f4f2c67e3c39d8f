"""On PostgreSQL the database refuses to rewrite the timeline, whatever the application does."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from processes.models import CaseEvent

pytestmark = [pytest.mark.postgres]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE processes_caseevent SET kind = 'comment' WHERE id = %s",
        "DELETE FROM processes_caseevent WHERE id = %s",
    ],
)
def test_raw_sql_cannot_change_or_delete_an_event(story, sql):
    case = story.open()
    event = CaseEvent.objects.filter(case=case).first()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])

    assert CaseEvent.objects.filter(pk=event.pk, kind=event.kind).exists()
