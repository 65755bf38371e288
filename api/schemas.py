"""HTTP shapes every capability shares: request bodies derived from commands, the command answer,
pages and cursors, quantities, histories. Each resource's own answers live with its routes."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
from litestar.exceptions import ValidationException

from application.commands import Command


def body_of(command: type[Command], name: str, omit: tuple[str, ...] = ()) -> type[msgspec.Struct]:
    """The request body of a command route: the command's fields less its id and the path's fields."""
    fields: list[Any] = []
    for f in msgspec.structs.fields(command):
        if f.name in ("command_id", *omit):
            continue
        if f.default is not msgspec.NODEFAULT:
            fields.append((f.name, f.type, f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, f.type, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, f.type))
    return msgspec.defstruct(name, fields, kw_only=True, forbid_unknown_fields=True, frozen=True, module=__name__)


class CommandAccepted(msgspec.Struct, frozen=True):
    """A command was recorded (or, `replayed`, had been with the same Idempotency-Key)."""

    command_id: str
    position: int | None
    replayed: bool
    resource: str | None
    result: dict[str, str]


class Page(msgspec.Struct, frozen=True):
    """Cursor pagination: pass `next_cursor` as `cursor` for the next page; null means the end."""

    next_cursor: str | None


def encode_cursor(*key: str) -> str:
    """A page's cursor: the key of its last item (one or more columns), opaque to clients."""
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode()


def decode_cursor(cursor: str | None, columns: int = 1) -> list[str] | None:
    """The key a page starts after; a cursor this API did not make is refused as invalid input."""
    if not cursor:
        return None
    try:
        key = msgspec.json.decode(base64.urlsafe_b64decode(cursor.encode()), type=list[str])
    except (ValueError, msgspec.DecodeError):
        key = []
    if len(key) != columns or any("\x00" in part for part in key):
        raise ValidationException(
            detail="invalid cursor",
            extra=[{"key": "cursor", "message": "not a cursor from this API", "source": "query"}],
        )
    return key


def first_key(key: list[str] | None) -> str | None:
    """The single column of a one-column cursor's key."""
    return key[0] if key else None


class QuantityView(msgspec.Struct, frozen=True):
    """An exact amount and its unit; the amount in canonical decimal text ("499.5", "960")."""

    value: str
    unit: str


def decimal_text(value: object) -> str:
    """Canonical decimal text: no exponent, no trailing zeros after the point, no minus zero."""
    number = Decimal(str(value)).normalize()
    text = format(number, "f")
    return "0" if number.is_zero() else text


def quantity(value: object, unit: str | None) -> QuantityView | None:
    return None if value is None or unit is None else QuantityView(decimal_text(value), unit)


class HistoryEntry(msgspec.Struct, frozen=True):
    """One event of a record: what happened, who did it, when, through what, and why."""

    version: int
    event: str
    occurred_at: datetime
    recorded_at: datetime
    actor_id: str
    actor_name: str
    source: str
    command_id: str
    correlation_id: str
    reason: str | None
    details: dict[str, Any]


class History(msgspec.Struct, frozen=True):
    """Every event of one lot, work order or piece of equipment, oldest first."""

    record: str
    key: str
    events: list[HistoryEntry]
