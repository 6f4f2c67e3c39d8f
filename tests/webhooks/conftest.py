"""Fixtures of the webhook tests: the demo organisation and processes, a case life through the
services, and a real HTTP receiver on localhost that verifies every signature with the Standard
Webhooks reference library and can be told to fail or to hold a request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks import Webhook

from processes import services
from processes.models import Case, Handoff, WebhookSubscription
from processes.webhooks import signing

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _no_customer_messages(settings):
    """The case life's timeline as the state changes write it: a message to the customer adds its
    "customer notified" event when the message leaves, at a time of the delivery's choosing
    (tests/processes/test_customer_messages.py)."""
    settings.BATON_CUSTOMER_MESSAGES = False


LIFE_KINDS = [
    "created",
    "handoff_requested",
    "handoff_accepted",
    "handoff_completed",
    "handoff_requested",
    "handoff_accepted",
    "handoff_completed",
    "resolved",
    "handoff_requested",
    "handoff_accepted",
    "handoff_completed",
    "closed",
]


def eventually(check: Callable[[], object], *, timeout: float = 60.0, every: float = 0.2):
    """`check()` until it is truthy (or the time is up): on PostgreSQL the feed waits for every older
    transaction of the whole cluster, other databases' included, such as a test suite running next
    to this one; that delays what a test reads, it never reorders or drops it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


def open_handoff(case: Case) -> Handoff:
    return Handoff.objects.get(case=case, status__in=Handoff.OPEN_STATUSES)


@pytest.fixture
def case_life(org, user):
    """The life of the benchmarks, step by step: `steps(at)` yields after each state change."""

    def steps(*, at: datetime = T0, external_id: str = "CRM-1"):
        call, card = user("call_center_agent"), user("card_center_agent")
        tick = iter(at + timedelta(minutes=n) for n in range(100))
        case, _ = services.case_open(
            process=org.processes["COMPLAINT"],
            title="年费争议",
            channel=Case.Channel.PHONE,
            actor=call,
            customer_name="张小三",
            customer_phone="13812345678",
            source="crm",
            external_id=external_id,
            at=next(tick),
        )
        yield case
        services.handoff_accept(handoff=open_handoff(case), actor=call, at=next(tick))
        yield case
        services.case_forward(case=case, to_stage="INVESTIGATE_CARD", actor=call, at=next(tick))
        yield case
        services.handoff_accept(handoff=open_handoff(case), actor=card, at=next(tick))
        yield case
        services.case_resolve(
            case=case,
            actor=card,
            resolution="已退还年费",
            recovery_measure=Case.Recovery.APOLOGY,
            at=next(tick),
        )
        yield case
        services.handoff_accept(handoff=open_handoff(case), actor=call, at=next(tick))
        yield case
        services.case_close(case=case, actor=call, at=next(tick))
        yield case

    return steps


class Receiver:
    """What the endpoint got: every request with its headers and body, and whether the signature
    verified. `script(n)` decides the status of the n-th request (0-based); `hold` makes a request
    wait until released (to kill the sender mid-request)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.script: Callable[[int], int] = lambda n: 200
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.url = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            n = len(self.requests)
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except Exception:
                verified = False
            self.requests.append({"headers": headers, "body": json.loads(body), "verified": verified})
        if self.hold_at == n:
            self.holding.set()
            self.release.wait(60)
        return self.script(n)

    def delivered(self) -> list[dict]:
        """Requests answered 2xx, first copy of each webhook-id (the documented de-duplication)."""
        seen, out = set(), []
        with self.lock:
            for r in self.requests:
                if r.get("status", 200) // 100 == 2 and r["headers"]["webhook-id"] not in seen:
                    seen.add(r["headers"]["webhook-id"])
                    out.append(r)
        return out


@pytest.fixture
def receiver(settings):
    secret = signing.new_secret()
    rec = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = rec.handle(headers, body)
            with rec.lock:
                for r in reversed(rec.requests):
                    if r["headers"] is headers:
                        r["status"] = status
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/baton"
    settings.BATON_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    try:
        yield rec
    finally:
        rec.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def subscribe(user):
    def make(url: str, secret: str, *, departments=("CALL_CENTER",), kinds=(), all_departments=False):
        from departments.models import Department

        sub = WebhookSubscription.objects.create(
            name="CRM",
            url=url,
            secret=secret,
            owner=user("quality_officer"),
            event_kinds=list(kinds),
            all_departments=all_departments,
        )
        sub.departments.set(Department.objects.filter(code__in=departments))
        return sub

    return make
