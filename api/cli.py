"""The `mes` command line: migrate the store, run the demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from infrastructure.logs import configure_logging
from infrastructure.settings import Settings, SettingsError

log = logging.getLogger("chronicle.cli")


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from infrastructure.migrations import current_revision, migrate  # noqa: PLC0415 - keeps `mes --help` fast

    migrate(settings)
    where = settings.postgres().dbname if settings.is_postgres else settings.sqlite_path
    print(f"store {where} is at revision {current_revision(settings)}")
    return 0


def _demo(settings: Settings, _: argparse.Namespace) -> int:
    from api.demo import print_summary, run_shift  # noqa: PLC0415
    from api.runtime import build_runtime  # noqa: PLC0415
    from infrastructure.migrations import migrate  # noqa: PLC0415

    migrate(settings)
    runtime = build_runtime(settings)
    try:
        run_shift(runtime, sys.stdout)
        print_summary(runtime, sys.stdout)
    finally:
        runtime.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mes", description="Chronicle MES: an event-sourced MES backend.")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade every table (alembic)").set_defaults(run=_migrate)
    sub.add_parser("demo", help="run a scripted shift in a small beverage plant").set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        settings = Settings.from_env()
        return int(args.run(settings, args))
    except SettingsError as error:
        print(f"mes: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
