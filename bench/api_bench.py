"""`make bench-api`: the full life of a case through the REST API under concurrent load, on PostgreSQL,
next to `pgbench -N` measured in the same run on the same machine.

A case's life is seven HTTP calls by two integration tokens, each a state change in its own
transaction with row locks, events and outbox rows:
  open (call center) → accept → forward to the card center → accept (card center) → resolve
  → accept the call-back (call center) → close.

What runs:
  1. databases `baton_bench` (the app) and `pgbench_baton` (pgbench's TPC-B-like tables), recreated;
  2. `pgbench -N -c 4 -j 2 -T 20` on its own database: the machine's baseline of simple write
     transactions per second;
  3. `gunicorn -w 4` with production settings on `baton_bench`, Redis db 15 for the throttle cache and
     the broker (flushed before and after: nothing else may use that db) when Redis answers;
  4. N client threads (http.client) living cases for T seconds after a warm-up.
Reports lives/s, state changes/s, p50/p99 latency per call and per life, pgbench TPS and the ratios.

Environment: BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_REDIS (redis://127.0.0.1:6379/15,
"" for none), BENCH_THREADS (8), BENCH_SECONDS (20), BENCH_WORKERS (4), BENCH_JSON (a file for the
figures).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/15")
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
APP_DB, PGBENCH_DB = "baton_bench", "pgbench_baton"
STEPS = ("open", "accept", "forward", "accept_card", "resolve", "accept_call_back", "close")


def say(message: str) -> None:
    print(f"bench-api: {message}", flush=True)


# -- databases --------------------------------------------------------------------------------------
def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_cli_args() -> list[str]:
    url = urlsplit(PG)
    return ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]


def pgbench_tps() -> float:
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("bench-api: pgbench is not installed (apt-get install postgresql-contrib)")
    env = {**os.environ}
    if urlsplit(PG).password:
        env["PGPASSWORD"] = urlsplit(PG).password
    recreate_database(PGBENCH_DB)
    subprocess.run(  # noqa: S603 - a fixed argv of our own, no shell
        [pgbench, *pg_cli_args(), "-i", "-q", "-s", "10", PGBENCH_DB],
        check=True,
        env=env,
        capture_output=True,
    )
    say("pgbench -N -c 4 -j 2 -T 20 …")
    out = subprocess.run(  # noqa: S603 - a fixed argv of our own, no shell
        [pgbench, *pg_cli_args(), "-N", "-c", "4", "-j", "2", "-T", "20", PGBENCH_DB],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out) or re.search(
        r"tps = ([0-9.]+)", out
    )
    if match is None:
        raise SystemExit(f"bench-api: cannot read pgbench's output:\n{out}")
    return float(match.group(1))


# -- the server -------------------------------------------------------------------------------------
def redis_url() -> str:
    if not REDIS:
        return ""
    try:
        import redis

        client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
        client.flushdb()
        return REDIS
    except Exception as exc:
        say(f"no Redis at {REDIS} ({exc.__class__.__name__}): file cache and file broker")
        return ""


def server_env(redis: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "BATON_CUSTOMER_KEYS": BENCH_CUSTOMER_KEY,
        "BATON_CUSTOMER_INDEX_KEY": "bench-index-key",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{PG}/{APP_DB}",
        "API_THROTTLE_RATE": "1000000/min",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    return env


# Customer data is encrypted; one key for the seeding and the servers of a run.
BENCH_CUSTOMER_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()

SEED = """
from departments.demo import seed_organisation
from processes.demo import seed_processes
from processes.api.tokens import api_token_issue
seed_organisation()
seed_processes()
print("TOKENS", api_token_issue(username="call_center_agent").key, api_token_issue(username="card_center_agent").key)
"""


def prepare_app(env: dict[str, str]) -> tuple[str, str]:
    recreate_database(APP_DB)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603 - a fixed argv of our own, no shell
    out = subprocess.run(  # noqa: S603 - a fixed argv of our own, no shell
        [PY, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("TOKENS "))
    _, call, card = line.split()
    return call, card


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 - a fixed argv of our own, no shell
        [
            PY,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise SystemExit(f"bench-api: gunicorn exited:\n{log.read_text()}")
    server.kill()
    raise SystemExit("bench-api: gunicorn did not start")


# -- the load ---------------------------------------------------------------------------------------
@dataclass
class Stats:
    lives: int = 0
    life_seconds: list[float] = field(default_factory=list)
    call_seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    def __init__(self, port: int, keys: dict[str, str]):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.keys = keys

    def post(self, who: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        started = time.perf_counter()
        self.conn.request(
            "POST",
            path,
            body=json.dumps(body or {}),
            headers={"Authorization": f"Token {self.keys[who]}", "Content-Type": "application/json"},
        )
        response = self.conn.getresponse()
        payload = json.loads(response.read() or b"{}")
        return response.status, payload, time.perf_counter() - started


def live_a_case(client: Client, timings: dict[str, float]) -> None:
    def step(name: str, who: str, path: str, body: dict | None = None, expect: int = 200) -> dict:
        status, payload, seconds = client.post(who, path, body)
        if status != expect:
            raise RuntimeError(f"{name}: {status} {payload}")
        timings[name] = seconds
        return payload

    case = step(
        "open",
        "call",
        "/api/v1/cases/",
        {
            "process": "COMPLAINT",
            "title": "年费重复扣收",
            "channel": "phone",
            "priority": "normal",
            "customer_name": "张小三",
            "customer_phone": "13812345678",
            "source": "bench",
            "external_id": uuid.uuid4().hex,
        },
        expect=201,
    )
    ref = case["reference"]
    step("accept", "call", f"/api/v1/handoffs/{case['open_handoff']['id']}/accept/")
    case = step("forward", "call", f"/api/v1/cases/{ref}/forward/", {"to_stage": "INVESTIGATE_CARD"})
    step("accept_card", "card", f"/api/v1/handoffs/{case['open_handoff']['id']}/accept/")
    case = step(
        "resolve",
        "card",
        f"/api/v1/cases/{ref}/resolve/",
        {"resolution": "已退还", "recovery_measure": "apology"},
    )
    step("accept_call_back", "call", f"/api/v1/handoffs/{case['open_handoff']['id']}/accept/")
    closed = step("close", "call", f"/api/v1/cases/{ref}/close/")
    if closed["status"] != "closed":
        raise RuntimeError(f"close: {closed['status']}")


def run_load(port: int, keys: dict[str, str], seconds: float, stats: Stats | None) -> None:
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        client = Client(port, keys)
        while time.monotonic() < stop_at:
            timings: dict[str, float] = {}
            started = time.perf_counter()
            try:
                live_a_case(client, timings)
            except Exception as exc:
                if stats is not None:
                    with stats.lock:
                        stats.errors.append(str(exc)[:300])
                client = Client(port, keys)
                continue
            elapsed = time.perf_counter() - started
            if stats is not None:
                with stats.lock:
                    stats.lives += 1
                    stats.life_seconds.append(elapsed)
                    for name, value in timings.items():
                        stats.call_seconds[name].append(value)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    say(f"PostgreSQL {PG}, {WORKERS} gunicorn workers, {THREADS} client threads, {SECONDS:.0f} s")
    load_before = os.getloadavg()[0]
    say(
        f"{os.cpu_count()} CPUs, load average {load_before:.2f} before the run (other work skews the figures)"
    )
    tps = pgbench_tps()
    say(f"pgbench -N: {tps:.0f} tps")
    redis = redis_url()
    env = server_env(redis)
    call_key, card_key = prepare_app(env)
    keys = {"call": call_key, "card": card_key}
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="baton-bench-"))
    server = start_gunicorn(env, port, workdir / "gunicorn.log")
    try:
        run_load(port, keys, 3, None)  # warm-up: connections, imports, caches
        stats = Stats()
        started = time.perf_counter()
        run_load(port, keys, SECONDS, stats)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if redis:
            import redis as redis_lib

            redis_lib.Redis.from_url(redis).flushdb()
    calls = [v for values in stats.call_seconds.values() for v in values]
    lives_per_s = stats.lives / wall
    calls_per_s = len(calls) / wall
    figures = {
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "threads": THREADS,
        "gunicorn_workers": WORKERS,
        "seconds": round(wall, 1),
        "case_lives": stats.lives,
        "case_lives_per_s": round(lives_per_s, 2),
        "api_calls_per_s": round(calls_per_s, 1),
        "call_p50_ms": round(pct(calls, 50) * 1000, 1),
        "call_p99_ms": round(pct(calls, 99) * 1000, 1),
        "life_p50_ms": round(pct(stats.life_seconds, 50) * 1000, 1),
        "life_p99_ms": round(pct(stats.life_seconds, 99) * 1000, 1),
        "per_call_p50_p99_ms": {
            name: [
                round(pct(stats.call_seconds[name], 50) * 1000, 1),
                round(pct(stats.call_seconds[name], 99) * 1000, 1),
            ]
            for name in STEPS
        },
        "errors": len(stats.errors),
        "pgbench_N_tps": round(tps, 1),
        "case_lives_per_pgbench_tx": round(lives_per_s / tps, 4),
        "api_calls_per_pgbench_tx": round(calls_per_s / tps, 4),
    }
    print()
    print(f"  case lives (7 calls each)   {stats.lives} in {wall:.1f} s = {lives_per_s:.1f} lives/s")
    print(f"  API state changes           {calls_per_s:.0f} calls/s")
    print(f"  latency per call            p50 {figures['call_p50_ms']} ms, p99 {figures['call_p99_ms']} ms")
    print(f"  latency per case life       p50 {figures['life_p50_ms']} ms, p99 {figures['life_p99_ms']} ms")
    for name in STEPS:
        p50, p99 = figures["per_call_p50_p99_ms"][name]
        print(f"    {name:<18} p50 {p50:>7} ms   p99 {p99:>7} ms")
    print(f"  pgbench -N -c 4 (same run)  {tps:.0f} tps")
    print(
        f"  ratio                       {figures['case_lives_per_pgbench_tx']:.4f} case lives per pgbench tx, "
        f"{figures['api_calls_per_pgbench_tx']:.3f} API calls per pgbench tx"
    )
    print(f"  errors                      {len(stats.errors)}")
    for error in stats.errors[:5]:
        print(f"    {error}")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps(figures, indent=2))
    if stats.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
