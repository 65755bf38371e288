"""The API in a process of its own, projections off, with the access guard (as `mes serve`) or
without it: the baseline that says what authentication and the permission check cost on the
write path. Never a way to serve a plant.

Run: `python -m bench.app_server --port N [--open]` on MES_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from api.app import create_app
from application.access.directory import Account
from domain.values import ActorKind, Role
from infrastructure.logs import configure_logging
from infrastructure.settings import Settings

OPEN_ACCOUNT = Account(
    "bench-open", "Benchmark (authentication off)", ActorKind.MACHINE, frozenset(Role) - {Role.ADMIN}, True, False
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--open", action="store_true", help="no authentication: every request acts as one account")
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    app = create_app(Settings.from_env(), run_projections=False, unauthenticated_as=OPEN_ACCOUNT if args.open else None)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, loop="uvloop", http="httptools")
    return 0


if __name__ == "__main__":
    sys.exit(main())
