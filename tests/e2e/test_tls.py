"""HTTPS as an operator switches it on: `mes certs dev` makes a CA and certificates, `mes serve
--tls-cert --tls-key` serves them (with HSTS), `--tls-client-ca` asks every client for a certificate
signed by that CA (mutual TLS), and a non-loopback address without TLS is refused in one line.
"""

from __future__ import annotations

import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from infrastructure.tls import DEV_CLIENT, DevCertificates
from tests.e2e.conftest import ServerProcess, free_port, stop, wait_until_ready
from tests.e2e.test_cli import assert_one_line, mes, operator_env

HSTS = "max-age=31536000"


@pytest.fixture
def certificates(tmp_path: Path) -> DevCertificates:
    """`mes certs dev` run as an operator would, into a folder of its own."""
    folder = tmp_path / "certs"
    result = mes(tmp_path, "certs", "dev", str(folder))
    assert result.returncode == 0, result.stderr
    files = DevCertificates(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server-key.pem",
        folder / "client.pem",
        folder / "client-key.pem",
    )
    assert f"--tls-cert {files.server_cert} --tls-key {files.server_key}" in result.stdout
    return files


def trusting(certs: DevCertificates, *, with_client_cert: bool = False) -> ssl.SSLContext:
    """A client's TLS context that trusts the development CA (and shows the client certificate)."""
    context = ssl.create_default_context(cafile=certs.ca)
    if with_client_cert:
        context.load_cert_chain(certs.client_cert, certs.client_key)
    return context


def mutual_tls(certs: DevCertificates) -> tuple[str, ...]:
    """`mes serve`'s options for TLS that asks clients for a certificate from the development CA."""
    return (
        *("--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key)),
        *("--tls-client-ca", str(certs.ca)),
    )


@contextmanager
def https_server(folder: Path, verify: ssl.SSLContext, *options: str) -> Iterator[ServerProcess]:
    """`mes serve` with these TLS options in `folder`, once it answers over HTTPS; stopped afterwards."""
    port = free_port()
    err_path = folder / "serve.stderr"
    with err_path.open("wb") as err:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, arguments built by the test
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *options],
            cwd=folder,
            env=operator_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    server = ServerProcess("sqlite", f"https://127.0.0.1:{port}", process, err_path)
    try:
        wait_until_ready(server, verify=verify)
        yield server
    finally:
        stop(process)
    assert "Traceback" not in err_path.read_text()


def test_certs_dev_makes_a_ca_a_server_and_a_client_certificate_with_private_keys(
    certificates: DevCertificates,
) -> None:
    for key in (certificates.server_key, certificates.client_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    context = trusting(certificates, with_client_cert=True)  # loads: the key matches the certificate

    assert context.cert_store_stats()["x509_ca"] == 1


def test_serve_over_tls_answers_a_client_that_trusts_the_ca_and_sends_hsts(
    tmp_path: Path, certificates: DevCertificates
) -> None:
    tls = ("--tls-cert", str(certificates.server_cert), "--tls-key", str(certificates.server_key))
    with https_server(tmp_path, trusting(certificates), *tls) as server:
        with httpx.Client(base_url=server.base_url, verify=trusting(certificates)) as client:
            response = client.get("/api/v1/health")
        with httpx.Client(base_url=server.base_url) as stranger, pytest.raises(httpx.ConnectError) as refused:
            stranger.get("/api/v1/health")  # the system's trust store does not know the development CA

    assert response.status_code == 200
    assert response.headers["strict-transport-security"] == HSTS
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)


def test_mutual_tls_serves_only_clients_with_a_certificate_from_the_ca(
    tmp_path: Path, certificates: DevCertificates
) -> None:
    options = mutual_tls(certificates)
    with https_server(tmp_path, trusting(certificates, with_client_cert=True), *options) as server:
        with httpx.Client(base_url=server.base_url, verify=trusting(certificates, with_client_cert=True)) as client:
            response = client.get("/api/v1/health")
        anonymous = httpx.Client(base_url=server.base_url, verify=trusting(certificates))
        with anonymous, pytest.raises(httpx.TransportError):  # refused in or just after the handshake
            anonymous.get("/api/v1/health")

    assert response.status_code == 200


