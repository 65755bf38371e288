"""Value objects of the plant: quantities, who did what, and the ISA-95 vocabularies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from domain.errors import InvalidQuantityError, UnitMismatchError


@dataclass(frozen=True)
class Quantity:
    """An exact amount of material in a unit of measure (`kg`, `L`, `ea`)."""

    value: Decimal
    unit: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal):
            object.__setattr__(self, "value", Decimal(str(self.value)))
        if not self.value.is_finite():
            raise InvalidQuantityError(str(self.value), "must be a finite number")
        if not self.unit:
            raise InvalidQuantityError(str(self.value), "needs a unit")

    @classmethod
    def zero(cls, unit: str) -> Quantity:
        return cls(Decimal(0), unit)

    def _same_unit(self, other: Quantity) -> None:
        if other.unit != self.unit:
            raise UnitMismatchError(expected=self.unit, given=other.unit)

    def __add__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.value + other.value, self.unit)

    def __sub__(self, other: Quantity) -> Quantity:
        self._same_unit(other)
        return Quantity(self.value - other.value, self.unit)

    def __lt__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.value < other.value

    def __le__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.value <= other.value

    def __gt__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.value > other.value

    def __ge__(self, other: Quantity) -> bool:
        self._same_unit(other)
        return self.value >= other.value

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return f"{self.value.normalize():f} {self.unit}"

    def is_positive(self) -> bool:
        return self.value > 0


class ActorKind(StrEnum):
    PERSON = "person"
    SERVICE = "service"
    MACHINE = "machine"


class Role(StrEnum):
    """What a principal may do in the plant (the permission table says which route each may call)."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    QUALITY = "quality"
    MAINTENANCE = "maintenance"
    PLANNER = "planner"
    INTEGRATION = "integration"  # an ERP or an OT connector: machine accounts
    AUDITOR = "auditor"  # reads everything and exports the audit trail; writes nothing
    ADMIN = "admin"  # people, roles and keys; no production commands (separation of duties)


# The people whose roles sign in with a second factor unless the plant says otherwise (MES_MFA_ROLES).
MFA_ROLES = frozenset({Role.ADMIN, Role.QUALITY, Role.SUPERVISOR})


@dataclass(frozen=True)
class Actor:
    """An authenticated principal: the person, service or machine a change is attributed to."""

    id: str
    name: str
    kind: ActorKind = ActorKind.PERSON


class Source(StrEnum):
    """The channel a command came in through."""

    API = "api"
    OPCUA = "opcua"
    MODBUS = "modbus"
    ERP = "erp"
    SYSTEM = "system"


@dataclass(frozen=True)
class Provenance:
    """Who caused a change, through which channel, for which command, and when it happened on the floor.

    `occurred_at` is business time (the operator's report or the OT source timestamp); the
    library's `timestamp` on every event is when the change was recorded.
    """

    actor: Actor
    source: Source
    command_id: str
    correlation_id: str
    occurred_at: datetime


class EquipmentLevel(StrEnum):
    """ISA-95 equipment hierarchy levels (B2MML EquipmentElementLevel) that Chronicle models."""

    SITE = "Site"
    AREA = "Area"
    PRODUCTION_LINE = "ProductionLine"
    WORK_CELL = "WorkCell"


PARENT_LEVEL: dict[EquipmentLevel, EquipmentLevel | None] = {
    EquipmentLevel.SITE: None,
    EquipmentLevel.AREA: EquipmentLevel.SITE,
    EquipmentLevel.PRODUCTION_LINE: EquipmentLevel.AREA,
    EquipmentLevel.WORK_CELL: EquipmentLevel.PRODUCTION_LINE,
}


class EquipmentStatus(StrEnum):
    ACTIVE = "Active"
    DECOMMISSIONED = "Decommissioned"


class LotStatus(StrEnum):
    """ISA-95 material lot status."""

    AVAILABLE = "Available"
    QUARANTINE = "Quarantine"
    ON_HOLD = "OnHold"
    CONSUMED = "Consumed"
    SCRAPPED = "Scrapped"


class RequestState(StrEnum):
    """ISA-95 RequestState of a work order."""

    FORECAST = "Forecast"
    RELEASED = "Released"
    RUNNING = "Running"
    HELD = "Held"
    COMPLETED = "Completed"
    CLOSED = "Closed"
    CANCELLED = "Cancelled"


@dataclass(frozen=True)
class BomLine:
    """One component of a bill of materials: how much of a material one unit of product needs."""

    material_code: str
    quantity_per_unit: Decimal
    unit: str


@dataclass(frozen=True)
class Operation:
    """One step of a routing: where it runs and how fast it ideally runs (seconds per unit)."""

    sequence: int
    name: str
    equipment_code: str
    ideal_cycle_time_s: Decimal


@dataclass(frozen=True)
class UnitConversion:
    """`1 unit = factor x base unit` for one material (a case of 24 bottles: `case`, 24)."""

    unit: str
    factor: Decimal


@dataclass(frozen=True)
class LotPortion:
    """How much of one input lot went into an output: a genealogy link.

    `quantity` is None when the output shares inputs already apportioned to an earlier output of
    the same order (nothing was consumed in between)."""

    lot_number: str
    quantity: Quantity | None
