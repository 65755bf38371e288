"""The `mes` command line: migrate, serve, demo, projections."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import ipaddress
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.progress import ProgressBar
from application.ports import StoreKeyError
from domain.values import Actor, ActorKind, Role, Source
from infrastructure.logs import LOG_FORMATS, LOG_LEVELS, configure_logging
from infrastructure.migrations import (
    StoreUnopenableError,
    check_connection,
    current_revision,
    head_revision,
    migrate,
    store_name,
)
from infrastructure.settings import Settings, SettingsError

if TYPE_CHECKING:
    import uvicorn

    from projections.runner import ReadModelProjection

log = logging.getLogger("chronicle.cli")


class CliError(Exception):
    """A one-line message for the operator; the command exits with status 2."""


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    migrate(settings)
    print(f"store {store_name(settings, admin=True)} is at revision {current_revision(settings)}")
    return 0


def _open_store(settings: Settings) -> None:
    """Makes sure the store answers and is migrated before anything runs on it.

    The embedded SQLite default is created and migrated on first start, as a newcomer expects. A
    PostgreSQL store is shared and belongs to its admin role: it is migrated only on request.
    """
    if settings.is_memory:
        return
    current, head = current_revision(settings), head_revision()
    if current != head:
        if settings.is_postgres:
            store = store_name(settings, admin=True)
            msg = f"the store {store} is at revision {current or 'none'}, not {head}: run `mes migrate` first"
            raise CliError(msg)
        _migrate_sqlite(settings, current, head)
    if settings.is_postgres:
        check_connection(settings)  # as the application role, which the migrations create


def _migrate_sqlite(settings: Settings, current: str | None, head: str | None) -> None:
    from sqlalchemy.exc import OperationalError  # noqa: PLC0415

    store, existed = store_name(settings), settings.sqlite_path.exists()
    try:
        migrate(settings)
    except OperationalError as error:  # a file another process holds locked, a full disk
        cause = " ".join(str(error.orig).split())
        msg = f"cannot migrate the store {store} from revision {current or 'none'} to {head}: {cause}"
        raise CliError(msg) from error
    if existed:
        print(f"mes: migrated the store {store} from revision {current or 'none'} to {head}", file=sys.stderr)
    else:
        print(f"mes: created and migrated the store {store}", file=sys.stderr)


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything else starts: a taken port is one line, and no race."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        msg = f"cannot listen on {host}:{port}: {error.strerror or error}"
        raise CliError(msg) from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as error:
        listener.close()
        msg = f"cannot listen on {host}:{port}: {error.strerror or error}"
        raise CliError(msg) from None
    return listener


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415
    from infrastructure.tls import ClientCertificateProtocol  # noqa: PLC0415

    tls = _tls_options(args)
    listener = _listening_socket(args.host, args.port)
    try:
        _open_store(settings)
        if not _administrators(settings):
            print(
                "No administrator can sign in to this store yet: create one with\n"
                "  mes users add NAME --role admin --printed-name 'Full Name'\n"
                "(then enrol their second factor: MES_CREDENTIALS_KEY must be set; `mes keys credentials` makes one)",
                file=sys.stderr,
            )
        app = create_app(settings, run_projections=not args.no_projections, https=bool(tls))
        port = int(listener.getsockname()[1])  # the one the system chose, for --port 0
        # With mutual TLS, the protocol hands the verified client certificate to the app (ASGI TLS extension).
        http: Any = ClientCertificateProtocol if args.tls_client_ca else "httptools"
        config = uvicorn.Config(app, host=args.host, port=port, log_config=None, loop="uvloop", http=http, **tls)
        scheme = "https" if tls else "http"
        base = f"{scheme}://{f'[{args.host}]' if ':' in args.host else args.host}:{port}"
        banner = (
            f"Chronicle MES {_version()} serving {base}\n"
            f"  API docs   {base}/api/v1/docs\n"
            f"  store      {'postgresql' if settings.is_postgres else 'sqlite'} {store_name(settings)}"
        )
        _announcing_server(config, banner).run(sockets=[listener])
    finally:
        listener.close()
    return 0


def _administrators(settings: Settings) -> list[str]:
    """The enabled administrators with a password: those who can sign in and make the others."""
    from application.access.directory import Directory  # noqa: PLC0415
    from application.service import Chronicle  # noqa: PLC0415
    from infrastructure.access.credentials import SqlCredentialStore  # noqa: PLC0415

    app = Chronicle(env=settings.eventsourcing_env())
    try:
        directory = Directory(app)
        accounts = (directory.account_by_id(key) for key in SqlCredentialStore(settings).password_holders())
        return [a.username for a in accounts if a is not None and a.enabled and Role.ADMIN in a.roles]
    finally:
        app.close()


def _security_events(settings: Settings, args: argparse.Namespace) -> int:
    """`mes security events`: the security log since a time, oldest first, as a table or JSON lines."""
    import json  # noqa: PLC0415

    from infrastructure.access.sessions import SqlSecurityLog  # noqa: PLC0415

    since = _since(args.since)
    _open_store(settings)
    log, after, shown = SqlSecurityLog(settings), 0, 0
    while page := log.select(since=since, until=None, principal=args.principal, kind=args.kind, after=after, limit=500):
        for event in page:
            if args.json:
                print(json.dumps({**event._asdict(), "at": event.at.isoformat()}))
            else:
                who, client = event.principal or "-", event.client or "-"
                print(f"{event.at:%Y-%m-%d %H:%M:%S} {event.kind:<18} {who:<16} {client:<15} {event.detail}")
        after, shown = page[-1].id or 0, shown + len(page)
    if not args.json:
        print(f"{shown} security events since {since:%Y-%m-%d %H:%M:%S} UTC", file=sys.stderr)
    return 0


def _since(text: str) -> datetime:
    """`1h`, `30m`, `2d` before now, or an ISO 8601 date-time (UTC without an offset)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    now = datetime.now(UTC)
    if text[:-1].isdigit() and text[-1:] in units:
        return now - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"--since takes 1h, 30m, 2d or an ISO 8601 date-time, not {text!r}"
        raise CliError(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tls_options(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's TLS settings from the command line; plain HTTP only on loopback or when asked for."""
    if bool(args.tls_cert) != bool(args.tls_key):
        msg = "--tls-cert and --tls-key go together"
        raise CliError(msg)
    if args.tls_client_ca and not args.tls_cert:
        msg = "--tls-client-ca needs --tls-cert and --tls-key"
        raise CliError(msg)
    if not args.tls_cert:
        if not _is_loopback(args.host) and not args.insecure_http:
            msg = (
                f"serving {args.host} without TLS is refused: give --tls-cert and --tls-key "
                "(`mes certs dev DIR` makes some to try), or --insecure-http behind a TLS proxy"
            )
            raise CliError(msg)
        return {}
    for path in (args.tls_cert, args.tls_key, args.tls_client_ca):
        if path and not Path(path).is_file():
            msg = f"no such file: {path}"
            raise CliError(msg)
    try:  # as uvicorn will load them, but now, before the store is touched
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            context.load_verify_locations(args.tls_client_ca)
    except OSError as error:  # ssl.SSLError for what OpenSSL refuses, PermissionError for a file it cannot read
        reason = str(error).split(" (_ssl.c")[0]  # without the line of OpenSSL's source
        msg = f"cannot serve TLS with {args.tls_cert} and {args.tls_key}: {reason}"
        raise CliError(msg) from None
    options: dict[str, Any] = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key}
    if args.tls_client_ca:
        options |= {"ssl_ca_certs": args.tls_client_ca, "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return options


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _certs(settings: Settings, args: argparse.Namespace) -> int:
    """`mes certs dev DIR`: a local CA, a server certificate for the loopback names, a client one."""
    from infrastructure.tls import make_dev_certificates  # noqa: PLC0415

    made = make_dev_certificates(Path(args.directory), client_name=args.client)
    print(
        f"made a development CA and certificates in {args.directory} (the client certificate signs in as the "
        f"machine account {args.client}):\n"
        f"  mes serve --tls-cert {made.server_cert} --tls-key {made.server_key} "
        f"[--tls-client-ca {made.ca}]\n"
        f"  curl --cacert {made.ca} https://127.0.0.1:8000/api/v1/health "
        f"[--cert {made.client_cert} --key {made.client_key}]"
    )
    return 0


def _announcing_server(config: uvicorn.Config, banner: str) -> uvicorn.Server:
    """A uvicorn server that prints the banner once it listens, so that what the banner says is true."""
    import uvicorn  # noqa: PLC0415

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                print(banner, flush=True)

    return AnnouncingServer(config)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    import httpx  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415
    from api.demo import (  # noqa: PLC0415
        DemoError,
        prepare_accounts,
        print_people,
        print_summary,
        print_urls,
        run_shift,
        serving,
        sign_in,
    )

    if not _is_loopback(args.host):
        msg = f"the demo serves plain HTTP on loopback only, not on {args.host}: use `mes serve` with TLS"
        raise CliError(msg)
    _listening_socket(args.host, args.port).close()  # a taken port is one line, not the thread's traceback
    migrate(settings)
    check_connection(settings)
    settings = dataclasses.replace(settings, mfa_roles=frozenset())  # the demo's people sign in without a code
    erp_key = prepare_accounts(settings)
    base = f"http://{args.host}:{args.port}"
    with serving(create_app(settings), args.host, args.port), httpx.Client(base_url=base, timeout=30) as client:
        print(f"Chronicle is serving on {base}; running the shift through the API\n")
        print("WARNING: demo people with published passwords and no second factor; never use this store in a plant\n")
        try:
            credentials = sign_in(client, erp_key)
            position = run_shift(client, sys.stdout, credentials)
        except DemoError as error:
            raise CliError(str(error)) from None
        client.headers.update(credentials["aude"])
        print_summary(client, position, sys.stdout)
        print_people(base, sys.stdout)
        print_urls(base, sys.stdout)
        if args.no_serve:
            return 0
        print("\nServing until Ctrl-C.")
        _wait_for_interrupt()
    return 0


def _wait_for_interrupt() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()


def _projection_class(name: str) -> type[ReadModelProjection]:
    from api.capabilities import PROJECTIONS_BY_NAME  # noqa: PLC0415

    if name not in PROJECTIONS_BY_NAME:
        msg = f"no projection {name!r}; there are: {', '.join(PROJECTIONS_BY_NAME)}"
        raise CliError(msg)
    return PROJECTIONS_BY_NAME[name]


def _projections(settings: Settings, args: argparse.Namespace) -> int:
    from api.capabilities import PROJECTIONS  # noqa: PLC0415
    from api.runtime import build_runtime  # noqa: PLC0415
    from projections.runner import rebuild  # noqa: PLC0415
    from projections.store import open_read_store  # noqa: PLC0415
    from projections.supervisor import ProjectionSupervisor  # noqa: PLC0415

    _open_store(settings)
    runtime = build_runtime(settings)
    store = open_read_store(settings)
    try:
        if args.action == "status":
            head = runtime.app.max_position()
            with store.reader() as tx:
                positions = {p.name: tx.position(p.name) or 0 for p in PROJECTIONS}
            print(f"{'projection':<14} {'position':>10} {'lag':>8}   (log head {head})")
            for name, position in positions.items():
                print(f"{name:<14} {position:>10} {head - position:>8}")
        elif args.action == "rebuild":
            position = rebuild(
                runtime.app,
                store,
                _projection_class(args.name),
                page_size=args.page_size,
                progress=ProgressBar(f"rebuild {args.name}"),
            )
            print(f"rebuilt {args.name} up to position {position}")
        else:
            supervisor = ProjectionSupervisor(
                runtime.app,
                store,
                [_projection_class(args.name)],
                listen_to=settings.postgres() if settings.is_postgres else None,
            )
            supervisor.start()
            print(f"projection {args.name} running; Ctrl-C to stop", file=sys.stderr)
            _wait_for_interrupt()
            supervisor.stop()
    finally:
        runtime.close()
        store.close()
    return 0


def _users(settings: Settings, args: argparse.Namespace) -> int:
    """`mes users add`: registers a person (with a password) or a machine account (with a first API
    key), as the OS user."""
    import msgspec  # noqa: PLC0415

    from api.problems import explained  # noqa: PLC0415
    from application.access.passwords import PasswordPolicy  # noqa: PLC0415
    from application.access.principals import RegisterPrincipal  # noqa: PLC0415

    kind = "machine" if args.machine else "person"
    try:
        command = msgspec.convert(
            {
                "command_id": f"cli-{uuid.uuid4()}",
                "username": args.name,
                "printed_name": args.printed_name or args.name,
                "kind": kind,
                "roles": args.role,
            },
            RegisterPrincipal,
        )
    except msgspec.ValidationError as error:
        message, _, where = str(error).partition(" - at `$.")
        raise CliError(f"the {where.rstrip('`') or 'input'} {explained(message)}") from None
    password = None if args.machine else _new_password(args.password_stdin)
    if password is not None and (refusal := PasswordPolicy().refusal(password, args.name)):
        raise CliError(f"the password {refusal}")
    _open_store(settings)
    told = _add_account(settings, command.printed_name, args.name, list(command.roles), password)
    print(f"{kind} {args.name} registered with the roles {', '.join(sorted(args.role))}")
    for line in told:
        print(line)
    return 0


def _add_account(
    settings: Settings, printed_name: str, name: str, roles: list[Role], password: str | None
) -> list[str]:
    """Registers the account; what to tell the operator (a machine's key, a person's enrolment)."""
    from api.access.services import build_access  # noqa: PLC0415
    from api.runtime import build_runtime  # noqa: PLC0415
    from application.access.provision import add_machine, add_person  # noqa: PLC0415
    from application.bus import CommandContext  # noqa: PLC0415
    from application.commands import InvalidCommandError  # noqa: PLC0415
    from domain.errors import DomainError  # noqa: PLC0415

    runtime = build_runtime(settings)
    access = build_access(runtime.bus, runtime.directory, settings)
    context = CommandContext(actor=_operating_system_user(), source=Source.SYSTEM)
    try:
        if password is None:
            issued = add_machine(access.keys, name, printed_name, roles, context)
            return [
                f"API key (shown this once; send it as Authorization: Bearer <key>): {issued.key}",
                f"it expires {issued.expires_at:%Y-%m-%d %H:%M} UTC",
            ]
        add_person(access.passwords, name, printed_name, roles, password, context)
        if not settings.mfa_roles & set(roles):
            return []
        if not settings.credentials_key:
            return [
                f"{name} enrols a second factor before signing in: set MES_CREDENTIALS_KEY, then use "
                "POST /api/v1/auth/mfa/enrolment"
            ]
        enrolment = access.mfa.begin(name)
    except DomainError as error:
        raise CliError(error.message) from None
    except InvalidCommandError as error:
        raise CliError(str(error)) from None
    finally:
        runtime.close()
    return [
        f"second factor: add this to an authenticator app, then confirm its first code\n  {enrolment.uri}",
        "  with POST /api/v1/auth/mfa/confirmation {username, password, totp}",
    ]


def _new_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or typed twice at a prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        msg = "the two passwords differ"
        raise CliError(msg)
    return first


def _operating_system_user() -> Actor:
    """CLI commands that write record a system principal naming the OS user who ran them."""
    user = getpass.getuser()
    return Actor(id=f"os:{user}", name=f"{user} (mes command line)", kind=ActorKind.SERVICE)


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    """`mes keys cipher|credentials`: a new 256-bit key, as base64."""
    from infrastructure.access.secrets import AesGcmBox  # noqa: PLC0415

    print(AesGcmBox.new_key_text())
    return 0


def _version() -> str:
    try:
        return version("chronicle-mes")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:  # noqa: PLR2004 - the range of TCP ports
        msg = f"a port is a whole number from 0 to 65535, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mes", description="Chronicle MES: an event-sourced MES backend.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    level: dict[str, Any] = {"type": str.upper, "choices": LOG_LEVELS, "metavar": "LEVEL"}
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR", **level)
    # The same option after the subcommand (`mes serve --log-level INFO`); given there, it wins.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--log-level", default=argparse.SUPPRESS, help="as before the subcommand", **level)
    fmt: dict[str, Any] = {"choices": LOG_FORMATS, "metavar": "FORMAT"}
    parser.add_argument(
        "--log-format", default=os.environ.get("MES_LOG_FORMAT", "logfmt"), help="logfmt (default) or json lines", **fmt
    )
    common.add_argument("--log-format", default=argparse.SUPPRESS, help="as before the subcommand", **fmt)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", parents=[common], help="create or upgrade every table (alembic)").set_defaults(
        run=_migrate
    )

    _add_serve(sub, common)

    demo = sub.add_parser(
        "demo", parents=[common], help="serve the API and run a scripted shift in a small beverage plant through it"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="exit after the shift instead of serving on")
    demo.set_defaults(run=_demo)

    projections = sub.add_parser("projections", parents=[common], help="status, run or rebuild the read models")
    actions = projections.add_subparsers(dest="action", required=True)
    actions.add_parser("status", parents=[common], help="each projection's position and lag")
    run = actions.add_parser("run", parents=[common], help="keep one projection up to date in this process")
    run.add_argument("name")
    rebuild = actions.add_parser(
        "rebuild", parents=[common], help="replay one projection into fresh tables, then swap them in"
    )
    rebuild.add_argument("name")
    rebuild.add_argument("--page-size", type=int, default=2000)
    projections.set_defaults(run=_projections)

    _add_access(sub, common)
    sub.add_parser("bench", help="the benchmark suite on PostgreSQL (`mes bench --help` for its options)")
    return parser


def _add_serve(sub: Any, common: argparse.ArgumentParser) -> None:
    """`mes serve`, with its TLS options, and `mes certs dev` to try them."""
    serve = sub.add_parser("serve", parents=[common], help="serve the HTTP API and run the projections")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="8000 by default; 0 for any free port")
    serve.add_argument("--no-projections", action="store_true", help="leave projections to `mes projections run`")
    serve.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    serve.add_argument("--tls-key", help="and this private key (PEM)")
    serve.add_argument("--tls-client-ca", help="require client certificates signed by this CA (mutual TLS)")
    serve.add_argument(
        "--insecure-http", action="store_true", help="allow plain HTTP on a non-loopback address (behind a TLS proxy)"
    )
    serve.set_defaults(run=_serve)

    certs = sub.add_parser("certs", parents=[common], help="certificates for trying TLS")
    certs_kinds = certs.add_subparsers(dest="kind", required=True)
    dev = certs_kinds.add_parser("dev", help="a local CA, a server certificate for localhost and a client one")
    dev.add_argument("directory")
    client = "chronicle-dev-client"  # infrastructure.tls.DEV_CLIENT, without importing it for every command
    dev.add_argument("--client", default=client, help=f"the client certificate's machine account ({client})")
    certs.set_defaults(run=_certs)


