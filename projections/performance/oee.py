"""OEE of one equipment over a range, from its planned busy time, its stops and its counts.

ISO 22400-2 elements, in minutes: POT planned operation time (the calendar's shifts less breaks
and non-working days; every minute without a calendar); PBT planned busy time (POT in a mode that
counts, less planned downtime); PDOT = POT - PBT; AUST setup time (the Changeover mode); ADOT
downtime (stops as long as the micro-stop threshold or longer); ADET minor stops; APT time in
Execute within PBT. The classical split of the six big losses:

- availability = (PBT - AUST - ADOT) / PBT (run time over planned busy time);
- performance = sum(ideal cycle time x units) / run time: minor stops and reduced speed are its
  losses; above 1 only where the units would take longer at the ideal cycle than the machine ran;
- quality = GQ / PQ, each unit weighted by its order's ideal cycle time where the orders' cycles
  differ, so that
- OEE = availability x performance x quality = sum(ideal cycle time x good) / PBT exactly, and the
  fully productive time plus the six losses make up PBT.

Breakdowns are downtime without a planned reason; setup and adjustments are AUST plus downtime with
a planned reason. MTBF is run time per breakdown begun in the range, MTTR breakdown time per
breakdown. Units count where their count's window ends, and only units whose order is known (it
gives the ideal cycle time) count toward performance and quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from math import floor
from typing import NamedTuple

from domain.packml import EquipmentMode
from domain.shift_calendar import Window
from projections.performance.stops import Piece, Stop


@dataclass(frozen=True)
class Made:
    """Units counted in the range for one order: good, rejects, and the order's ideal cycle time."""

    good: int
    reject: int
    ideal_cycle_time_s: Decimal


class Oee(NamedTuple):  # a year of hours makes 8,784 of them: a tuple is quick to make and to copy
    """One equipment's OEE and its losses over one range, in minutes and units."""

    pot: float  # planned operation time
    pdot: float  # planned down time: POT outside PBT
    pbt: float  # planned busy time
    aust: float  # setup: the Changeover mode
    adot: float  # downtime: stops as long as the micro-stop threshold or longer
    adet: float  # minor stops
    apt: float  # time in Execute within planned busy time
    pq: int  # produced units (good + reject) of known orders
    gq: int
    sq: int
    ideal_minutes: float  # the time the produced units would take at their ideal cycle
    productive_minutes: float  # the same for the good units: fully productive time
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    losses: dict[str, float]  # the six big losses, in minutes
    breakdowns: int  # breakdowns begun in the range
    mtbf_minutes: float | None
    mttr_minutes: float | None


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _sum(spans: Sequence[Piece | Stop | Window]) -> float:
    return _minutes(sum((s.end - s.start for s in spans), timedelta()))


@dataclass(slots=True)
class Sums:
    """What a stretch of one equipment's time adds up to: in seconds, planned busy time, setup,
    breakdowns, downtime with a planned reason and minor stops; the breakdowns begun in it; and its
    counted units, with the seconds they would take at their ideal cycle (all and good ones)."""

    pbt_s: float = 0.0
    aust_s: float = 0.0
    down_s: float = 0.0
    planned_down_s: float = 0.0
    minor_s: float = 0.0
    breakdowns: int = 0
    gq: int = 0
    sq: int = 0
    ideal_s: float = 0.0
    ideal_good_s: float = 0.0

    def add(self, o: Sums) -> None:
        self.pbt_s += o.pbt_s
        self.aust_s += o.aust_s
        self.down_s += o.down_s
        self.planned_down_s += o.planned_down_s
        self.minor_s += o.minor_s
        self.breakdowns += o.breakdowns
        self.gq += o.gq
        self.sq += o.sq
        self.ideal_s += o.ideal_s
        self.ideal_good_s += o.ideal_good_s

    def count(self, good: int, reject: int, ideal_cycle_time_s: float) -> None:
        """Adds units made at an order's ideal cycle time."""
        self.gq += good
        self.sq += reject
        self.ideal_s += ideal_cycle_time_s * (good + reject)
        self.ideal_good_s += ideal_cycle_time_s * good


def sums_of(pieces: Sequence[Piece], found: Sequence[Stop], made: Sequence[Made] = ()) -> Sums:
    """The sums of planned busy time by mode, of stops and of units, all within one range."""
    seconds = 60.0
    sums = Sums(
        pbt_s=_sum(pieces) * seconds,
        aust_s=_sum([p for p in pieces if p.mode == EquipmentMode.CHANGEOVER]) * seconds,
        down_s=_sum([s for s in found if s.unplanned]) * seconds,
        planned_down_s=_sum([s for s in found if not s.minor and not s.unplanned]) * seconds,
        minor_s=_sum([s for s in found if s.minor]) * seconds,
        breakdowns=sum(1 for s in found if s.unplanned and s.first),
    )
    for m in made:
        sums.count(m.good, m.reject, float(m.ideal_cycle_time_s))
    return sums


def oee(pot: float, pieces: Sequence[Piece], found: Sequence[Stop], made: Sequence[Made]) -> Oee:
    """The OEE of one equipment over one range: its planned operation time, its planned busy time
    by mode, its stops and its counts, all within that range."""
    return from_sums(pot, sums_of(pieces, found, made))


def _r3(x: float) -> float:
    """`x` to three places (round() to a number of places is slow, and a year of hours needs 175,000)."""
    return floor(x * 1000 + 0.5) / 1000


def _ratio(part: float, whole: float) -> float | None:
    return floor(part / whole * 10_000 + 0.5) / 10_000 if whole > 0 else None


def from_sums(pot: float, sums: Sums) -> Oee:
    """The OEE over one range from its planned operation time (minutes) and its sums."""
    pbt, aust, breakdown = sums.pbt_s / 60, sums.aust_s / 60, sums.down_s / 60
    adot = (sums.down_s + sums.planned_down_s) / 60
    adet = sums.minor_s / 60
    apt = pbt - aust - adot - adet
    ideal, ideal_good = sums.ideal_s / 60, sums.ideal_good_s / 60
    run = pbt - aust - adot
    failures = sums.breakdowns
    losses = {
        "breakdowns": _r3(breakdown),
        "setup_and_adjustments": _r3(aust + adot - breakdown),
        "minor_stops": _r3(adet),
        "reduced_speed": _r3(apt - ideal),  # negative where it ran faster than ideal
        "startup_rejects": 0.0,  # not told apart from production rejects yet
        "production_rejects": _r3(ideal - ideal_good),
    }
    return Oee(
        _r3(pot),
        _r3(pot - pbt),
        _r3(pbt),
        _r3(aust),
        _r3(adot),
        _r3(adet),
        _r3(apt),
        sums.gq + sums.sq,
        sums.gq,
        sums.sq,
        _r3(ideal),
        _r3(ideal_good),
        _ratio(run, pbt),
        _ratio(ideal, run),
        _ratio(ideal_good, ideal),
        _ratio(ideal_good, pbt),
        losses,
        failures,
        _r3(run / failures) if failures else None,
        _r3(breakdown / failures) if failures else None,
    )


def buckets(since: datetime, until: datetime, size: timedelta | None) -> list[tuple[datetime, datetime]]:
    """The range cut into buckets of `size` (aligned to the range's start); one bucket if None."""
    if size is None:
        return [(since, until)]
    cuts, at = [], since
    while at < until:
        cuts.append((at, min(at + size, until)))
        at += size
    return cuts
