"""handoff_transfer: the assignee of an accepted handoff, or its department's lead, hands it to another
active member of the same department. The service, what the API and the admin's case page make of it,
who may do it, and two transfers at once."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from core.errors import InvalidInput, PermissionDenied, StateConflict
from departments.models import Department, Membership
from processes import selectors, services
from processes.models import CaseEvent, Handoff
from processes.rules import Action
from processes.timeline_text import event_summary
from tests.api.conftest import assert_error

from .support import open_handoff, snapshot

pytestmark = pytest.mark.django_db

# The permissions matrix (tests/security/permissions) asks these of every role on its case A, accepted
# at the card center by card_center_agent: the assignee, the lead and the quality office may transfer.
PERMISSIONS_MATRIX = {
    "case_actions": """
transfer              ok       ok       404    ok       refused
""",
    "api": """
POST   /api/v1/handoffs/{handoff_id}/transfer/               401   200   200   404   200   403   403
""",
    "form_data": {"transfer": lambda w: {"handoff": w.handoff.pk, "to_user": w.users["lead"].pk}},
    "api_bodies": {
        ("POST", "/api/v1/handoffs/{handoff_id}/transfer/"): lambda w: {"to_user": "card_center_lead"}
    },
}


@pytest.fixture
def _demo_data(demo_org):
    """Seeded for each test here rather than once for the module (tests/processes/conftest.py): the last
    test runs in threads, which see only committed rows, so no module transaction may stay open."""
    from processes.demo import seed_processes

    seed_processes()


def _colleague(username: str = "card_center_agent2", *, active: bool = True):
    """Another member of the card center (the demo has one agent there), in the agent's role groups."""
    users = get_user_model().objects
    colleague = users.create_user(username, password="x", is_staff=True, is_active=active)
    colleague.groups.set(users.get(username="card_center_agent").groups.all())
    Membership.objects.create(
        user=colleague, department=Department.objects.get(code="CARD_CENTER"), role=Membership.Role.MEMBER
    )
    return colleague


def _transfer_events(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind="handoff_transferred"))


# -- the service ------------------------------------------------------------------------------------
def test_the_assignee_hands_the_handoff_to_a_colleague(story, card_center_agent):
    case = story.at_card_center()
    colleague = _colleague()
    at = story.tick()

    handoff = services.handoff_transfer(
        handoff=open_handoff(case), actor=card_center_agent, to_user=colleague, at=at
    )

    handoff.refresh_from_db()
    assert handoff.assignee == colleague
    assert handoff.status == Handoff.Status.ACCEPTED and handoff.accepted_by == card_center_agent
    [event] = _transfer_events(case)
    assert (event.handoff, event.actor, event.department.code, event.created_at) == (
        handoff,
        card_center_agent,
        "CARD_CENTER",
        at,
    )
    assert event.payload == {"from_user": "card_center_agent", "to_user": "card_center_agent2"}
    assert event.get_kind_display() == "handoff transferred" or event.get_kind_display() == "交接已转交"
    with translation.override("zh-hans"):
        assert event_summary(event) == "已由 card_center_agent 转交给 card_center_agent2。"
    with translation.override("en"):
        assert event_summary(event) == "Handed over from card_center_agent to card_center_agent2."


def test_the_lead_hands_anyones_handoff_over_by_username(story, card_center_lead):
    case = story.at_card_center()
    _colleague()

    handoff = services.handoff_transfer(
        handoff=open_handoff(case).pk, actor=card_center_lead, to_user="card_center_agent2", at=story.tick()
    )

    assert handoff.assignee.username == "card_center_agent2"
    assert _transfer_events(case)[0].payload["from_user"] == "card_center_agent"


def test_handing_it_to_its_assignee_changes_nothing(story, card_center_agent):
    case = story.at_card_center()
    before = snapshot(case)

    services.handoff_transfer(handoff=open_handoff(case), actor=card_center_agent, to_user=card_center_agent)

    assert snapshot(case) == before


def test_a_transfer_runs_at_most_six_statements(story, user):
    colleague = _colleague()
    lead = user("card_center_lead")
    lead.has_perm("processes.add_case")  # permissions are cached per user object, as within a request
    # A first change under new configuration loads the calendars and the process: warm them up.
    warm = story.at_card_center()
    services.handoff_transfer(handoff=open_handoff(warm), actor=lead, to_user=colleague, at=story.tick())
    case = story.at_card_center()
    handoff = open_handoff(case)

    with CaptureQueriesContext(connection) as captured:
        services.handoff_transfer(handoff=handoff, actor=lead, to_user=colleague, at=story.tick())

    sql = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].split()[0].upper() not in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    ]
    assert len(sql) <= 6, sql


# -- who may, and in which state ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("call_center_agent", "not_your_department"),  # the handoff waits at the card center
        ("card_center_agent2", "transfer_not_allowed"),  # a colleague cannot take it over
        ("auditor", "not_your_department"),
    ],
)
def test_others_may_not_transfer(story, user, username, code):
    case = story.at_card_center()
    _colleague()
    before = snapshot(case)

    with pytest.raises(PermissionDenied) as refused:
        services.handoff_transfer(
            handoff=open_handoff(case), actor=user(username), to_user="card_center_agent2"
        )

    assert refused.value.code == code
    assert snapshot(case) == before


@pytest.mark.parametrize("target", ["call_center_agent", "inactive_colleague", "nobody"])
def test_the_target_is_an_active_member_of_the_department(story, card_center_agent, target):
    case = story.at_card_center()
    _colleague("inactive_colleague", active=False)
    before = snapshot(case)

    with pytest.raises(InvalidInput) as refused:
        services.handoff_transfer(handoff=open_handoff(case), actor=card_center_agent, to_user=target)

    assert refused.value.code == "assignee_not_member"
    assert list(refused.value.extra["fields"]) == ["to_user"]
    assert snapshot(case) == before


