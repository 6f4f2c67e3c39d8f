"""`make bench-engine`: a case's full life driven through the services directly (no HTTP), on
PostgreSQL, by 2 and 8 worker processes, next to `pgbench -N` at the same client counts and to the
same life as a viewflow flow (the peer benchmark in ../shared/peers/viewflow), all in one run.

The life is the one of `make bench-api`, seven state changes, each its own transaction:
  case_open (call center) → handoff_accept → case_forward to the card center → handoff_accept (card
  center) → case_resolve → handoff_accept of the call-back (call center) → case_close.
Only the public signatures of processes/services are used. Notifications stay on: the services
write their outbox rows and nudge delivery after commit. The broker is Redis (BENCH_REDIS, flushed
before and after) when it answers, as in production: a nudge is published only when none is waiting
(processes/nudges.py), and a stand-in for the worker in the parent process takes the waiting nudges
every 100 ms, as a busy worker would. Without Redis every kick publishes to an in-memory broker.
Between the calls the bench looks up the open handoff to accept twice (after the opening and after
the resolution), as a client would read it from the API's response; those two indexed reads are in
the latency of a life but not in its statement count.

What runs:
  1. databases `baton_bench_engine` (migrated, demo organisation and processes seeded) and
     `pgbench_baton_engine` (pgbench -i -s 10), recreated;
  2. the statements of one life (after a warm-up life), counted per call with Django's
     CaptureQueriesContext; BEGIN, COMMIT and ROLLBACK are left out (savepoints are counted);
  3. for each client count: that many worker processes, each with its own connection and its own two
     users (their permission cache warm, as viewflow's bench keeps its clerks'), living cases for
     BENCH_WARMUP seconds unmeasured and then BENCH_SECONDS measured; then `pgbench -N -c C -j C`;
  4. `bash ../shared/peers/viewflow/run.sh` (skipped with a message when the folder is missing, or
     with BENCH_VIEWFLOW=0): its lives/s, latency, statements per life and its own pgbench -N;
  5. both databases dropped.
Reports per client count lives/s, p50/p99 ms per life, pgbench -N tps and lives per pgbench
transaction, Baton's statements per life and per call, and the ratios Baton/viewflow.

Environment: BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_CLIENTS ("2 8"), BENCH_SECONDS
(20), BENCH_WARMUP (3), BENCH_PGBENCH_SECONDS (15), BENCH_REDIS (redis://127.0.0.1:6379/14, "" for none), BENCH_VIEWFLOW (1), BENCH_VIEWFLOW_LIVES (800
per client count), BENCH_ENGINE_DB / BENCH_PGBENCH_DB (the two databases' names), BENCH_JSON (a file
for the figures). About 5 minutes on 2 cores. viewflow's run.sh uses fixed database names
(peer_viewflow, peer_pgbench): run one such benchmark at a time per server.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
CLIENTS = [int(c) for c in os.environ.get("BENCH_CLIENTS", "2 8").split()]
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "3"))
PGBENCH_SECONDS = int(os.environ.get("BENCH_PGBENCH_SECONDS", "15"))
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
VIEWFLOW = os.environ.get("BENCH_VIEWFLOW", "1") != "0"
VIEWFLOW_LIVES = int(os.environ.get("BENCH_VIEWFLOW_LIVES", "800"))
VIEWFLOW_RUN = ROOT.parent / "shared" / "peers" / "viewflow" / "run.sh"
# Two checkouts benchmarking on one server at once need names of their own: the bench drops these.
APP_DB = os.environ.get("BENCH_ENGINE_DB", "baton_bench_engine")
PGBENCH_DB = os.environ.get("BENCH_PGBENCH_DB", "pgbench_baton_engine")
STEPS = ("open", "accept", "forward", "accept_card", "resolve", "accept_call_back", "close")
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


def say(message: str) -> None:
    print(f"bench-engine: {message}", flush=True)


# -- databases ------------------------------------------------------------------------------------
def admin_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def recreate_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_env() -> dict[str, str]:
    url = urlsplit(PG)
    env = {
        **os.environ,
        "PGHOST": url.hostname or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "PGUSER": url.username or "postgres",
    }
    if url.password:
        env["PGPASSWORD"] = url.password
    return env


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        raise SystemExit("bench-engine: pgbench is not installed (apt-get install postgresql-contrib)")
    return found


def pgbench_init() -> None:
    recreate_database(PGBENCH_DB)
    subprocess.run(  # noqa: S603 - a fixed argv of our own, no shell
        [pgbench_binary(), "-i", "-q", "-s", "10", PGBENCH_DB], check=True, env=pg_env(), capture_output=True
    )


def pgbench_tps(clients: int) -> float:
    out = subprocess.run(  # noqa: S603 - a fixed argv of our own, no shell
        [
            pgbench_binary(),
            "-N",
            "-c",
            str(clients),
            "-j",
            str(clients),
            "-T",
            str(PGBENCH_SECONDS),
            PGBENCH_DB,
        ],
        check=True,
        env=pg_env(),
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out) or re.search(
        r"tps = ([0-9.]+)", out
    )
    if match is None:
        raise SystemExit(f"bench-engine: cannot read pgbench's output:\n{out}")
    return float(match.group(1))


# -- Django ---------------------------------------------------------------------------------------
def broker() -> str:
    """The bench's Redis db, flushed (nothing else may use it), or "" when Redis does not answer."""
    if not REDIS:
        return ""
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).flushdb()
        return REDIS
    except Exception as exc:
        say(f"no Redis at {REDIS} ({exc.__class__.__name__}): every nudge publishes to memory")
        return ""


