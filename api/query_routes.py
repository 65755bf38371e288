"""What every query route shares: paging, read-your-writes, quantities, histories, documented problems.

Query routes read views (never aggregates, histories and time travel aside) through the
`ReadModels` and `Chronicle` that litestar injects; each capability declares its own routes
beside its commands (`api/traceability/lots.py`, ...).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from eventsourcing.domain import Aggregate
from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter

from api.problems import error_responses
from api.schemas import History, HistoryEntry, decimal_text, encode_cursor, quantity
from application.commands import CODE_PATTERN
from application.service import Chronicle
from application.unit_of_work import record_name
from domain.errors import NotFoundError
from projections.status import ReadModels
from projections.store import Row

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Most items in one page.")]
Cursor = Annotated[str | None, QueryParameter(max_length=400, description="`next_cursor` of the previous page.")]
MinPosition = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        description="Read-your-writes: wait (up to a few seconds) until the read model has reached this position "
        "(a command's answer gives it); 503 if it has not.",
    ),
]
KeyFilter = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, pattern=CODE_PATTERN, description="A business key to match."),
]
# An RFC 3339 date-time, stated as the format (a pattern cannot say which days a month has).
DATE_TIME = {"format": "date-time"}


# A date-time query parameter, taken as ISO 8601 text only (a bare number is not a time): read it
# with `moment_of`.
Moment = Annotated[
    str | None,
    QueryParameter(max_length=40, schema_extra=DATE_TIME, description="RFC 3339 date-time; UTC without an offset"),
]


def moment_of(text: str | None, name: str) -> datetime | None:
    """The time a `Moment` parameter names (UTC when it carries no offset); 422 naming it if none."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise invalid_query(name, "is not a date-time (ISO 8601)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def invalid_query(name: str, message: str) -> ValidationException:
    """A 422 naming a query parameter, as the API names any invalid field."""
    return ValidationException(
        detail=f"invalid value for {name}", extra=[{"key": name, "message": message, "source": "query"}]
    )


Views = NamedDependency[ReadModels]
Store = NamedDependency[Chronicle]
QUERY_PROBLEMS = error_responses(400, 401, 403, 404, 422, 429, 503)
_PROVENANCE_FIELDS = {"provenance", "reason", "timestamp", "originator_id", "originator_version", "originator_topic"}


def query(path: str, **options: Any) -> get:
    """A GET route documenting the problems every query may answer."""
    return get(path, responses=QUERY_PROBLEMS, **options)


def next_cursor(rows: list[Row], limit: int, *key: str) -> str | None:
    """The cursor of the next page: the last row's key, when the page is full."""
    return encode_cursor(*(str(rows[-1][k]) for k in key)) if len(rows) == limit else None


def convert(row: Row, kind: type[Any]) -> Any:
    return msgspec.convert(row, type=kind, strict=False)


def with_quantities(row: Row, unit: str, *names: str) -> Row:
    """The row with each named amount as a {value, unit} quantity in canonical decimal text."""
    return {**row, **{name: quantity(row[name], row[unit]) for name in names}}


async def history(chronicle: Chronicle, kind: type[Aggregate], key: str) -> History:
    """Every event of one record, read from the event store (the record itself, not a view)."""
    events = await asyncio.to_thread(chronicle.history, kind.create_id(key))
    if not events or type(events[0]).__qualname__.split(".")[0] != kind.__name__:
        raise NotFoundError(record_name(kind), key)
    return History(record=record_name(kind), key=key, events=[_history_entry(e) for e in events])


def _history_entry(event: Any) -> HistoryEntry:
    p = event.provenance
    details = {k: v for k, v in vars(event).items() if k not in _PROVENANCE_FIELDS}
    return HistoryEntry(
        version=event.originator_version,
        event=type(event).__name__,
        occurred_at=p.occurred_at,
        recorded_at=event.timestamp,
        actor_id=p.actor.id,
        actor_name=p.actor.name,
        source=str(p.source),
        command_id=p.command_id,
        correlation_id=p.correlation_id,
        reason=getattr(event, "reason", None),
        details=_canonical(msgspec.to_builtins(details, builtin_types=(Decimal,))),
    )


def _canonical(value: Any) -> Any:
    """Builtins with every decimal in canonical text, as every other answer gives them."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value
