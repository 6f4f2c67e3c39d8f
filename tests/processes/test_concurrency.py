"""Real threads against PostgreSQL: the row locks and unique constraints hold under contention.

Each thread has its own database connection (Django's are per thread) and closes it when done;
a Barrier releases them together so that the calls really overlap.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from core.errors import StateConflict
from processes import services
from processes.models import Case, CaseEvent, Handoff, ReferenceCounter

from .support import local

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AT = local(2026, 6, 1, 10, 0)


@pytest.fixture
def processes(demo_org):
    from processes.demo import seed_processes

    return seed_processes()


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _in_threads(count: int, call) -> list[tuple[str, object]]:
    """Run `call(i)` in `count` threads released together; ("ok", result) or ("error", exception)."""
    barrier = threading.Barrier(count)
    results: list[tuple[str, object]] = [("missing", None)] * count

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", call(i))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _open(process, *, at: datetime = AT, **fields) -> tuple[Case, bool]:
    return services.case_open(
        process=process,
        title="Card swallowed",
        channel="phone",
        actor=_user("call_center_agent"),
        at=at,
        **fields,
    )


def test_twenty_simultaneous_accepts_take_a_handoff_once(processes):
    # Given a pending intake handoff
    case, _ = _open(processes["COMPLAINT"])
    handoff = Handoff.objects.get(case=case)
    usernames = ["call_center_agent", "call_center_lead"]

    # When twenty people of the call center accept it at the same moment
    results = _in_threads(
        20, lambda i: services.handoff_accept(handoff=Handoff(pk=handoff.pk), actor=_user(usernames[i % 2]))
    )

    # Then one succeeds and nineteen are told it is no longer pending
    successes = [value for outcome, value in results if outcome == "ok"]
    failures = [value for outcome, value in results if outcome == "error"]
    assert len(successes) == 1
    assert len(failures) == 19
    assert all(isinstance(exc, StateConflict) and exc.code == "handoff_not_pending" for exc in failures), (
        failures
    )
    # And the handoff was accepted once, by the winner, with one event
    handoff.refresh_from_db()
    assert handoff.status == Handoff.Status.ACCEPTED
    assert handoff.accepted_by_id == successes[0].accepted_by_id
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.HANDOFF_ACCEPTED).count() == 1
    assert Handoff.objects.filter(case=case).count() == 1


def test_two_hundred_simultaneous_openings_get_distinct_references(processes):
    complaint = processes["COMPLAINT"]
    workers, per_worker = 20, 10
    barrier = threading.Barrier(workers)

    def open_ten(worker: int) -> list[str]:
        try:
            barrier.wait(timeout=30)
            return [_open(complaint)[0].reference for _ in range(per_worker)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        batches = list(pool.map(open_ten, range(workers)))

    references = [reference for batch in batches for reference in batch]
    assert len(references) == 200
    assert set(references) == {f"CMP-202606-{n:06d}" for n in range(1, 201)}
    assert Case.objects.count() == 200
    assert ReferenceCounter.objects.get(prefix="CMP", period="202606").value == 200
    assert Handoff.objects.filter(status=Handoff.Status.PENDING).count() == 200


def test_ten_simultaneous_intakes_of_one_external_id_make_one_case(processes):
    complaint = processes["COMPLAINT"]

    results = _in_threads(10, lambda i: _open(complaint, source="crm", external_id="CRM-777"))

    assert [outcome for outcome, _ in results] == ["ok"] * 10, results
    cases = [value for _, value in results]
    assert len({case.pk for case, _ in cases}) == 1
    assert sorted(created for _, created in cases) == [False] * 9 + [True]
    case = Case.objects.get()
    assert (case.source, case.external_id) == ("crm", "CRM-777")
    assert Handoff.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CREATED).count() == 1
