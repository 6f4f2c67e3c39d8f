"""Opening a case: its reference, its intake handoff, and the same external id never opened twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import InvalidInput, PermissionDenied, StateConflict
from departments.models import ConfigStamp
from processes import definitions, locking, writes
from processes.customers import lookup as customer_lookup
from processes.customers import messages as customer_messages
from processes.models import (
    Case,
    CaseEvent,
    CustomerMessage,
    Notification,
    Priority,
    ReferenceCounter,
    ServiceProcess,
)
from processes.services.base import (
    _Change,
    _now,
    _request_handoff,
)

# The state changes of this module (re-exported by processes.services).
__all__ = [
    "case_open",
]

User = AbstractBaseUser
Kind = CaseEvent.Kind
NoticeKind = Notification.Kind


# -- intake ---------------------------------------------------------------------------------------
def _next_reference(
    process: ServiceProcess, at: datetime, repeat: tuple[str, str, datetime] | None = None
) -> tuple[str, int | None, bool]:
    """The next number of the process's prefix and month, the configuration stamp and (given the
    customer's blind index and the start of the process's repeat window) whether the customer had a
    case of this process since then, in one statement (an upsert).

    Outside any transaction of the caller's, the number is taken in a transaction of its own, so
    intakes do not queue on the counter's row lock for the length of theirs. An intake that then
    fails leaves a gap in the numbers; references stay unique."""
    period = timezone.localtime(at).strftime("%Y%m")
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    stamps = connection.ops.quote_name(ConfigStamp._meta.db_table)
    # Table names come from the models, quoted; the values are parameters.
    # Outside a caller's transaction the upsert runs in autocommit, a transaction of one statement
    # (no BEGIN and COMMIT round trips). On PostgreSQL that transaction does not wait for its own
    # WAL flush (synchronous_commit off, for it alone): a crash can lose only increments that no
    # durable case used, because the intake's own commit, which is synchronous, flushes the WAL up
    # to and past this one. Inside a caller's transaction (a batch) the caller's commit decides.
    own = not connection.in_atomic_block
    relaxed = (
        ", set_config('synchronous_commit', 'off', true)" if own and connection.vendor == "postgresql" else ""
    )
    params: list[Any] = [process.reference_prefix, period]
    repeated = "0"
    if repeat is not None:
        repeated, repeat_params = customer_lookup.repeat_exists_sql(process_id=process.pk, keys=repeat)
        params += repeat_params
    sql = (
        f"INSERT INTO {table} (prefix, period, value) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (prefix, period) DO UPDATE SET value = {table}.value + 1 "
        f"RETURNING value, (SELECT value FROM {stamps} WHERE id = 1), {repeated}{relaxed}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        value, stamp, is_repeat = cursor.fetchone()[:3]
    return f"{process.reference_prefix}-{period}-{value:06d}", stamp, bool(is_repeat)


def _existing_intake(actor: User, source: str, external_id: str, process: ServiceProcess) -> Case | None:
    """The case this caller opened with this source + external id. Only the caller's own ids are
    looked at, so the answer never says anything about another caller's cases; the same id sent for
    another process is a conflict with the caller's own case, not that case."""
    if not external_id:
        return None
    existing = locking.intake(actor, source, external_id)
    if existing is not None and existing.process_id != process.pk:
        raise StateConflict(
            f"You opened {existing.reference} with this source and external id in another process.",
            code="external_id_reused",
            extra={"reference": existing.reference},
        )
    return existing


