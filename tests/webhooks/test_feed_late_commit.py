"""The feed misses nothing: a transaction that commits long after a later one is still seen, once.

The late transaction is held open (with its event written) while a later one commits and a poller
follows the documented procedure (GET /api/v1/events/?cursor=…, store `cursor`, repeat); how long it
stays open does not matter, only that the later one committed first, so no 90 s sleep is needed."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from processes import services
from processes.models import CaseEvent

from .conftest import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Poller:
    def __init__(self, user) -> None:
        self.client = APIClient()
        self.client.force_authenticate(user)
        self.cursor = ""
        self.seen: list[int] = []

    def poll(self) -> list[int]:
        got = []
        while True:
            body = self.client.get(f"/api/v1/events/?cursor={self.cursor}&page_size=2").json()
            got += [e["id"] for e in body["results"]]
            self.cursor = body["cursor"]
            if not body["next"]:
                break
        self.seen += got
        return got

    def catch_up(self) -> None:
        """Poll until every event committed so far has been seen (other transactions of the cluster
        may hold the horizon back for a while)."""
        existing = set(CaseEvent.objects.values_list("pk", flat=True))
        assert eventually(lambda: self.poll() is not None and existing <= set(self.seen))


def test_a_late_commit_is_seen_once_after_the_later_one(case_life, user):
    case, other = next(case_life()), next(case_life(external_id="CRM-2"))  # two locks, no waiting
    poller = Poller(user("quality_officer"))
    poller.catch_up()
    written, release, done = threading.Event(), threading.Event(), threading.Event()
    late_event: list[int] = []

    def late_transaction():
        try:
            with transaction.atomic():
                services.case_comment(case=case, actor=user("call_center_agent"), text="slow")
                late_event.append(CaseEvent.objects.filter(case=case, kind="comment").latest("pk").pk)
                written.set()
                release.wait(60)  # stands for 90 s or more: the commit happens after the later one's
        finally:
            connection.close()
            done.set()

    # Given a transaction that has written its event (and so holds its transaction id) but not committed
    thread = threading.Thread(target=late_transaction)
    thread.start()
    assert written.wait(30)
    # When a later transaction writes and commits first
    services.case_comment(case=other, actor=user("call_center_agent"), text="fast")
    fast = CaseEvent.objects.filter(case=other, kind="comment").latest("pk").pk
    # Then the poller sees neither yet: the later one waits behind the open one
    assert poller.poll() == []
    # When the open transaction commits at last
    release.set()
    assert done.wait(30)
    thread.join()
    # Then the next polls see both, the late one first, each once
    got: list[int] = []
    eventually(lambda: got.extend(poller.poll()) or len(got) >= 2)
    assert got == [late_event[0], fast]
    assert poller.poll() == []
    assert sorted(poller.seen) == sorted(set(poller.seen))


def test_a_rolled_back_transaction_leaves_no_gap_that_matters(case_life, user):
    case = next(case_life())
    poller = Poller(user("quality_officer"))
    poller.catch_up()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.case_comment(case=case, actor=user("call_center_agent"), text="gone")
        raise RuntimeError
    services.case_comment(case=case, actor=user("call_center_agent"), text="kept")

    got: list[int] = []
    eventually(lambda: got.extend(poller.poll()) or got)

    assert [CaseEvent.objects.get(pk=pk).payload.get("text") for pk in got] == ["kept"]
