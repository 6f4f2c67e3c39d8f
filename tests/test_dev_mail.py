"""`make run` prints one line per e-mail (config/mail.py), with links to the port it serves on."""

import io
import os
import subprocess
import sys

from django.core.mail import EmailMultiAlternatives

from config.mail import SummaryConsoleBackend


def test_one_line_per_message_with_its_first_link():
    stream = io.StringIO()
    messages = [
        EmailMultiAlternatives(
            subject="[CMP-202612-000001] 已超时：已超过响应时限",
            body="已超时\n\n打开工单: http://127.0.0.1:8077/admin/processes/case/1/change/\n\n工单: …",
            to=["card_center_lead@bank.example"],
        )
        for _ in range(2)
    ]
    for m in messages:
        m.attach_alternative("<html><body>…</body></html>", "text/html")

    sent = SummaryConsoleBackend(stream=stream).send_messages(messages)

    lines = stream.getvalue().splitlines()
    assert sent == 2 and len(lines) == 2
    assert lines[0] == (
        "mail to card_center_lead@bank.example | [CMP-202612-000001] 已超时：已超过响应时限"
        " | http://127.0.0.1:8077/admin/processes/case/1/change/"
    )
    assert "Content-Type" not in stream.getvalue()


def test_the_site_url_follows_the_port_of_make_run():
    # The settings of `make run` in a process of their own, as web, worker and beat load them.
    env = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "DJANGO_SETTINGS_MODULE")}
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    answer = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.local", "BATON_PORT": "8077"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert answer.stdout.strip() == "http://127.0.0.1:8077"
