"""What a test needs from the machine: under CI=true it must be there, elsewhere its absence skips."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(message: str) -> NoReturn:
    """Fails the test with the message under CI=true (CI installs everything); skips it elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)
