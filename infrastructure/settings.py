"""Settings, read once from the environment by the composition root."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from application.commands import BusinessTimeWindow
from domain.values import MFA_ROLES, Role

DEFAULT_SQLITE_PATH = Path("var") / "chronicle.db"
APP_NAME = "Chronicle"
RECEIPTS_TABLE = "command_receipts"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class PostgresTarget:
    """Where a PostgreSQL store lives, split out of a `postgresql://` URL."""

    host: str
    port: int
    dbname: str
    user: str
    password: str
    schema: str

    def conninfo(self) -> str:
        parts = [f"host={self.host}", f"port={self.port}", f"dbname={self.dbname}", f"user={self.user}"]
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)

    def sqlalchemy_url(self) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{self.dbname}"


@dataclass(frozen=True)
class Settings:
    """Everything Chronicle reads from its environment."""

    database_url: str
    admin_database_url: str
    app_role: str = "chronicle_app"
    pool_size: int = 4
    pool_max_overflow: int = 4
    max_batch: int = 512
    business_time_max_age_days: int = 366
    business_time_max_ahead_s: int = 300
    store_budget_s: float = 10.0
    cipher_key: str | None = None  # base64 of 32 bytes: every stored event's state encrypted (AES-GCM)
    credentials_key: str | None = None  # base64 of 32 bytes: TOTP secrets sealed (AES-GCM)
    access_token_minutes: int = 15
    session_idle_minutes: int = 30
    session_hours: int = 12
    rate_per_second: float = 200.0  # per principal, sustained, over every authenticated route
    rate_burst: int = 2000
    sign_in_per_minute: int = 10  # per username named, and per client address, on the sign-in routes
    cors_origins: tuple[str, ...] = ()  # none: no cross-origin requests are allowed
    mfa_roles: frozenset[Role] = MFA_ROLES  # people who sign in with a TOTP code

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("MES_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
        admin = env.get("MES_ADMIN_DATABASE_URL") or url
        settings = cls(
            database_url=url,
            admin_database_url=admin,
            app_role=env.get("MES_APP_ROLE", "chronicle_app"),
            pool_size=_positive(env, "MES_POOL_SIZE", 4),
            pool_max_overflow=_positive(env, "MES_POOL_MAX_OVERFLOW", 4),
            max_batch=_positive(env, "MES_MAX_BATCH", 512),
            business_time_max_age_days=_positive(env, "MES_BUSINESS_TIME_MAX_AGE_DAYS", 366, most=36_500),
            business_time_max_ahead_s=_positive(env, "MES_BUSINESS_TIME_MAX_AHEAD_S", 300, most=366 * 24 * 3600),
            store_budget_s=_positive(env, "MES_STORE_BUDGET_S", 10.0, most=3600.0),
            cipher_key=_cipher_key(env.get("MES_CIPHER_KEY") or None, "MES_CIPHER_KEY", "cipher"),
            credentials_key=_cipher_key(env.get("MES_CREDENTIALS_KEY") or None, "MES_CREDENTIALS_KEY", "credentials"),
            access_token_minutes=_positive(env, "MES_ACCESS_TOKEN_MINUTES", 15, most=24 * 60),
            session_idle_minutes=_positive(env, "MES_SESSION_IDLE_MINUTES", 30, most=24 * 60),
            session_hours=_positive(env, "MES_SESSION_HOURS", 12, most=24 * 7),
            rate_per_second=_positive(env, "MES_RATE_PER_SECOND", 200.0, most=1e6),
            rate_burst=_positive(env, "MES_RATE_BURST", 2000, most=10_000_000),
            sign_in_per_minute=_positive(env, "MES_SIGN_IN_PER_MINUTE", 10, most=100_000),
            cors_origins=tuple(o.strip() for o in env.get("MES_CORS_ORIGINS", "").split(",") if o.strip()),
            mfa_roles=_roles(env.get("MES_MFA_ROLES", ",".join(sorted(MFA_ROLES)))),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        for name, url in (("MES_DATABASE_URL", self.database_url), ("MES_ADMIN_DATABASE_URL", self.admin_database_url)):
            scheme = urlsplit(url).scheme
            if scheme not in ("sqlite", "postgresql", "postgres", "memory"):
                msg = f"{name} must start with sqlite:///, postgresql:// or memory://, not {scheme or url!r}"
                raise SettingsError(msg)
        if urlsplit(self.database_url).scheme.startswith("postgres") != urlsplit(
            self.admin_database_url
        ).scheme.startswith("postgres"):
            msg = "MES_ADMIN_DATABASE_URL must point at the same kind of store as MES_DATABASE_URL"
            raise SettingsError(msg)

    @property
    def business_time_window(self) -> BusinessTimeWindow:
        """How far from now a command's business time may lie."""
        return BusinessTimeWindow(
            max_age=timedelta(days=self.business_time_max_age_days),
            max_ahead=timedelta(seconds=self.business_time_max_ahead_s),
        )

    @property
    def is_postgres(self) -> bool:
        return urlsplit(self.database_url).scheme.startswith("postgres")

    @property
    def is_memory(self) -> bool:
        """The library's in-memory store: nothing survives the process (unit tests only)."""
        return urlsplit(self.database_url).scheme == "memory"

    @property
    def sqlite_path(self) -> Path:
        path = urlsplit(self.database_url).path
        return Path(path[1:] if path.startswith("/") else path)

    def postgres(self, *, admin: bool = False) -> PostgresTarget:
        return parse_postgres_url(self.admin_database_url if admin else self.database_url)

    def sqlalchemy_url(self) -> str:
        """The URL alembic migrates with: the admin role on PostgreSQL."""
        if self.is_postgres:
            return self.postgres(admin=True).sqlalchemy_url()
        return f"sqlite:///{self.sqlite_path}"

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment the eventsourcing library is configured with. Alembic owns the tables."""
        env = {
            "CREATE_TABLE": "n",
            "TRANSCODER_TOPIC": "infrastructure.transcoding:MsgspecTranscoder",
            "MAPPER_TOPIC": "infrastructure.transcoding:TypedMapper",
        }
        if self.cipher_key:
            # The library's AES-GCM cipher, after the msgspec transcoder: event state is encrypted,
            # ids, versions, topics and positions stay clear (docs/security.md).
            env |= {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": self.cipher_key}
        if self.is_memory:
            env["PERSISTENCE_MODULE"] = "infrastructure.persistence:MemoryFactory"
        elif self.is_postgres:
            target = self.postgres()
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "APPLICATION_RECORDER_TOPIC": "infrastructure.persistence:PostgresChronicleRecorder",
                "POSTGRES_HOST": target.host,
                "POSTGRES_PORT": str(target.port),
                "POSTGRES_DBNAME": target.dbname,
                "POSTGRES_USER": target.user,
                "POSTGRES_PASSWORD": target.password,
                "POSTGRES_SCHEMA": target.schema,
                "POSTGRES_POOL_SIZE": str(self.pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.pool_max_overflow),
                "POSTGRES_LOCK_TIMEOUT": "10",
            }
        else:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            env |= {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "APPLICATION_RECORDER_TOPIC": "infrastructure.persistence:SQLiteChronicleRecorder",
                "SQLITE_DBNAME": str(self.sqlite_path),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        return env


def parse_postgres_url(url: str) -> PostgresTarget:
    """Splits `postgresql://user:password@host:port/dbname?schema=name`."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        msg = "a postgresql:// URL needs a database name, as in postgresql://127.0.0.1:5432/mes"
        raise SettingsError(msg)
    return PostgresTarget(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        dbname=dbname,
        user=unquote(parts.username or "") or os.environ.get("USER", "postgres"),
        password=unquote(parts.password or ""),
        schema=query.get("schema", ["public"])[0],
    )


