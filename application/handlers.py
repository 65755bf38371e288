"""The handler registry: which handler runs a command, and what it answers.

A handler loads the aggregates a command names (through its `Scope`), lets them decide, and
returns a result Struct; it never saves: the command bus saves every aggregate a batch touched in
one transaction, with one receipt per command. Each capability declares its handlers beside its
commands and exports a registry fragment; the composition root joins the fragments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from application.commands import Command
from application.unit_of_work import Scope

C = TypeVar("C", bound=Command)
R = TypeVar("R", bound=msgspec.Struct)


@dataclass(frozen=True)
class Handles(Generic[C, R]):
    """One registry entry: a command type, the handler that runs it, and the Struct it answers
    (a receipt replays that Struct from its JSON)."""

    command: type[C]
    handler: Callable[[C, Scope], R]
    result: type[R]


HandlerRegistry = Mapping[type[Command], Handles[Any, Any]]


def registry(*entries: Handles[Any, Any]) -> dict[type[Command], Handles[Any, Any]]:
    """A registry fragment from its entries; a command registered twice is a wiring mistake."""
    return join({entry.command: entry} for entry in entries)


def join(fragments: Iterable[HandlerRegistry]) -> dict[type[Command], Handles[Any, Any]]:
    """The registry of several fragments (slices of a capability, or capabilities)."""
    joined: dict[type[Command], Handles[Any, Any]] = {}
    for fragment in fragments:
        for command, entry in fragment.items():
            if command in joined:
                msg = f"{command.__name__} is registered twice"
                raise ValueError(msg)
            joined[command] = entry
    return joined
