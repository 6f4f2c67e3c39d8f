"""Token authentication whose one query also reads the configuration stamp, so that the request's
permission and membership checks come from the process's memory (departments/access.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from departments import access
from departments.snapshot import stamp_subquery


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        token = (
            self.get_model()
            .objects.select_related("user")
            .annotate(_stamp=stamp_subquery())
            .filter(key=key)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        access.remember_stamp(token.user, token._stamp)
        return token.user, token
