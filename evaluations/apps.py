from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evaluations"
    verbose_name = _("Evaluations")

    def ready(self) -> None:
        # The review and reminder e-mails register how they are addressed and worded at delivery.
        from evaluations.reviews import emails  # noqa: F401
