"""The models of the `evaluations` app: the evaluation subdomain (KPIs, feedback, inspections,
periodic evaluations) and the improvement reviews (evaluations.reviews.models). Both are collected here
so that Django registers them with the app and `from evaluations.models import X` works for any of them.
"""

from evaluations.models.evaluation import (
    CustomerFeedback,
    Direction,
    Evaluation,
    EvaluationRun,
    EvaluationScore,
    Inspection,
    InspectionScore,
    Kpi,
    Level,
    Scorecard,
    ScorecardCriterion,
)
from evaluations.reviews.models import (
    MAX_RUN_DAY,
    ImprovementAction,
    ImprovementActionEvent,
    ImprovementReview,
    ReviewCycle,
)

__all__ = [
    "MAX_RUN_DAY",
    "CustomerFeedback",
    "Direction",
    "Evaluation",
    "EvaluationRun",
    "EvaluationScore",
    "ImprovementAction",
    "ImprovementActionEvent",
    "ImprovementReview",
    "Inspection",
    "InspectionScore",
    "Kpi",
    "Level",
    "ReviewCycle",
    "Scorecard",
    "ScorecardCriterion",
]