def _add_access(sub: Any, common: argparse.ArgumentParser) -> None:
    """`mes users`, `mes security` and `mes keys`."""
    users = sub.add_parser("users", parents=[common], help="people and machine accounts")
    user_actions = users.add_subparsers(dest="action", required=True)
    add = user_actions.add_parser("add", parents=[common], help="register a person (with a password) or a machine")
    add.add_argument("name", help="the username (a business key: letters, digits, . _ : -)")
    add.add_argument("--role", action="append", required=True, choices=[r.value for r in Role], help="repeatable")
    add.add_argument("--printed-name", help="the name under the person's signatures (default: the username)")
    add.add_argument("--machine", action="store_true", help="a machine account (an ERP, an OT connector)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    users.set_defaults(run=_users)

    security = sub.add_parser("security", parents=[common], help="the security log")
    security_actions = security.add_subparsers(dest="action", required=True)
    events = security_actions.add_parser("events", parents=[common], help="security events, oldest first")
    events.add_argument("--since", default="1h", help="1h, 30m, 2d, or an ISO 8601 date-time (default 1h)")
    events.add_argument("--principal", help="only this username")
    events.add_argument("--kind", help="only this kind (login-failed, permission-denied, ...)")
    events.add_argument("--json", action="store_true", help="one JSON object per line (for a SIEM)")
    security.set_defaults(run=_security_events)

    keys = sub.add_parser("keys", parents=[common], help="print new keys")
    kinds = keys.add_subparsers(dest="kind", required=True)
    kinds.add_parser("credentials", help="a 256-bit key sealing second-factor secrets (MES_CREDENTIALS_KEY)")
    kinds.add_parser("cipher", help="a 256-bit key encrypting every stored event's state (MES_CIPHER_KEY)")
    keys.set_defaults(run=_keys)


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["bench"]:  # its options are the suite's own
        from bench.suite import main as bench_main  # noqa: PLC0415

        configure_logging("WARNING")
        return bench_main(words[1:])
    args = build_parser().parse_args(words)
    configure_logging(args.log_level, args.log_format)
    try:
        settings = Settings.from_env()
        return int(args.run(settings, args))
    except (SettingsError, CliError, StoreUnopenableError, StoreKeyError) as error:
        print(f"mes: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
