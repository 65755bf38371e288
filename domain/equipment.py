"""Equipment: one unit of the ISA-95 hierarchy, from the site down to a work cell."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import EquipmentDecommissionedError, HierarchyError, ReasonRequiredError
from domain.ids import equipment_id
from domain.values import PARENT_LEVEL, EquipmentLevel, EquipmentStatus, Provenance


class Equipment(Aggregate):
    """A site, area, production line or work cell, registered under its parent."""

    record_name = "equipment"

    code: str
    name: str
    level: EquipmentLevel
    parent_code: str | None
    status: EquipmentStatus
    equipment_class: str | None = None  # its downtime reason tree (ISA-95 equipment class)

    @staticmethod
    def create_id(code: str) -> UUID:
        return equipment_id(code)

    @classmethod
    def register(
        cls,
        *,
        code: str,
        name: str,
        level: EquipmentLevel,
        parent: Equipment | None,
        provenance: Provenance,
    ) -> Equipment:
        """Registers equipment under a parent of the level directly above it (a Site has none)."""
        expected = PARENT_LEVEL[level]
        if expected is None and parent is not None:
            msg = f"a {level} is the top of the hierarchy and has no parent"
            raise HierarchyError(msg)
        if expected is not None:
            if parent is None:
                msg = f"a {level} needs a {expected} as its parent"
                raise HierarchyError(msg)
            if parent.level is not expected:
                msg = f"a {level} belongs under a {expected}, not under {parent.level} {parent.code!r}"
                raise HierarchyError(msg)
            if parent.status is EquipmentStatus.DECOMMISSIONED:
                raise EquipmentDecommissionedError(parent.code)
        return cls(
            code=code,
            name=name,
            level=level,
            parent_code=parent.code if parent else None,
            provenance=provenance,
        )

    class Registered(Aggregate.Created):
        """The equipment was registered under its parent."""

        code: str
        name: str
        level: EquipmentLevel
        parent_code: str | None
        provenance: Provenance

    @event(Registered)
    def __init__(
        self,
        code: str,
        name: str,
        level: EquipmentLevel,
        parent_code: str | None,
        provenance: Provenance,
    ) -> None:
        self.code = code
        self.name = name
        self.level = level
        self.parent_code = parent_code
        self.status = EquipmentStatus.ACTIVE

    def decommission(self, *, reason: str, provenance: Provenance) -> None:
        """Takes the equipment out of service for good; it keeps its history."""
        if not reason.strip():
            raise ReasonRequiredError("decommissioning equipment")
        if self.status is EquipmentStatus.DECOMMISSIONED:
            raise EquipmentDecommissionedError(self.code)
        self._decommissioned(reason=reason, provenance=provenance)

    class Decommissioned(Aggregate.Event):
        """The equipment was taken out of service for good."""

        reason: str
        provenance: Provenance

    @event(Decommissioned)
    def _decommissioned(self, reason: str, provenance: Provenance) -> None:
        self.status = EquipmentStatus.DECOMMISSIONED

    def ensure_in_service(self) -> None:
        if self.status is EquipmentStatus.DECOMMISSIONED:
            raise EquipmentDecommissionedError(self.code)

    def classify(self, equipment_class: str, *, provenance: Provenance) -> None:
        """Puts the equipment in an equipment class (whose reason tree its stops take); no event
        when it is in that class already."""
        self.ensure_in_service()
        if self.equipment_class != equipment_class:
            self._classified(code=self.code, equipment_class=equipment_class, provenance=provenance)

    class Classified(Aggregate.Event):
        """The equipment joined an equipment class (its downtime reasons come from the class's tree)."""

        code: str
        equipment_class: str
        provenance: Provenance

    @event(Classified)
    def _classified(self, code: str, equipment_class: str, provenance: Provenance) -> None:
        self.equipment_class = equipment_class
