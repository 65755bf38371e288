"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.runtime import Runtime, build_runtime
from infrastructure.settings import Settings
from tests.fakes import SteppingClock


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def memory_runtime(clock: SteppingClock) -> Iterator[Runtime]:
    """Chronicle on the library's in-memory store: the application without any I/O."""
    runtime = build_runtime(Settings.from_env({"MES_DATABASE_URL": "memory://"}), clock=clock)
    yield runtime
    runtime.close()
