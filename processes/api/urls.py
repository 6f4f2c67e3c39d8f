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
    path("cases/<case_ref:reference>/forward/", actions.CaseForwardView.as_view(), name="case-forward"),
    path("cases/<case_ref:reference>/resolve/", actions.CaseResolveView.as_view(), name="case-resolve"),
    path("cases/<case_ref:reference>/close/", actions.CaseCloseView.as_view(), name="case-close"),
    path("cases/<case_ref:reference>/reopen/", actions.CaseReopenView.as_view(), name="case-reopen"),
    path("cases/<case_ref:reference>/cancel/", actions.CaseCancelView.as_view(), name="case-cancel"),
    path("cases/<case_ref:reference>/comments/", actions.CaseCommentView.as_view(), name="case-comments"),
    path(
        "cases/<case_ref:reference>/customer-notified/",
        actions.CaseCustomerNotifiedView.as_view(),
        name="case-customer-notified",
    ),
    path(
        "cases/<case_ref:reference>/extend-deadline/",
        actions.CaseExtendDeadlineView.as_view(),
        name="case-extend-deadline",
    ),
    path(
        "cases/<case_ref:reference>/compensation-decision/",
        actions.CaseCompensationDecisionView.as_view(),
        name="case-compensation-decision",
    ),
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
    path("handoffs/<api_id:handoff_id>/accept/", actions.HandoffAcceptView.as_view(), name="handoff-accept"),
    path("handoffs/<api_id:handoff_id>/return/", actions.HandoffReturnView.as_view(), name="handoff-return"),
    path("handoffs/<api_id:handoff_id>/claim/", actions.HandoffClaimView.as_view(), name="handoff-claim"),
    path("handoffs/<api_id:handoff_id>/pause/", actions.HandoffPauseView.as_view(), name="handoff-pause"),
    path("handoffs/<api_id:handoff_id>/resume/", actions.HandoffResumeView.as_view(), name="handoff-resume"),
]
