"""An e-mail backend for development: one line per message on the console (recipients, subject and
the first link of the text), instead of Django's console backend, which prints every MIME part."""

from __future__ import annotations

import re
import sys
import threading

from django.core.mail.backends.base import BaseEmailBackend

LINK = re.compile(r"https?://\S+")


def summary(message) -> str:
    """`mail to a@x, b@x | [CMP-202612-000001] 已超时 … | http://…/change/`"""
    recipients = ", ".join([*message.to, *message.cc, *message.bcc]) or "(nobody)"
    link = LINK.search(message.body or "")
    subject = " ".join((message.subject or "").split())
    return f"mail to {recipients} | {subject}" + (f" | {link.group(0)}" if link else "")


class SummaryConsoleBackend(BaseEmailBackend):
    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        with self._lock:
            for message in email_messages:
                self.stream.write(summary(message) + "\n")
            self.stream.flush()
        return len(email_messages)
