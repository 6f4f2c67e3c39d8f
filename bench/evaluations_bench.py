"""Evaluations: computing one month for 100 departments over one million handoffs.

Run from the project root: `.venv/bin/python bench/evaluations_bench.py` (or `make bench-evaluations`).
Needs PostgreSQL (`BENCH_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/baton_bench_eval): the
bench creates that database of its own with psql, migrates it with `manage.py migrate`, and fills it
once with raw-SQL `generate_series` (100 departments, 250 000 cases, 1 000 000 handoffs in November
2026, with resolutions, reopenings, customer feedback and inspections); later runs reuse the data
(another size, or `--rebuild`, drops that database and starts over). It never touches the
development or test databases.

Two ways to the same numbers, timed in the same run (figures are machine-dependent, so the baseline
is measured here, not remembered):

- app: `evaluations.services.evaluation_compute_period`: the five ORM aggregate queries of
  evaluations/kpis.py plus the scoring and the writes (upsert of 100 evaluations, 1 000 KPI scores);
  and, separately, `kpis.measure` alone (the reads only);
- hand-written: every aggregate as ONE SQL statement written by hand (below).

The bench checks that both give the same value for every department and KPI, then prints the times
and the ratios app / hand-written (1.0 would mean the ORM path costs nothing over hand-written SQL).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/baton_bench_eval"
TZ = ZoneInfo("Asia/Shanghai")
MONTH = date(2026, 11, 1)
AS_OF = datetime(2026, 12, 20, 12, tzinfo=TZ)


# -- the database of its own ---------------------------------------------------------------------------
def psql(url: str, sql: str, database: str = "postgres") -> str:
    parts = urlparse(url)
    command = ["psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    command += ["-U", parts.username or "postgres", "-d", database, "-tAc", sql]
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    # Our own fixed command line (psql and the bench's URL), no shell.
    return subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout.strip()  # noqa: S603


def _migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    command = [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"]
    subprocess.run(command, check=True, env=env)  # noqa: S603 — this interpreter and manage.py, no shell


def prepare_database(url: str, *, handoffs: int, departments: int, rebuild: bool) -> bool | None:
    """Create and migrate the bench's own database. True: it holds the wanted data already; False:
    it is empty and must be generated; None: PostgreSQL is not reachable (the bench is skipped).
    Other data (another size, a half-finished load, --rebuild) means dropping it and starting over:
    the timeline is append-only in PostgreSQL, so rows are never deleted, only the database."""
    name = urlparse(url).path.lstrip("/")
    try:
        exists = psql(url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"SKIPPED: PostgreSQL is not reachable with psql ({exc}).")
        return None
    if exists == "1" and not rebuild:
        _migrate(url)
        have = psql(url, "SELECT count(*) FROM processes_handoff", database=name)
        have_departments = psql(url, "SELECT count(*) FROM departments_department", database=name)
        if (int(have), int(have_departments)) == (handoffs, departments):
            print(f"reusing {int(have):,} handoffs and {have_departments} departments in {name}")
            return True
        if int(have) == 0 and int(have_departments) == 0:
            return False
    if exists == "1":
        psql(url, f'DROP DATABASE "{name}"')
        print(f"dropped database {name}")
    psql(url, f'CREATE DATABASE "{name}"')
    print(f"created database {name}")
    _migrate(url)
    return False


# -- the data: raw SQL with generate_series ---------------------------------------------------------------
GENERATE = [
    # departments on one round-the-clock calendar
    """INSERT INTO departments_businesscalendar (code, name, time_zone, always_open, country, extra_workday_like)
       VALUES ('BENCH_24X7', 'bench 24x7', 'Asia/Shanghai', true, '', 0)""",
    """INSERT INTO departments_department (code, name, name_en, calendar_id, team_email, is_active)
       SELECT 'BENCH_' || lpad(g::text, 3, '0'), 'Bench ' || g, '', c.id, '', true
       FROM generate_series(0, %(departments)s - 1) g, departments_businesscalendar c WHERE c.code = 'BENCH_24X7'""",
    """INSERT INTO processes_serviceprocess (code, name, name_en, category, reference_prefix, e2e_hours_urgent,
           e2e_hours_high, e2e_hours_normal, e2e_hours_low, first_extension_days, second_extension_days,
           compensation_threshold, reopen_window_days, is_active)
       VALUES ('BENCH', 'bench', '', 'complaint', 'BEN', 8, 24, 56, 112, 15, 30, 500, 30, true)""",
    # 4 handoffs per case; a case's clock starts somewhere in November (Shanghai)
    """INSERT INTO processes_case (reference, process_id, title, description, customer_id, customer_name,
           customer_phone, channel, priority, status, regulatory_extensions, resolution, recovery_measure,
           compensation_approval, source, external_id, reopen_count, created_at, updated_at)
       SELECT 'BEN-202611-' || lpad(c::text, 7, '0'), p.id, 'bench', '', '', '', '', 'phone', 'normal',
              'closed', 0, '', '', '', 'bench', 'bench-' || c, 0,
              timestamptz '2026-11-01 00:00+08' + ((c * 7919) %% 2505600) * interval '1 second',
              timestamptz '2026-11-01 00:00+08' + ((c * 7919) %% 2505600) * interval '1 second'
       FROM generate_series(0, %(cases)s - 1) c, processes_serviceprocess p WHERE p.code = 'BENCH'""",
    """CREATE TEMP TABLE bench_map AS
       SELECT id AS case_id, (substr(reference, 12))::int AS c, created_at AS opened
       FROM processes_case WHERE source = 'bench'""",
    """CREATE TEMP TABLE bench_depts AS
       SELECT array_agg(id ORDER BY code) AS ids FROM departments_department WHERE code LIKE 'BENCH\\_%%'""",
    """SELECT setseed(0.42)""",
    """INSERT INTO processes_handoff (case_id, kind, from_department_id, to_department_id, priority, note, status,
           requested_at, accepted_at, completed_at, returned_at, return_reason, response_target_seconds,
           resolution_target_seconds, response_due_at, resolution_due_at, response_breached_at,
           resolution_breached_at, escalation_level, paused_seconds, seconds_to_accept, seconds_to_complete)
       WITH base AS (
           SELECT m.case_id, m.c, k, m.opened + k * interval '3 hours' AS req,
                  random() AS r1, random() AS r2, random() AS r3, random() AS r4
           FROM bench_map m, generate_series(0, 3) k
       ), shaped AS (
           SELECT b.*, d.ids[1 + ((b.c * 7 + b.k * 13) %% %(departments)s)] AS to_d,
                  CASE WHEN b.k = 0 THEN NULL ELSE d.ids[1 + ((b.c * 7 + (b.k - 1) * 13) %% %(departments)s)] END AS from_d,
                  CASE WHEN b.k < 3 THEN
                      CASE WHEN b.r1 < 0.92 THEN 'completed' WHEN b.r1 < 0.98 THEN 'returned' ELSE 'cancelled' END
                  ELSE
                      CASE WHEN b.r1 < 0.60 THEN 'completed' WHEN b.r1 < 0.75 THEN 'accepted'
                           WHEN b.r1 < 0.85 THEN 'pending' WHEN b.r1 < 0.90 THEN 'returned' ELSE 'cancelled' END
                  END AS status
           FROM base b, bench_depts d
       ), timed AS (
           SELECT s.*,
                  CASE WHEN s.status IN ('completed', 'accepted') OR (s.status IN ('returned', 'cancelled') AND s.r4 < 0.5)
                       THEN floor(s.r2 * s.r2 * 7200)::int END AS sta
           FROM shaped s
       ), stamped AS (
           SELECT t.*, t.req + t.sta * interval '1 second' AS acc,
                  CASE WHEN t.status = 'completed' THEN t.req + (t.sta + floor(t.r3 * 16000)::int) * interval '1 second' END AS comp,
                  CASE WHEN t.status = 'returned' THEN t.req + (coalesce(t.sta, 0) + floor(t.r3 * 3600)::int) * interval '1 second' END AS ret
           FROM timed t
       )
       SELECT case_id, 'routing', from_d, to_d, 'normal', '', status, req, acc, comp, ret,
              CASE WHEN status = 'returned' THEN 'bench' ELSE '' END, 1800, 14400,
              req + interval '1800 seconds', req + interval '14400 seconds',
              CASE WHEN (acc IS NOT NULL AND acc > req + interval '1800 seconds')
                     OR (acc IS NULL AND ret IS NOT NULL AND ret > req + interval '1800 seconds')
                     OR (status = 'pending' AND req + interval '1800 seconds' <= %(as_of)s)
                   THEN req + interval '1800 seconds' END,
              CASE WHEN (comp IS NOT NULL AND comp > req + interval '14400 seconds')
                     OR (status IN ('pending', 'accepted') AND req + interval '14400 seconds' <= %(as_of)s)
                   THEN req + interval '14400 seconds' END,
              0, 0, sta, CASE WHEN comp IS NOT NULL THEN extract(epoch FROM comp - req)::int END
       FROM stamped""",
    # 80 % of cases resolved by the department of their third handoff, 5 % of those reopened
    """INSERT INTO processes_caseevent (case_id, kind, department_id, created_at, payload)
       SELECT m.case_id, 'resolved', d.ids[1 + ((m.c * 7 + 2 * 13) %% %(departments)s)], m.opened + interval '7 hours', '{}'
       FROM bench_map m, bench_depts d WHERE (m.c * 31) %% 100 < 80""",
    """INSERT INTO processes_caseevent (case_id, kind, department_id, created_at, payload)
       SELECT m.case_id, 'reopened', d.ids[1 + ((m.c * 7 + 2 * 13) %% %(departments)s)], m.opened + interval '2 days', '{}'
       FROM bench_map m, bench_depts d WHERE (m.c * 31) %% 100 < 80 AND (m.c * 17) %% 100 < 5""",
    # feedback on 40 % of cases, a day after they opened
    """INSERT INTO evaluations_customerfeedback (case_id, survey_id, csat, nps, comment, channel, source,
           responded_at, created_at)
       SELECT m.case_id, 'bench-' || m.c,
              CASE WHEN m.c %% 10 = 0 THEN NULL ELSE 1 + (m.c * 13) %% 5 END, (m.c * 7) %% 11, '', 'sms', 'bench',
              m.opened + interval '1 day', m.opened + interval '1 day'
       FROM bench_map m WHERE (m.c * 37) %% 100 < 40""",
    """INSERT INTO evaluations_scorecard (code, name, name_en, description, weight_self, weight_department,
           weight_quality_office, is_active)
       VALUES ('BENCH', 'bench', '', '', 20, 30, 50, true)""",
    # 3 000 completed inspections, a third at each level
    """INSERT INTO evaluations_inspection (case_id, department_id, level, scorecard_id, status, case_resolved_at,
           period_kind, score, level_weight, comment, assigned_at, completed_at)
       SELECT m.case_id, d.ids[1 + ((m.c * 7 + 2 * 13) %% %(departments)s)],
              (ARRAY['self', 'department', 'quality_office'])[1 + m.c %% 3], s.id, 'completed',
              m.opened + interval '7 hours', '', 50 + (m.c * 7) %% 51,
              (ARRAY[20, 30, 50])[1 + m.c %% 3], '', m.opened + interval '8 hours', m.opened + interval '9 hours'
       FROM bench_map m, bench_depts d, evaluations_scorecard s
       WHERE s.code = 'BENCH' AND (m.c * 31) %% 100 < 80 AND m.c %% 67 = 0""",
    "ANALYZE",
]


def generate(connection, *, handoffs: int, departments: int) -> None:
    started = time.perf_counter()
    params = {"departments": departments, "cases": handoffs // 4, "as_of": AS_OF}
    with connection.cursor() as cursor:
        for sql in GENERATE:
            cursor.execute(sql, params)
        cursor.execute("DROP TABLE bench_map")
        cursor.execute("DROP TABLE bench_depts")
        cursor.execute("SELECT count(*) FROM processes_handoff")
        print(f"generated {cursor.fetchone()[0]:,} handoffs in {time.perf_counter() - started:.1f} s")


# -- the same aggregates as one hand-written statement --------------------------------------------------------
HAND_WRITTEN = """
WITH w AS (SELECT %(start)s::timestamptz AS s, %(end)s::timestamptz AS e, %(as_of)s::timestamptz AS a),
h AS (
    SELECT h.* FROM processes_handoff h, w
    WHERE h.requested_at >= w.s AND h.requested_at < w.e AND NOT (h.status = 'cancelled' AND h.accepted_at IS NULL)
),
ha AS (
    SELECT h.to_department_id AS d,
        count(*) AS received,
        count(*) FILTER (WHERE h.status = 'returned') AS returned,
        count(h.seconds_to_accept) AS accepted,
        count(*) FILTER (WHERE h.accepted_at IS NOT NULL OR h.returned_at IS NOT NULL OR h.response_breached_at IS NOT NULL
                              OR (h.status = 'pending' AND h.response_due_at <= w.a)) AS response_decided,
        count(*) FILTER (WHERE (h.accepted_at IS NOT NULL OR h.returned_at IS NOT NULL OR h.response_breached_at IS NOT NULL
                                OR (h.status = 'pending' AND h.response_due_at <= w.a))
                           AND h.response_breached_at IS NULL
                           AND coalesce(h.accepted_at, h.returned_at) <= h.response_due_at) AS response_met,
        count(*) FILTER (WHERE (h.status = 'completed' AND h.resolution_breached_at IS NULL)
                            OR h.resolution_breached_at IS NOT NULL
                            OR (h.status IN ('pending', 'accepted') AND h.paused_at IS NULL AND h.resolution_due_at <= w.a))
            AS resolution_decided,
        count(*) FILTER (WHERE h.status = 'completed' AND h.resolution_breached_at IS NULL) AS resolution_met,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY h.seconds_to_accept) AS p50,
        percentile_cont(0.9) WITHIN GROUP (ORDER BY h.seconds_to_accept) AS p90
    FROM h, w GROUP BY h.to_department_id
),
ev AS (
    SELECT e.department_id AS d, count(*) FILTER (WHERE e.kind = 'resolved') AS resolved,
           count(*) FILTER (WHERE e.kind = 'reopened') AS reopened
    FROM processes_caseevent e, w
    WHERE e.kind IN ('resolved', 'reopened') AND e.created_at >= w.s AND e.created_at < w.e AND e.department_id IS NOT NULL
    GROUP BY e.department_id
),
fbx AS (
    SELECT DISTINCT h.to_department_id AS d, f.id, f.csat, f.nps
    FROM evaluations_customerfeedback f JOIN processes_handoff h ON h.case_id = f.case_id, w
    WHERE f.responded_at >= w.s AND f.responded_at < w.e AND NOT (h.status = 'cancelled' AND h.accepted_at IS NULL)
),
fb AS (
    SELECT d, count(csat) AS csat_n, sum(csat) AS csat_sum, count(nps) AS nps_n,
           count(*) FILTER (WHERE nps >= 9) AS promoters, count(*) FILTER (WHERE nps <= 6) AS detractors
    FROM fbx GROUP BY d
),
ql AS (
    SELECT i.department_id AS d, i.level, count(*) AS n, sum(i.score) AS score_sum, sum(i.level_weight) AS weight_sum
    FROM evaluations_inspection i, w
    WHERE i.status = 'completed' AND i.case_resolved_at >= w.s AND i.case_resolved_at < w.e
    GROUP BY i.department_id, i.level
),
qa AS (
    SELECT d, sum(weight_sum::numeric / n * (score_sum / n)) / nullif(sum(weight_sum::numeric / n), 0) AS qa,
           sum(n) AS qa_n
    FROM ql WHERE weight_sum > 0 GROUP BY d
)
SELECT dep.id, ha.received, ha.returned, ha.accepted, ha.response_decided, ha.response_met, ha.resolution_decided,
       ha.resolution_met, ha.p50, ha.p90, ev.resolved, ev.reopened, fb.csat_n, fb.csat_sum, fb.nps_n, fb.promoters,
       fb.detractors, qa.qa, qa.qa_n
