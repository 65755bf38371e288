"""Aggregate ids derived from business keys with uuid5, so a retried create is a conflict, not a duplicate."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

CHRONICLE_NAMESPACE = UUID("6f1c1f2e-4b0a-5c55-9a3e-2f6d1c9b7a10")


@lru_cache(maxsize=65536)
def equipment_id(code: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"equipment:{code}")


@lru_cache(maxsize=65536)
def material_id(code: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"material:{code}")


@lru_cache(maxsize=65536)
def lot_id(lot_number: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"lot:{lot_number}")


@lru_cache(maxsize=65536)
def work_order_id(order_number: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"work-order:{order_number}")


@lru_cache(maxsize=65536)
def principal_id(username: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"principal:{username}")


@lru_cache(maxsize=65536)
def equipment_day_id(key: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"equipment-day:{key}")


@lru_cache(maxsize=65536)
def shift_calendar_id(code: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"shift-calendar:{code}")


@lru_cache(maxsize=65536)
def reason_tree_id(equipment_class: str) -> UUID:
    return uuid5(CHRONICLE_NAMESPACE, f"reason-tree:{equipment_class}")
