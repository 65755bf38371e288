"""OEE of one equipment over a range, from its timelines, its stops and its counts.

Until the shift calendar arrives, planned busy time (ISO 22400 PBT) is the time in the Production
mode. The classical split of the six big losses is used:

- availability = (PBT - ADOT) / PBT, ADOT being downtime (stops as long as the micro-stop
  threshold or longer);
- performance = sum(ideal cycle time x units) / (PBT - ADOT): minor stops (ADET) and reduced speed
  are performance losses; above 1 where the machine ran faster than its ideal cycle;
- quality = good / (good + reject) (GQ / PQ), each unit weighted by its order's ideal cycle time
  where the orders' cycles differ, so that
- OEE = availability x performance x quality = sum(ideal cycle time x good) / PBT exactly, and the
  fully productive time plus the six losses make up PBT.

ISO 22400-2 element names are given beside them: PBT, ADOT, ADET, APT (time in Execute within
PBT), PQ, GQ, SQ. Units count where their count's window ends, and only units whose order is
known (it gives the ideal cycle time) count toward performance and quality.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from projections.performance.states import Interval
from projections.performance.stops import MICRO_STOP, planned, stops


@dataclass(frozen=True)
class Made:
    """Units counted in the range for one order: good, rejects, and the order's ideal cycle time."""

    good: int
    reject: int
    ideal_cycle_time_s: Decimal


@dataclass(frozen=True)
class Oee:
    """One equipment's OEE and its losses over one range, in minutes and units."""

    pbt: float  # planned busy time
    adot: float  # downtime: stops as long as the micro-stop threshold or longer
    adet: float  # minor stops
    apt: float  # time in Execute within planned time
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


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def oee(
    code: str,
    states: Sequence[Interval],
    modes: Sequence[Interval],
    made: Sequence[Made],
    micro: timedelta = MICRO_STOP,
) -> Oee:
    """The OEE of one equipment from its timelines and its counts over the same range."""
    windows = planned(modes)
    pbt = _minutes(sum((end - start for start, end in windows), timedelta()))
    found = stops(code, states, modes, micro)
    adot = _minutes(sum((s.duration for s in found if not s.minor), timedelta()))
    adet = _minutes(sum((s.duration for s in found if s.minor), timedelta()))
    apt = pbt - adot - adet
    gq, sq = sum(m.good for m in made), sum(m.reject for m in made)
    pq = gq + sq
    ideal = float(sum((m.ideal_cycle_time_s * (m.good + m.reject) for m in made), Decimal(0))) / 60
    ideal_good = float(sum((m.ideal_cycle_time_s * m.good for m in made), Decimal(0))) / 60
    run = pbt - adot
    availability, performance, quality = _ratio(run, pbt), _ratio(ideal, run), _ratio(ideal_good, ideal)
    score = _ratio(ideal_good, pbt)
    losses = {
        "breakdowns": round(adot, 3),  # until stops carry reasons, all downtime counts here
        "setup_and_adjustments": 0.0,  # changeovers are outside planned time (their own mode)
        "minor_stops": round(adet, 3),
        "reduced_speed": round(apt - ideal, 3),  # negative where it ran faster than ideal
        "startup_rejects": 0.0,  # not told apart from production rejects yet
        "production_rejects": round(ideal - ideal_good, 3),
    }
    return Oee(
        round(pbt, 3),
        round(adot, 3),
        round(adet, 3),
        round(apt, 3),
        pq,
        gq,
        sq,
        round(ideal, 3),
        round(ideal_good, 3),
        availability,
        performance,
        quality,
        score,
        losses,
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
