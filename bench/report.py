"""What every benchmark does with its figures once the table is printed."""

from __future__ import annotations

import json
from typing import Any


def emit_json(report: dict[str, Any], path: str | None) -> None:
    """Prints the figures as one JSON line, and writes them to `path` (the `--json` option) if given."""
    print(json.dumps(report))
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=2)
