"""MaterialLot: a quantity of one material, traced from receipt or production to consumption."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import (
    IllegalLotTransitionError,
    InsufficientQuantityError,
    InvalidQuantityError,
    LotExpiredError,
    LotNotAvailableError,
    MergeError,
    ReasonRequiredError,
    RequiredValueError,
    UnitMismatchError,
)
from domain.ids import lot_id
from domain.values import LotPortion, LotStatus, Provenance, Quantity

_FINISHED = (LotStatus.CONSUMED, LotStatus.SCRAPPED)


def _require_reason(reason: str, action: str) -> None:
    if not reason.strip():
        raise ReasonRequiredError(action)


def _require_positive(quantity: Quantity) -> None:
    if not quantity.is_positive():
        raise InvalidQuantityError(str(quantity), "must be greater than zero")


def status_after_taking(status: LotStatus, left: Quantity, status_when_empty: LotStatus) -> LotStatus:
    """Taking material out leaves a lot as it was, unless nothing is left: then it is used up."""
    return status if left else status_when_empty


def status_after_release(status: LotStatus, status_before_hold: LotStatus | None) -> LotStatus:
    """Lifting a hold returns a lot to quarantine if it was held there; anything else is available."""
    if status is LotStatus.ON_HOLD and status_before_hold is LotStatus.QUARANTINE:
        return LotStatus.QUARANTINE
    return LotStatus.AVAILABLE


class MaterialLot(Aggregate):
    """A quantity of one material with an identity, a status and a location."""

    record_name = "lot"

    lot_number: str
    material_code: str
    quantity: Quantity
    status: LotStatus
    location: str
    expiry: date | None
    supplier_lot: str | None
    hold_reason: str | None
    status_before_hold: LotStatus | None

    class Received(Aggregate.Created):
        """The lot arrived from a supplier."""

        lot_number: str
        material_code: str
        quantity: Quantity
        location: str
        supplier_lot: str
        expiry: date | None
        quarantined: bool
        provenance: Provenance

    class Produced(Aggregate.Created):
        """The lot was made by a work order operation out of the order's input lots."""

        lot_number: str
        material_code: str
        quantity: Quantity
        location: str
        order_number: str
        operation: int
        equipment_code: str
        inputs: tuple[LotPortion, ...]
        provenance: Provenance

    class CreatedBySplit(Aggregate.Created):
        """The lot was split off another lot, whose status and expiry it keeps."""

        lot_number: str
        material_code: str
        quantity: Quantity
        location: str
        expiry: date | None
        supplier_lot: str | None
        parent_lot: str
        parent_status: LotStatus
        hold_reason: str | None
        status_before_hold: LotStatus | None
        provenance: Provenance

    class CreatedByMerge(Aggregate.Created):
        """The lot was made by pooling whole lots of the same material."""

        lot_number: str
        material_code: str
        quantity: Quantity
        location: str
        expiry: date | None
        sources: tuple[LotPortion, ...]
        provenance: Provenance

    def __init__(
        self,
        *,
        lot_number: str,
        material_code: str,
        quantity: Quantity,
        location: str,
        provenance: Provenance,
        supplier_lot: str | None = None,
        expiry: date | None = None,
        quarantined: bool = False,
        parent_status: LotStatus = LotStatus.AVAILABLE,
        hold_reason: str | None = None,
        status_before_hold: LotStatus | None = None,
        order_number: str | None = None,
        operation: int | None = None,
        equipment_code: str | None = None,
        inputs: tuple[LotPortion, ...] = (),
        parent_lot: str | None = None,
        sources: tuple[LotPortion, ...] = (),
    ) -> None:
        # Each way of creating a lot records some of these; where it came from (the order, the
        # parent, the pooled sources) is the genealogy's, kept in the events, not in the lot's state.
        self.lot_number = lot_number
        self.material_code = material_code
        self.quantity = quantity
        self.location = location
        self.supplier_lot = supplier_lot
        self.expiry = expiry
        self.status = LotStatus.QUARANTINE if quarantined else parent_status
        self.hold_reason = hold_reason
        self.status_before_hold = status_before_hold

    @staticmethod
    def create_id(lot_number: str) -> UUID:
        return lot_id(lot_number)

    @classmethod
    def receive(
        cls,
        *,
        lot_number: str,
        material_code: str,
        quantity: Quantity,
        location: str,
        supplier_lot: str,
        expiry: date | None,
        quarantined: bool = False,
        provenance: Provenance,
    ) -> MaterialLot:
        """Receives a supplier lot, available at once or in quarantine for incoming inspection."""
        _require_positive(quantity)
        return cls._create(
            cls.Received,
            id=lot_id(lot_number),
            lot_number=lot_number,
            material_code=material_code,
            quantity=quantity,
            location=location,
            supplier_lot=supplier_lot,
            expiry=expiry,
            quarantined=quarantined,
            provenance=provenance,
        )

    @classmethod
    def produce(
        cls,
        *,
        lot_number: str,
        material_code: str,
        quantity: Quantity,
        location: str,
        order_number: str,
        operation: int,
        equipment_code: str,
        inputs: Sequence[LotPortion],
        provenance: Provenance,
    ) -> MaterialLot:
        """Creates the output lot of a production report."""
        _require_positive(quantity)
        return cls._create(
            cls.Produced,
            id=lot_id(lot_number),
            lot_number=lot_number,
            material_code=material_code,
            quantity=quantity,
            location=location,
            order_number=order_number,
            operation=operation,
            equipment_code=equipment_code,
            inputs=tuple(inputs),
            provenance=provenance,
        )

    @classmethod
    def merge(
        cls,
        sources: Sequence[MaterialLot],
        *,
        lot_number: str,
        location: str,
        provenance: Provenance,
    ) -> MaterialLot:
        """Pools whole available lots of one material into a new lot; the sources are used up."""
        if len(sources) < 2:  # noqa: PLR2004 - a merge needs two lots by definition
            msg = "a merge needs at least two lots"
            raise MergeError(msg)
        if len({s.lot_number for s in sources}) != len(sources):
            msg = "a lot cannot be merged with itself"
            raise MergeError(msg)
        first = sources[0]
        for source in sources:
            if source.material_code != first.material_code:
                msg = f"lot {source.lot_number!r} is {source.material_code}, not {first.material_code}"
                raise MergeError(msg)
            if source.quantity.unit != first.quantity.unit:
                raise UnitMismatchError(expected=first.quantity.unit, given=source.quantity.unit)
            source.ensure_available()
        total = sum((s.quantity for s in sources[1:]), first.quantity)
        expiries = [s.expiry for s in sources if s.expiry is not None]
        portions = tuple(LotPortion(s.lot_number, s.quantity) for s in sources)
        for source in sources:
            source._merged_into(
                quantity=source.quantity,
                into_lot=lot_number,
                status=source._status_after(source.quantity, LotStatus.CONSUMED),
                provenance=provenance,
            )
        return cls._create(
            cls.CreatedByMerge,
            id=lot_id(lot_number),
            lot_number=lot_number,
            material_code=first.material_code,
            quantity=total,
            location=location,
            expiry=min(expiries) if expiries else None,
            sources=portions,
            provenance=provenance,
        )

    def ensure_available(self) -> None:
        if self.status is not LotStatus.AVAILABLE:
            raise LotNotAvailableError(self.lot_number, self.status)

    def _ensure_quantity(self, quantity: Quantity) -> None:
        if quantity.unit != self.quantity.unit:
            raise UnitMismatchError(expected=self.quantity.unit, given=quantity.unit)
        _require_positive(quantity)
        if quantity > self.quantity:
            raise InsufficientQuantityError(self.lot_number, wanted=quantity, left=self.quantity)

    def consume(
        self,
        quantity: Quantity,
        *,
        order_number: str,
        operation: int,
        equipment_code: str,
        provenance: Provenance,
    ) -> None:
        """Takes material out of the lot into a work order operation."""
        self.ensure_available()
        if self.expiry is not None and provenance.occurred_at.date() > self.expiry:
            raise LotExpiredError(self.lot_number, self.expiry.isoformat())
        self._ensure_quantity(quantity)
        self._consumed(
            quantity=quantity,
            order_number=order_number,
            operation=operation,
            equipment_code=equipment_code,
            status=self._status_after(quantity, LotStatus.CONSUMED),
            provenance=provenance,
        )

    class Consumed(Aggregate.Event):
        """Material was taken from the lot into a work order operation; `status` is the lot's
        status after it (None in events recorded before it was kept)."""

        quantity: Quantity
        order_number: str
        operation: int
        equipment_code: str
        provenance: Provenance
        status: LotStatus | None = None

    @event(Consumed)
    def _consumed(
        self,
        quantity: Quantity,
        order_number: str,
        operation: int,
        equipment_code: str,
        provenance: Provenance,
        status: LotStatus | None = None,
    ) -> None:
        self._take(quantity, status, LotStatus.CONSUMED)

    def _status_after(self, quantity: Quantity, status_when_empty: LotStatus) -> LotStatus:
        """A lot emptied is used up (consumed, or scrapped); one with material left keeps its status."""
        return status_after_taking(self.status, self.quantity - quantity, status_when_empty)

    def _take(self, quantity: Quantity, status: LotStatus | None, status_when_empty: LotStatus) -> None:
        self.quantity = self.quantity - quantity
        # Events recorded before they said the status after them are replayed by the same rule.
        self.status = status or status_after_taking(self.status, self.quantity, status_when_empty)

    def split(self, quantity: Quantity, *, into_lot: str, provenance: Provenance) -> MaterialLot:
        """Splits part of the lot off into a new lot that keeps this lot's status, hold and expiry."""
        if self.status in _FINISHED:
            raise IllegalLotTransitionError(self.lot_number, "split", self.status)
        self._ensure_quantity(quantity)
        if quantity == self.quantity:
            raise InvalidQuantityError(str(quantity), "is the whole lot; a split must leave some behind")
        if into_lot == self.lot_number:
            raise InvalidQuantityError(str(quantity), "cannot be split into the same lot")
        self._split_off(quantity=quantity, into_lot=into_lot, provenance=provenance)
        return type(self)._create(
            self.CreatedBySplit,
            id=lot_id(into_lot),
            lot_number=into_lot,
            material_code=self.material_code,
            quantity=quantity,
            location=self.location,
            expiry=self.expiry,
            supplier_lot=self.supplier_lot,
            parent_lot=self.lot_number,
            parent_status=self.status,
            hold_reason=self.hold_reason,
            status_before_hold=self.status_before_hold,
            provenance=provenance,
        )

    class SplitOff(Aggregate.Event):
        """Part of the lot was split off into a new lot."""

        quantity: Quantity
        into_lot: str
        provenance: Provenance

    @event(SplitOff)
    def _split_off(self, quantity: Quantity, into_lot: str, provenance: Provenance) -> None:
        self.quantity = self.quantity - quantity

    class MergedInto(Aggregate.Event):
        """The whole lot was pooled into a new lot; `status` is the lot's status after it (None in
        events recorded before it was kept)."""

        quantity: Quantity
        into_lot: str
        provenance: Provenance
        status: LotStatus | None = None

    @event(MergedInto)
    def _merged_into(
        self, quantity: Quantity, into_lot: str, provenance: Provenance, status: LotStatus | None = None
    ) -> None:
        self._take(quantity, status, LotStatus.CONSUMED)

    def move(self, *, to_location: str, provenance: Provenance) -> None:
        """Moves the lot to another storage location or line-side buffer."""
        if self.status in _FINISHED:
            raise IllegalLotTransitionError(self.lot_number, "move", self.status)
        if not to_location.strip():
            raise RequiredValueError("a move", "a location")
        if to_location == self.location:
            return
        self._moved(from_location=self.location, to_location=to_location, provenance=provenance)

    class Moved(Aggregate.Event):
        """The lot was moved to another location."""

        from_location: str
        to_location: str
        provenance: Provenance

    @event(Moved)
    def _moved(self, from_location: str, to_location: str, provenance: Provenance) -> None:
        self.location = to_location

    def hold(self, *, reason: str, provenance: Provenance) -> None:
        """Blocks the lot from use (suspected contamination, pending investigation)."""
        _require_reason(reason, "putting a lot on hold")
        if self.status not in (LotStatus.AVAILABLE, LotStatus.QUARANTINE):
            raise IllegalLotTransitionError(self.lot_number, "hold", self.status)
        self._held(reason=reason, provenance=provenance)

    class Held(Aggregate.Event):
        """The lot was blocked from use."""

        reason: str
        provenance: Provenance

    @event(Held)
    def _held(self, reason: str, provenance: Provenance) -> None:
        self.status_before_hold = self.status
        self.status = LotStatus.ON_HOLD
        self.hold_reason = reason

    def release(self, *, reason: str, provenance: Provenance) -> None:
        """Lifts a hold (back to Available, or to Quarantine if it was held there), or releases a
        quarantined lot after inspection."""
        _require_reason(reason, "releasing a lot")
        if self.status not in (LotStatus.ON_HOLD, LotStatus.QUARANTINE):
            raise IllegalLotTransitionError(self.lot_number, "release", self.status)
        self._released(
            reason=reason, status=status_after_release(self.status, self.status_before_hold), provenance=provenance
        )

    class Released(Aggregate.Event):
        """A hold or quarantine was lifted; `status` is where the lot went (None in events recorded
        before it was kept)."""

        reason: str
        provenance: Provenance
        status: LotStatus | None = None

    @event(Released)
    def _released(self, reason: str, provenance: Provenance, status: LotStatus | None = None) -> None:
        # The event says which status the lot went to; events recorded before it did (status None)
        # are replayed by the same rule.
        self.status = status or status_after_release(self.status, self.status_before_hold)
        self.hold_reason = None
        self.status_before_hold = None

    def scrap(self, *, reason: str, quantity: Quantity | None = None, provenance: Provenance) -> None:
        """Writes off the whole lot, or part of it, as waste."""
        _require_reason(reason, "scrapping material")
        if self.status in _FINISHED:
            raise IllegalLotTransitionError(self.lot_number, "scrap", self.status)
        amount = self.quantity if quantity is None else quantity
        self._ensure_quantity(amount)
        self._scrapped(
            quantity=amount,
            reason=reason,
            status=self._status_after(amount, LotStatus.SCRAPPED),
            provenance=provenance,
        )

    class Scrapped(Aggregate.Event):
        """Material of the lot was written off as waste; `status` is the lot's status after it
        (None in events recorded before it was kept)."""

        quantity: Quantity
        reason: str
        provenance: Provenance
        status: LotStatus | None = None

    @event(Scrapped)
    def _scrapped(
        self, quantity: Quantity, reason: str, provenance: Provenance, status: LotStatus | None = None
    ) -> None:
        self._take(quantity, status, LotStatus.SCRAPPED)

    @property
    def is_empty(self) -> bool:
        return self.quantity.value == Decimal(0)
