"""HTTP shapes: request bodies derived from the commands, and the responses of every route."""

from __future__ import annotations

import base64
from datetime import date, datetime
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


class ConversionView(msgspec.Struct, frozen=True):
    """`1 unit = factor x base unit`, as it is sent when a material is defined."""

    unit: str
    factor: str


class EquipmentView(msgspec.Struct, frozen=True):
    equipment_id: str
    code: str
    name: str
    level: str
    parent_code: str | None
    status: str
    registered_at: datetime | None
    updated_at: datetime | None
    position: int | None


class EquipmentPage(Page, frozen=True):
    items: list[EquipmentView]


class MaterialView(msgspec.Struct, frozen=True):
    material_id: str
    code: str
    name: str
    base_unit: str
    conversions: list[ConversionView]
    defined_at: datetime | None
    position: int | None


class MaterialPage(Page, frozen=True):
    items: list[MaterialView]


class LotView(msgspec.Struct, frozen=True):
    lot_id: str
    lot_number: str
    material_code: str
    quantity: QuantityView
    status: str
    location: str
    expiry: date | None
    supplier_lot: str | None
    origin: str
    order_number: str | None
    hold_reason: str | None
    created_at: datetime | None
    updated_at: datetime | None
    position: int | None


class LotPage(Page, frozen=True):
    items: list[LotView]


class InventoryLine(msgspec.Struct, frozen=True):
    """Stock of one material at one location in one status."""

    material_code: str
    location: str
    status: str
    quantity: QuantityView
    lots: int


class InventoryPage(Page, frozen=True):
    items: list[InventoryLine]


class OperationView(msgspec.Struct, frozen=True):
    sequence: int
    name: str
    equipment_code: str
    ideal_cycle_time_s: str


class MaterialUseView(msgspec.Struct, frozen=True):
    """A bill of materials line (as it was sent) against what the order needs and consumed so far."""

    material_code: str
    quantity_per_unit: str
    unit: str
    required: QuantityView
    consumed: QuantityView


class WorkOrderSummary(msgspec.Struct, frozen=True):
    work_order_id: str
    order_number: str
    product_code: str
    state: str
    planned_quantity: QuantityView
    good_quantity: QuantityView
    scrap_quantity: QuantityView
    hold_reason: str | None
    cancel_reason: str | None
    created_at: datetime | None
    released_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    updated_at: datetime | None
    position: int | None


class WorkOrderView(WorkOrderSummary, frozen=True):
    operations: list[OperationView]
    materials: list[MaterialUseView]


class WorkOrderPage(Page, frozen=True):
    items: list[WorkOrderSummary]


class WipLine(msgspec.Struct, frozen=True):
    """Work in progress on one production line in one state."""

    line_code: str
    state: str
    orders: int
    planned_quantity: QuantityView
    good_quantity: QuantityView


class WipPage(Page, frozen=True):
    items: list[WipLine]


class TraceStep(msgspec.Struct, frozen=True):
    """One lot reached by a trace, and the link it was reached by."""

    lot_number: str
    material_code: str | None
    via_lot: str
    kind: str
    quantity: QuantityView | None
    order_number: str | None
    operation: int | None
    equipment_code: str | None
    actor_name: str
    occurred_at: datetime
    depth: int
    path: list[str]


class TraceNode(msgspec.Struct, frozen=True):
    lot_number: str
    material_code: str | None
    kind: str | None = None
    quantity: QuantityView | None = None
    order_number: str | None = None
    children: list[TraceNode] = []


class Genealogy(msgspec.Struct, frozen=True):
    """A backward trace (what went into the lot) or a forward trace (where it went), every path.

    `truncated` says that some path goes on beyond `max_depth` links: ask again with a larger
    `max_depth`, or use `/genealogy/lots`, which has no limit."""

    lot_number: str
    direction: str
    as_of: datetime | None
    max_depth: int
    truncated: bool
    lots: list[str]
    steps: list[TraceStep]
    tree: TraceNode


class ReachedLot(msgspec.Struct, frozen=True):
    """A lot reached by a trace: its material and how many links away it is (the shortest way)."""

    lot_number: str
    material_code: str | None
    depth: int


class ReachedLots(msgspec.Struct, frozen=True):
    """The lots a trace reaches, each once, however far; forward from a raw lot, the recall list."""

    lot_number: str
    direction: str
    as_of: datetime | None
    count: int
    lots: list[ReachedLot]


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