def postgres_url(target: PostgresTarget, *, user: str | None = None, schema: str | None = None) -> str:
    """A `postgresql://` URL for the same database, optionally as another role or in another schema."""
    who = user or target.user
    auth = who + (f":{target.password}" if target.password and user is None else "")
    query = urlencode({"schema": schema or target.schema})
    return urlunsplit(("postgresql", f"{auth}@{target.host}:{target.port}", f"/{target.dbname}", query, ""))


N = TypeVar("N", int, float)


def _positive(env: Mapping[str, str], name: str, default: N, most: N | None = None) -> N:
    """A positive setting of the default's type (a whole number, or seconds as a number), at most `most`."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        msg = f"{name} must be {'a whole number' if kind is int else 'a number of seconds'}, not {raw!r}"
        raise SettingsError(msg) from None
    if not 0 < value < float("inf"):
        msg = f"{name} must be at least 1, not {raw}" if kind is int else f"{name} must be positive, not {raw!r}"
        raise SettingsError(msg)
    if most is not None and value > most:
        msg = f"{name} must be at most {most}, not {raw}"
        raise SettingsError(msg)
    return value


def _roles(text: str) -> frozenset[Role]:
    """MES_MFA_ROLES: role names separated by commas, or `none`."""
    names = [n.strip() for n in text.split(",") if n.strip() and n.strip() != "none"]
    known = {role.value: role for role in Role}
    if unknown := [n for n in names if n not in known]:
        msg = f"MES_MFA_ROLES names no role {unknown[0]!r}; the roles are {', '.join(known)} (or none)"
        raise SettingsError(msg)
    return frozenset(known[n] for n in names)


def _cipher_key(text: str | None, name: str, kind: str) -> str | None:
    """A 256-bit key: the base64 of 32 random bytes (`mes keys cipher|credentials` prints one)."""
    if text is None:
        return None
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:  # noqa: PLR2004 - AES-256
        msg = f"{name} must be the base64 of 32 bytes (`mes keys {kind}` prints a new one)"
        raise SettingsError(msg)
    return text
