"""Request checks before a command route's handler runs: media type, well-formed JSON, and every
invalid or missing field named at once.

msgspec stops at the first error, so a client fixing a body one field per round trip would need as
many round trips as mistakes. Here the body is decoded once, each field is converted on its own
(strictly: a number is not a date-time, `"5_000"` is not a quantity), and every refusal is reported
together. Only a body that passes reaches litestar's own decoding, which then reads the decoded
value instead of the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, NamedTuple

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.params import PathParameter
from litestar.utils.scope.state import ScopeState

from api.problems import FieldError, MalformedBodyError, explained, problem
from application.bus import CommandBus
from application.commands import (
    CODE_PATTERN,
    CODE_RULE,
    COMMAND_ID_PATTERN,
    DECIMAL_PATTERN,
    DECIMAL_RULE,
    BusinessTimeWindow,
    Command,
)

# A business key in a path (`/lots/{lot_number}`): the same grammar as in a command's body.
KeyPath = Annotated[
    str, PathParameter(min_length=1, max_length=64, pattern=CODE_PATTERN, description=f"A business key: {CODE_RULE}.")
]
BeforeRequest = Callable[[Request[Any, Any, Any]], Awaitable[Response[Any] | None]]
JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
DECIMAL_TEXT = re.compile(DECIMAL_PATTERN)
CODE_TEXT = re.compile(CODE_PATTERN)
COMMAND_ID_TEXT = re.compile(COMMAND_ID_PATTERN)
AT_PATH = re.compile(r" - at `\$((?:\.\w+|\[\d+\])*)`$")
_decoder = msgspec.json.Decoder()


async def refuse_nul(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """PostgreSQL text cannot hold NUL: a path or query with one is refused before it reaches SQL."""
    raw = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
    if b"%00" in raw.lower() or b"\x00" in raw or "\x00" in request.scope["path"]:
        return problem(
            request,
            422,
            "invalid-input",
            "Invalid input",
            "a path or query may not contain NUL",
            errors=[FieldError(field="path", message="contains NUL", source="path")],
        )
    return None


def command_body_check(
    command: type[Command], path_fields: tuple[str, ...], body_type: type[msgspec.Struct]
) -> BeforeRequest:
    """The before-request hook of one command route: refuses the request with every reason at
    once, or lets it through with its body decoded."""
    fields = [
        Field(f.name, f.type, info, f.required, _holds_numbers(info))
        for f in msgspec.structs.fields(command)
        if f.name not in ("command_id", *path_fields)
        for info in (msgspec.inspect.type_info(f.type),)
    ]
    needs_body = any(f.required for f in fields)

    async def check(request: Request[Any, Any, Any]) -> Response[Any] | None:
        refused = await refuse_nul(request)
        if refused is not None:
            return refused
        raw = await request.body()
        if raw.strip():
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if not JSON_MEDIA.match(media):
                return problem(
                    request,
                    415,
                    "unsupported-media-type",
                    "Unsupported media type",
                    f"a command's body must be application/json, not {media or 'unnamed'}",
                )
            body = decode_json(raw)
            if body is None and not needs_body:  # the document allows `null` where no field is required
                body = {}
        elif needs_body:
            missing = FieldError(field="body", message="a JSON object with the command's fields is required")
            raise _invalid([*_path_and_key_errors(request, path_fields), missing])
        else:
            body = {}
        bus: CommandBus = request.app.state.bus
        window: BusinessTimeWindow = request.app.state.get("time_window") or BusinessTimeWindow()
        errors = [
            *_path_and_key_errors(request, path_fields),
            *body_errors(fields, body_type, body, window, bus.clock.now()),
        ]
        if errors:
            raise _invalid(errors)
        # litestar decodes `data` from this cached value, not from the bytes again.
        ScopeState.from_scope(request.scope).json = body
        return None

    return check


def _path_and_key_errors(request: Request[Any, Any, Any], path_fields: tuple[str, ...]) -> list[FieldError]:
    """The path's keys and the Idempotency-Key, checked here so that one answer names them with
    the body's mistakes (litestar would check them after, one at a time)."""
    errors = [
        FieldError(field=name, message=f"must be {CODE_RULE}", source="path")
        for name in path_fields
        if not CODE_TEXT.match(str(request.path_params.get(name, "")))
    ]
    key = request.headers.get("idempotency-key")
    if key is not None and not COMMAND_ID_TEXT.match(key):
        errors.append(
            FieldError(field="Idempotency-Key", message="must be 1 to 128 visible ASCII characters", source="header")
        )
    return errors


class Field(NamedTuple):
    """A command field as the checks need it, its type read once."""

    name: str
    type: Any
    info: msgspec.inspect.Type
    required: bool
    numbers: bool  # holds a decimal or an integer somewhere: worth `_normalized`


