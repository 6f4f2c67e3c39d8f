from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcessesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "processes"
    verbose_name = _("Processes")

    def ready(self) -> None:
        from processes.api import schema  # noqa: F401  (registers the OpenAPI field extension)

        # Messages to customers register their outbox kinds.
        from processes.customers import messages  # noqa: F401

        # The webhook channel registers the e-mail its owners get when a subscription is disabled.
        from processes.webhooks import delivery  # noqa: F401
