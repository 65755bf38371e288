"""Performance's read models: each equipment's state and mode timelines, and its counts."""

from __future__ import annotations

from projections.performance.counts import CountsProjection
from projections.performance.states import StatesProjection
from projections.runner import ReadModelProjection

PROJECTIONS: tuple[type[ReadModelProjection], ...] = (StatesProjection, CountsProjection)
