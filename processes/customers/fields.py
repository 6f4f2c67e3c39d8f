"""A text column stored encrypted (processes.customers.crypto): the ORM, the lean write path
(processes/writes.py, through get_db_prep_save) and the locking reads (processes/locking.py, through the
field's converters) all see clear text; the table holds only tokens. Blank stays blank."""

from __future__ import annotations

from django.db import models

from processes.customers import crypto


class EncryptedTextField(models.TextField):
    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)
