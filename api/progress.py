"""A one-line progress bar for long CLI work (rebuilds, benchmarks)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """A one-line progress bar for long CLI work: position, percentage and rate."""

    def __init__(self, label: str, out: TextIO = sys.stderr) -> None:
        self.label = label
        self.out = out
        self.start: int | None = None
        self.began = time.perf_counter()
        self.last_draw = 0.0

    def __call__(self, position: int, end: int) -> None:
        now = time.perf_counter()
        if self.start is None:
            self.start = position
        final = position >= end
        if not final and now - self.last_draw < 0.2:  # noqa: PLR2004 - five redraws a second
            return
        self.last_draw = now
        done, span = position - self.start, max(1, end - self.start)
        filled = min(30, int(30 * done / span))
        rate = done / max(now - self.began, 1e-9)
        self.out.write(
            f"\r{self.label:<14} [{'#' * filled}{'.' * (30 - filled)}] {min(100, 100 * done // span):3d}% "
            f"{position:,}/{end:,} {rate:,.0f} events/s"
        )
        if final:
            self.out.write("\n")
        self.out.flush()
