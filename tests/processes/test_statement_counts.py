"""Each state change runs a handful of SQL statements: at most 6, transaction control excluded.

The counts are exact, so that a regression (a second read of a row, a write split in two, a query in
a loop) fails here. They hold with the process's calendars and definitions in memory (a first change
under a new configuration stamp loads them: three queries per calendar, three per process) and for
actors whose permissions are cached on the user object, as they are within one request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from processes import services
from processes.models import Case, PauseSegment

from .support import open_handoff

LIMIT = 6
# The case life of the benchmarks, statement by statement (the API's answers add only the token lookup).
LIFE = {
    "open": 6,
    "accept": 4,
    "forward": 6,
    "accept_card": 3,
    "resolve": 6,
    "accept_call_back": 3,
    "close": 4,
}


def _statements(fn):
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    sql = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].split()[0].upper() not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    ]
    return result, sql


@pytest.fixture
def life(org, user, story):
    """Users as a request would have them (fresh objects), the cache warm from one earlier life."""
    agents = {name: user(name) for name in ("call_center_agent", "card_center_agent")}
    for name in agents:
        agents[name].has_perm("processes.add_case")  # permissions are cached per user object
    warm = story.open()
    story.accept(warm, "call_center_agent")
    story.forward(warm, "INVESTIGATE_CARD", "call_center_agent")
    story.accept(warm, "card_center_agent")
    story.resolve(warm)
    story.accept(warm, "call_center_agent")
    services.case_close(case=warm, actor=agents["call_center_agent"], at=story.tick())
    return agents


def test_the_case_life_of_the_benchmark_stays_within_six_statements_per_change(life, org, story):
    call, card = life["call_center_agent"], life["card_center_agent"]
    at = story.tick()
    counts = {}

    (case, created), sql = _statements(
        lambda: services.case_open(
            process=org.processes["COMPLAINT"],
            title="年费争议",
            channel=Case.Channel.PHONE,
            actor=call,
            customer_name="张小三",
            customer_phone="13812345678",
            source="crm",
            external_id="BENCH-1",
            at=at,
        )
    )
    counts["open"] = len(sql)
    assert created
    handoff = open_handoff(case)
    _, sql = _statements(lambda: services.handoff_accept(handoff=handoff, actor=call, at=at))
    counts["accept"] = len(sql)
    _, sql = _statements(
        lambda: services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=call, at=at)
    )
    counts["forward"] = len(sql)
    handoff = open_handoff(case)
    _, sql = _statements(lambda: services.handoff_accept(handoff=handoff, actor=card, at=at))
    counts["accept_card"] = len(sql)
    _, sql = _statements(
        lambda: services.case_resolve(
            case=case, actor=card, resolution="已退还年费", recovery_measure=Case.Recovery.APOLOGY, at=at
        )
    )
    counts["resolve"] = len(sql)
    handoff = open_handoff(case)
    _, sql = _statements(lambda: services.handoff_accept(handoff=handoff, actor=call, at=at))
    counts["accept_call_back"] = len(sql)
    _, sql = _statements(lambda: services.case_close(case=case, actor=call, at=at))
    counts["close"] = len(sql)

    # The lookups of the test (open_handoff) are outside the captured calls.
    assert counts == LIFE
    assert sum(counts.values()) <= 42
    assert Case.objects.get(pk=case.pk).status == Case.Status.CLOSED


def test_every_other_state_change_stays_within_six_statements(life, org, story, user):
    call, card = life["call_center_agent"], life["card_center_agent"]
    case = story.open()
    story.accept(case, "call_center_agent")
    story.forward(case, "INVESTIGATE_CARD", "call_center_agent")
    handoff = open_handoff(case)
    at = story.tick()

    checks = {
        "claim": lambda: services.handoff_claim(handoff=handoff, actor=card, at=at),
        "accept": lambda: services.handoff_accept(handoff=handoff, actor=card, at=at),
        "pause": lambda: services.handoff_pause(
            handoff=handoff, actor=card, cause=PauseSegment.Cause.CUSTOMER, at=at + timedelta(minutes=1)
        ),
        "resume": lambda: services.handoff_resume(handoff=handoff, actor=card, at=at + timedelta(minutes=2)),
        "comment": lambda: services.case_comment(case=case, actor=card, text="已联系客户", at=at),
        "return": lambda: services.handoff_return(
            handoff=handoff, actor=card, reason="材料不全", at=at + timedelta(minutes=3)
        ),
    }
    for name, fn in checks.items():
        _, sql = _statements(fn)
        assert len(sql) <= LIMIT, (name, sql)

    back = open_handoff(case)
    services.handoff_accept(handoff=back, actor=call, at=at + timedelta(minutes=4))
    services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=call, at=at + timedelta(minutes=5))
    services.handoff_accept(handoff=open_handoff(case), actor=card, at=at + timedelta(minutes=6))
    _, sql = _statements(
        lambda: services.case_resolve(
            case=case,
            actor=card,
            resolution="补偿",
            recovery_measure=Case.Recovery.COMPENSATION,
            compensation_amount="5000",
            at=at + timedelta(minutes=7),
        )
    )
    assert len(sql) <= LIMIT, ("resolve with approval", sql)
    case.refresh_from_db()
    approver = user(f"{open_handoff(case).to_department.code.lower()}_lead")
    _, sql = _statements(
        lambda: services.compensation_decide(
            case=case, actor=approver, approve=True, at=at + timedelta(minutes=8)
        )
    )
    assert len(sql) <= LIMIT, ("approval", "\n".join(q[:150] for q in sql))
    services.handoff_accept(handoff=open_handoff(case), actor=call, at=at + timedelta(minutes=9))
    services.case_close(case=case, actor=call, at=at + timedelta(minutes=10))
    _, sql = _statements(
        lambda: services.case_reopen(
            case=case, actor=call, reason="客户不满意", at=at + timedelta(minutes=11)
        )
    )
    assert len(sql) <= LIMIT, ("reopen", sql)
    _, sql = _statements(
        lambda: services.case_cancel(case=case, actor=card, reason="重复投诉", at=at + timedelta(minutes=12))
    )
    assert len(sql) <= LIMIT, ("cancel", sql)
