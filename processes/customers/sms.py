"""SMS gateways: a small adapter interface. The console gateway (the default) keeps what it would send
in a table (`ConsoleSms`, the admin's "console outbox") and logs it with the number masked; the HTTP
gateway posts JSON to the bank's SMS service, configured from the environment. A failure raises, and
the customer message waits for its next attempt (processes/customers/messages.py)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings

from processes.models import ConsoleSms
from processes.policy import mask_phone

log = logging.getLogger(__name__)


class GatewayError(Exception):
    pass


class SmsGateway(Protocol):
    def send(self, *, phone: str, text: str, message_id: str) -> None:
        """Hand the message to the gateway; raise on anything but an acceptance."""


class ConsoleGateway:
    def send(self, *, phone: str, text: str, message_id: str) -> None:
        masked = mask_phone(phone)
        ConsoleSms.objects.create(to_masked=masked, body=text)
        log.info("SMS to %s (%s): %s", masked, message_id, text)


class HttpGateway:
    """POST {"to", "text", "id"} as JSON with a bearer token; any 2xx is an acceptance. The id is the
    message's de-duplication key, so a gateway that saw it already may drop a repeat."""

    def __init__(self, url: str, token: str = "", timeout: float = 5.0) -> None:
        if not url:
            raise GatewayError("BATON_SMS_HTTP_URL is not set.")
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, phone: str, text: str, message_id: str) -> None:
        body = json.dumps({"to": phone, "text": text, "id": message_id}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise GatewayError(f"SMS gateway answered {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            # Never the exception's text alone: it could carry the request (and so the number).
            raise GatewayError(f"SMS gateway unreachable: {exc.__class__.__name__}") from None
        if not 200 <= status < 300:
            raise GatewayError(f"SMS gateway answered {status}")


def gateway() -> SmsGateway:
    name = settings.BATON_SMS_GATEWAY
    if name == "console":
        return ConsoleGateway()
    if name == "http":
        return HttpGateway(
            settings.BATON_SMS_HTTP_URL, settings.BATON_SMS_HTTP_TOKEN, settings.BATON_SMS_TIMEOUT_SECONDS
        )
    raise GatewayError(f"Unknown SMS gateway {name!r} (console or http).")