FROM departments_department dep
LEFT JOIN ha ON ha.d = dep.id LEFT JOIN ev ON ev.d = dep.id LEFT JOIN fb ON fb.d = dep.id LEFT JOIN qa ON qa.d = dep.id
WHERE dep.is_active
ORDER BY dep.id
"""


def hand_written(connection, window) -> dict[int, dict[str, tuple[Decimal | None, int]]]:
    from evaluations import kpis

    r, ratio = kpis._round, kpis._ratio
    with connection.cursor() as cursor:
        cursor.execute(HAND_WRITTEN, {"start": window.start, "end": window.end, "as_of": window.as_of})
        rows = cursor.fetchall()
    out = {}
    for (
        dept,
        received,
        returned,
        accepted,
        rdec,
        rmet,
        sdec,
        smet,
        p50,
        p90,
        resolved,
        reopened,
        csat_n,
        csat_sum,
        nps_n,
        promoters,
        detractors,
        qa,
        qa_n,
    ) in rows:
        received, returned, accepted = received or 0, returned or 0, accepted or 0
        out[dept] = {
            "response_sla_rate": (ratio(rmet or 0, rdec or 0), rdec or 0),
            "resolution_sla_rate": (ratio(smet or 0, sdec or 0), sdec or 0),
            "median_minutes_to_accept": (
                kpis._seconds_to_minutes(p50) if p50 is not None else None,
                accepted,
            ),
            "p90_minutes_to_accept": (kpis._seconds_to_minutes(p90) if p90 is not None else None, accepted),
            "bounce_rate": (ratio(returned, received), received),
            "reopen_rate": (ratio(reopened or 0, resolved or 0), resolved or 0),
            "csat_avg": (r(Decimal(csat_sum) / csat_n) if csat_n else None, csat_n or 0),
            "nps": (ratio((promoters or 0) - (detractors or 0), nps_n or 0), nps_n or 0),
            "qa_score": (r(qa) if qa is not None else None, qa_n or 0),
            "volume": (Decimal(received) if received else None, received),
        }
    return out


def best(runs: int, fn):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--handoffs", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="Regenerate the data even if it is there.")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.handoffs % 4:
        parser.error("--handoffs: a multiple of 4 (four handoffs per case)")
    ready = prepare_database(url, handoffs=args.handoffs, departments=args.departments, rebuild=args.rebuild)
    if ready is None:
        return 0
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluations import kpis, services
    from evaluations.models import EvaluationScore
    from evaluations.periods import period_starting

    if not ready:
        generate(connection, handoffs=args.handoffs, departments=args.departments)
    period = period_starting("monthly", MONTH)
    window = kpis.Window(period.starts_at, period.ends_at, AS_OF)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM processes_handoff WHERE requested_at >= %s AND requested_at < %s",
            [window.start, window.end],
        )
        in_month = cursor.fetchone()[0]

    with CaptureQueriesContext(connection) as queries:
        services.evaluation_compute_period(kind="monthly", start=MONTH, now=AS_OF)  # warm-up, and count
    app_best, app_median, _ = best(
        args.runs, lambda: services.evaluation_compute_period(kind="monthly", start=MONTH, now=AS_OF)
    )
    reads_best, reads_median, measured = best(args.runs, lambda: kpis.measure(window))
    hand_best, hand_median, expected = best(args.runs, lambda: hand_written(connection, window))

    stored = {}
    for s in EvaluationScore.objects.filter(
        evaluation__kind="monthly", evaluation__period_start=MONTH
    ).select_related("evaluation"):
        stored[(s.evaluation.department_id, s.kpi_code)] = (s.value, s.sample_size)
    mismatches = []
    for dept, values in expected.items():
        for code, want in values.items():
            got = stored.get((dept, code), (None, 0))
            if got != want:
                mismatches.append((dept, code, got, want))
    departments = len(expected)
    print()
    print(
        f"month {period.label}: {in_month:,} handoffs, {departments} departments, {len(queries.captured_queries)} queries"
    )
    print(
        f"  app: evaluation_compute_period     best {app_best * 1000:8.1f} ms   median {app_median * 1000:8.1f} ms"
    )
    print(
        f"  app: kpis.measure (reads only)     best {reads_best * 1000:8.1f} ms   median {reads_median * 1000:8.1f} ms"
    )
    print(
        f"  hand-written single SQL query      best {hand_best * 1000:8.1f} ms   median {hand_median * 1000:8.1f} ms"
    )
    print(f"  ratio compute / hand-written:      {app_best / hand_best:.2f}")
    print(f"  ratio reads / hand-written:        {reads_best / hand_best:.2f}")
    print(
        f"  same values for every department and KPI: {'yes' if not mismatches else f'NO, {len(mismatches)} differ'}"
    )
    for dept, code, got, want in mismatches[:10]:
        print(f"    department {dept} {code}: app {got} vs hand-written {want}")
    assert measured, "no data measured"
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
