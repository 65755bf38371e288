"""Second factors for people: TOTP (RFC 6238) with one-time recovery codes.

Enrolment answers the `otpauth://` URI an authenticator app (or a QR code of it) takes, and is
confirmed by a first code; only then is it recorded (`MfaEnrolled`). A code is accepted within one
30-second step of drift and never twice: the store keeps the last time step accepted and moves it
forward in one compare-and-set, so two sign-ins with the same code cannot both pass. Recovery codes
are 80 random bits each, kept as SHA-256 hashes, and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

import pyotp
from eventsourcing.application import AggregateNotFoundError

from application.access.principals import RecordMfaEnrolled, ResetMfa
from application.bus import CommandBus, CommandContext
from application.commands import InvalidCommandError
from application.ports import CredentialStore, SecretBox
from domain.errors import NotFoundError, PrincipalError
from domain.ids import principal_id
from domain.principal import Principal

ISSUER = "Chronicle MES"
STEP_S = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10


class SecondFactorUnavailableError(Exception):
    """Second factors cannot be enrolled here: the server has no credentials key to seal them."""


class Enrolment(NamedTuple):
    """What a person needs to set up their authenticator: the secret and the URI that carries it."""

    secret: str
    uri: str


def recovery_hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").lower().encode()).hexdigest()


class MfaService:
    """Enrols, checks and resets people's second factors."""

    def __init__(self, bus: CommandBus, credentials: CredentialStore, box: SecretBox) -> None:
        self.bus = bus
        self.credentials = credentials
        self.box = box

    def begin(self, username: str) -> Enrolment:
        """A new secret for an enabled person, waiting for a first code to confirm it."""
        account = self._person(username)
        secret = pyotp.random_base32()
        self.credentials.begin_second_factor(account.id, self.box.seal(secret.encode(), account.id.bytes))
        return Enrolment(secret, pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER))

    def confirm(self, username: str, code: str, context: CommandContext, *, command_id: str) -> list[str]:
        """Confirms the enrolment with a first code; answers the recovery codes (shown once)."""
        key = principal_id(username)
        pending = self.credentials.second_factor(key).pending
        if pending is None:
            raise InvalidCommandError([("totp", "no enrolment was begun for this person")])
        step = step_of(self.box.open(pending, key.bytes).decode(), code, self.bus.clock.now())
        if step is None:
            raise InvalidCommandError([("totp", "is not the authenticator's current code")])
        codes = ["-".join(secrets.token_hex(10)[i : i + 5] for i in range(0, 20, 5)) for _ in range(RECOVERY_CODES)]
        self.bus.execute(RecordMfaEnrolled(command_id=command_id, username=username), context)
        self.credentials.confirm_second_factor(key, step, tuple(recovery_hash(c) for c in codes))
        return codes

    def check(self, username: str, code: str) -> bool:
        """Whether `code` is the person's current TOTP code (not used before) or an unused recovery code."""
        key = principal_id(username)
        factor = self.credentials.second_factor(key)
        if factor.secret is None:
            return False
        step = step_of(self.box.open(factor.secret, key.bytes).decode(), code, self.bus.clock.now())
        if step is not None:
            return self.credentials.advance_step(key, step)
        return self.credentials.use_recovery_code(key, recovery_hash(code))

    def reset(self, username: str, *, reason: str, context: CommandContext, command_id: str) -> None:
        """Removes the second factor (a lost phone); the person enrols again."""
        self.bus.execute(ResetMfa(command_id=command_id, username=username, reason=reason), context)
        self.credentials.clear_second_factor(principal_id(username))

    def _person(self, username: str) -> Principal:
        try:
            account: object = self.bus.app.repository.get(principal_id(username))
        except AggregateNotFoundError:
            raise NotFoundError("principal", username) from None
        if not isinstance(account, Principal):
            raise NotFoundError("principal", username)
        if not account.is_person or not account.enabled:
            msg = f"{username!r} is not an enabled person: only people enrol a second factor"
            raise PrincipalError(msg)
        return account


def step_of(secret: str, code: str, now: datetime) -> int | None:
    """The time step `code` belongs to, within one step of drift either way; None if none."""
    totp = pyotp.TOTP(secret, interval=STEP_S)
    for drift in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        moment = now + timedelta(seconds=drift * STEP_S)
        if hmac.compare_digest(totp.at(moment), code):
            return int(totp.timecode(moment))
    return None