def test_a_non_loopback_address_without_tls_is_one_line_and_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    result = mes(tmp_path, "serve", "--host", "0.0.0.0")  # noqa: S104 - refused before anything binds

    assert_one_line(
        result,
        "mes: serving 0.0.0.0 without TLS is refused: give --tls-cert and --tls-key "
        "(`mes certs dev DIR` makes some to try), or --insecure-http behind a TLS proxy",
    )
    assert list(tmp_path.iterdir()) == []


def test_a_certificate_that_is_not_pem_is_one_line(tmp_path: Path, certificates: DevCertificates) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")

    result = mes(
        tmp_path, "serve", "--port", "0", "--tls-cert", str(garbage), "--tls-key", str(certificates.server_key)
    )

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"mes: cannot serve TLS with {garbage} and {certificates.server_key}: ")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_the_demo_serves_on_loopback_only(tmp_path: Path) -> None:
    result = mes(tmp_path, "demo", "--host", "0.0.0.0")  # noqa: S104 - refused before anything binds

    assert_one_line(
        result, "mes: the demo serves plain HTTP on loopback only, not on 0.0.0.0: use `mes serve` with TLS"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--tls-cert", "server.pem"), "mes: --tls-cert and --tls-key go together"),
        (("--tls-client-ca", "ca.pem"), "mes: --tls-client-ca needs --tls-cert and --tls-key"),
        (("--tls-cert", "nowhere.pem", "--tls-key", "nowhere-key.pem"), "mes: no such file: nowhere.pem"),
    ],
)
def test_tls_options_that_cannot_work_are_one_line(tmp_path: Path, options: tuple[str, ...], message: str) -> None:
    result = mes(tmp_path, "serve", "--port", "0", *options)

    assert_one_line(result, message)
    assert list(tmp_path.iterdir()) == []


def test_a_key_that_does_not_match_the_certificate_is_one_line(tmp_path: Path, certificates: DevCertificates) -> None:
    result = mes(
        tmp_path,
        "serve",
        "--port",
        "0",
        "--tls-cert",
        str(certificates.server_cert),
        "--tls-key",
        str(certificates.client_key),
    )

    assert_one_line(
        result,
        f"mes: cannot serve TLS with {certificates.server_cert} and {certificates.client_key}: "
        "[X509: KEY_VALUES_MISMATCH] key values mismatch",
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["certs"]  # no store made


def test_mutual_tls_signs_a_client_certificate_in_as_the_machine_account_it_names(
    tmp_path: Path, certificates: DevCertificates
) -> None:
    made = mes(tmp_path, "users", "add", DEV_CLIENT, "--machine", "--role", "integration")
    assert made.returncode == 0, made.stderr
    options = mutual_tls(certificates)
    verify = trusting(certificates, with_client_cert=True)
    with (
        https_server(tmp_path, verify, *options) as server,
        httpx.Client(base_url=server.base_url, verify=verify) as client,
    ):
        me = client.get("/api/v1/auth/me")
        lots = client.get("/api/v1/lots")
        admin_only = client.post("/api/v1/principals", json={})

    assert me.status_code == 200, me.text
    assert (me.json()["username"], me.json()["kind"]) == (DEV_CLIENT, "machine")
    assert lots.status_code == 200
    assert admin_only.status_code == 403


def test_a_client_certificate_naming_no_machine_account_is_refused_and_logged(
    tmp_path: Path, certificates: DevCertificates
) -> None:
    options = mutual_tls(certificates)
    verify = trusting(certificates, with_client_cert=True)
    with (
        https_server(tmp_path, verify, *options) as server,
        httpx.Client(base_url=server.base_url, verify=verify) as client,
    ):
        lots = client.get("/api/v1/lots")

    assert lots.status_code == 401
    assert 'error="invalid_token"' in lots.headers["www-authenticate"]
    logged = mes(tmp_path, "security", "events", "--kind", "certificate-refused")
    assert f"certificate={DEV_CLIENT}" in logged.stdout
