"""`mes demo`, the README's first command: a shift through the API, and a second run all replays."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.demo import DemoError, one_sender, run_shift
from infrastructure.migrations import migrate
from infrastructure.settings import Settings
from tests.accounts import bearer, provision_machine
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
    # Each step is sent by the account whose role it is, signed in over HTTP.
    assert "+ quinn POST /api/v1/lots/" in first
    assert "+ erp   POST /api/v1/work-orders " in first
    assert "WARNING: demo people" in first
    assert "curl -s -X POST http://127.0.0.1:" in first


def test_the_demo_on_a_store_that_holds_another_days_shift_says_so_in_one_line(tmp_path: Path) -> None:
    settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{tmp_path / 'chronicle.db'}"})
    migrate(settings)
    yesterday = datetime.combine(datetime.now(UTC).date() - timedelta(days=1), time(6, 0), tzinfo=UTC)
    credentials = one_sender(bearer(provision_machine(settings)))
    with TestClient(create_app(settings)) as client:
        run_shift(client, io.StringIO(), credentials, start=yesterday - timedelta(days=1))

        with pytest.raises(DemoError, match="already holds the demo shift of another day"):
            run_shift(client, io.StringIO(), credentials, start=yesterday)
