"""Encryption of customer data at rest, and the blind index that finds it again.

Name, phone and customer number are stored as Fernet tokens (AES-128-CBC with an HMAC-SHA256 tag:
authenticated, so a tampered column fails loudly instead of decrypting to garbage). The keys come from
the environment, newest first (`BATON_CUSTOMER_KEYS`): encryption uses the first, decryption tries each,
so a new key is put in front and `manage.py rotate_customer_keys` re-encrypts the rows before the old
key is dropped. https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet

Equality lookups cannot use the ciphertext (each token has a fresh IV), so the normalised phone and
customer number are also stored as an HMAC-SHA256 under a separate key (`BATON_CUSTOMER_INDEX_KEY`):
exact match only, and the hash reveals nothing without that key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("BATON_CUSTOMER_KEYS is empty: customer data cannot be encrypted.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.BATON_CUSTOMER_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


@lru_cache(maxsize=4096)
def _decrypt(token: str, keys: tuple[str, ...]) -> str:
    return _fernet(keys).decrypt(token.encode()).decode()


def decrypt(token: str) -> str:
    """The clear text of a token. Cached per token: every state change reads the case row (and so its
    three customer columns) again, and the same token always has the same clear text."""
    try:
        return _decrypt(token, tuple(settings.BATON_CUSTOMER_KEYS))
    except InvalidToken:
        raise ImproperlyConfigured(
            "A customer column does not decrypt with any key of BATON_CUSTOMER_KEYS."
        ) from None


def rotate(token: str) -> str:
    """The token re-encrypted under the newest key."""
    return fernet().rotate(token.encode()).decode()


def is_current(token: str) -> bool:
    """Whether the newest key decrypts this token (a row rotation can skip)."""
    first = settings.BATON_CUSTOMER_KEYS[0]
    try:
        Fernet(first.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


# -- the blind index --------------------------------------------------------------------------------
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?\d{5,15}$")
_CUSTOMER_ID = re.compile(r"^\S{1,64}$")


class Malformed(ValueError):
    pass


def normalise_phone(raw: str) -> str:
    """Digits only; China's country code (+86, 0086) removed, so that 138…, +86 138… and 0086-138…
    find the same customer. Raises Malformed for anything that is not a phone number."""
    value = _PHONE_SEPARATORS.sub("", raw or "")
    if not _PHONE.match(value):
        raise Malformed("A phone number has 5 to 15 digits (spaces, dashes and a leading + allowed).")
    value = value.lstrip("+")
    for prefix in ("0086", "86"):
        if value.startswith(prefix) and len(value) - len(prefix) == 11:
            value = value[len(prefix) :]
    return value


def normalise_customer_id(raw: str) -> str:
    value = (raw or "").strip().upper()
    if not _CUSTOMER_ID.match(value):
        raise Malformed("A customer number is 1 to 64 characters without spaces.")
    return value


def _hmac(kind: str, value: str) -> str:
    key = settings.BATON_CUSTOMER_INDEX_KEY
    if not key:
        raise ImproperlyConfigured("BATON_CUSTOMER_INDEX_KEY is empty: customers cannot be looked up.")
    return hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def phone_key(raw: str) -> str:
    """The blind index of a phone number ('' for none). Raises Malformed."""
    return _hmac("phone", normalise_phone(raw)) if raw else ""


def customer_id_key(raw: str) -> str:
    return _hmac("customer", normalise_customer_id(raw)) if raw else ""
