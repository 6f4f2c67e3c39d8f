"""Enrol a user's TOTP device (django-otp), in two steps so that only a device that has shown a valid
token counts:

    manage.py totp_enroll quality_officer                  # prints the otpauth:// URL for the app
    manage.py totp_enroll quality_officer --confirm 123456 # the app's current token confirms it

A new enrolment replaces the user's unconfirmed devices; confirmed ones stay until removed with
--remove (e.g. a lost phone).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Enrol (or confirm, or remove) a user's TOTP device for the second factor."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--confirm", metavar="TOKEN", help="Confirm the pending device with its current token."
        )
        parser.add_argument("--remove", action="store_true", help="Remove all of the user's TOTP devices.")

    def handle(self, *args, username: str, confirm: str | None, remove: bool, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No user {username!r}.") from exc
        devices = TOTPDevice.objects.filter(user=user)
        if remove:
            count, _ = devices.delete()
            self.stdout.write(f"{username}: {count} TOTP device(s) removed.")
            return
        if confirm:
            pending = devices.filter(confirmed=False).order_by("-pk").first()
            if pending is None:
                raise CommandError(f"{username} has no device waiting for confirmation.")
            if not pending.verify_token(confirm):
                raise CommandError("That token does not match; try the next one the app shows.")
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            self.stdout.write(f"{username}: TOTP device confirmed.")
            return
        devices.filter(confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
        self.stdout.write(device.config_url)
