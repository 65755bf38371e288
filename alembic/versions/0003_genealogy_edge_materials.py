"""Genealogy edges carry the material of both lots, so a trace needs no join per lot reached.

The genealogy view is derived data: the migration empties it and forgets its position, and the
projection replays the log into the new shape the next time it runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op
from infrastructure.settings import Settings

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EDGES = "rm_genealogy_edges"


def _replay_genealogy() -> None:
    op.execute(f"DELETE FROM {EDGES}")
    op.execute("DELETE FROM rm_genealogy_lots")
    op.execute("DELETE FROM projection_positions WHERE name IN ('genealogy', 'genealogy#rebuild')")
    op.execute(f"DROP TABLE IF EXISTS {EDGES}__rebuild")
    op.execute("DROP TABLE IF EXISTS rm_genealogy_lots__rebuild")


def upgrade(settings: Settings) -> None:
    _replay_genealogy()
    op.execute(f"ALTER TABLE {EDGES} ADD COLUMN parent_material TEXT")
    op.execute(f"ALTER TABLE {EDGES} ADD COLUMN child_material TEXT")


def downgrade(settings: Settings) -> None:
    _replay_genealogy()
    op.execute(f"ALTER TABLE {EDGES} DROP COLUMN child_material")
    op.execute(f"ALTER TABLE {EDGES} DROP COLUMN parent_material")
