"""Standard Webhooks signatures (https://www.standardwebhooks.com/): HMAC-SHA256 over
`{webhook-id}.{webhook-timestamp}.{body}` with the secret's bytes, sent as `v1,<base64>`; several
signatures, separated by spaces, while two secrets are valid (rotation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(signing_secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in signing_secrets),
    }


def valid_secret(secret: str) -> bool:
    try:
        return secret.startswith(PREFIX) and len(_key(secret)) >= 24
    except ValueError:
        return False
