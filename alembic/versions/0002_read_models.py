"""Read models: equipment, materials, lots, work orders, genealogy, and projection positions.

Read models are derived data: the application role owns these tables on PostgreSQL, so that a
rebuild can replay into fresh copies and swap them in. The event store stays the admin's.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def tables(qty: str, ts: str) -> list[str]:
    """DDL in the two dialects: `qty` is the exact decimal type, `ts` the timestamp type."""
    return [
        "CREATE TABLE projection_positions (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
        f"""CREATE TABLE rm_equipment (
            equipment_id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, level TEXT NOT NULL,
            parent_code TEXT, status TEXT NOT NULL, registered_at {ts}, updated_at {ts}, position BIGINT)""",
        "CREATE INDEX rm_equipment_parent_idx ON rm_equipment (parent_code)",
        f"""CREATE TABLE rm_materials (
            material_id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, base_unit TEXT NOT NULL,
            conversions TEXT NOT NULL, defined_at {ts}, position BIGINT)""",
        f"""CREATE TABLE rm_lots (
            lot_id TEXT PRIMARY KEY, lot_number TEXT NOT NULL UNIQUE, material_code TEXT NOT NULL,
            quantity {qty} NOT NULL, unit TEXT NOT NULL, status TEXT NOT NULL, location TEXT NOT NULL,
            expiry DATE, supplier_lot TEXT, origin TEXT NOT NULL, order_number TEXT, hold_reason TEXT,
            status_before_hold TEXT, created_at {ts}, updated_at {ts}, position BIGINT)""",
        "CREATE INDEX rm_lots_material_idx ON rm_lots (material_code, location)",
        f"""CREATE TABLE rm_work_orders (
            work_order_id TEXT PRIMARY KEY, order_number TEXT NOT NULL UNIQUE, product_code TEXT NOT NULL,
            state TEXT NOT NULL, planned_quantity {qty} NOT NULL, unit TEXT NOT NULL, good_quantity {qty} NOT NULL,
            scrap_quantity {qty} NOT NULL, hold_reason TEXT, cancel_reason TEXT, created_at {ts},
            released_at {ts}, started_at {ts}, completed_at {ts}, closed_at {ts}, cancelled_at {ts},
            updated_at {ts}, position BIGINT)""",
        "CREATE INDEX rm_work_orders_state_idx ON rm_work_orders (state)",
        f"""CREATE TABLE rm_work_order_operations (
            work_order_id TEXT NOT NULL, sequence INTEGER NOT NULL, name TEXT NOT NULL, equipment_code TEXT NOT NULL,
            ideal_cycle_time_s {qty} NOT NULL, PRIMARY KEY (work_order_id, sequence))""",
        f"""CREATE TABLE rm_work_order_materials (
            material_key TEXT PRIMARY KEY, work_order_id TEXT NOT NULL, material_code TEXT NOT NULL,
            quantity_per_unit {qty} NOT NULL, unit TEXT NOT NULL, required_quantity {qty} NOT NULL,
            consumed_quantity {qty} NOT NULL)""",
        "CREATE INDEX rm_work_order_materials_order_idx ON rm_work_order_materials (work_order_id)",
        f"""CREATE TABLE rm_genealogy_lots (
            lot_number TEXT PRIMARY KEY, lot_id TEXT NOT NULL, material_code TEXT NOT NULL, origin TEXT NOT NULL,
            order_number TEXT, created_at {ts}, position BIGINT NOT NULL)""",
        f"""CREATE TABLE rm_genealogy_edges (
            parent_lot TEXT NOT NULL, child_lot TEXT NOT NULL, kind TEXT NOT NULL, quantity {qty}, unit TEXT,
            order_number TEXT, operation INTEGER, equipment_code TEXT, actor_id TEXT NOT NULL,
            actor_name TEXT NOT NULL, occurred_at {ts} NOT NULL, position BIGINT NOT NULL,
            PRIMARY KEY (child_lot, parent_lot, position))""",
        "CREATE INDEX rm_genealogy_edges_parent_idx ON rm_genealogy_edges (parent_lot)",
    ]


READ_TABLES = (
    "projection_positions",
    "rm_equipment",
    "rm_materials",
    "rm_lots",
    "rm_work_orders",
    "rm_work_order_operations",
    "rm_work_order_materials",
    "rm_genealogy_lots",
    "rm_genealogy_edges",
)


def upgrade(settings: Settings) -> None:
    if not settings.is_postgres:
        for statement in tables("TEXT", "TEXT"):
            op.execute(statement)
        return
    for statement in tables("NUMERIC", "TIMESTAMPTZ"):
        op.execute(statement)
    role = settings.app_role
    schema = settings.postgres().schema
    op.execute(f'GRANT CREATE ON SCHEMA "{schema}" TO "{role}"')
    for table in READ_TABLES:
        op.execute(f'ALTER TABLE {table} OWNER TO "{role}"')


def downgrade(settings: Settings) -> None:
    for table in READ_TABLES:
        op.execute(f"DROP TABLE {table}")
