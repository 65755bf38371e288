"""TLS: certificates for trying it locally (a certificate authority, a server certificate for the
loopback names, and a client certificate for mutual TLS, made with `cryptography`), and the
protocol that hands a client's certificate to the application.

For a plant, the certificates come from its own PKI; these are for a workstation and the tests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DAYS = 365
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class DevCertificates(NamedTuple):
    """Where `make_dev_certificates` wrote each file (keys readable by their owner only)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


DEV_CLIENT = "chronicle-dev-client"


def make_dev_certificates(
    directory: Path, names: tuple[str, ...] = LOOPBACK, client_name: str = DEV_CLIENT
) -> DevCertificates:
    """A CA, a server certificate for `names`, and a client certificate whose common name is
    `client_name` (the machine account it signs in as), all signed by the CA."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Chronicle MES development CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(*_usage(cert_sign=True)), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = (
        _builder(_name(names[0]), ca_name, server_key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName([_alt(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    client = (
        _builder(_name(client_name), ca_name, client_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = DevCertificates(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server-key.pem",
        directory / "client.pem",
        directory / "client-key.pem",
    )
    for path, cert in ((files.ca, ca), (files.server_cert, server), (files.client_cert, client)):
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    for path, key in ((files.server_key, server_key), (files.client_key, client_key)):
        path.touch(mode=0o600)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return files


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=DAYS))
    )


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _alt(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _usage(*, cert_sign: bool) -> tuple[bool, ...]:
    """KeyUsage's nine flags: digital signature, content commitment, key encipherment, data
    encipherment, key agreement, key cert sign, crl sign, encipher only, decipher only."""
    return (not cert_sign, False, False, False, False, cert_sign, cert_sign, False, False)


class ClientCertificateProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, handing the client certificate OpenSSL verified during the
    handshake to the application, as the ASGI TLS extension says (`scope["extensions"]["tls"]`).

    uvicorn does not pass it on by itself; the handshake has completed when `connection_made`
    runs, so the certificate is read once per connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        self._tls = {"client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [], "tls_version": None}

    def on_message_begin(self) -> None:
        super().on_message_begin()
        extensions: Any = {"tls": self._tls}
        self.scope["extensions"] = extensions


def common_name(pem: str) -> str | None:
    """The subject's common name of a PEM certificate (the machine account it names)."""
    names = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None
