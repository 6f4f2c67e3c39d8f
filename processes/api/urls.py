"""/api/v1/: the endpoints of the engine (feedback, evaluations, reviews,
actions and analytics come with their apps)."""

from django.urls import path

from core.api import converters  # noqa: F401  (registers case_ref, api_id, api_code)
from processes.api import actions, desk, feed, views

app_name = "api"

urlpatterns = [
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
    path("departments/<api_code:code>/", views.DepartmentDetailView.as_view(), name="department-detail"),
    path("processes/", views.ProcessListView.as_view(), name="process-list"),
    path("processes/<api_code:code>/", views.ProcessDetailView.as_view(), name="process-detail"),
    path("cases/", views.CaseListView.as_view(), name="case-list"),
    path("cases/changes/", feed.CaseChangesView.as_view(), name="case-changes"),
    path("events/", feed.EventFeedView.as_view(), name="event-feed"),
    path("cases/<case_ref:reference>/", views.CaseDetailView.as_view(), name="case-detail"),
    path("cases/<case_ref:reference>/events/", views.CaseEventListView.as_view(), name="case-events"),
    path(
        "cases/<case_ref:reference>/attachments/", desk.CaseAttachmentsView.as_view(), name="case-attachments"
    ),
    path(
        "cases/<case_ref:reference>/attachments/<api_id:attachment_id>/",
        desk.AttachmentDownloadView.as_view(),
        name="case-attachment",
    ),
    path("cases/<case_ref:reference>/links/", desk.CaseLinksView.as_view(), name="case-links"),
    path("handoffs/", views.HandoffListView.as_view(), name="handoff-list"),
    path("handoffs/<api_id:handoff_id>/", views.HandoffDetailView.as_view(), name="handoff-detail"),
    # the state changes of cases and handoffs: each view registers its own path
    *actions.ROUTES,
]
