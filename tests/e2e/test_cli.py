"""A newcomer's first run of `mes`: the commands as an operator types them, in a folder of their own.

Each command runs as a child process (`python -m api.cli`, or the installed `mes` script) in the test's
temporary folder with no MES_* variables, as in a fresh checkout. An operator's mistake (a taken port,
a server that is not there, a missing database) is one line on stderr and exit status 2, never a
traceback; a PostgreSQL password never reaches the terminal.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import psycopg
import pytest

from infrastructure.migrations import head_revision
from infrastructure.settings import parse_postgres_url, postgres_url
from tests.e2e.conftest import REPO_ROOT, ServerProcess, free_port, stop, wait_until_ready
from tests.integration.conftest import postgres_or_skip

COMMAND_TIMEOUT_S = 60
ANSI_ESCAPE = "\x1b["


def operator_env(**store: str) -> dict[str, str]:
    """The environment of a fresh shell: no MES_* settings but the ones given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MES_")}
    return env | {"PYTHONPATH": str(REPO_ROOT)} | store


def mes(folder: Path, *args: str, **store: str) -> subprocess.CompletedProcess[str]:
    """Runs `mes ARGS` in `folder` to its end."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module, arguments built by the test
        [sys.executable, "-m", "api.cli", *args],
        cwd=folder,
        env=operator_env(**store),
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


@dataclass(frozen=True)
class Served:
    """A `mes serve` started in an empty folder: the server, the folder, and where its stdout went."""

    server: ServerProcess
    folder: Path
    stdout_path: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`mes serve --log-level INFO` started in an empty folder, once it answers; stopped afterwards."""
    folder = tmp_path / "plant"
    folder.mkdir()
    port = free_port()
    out_path, err_path = tmp_path / "serve.stdout", tmp_path / "serve.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "INFO"],
            cwd=folder,
            env=operator_env(),
            stdout=out,
            stderr=err,
        )
    server = ServerProcess("sqlite", f"http://127.0.0.1:{port}", process, err_path)
    try:
        wait_until_ready(server)
        yield Served(server, folder, out_path)
    finally:
        stop(process)


def assert_one_line(result: subprocess.CompletedProcess[str], expected: str) -> None:
    """The command failed as an operator's mistake should: status 2, this one line, nothing else."""
    assert (result.returncode, result.stderr.splitlines()) == (2, [expected]), result.stderr
    assert not result.stdout


def test_serve_in_an_empty_folder_creates_the_store_and_says_where_it_listens(served: Served) -> None:
    server = served.server
    stop(server.process)

    assert (served.folder / "var" / "chronicle.db").is_file()
    assert served.stdout_path.read_text().splitlines() == [
        f"Chronicle MES {version('chronicle-mes')} serving {server.base_url}",
        f"  API docs   {server.base_url}/api/v1/docs",
        "  store      sqlite var/chronicle.db",
    ]
    log = server.log_path.read_text()
    assert "mes: created and migrated the store var/chronicle.db\n" in log
    assert "No administrator can sign in to this store yet: create one with\n  mes users add NAME --role admin" in log
    assert "Traceback" not in log


def test_serve_takes_the_log_level_after_the_subcommand_and_logs_without_colour(served: Served) -> None:
    stop(served.server.process)

    log_lines = [line for line in served.server.log_path.read_text().splitlines() if line.startswith("ts=")]
    assert any("level=info logger=uvicorn.error" in line for line in log_lines), log_lines
    assert any('msg="chronicle serving"' in line for line in log_lines), log_lines
    assert [line for line in log_lines if ANSI_ESCAPE in line] == []


def test_projections_status_in_an_empty_folder_creates_the_store(tmp_path: Path) -> None:
    result = mes(tmp_path, "projections", "status")

    assert result.returncode == 0, result.stderr
    assert "(log head 0)" in result.stdout
    assert result.stderr.splitlines() == ["mes: created and migrated the store var/chronicle.db"]
    assert (tmp_path / "var" / "chronicle.db").is_file()


def test_a_file_where_the_store_folder_should_be_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "var").write_text("not a folder")

    result = mes(tmp_path, "serve", "--port", str(free_port()))

    assert_one_line(result, "mes: cannot open the store var/chronicle.db: var is a file, not a folder")


@pytest.mark.parametrize("command", [["serve"], ["projections", "status"], ["migrate"]])
def test_an_unreachable_postgresql_server_is_one_line_naming_the_url_without_its_password(
    tmp_path: Path, command: list[str]
) -> None:
    port = free_port()  # nothing listens there
    url = f"postgresql://chronicle:s3cret-pw@127.0.0.1:{port}/mes"

    result = mes(tmp_path, *command, MES_DATABASE_URL=url)

    assert_one_line(
        result, f"mes: cannot open the store postgresql://chronicle:***@127.0.0.1:{port}/mes: Connection refused"
    )


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_one_line(tmp_path: Path) -> None:
    server = parse_postgres_url(postgres_or_skip())
    dbname = f"missing_{uuid.uuid4().hex[:12]}"
    url = f"postgresql://{server.user}@{server.host}:{server.port}/{dbname}"

    result = mes(tmp_path, "serve", "--port", str(free_port()), MES_DATABASE_URL=url)

    assert_one_line(result, f'mes: cannot open the store {url}: database "{dbname}" does not exist')


@pytest.mark.postgres
def test_serve_never_migrates_postgresql_by_itself_and_says_how_to(tmp_path: Path) -> None:
    server = parse_postgres_url(postgres_or_skip())
    schema = f"cli_{uuid.uuid4().hex[:12]}"
    url = postgres_url(server, schema=schema)
    shown = f"postgresql://{server.user}{':***' if server.password else ''}@{server.host}:{server.port}"

    result = mes(tmp_path, "serve", "--port", str(free_port()), MES_DATABASE_URL=url)

    assert_one_line(
        result,
        f"mes: the store {shown}/{server.dbname}?schema={schema} is at revision none, not {head_revision()}: "
        "run `mes migrate` first",
    )
    with psycopg.connect(server.conninfo()) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    assert found is None


def test_a_taken_port_is_one_line_and_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = mes(tmp_path, "serve", "--port", str(port))

    assert_one_line(result, f"mes: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert list(tmp_path.iterdir()) == []


def test_mes_version_prints_the_installed_version(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mes")
    result = subprocess.run(  # noqa: S603 - the project's own entry point
        [str(script), "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, f"mes {version('chronicle-mes')}\n", "")
