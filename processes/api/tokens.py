"""API keys for integrations, as the command and the tests ask for them (the rules live in
`departments.api_keys`): several named keys per user, hashed, expiring, revocable."""

from __future__ import annotations

from departments.api_keys import IssuedKey, api_key_issue, api_key_revoke

__all__ = ["IssuedKey", "api_token_issue", "api_token_revoke"]


def api_token_issue(*, username: str, name: str = "default", rotate: bool = False, **kwargs) -> IssuedKey:
    """A new key for the user; `rotate` first revokes the user's other keys of that name."""
    if rotate:
        api_key_revoke(username=username, name=name)
    return api_key_issue(username=username, name=name, **kwargs)


def api_token_revoke(*, username: str, name: str | None = None, prefix: str | None = None) -> int:
    return api_key_revoke(username=username, name=name, prefix=prefix)
