"""Performance's read models: each equipment's state and mode timelines, its counts, the shift
calendars, and the reasons given to stops."""

from __future__ import annotations

from projections.performance.calendar import CalendarProjection
from projections.performance.counts import CountsProjection
from projections.performance.reasons import ReasonsProjection
from projections.performance.states import StatesProjection
from projections.runner import ReadModelProjection

PROJECTIONS: tuple[type[ReadModelProjection], ...] = (
    StatesProjection,
    CountsProjection,
    CalendarProjection,
    ReasonsProjection,
)
