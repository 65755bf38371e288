"""`mes demo`, the README's first command: a shift through the API, and a second run all replays."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import free_port

DEMO_TIMEOUT_S = 300


def demo(folder: Path) -> str:
    """Runs `mes demo --no-serve` in `folder` (its SQLite store under ./var); its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "api.cli", "demo", "--no-serve", "--port", str(free_port())],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_the_demo_runs_a_shift_and_a_second_run_records_nothing_twice(tmp_path: Path) -> None:
    first = demo(tmp_path)
    second = demo(tmp_path)

    assert "What went into pallet PAL-0001" in first
    assert "<- SUG-24-0117    SUGAR        merge          200 kg" in first
    assert "WO-FILL-001    COLA-BTL   Closed         4800     15" in first
    assert "nothing recorded twice" in second
    assert (tmp_path / "var" / "chronicle.db").exists()
