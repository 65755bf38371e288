"""The `mes` command line: migrate, serve, demo, projections."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from infrastructure.logs import configure_logging
from infrastructure.settings import Settings, SettingsError

log = logging.getLogger("chronicle.cli")


class CliError(Exception):
    """A one-line message for the operator; the command exits with status 2."""


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from infrastructure.migrations import current_revision, migrate  # noqa: PLC0415 - keeps `mes --help` fast

    migrate(settings)
    where = settings.postgres().dbname if settings.is_postgres else settings.sqlite_path
    print(f"store {where} is at revision {current_revision(settings)}")
    return 0


def _require_migrated(settings: Settings) -> None:
    from infrastructure.migrations import current_revision, head_revision  # noqa: PLC0415

    current, head = current_revision(settings), head_revision()
    if current != head:
        msg = f"the store is at revision {current or 'none'}, not {head}: run `mes migrate` first"
        raise CliError(msg)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415

    _require_migrated(settings)
    app = create_app(settings, run_projections=not args.no_projections)
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, loop="uvloop", http="httptools")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    import httpx  # noqa: PLC0415

    from api.app import create_app  # noqa: PLC0415
    from api.demo import print_summary, print_urls, run_shift, serving  # noqa: PLC0415
    from infrastructure.migrations import migrate  # noqa: PLC0415

    migrate(settings)
    base = f"http://{args.host}:{args.port}"
    with serving(create_app(settings), args.host, args.port), httpx.Client(base_url=base, timeout=30) as client:
        print(f"Chronicle is serving on {base}; running the shift through the API\n")
        position = run_shift(client, sys.stdout)
        print_summary(client, position, sys.stdout)
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


def _projection_class(name: str) -> type:
    from projections.supervisor import BY_NAME  # noqa: PLC0415

    if name not in BY_NAME:
        msg = f"no projection {name!r}; there are: {', '.join(BY_NAME)}"
        raise CliError(msg)
    return BY_NAME[name]


def _projections(settings: Settings, args: argparse.Namespace) -> int:
    from api.runtime import build_runtime  # noqa: PLC0415
    from projections.runner import rebuild  # noqa: PLC0415
    from projections.store import open_read_store  # noqa: PLC0415
    from projections.supervisor import ALL_PROJECTIONS, ProjectionSupervisor  # noqa: PLC0415

    _require_migrated(settings)
    runtime = build_runtime(settings)
    store = open_read_store(settings)
    try:
        if args.action == "status":
            head = runtime.app.max_position()
            with store.reader() as tx:
                positions = {p.name: tx.position(p.name) or 0 for p in ALL_PROJECTIONS}
            print(f"{'projection':<14} {'position':>10} {'lag':>8}   (log head {head})")
            for name, position in positions.items():
                print(f"{name:<14} {position:>10} {head - position:>8}")
        elif args.action == "rebuild":
            position = rebuild(runtime.app, store, _projection_class(args.name), page_size=args.page_size)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mes", description="Chronicle MES: an event-sourced MES backend.")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade every table (alembic)").set_defaults(run=_migrate)

    serve = sub.add_parser("serve", help="serve the HTTP API and run the projections")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-projections", action="store_true", help="leave projections to `mes projections run`")
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="serve the API and run a scripted shift in a small beverage plant through it")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--no-serve", action="store_true", help="exit after the shift instead of serving on")
    demo.set_defaults(run=_demo)

    projections = sub.add_parser("projections", help="status, run or rebuild the read models")
    actions = projections.add_subparsers(dest="action", required=True)
    actions.add_parser("status", help="each projection's position and lag")
    run = actions.add_parser("run", help="keep one projection up to date in this process")
    run.add_argument("name")
    rebuild = actions.add_parser("rebuild", help="replay one projection into fresh tables, then swap them in")
    rebuild.add_argument("name")
    rebuild.add_argument("--page-size", type=int, default=2000)
    projections.set_defaults(run=_projections)

    sub.add_parser("bench", help="the benchmark suite on PostgreSQL (`mes bench --help` for its options)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["bench"]:  # its options are the suite's own
        from bench.suite import main as bench_main  # noqa: PLC0415

        configure_logging("WARNING")
        return bench_main(words[1:])
    args = build_parser().parse_args(words)
    configure_logging(args.log_level)
    try:
        settings = Settings.from_env()
        return int(args.run(settings, args))
    except (SettingsError, CliError) as error:
        print(f"mes: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
