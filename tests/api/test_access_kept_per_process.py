"""API requests take a user's permissions and memberships from the process's memory. A change in the
admin (a permission granted, a membership removed) reaches the very next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from departments.models import Membership

pytestmark = pytest.mark.django_db


def test_a_granted_permission_shows_at_the_next_request(api, story, user):
    case = story.open()
    call = api("call_center_agent")
    assert call.get(f"/api/v1/cases/{case.reference}/").json()["customer"]["masked"] is True

    user("call_center_agent").user_permissions.add(
        Permission.objects.get(codename="view_customer_pii", content_type__app_label="processes")
    )
    assert call.get(f"/api/v1/cases/{case.reference}/").json()["customer"]["masked"] is False


def test_a_removed_membership_takes_effect_at_once(api, story, user):
    case = story.open()
    call = api("call_center_agent")
    assert call.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    handoff = case.handoffs.get()

    Membership.objects.filter(user=user("call_center_agent")).delete()
    # Still its opener (reads), but no longer acting for the call center (403), nor seeing its queue.
    response = call.post(f"/api/v1/handoffs/{handoff.pk}/accept/", format="json")
    assert response.status_code == 403, response.content
    assert call.get("/api/v1/handoffs/").json()["count"] == 1
