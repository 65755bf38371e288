"""Count commands: good and reject units an equipment made in a window, from its counters or an
operator's report; the order they count for is the one named, or the one running on the equipment
at the time (the read models attribute it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from application.commands import Code, Command
from application.handlers import Handles, registry
from application.performance.states import equipment_day
from application.unit_of_work import Scope
from domain.packml import CountSource

Units = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class ReportCounts(Command, frozen=True):
    """Reports good and reject units made in a window ending at `occurred_at` (starting at `since`):
    a machine's counter deltas (rollover and resets already resolved) or an operator's count."""

    equipment_code: Code
    good: Units
    reject: Units = 0
    since: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    source: Literal["machine", "operator"] = "machine"  # a reconciliation is ReconcileCounts
    order_number: Code | None = None


class ReconcileCounts(Command, frozen=True):
    """A supervisor's count of what the equipment made for an order over a window ending at
    `occurred_at` (after a counter fault, or against the pallets on the dock): for that order it
    counts instead of the machine's and the operators' counts, which stay recorded."""

    equipment_code: Code
    order_number: Code
    good: Units
    reject: Units = 0
    since: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class CountsRecorded(msgspec.Struct, frozen=True):
    equipment_code: str
    day: str
    good: str
    reject: str


def _record(scope: Scope, cmd: ReportCounts | ReconcileCounts, source: CountSource) -> CountsRecorded:
    day = equipment_day(scope, cmd.equipment_code)
    day.report_counts(
        good=cmd.good,
        reject=cmd.reject,
        since=cmd.since,
        source=source,
        order_number=cmd.order_number,
        provenance=scope.provenance,
    )
    return CountsRecorded(cmd.equipment_code, day.day.isoformat(), str(cmd.good), str(cmd.reject))


def report_counts(cmd: ReportCounts, scope: Scope) -> CountsRecorded:
    return _record(scope, cmd, CountSource(cmd.source))


def reconcile_counts(cmd: ReconcileCounts, scope: Scope) -> CountsRecorded:
    return _record(scope, cmd, CountSource.RECONCILED)


HANDLERS = registry(
    Handles(ReportCounts, report_counts, CountsRecorded),
    Handles(ReconcileCounts, reconcile_counts, CountsRecorded),
)
