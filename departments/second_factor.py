"""TOTP (django-otp) for those whose account reaches the most: administrators (superusers), whoever
acts for every department (the quality office) and whoever may see customer data unmasked.

For them, a session counts only once it is verified with a confirmed TOTP device: until then the
admin site refuses them (its login form asks for the token) and customer data stays masked, in the
admin and in the API alike (an API token cannot carry a second factor, so it never unmasks).
BATON_REQUIRE_TOTP switches the rule (on in production; off for `make run`'s demo users and the tests
that do not test it).
"""

from __future__ import annotations

from django.conf import settings

PII_PERMISSION = "processes.view_customer_pii"
ACT_FOR_ALL = "departments.act_for_all_departments"


def needs_second_factor(user) -> bool:
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_superuser or user.has_perm(ACT_FOR_ALL) or user.has_perm(PII_PERMISSION))


def second_factor_ok(user) -> bool:
    """The user needs no second factor, or this session was verified with a confirmed device."""
    if not getattr(settings, "BATON_REQUIRE_TOTP", True) or not needs_second_factor(user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())
