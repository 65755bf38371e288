"""`mes users add`: the first administrator of a fresh store, and machine accounts, from the CLI."""

from __future__ import annotations

import base64
import getpass
import json
import subprocess
import sys
from pathlib import Path

from api.runtime import build_runtime
from application.access.api_keys import ApiKeyService
from domain.ids import principal_id
from infrastructure.access.credentials import SqlApiKeyStore, SqlCredentialStore
from infrastructure.settings import Settings
from tests.e2e.test_cli import COMMAND_TIMEOUT_S, assert_one_line, mes, operator_env


def users_add(folder: Path, *args: str, password: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module, arguments built by the test
        [sys.executable, "-m", "api.cli", "users", "add", *args],
        cwd=folder,
        env=operator_env(**env),
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def test_the_first_administrator_is_added_with_a_password_and_recorded_as_done_by_the_os_user(tmp_path: Path) -> None:
    done = users_add(
        tmp_path,
        "ada",
        "--role",
        "admin",
        "--printed-name",
        "Ada Admin",
        "--password-stdin",
        password="a long passphrase 42",
    )

    assert done.returncode == 0, done.stderr
    registered_line, enrol = done.stdout.splitlines()
    assert registered_line == "person ada registered with the roles admin"
    assert "MES_CREDENTIALS_KEY" in enrol  # an administrator needs a second factor: how to get one
    settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'chronicle.db'}"})
    runtime = build_runtime(settings)
    try:
        registered, password_set = runtime.app.history(principal_id("ada"))
    finally:
        runtime.close()
    assert registered.printed_name == "Ada Admin"
    assert registered.provenance.actor.id == f"os:{getpass.getuser()}"
    assert password_set.reason == "set when the account was made"
    stored = SqlCredentialStore(settings).password_hash(principal_id("ada"))
    assert stored is not None
    assert stored.startswith("$argon2id$")


def test_a_weak_password_a_bad_username_and_an_administrator_machine_are_each_one_line(tmp_path: Path) -> None:
    weak = users_add(tmp_path, "sam", "--role", "operator", "--password-stdin", password="short")
    bad = users_add(tmp_path, "sam smith", "--role", "operator", "--machine")
    admin_machine = users_add(tmp_path, "erp-1", "--role", "admin", "--machine")

    for done, says in (
        (weak, "the password must be at least 12 characters long"),
        (bad, "the username must be 1 to 64 letters"),
        (admin_machine, "a machine account may not be an administrator"),
    ):
        assert done.returncode == 2
        # The first command on a fresh folder also says it created the store.
        assert done.stderr.splitlines()[-1].startswith(f"mes: {says}"), done.stderr
        assert "Traceback" not in done.stderr


def test_with_a_credentials_key_the_administrator_is_given_the_enrolment_uri(tmp_path: Path) -> None:
    key = base64.b64encode(bytes(range(32))).decode()
    done = users_add(
        tmp_path, "ada", "--role", "admin", "--password-stdin", password="a long passphrase 42", MES_CREDENTIALS_KEY=key
    )

    assert done.returncode == 0, done.stderr
    assert "otpauth://totp/Chronicle%20MES:ada?secret=" in done.stdout
    assert "/api/v1/auth/mfa/confirmation" in done.stdout


def test_a_machine_account_is_added_without_a_password_and_its_key_shown_once_works(tmp_path: Path) -> None:
    done = users_add(tmp_path, "erp-1", "--role", "integration", "--machine")

    assert done.returncode == 0, done.stderr
    registered_line, key_line, _ = done.stdout.splitlines()
    assert registered_line == "machine erp-1 registered with the roles integration"
    key = key_line.rsplit(" ", 1)[1]
    settings = Settings.from_env({"MES_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'chronicle.db'}"})
    runtime = build_runtime(settings)
    try:
        assert ApiKeyService(runtime.bus, SqlApiKeyStore(settings)).authenticate(key) == principal_id("erp-1")
    finally:
        runtime.close()


def test_a_new_credentials_key_is_256_random_bits_in_base64(tmp_path: Path) -> None:
    keys = [mes(tmp_path, "keys", "credentials").stdout.strip() for _ in range(2)]

    assert [len(base64.b64decode(key, validate=True)) for key in keys] == [32, 32]
    assert keys[0] != keys[1]
    assert not (tmp_path / "var").exists()  # printing a key touches no store


def test_a_store_written_with_one_cipher_key_and_opened_with_another_is_one_line(tmp_path: Path) -> None:
    key, other = (mes(tmp_path, "keys", "cipher").stdout.strip() for _ in range(2))
    written = mes(tmp_path, "users", "add", "erp-1", "--role", "integration", "--machine", MES_CIPHER_KEY=key)
    opened = mes(tmp_path, "projections", "status", MES_CIPHER_KEY=other)

    assert written.returncode == 0, written.stderr
    assert opened.returncode == 2
    assert (
        opened.stderr
        == "mes: MES_CIPHER_KEY does not open this store's events: another key, or a store written without one\n"
    )


def test_security_events_lists_account_changes_as_a_table_or_json_lines(tmp_path: Path) -> None:
    users_add(tmp_path, "ada", "--role", "admin", "--password-stdin", password="a long passphrase 42")

    table = mes(tmp_path, "security", "events", "--since", "1h")
    lines = mes(tmp_path, "security", "events", "--json").stdout.splitlines()
    later = mes(tmp_path, "security", "events", "--since", "2999-01-01T00:00")
    bad = mes(tmp_path, "security", "events", "--since", "yesterday")

    assert table.returncode == 0, table.stderr
    created, password_set = table.stdout.splitlines()
    assert created.split()[2:5] == ["account-created", "ada", "-"]
    assert f"by=os:{getpass.getuser()}" in created
    assert "password-set" in password_set
    assert [json.loads(line)["kind"] for line in lines] == ["account-created", "password-set"]
    assert later.stdout == ""
    assert_one_line(bad, "mes: --since takes 1h, 30m, 2d or an ISO 8601 date-time, not 'yesterday'")


def test_each_security_event_is_one_structured_log_line_in_json_when_asked(tmp_path: Path) -> None:
    done = users_add(
        tmp_path, "ada", "--role", "admin", "--password-stdin", password="a long passphrase 42", MES_LOG_FORMAT="json"
    )

    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    security = [r for r in records if r["logger"] == "chronicle.security"]

    assert [r["msg"] for r in security] == ["account-created", "password-set"]
    assert security[0]["principal"] == "ada"
    assert "a long passphrase" not in done.stderr