def test_only_an_accepted_handoff_is_transferred(story, card_center_lead):
    case = story.at_card_center(accepted=False)
    before = snapshot(case)

    with pytest.raises(StateConflict) as refused:
        services.handoff_transfer(
            handoff=open_handoff(case), actor=card_center_lead, to_user="card_center_agent"
        )

    assert refused.value.code == "handoff_not_accepted"
    assert snapshot(case) == before


def test_the_transfer_is_offered_exactly_to_those_who_may(story, user):
    accepted = story.at_card_center()
    pending = story.at_card_center(accepted=False)
    _colleague()

    def offered(case, username):
        return Action.TRANSFER in selectors.allowed_actions(user(username), case, open_handoff(case))

    assert offered(accepted, "card_center_agent") and offered(accepted, "card_center_lead")
    assert offered(accepted, "quality_officer")
    assert not offered(accepted, "card_center_agent2") and not offered(accepted, "call_center_agent")
    assert not offered(accepted, "auditor")
    assert not offered(pending, "card_center_lead")


# -- the API --------------------------------------------------------------------------------------------
def _url(handoff: Handoff) -> str:
    return reverse("api:handoff-transfer", args=[handoff.pk])


def test_the_api_transfers_and_answers_the_handoff(story, api):
    case = story.at_card_center()
    _colleague()
    handoff = open_handoff(case)

    answer = api("card_center_agent").post(_url(handoff), {"to_user": "card_center_agent2"}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["assignee"] == "card_center_agent2"
    assert _url(handoff) == f"/api/v1/handoffs/{handoff.pk}/transfer/"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "to_user"),
        ({"to_user": ["card_center_lead"]}, "to_user"),
        ({"to_user": "x" * 151}, "to_user"),
        ({"to_user": "call_center_agent"}, "to_user"),  # not a member of the card center
    ],
)
def test_the_api_says_which_field_is_wrong(story, api, body, field):
    case = story.at_card_center()
    before = snapshot(case)

    answer = api("card_center_agent").post(_url(open_handoff(case)), body, format="json")

    assert field in assert_error(answer, 400)["fields"]
    assert snapshot(case) == before


def test_the_api_refuses_as_the_other_actions_do(story, api):
    case = story.at_card_center()
    pending = story.at_card_center(accepted=False)
    _colleague()
    body = {"to_user": "card_center_lead"}
    handoff = open_handoff(case)

    assert_error(
        api("card_center_agent2").post(_url(handoff), body, format="json"), 403, "transfer_not_allowed"
    )
    assert_error(
        api("call_center_agent").post(_url(handoff), body, format="json"), 403, "not_your_department"
    )
    assert_error(api("risk_agent").post(_url(handoff), body, format="json"), 404)
    assert_error(api("card_center_agent").post("/api/v1/handoffs/999999/transfer/", body, format="json"), 404)
    conflict = api("card_center_lead").post(
        _url(open_handoff(pending)), body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert assert_error(conflict, 409, "handoff_not_accepted")["detail"] == "请先签收该交接单。"


# -- the admin's case page --------------------------------------------------------------------------
def _post(client, case, data):
    url = reverse("admin:processes_case_action", args=[case.pk, "transfer"])
    return client.post(url, {f"transfer-{name}": value for name, value in data.items()})


def test_the_case_page_hands_over_to_a_colleague(story, client, user):
    case = story.at_card_center()
    colleague = _colleague()
    client.force_login(user("card_center_agent"))

    page = client.get(reverse("admin:processes_case_change", args=[case.pk])).content.decode()
    assert 'id="action-transfer"' in page and "card_center_agent2" in page
    answer = _post(client, case, {"handoff": open_handoff(case).pk, "to_user": colleague.pk})

    assert answer.status_code == 302
    assert [m.message for m in get_messages(answer.wsgi_request)] == ["已转交给 card_center_agent2。"]
    assert open_handoff(case).assignee == colleague


def test_the_case_page_refuses_a_colleague_in_the_pages_language(story, client, user):
    case = story.at_card_center()
    _colleague()
    client.force_login(user("card_center_agent2"))
    before = snapshot(case)

    page = client.get(reverse("admin:processes_case_change", args=[case.pk])).content.decode()
    assert 'id="action-transfer"' not in page
    answer = _post(client, case, {"handoff": open_handoff(case).pk, "to_user": user("card_center_lead").pk})

    assert [m.message for m in get_messages(answer.wsgi_request)] == [
        "只有部门负责人或该交接的经办人可以转交。"
    ]
    assert snapshot(case) == before


# -- two transfers at once ------------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_transfers_by_the_assignee_hand_it_over_once(story, user):
    case = story.at_card_center()
    targets = [_colleague("card_center_agent2"), user("card_center_lead")]
    handoff_id = open_handoff(case).pk
    barrier = threading.Barrier(2)
    results: list[tuple[str, object]] = [("missing", None)] * 2

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            actor = get_user_model().objects.get(username="card_center_agent")
            results[i] = (
                "ok",
                services.handoff_transfer(handoff=handoff_id, actor=actor, to_user=targets[i]),
            )
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    done = [i for i, (outcome, _) in enumerate(results) if outcome == "ok"]
    refused = [value for outcome, value in results if outcome == "error"]
    assert len(done) == 1, results
    assert len(refused) == 1 and isinstance(refused[0], PermissionDenied), refused
    assert refused[0].code == "transfer_not_allowed"  # the loser was no longer the assignee
    assert Handoff.objects.get(pk=handoff_id).assignee == targets[done[0]]
    assert len(_transfer_events(case)) == 1
