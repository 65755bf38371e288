"""EquipmentDay: one equipment's PackML states and modes over one UTC day.

A machine changes state thousands of times a day for years; a command on it must cost the same on
the first day as after a million changes. So its record is cut by day: a state change loads (or
finds cached) today's record only, which opens with the state and mode yesterday's closed in.
Observations are facts from the floor, recorded even when the PackML model has no such transition
(flagged, never refused) and placed by their source time; commands are checked against the model.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from datetime import UTC, date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import CountWindowError, IllegalStateCommandError, ReasonTreeError
from domain.ids import equipment_day_id
from domain.packml import COMMANDED, CountSource, EquipmentMode, PackMLCommand, PackMLState, follows
from domain.reason_tree import Reason
from domain.values import Provenance

_AFTER = 1 << 62  # after every recording order: `state_at` counts the changes at the moment itself


def day_key(equipment_code: str, day: date) -> str:
    """The business key of one equipment's day: `FILL-1@2026-11-29`."""
    return f"{equipment_code}@{day.isoformat()}"


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


class EquipmentDay(Aggregate):
    """One equipment's states and modes over one UTC day, opened with yesterday's closing ones."""

    record_name = "equipment day"

    equipment_code: str
    day: date
    # By source time, then in the order recorded (a later report of the same instant wins); the
    # opening state and mode first.
    states: list[tuple[datetime, int, PackMLState]]
    modes: list[tuple[datetime, int, EquipmentMode]]

    @staticmethod
    def create_id(equipment_code: str, day: date | None = None) -> UUID:
        """By the day's business key (`FILL-1@2026-11-29`, as records are found), or by the
        equipment and the day (as the library asks when the record is opened)."""
        return equipment_day_id(equipment_code if day is None else day_key(equipment_code, day))

    @classmethod
    def open(
        cls,
        *,
        equipment_code: str,
        day: date,
        state: PackMLState,
        mode: EquipmentMode,
        provenance: Provenance,
    ) -> EquipmentDay:
        """Opens an equipment's day in the state and mode its previous day closed in."""
        return cls(equipment_code=equipment_code, day=day, state=state, mode=mode, provenance=provenance)

    class Opened(Aggregate.Created):
        """The equipment's day began, in the state and mode the previous day closed in."""

        equipment_code: str
        day: date
        state: PackMLState
        mode: EquipmentMode
        provenance: Provenance

    @event(Opened)
    def __init__(
        self, equipment_code: str, day: date, state: PackMLState, mode: EquipmentMode, provenance: Provenance
    ) -> None:
        self.equipment_code = equipment_code
        self.day = day
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        self.states = [(start, 0, state)]
        self.modes = [(start, 0, mode)]

    @property
    def key(self) -> str:
        return day_key(self.equipment_code, self.day)

    def state_at(self, moment: datetime) -> PackMLState:
        """The state the equipment was in at `moment` (the last change at or before it)."""
        return self.states[max(0, bisect_right(self.states, (moment, _AFTER)) - 1)][2]

    @property
    def closing_state(self) -> PackMLState:
        return self.states[-1][2]

    @property
    def closing_mode(self) -> EquipmentMode:
        return self.modes[-1][2]

    def observe(self, state: PackMLState, *, raw_code: str | None, provenance: Provenance) -> None:
        """Records what the equipment said it was doing at the source's time; a change the PackML
        model has no transition for is recorded and flagged, never refused (the plant already did it)."""
        at = provenance.occurred_at
        in_model = follows(self.state_at(at), state)
        self._observed(
            equipment_code=self.equipment_code, state=state, raw_code=raw_code, in_model=in_model, provenance=provenance
        )

    class StateObserved(Aggregate.Event):
        """The equipment reported a state at its source's time (`in_model`: the PackML model allows it)."""

        equipment_code: str
        state: PackMLState
        raw_code: str | None
        in_model: bool
        provenance: Provenance

    @event(StateObserved)
    def _observed(
        self, equipment_code: str, state: PackMLState, raw_code: str | None, in_model: bool, provenance: Provenance
    ) -> None:
        insort(self.states, (provenance.occurred_at, len(self.states), state))

    def command(self, command: PackMLCommand, *, provenance: Provenance) -> PackMLState:
        """Asks the equipment to act; refused, naming its state, when PackML has no such transition.
        Answers the acting state the command starts (the machine reports the state it ends in)."""
        current = self.state_at(provenance.occurred_at)
        target = COMMANDED.get((current, command))
        if target is None:
            raise IllegalStateCommandError(self.equipment_code, command, current)
        self._commanded(
            equipment_code=self.equipment_code, command=command, from_state=current, state=target, provenance=provenance
        )
        return target

    class StateCommanded(Aggregate.Event):
        """A person commanded the equipment from one state into an acting state."""

        equipment_code: str
        command: PackMLCommand
        from_state: PackMLState
        state: PackMLState
        provenance: Provenance

    @event(StateCommanded)
    def _commanded(
        self,
        equipment_code: str,
        command: PackMLCommand,
        from_state: PackMLState,
        state: PackMLState,
        provenance: Provenance,
    ) -> None:
        insort(self.states, (provenance.occurred_at, len(self.states), state))

    def report_counts(
        self,
        *,
        good: int,
        reject: int,
        since: datetime | None,
        source: CountSource,
        order_number: str | None,
        provenance: Provenance,
    ) -> None:
        """Records what the equipment made in a window ending at the business time: good and reject
        units (a machine's counter deltas, or an operator's report), for an order if it is named."""
        if since is not None and since >= provenance.occurred_at:
            msg = f"a count's window must start before it ends ({since.isoformat()} is not)"
            raise CountWindowError(msg)
        self._counted(
            equipment_code=self.equipment_code,
            good=good,
            reject=reject,
            since=since,
            source=source,
            order_number=order_number,
            provenance=provenance,
        )

    class CountsReported(Aggregate.Event):
        """Good and reject units made in a window ending at the business time (`since`: its start)."""

        equipment_code: str
        good: int
        reject: int
        since: datetime | None
        source: CountSource
        order_number: str | None
        provenance: Provenance

    @event(CountsReported)
    def _counted(
        self,
        equipment_code: str,
        good: int,
        reject: int,
        since: datetime | None,
        source: CountSource,
        order_number: str | None,
        provenance: Provenance,
    ) -> None:
        pass  # counts shape no decision of this record: the read models add them up

    def set_mode(self, mode: EquipmentMode, *, provenance: Provenance) -> None:
        """Sets what the equipment should be doing from the given time (it decides whether time
        counts toward OEE)."""
        self._mode_set(equipment_code=self.equipment_code, mode=mode, provenance=provenance)

    class ModeSet(Aggregate.Event):
        """The equipment's mode changed (Production, Maintenance, Changeover, NotScheduled, Manual)."""

        equipment_code: str
        mode: EquipmentMode
        provenance: Provenance

    @event(ModeSet)
    def _mode_set(self, equipment_code: str, mode: EquipmentMode, provenance: Provenance) -> None:
        insort(self.modes, (provenance.occurred_at, len(self.modes), mode))

    def _stopped_at(self, moment: datetime, what: str) -> None:
        """Refuses a moment the equipment was in Execute at: there is no stop to explain or split."""
        if self.state_at(moment) is PackMLState.EXECUTE:
            msg = f"equipment {self.equipment_code!r} was in Execute at {moment.isoformat()}: no stop to {what}"
            raise ReasonTreeError(msg)

    def assign_reason(self, at: datetime, reason: Reason, *, note: str | None, provenance: Provenance) -> None:
        """Gives the stop running at `at` (or the piece of it an operator split off) a reason; a
        later reason re-classifies it, the earlier one stays in the record."""
        self._stopped_at(at, "give a reason")
        self._reason_assigned(
            equipment_code=self.equipment_code, at=at, reason=reason, note=note, provenance=provenance
        )

    class StopReasonAssigned(Aggregate.Event):
        """The stop running at `at` has this reason (as the tree defined it then)."""

        equipment_code: str
        at: datetime
        reason: Reason
        note: str | None
        provenance: Provenance

    @event(StopReasonAssigned)
    def _reason_assigned(
        self, equipment_code: str, at: datetime, reason: Reason, note: str | None, provenance: Provenance
    ) -> None:
        pass  # the read models join reasons to the stops they fall in

    def split_stop(self, at: datetime, *, provenance: Provenance) -> None:
        """Cuts the stop running at `at` in two there (a breakdown, then waiting for material): each
        piece then takes a reason of its own."""
        self._stopped_at(at, "split")
        self._stop_split(equipment_code=self.equipment_code, at=at, provenance=provenance)

    class StopSplit(Aggregate.Event):
        """The stop running at `at` is two stops from now on, cut at `at`."""

        equipment_code: str
        at: datetime
        provenance: Provenance

    @event(StopSplit)
    def _stop_split(self, equipment_code: str, at: datetime, provenance: Provenance) -> None:
        pass  # as above
