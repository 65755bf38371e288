"""A PostgreSQL server of a test's own, to stop and start at will: initdb and pg_ctl from the Debian
server packages, a temp directory and a free loopback port.

initdb refuses to run as root, so as root (the session and CI) the binaries run as the `postgres`
OS user, in a directory that user owns. The shared server on 5432 is never touched. Without the
binaries the test skips, or fails under CI=true.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg

from tests.requirements import missing

BIN = Path(os.environ.get("MES_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"
START_TIMEOUT_S = 60


def unavailable(reason: str) -> NoReturn:
    """Skips the test with the reason; fails it under CI=true, where the binaries must be there."""
    missing(f"a private PostgreSQL cannot run: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivatePostgres:
    """One initdb'd cluster: where it lives, its port, and how to stop and start it."""

    directory: Path
    port: int
    as_user: list[str]  # the command prefix that runs a binary as the cluster's owner

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed binaries of the server packages
            [*self.as_user, *args], check=True, capture_output=True, timeout=START_TIMEOUT_S
        )

    def start(self) -> None:
        """Starts the server and returns once it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            str(BIN / "pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT_S), "-D", str(self.data),
            "-l", str(self.directory / "server.log"), "-o", options,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stops the server (fast: disconnects every client, as a restart does) and waits for it."""
        self._run(str(BIN / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data))

    def running(self) -> bool:
        try:
            psycopg.connect(self.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Creates, starts and finally stops and removes a private cluster (trust auth on loopback)."""
    initdb = BIN / "initdb"
    if not initdb.exists():
        unavailable(f"{initdb} is missing (apt-get install postgresql-15, or set MES_TEST_POSTGRES_BIN)")
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(OS_USER)
        except KeyError:
            unavailable(f"running as root and there is no {OS_USER!r} OS user to run initdb as")
        runuser = shutil.which("runuser")
        if runuser is None:
            unavailable("running as root and runuser is missing")
        as_user = [str(runuser), "-u", OS_USER, "--"]
    directory = Path(tempfile.mkdtemp(prefix="chronicle-pg-"))
    if owner is not None:
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    server = PrivatePostgres(directory, _free_port(), as_user)
    try:
        server._run(str(initdb), "-D", str(server.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603
                [*as_user, str(BIN / "pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(server.data)],
                check=False,
                capture_output=True,
                timeout=START_TIMEOUT_S,
            )
        shutil.rmtree(directory, ignore_errors=True)
