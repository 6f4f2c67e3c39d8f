"""The admin of the `evaluations` app: the evaluation pages (evaluations.admin.evaluation, .inspections) and the
improvement reviews (evaluations.reviews.admin). Django's autodiscovery imports this package."""

from evaluations.admin import evaluation, inspections  # noqa: F401
from evaluations.reviews import admin as reviews  # noqa: F401
