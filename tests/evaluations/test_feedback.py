"""POST /api/v1/cases/{reference}/feedback/ and the feedback_record service: idempotent per case and
survey, validated, scoped, and written with its timeline event in one transaction."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from core.errors import InvalidInput, PermissionDenied
from departments.models import Membership
from evaluations import services
from evaluations.models import CustomerFeedback
from processes.models import Case, CaseEvent
from tests.factories import UserFactory

from .support import assert_error

pytestmark = pytest.mark.django_db
OFFICER = "quality_officer"


def url(case: Case) -> str:
    return f"/api/v1/cases/{case.reference}/feedback/"


def events(case: Case) -> int:
    return CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.FEEDBACK_RECEIVED).count()


def test_feedback_is_recorded_with_its_timeline_event(api, demo_story):
    case = demo_story.closed()

    response = api(OFFICER).post(
        url(case), {"survey_id": "S-1", "csat": 4, "nps": 9, "comment": "快", "channel": "sms"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["case"], body["survey_id"], body["csat"], body["nps"], body["channel"]) == (
        case.reference,
        "S-1",
        4,
        9,
        "sms",
    )
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.FEEDBACK_RECEIVED)
    assert event.payload["feedback"] == body["id"]
    assert (event.payload["csat"], event.payload["nps"], event.payload["survey_id"]) == (4, 9, "S-1")


def test_the_same_survey_again_answers_200_with_the_row_recorded_first(api, demo_story):
    case = demo_story.closed()
    first = api(OFFICER).post(url(case), {"survey_id": "S-1", "csat": 5}, format="json")

    again = api(OFFICER).post(url(case), {"survey_id": "S-1", "csat": 5}, format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert CustomerFeedback.objects.filter(case=case).count() == 1
    assert events(case) == 1


def test_the_same_survey_with_other_answers_is_a_conflict_and_changes_nothing(api, demo_story):
    case = demo_story.closed()
    first = api(OFFICER).post(url(case), {"survey_id": "S-1", "csat": 5}, format="json").json()

    response = api(OFFICER).post(url(case), {"survey_id": "S-1", "csat": 1}, format="json")

    body = assert_error(response, 409, "feedback_conflict")
    assert body["feedback"] == first["id"]
    assert CustomerFeedback.objects.get(case=case).csat == 5
    assert events(case) == 1


def test_another_survey_of_the_same_case_is_a_second_answer(api, demo_story):
    case = demo_story.closed()
    api(OFFICER).post(url(case), {"survey_id": "S-1", "csat": 5}, format="json")

    response = api(OFFICER).post(url(case), {"survey_id": "S-2", "nps": 3}, format="json")

    assert response.status_code == 201
    assert events(case) == 2
    listed = api(OFFICER).get(url(case)).json()
    assert [f["survey_id"] for f in listed] == ["S-1", "S-2"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"csat": 4.5}, "csat"),
        ({"csat": "five"}, "csat"),
        ({"nps": 11}, "nps"),
        ({"nps": -1}, "nps"),
        ({}, "non_field_errors"),
        ({"csat": None, "nps": None}, "non_field_errors"),
        ({"csat": 3, "channel": "pigeon"}, "channel"),
        ({"csat": 3, "survey_id": ""}, "survey_id"),
        ({"csat": 3, "responded_at": "2999-01-01T00:00:00+08:00"}, "responded_at"),
        ({"csat": 3, "responded_at": "0517-11-11T23:16:19Z"}, "responded_at"),
    ],
)
def test_out_of_range_or_missing_answers_are_400_and_nothing_is_saved(api, demo_story, payload, field):
    case = demo_story.closed()

    response = api(OFFICER).post(url(case), {"survey_id": "S-1", **payload}, format="json")

    body = assert_error(response, 400)
    assert field in body["fields"], body
    assert not CustomerFeedback.objects.exists()
    assert events(case) == 0


def test_feedback_for_an_unknown_case_is_404(api, org):
    response = api(OFFICER).post(
        "/api/v1/cases/CMP-202611-999999/feedback/", {"survey_id": "S", "csat": 3}, format="json"
    )

    assert_error(response, 404, "not_found")


def test_a_case_outside_the_callers_departments_is_404(api, demo_story, org):
    case = demo_story.closed()
    integration = UserFactory(username="survey-bot")
    integration.user_permissions.add(Permission.objects.get(codename="add_customerfeedback"))
    Membership.objects.create(user=integration, department=org.departments["IT"])

    response = api("survey-bot").post(url(case), {"survey_id": "S", "csat": 3}, format="json")

    assert_error(response, 404)


def test_staff_without_the_permission_get_403(api, demo_story):
    case = demo_story.closed()

    response = api("call_center_agent").post(url(case), {"survey_id": "S", "csat": 3}, format="json")

    assert_error(response, 403, "cannot_record_feedback")
    assert not CustomerFeedback.objects.exists()


def test_the_service_validates_what_the_admin_sends_too(demo_story, user):
    case = demo_story.closed()
    for bad in ({"csat": 9}, {"nps": 10.5}, {"csat": True}, {"nps": "x"}):
        with pytest.raises(InvalidInput):
            services.feedback_record(case=case, actor=user(OFFICER), survey_id="S", **bad)
    with pytest.raises(PermissionDenied):
        services.feedback_record(case=case, actor=user("auditor"), survey_id="S", csat=3)
    assert not CustomerFeedback.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_survey_at_once_record_one_answer(org, user):
    from .support import DemoStory

    case = DemoStory(org, user).closed()
    officer = user(OFFICER)
    results, errors = [], []
    barrier = threading.Barrier(4)

    def deliver():
        try:
            barrier.wait(timeout=10)
            results.append(services.feedback_record(case=case, actor=officer, survey_id="S-X", csat=4)[1])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sorted(results) == [False, False, False, True]
    assert CustomerFeedback.objects.filter(case=case).count() == 1
    assert events(case) == 1