class WorkerStandIn:
    """Takes the waiting nudges every 100 ms (a busy worker's task clears its flag as it starts), and
    drops the published messages, which no worker runs here."""

    def __init__(self, url: str) -> None:
        self.url, self.stop, self.thread = url, None, None

    def __enter__(self):
        import threading

        if self.url:
            import redis

            client = redis.Redis.from_url(self.url)
            self.stop = threading.Event()

            def take() -> None:
                while not self.stop.wait(0.1):
                    for key in client.scan_iter("baton:nudge:*"):
                        client.delete(key)
                    client.delete("celery")

            self.thread = threading.Thread(target=take, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join()


def setup_django() -> None:
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("BENCH_BROKER", None)
    if url := broker():
        os.environ["BENCH_BROKER"] = url
    os.environ.update(
        {
            "DATABASE_URL": f"{PG}/{APP_DB}",
            "DJANGO_SETTINGS_MODULE": os.environ.get("BENCH_SETTINGS", "bench_settings"),
        }
    )
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    # No request cycle closes connections here: each process keeps one for the whole run, as pgbench
    # keeps one per client.
    django.setup()
    # kombu notes once per process that the in-memory transport has no host name.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)


def prepare_app() -> None:
    from django.core.management import call_command

    from departments.demo import seed_organisation
    from processes.demo import seed_processes

    call_command("migrate", "--noinput", verbosity=0)
    seed_organisation()
    seed_processes()


def actors():
    """(call-center agent, card-center agent, the complaint process): fresh objects per process."""
    from django.contrib.auth import get_user_model

    from processes.models import ServiceProcess

    users = get_user_model().objects
    return (
        users.get(username="call_center_agent"),
        users.get(username="card_center_agent"),
        ServiceProcess.objects.get(code="COMPLAINT"),
    )


def _direct(_name, call):
    return call()


def live_a_case(call_agent, card_agent, process, step=_direct) -> None:
    """One case, open to close, through the services' public signatures."""
    from processes import services
    from processes.models import Handoff

    def open_handoff(case) -> Handoff:
        return Handoff.objects.get(
            case_id=case.pk, status__in=[Handoff.Status.PENDING, Handoff.Status.ACCEPTED]
        )

    case, created = step(
        "open",
        lambda: services.case_open(
            process=process,
            title="年费重复扣收",
            channel="phone",
            actor=call_agent,
            priority="normal",
            customer_name="张小三",
            customer_phone="13812345678",
            source="bench",
            external_id=uuid.uuid4().hex,
        ),
    )
    if not created:
        raise RuntimeError("open: the case already existed")
    intake = open_handoff(case)
    step("accept", lambda: services.handoff_accept(handoff=intake, actor=call_agent))
    to_card = step(
        "forward", lambda: services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=call_agent)
    )
    step("accept_card", lambda: services.handoff_accept(handoff=to_card, actor=card_agent))
    step(
        "resolve",
        lambda: services.case_resolve(
            case=case, actor=card_agent, resolution="已退还", recovery_measure="apology"
        ),
    )
    call_back = open_handoff(case)
    step("accept_call_back", lambda: services.handoff_accept(handoff=call_back, actor=call_agent))
    closed = step("close", lambda: services.case_close(case=case, actor=call_agent))
    if closed.status != "closed":
        raise RuntimeError(f"close: the case is {closed.status}")


