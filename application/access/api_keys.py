"""API keys of machine accounts: issued (shown once), checked on each request, rotated with an
overlap, revoked at once.

A key is `chr_<prefix>_<secret>`: the prefix (8 hex digits) tells keys apart in events, logs and
lists; the secret is 256 random bits. The store keeps the key's SHA-256: a slow hash protects
secrets people can guess, and no one guesses 256 bits, while every request pays for the check.
The event is recorded first, so the account's rules decide before a hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from application.access.principals import RecordApiKeyIssued, RevokeApiKey, ShortenApiKey
from application.bus import CommandBus, CommandContext
from application.ports import ApiKeyStore, StoredKey
from domain.ids import principal_id

KEY = re.compile(r"^chr_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")


class IssuedKey(NamedTuple):
    """A new key: the only time the whole key is seen."""

    prefix: str
    key: str
    expires_at: datetime


class KeyRefusedError(Exception):
    """An API key was refused: `kind` says why (malformed, unknown, revoked, expired)."""

    def __init__(self, kind: str, prefix: str | None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.prefix = prefix


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyService:
    """Issues, checks, rotates and revokes machine accounts' API keys."""

    def __init__(self, bus: CommandBus, keys: ApiKeyStore) -> None:
        self.bus = bus
        self.keys = keys

    def issue(self, username: str, *, valid_for: timedelta, context: CommandContext, command_id: str) -> IssuedKey:
        """A new key for a machine account, valid for `valid_for`; refused for a person."""
        now = self.bus.clock.now()
        prefix, expires_at = secrets.token_hex(4), now + valid_for
        key = f"chr_{prefix}_{secrets.token_urlsafe(32)}"
        self.bus.execute(
            RecordApiKeyIssued(command_id=command_id, username=username, prefix=prefix, expires_at=expires_at), context
        )
        self.keys.add(StoredKey(prefix, principal_id(username), key_hash(key), expires_at, None), issued_at=now)
        return IssuedKey(prefix, key, expires_at)

    def authenticate(self, key: str) -> UUID | None:
        """The machine account a key belongs to, if it is well formed, known, unrevoked and unexpired."""
        try:
            return self.verify(key).principal_id
        except KeyRefusedError:
            return None

    def verify(self, key: str) -> StoredKey:
        """The stored key, if the key is well formed, known, unrevoked and unexpired; else
        KeyRefusedError saying which."""
        shape = KEY.match(key)
        if shape is None:
            raise KeyRefusedError("malformed", None)
        stored = self.keys.find(shape.group(1))
        if stored is None or not hmac.compare_digest(stored.key_hash, key_hash(key)):
            raise KeyRefusedError("unknown", shape.group(1))
        if stored.revoked_at is not None:
            raise KeyRefusedError("revoked", stored.prefix)
        if self.bus.clock.now() >= stored.expires_at:
            raise KeyRefusedError("expired", stored.prefix)
        return stored

    def revoke(self, username: str, prefix: str, *, reason: str, context: CommandContext, command_id: str) -> None:
        """Stops a key at once."""
        self.bus.execute(RevokeApiKey(command_id=command_id, username=username, prefix=prefix, reason=reason), context)
        self.keys.revoke(prefix, self.bus.clock.now())

    def rotate(
        self,
        username: str,
        old_prefix: str,
        *,
        valid_for: timedelta,
        overlap: timedelta,
        context: CommandContext,
        command_ids: tuple[str, str],
    ) -> IssuedKey:
        """A new key; the old one keeps working for `overlap` (while the machine is given the new
        one), then stops."""
        new = self.issue(username, valid_for=valid_for, context=context, command_id=command_ids[0])
        old = self.keys.find(old_prefix)
        until = self.bus.clock.now() + overlap
        if old is not None and until < old.expires_at:
            self.bus.execute(
                ShortenApiKey(
                    command_id=command_ids[1],
                    username=username,
                    prefix=old_prefix,
                    expires_at=until,
                    reason=f"rotated to {new.prefix}",
                ),
                context,
            )
            self.keys.shorten(old_prefix, until)
        return new
