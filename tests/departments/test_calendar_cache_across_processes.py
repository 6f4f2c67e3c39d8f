"""Each process keeps calendars in memory across calls; an edit made in another process (the admin in a
web worker, an import in a command) reaches it before its next computation, without a restart."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from departments.models import BusinessCalendar
from processes import services
from processes.models import Case, ServiceProcess
from tests.processes.support import local
from tests.real_worker import worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]

ADD_HOLIDAY = """
import django; django.setup()
from datetime import date
from departments.models import BusinessCalendar, CalendarException
calendar = BusinessCalendar.objects.get(code="{code}")
CalendarException.objects.create(calendar=calendar, date=date.fromisoformat("{day}"), kind="holiday", name="closed")
"""


def _in_another_process(code: str, day: date) -> None:
    env = worker_env(DJANGO_SETTINGS_MODULE="config.settings.local")
    subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", ADD_HOLIDAY.format(code=code, day=day.isoformat())],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )


def test_a_holiday_added_in_another_process_moves_the_next_due_time_here(transactional_db):
    from departments.demo import seed_organisation
    from processes.demo import seed_processes

    seed_organisation()
    seed_processes()
    agent = get_user_model().objects.get(username="card_center_agent")
    caller = get_user_model().objects.get(username="call_center_agent")
    complaint = ServiceProcess.objects.get(code="COMPLAINT")
    # Tuesday 9 June 2026, 16:00: the card center's response target runs into Wednesday.
    at = local(2026, 6, 9, 16, 0)

    def due_at_card_center(title: str):
        case, _ = services.case_open(
            process=complaint, title=title, channel=Case.Channel.PHONE, actor=caller, at=at
        )
        handoff = case.handoffs.get()
        services.handoff_accept(handoff=handoff, actor=caller, at=at)
        forwarded = services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=caller, at=at)
        return forwarded.response_due_at

    before = due_at_card_center("first")  # this process now holds the card center's calendar
    assert before == due_at_card_center("second")  # and computes from memory the same way

    card_calendar = agent.memberships.get().department.calendar
    _in_another_process(card_calendar.code, date(2026, 6, 10))

    after = due_at_card_center("third")
    assert after > before
    assert after - before >= timedelta(hours=20)  # Wednesday is skipped: Thursday morning instead
    assert (
        BusinessCalendar.objects.get(pk=card_calendar.pk).exceptions.filter(date=date(2026, 6, 10)).exists()
    )
