"""Encryption at rest: with MES_CIPHER_KEY every stored event's state is AES-GCM ciphertext, and a
store opened without its key, or with another, says so in one line before serving anything."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing

import psycopg
import pytest

from api.runtime import build_runtime
from application.ports import StoreKeyError
from domain.ids import lot_id
from domain.material_lot import MaterialLot
from infrastructure.settings import Settings
from tests.builders import context, plant_commands, receive
from tests.fakes import SteppingClock

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # base64 of bytes 0..31: a test's own key
OTHER = "HxEdHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA="
SECRETS = (b"LOT-CONFIDENTIAL-77", b"SUP-LOT-CONFIDENTIAL-77", b"Olu Operator")


def raw_states(settings: Settings) -> bytes:
    """Every stored event's bytes, as someone reading the database's files would see them."""
    if settings.is_postgres:
        target = settings.postgres(admin=True)
        with psycopg.connect(target.conninfo(), options=f"-c search_path={target.schema}") as conn:
            return b"".join(
                bytes(r[0]) + r[1].encode() for r in conn.execute("SELECT state, topic FROM chronicle_events")
            )
    with closing(sqlite3.connect(settings.sqlite_path)) as conn:
        return b"".join(bytes(r[0]) + r[1].encode() for r in conn.execute("SELECT state, topic FROM stored_events"))


def with_key(settings: Settings, key: str | None) -> Settings:
    return dataclasses.replace(settings, cipher_key=key)


def test_with_a_cipher_key_no_business_value_is_readable_in_the_events_table(settings: Settings) -> None:
    encrypted = with_key(settings, KEY)
    runtime = build_runtime(encrypted, clock=SteppingClock())
    try:
        for command in (*plant_commands(), receive("LOT-CONFIDENTIAL-77")):
            runtime.bus.execute(command, context())
        runtime.bus.cache.evict([lot_id("LOT-CONFIDENTIAL-77")])
        lot: MaterialLot = runtime.app.repository.get(lot_id("LOT-CONFIDENTIAL-77"))
    finally:
        runtime.close()

    stored = raw_states(encrypted)
    assert lot.supplier_lot == "SUP-LOT-CONFIDENTIAL-77"
    assert all(secret not in stored for secret in SECRETS)
    assert b"domain.material_lot:MaterialLot.Received" in stored  # topics stay clear, as documented


@pytest.mark.parametrize(("key", "says"), [(None, "set MES_CIPHER_KEY"), (OTHER, "does not open this store's events")])
def test_a_store_opened_without_its_key_or_with_another_says_so_at_once(
    settings: Settings, key: str | None, says: str
) -> None:
    runtime = build_runtime(with_key(settings, KEY), clock=SteppingClock())
    try:
        runtime.bus.execute(plant_commands()[0], context())
    finally:
        runtime.close()

    with pytest.raises(StoreKeyError, match=says):
        build_runtime(with_key(settings, key), clock=SteppingClock())


def test_a_clear_store_opened_with_a_key_says_so_too(settings: Settings) -> None:
    runtime = build_runtime(settings, clock=SteppingClock())
    try:
        runtime.bus.execute(plant_commands()[0], context())
    finally:
        runtime.close()

    with pytest.raises(StoreKeyError, match="written without one"):
        build_runtime(with_key(settings, KEY), clock=SteppingClock())
