"""case_comment: any department the case went through, or the quality office, adds to the timeline."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, PermissionDenied
from processes import services
from processes.models import Case, CaseEvent

from .support import snapshot


def test_a_comment_is_written_to_the_timeline(story, call_center_agent):
    case = story.at_card_center()
    at = story.tick()

    event = services.case_comment(case=case, actor=call_center_agent, text="  Customer called again  ", at=at)

    assert event.kind == CaseEvent.Kind.COMMENT
    assert (event.actor, event.created_at, event.payload) == (
        call_center_agent,
        at,
        {"text": "Customer called again"},
    )
    assert event.department.code == "CARD_CENTER"  # where the case is now
    case.refresh_from_db()
    assert case.updated_at == at
    assert case.status == Case.Status.IN_PROGRESS


@pytest.mark.parametrize("username", ["call_center_agent", "card_center_agent", "quality_officer"])
def test_every_department_that_handled_the_case_may_comment(story, username):
    case = story.at_card_center(accepted=False)

    services.case_comment(case=case, actor=story.user(username), text="noted", at=story.tick())

    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.COMMENT).count() == 1


def test_a_closed_case_still_takes_comments(story, card_center_agent):
    case = story.closed()

    services.case_comment(case=case, actor=card_center_agent, text="customer thanked us", at=story.tick())

    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert CaseEvent.objects.filter(case=case).last().kind == CaseEvent.Kind.COMMENT


def test_a_department_the_case_never_reached_may_not_comment(story):
    case = story.open()  # still at the call center's intake
    before = snapshot(case)

    for username in ["auditor", "it_agent", "card_center_agent"]:
        with pytest.raises(PermissionDenied) as refused:
            services.case_comment(case=case, actor=story.user(username), text="hello", at=story.tick())
        assert refused.value.code == "not_your_case", username
        assert snapshot(case) == before, username


@pytest.mark.parametrize("text", ["", "  \n ", None])
def test_an_empty_comment_is_refused(story, call_center_agent, text):
    case = story.open()
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.case_comment(case=case, actor=call_center_agent, text=text)

    assert refused.value.code == "comment_required"
    assert snapshot(case) == before
