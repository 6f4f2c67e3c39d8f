"""The case timeline is append-only: the ORM refuses every update and delete of a CaseEvent."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import ProtectedError

from processes.models import CaseEvent

from .support import snapshot


@pytest.fixture
def case(story):
    return story.at_card_center()


def _timeline(case):
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values())


def test_a_saved_event_cannot_be_saved_again(case):
    before = _timeline(case)
    event = CaseEvent.objects.filter(case=case).first()
    event.payload = {"rewritten": True}

    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.save(update_fields=["payload"])

    assert _timeline(case) == before


def test_an_event_cannot_be_deleted(case):
    before = _timeline(case)

    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).first().delete()

    assert _timeline(case) == before


@pytest.mark.parametrize(
    "write",
    [
        lambda events: events.update(kind="comment"),
        lambda events: events.delete(),
        lambda events: CaseEvent.objects.all().delete(),
        lambda events: CaseEvent.objects.update(payload={}),
        lambda events: CaseEvent.objects.bulk_update(list(events), ["payload"]),
    ],
    ids=["update", "delete", "delete-all", "manager-update", "bulk-update"],
)
def test_querysets_refuse_bulk_writes(case, write):
    before = _timeline(case)

    # In a savepoint: bulk_update wraps its UPDATE in atomic(savepoint=False), so its refusal marks
    # the enclosing transaction as broken, as it should in a request.
    with pytest.raises(TypeError), transaction.atomic():
        write(CaseEvent.objects.filter(case=case))

    assert _timeline(case) == before


def test_deleting_a_case_with_a_timeline_is_refused(case):
    before = snapshot(case)

    with pytest.raises(ProtectedError):
        case.delete()

    assert snapshot(case) == before


def test_new_events_can_still_be_appended(case, call_center_agent):
    count = CaseEvent.objects.filter(case=case).count()

    CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.COMMENT, actor=call_center_agent, payload={"t": 1}
    )

    assert CaseEvent.objects.filter(case=case).count() == count + 1
