"""`make bench-scope`: the cost of a department user's case scope on PostgreSQL.

A member of a department sees the cases that went through its departments and the cases it opened
itself (processes.policy.visible_cases). The baseline is the department part alone, one EXISTS that
PostgreSQL runs as a semi-join; the scope adds `OR created_by = user`, which the planner estimates
far too high, and with JIT on (PostgreSQL's default) that estimate buys 100+ ms of compiling per
query. Both are measured in the same run, with JIT on and off (config/settings/base.py turns it off).

What runs:
  1. database `baton_bench_scope`, recreated and migrated; the demo organisation and processes, then
     BENCH_CASES cases with one handoff each spread over all stages (bench/sla_bench.py's generator);
     every 500th case opened by the measured user, as an intake from another department would be;
  2. for each of (department part only, full scope) × (JIT on, JIT off): the API's first page of the
     case list (50 rows, newest first) plus its count, and one case looked up by reference, repeated
     and timed (median).

Environment: BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_CASES (200000), BENCH_REPEATS (7),
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

data.DB = "baton_bench_scope"
CASES = int(os.environ.get("BENCH_CASES", "200000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "7"))
USER = "card_center_agent"


def say(message: str) -> None:
    print(f"bench-scope: {message}", flush=True)


def median_ms(action, repeats: int = REPEATS) -> float:
    action()  # warm: plan cache, buffers
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def main() -> None:
    say(f"{CASES:,} cases, user {USER}")
    data.recreate_database()
    data.migrate()
    data.setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Exists, OuterRef, Q

    from departments import policy as dept_policy
    from processes import policy
    from processes.models import Case, Handoff

    try:
        data.generate(CASES)
        user = get_user_model().objects.get(username=USER)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE processes_case SET created_by_id = %s WHERE id %% 500 = 0", [user.pk])
        data.vacuum_analyze()

        ids = dept_policy.acting_department_ids(user)
        passed = Handoff.objects.filter(case=OuterRef("pk")).filter(
            Q(to_department_id__in=ids) | Q(from_department_id__in=ids)
        )
        variants = {
            "department part only": Case.objects.filter(Exists(passed)),
            "full scope (+ opened)": policy.visible_cases(user),
        }
        reference = variants["department part only"].order_by("pk").values_list("reference", flat=True)[1000]
        results: dict[tuple[str, str], tuple[float, float, int]] = {}
        for jit in ("on", "off"):
            with connection.cursor() as cursor:
                cursor.execute(f"SET jit = {jit}")
            for label, scope in variants.items():
                page = scope.order_by("-created_at", "-pk")

                def list_page(page=page, scope=scope):
                    list(page[:50])
                    scope.count()

                one = scope.filter(reference=reference)
                assert one.exists()
                results[(label, jit)] = (median_ms(list_page), median_ms(one.first), scope.count())
                page_ms, one_ms, count = results[(label, jit)]
                say(
                    f"JIT {jit:3} {label:22} page+count {page_ms:7.1f} ms   one case {one_ms:6.2f} ms   ({count:,} cases)"
                )
        base = results[("department part only", "off")]
        full = results[("full scope (+ opened)", "off")]
        jit_full = results[("full scope (+ opened)", "on")]
        say(
            f"full scope / department part, JIT off: page {full[0] / base[0]:.2f}×, one case "
            f"{full[1] / base[1]:.2f}×; full scope JIT on / off: page {jit_full[0] / full[0]:.2f}×"
        )
        assert full[2] == base[2] + Case.objects.filter(created_by=user).exclude(Exists(passed)).count()
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP") != "1":
            data.drop_database()


if __name__ == "__main__":
    main()
