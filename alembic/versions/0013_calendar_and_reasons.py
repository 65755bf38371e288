"""Shift calendars (patterns, planned downtime, non-working days), reason trees, the equipment in
each class, and the reasons and splits operators give stops; a mode row says whether it opened a
day or was set (`mes projections rebuild equipment_states` marks the rows written before).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = (
    "rm_shift_patterns",
    "rm_planned_downtime",
    "rm_non_working_days",
    "rm_reason_trees",
    "rm_equipment_classes",
    "rm_stop_marks",
)


def upgrade(settings: Settings) -> None:
    ts = "TIMESTAMPTZ" if settings.is_postgres else "TEXT"
    op.execute(
        f"""CREATE TABLE rm_shift_patterns (
            calendar_code TEXT NOT NULL, effective_from {ts} NOT NULL, position BIGINT NOT NULL,
            pattern TEXT NOT NULL, actor_id TEXT NOT NULL, PRIMARY KEY (calendar_code, position))"""
    )
    op.execute(
        f"""CREATE TABLE rm_planned_downtime (
            calendar_code TEXT NOT NULL, start_at {ts} NOT NULL, end_at {ts} NOT NULL, position BIGINT NOT NULL,
            kind TEXT NOT NULL, note TEXT, actor_id TEXT NOT NULL, PRIMARY KEY (calendar_code, position))"""
    )
    op.execute(
        """CREATE TABLE rm_non_working_days (
            calendar_code TEXT NOT NULL, day TEXT NOT NULL, name TEXT NOT NULL, position BIGINT NOT NULL,
            actor_id TEXT NOT NULL, PRIMARY KEY (calendar_code, day))"""
    )
    op.execute(
        """CREATE TABLE rm_reason_trees (
            equipment_class TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL,
            planned BOOLEAN NOT NULL, fault_codes TEXT NOT NULL, micro_stop_s INTEGER NOT NULL,
            position BIGINT NOT NULL, PRIMARY KEY (equipment_class, code))"""
    )
    op.execute(
        """CREATE TABLE rm_equipment_classes (
            equipment_code TEXT PRIMARY KEY, equipment_class TEXT NOT NULL, position BIGINT NOT NULL)"""
    )
    op.execute(
        f"""CREATE TABLE rm_stop_marks (
            equipment_code TEXT NOT NULL, at {ts} NOT NULL, position BIGINT NOT NULL, kind TEXT NOT NULL,
            reason_code TEXT, reason_name TEXT, category TEXT, planned BOOLEAN, note TEXT,
            actor_id TEXT NOT NULL, recorded_at {ts} NOT NULL, PRIMARY KEY (equipment_code, at, position))"""
    )
    op.execute("ALTER TABLE rm_equipment_modes ADD COLUMN kind TEXT NOT NULL DEFAULT 'set'")
    if settings.is_postgres:
        for table in TABLES:
            op.execute(f'ALTER TABLE {table} OWNER TO "{settings.app_role}"')


def downgrade(settings: Settings) -> None:
    op.execute("ALTER TABLE rm_equipment_modes DROP COLUMN kind")
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
