"""`make bench-live`: the live operations page's queries at 100,000 cases on PostgreSQL.

What runs:
  1. database `baton_bench_live`, recreated and migrated; the demo organisation and processes, then
     BENCH_CASES cases with one open handoff each (bench/sla_bench.py's generator: half pending, half
     accepted, 1% breached; every case open, the worst case for the page's aggregate), their ages
     spread over the last 30 days, and two completed handoffs each before it, with their completion
     events, over the same 30 days (so the "today" chart has a month of history to skip);
  2. `processes.live.live_operations` for the quality office (every department) and for one lead,
     plus the chart, repeated and timed (median and worst), with the number of queries.

Goal: under 300 ms for the quality office's page data at 100,000 cases.

Environment: BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_CASES (100000), BENCH_REPEATS (9),
BENCH_KEEP=1 to keep the database.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sla_bench as data  # the generator and database helpers are shared

data.DB = "baton_bench_live"
CASES = int(os.environ.get("BENCH_CASES", "100000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "9"))
GOAL_MS = 300


def say(message: str) -> None:
    print(f"bench-live: {message}", flush=True)


def add_history() -> None:
    """The open handoffs' ages spread over the last 30 days (the generator requests them all in the
    last ten minutes, which no desk sees), then two completed handoffs per case before its open one,
    each with its `handoff_completed` event, over the same 30 days."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE processes_handoff
               SET requested_at = now() - make_interval(mins => ((id * 7919) % 43200)::int)
             WHERE status IN ('pending', 'accepted')
            """
        )
        cursor.execute(
            """
            INSERT INTO processes_handoff (
                case_id, kind, to_department_id, to_stage_id, priority, note, status, requested_at,
                accepted_at, completed_at, return_reason, response_target_seconds,
                resolution_target_seconds, response_due_at, resolution_due_at, escalation_level,
                paused_seconds, seconds_to_accept, seconds_to_complete)
            SELECT c.id, 'routing', c.current_department_id, c.current_stage_id, 'normal', '',
                   'completed', t.requested, t.requested + interval '5 minutes',
                   t.requested + interval '2 hours', '', 900, 7200,
                   t.requested + interval '15 minutes', t.requested + interval '2 hours', 0, 0, 300, 7200
              FROM processes_case c
             CROSS JOIN LATERAL (
                   SELECT now() - make_interval(mins => ((c.id * 7919 + k * 104729) % 43200)::int)
                          - interval '2 hours' AS requested
                     FROM generate_series(1, 2) AS k) AS t
            """
        )
        cursor.execute(
            """
            INSERT INTO processes_caseevent (case_id, handoff_id, kind, department_id, created_at, payload)
            SELECT case_id, id, 'handoff_completed', to_department_id, completed_at, '{}'::jsonb
              FROM processes_handoff WHERE status = 'completed'
            """
        )


def measure(action) -> tuple[float, float]:
    action()  # warm: plan cache, buffers, the process's caches
    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), max(runs)


def main() -> None:
    say(f"{CASES:,} cases")
    data.recreate_database()
    data.migrate()
    data.setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from processes import live
    from processes.models import Handoff

    try:
        data.generate(CASES)
        add_history()
        data.vacuum_analyze()
        say(
            f"{Handoff.objects.count():,} handoffs, {Handoff.objects.filter(status__in=Handoff.OPEN_STATUSES).count():,} open"
        )
        users = get_user_model().objects
        for label, username in (
            ("quality office", "quality_officer"),
            ("card center lead", "card_center_lead"),
        ):
            user = users.get(username=username)

            def page(user=user):
                found = live.live_operations(user=user)
                live.chart_svg(found)
                return found

            with CaptureQueriesContext(connection) as queries:
                found = page()
            median, worst = measure(page)
            total = sum(r.open for r in found.rows)
            say(
                f"{label:16} {len(found.rows):3} departments, {total:,} open: median {median:6.1f} ms, "
                f"worst {worst:6.1f} ms, {len(queries)} queries"
            )
            if username == "quality_officer":
                verdict = "met" if median < GOAL_MS else "MISSED"
                say(f"goal < {GOAL_MS} ms at {CASES:,} cases: {verdict}")
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            data.drop_database()


if __name__ == "__main__":
    main()
