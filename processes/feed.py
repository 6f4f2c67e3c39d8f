"""The change feed: case events in an order that no later commit can insert into.

Every `CaseEvent` carries the id of the transaction that wrote it (`txid`, a column default). A
position in the feed is (txid, event id). A reader first takes the horizon, the oldest transaction
still running (`pg_snapshot_xmin(pg_current_snapshot())`, see `_HORIZON`), then reads only rows whose txid is below
it, in (txid, id) order:

- every transaction below the horizon has ended, so the rows below it are all there is, ever: a
  transaction that commits later has a txid at or above the horizon and so sorts after every
  position handed out until now, however long it stayed open;
- a rolled-back transaction leaves no rows, so gaps are harmless.

So a reader that resumes after its last position never misses a row and never sees one twice. A
transaction held open delays the feed (its rows and everything after it wait for it), it never
reorders it. On SQLite there is one writer at a time and a transaction's rows are not visible before
it commits, so row ids are already in commit order: the horizon is "everything" and txid is 0.

A reader that has itself written in its transaction also sees its own rows (they are visible to it
and to nobody else yet). Pollers never do (a GET writes nothing); tests that read back what they just
wrote in one transaction do, on a database server shared with other transactions.

Positions are handed out as opaque cursors (`encode`/`decode`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery

from processes.models import Case, CaseEvent

Position = tuple[int, int]  # (txid, event id)
START: Position = (0, 0)
_PREFIX = "f1:"


class BadCursor(ValueError):
    pass


def encode(position: Position) -> str:
    raw = f"{_PREFIX}{position[0]}:{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> Position:
    if not cursor:
        return START
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_PREFIX):
            raise BadCursor(cursor)
        txid, event_id = (int(part) for part in raw[len(_PREFIX) :].split(":"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadCursor(cursor) from exc
    if not (0 <= txid < 2**63 and 0 <= event_id < 2**63):
        raise BadCursor(cursor)
    return txid, event_id


# The snapshot's xmin, except that the reader's own transaction does not hold it back (a snapshot's
# in-progress list leaves the reader out; its xmin does not): the oldest other running transaction,
# or else the next transaction id. A reader that writes nothing has no id, and this is its xmin.
_HORIZON = """
    SELECT COALESCE(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x), pg_snapshot_xmax(s)::text::bigint
    ) FROM pg_current_snapshot() AS s
"""


def _window() -> tuple[int | None, int | None]:
    """(horizon, the reader's own transaction id if it has one); (None, None) on SQLite.

    Read before the rows, in a statement of its own: whatever was below the horizon had ended before
    the rows' snapshot was taken, so the read sees all of it."""
    if connection.vendor != "postgresql":
        return None, None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({_HORIZON}), pg_current_xact_id_if_assigned()::text::bigint")
        top, own = cursor.fetchone()
        return int(top), (int(own) if own is not None else None)


def _visible(events: QuerySet[CaseEvent], top: int | None, own: int | None) -> QuerySet[CaseEvent]:
    if top is None:
        return events
    if own is None:
        return events.filter(txid__lt=top)
    return events.filter(Q(txid__lt=top) | Q(txid=own))


def after(position: Position) -> Q:
    txid, event_id = position
    return Q(txid__gt=txid) | Q(txid=txid, id__gt=event_id)


@dataclass
class Page:
    events: list[CaseEvent]
    position: Position  # where the next read starts
    more: bool


def read(events: QuerySet[CaseEvent], *, since: Position, limit: int) -> Page:
    """The next `limit` events of `events` (a queryset, e.g. the caller's scope) after `since`."""
    top, own = _window()
    rows = _visible(events, top, own).filter(after(since))
    page = list(rows.order_by("txid", "id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    position = (page[-1].txid, page[-1].pk) if page else since
    if not more and top is not None:
        # Everything below the horizon has been looked at, also what the scope left out.
        position = max(position, (top, 0))
    return Page(page, position, more)


def changed_cases(
    cases: QuerySet[Case], events: QuerySet[CaseEvent], *, since: Position, limit: int
) -> tuple[list[Case], Position, bool]:
    """Cases of `cases` whose latest visible event lies after `since`, in the order of that event;
    each case once, with its current state. `events` is the events the caller may see."""
    top, own = _window()
    visible = _visible(events, top, own)
    latest = visible.filter(case_id=OuterRef("pk")).order_by("-txid", "-id")
    rows = (
        cases.filter(pk__in=visible.filter(after(since)).values("case_id"))
        .annotate(feed_txid=Subquery(latest.values("txid")[:1]), feed_id=Subquery(latest.values("id")[:1]))
        .filter(Q(feed_txid__gt=since[0]) | Q(feed_txid=since[0], feed_id__gt=since[1]))
        .order_by("feed_txid", "feed_id")
    )
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    position = (page[-1].feed_txid, page[-1].feed_id) if page else since
    if not more and top is not None:
        position = max(position, (top, 0))
    return page, position, more
