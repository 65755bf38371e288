"""Structured logs: one line per record, `key=value` pairs after the message (logfmt)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# uvicorn attaches a second, ANSI-coloured copy of some messages for its own terminal formatter.
_LEFT_OUT = {"color_message"}
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"} | _LEFT_OUT
# Control characters would break a line in two or colour a terminal: they are written as escapes.
_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(0x20), 0x7F]} | {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


LOG_FORMATS = ("logfmt", "json")
SECURITY_LOGGER = "chronicle.security"


def _fields(record: logging.LogRecord) -> dict[str, object]:
    fields: dict[str, object] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    return fields | {k: v for k, v in vars(record).items() if k not in _STANDARD}


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = " ".join(f"{k}={_quote(v)}" for k, v in _fields(record).items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line, for a SIEM or a log shipper."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, default=str, ensure_ascii=False)


def _quote(value: object) -> str:
    text = str(value).translate(_ESCAPES)
    if not text or any(ch in text for ch in ' ="'):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def configure_logging(level: str = "INFO", log_format: str = "logfmt") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if log_format == "json" else LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Security events are always written, one line each, whatever the level asked for the rest.
    logging.getLogger(SECURITY_LOGGER).setLevel(min(logging.INFO, root.level))
