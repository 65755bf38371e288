"""ReasonTree: the downtime reasons of one equipment class, Planned / Unplanned > category > reason.

Each reason has a code; a machine's fault codes map onto reasons, so a stop the machine explained
gets its reason without an operator. A tree is defined whole; a new definition replaces the last
for reasons given from then on, while every reason already given keeps the name and category it
was given with (the stop's record holds them).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ReasonTreeError
from domain.ids import reason_tree_id
from domain.values import Provenance


@dataclass(frozen=True)
class Reason:
    """One leaf of the tree: its code and name, its category, whether it is planned, and the
    machine fault codes that mean it."""

    code: str
    name: str
    category: str
    planned: bool
    fault_codes: tuple[str, ...] = ()


class ReasonTree(Aggregate):
    """The downtime reasons of one equipment class."""

    record_name = "reason tree"

    equipment_class: str
    reasons: dict[str, Reason]
    micro_stop_s: int

    @staticmethod
    def create_id(equipment_class: str) -> UUID:
        return reason_tree_id(equipment_class)

    @classmethod
    def define(
        cls, *, equipment_class: str, reasons: tuple[Reason, ...], micro_stop_s: int, provenance: Provenance
    ) -> ReasonTree:
        """The class's first tree, with the class's micro-stop threshold (shorter stops need no reason)."""
        _check(reasons)
        return cls(equipment_class=equipment_class, reasons=reasons, micro_stop_s=micro_stop_s, provenance=provenance)

    class Defined(Aggregate.Created):
        """The class's tree was first defined."""

        equipment_class: str
        reasons: tuple[Reason, ...]
        micro_stop_s: int
        provenance: Provenance

    @event(Defined)
    def __init__(
        self, equipment_class: str, reasons: tuple[Reason, ...], micro_stop_s: int, provenance: Provenance
    ) -> None:
        self.equipment_class = equipment_class
        self.reasons = {r.code: r for r in reasons}
        self.micro_stop_s = micro_stop_s

    def redefine(self, *, reasons: tuple[Reason, ...], micro_stop_s: int, provenance: Provenance) -> None:
        """Replaces the tree for reasons given from now on."""
        _check(reasons)
        self._redefined(
            equipment_class=self.equipment_class, reasons=reasons, micro_stop_s=micro_stop_s, provenance=provenance
        )

    class Redefined(Aggregate.Event):
        """The class's tree was replaced."""

        equipment_class: str
        reasons: tuple[Reason, ...]
        micro_stop_s: int
        provenance: Provenance

    @event(Redefined)
    def _redefined(
        self, equipment_class: str, reasons: tuple[Reason, ...], micro_stop_s: int, provenance: Provenance
    ) -> None:
        self.reasons = {r.code: r for r in reasons}
        self.micro_stop_s = micro_stop_s

    def reason(self, code: str) -> Reason:
        """The reason with this code; refused, naming the codes there are, if the tree has none."""
        found = self.reasons.get(code)
        if found is None:
            known = ", ".join(sorted(self.reasons))
            msg = f"the {self.equipment_class} reason tree has no reason {code!r} (it has {known})"
            raise ReasonTreeError(msg)
        return found


def _check(reasons: tuple[Reason, ...]) -> None:
    if not reasons:
        raise ReasonTreeError("a reason tree needs at least one reason")
    codes = [r.code for r in reasons]
    if len(set(codes)) != len(codes):
        raise ReasonTreeError("each reason of a tree needs a code of its own")
    faults = [f for r in reasons for f in r.fault_codes]
    if len(set(faults)) != len(faults):
        raise ReasonTreeError("a fault code may mean one reason only")
