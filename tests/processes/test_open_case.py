"""case_open: the reference, the intake handoff with its due times, idempotent intake, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import InvalidInput, PermissionDenied
from processes import services
from processes.models import (
    Case,
    CaseEvent,
    Handoff,
    Notification,
    OutboxEntry,
    ReferenceCounter,
    ServiceProcess,
)

from .support import local


def _nothing_written() -> None:
    assert Case.objects.count() == 0
    assert Handoff.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert OutboxEntry.objects.count() == 0
    assert Notification.objects.count() == 0
    assert not ReferenceCounter.objects.filter(value__gt=0).exists()


def test_opening_a_complaint_hands_it_to_the_intake_department(org, complaint, call_center_agent):
    # Given 01:30 on 1 June in Shanghai, which is still 31 May in UTC
    at = datetime(2026, 5, 31, 17, 30, tzinfo=UTC)

    # When the call center opens a complaint
    case, created = services.case_open(
        process=complaint,
        title="  Card swallowed by ATM  ",
        channel=Case.Channel.PHONE,
        actor=call_center_agent,
        customer_name="张小三",
        customer_phone="13812345678",
        note="customer very upset",
        at=at,
    )

    # Then the reference carries the Shanghai month and the first number of that month
    assert created is True
    case.refresh_from_db()
    assert case.reference == "CMP-202606-000001"
    assert case.title == "Card swallowed by ATM"
    assert case.status == Case.Status.OPEN
    assert case.priority == "normal"
    assert case.created_by == call_center_agent
    assert case.current_stage.code == "INTAKE"
    assert case.current_department.code == "CALL_CENTER"
    # The end-to-end target (56 business hours, normal) runs in the intake's 24×7 calendar
    assert case.due_at == at + timedelta(hours=56)
    # 15 calendar days from the local date of receipt (《银行业保险业消费投诉处理管理办法》)
    assert case.regulatory_deadline == date(2026, 6, 16)
    assert case.regulatory_extensions == 0

    # And one pending intake handoff to the call center with the intake stage's normal targets
    handoff = Handoff.objects.get(case=case)
    assert handoff.status == Handoff.Status.PENDING
    assert handoff.kind == Handoff.Kind.ROUTING
    assert handoff.from_department is None
    assert handoff.to_department.code == "CALL_CENTER"
    assert handoff.to_stage.code == "INTAKE"
    assert handoff.requested_by == call_center_agent
    assert handoff.requested_at == at
    assert handoff.note == "customer very upset"
    assert (handoff.response_target_seconds, handoff.resolution_target_seconds) == (15 * 60, 2 * 3600)
    assert handoff.response_due_at == at + timedelta(minutes=15)
    assert handoff.resolution_due_at == at + timedelta(hours=2)

    # And the timeline says so
    created_event, requested = CaseEvent.objects.filter(case=case).order_by("pk")
    assert created_event.kind == CaseEvent.Kind.CREATED
    assert created_event.actor == call_center_agent
    assert created_event.department.code == "CALL_CENTER"
    assert created_event.created_at == at
    assert created_event.payload["process"] == "COMPLAINT"
    assert requested.kind == CaseEvent.Kind.HANDOFF_REQUESTED
    assert requested.handoff == handoff
    assert requested.department is None
    assert requested.payload["to_department"] == "CALL_CENTER"
    assert requested.payload["to_stage"] == "INTAKE"
    assert datetime.fromisoformat(requested.payload["response_due_at"]) == handoff.response_due_at


def test_intake_due_times_follow_the_receiving_departments_working_hours(org, compliance_agent):
    # Given a regulator-forwarded complaint, registered by compliance (head-office hours
    # 09:00–12:00 + 13:30–17:30), opened at 16:00 on Friday 5 June 2026
    at = local(2026, 6, 5, 16, 0)

    case, _ = services.case_open(
        process=org.processes["REGULATOR_COMPLAINT"],
        title="Forwarded by the regulator",
        channel=Case.Channel.REGULATOR,
        actor=compliance_agent,
        at=at,
    )

    handoff = Handoff.objects.get(case=case)
    assert case.reference == "REG-202606-000001"
    assert handoff.to_department.code == "COMPLIANCE"
    # 4 business hours: 1.5 h on Friday, 2.5 h on Monday morning
    assert handoff.response_due_at == local(2026, 6, 8, 11, 30)
    # 14 business hours: 1.5 h Friday, 7 h Monday, 5.5 h Tuesday
    assert handoff.resolution_due_at == local(2026, 6, 9, 16, 0)
    # 56 business hours end to end: 1.5 + 7 × 7 + 5.5 → Wednesday 17 June 16:00
    assert case.due_at == local(2026, 6, 17, 16, 0)
    assert case.regulatory_deadline == date(2026, 6, 20)


def test_urgent_priority_copies_the_urgent_targets(org, complaint, call_center_agent):
    at = local(2026, 6, 1, 10, 0)

    case, _ = services.case_open(
        process=complaint, title="Fraud", channel="wechat", priority="urgent", actor=call_center_agent, at=at
    )

    handoff = Handoff.objects.get(case=case)
    assert (handoff.priority, handoff.response_due_at, handoff.resolution_due_at) == (
        "urgent",
        at + timedelta(minutes=5),
        at + timedelta(minutes=30),
    )
    assert case.due_at == at + timedelta(hours=8)


def test_references_count_per_prefix_and_shanghai_month(org, complaint, call_center_agent, compliance_agent):
    def open_(process, actor, at):
        return services.case_open(process=process, title="t", channel="phone", actor=actor, at=at)[0]

    june = local(2026, 6, 30, 23, 59)
    first = open_(complaint, call_center_agent, june)
    second = open_(complaint, call_center_agent, june)
    regulator = open_(org.processes["REGULATOR_COMPLAINT"], compliance_agent, june)
    july = open_(complaint, call_center_agent, local(2026, 7, 1, 0, 0))

    assert [first.reference, second.reference, regulator.reference, july.reference] == [
        "CMP-202606-000001",
        "CMP-202606-000002",
        "REG-202606-000001",
        "CMP-202607-000001",
    ]


def test_same_source_and_external_id_returns_the_existing_case_and_writes_nothing(
    org, complaint, call_center_agent
):
    at = local(2026, 6, 1, 10, 0)
    case, created = services.case_open(
        process=complaint,
        title="From CRM",
        channel="phone",
        actor=call_center_agent,
        source="crm",
        external_id="CRM-42",
        at=at,
    )
    assert created is True
    counts = (
        Case.objects.count(),
        Handoff.objects.count(),
        CaseEvent.objects.count(),
        OutboxEntry.objects.count(),
        Notification.objects.count(),
    )
    assert counts[3] == 1  # the intake department hears of its new handoff
    counter = ReferenceCounter.objects.get().value

    again, created_again = services.case_open(
        process=complaint,
        title="Retried with another title",
        channel="wechat",
        actor=call_center_agent,
        source="crm",
        external_id="CRM-42",
        at=at + timedelta(minutes=5),
    )

    assert created_again is False
    assert again.pk == case.pk
    assert again.title == "From CRM"
    assert (
        Case.objects.count(),
        Handoff.objects.count(),
        CaseEvent.objects.count(),
        OutboxEntry.objects.count(),
        Notification.objects.count(),
    ) == counts
    assert ReferenceCounter.objects.get().value == counter


def test_the_same_external_id_from_another_source_is_another_case(org, complaint, call_center_agent):
    a, _ = services.case_open(
        process=complaint, title="a", channel="phone", actor=call_center_agent, source="crm", external_id="42"
    )
    b, created = services.case_open(
        process=complaint, title="b", channel="phone", actor=call_center_agent, source="app", external_id="42"
    )

    assert created is True
    assert a.pk != b.pk


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"title": "   "}, "title"),
        ({"title": ""}, "title"),
        ({"channel": "fax"}, "channel"),
        ({"priority": "asap"}, "priority"),
        ({"external_id": "CRM-1"}, "source"),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_nothing_written(
    org, complaint, call_center_agent, fields, bad_field
):
    arguments = {"title": "Card swallowed", "channel": "phone", **fields}

    with pytest.raises(InvalidInput) as refused:
        services.case_open(process=complaint, actor=call_center_agent, **arguments)

    assert list(refused.value.extra["fields"]) == [bad_field]
    _nothing_written()


def test_every_bad_field_is_reported_at_once(org, complaint, call_center_agent):
    with pytest.raises(InvalidInput) as refused:
        services.case_open(
            process=complaint,
            title="",
            channel="fax",
            priority="asap",
            external_id="x",
            actor=call_center_agent,
        )

    assert set(refused.value.extra["fields"]) == {"title", "channel", "priority", "source"}
    _nothing_written()


def test_an_inactive_process_takes_no_new_cases(org, complaint, call_center_agent):
    ServiceProcess.objects.filter(pk=complaint.pk).update(is_active=False)
    complaint.refresh_from_db()

    with pytest.raises(InvalidInput) as refused:
        services.case_open(process=complaint, title="t", channel="phone", actor=call_center_agent)

    assert "process" in refused.value.extra["fields"]
    _nothing_written()


def test_a_user_without_the_add_case_right_cannot_open_cases(org, complaint, auditor):
    actor = auditor
    assert not actor.has_perm("processes.add_case")

    with pytest.raises(PermissionDenied) as refused:
        services.case_open(process=complaint, title="t", channel="phone", actor=actor)

    assert refused.value.code == "cannot_open_cases"
    _nothing_written()


def test_a_user_in_no_role_group_cannot_open_cases(org, complaint):
    from tests.factories import UserFactory

    with pytest.raises(PermissionDenied):
        services.case_open(process=complaint, title="t", channel="phone", actor=UserFactory())

    _nothing_written()


def test_the_intake_lookup_is_an_index_search_not_a_scan_of_every_case(org, complaint, call_center_agent):
    """The idempotency check runs on every intake: it must use the (opener, source, external_id) unique
    index, which on SQLite happens only when the query repeats the partial index's condition."""
    with CaptureQueriesContext(connection) as queries:
        services.case_open(
            process=complaint,
            title="a",
            channel="phone",
            actor=call_center_agent,
            source="crm",
            external_id="7",
        )
    lookups = [q["sql"] for q in queries if "external_id" in q["sql"] and q["sql"].startswith("SELECT")]
    assert lookups

    for sql in lookups:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # A handful of rows is cheaper to scan; what matters is that the index can serve.
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}")
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(column) for row in cursor.fetchall() for column in row)
        assert "unique_case_opener_source_external_id" in plan, plan
