"""`mes serve` in a process of its own, for benchmarks that load it from the outside."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from infrastructure.settings import Settings

REPO = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 60.0


@dataclass
class RssSamples:
    """Resident memory of a process, sampled with a position reached by its projections."""

    samples: list[tuple[float, int, int]] = field(default_factory=list)  # (seconds, rss bytes, position)

    def peak(self) -> int:
        return max((rss for _, rss, _ in self.samples), default=0)

    def peak_until(self, position: int) -> int:
        return max((rss for _, rss, p in self.samples if p <= position), default=0)


class ServeProcess:
    """Starts `mes serve` (or another server module, `bench.app_server`) on the given store, waits
    until it answers, and stops it by its pid."""

    def __init__(
        self,
        settings: Settings,
        port: int,
        *,
        projections: bool = True,
        module: Sequence[str] = ("api.cli", "serve"),
        env: dict[str, str] | None = None,
    ) -> None:
        env = {
            **os.environ,
            "MES_DATABASE_URL": settings.database_url,
            "MES_ADMIN_DATABASE_URL": settings.admin_database_url,
            **(env or {}),
        }
        command = [sys.executable, "-m", *module, "--port", str(port)]
        if module[0] == "api.cli":
            command += ["--host", "127.0.0.1"]
        if not projections:
            command.append("--no-projections")
        self.base_url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(  # noqa: S603 - our own CLI, arguments built here
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode() if self.process.stderr else ""
                    msg = f"mes serve exited with {self.process.returncode}: {err[-2000:]}"
                    raise RuntimeError(msg)
                try:
                    if client.get("/api/v1/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.stop()
        msg = f"mes serve did not answer within {READY_TIMEOUT_S:.0f} s"
        raise RuntimeError(msg)

    def rss(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def sample_rss(self, position_of: Callable[[], int], stop: threading.Event, every_s: float = 0.5) -> RssSamples:
        """Samples in a background thread until `stop` is set; returns the (growing) sample list."""
        samples = RssSamples()
        started = time.monotonic()

        def sample() -> None:
            while not stop.is_set():
                samples.samples.append((time.monotonic() - started, self.rss(), position_of()))
                stop.wait(every_s)

        threading.Thread(target=sample, name="rss-sampler", daemon=True).start()
        return samples

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
