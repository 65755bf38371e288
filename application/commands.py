"""What every command shares: its base Struct, the grammar of its fields, and the checks around it.

A command is what a person, machine or ERP asks Chronicle to do, as a msgspec Struct; each
capability declares its own beside its handlers (`application/traceability/lots.py`, ...). Every
command carries its own id (the idempotency key) and may carry `occurred_at`, the business time of
the change (an operator's report or a machine's timestamp); without it the clock decides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

import msgspec

from domain.values import Quantity

# One grammar for every business key (lot numbers, equipment, material and order codes, locations):
# letters, digits and `. _ : -`, starting with a letter or digit and ending with one (or `_`), so a
# key is safe in a URL path, a header and a log line. `$(?!\n)`: Python's `$` also matches before a
# trailing newline, which would let `"LOT-1\n"` through.
CODE_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._:-]{0,62}[A-Za-z0-9_])?$(?!\n)"
CODE_RULE = "1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit and ending with one or '_'"
CODE_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": CODE_PATTERN}
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=CODE_PATTERN,
        extra_json_schema={"description": f"A business key: {CODE_RULE}."},
    ),
]
# A new lot's number may not be `merge`: `/lots/merge` is the merge command's path, so a lot of that
# number could be recorded and never read back.
LOT_NUMBER_PATTERN = r"^(?!merge$)" + CODE_PATTERN[1:]
LOT_NUMBER_RULE = f"{CODE_RULE}, and not `merge` (a word of the API's paths)"
NewLotNumber = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=LOT_NUMBER_PATTERN,
        extra_json_schema={"description": f"A new lot's number: {LOT_NUMBER_RULE}."},
    ),
]
# Names are one line of text without control characters or surrounding spaces; reasons may have
# several lines. PostgreSQL text cannot hold NUL, and a control character breaks logs and exports.
NAME_PATTERN = r"^[^\x00-\x20\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\x9f])?$(?!\n)"
NAME_RULE = "one line of text, without control characters or leading and trailing spaces"
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NAME_PATTERN)]
REASON_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
REASON_RULE = "text without control characters other than line breaks and tabs"
Reason = Annotated[str, msgspec.Meta(max_length=500, pattern=REASON_PATTERN)]
UNIT_PATTERN = r"^[A-Za-z%][A-Za-z0-9%/._-]{0,15}$(?!\n)"
UNIT_RULE = "a unit of measure such as kg, L, ea or case: letters first, then letters, digits or % / . _ -"
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=UNIT_PATTERN)]
Location = Code
COMMAND_ID_PATTERN = r"^[!-~]{1,128}$(?!\n)"  # visible ASCII: it travels as the Idempotency-Key header
CommandId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=COMMAND_ID_PATTERN)]
# Decimals travel as text ("12.5"): exact, where a JSON number may pass through a float. The syntax
# is checked first (DECIMAL_PATTERN), the range by `check_amount` with a message that says which
# bound; the document states both at once (`amount_pattern`), so that what it calls valid is.
DECIMAL_PATTERN = r"^(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,9})?$(?!\n)"
DECIMAL_RULE = 'a decimal number as text, digits with an optional point and no leading zeros, such as "12.5"'


def amount_pattern(*, allow_zero: bool) -> str:
    """Decimal text from 0 (exclusive unless `allow_zero`) to a billion with at most 9 decimal places."""
    whole = r"[1-9][0-9]{0,8}(?:\.[0-9]{1,9})?"
    fraction = "|".join(f"0\\.{'0' * zeros}[1-9][0-9]{{0,{8 - zeros}}}" for zeros in range(9))
    alternatives = [whole, fraction, r"1000000000(?:\.0{1,9})?"] + ([r"0(?:\.0{1,9})?"] if allow_zero else [])
    return f"^(?:{'|'.join(alternatives)})$(?!\\n)"


Amount = Annotated[
    Decimal,
    msgspec.Meta(
        extra_json_schema={
            "description": f"An exact amount, greater than zero, at most a billion: {DECIMAL_RULE}.",
            "extra": {"pattern": amount_pattern(allow_zero=False)},
        }
    ),
]
AmountOrZero = Annotated[
    Decimal,
    msgspec.Meta(
        extra_json_schema={
            "description": f"An exact amount, zero or more, at most a billion: {DECIMAL_RULE}.",
            "extra": {"pattern": amount_pattern(allow_zero=True)},
        }
    ),
]


# Which message a pattern's failure is explained by, for clients that cannot read a regex.
PATTERN_RULES = {
    CODE_PATTERN: CODE_RULE,
    LOT_NUMBER_PATTERN: LOT_NUMBER_RULE,
    NAME_PATTERN: NAME_RULE,
    REASON_PATTERN: REASON_RULE,
    UNIT_PATTERN: UNIT_RULE,
    COMMAND_ID_PATTERN: "1 to 128 visible ASCII characters",
}
# Quantities are exact decimals; anything beyond a billion units is a typo, not a lot.
MAX_AMOUNT = Decimal(1_000_000_000)
MAX_DECIMALS = 9  # finer than any scale weighs; and what every store's decimal type holds


def fingerprint(command: Command) -> bytes:
    """What a command asks for: a repeat under the same id must ask the same.

    msgspec encodes a Struct's fields in their declared order, so equal commands encode alike (the
    id is part of it, and the same in both, by definition of a repeat)."""
    return hashlib.sha256(type(command).__name__.encode() + b"\0" + msgspec.json.encode(command)).digest()


class InvalidCommandError(Exception):
    """A command's fields are well formed but not plausible (a business time far from now); the
    errors name each field. Nothing was recorded."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class BusinessTimeWindow:
    """How far from now a command's business time (`occurred_at`) may plausibly be.

    A report may be back-dated (paper records entered later, a connector's spool drained after an
    outage) but not by more than `max_age`; it cannot be in the future beyond clock skew."""

    max_age: timedelta = timedelta(days=366)
    max_ahead: timedelta = timedelta(minutes=5)

    def refusal(self, at: datetime, now: datetime) -> str | None:
        """Why `at` is not a plausible business time at `now`, or None."""
        if at < now - self.max_age:
            return f"must be within {self.max_age.days} days before now, not {at.isoformat()}"
        if at > now + self.max_ahead:
            return f"must not be later than {int(self.max_ahead.total_seconds())} s after now, not {at.isoformat()}"
        return None


