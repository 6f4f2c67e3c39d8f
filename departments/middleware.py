"""A session ends after inactivity (SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST) and, whatever
the activity, after an absolute lifetime: a bank's staff log in again every working day."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

KEY = "baton_session_started"


class AbsoluteSessionLifetimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(KEY)
            now = int(time.time())
            if started is None:
                request.session[KEY] = now
            elif now - int(started) > settings.BATON_SESSION_MAX_AGE:
                logout(request)
                if request.path.startswith("/admin/"):
                    return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
        return self.get_response(request)
