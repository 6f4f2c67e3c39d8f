"""Django's authentication signals are the only hook for logins; the receivers just call the service."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from departments.audit import audit_record
from departments.models import AuditEntry


@receiver(user_logged_in, dispatch_uid="baton_audit_login")
def _logged_in(sender, request, user, **kwargs):
    audit_record(kind=AuditEntry.Kind.LOGIN, request=request, user=user)


@receiver(user_logged_out, dispatch_uid="baton_audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(kind=AuditEntry.Kind.LOGOUT, request=request, user=user)


@receiver(user_login_failed, dispatch_uid="baton_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # Never the password: credentials are already cleansed by Django, we keep the username only.
    audit_record(
        kind=AuditEntry.Kind.LOGIN_FAILED,
        request=request,
        user=None,
        username=str(credentials.get("username", ""))[:150],
    )
