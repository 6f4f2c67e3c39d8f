"""The auditor changes nothing, whatever they post."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from processes.models import CaseEvent, Handoff, Notification, NotificationPreference
from tests.security.permissions.support import (
    MODEL_PAGES,
    action_data,
    admin_url,
    api_call,
    case_page,
    changed_tables,
    described,
    isolated,
    matches,
    snapshot,
)
from tests.security.permissions.tables import ADMIN, API, CASE_ACTIONS

# Every test is a savepoint inside the module's seeded transaction (pytest-django supports wrapping
# tests in a higher-scoped transaction); the marker also makes pytest-django create the test database.
pytestmark = pytest.mark.django_db

# ====================================================================================================
# The auditor changes nothing
# ====================================================================================================
# The auditor's POSTs to the admin: a page that can write answers 403 (Django's answer to a user who
# may only view), a page that only reads answers a POST as it answers a GET (its ADMIN cell), and
# these pages say otherwise:
AUDITOR_POST = {
    "login": "200",  # an empty login form, shown again
    "password_change": "200",  # one's own password: an empty form, shown again
    "autocomplete:case": "405",  # GET-only views
    "autocomplete:department": "405",
    "autocomplete:user": "405",
    "jsi18n": "405",
    "password_change_done": "405",
    "processes_handoff_change": "case",  # a handoff's page only points to its case's page
    "processes_notificationpreference_change": "gone",  # someone else's: not in the auditor's list
    "processes_notificationpreference_delete": "gone",
    "evaluations_inspection_change": "200",  # the page shows no record form: the POST is ignored
    "evaluations_improvementaction_change": "200",  # the status change is refused with a message
    "processes_case_attach": "refused",  # no file: the form's error, back to the case page
    "processes_case_link": "refused",  # no target: the form's error, back to the case page
    "processes_case_attachment": "405",  # a download is a GET
    "processes_savedqueueview_change": "gone",  # someone else's: not in the auditor's list
    "processes_savedqueueview_delete": "gone",
}
WRITE_PAGES = {"evaluations_inspection_sample", "evaluations_evaluation_compute"}
# The one write an auditor has in the admin: their own e-mail preferences (personal settings, like
# their password; see the report). It is not swept.
AUDITOR_OWN_SETTINGS = {"processes_notificationpreference_add", "processes_handoff_save_view"}


def _auditor_admin_post(name: str) -> tuple[str, dict[str, Any]]:
    page = MODEL_PAGES.get(name, (None, None))[1]
    writes = page in ("add", "change", "delete") or name in WRITE_PAGES
    expected = AUDITOR_POST.get(name, "403" if writes else ADMIN[name]["auditor"])
    data: dict[str, Any] = {"post": "yes"} if page == "delete" else {}
    if name == "evaluations_improvementaction_change":
        data = {"do": "status", "status": "in_progress", "note": "审计"}
    return expected, data


def test_the_auditor_changes_nothing(world):
    client, auditor = world.clients["auditor"], world.users["auditor"]
    writes = {key: row["auditor"] for key, row in API.items() if key[0] != "GET"}
    assert all(status in ("403", "409") for status in writes.values()), "the table lets the auditor write"
    assert all(cell in ("refused", "404") for cell in (r["auditor"] for r in CASE_ACTIONS.values()))

    requests: list[tuple[str, Any, str]] = []  # (what, callable, expected)
    for name in sorted(set(ADMIN) - AUDITOR_OWN_SETTINGS):
        expected, data = _auditor_admin_post(name)
        url = admin_url(name, world)
        requests.append((f"POST {url}", lambda url=url, data=data: client.post(url, data), expected))
    for action in sorted(CASE_ACTIONS):
        url = reverse("admin:processes_case_action", args=[world.cases["A"].pk, action])
        data = action_data(action, world)
        requests.append((f"POST {url}", lambda url=url, data=data: client.post(url, data), "refused"))
    request = RequestFactory().get("/admin/")
    request.user = auditor
    for model, model_admin in admin.site._registry.items():
        name = f"{model._meta.app_label}_{model._meta.model_name}_changelist"
        changelist = reverse(f"admin:{name}")
        # On a list the auditor may not see, the action is refused with the list (403); elsewhere it
        # runs (an export answers 200) or is refused inside (302 with a message): the snapshot decides.
        expected = "403" if ADMIN[name]["auditor"] == "403" else "any"
        for action in model_admin.get_actions(request):
            data = {
                "action": action,
                "_selected_action": [world.objects[model._meta.label_lower]],
                "index": "0",
            }
            requests.append(
                (
                    f"admin action {action} on {changelist}",
                    lambda u=changelist, d=data: client.post(u, d),
                    expected,
                )
            )
    for (method, path), expected in sorted(writes.items()):
        requests.append(
            (f"{method} {path}", lambda m=method, p=path: api_call(client, m, p, world), expected)
        )

    problems = []
    with isolated():
        events, handoffs = CaseEvent.objects.count(), Handoff.objects.count()
        before = snapshot()
        for what, call, expected in requests:
            response = call()
            if expected == "any":
                ok = response.status_code in (200, 302)
            else:
                ok = matches(expected, response, case_url=case_page(world))
            if not ok:
                problems.append(f"{what}: expected {expected}, got {described(response)}")
            after = snapshot()
            if changed := changed_tables(before, after):
                problems.append(f"{what}: the auditor changed {changed}")
                before = after
        counts = (CaseEvent.objects.count(), Handoff.objects.count())
        if counts != (events, handoffs):
            problems.append(f"(events, handoffs) went from {(events, handoffs)} to {counts}")
    assert len(requests) > 150, "the sweep lost its requests"
    assert not problems, "\n".join(problems)

    # The one exception stays the auditor's own: the preference is created for them, nobody else.
    with isolated():
        add = reverse("admin:processes_notificationpreference_add")
        response = client.post(add, {"kind": Notification.Kind.BREACHED, "email": "on"})
        owners = set(
            NotificationPreference.objects.filter(kind=Notification.Kind.BREACHED).values_list(
                "user__username", flat=True
            )
        )
    assert response.status_code == 302 and owners == {"auditor"}, (described(response), owners)
