"""Stored event encoding with msgspec: JSON on disk, typed on the way back.

msgspec encodes the value objects, decimals, UUIDs, dates and enums of an event natively. Decoding
JSON alone would give back strings, so the mapper converts each event's state to the types its
class declares (from the event-applying method's signature) after upcasting by `class_version`.
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Any, TypedDict, cast

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

_NOT_STATE = frozenset({"originator_id", "originator_version", "originator_id_type"})


class MsgspecTranscoder(Transcoder):
    """Encodes event state as compact JSON with msgspec (about three times the library's JSON speed)."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(decimal_format="string", uuid_format="canonical")
        self._decoder = msgspec.json.Decoder(dict[str, Any])

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return self._decoder.decode(data)


@cache
def state_type(event_class: type) -> Any:
    """A TypedDict of an event class's declared fields, for msgspec to convert decoded state into."""
    hints = typing.get_type_hints(event_class)
    fields = {
        name: hint
        for name, hint in hints.items()
        if name not in _NOT_STATE and typing.get_origin(hint) is not typing.ClassVar
    }
    return TypedDict(f"{event_class.__qualname__}State", fields, total=False)  # type: ignore[operator]


class TypedMapper(Mapper[Any]):
    """A mapper that restores every field to its declared type after upcasting."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            raw: dict[str, Any] = self.transcoder.decode(data)
            from_version = raw.pop("class_version", 1)
            class_version = getattr(cls, "class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(raw)
                from_version += 1
            state = cast(dict[str, Any], msgspec.convert(raw, type=state_type(cls)))
        except Exception as e:
            msg = (
                f"cannot decode stored event {stored_event.topic} of "
                f"{stored_event.originator_id} v{stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        convert_id = find_id_convertor(cls, type(stored_event.originator_id))
        state["originator_id"] = convert_id(stored_event.originator_id)
        state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[Any], domain_event)
