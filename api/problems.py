"""Errors as RFC 9457 problem details (`application/problem+json`).

404 for an unknown resource, 409 for a broken business rule or a conflict (naming the rule), 422
for invalid input (naming each field), 400 for a body that is not JSON, 413 for a body too large.
Nothing a client sends may answer 500; if something still does, it is logged with its trace.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from application.access.mfa import SecondFactorUnavailableError
from application.bus import IdempotencyKeyReusedError
from application.commands import PATTERN_RULES, InvalidCommandError
from application.ports import NotAuthorizedError, StoreUnavailableError
from domain.errors import DomainError, NotFoundError
from projections.status import ReadModelBehindError

log = logging.getLogger("chronicle.api")
PROBLEM_JSON = "application/problem+json"
UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
MISSING_PARAMETER = re.compile(r"Missing required (\w+) parameter '([^']+)'")
NOT_JSON = ("JSON", "TRUNCATED", "INPUT DATA", "EXPECTED", "INVALID")
PROBLEM_BASE = "https://chronicle-mes.dev/problems/"
AUTH_PATH = "/api/v1/auth/"
REGEX_FAILURE = re.compile(r"^Expected `str` matching regex '(.*)'")
# msgspec quotes a pattern in its message as Python's repr would.
RULE_OF_PATTERN = {repr(pattern)[1:-1]: rule for pattern, rule in PATTERN_RULES.items()}


class FieldError(msgspec.Struct, frozen=True):
    """One invalid input: where it was (body, query, path, header), which field, and why."""

    field: str
    message: str
    source: str = "body"


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    rule: str | None = None
    errors: list[FieldError] = []


class MalformedBodyError(Exception):
    """The body is not JSON a server can read: its syntax, its encoding, or nesting beyond reason."""


REALM = 'Bearer realm="chronicle"'


class AuthenticationRequiredError(Exception):
    """No credentials, or credentials that are not (or no longer) valid: 401."""

    def __init__(self, detail: str, *, invalid: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        # RFC 6750: a token that was sent and refused says so in the challenge.
        self.challenge = f'{REALM}, error="invalid_token"' if invalid else REALM


class PermissionDeniedError(Exception):
    """The caller's roles do not allow this route: 403."""


