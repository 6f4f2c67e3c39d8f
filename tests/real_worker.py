"""The harness of the real-worker integration tests (tests/sla, tests/reviews): an SMTP server on
localhost that keeps what it receives, the URLs that point the worker and beat subprocesses at the
test database and a Redis database of their own, and stopping those subprocesses."""

from __future__ import annotations

import email
import os
import socket
import subprocess
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection


class Inbox:
    """aiosmtpd handler: keeps every message it is handed, with its envelope recipients."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[list[str], email.message.Message]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.envelopes.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.Message]:
        with self.lock:
            return [message for _to, message in self.envelopes]

    def notification_keys(self) -> list[str]:
        return [m["X-Baton-Notification"] for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "postgres", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def redis_url(db: int) -> str:
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", "", ""))


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def worker_env(*, redis_db: int | None = None, smtp_port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of a worker, beat or web subprocess: the test settings, this test database,
    its own Redis database (when given) with tasks sent to the broker, the SMTP server (when given),
    and `extra` on top."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url()}
    if redis_db is not None:
        env |= {"REDIS_URL": redis_url(redis_db), "CELERY_TASK_ALWAYS_EAGER": "false"}
    if smtp_port is not None:
        env |= {
            "BATON_TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        }
    return env | extra