def check_amount(value: Decimal, *, allow_zero: bool = False) -> None:
    """Refuses amounts that are not finite, negative (or zero, where not allowed), or absurd."""
    if not value.is_finite():
        msg = "must be a finite number"
        raise ValueError(msg)
    if value < 0 or (value == 0 and not allow_zero):
        msg = "must be zero or more" if allow_zero else "must be greater than zero"
        raise ValueError(msg)
    if value > MAX_AMOUNT:
        msg = f"must be at most {MAX_AMOUNT}"
        raise ValueError(msg)
    if value.as_tuple().exponent < -MAX_DECIMALS:  # type: ignore[operator]
        msg = f"may have at most {MAX_DECIMALS} decimal places"
        raise ValueError(msg)


class QuantityIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An amount (greater than zero) with its unit of measure."""

    value: Amount
    unit: Unit

    def __post_init__(self) -> None:
        check_amount(self.value)

    def as_quantity(self) -> Quantity:
        return Quantity(self.value, self.unit)


class AmountIn(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """An amount that may be zero (scrap reported alongside good output)."""

    value: AmountOrZero
    unit: Unit

    def __post_init__(self) -> None:
        check_amount(self.value, allow_zero=True)

    def as_quantity(self) -> Quantity:
        return Quantity(self.value, self.unit)


class Command(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every command: its id and, optionally, when it happened on the floor."""

    command_id: CommandId
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