class RateLimitedError(Exception):
    """Too many requests from one client: 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; try again in {retry_after} s")
        self.retry_after = retry_after


def problem(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    retry_after: int = 1,
    **extra: Any,
) -> Response[Any]:
    body = Problem(
        type=PROBLEM_BASE + slug, title=title, status=status, detail=detail, instance=request.url.path, **extra
    )
    headers = {"Retry-After": str(retry_after)} if status in (429, 503) else {}  # Too Many Requests, Unavailable
    if request.url.path.startswith(AUTH_PATH):
        headers["Cache-Control"] = "no-store"  # nothing about signing in is kept by a cache
    return Response(content=msgspec.json.encode(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    if isinstance(error, NotFoundError):
        return problem(request, 404, "not-found", f"Unknown {error.kind}", error.message)
    return problem(request, 409, error.rule, "Business rule broken", error.message, rule=error.rule)


def on_validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    extra = error.extra if isinstance(error.extra, list) else []
    errors = [_field_error(item) for item in extra if isinstance(item, dict)]
    missing = MISSING_PARAMETER.search(error.detail or "")
    if not errors and missing:
        errors = [FieldError(field=missing.group(2), message=error.detail, source=missing.group(1))]
    if not errors:
        return problem(request, 400, "malformed-request", "Malformed request", error.detail)
    named = ", ".join(e.field for e in errors)
    return problem(request, 422, "invalid-input", "Invalid input", f"invalid value for {named}", errors=errors)


def explained(message: str) -> str:
    """A validation message, with a regular expression replaced by the rule it stands for."""
    pattern = REGEX_FAILURE.match(message)
    if pattern and pattern.group(1) in RULE_OF_PATTERN:
        return "must be " + RULE_OF_PATTERN[pattern.group(1)]
    return message


def _field_error(item: dict[str, Any]) -> FieldError:
    """Names the field: `data` (the whole body) is replaced by the offending field when the message has it."""
    key, message = str(item.get("key") or ""), str(item.get("message"))
    unknown = UNKNOWN_FIELD.search(message)
    if unknown:
        key = unknown.group(1) if key in ("", "data") else f"{key}.{unknown.group(1)}"
    elif key == "data":
        missing = MISSING_FIELD.search(message)
        key = missing.group(1) if missing else "body"
    source = item.get("source") or "body"
    return FieldError(field=key or "body", message=explained(message), source=str(getattr(source, "value", source)))


def on_invalid_command(request: Request[Any, Any, Any], error: InvalidCommandError) -> Response[Any]:
    errors = [FieldError(field=field, message=message) for field, message in error.errors]
    named = ", ".join(e.field for e in errors)
    return problem(request, 422, "invalid-input", "Invalid input", f"invalid value for {named}", errors=errors)


def on_idempotency_key_reused(request: Request[Any, Any, Any], error: IdempotencyKeyReusedError) -> Response[Any]:
    errors = [FieldError(field="Idempotency-Key", message=str(error), source="header")]
    return problem(request, 422, error.rule, "Idempotency-Key reused", str(error), rule=error.rule, errors=errors)


def on_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    if isinstance(error, NotFoundException):
        return problem(request, 404, "not-found", "Not found", error.detail)
    if isinstance(error, MethodNotAllowedException):
        allowed = (error.headers or {}).get("allow", "")
        response = problem(
            request, 405, "method-not-allowed", "Method not allowed", f"{request.method} is not one of: {allowed}"
        )
        response.headers["Allow"] = allowed
        return response
    if status == 413:  # noqa: PLR2004
        return problem(request, 413, "body-too-large", "Request body too large", error.detail)
    if status == 400 and any(word in error.detail.upper() for word in NOT_JSON):  # noqa: PLR2004
        return problem(request, 400, "malformed-json", "Malformed JSON", "the request body is not valid JSON")
    slug = error.detail.lower().replace(" ", "-") or "http-error"
    return problem(request, status, slug, error.detail, error.detail)


def on_read_model_behind(request: Request[Any, Any, Any], error: ReadModelBehindError) -> Response[Any]:
    return problem(request, 503, "read-model-behind", "Read model not yet up to date", str(error))


def on_not_authorized(request: Request[Any, Any, Any], error: NotAuthorizedError) -> Response[Any]:
    return problem(request, 403, "forbidden", "Forbidden", str(error))


def on_authentication_required(request: Request[Any, Any, Any], error: AuthenticationRequiredError) -> Response[Any]:
    response = problem(request, 401, "authentication-required", "Authentication required", error.detail)
    response.headers["WWW-Authenticate"] = error.challenge
    return response


def on_permission_denied(request: Request[Any, Any, Any], error: PermissionDeniedError) -> Response[Any]:
    return problem(request, 403, "forbidden", "Forbidden", str(error))


def on_rate_limited(request: Request[Any, Any, Any], error: RateLimitedError) -> Response[Any]:
    return problem(request, 429, "rate-limited", "Too many requests", str(error), retry_after=error.retry_after)


def on_second_factor_unavailable(request: Request[Any, Any, Any], error: SecondFactorUnavailableError) -> Response[Any]:
    return problem(request, 503, "second-factor-unavailable", "Second factors not configured", str(error))


def on_store_unavailable(request: Request[Any, Any, Any], error: StoreUnavailableError) -> Response[Any]:
    return problem(request, 503, "store-unavailable", "Store unavailable", error.detail, retry_after=error.retry_after)


def on_malformed_body(request: Request[Any, Any, Any], error: MalformedBodyError) -> Response[Any]:
    return problem(request, 400, "malformed-json", "Malformed JSON", str(error))


def on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        "Internal error",
        "the server failed to handle this request; it has been logged",
    )


PROBLEM_TITLES = {
    400: "Malformed JSON",
    401: "No credentials, or credentials not valid (WWW-Authenticate says which)",
    403: "The caller's roles do not allow this",
    429: "Too many requests (Retry-After says when to retry)",
    404: "Unknown resource",
    405: "Method not allowed (the Allow header lists the methods)",
    409: "Business rule broken or conflict (the rule is named)",
    413: "Request body too large",
    415: "Unsupported media type (commands take application/json)",
    422: "Invalid input (each field named)",
    503: "Store unavailable, or the read model not yet at min_position (Retry-After says when to retry)",
}
COMMAND_PROBLEMS = (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)


def error_responses(*statuses: int) -> dict[int, Any]:
    """The problem responses a route documents in the OpenAPI document (a command's by default)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=PROBLEM_TITLES[status],
            media_type=PROBLEM_JSON,
            examples=[Example(value={"type": "...", "title": PROBLEM_TITLES[status], "status": status})],
        )
        for status in statuses or COMMAND_PROBLEMS
    }


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    ReadModelBehindError: on_read_model_behind,
    StoreUnavailableError: on_store_unavailable,
    NotAuthorizedError: on_not_authorized,
    AuthenticationRequiredError: on_authentication_required,
    PermissionDeniedError: on_permission_denied,
    RateLimitedError: on_rate_limited,
    SecondFactorUnavailableError: on_second_factor_unavailable,
    InvalidCommandError: on_invalid_command,
    IdempotencyKeyReusedError: on_idempotency_key_reused,
    MalformedBodyError: on_malformed_body,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
