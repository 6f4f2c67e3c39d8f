"""Each handoff's clock runs in business time of its receiving department's calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from departments.models import CalendarException
from processes import services
from processes.clock import ScheduleCache, sla_state
from processes.models import Handoff

from .support import local, open_handoff

HOUR = 3600


def _forwarded_to_card_center_at(story, at):
    """A complaint taken by the call center (24×7) and forwarded to the card center at `at`."""
    story.now = at - timedelta(minutes=30)
    case = story.open()
    story.accept(case, "call_center_agent")
    handoff = services.case_forward(
        case=case, to_stage="INVESTIGATE_CARD", actor=story.user("call_center_agent"), at=at
    )
    handoff.refresh_from_db()
    return case, handoff


def test_a_handoff_requested_before_national_day_is_due_after_it(story, org):
    # Given the head-office calendar with the 2026 National Day holiday (1–7 October; Saturday
    # 10 October is a make-up working day)
    calendar = org.departments["CARD_CENTER"].calendar
    assert calendar.code == "CN_HEAD_OFFICE"
    holidays = set(
        calendar.exceptions.filter(kind=CalendarException.Kind.HOLIDAY).values_list("date", flat=True)
    )
    assert {date(2026, 10, d) for d in range(1, 8)} <= holidays
    assert calendar.exceptions.get(date=date(2026, 10, 10)).kind == CalendarException.Kind.EXTRA_WORKDAY

    # When a normal-priority complaint is handed to the card center at 16:00 on Wednesday 30 September
    _, handoff = _forwarded_to_card_center_at(story, local(2026, 9, 30, 16, 0))

    # Then its 4-business-hour response target (1.5 h on 30 September, 2.5 h on 8 October) ends at
    # 11:30 on 8 October, and its 21-hour resolution target at 16:00 on the make-up Saturday
    assert handoff.to_department.code == "CARD_CENTER"
    assert handoff.response_target_seconds == 4 * HOUR
    assert handoff.response_due_at == local(2026, 10, 8, 11, 30)
    assert handoff.resolution_target_seconds == 21 * HOUR
    assert handoff.resolution_due_at == local(2026, 10, 10, 16, 0)

    # And accepted at 11:00 on 8 October it took 3.5 business hours, within target
    services.handoff_accept(handoff=handoff, actor=story.user("card_center_agent"), at=local(2026, 10, 8, 11))
    handoff.refresh_from_db()
    assert handoff.seconds_to_accept == 3.5 * HOUR


def test_seconds_to_accept_are_business_seconds(story, card_center_agent):
    # Given a handoff requested at 17:00 on Friday 5 June
    _, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 5, 17, 0))

    # When the card center accepts it at 09:45 on Monday, 64¾ wall-clock hours later
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 8, 9, 45))

    # Then it is charged 30 minutes on Friday and 45 on Monday
    handoff.refresh_from_db()
    assert handoff.seconds_to_accept == 75 * 60


def test_a_pause_moves_the_due_time_and_is_not_charged(story, card_center_agent):
    # Given a handoff requested at 10:00 on Monday 1 June, accepted at 10:10: 21 business hours
    # to resolve, due 10:00 on Thursday
    case, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 10, 0))
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 10, 10))
    handoff.refresh_from_db()
    assert handoff.resolution_due_at == local(2026, 6, 4, 10, 0)

    # When it waits on the customer from 11:00 to 15:30 (3 business hours across the lunch break)
    services.handoff_pause(
        handoff=handoff, actor=card_center_agent, cause="customer", at=local(2026, 6, 1, 11)
    )
    services.handoff_resume(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 15, 30))

    # Then the resolution due time moves by those 3 business hours
    handoff.refresh_from_db()
    assert handoff.paused_seconds == 3 * HOUR
    assert handoff.resolution_due_at == local(2026, 6, 4, 14, 30)

    # And when it is completed at 10:00 on Tuesday (7 business hours later) only 4 are charged
    services.case_forward(
        case=case, to_stage="RISK_REVIEW", actor=card_center_agent, at=local(2026, 6, 2, 10)
    )
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.COMPLETED
    assert handoff.seconds_to_complete == 4 * HOUR


def test_completing_a_paused_handoff_ends_the_pause_and_excludes_it(story, card_center_agent):
    case, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 10, 0))
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 10, 10))
    services.handoff_pause(
        handoff=handoff, actor=card_center_agent, cause="external", at=local(2026, 6, 2, 9, 30)
    )

    services.case_forward(
        case=case, to_stage="RISK_REVIEW", actor=card_center_agent, at=local(2026, 6, 2, 10)
    )

    handoff.refresh_from_db()
    segment = handoff.pauses.get()
    assert (segment.ended_at, segment.business_seconds) == (local(2026, 6, 2, 10), 30 * 60)
    assert handoff.paused_at is None
    assert handoff.seconds_to_complete == 7 * HOUR - 30 * 60


def test_a_return_is_charged_to_the_returning_department(story, card_center_agent):
    # Given a complaint the call center handed to the card center
    case, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 10, 0))
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 10, 30))

    # When the card center returns it
    at = local(2026, 6, 1, 11, 0)
    services.handoff_return(handoff=handoff, actor=card_center_agent, reason="lending product", at=at)

    # Then the bounce is the card center's: its handoff is the one marked returned
    handoff.refresh_from_db()
    assert (handoff.to_department.code, handoff.status) == ("CARD_CENTER", Handoff.Status.RETURNED)
    bounces = Handoff.objects.filter(status=Handoff.Status.RETURNED).values_list(
        "to_department__code", flat=True
    )
    assert list(bounces) == ["CARD_CENTER"]
    # And the case goes back to the sender with a fresh clock in the sender's (24×7) calendar
    back = open_handoff(case)
    assert (back.from_department.code, back.to_department.code) == ("CARD_CENTER", "CALL_CENTER")
    assert (back.requested_at, back.response_due_at) == (at, at + timedelta(minutes=15))
    assert not Handoff.objects.filter(
        case=case, status=Handoff.Status.RETURNED, to_department__code="CALL_CENTER"
    )


# -- badges -------------------------------------------------------------------------------------
def _badge(handoff, now):
    handoff.refresh_from_db()
    return sla_state(handoff, ScheduleCache().get(handoff.to_department.calendar_id), now)


@pytest.mark.parametrize(
    ("hour", "minute", "badge", "left_minutes"),
    [
        (9, 0, "on_time", 240),
        (12, 0, "on_time", 60),  # 3 h elapsed: 75 %
        (13, 30, "on_time", 60),  # the lunch break does not count
        (13, 41, "on_time", 49),
        (13, 43, "due_soon", 47),  # more than 80 % elapsed
        (14, 29, "due_soon", 1),
        (14, 30, "breached", 0),
        (16, 0, "breached", -90),
    ],
)
def test_the_response_badge_of_a_pending_handoff(story, hour, minute, badge, left_minutes):
    # A 4-hour response target from 09:00 on Monday 1 June: due at 14:30 after the lunch break
    _, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 9, 0))

    state = _badge(handoff, local(2026, 6, 1, hour, minute))

    assert (state.clock, state.badge, state.due_at) == ("response", badge, local(2026, 6, 1, 14, 30))
    assert state.business_seconds_left == left_minutes * 60


def test_the_badge_is_due_soon_at_exactly_eighty_percent(story):
    _, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 9, 0))

    assert _badge(handoff, local(2026, 6, 1, 13, 42)).badge == "due_soon"


def test_an_accepted_handoff_shows_its_resolution_clock(story, card_center_agent):
    _, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 10, 0))
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 10, 10))

    state = _badge(handoff, local(2026, 6, 1, 11, 0))

    assert (state.clock, state.badge, state.due_at) == ("resolution", "on_time", local(2026, 6, 4, 10, 0))
    assert state.business_seconds_left == 20 * HOUR


def test_a_paused_handoff_shows_paused_with_its_clock_frozen(story, card_center_agent):
    _, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 10, 0))
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 10, 10))
    services.handoff_pause(
        handoff=handoff, actor=card_center_agent, cause="customer", at=local(2026, 6, 1, 11)
    )

    # Days later, past the original due time, the badge still says paused with 20 hours left
    state = _badge(handoff, local(2026, 6, 10, 9, 0))

    assert (state.clock, state.badge) == ("resolution", "paused")
    assert state.business_seconds_left == 20 * HOUR


def test_a_closed_handoff_has_no_running_clock(story, card_center_agent):
    case, handoff = _forwarded_to_card_center_at(story, local(2026, 6, 1, 10, 0))
    services.handoff_accept(handoff=handoff, actor=card_center_agent, at=local(2026, 6, 1, 10, 10))
    services.case_forward(
        case=case, to_stage="RISK_REVIEW", actor=card_center_agent, at=local(2026, 6, 1, 11)
    )

    state = _badge(handoff, local(2026, 6, 1, 12))

    assert (state.clock, state.badge, state.due_at, state.business_seconds_left) == (
        "none",
        "done",
        None,
        None,
    )
