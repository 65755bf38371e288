"""Fakes for ports: only the clock needs one."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.builders import T0


class SteppingClock:
    """A clock that moves one second forward each time it is read."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current
