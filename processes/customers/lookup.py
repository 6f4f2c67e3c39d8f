"""Finding a customer's cases: exact match on the blind index, within the viewer's scope, every lookup
written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When

from core.errors import InvalidInput
from departments.audit import audit_record
from departments.models import AuditEntry
from processes import policy
from processes.customers import crypto
from processes.models import Case

OPEN_STATUSES = (Case.Status.OPEN, Case.Status.IN_PROGRESS)


@dataclass(frozen=True)
class CustomerKeys:
    phone: str = ""
    customer_id: str = ""

    def __bool__(self) -> bool:
        return bool(self.phone or self.customer_id)

    def q(self, prefix: str = "") -> Q:
        """Cases of this customer: the same phone or the same customer number."""
        q = Q()
        if self.phone:
            q |= Q(**{f"{prefix}customer_phone_key": self.phone})
        if self.customer_id:
            q |= Q(**{f"{prefix}customer_id_key": self.customer_id})
        return q


def intake_keys(*, customer_phone: str, customer_id: str, errors: dict[str, list[str]]) -> CustomerKeys:
    """The blind index of what an intake was given; a malformed value is a field error."""
    keys = {}
    for field, make, value in (
        ("customer_phone", crypto.phone_key, customer_phone),
        ("customer_id", crypto.customer_id_key, customer_id),
    ):
        try:
            keys[field] = make(value.strip()) if value and value.strip() else ""
        except crypto.Malformed as exc:
            errors[field] = [str(exc)]
            keys[field] = ""
    return CustomerKeys(phone=keys["customer_phone"], customer_id=keys["customer_id"])


def normalised_phone(raw: str) -> str:
    """The phone as stored: normalised when it is one (intake has refused it otherwise)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return crypto.normalise_phone(raw)
    except crypto.Malformed:
        return raw


def lookup_keys(*, phone: str | None = None, customer_id: str | None = None) -> CustomerKeys:
    """The blind index of a lookup; InvalidInput (400, with the field's message) when malformed."""
    errors: dict[str, list[str]] = {}
    keys = intake_keys(customer_phone=phone or "", customer_id=customer_id or "", errors=errors)
    if errors:
        raise InvalidInput(
            "Invalid customer lookup.", code="invalid_customer_lookup", extra={"fields": errors}
        )
    return keys


def filter_customer(cases: QuerySet[Case], keys: CustomerKeys) -> QuerySet[Case]:
    """Both keys given: cases matching both (a phone and a number that must belong together)."""
    if keys.phone:
        cases = cases.filter(customer_phone_key=keys.phone)
    if keys.customer_id:
        cases = cases.filter(customer_id_key=keys.customer_id)
    return cases


def audit_lookup(*, user, request=None, keys: CustomerKeys, via: str, found: int) -> None:
    """Every lookup is recorded: who looked for which customer (the blind index, never the number)."""
    audit_record(
        kind=AuditEntry.Kind.CUSTOMER_LOOKUP,
        request=request,
        user=user if getattr(user, "is_authenticated", False) else None,
        object_type="customer",
        object_id=(keys.phone or keys.customer_id)[:16],
        detail={"via": via, "phone": bool(keys.phone), "customer_id": bool(keys.customer_id), "found": found},
    )


@dataclass(frozen=True)
class HistoryRow:
    id: int
    reference: str
    title: str
    status: str
    status_label: str
    is_open: bool
    department: str
    process: str
    due_at: datetime | None
    created_at: datetime
    repeat_complaint: bool


def customer_history(
    *, user, keys: CustomerKeys, exclude_case_id: int | None = None, limit: int = 20
) -> list[HistoryRow]:
    """The customer's cases within the viewer's scope, open ones first, newest first; one query."""
    if not keys:
        return []
    from processes.selectors import localized_name

    rows = (
        policy.visible_cases(user)
        .filter(keys.q())
        .exclude(pk=exclude_case_id)
        .select_related("process", "current_department")
        .annotate(
            open_first=When_(
                When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("open_first", "-created_at", "-pk")
        .only(
            "reference",
            "title",
            "status",
            "due_at",
            "created_at",
            "repeat_complaint",
            "process__name",
            "process__name_en",
            "current_department__name",
            "current_department__name_en",
        )[:limit]
    )
    return [
        HistoryRow(
            id=c.pk,
            reference=c.reference,
            title=c.title,
            status=c.status,
            status_label=str(c.get_status_display()),
            is_open=c.status in OPEN_STATUSES,
            department=localized_name(c.current_department) if c.current_department else "",
            process=localized_name(c.process),
            due_at=c.due_at,
            created_at=c.created_at,
            repeat_complaint=c.repeat_complaint,
        )
        for c in rows
    ]


def case_keys(case: Case) -> CustomerKeys:
    return CustomerKeys(phone=case.customer_phone_key, customer_id=case.customer_id_key)


def repeat_exists_sql(*, process_id: int, keys: tuple[str, str, datetime]) -> tuple[str, list]:
    """SQL (and its parameters) answering whether a case of this customer and process was opened
    since the given time; a column of the intake's first statement (processes.services.intake._next_reference)."""
    from django.db import connection

    qn = connection.ops.quote_name
    phone, customer_id, since = keys
    since = connection.ops.adapt_datetimefield_value(since)
    # One EXISTS per key, so that each is an index lookup on its blind index. `+process_id` keeps the
    # planner off the process's own index: SQLite otherwise walks every case of the process (one
    # OR of the two keys, or the process index, made each intake O(cases) and seeding quadratic).
    table = qn(Case._meta.db_table)
    checks, params = [], []
    for column, value in (("customer_phone_key", phone), ("customer_id_key", customer_id)):
        if value:
            checks.append(
                f"EXISTS (SELECT 1 FROM {table} WHERE {qn(column)} = %s "  # noqa: S608
                f"AND +{qn('process_id')} = %s AND {qn('created_at')} >= %s)"
            )
            params += [value, process_id, since]
    if not checks:
        return "0", []
    return "(" + " OR ".join(checks) + ")", params