def case_open(
    *,
    process: ServiceProcess,
    title: str,
    channel: str,
    actor: User,
    priority: str = Priority.NORMAL,
    description: str = "",
    customer_id: str = "",
    customer_name: str = "",
    customer_phone: str = "",
    customer_email: str = "",
    source: str = "",
    external_id: str = "",
    note: str = "",
    at: datetime | None = None,
) -> tuple[Case, bool]:
    """Open a case with its intake handoff. Returns (case, created); the same source + external_id
    from the same opener returns the existing case, also when two requests race."""
    at = _now(at)
    if not actor.has_perm("processes.add_case"):
        raise PermissionDenied("You may not open cases.", code="cannot_open_cases")
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = ["A title is required."]
    if channel not in Case.Channel.values:
        errors["channel"] = [f"Unknown channel {channel!r}."]
    if priority not in Priority.values:
        errors["priority"] = [f"Unknown priority {priority!r}."]
    if external_id and not source:
        errors["source"] = ["A source is required with an external id."]
    if not process.is_active:
        errors["process"] = ["This process is not active."]
    keys = customer_lookup.intake_keys(customer_phone=customer_phone, customer_id=customer_id, errors=errors)
    if errors:
        raise InvalidInput("Invalid case.", extra={"fields": errors})
    existing = _existing_intake(actor, source, external_id, process)
    if existing is not None:
        return existing, False
    # A repeat complaint: the same customer in the same process within the process's window, asked in
    # the statement that takes the reference number (no statement of its own on the intake path).
    repeat = None
    if keys and process.repeat_window_days:
        repeat = (keys.phone, keys.customer_id, at - timedelta(days=process.repeat_window_days))
    reference, stamp, is_repeat = _next_reference(process, at, repeat)
    if definitions.definition(process.pk, stamp).initial is None:
        raise InvalidInput(
            f"Process {process.code} has no initial stage.", code="process_without_initial_stage"
        )
    try:
        return _open(
            process=process,
            stamp=stamp,
            reference=reference,
            title=title,
            channel=channel,
            actor=actor,
            priority=priority,
            description=description,
            customer_id=customer_id,
            customer_name=customer_name,
            # Stored as normalised (digits, no country code): what the SMS gateway and the masks expect.
            customer_phone=customer_lookup.normalised_phone(customer_phone),
            customer_email=customer_email.strip(),
            keys=keys,
            repeat_complaint=is_repeat,
            source=source,
            external_id=external_id,
            note=note,
            at=at,
        )
    except IntegrityError:
        # A racing twin with the same source + external_id committed first: this transaction (or
        # savepoint, inside the caller's) is rolled back whole, and the twin is the answer.
        existing = _existing_intake(actor, source, external_id, process)
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def _open(
    *, process: ServiceProcess, reference: str, stamp: int | None, at: datetime, actor: User, **data: Any
) -> tuple[Case, bool]:
    case = Case(
        reference=reference,
        process=process,
        title=data["title"].strip(),
        description=data["description"],
        customer_id=data["customer_id"],
        customer_name=data["customer_name"],
        customer_phone=data["customer_phone"],
        customer_email=data["customer_email"],
        customer_phone_key=data["keys"].phone,
        customer_id_key=data["keys"].customer_id,
        repeat_complaint=data["repeat_complaint"],
        channel=data["channel"],
        priority=data["priority"],
        source=data["source"],
        external_id=data["external_id"],
        regulatory_deadline=(
            timezone.localtime(at).date() + timedelta(days=process.regulatory_days)
            if process.regulatory_days
            else None
        ),
        created_by=actor,
        created_at=at,
        updated_at=at,
    )
    change = _Change(case, at=at, actor=actor, stamp=stamp)
    initial = change.definition.initial
    schedule = change.schedule(initial.department_id)
    case.due_at = schedule.add(at, timedelta(hours=process.e2e_hours(data["priority"])))
    # The intake handoff's stage and department are the case's from its first row.
    case.current_stage, case.current_department = initial, initial.department
    writes.insert([case])
    change.event(
        Kind.CREATED,
        department_id=initial.department_id,
        process=process.code,
        channel=data["channel"],
        priority=data["priority"],
        source=data["source"],
        external_id=data["external_id"],
    )
    _request_handoff(
        change, to_department=initial.department, to_stage=initial, from_handoff=None, note=data["note"]
    )
    change.touched = False  # the INSERT above wrote the case as it is
    if data["repeat_complaint"]:
        change.events[0].payload["repeat_complaint"] = True
    customer_messages.tell(change, CustomerMessage.Kind.INTAKE)
    change.flush()
    return case, True
