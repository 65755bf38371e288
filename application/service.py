"""The Chronicle application: the event store, its repository, and reads of the history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.utils import Environment, EnvType

from application.ports import ReceiptStore, StoredReceipt


class Chronicle(Application[UUID]):
    """The MES event store: one notification log for the whole site."""

    name = "Chronicle"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Settings come from the composition root only, never straight from os.environ.
        return Environment(name, dict(env or {}))

    def select_receipts(self, command_ids: Sequence[str]) -> dict[str, StoredReceipt]:
        return cast(ReceiptStore, self.recorder).select_receipts(command_ids)

    def aggregate_as_of(self, aggregate_id: UUID, version: int | None = None) -> Aggregate:
        """An aggregate as it was at a version (time travel comes from the store, not a view)."""
        return cast(Aggregate, self.repository.get(aggregate_id, version=version))

    def history(self, aggregate_id: UUID) -> list[Any]:
        """Every event of one aggregate, oldest first."""
        return list(self.events.get(aggregate_id))

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0