def count_statements() -> tuple[dict[str, int], Counter]:
    """Statements of each call of one life (after a warm-up life), transaction control left out;
    and the kinds of statement over the life, transaction control included."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_agent, card_agent, process = actors()
    live_a_case(call_agent, card_agent, process)  # warm: permission cache, content types, counter row
    per_call: dict[str, int] = {}
    kinds: Counter = Counter()

    def step(name, call):
        with CaptureQueriesContext(connection) as captured:
            result = call()
        words = [q["sql"].split()[0].upper() for q in captured.captured_queries]
        kinds.update(words)
        per_call[name] = sum(1 for w in words if w not in TRANSACTION_CONTROL)
        return result

    live_a_case(call_agent, card_agent, process, step)
    return per_call, kinds


# -- the load -------------------------------------------------------------------------------------
def worker(barrier, results) -> None:
    from django.db import connection

    try:
        call_agent, card_agent, process = actors()
        errors: list[str] = []

        def live() -> bool:
            try:
                live_a_case(call_agent, card_agent, process)
                return True
            except Exception as exc:
                errors.append(f"{exc.__class__.__name__}: {exc}"[:300])
                return False

        warm_until = time.monotonic() + WARMUP
        while time.monotonic() < warm_until:
            live()
        errors.clear()
        barrier.wait(timeout=300)
        started = time.monotonic()
        stop_at = started + SECONDS
        latencies = []
        while time.monotonic() < stop_at:
            begun = time.perf_counter()
            if live():
                latencies.append(time.perf_counter() - begun)
        results.put((started, time.monotonic(), latencies, errors))
    except Exception:
        barrier.abort()  # the others stop waiting for this one
        results.put(traceback.format_exc())
    finally:
        connection.close()


def run_clients(clients: int) -> dict:
    """`clients` worker processes (forked: not threads, the GIL), each with its own connection."""
    from django.db import connections

    ctx = mp.get_context("fork")
    connections.close_all()  # the children must not share the parent's connection
    barrier, results = ctx.Barrier(clients), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(barrier, results)) for _ in range(clients)]
    with WorkerStandIn(os.environ.get("BENCH_BROKER", "")):
        for proc in procs:
            proc.start()
        outs = [results.get(timeout=WARMUP + SECONDS + 600) for _ in procs]
    for proc in procs:
        proc.join()
    failures = [out for out in outs if isinstance(out, str)]
    if failures:
        raise SystemExit("bench-engine: a worker failed:\n" + failures[0])
    elapsed = max(out[1] for out in outs) - min(out[0] for out in outs)
    latencies = [x for out in outs for x in out[2]]
    errors = [e for out in outs for e in out[3]]
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0] * 99
    return {
        "clients": clients,
        "lives": len(latencies),
        "seconds": round(elapsed, 1),
        "lives_per_s": len(latencies) / elapsed,
        "p50_ms": quantiles[49] * 1000,
        "p99_ms": quantiles[98] * 1000,
        "errors": errors,
    }


# -- the peer -------------------------------------------------------------------------------------
def run_viewflow() -> dict | None:
    if not VIEWFLOW:
        say("viewflow skipped (BENCH_VIEWFLOW=0)")
        return None
    if not VIEWFLOW_RUN.exists():
        say(f"viewflow skipped: {VIEWFLOW_RUN} is missing (the peer benchmark is not beside the repository)")
        return None
    clients = " ".join(str(c) for c in CLIENTS)
    say(f"viewflow: bash {VIEWFLOW_RUN} (LIVES={VIEWFLOW_LIVES} CLIENTS='{clients}') …")
    env = {
        **pg_env(),
        "LIVES": str(VIEWFLOW_LIVES),
        "CLIENTS": clients,
        "PGBENCH_SECONDS": str(PGBENCH_SECONDS),
    }
    done = subprocess.run(  # noqa: S603 - a fixed argv of our own, no shell
        [shutil.which("bash") or "/bin/bash", str(VIEWFLOW_RUN)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out = done.stdout
    if done.returncode != 0:
        say(f"viewflow's run.sh failed ({done.returncode}):\n{out[-2000:]}\n{done.stderr[-2000:]}")
        return None
    figures: dict = {"rows": {}, "version": out.splitlines()[0] if out else ""}
    match = re.search(r"queries per life: ([0-9.]+) statements .*?\((.*)\)", out)
    if match:
        kinds = {k: float(v) for k, v in (part.rsplit(" ", 1) for part in match.group(2).split(", "))}
        figures["statements_reported"] = float(match.group(1))
        figures["kinds"] = kinds
        figures["statements"] = float(match.group(1)) - sum(kinds.get(k, 0) for k in TRANSACTION_CONTROL)
    for line in out.splitlines():
        cells = line.split()
        if len(cells) == 8 and all(re.fullmatch(r"[0-9.]+", c) for c in cells):
            figures["rows"][int(cells[0])] = {
                "lives_per_s": float(cells[1]),
                "p50_ms": float(cells[2]),
                "p99_ms": float(cells[3]),
                "pgbench_tps": float(cells[5]),
            }
    if not figures["rows"]:
        say(f"cannot read viewflow's figures:\n{out[-2000:]}")
        return None
    return figures


# -- report ---------------------------------------------------------------------------------------
def report(per_call: dict[str, int], kinds: Counter, rows: list[dict], peer: dict | None) -> dict:
    statements = sum(per_call.values())
    control = sum(kinds[k] for k in TRANSACTION_CONTROL)
    print()
    print(
        f"Baton statements per life: {statements} ("
        + ", ".join(f"{k} {v}" for k, v in kinds.most_common() if k not in TRANSACTION_CONTROL)
        + f"); {statements + control} with BEGIN/COMMIT"
    )
    print("  per call: " + ", ".join(f"{name} {per_call[name]}" for name in STEPS))
    if peer and "statements" in peer:
        print(
            f"viewflow statements per life: {peer['statements']:g} (its run.sh reports "
            f"{peer['statements_reported']:g} with BEGIN/COMMIT); Baton/viewflow "
            f"{statements / peer['statements']:.2f}×"
        )
    elif peer is None:
        print("viewflow: not run")
    print()
    head = (
        f"{'clients':>7} {'lives/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'pgbench':>8} {'lives/tx':>9}"
        f" │ {'viewflow':>8} {'p50 ms':>8} {'p99 ms':>8} {'pgbench':>8} {'lives/tx':>9}"
        f" │ {'as measured':>14} {'per pgbench tx':>14}"
    )
    print(f"{'Baton, through the services':<53} │ {'viewflow, its run.sh':<45}" + " │ Baton/viewflow lives/s")
    print(head)
    print("─" * len(head))
    for row in rows:
        cells = (
            f"{row['clients']:>7} {row['lives_per_s']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f}"
            f" {row['pgbench_tps']:>8.0f} {row['lives_per_s'] / row['pgbench_tps']:>9.4f}"
        )
        vf = (peer or {}).get("rows", {}).get(row["clients"])
        if vf:
            row["viewflow"] = vf
            row["ratio"] = row["lives_per_s"] / vf["lives_per_s"]
            row["ratio_per_pgbench_tx"] = (row["lives_per_s"] / row["pgbench_tps"]) / (
                vf["lives_per_s"] / vf["pgbench_tps"]
            )
            cells += (
                f" │ {vf['lives_per_s']:>8.1f} {vf['p50_ms']:>8.1f} {vf['p99_ms']:>8.1f}"
                f" {vf['pgbench_tps']:>8.0f} {vf['lives_per_s'] / vf['pgbench_tps']:>9.4f}"
                f" │ {row['ratio']:>13.3f}× {row['ratio_per_pgbench_tx']:>13.3f}×"
            )
        else:
            cells += f" │ {'–':>8} {'':>8} {'':>8} {'':>8} {'':>9} │ {'–':>14} {'':>14}"
        print(cells)
    print(
        "  lives/s: case lives (7 state changes) per second; p50/p99: one life; pgbench: pgbench -N tps at"
        " the same client count, same run; lives/tx: lives per pgbench transaction"
    )
    return {
        "statements_per_life": statements,
        "statements_per_call": per_call,
        "statement_kinds_with_transaction_control": dict(kinds),
        "rows": rows,
        "viewflow": peer,
    }


def main() -> None:
    say(
        f"PostgreSQL {PG}, clients {CLIENTS}, {WARMUP:g} s warm-up + {SECONDS:g} s per client count, "
        f"pgbench -N {PGBENCH_SECONDS} s; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    started = time.monotonic()
    recreate_database(APP_DB)
    setup_django()
    try:
        prepare_app()
        say(f"database {APP_DB} migrated and seeded ({time.monotonic() - started:.0f} s)")
        per_call, kinds = count_statements()
        say(
            f"statements per life: {sum(per_call.values())} ({', '.join(f'{k} {v}' for k, v in per_call.items())})"
        )
        pgbench_init()
        rows = []
        for clients in CLIENTS:
            row = run_clients(clients)
            row["pgbench_tps"] = pgbench_tps(clients)
            say(
                f"{clients} clients: {row['lives']} lives in {row['seconds']} s = {row['lives_per_s']:.1f} lives/s, "
                f"p50 {row['p50_ms']:.0f} ms, p99 {row['p99_ms']:.0f} ms per life, {len(row['errors'])} errors; "
                f"pgbench -N {row['pgbench_tps']:.0f} tps"
            )
            for error in row["errors"][:5]:
                say(f"  error: {error}")
            rows.append(row)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(APP_DB)
        drop_database(PGBENCH_DB)
        broker()
    peer = run_viewflow()
    figures = report(per_call, kinds, rows, peer)
    say(f"{time.monotonic() - started:.0f} s in all")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(figures, indent=2, default=str))
    if any(row["errors"] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