def body_errors(
    fields: list[Field], body_type: type[msgspec.Struct], body: Any, window: BusinessTimeWindow, now: datetime
) -> list[FieldError]:
    """Every field of `body` that is missing, unknown or invalid; none for a valid body.

    A valid body (the usual case) costs one strict conversion of the whole body; only a body that
    fails it is taken apart field by field, to name each mistake."""
    if not isinstance(body, dict):
        return [FieldError(field="body", message="must be a JSON object with the command's fields")]
    refused: list[FieldError] = []
    for field in fields:
        if field.numbers and field.name in body:
            body[field.name] = _normalized(field.info, body[field.name], field.name, refused)
    if not refused:
        try:
            converted = msgspec.convert(body, type=body_type, strict=True)
        except msgspec.ValidationError:
            pass
        else:
            at = getattr(converted, "occurred_at", None)
            refusal = window.refusal(at, now) if at is not None else None
            return [FieldError(field="occurred_at", message=refusal)] if refusal else []
    return field_errors(fields, body, window, now, refused)


def decode_json(raw: bytes) -> Any:
    try:
        return _decoder.decode(raw)
    except RecursionError:
        msg = "the request body nests arrays or objects too deeply"
        raise MalformedBodyError(msg) from None
    except UnicodeDecodeError:
        msg = "the request body is not valid UTF-8"
        raise MalformedBodyError(msg) from None
    except msgspec.DecodeError as error:
        msg = f"the request body is not valid JSON: {error}"
        raise MalformedBodyError(msg) from None


def field_errors(
    fields: list[Field], body: dict[str, Any], window: BusinessTimeWindow, now: datetime, refused: list[FieldError]
) -> list[FieldError]:
    """Every field of `body` that is missing, unknown or invalid, field by field (`refused`: the
    decimals already found malformed)."""
    known = {f.name: f for f in fields}
    errors = [FieldError(field=key, message="is not a field of this command") for key in body if key not in known]
    for name, info in known.items():
        if name not in body:
            if info.required:
                errors.append(FieldError(field=name, message="is required"))
            continue
        mistakes = [e for e in refused if e.field == name or e.field.startswith((f"{name}.", f"{name}["))]
        if mistakes:
            errors += mistakes
            continue
        value = body[name]
        try:
            converted = msgspec.convert(value, type=info.type, strict=True)
        except msgspec.ValidationError as error:
            errors.append(_explained(name, str(error)))
            continue
        if name == "occurred_at" and converted is not None:
            refusal = window.refusal(converted, now)
            if refusal:
                errors.append(FieldError(field=name, message=refusal))
    return errors


def _holds_numbers(info: msgspec.inspect.Type) -> bool:
    """Whether a type is, or holds, a decimal or an integer (what `_normalized` mends or checks)."""
    if isinstance(info, msgspec.inspect.DecimalType | msgspec.inspect.IntType):
        return True
    if isinstance(info, msgspec.inspect.Metadata):
        return _holds_numbers(info.type)
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_holds_numbers(arm) for arm in info.types)
    if isinstance(info, msgspec.inspect.ListType):
        return _holds_numbers(info.item_type)
    if isinstance(info, msgspec.inspect.StructType):
        return any(_holds_numbers(f.type) for f in info.fields)
    return False


def _normalized(info: msgspec.inspect.Type, value: Any, path: str, errors: list[FieldError]) -> Any:
    """The value as the command's types read it, with what JSON allows and msgspec would refuse
    mended, and what msgspec would take too readily refused (into `errors`):

    - an integer written with a point (`4246.0`) is an integer in JSON;
    - decimals must be text of digits with an optional point: Python's Decimal would also take
      `"5_000"`, `" 7 "`, `"1e3"` and `"NaN"`, and a JSON number may have passed through a float.
    """
    while isinstance(info, msgspec.inspect.Metadata):
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType) and value is not None:
        arms = [arm for arm in info.types if not isinstance(arm, msgspec.inspect.NoneType)]
        return _normalized(arms[0], value, path, errors) if len(arms) == 1 else value
    if isinstance(info, msgspec.inspect.IntType) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(info, msgspec.inspect.DecimalType):
        if not (isinstance(value, str) and DECIMAL_TEXT.match(value)):
            errors.append(FieldError(field=path, message=f"must be {DECIMAL_RULE}"))
        return value
    if isinstance(info, msgspec.inspect.StructType) and isinstance(value, dict):
        fields = {field.name: field for field in info.fields}
        return {
            key: _normalized(fields[key].type, item, f"{path}.{key}", errors) if key in fields else item
            for key, item in value.items()
        }
    if isinstance(info, msgspec.inspect.ListType) and isinstance(value, list):
        return [_normalized(info.item_type, item, f"{path}[{i}]", errors) for i, item in enumerate(value)]
    return value


def _explained(name: str, message: str) -> FieldError:
    """msgspec's message, with the field's path in front and a regex replaced by its rule."""
    path = name
    at = AT_PATH.search(message)
    if at:
        path += at.group(1)
        message = message[: at.start()]
    return FieldError(field=path, message=explained(message))


def _invalid(errors: list[FieldError]) -> ValidationException:
    return ValidationException(
        detail="invalid input",
        extra=[{"key": e.field, "message": e.message, "source": e.source} for e in errors],
    )
