"""The concurrency guarantees, through HTTP against a multi-process server on PostgreSQL.

gunicorn with four worker processes runs on the pytest test database (committed data: transaction=True);
twenty threads fire the same request at once, released together by a barrier.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

from departments.api_keys import api_key_issue
from processes.models import Case, Handoff
from tests.real_worker import worker_env

pytestmark = [pytest.mark.postgres, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARALLEL = 20


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(org, tmp_path):
    """(host, port) of `gunicorn -w 4` on the test database; killed after the test."""
    port = _free_port()
    env = worker_env(CONN_MAX_AGE="0")
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(  # noqa: S603 - a fixed argv of our own, no shell
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "4",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield ("127.0.0.1", port)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert "Traceback" not in (tmp_path / "gunicorn.log").read_text()


def _fire_together(
    address, method: str, path: str, key: str, body: dict | None = None
) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(PARALLEL)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def one() -> None:
        conn = http.client.HTTPConnection(*address, timeout=60)
        conn.connect()  # connect first so that the barrier releases requests, not handshakes
        barrier.wait()
        conn.request(
            method,
            path,
            body=json.dumps(body or {}),
            headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        payload = json.loads(response.read() or b"{}")
        with lock:
            results.append((response.status, payload))

    threads = [threading.Thread(target=one) for _ in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == PARALLEL
    return results


def test_twenty_parallel_accepts_one_wins_nineteen_conflict(gunicorn, story, user):
    case = story.open()
    handoff = story.open_handoff(case)
    key = api_key_issue(username="call_center_agent").key

    results = _fire_together(gunicorn, "POST", f"/api/v1/handoffs/{handoff.pk}/accept/", key)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (PARALLEL - 1), statuses
    assert {body["code"] for status, body in results if status == 409} == {"handoff_not_pending"}
    accepted = Handoff.objects.get(pk=handoff.pk)
    assert accepted.status == Handoff.Status.ACCEPTED
    assert case.events.filter(kind="handoff_accepted").count() == 1


def test_twenty_parallel_intakes_of_one_external_id_open_one_case(gunicorn, org, user):
    key = api_key_issue(username="call_center_agent").key
    body = {
        "process": "COMPLAINT",
        "title": "并发受理",
        "channel": "phone",
        "source": "crm",
        "external_id": "RACE-1",
    }

    results = _fire_together(gunicorn, "POST", "/api/v1/cases/", key, body)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (PARALLEL - 1) + [201], statuses
    assert len({payload["reference"] for _, payload in results}) == 1
    assert Case.objects.filter(source="crm", external_id="RACE-1").count() == 1
