"""/api/v1/ endpoints of the evaluations app, included from config/urls.py next to processes.api."""

from django.urls import path

from core.api import converters  # noqa: F401  (registers case_ref, api_id, api_code)
from evaluations.api import views
from evaluations.reviews import api as review_views

app_name = "evaluations-api"

urlpatterns = [
    path("evaluations/", views.EvaluationListView.as_view(), name="evaluation-list"),
    path(
        "evaluations/<api_id:evaluation_id>/", views.EvaluationDetailView.as_view(), name="evaluation-detail"
    ),
    path("kpis/", views.KpiListView.as_view(), name="kpi-list"),
    path("analytics/handoff-flow/", views.HandoffFlowView.as_view(), name="handoff-flow"),
    path("cases/<case_ref:reference>/feedback/", views.CaseFeedbackView.as_view(), name="case-feedback"),
    path("scorecards/", views.ScorecardListView.as_view(), name="scorecard-list"),
    path("inspections/", views.InspectionListView.as_view(), name="inspection-list"),
    path(
        "inspections/<api_id:inspection_id>/", views.InspectionDetailView.as_view(), name="inspection-detail"
    ),
    path(
        "inspections/<api_id:inspection_id>/complete/",
        views.InspectionCompleteView.as_view(),
        name="inspection-complete",
    ),
    path("reviews/", review_views.ReviewListView.as_view(), name="review-list"),
    path("reviews/<api_id:review_id>/", review_views.ReviewDetailView.as_view(), name="review-detail"),
    path("actions/", review_views.ActionListView.as_view(), name="action-list"),
    path("actions/<api_id:action_id>/", review_views.ActionDetailView.as_view(), name="action-detail"),
]
