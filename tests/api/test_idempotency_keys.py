"""Idempotency-Key on POSTs, Stripe's semantics: one effect, byte-identical replays, 422 for another
body under the same key, keys per credential, purged after 24 hours."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from processes.api.idempotency import idempotency_keys_purge
from processes.api.tokens import api_token_issue
from processes.models import CaseEvent, IdempotencyKey


def _client(username: str) -> APIClient:
    token = api_token_issue(username=username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.django_db
def test_the_same_key_and_body_replays_the_stored_answer_byte_for_byte(story):
    case = story.open()
    client = _client("call_center_agent")
    url = f"/api/v1/cases/{case.reference}/comments/"

    first = client.post(url, {"text": "已联系客户"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(url, {"text": "已联系客户"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 201
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert CaseEvent.objects.filter(case=case, kind="comment").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(story):
    case = story.open()
    client = _client("call_center_agent")
    url = f"/api/v1/cases/{case.reference}/comments/"
    client.post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    answer = client.post(url, {"text": "二"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert answer.status_code == 422
    assert answer.json()["code"] == "idempotency_key_reused"
    assert CaseEvent.objects.filter(case=case, kind="comment").count() == 1


@pytest.mark.django_db
def test_keys_belong_to_their_credential(story):
    case = story.open()
    url = f"/api/v1/cases/{case.reference}/comments/"
    _client("call_center_agent").post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    answer = _client("call_center_lead").post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert answer.status_code == 201
    assert CaseEvent.objects.filter(case=case, kind="comment").count() == 2


@pytest.mark.django_db
def test_keys_are_purged_after_a_day(story):
    IdempotencyKey.objects.create(
        owner="o", key="old", fingerprint="f", created_at=timezone.now() - timedelta(hours=25)
    )
    IdempotencyKey.objects.create(owner="o", key="new", fingerprint="f")

    assert idempotency_keys_purge() == 1
    assert idempotency_keys_purge() == 0
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_racing_posts_with_one_key_make_one_effect(story):
    case = story.open()
    token = api_token_issue(username="call_center_agent")
    url = f"/api/v1/cases/{case.reference}/comments/"
    answers: list = [None] * 20
    start = threading.Barrier(20)

    def post(n: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        start.wait()
        try:
            answers[n] = client.post(url, {"text": "并发"}, format="json", HTTP_IDEMPOTENCY_KEY="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert CaseEvent.objects.filter(case=case, kind="comment").count() == 1
    statuses = sorted(a.status_code for a in answers)
    bodies = {a.content for a in answers if a.status_code == 201}
    assert set(statuses) <= {201, 409}, statuses
    assert len(bodies) == 1
    assert all(a.json()["code"] == "idempotency_key_in_progress" for a in answers if a.status_code == 409)
    replay = APIClient()
    replay.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert replay.post(url, {"text": "并发"}, format="json", HTTP_IDEMPOTENCY_KEY="race").content in bodies
    changed = replay.post(url, {"text": "改了"}, format="json", HTTP_IDEMPOTENCY_KEY="race")
    assert changed.status_code == 422


@pytest.mark.django_db
def test_unknown_api_paths_answer_json_404_even_in_debug(client, settings):
    settings.DEBUG = True
    answer = client.get("/api/v1/no-such-thing/")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    answer = client.delete("/api/unknown")
    assert answer.status_code == 404 and answer["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_claim_abandoned_by_a_dead_process_frees_the_key(story):
    case = story.open()
    client = _client("call_center_agent")
    url = f"/api/v1/cases/{case.reference}/comments/"
    client.post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-dead")
    IdempotencyKey.objects.filter(key="k-dead").update(
        done=False, created_at=timezone.now() - timedelta(minutes=6)
    )

    assert client.post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-dead").status_code == 409
    assert client.post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-dead").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["k" * 256, "two words", "é-key", "tab\tkey"])
def test_a_key_the_schema_refuses_is_400_naming_the_header(story, key):
    case = story.open()
    answer = _client("call_center_agent").post(
        f"/api/v1/cases/{case.reference}/comments/",
        {"text": "一"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_idempotency_key" and "Idempotency-Key" in answer.json()["fields"]
    assert not case.events.filter(kind="comment").exists()


@pytest.mark.django_db
def test_a_post_to_an_unknown_api_url_is_a_json_404_not_a_csrf_page(org):
    from django.test import Client

    from departments.api_keys import api_key_issue

    key = api_key_issue(username="call_center_agent").key
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")
    answer = client.patch("/api/v1/actions/1000000000000000000/", "{}", content_type="application/json")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"


@pytest.mark.django_db
def test_a_key_older_than_a_day_is_a_new_key_even_before_the_purge(story):
    case = story.open()
    client = _client("call_center_agent")
    url = f"/api/v1/cases/{case.reference}/comments/"
    client.post(url, {"text": "一"}, format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotencyKey.objects.filter(key="k-old").update(created_at=timezone.now() - timedelta(hours=25))

    assert client.post(url, {"text": "二"}, format="json", HTTP_IDEMPOTENCY_KEY="k-old").status_code == 201
    assert CaseEvent.objects.filter(case=case, kind="comment").count() == 2
