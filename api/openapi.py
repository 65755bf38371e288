"""The OpenAPI document says what the server enforces: request bodies refuse unknown fields, and
the strings of a list keep their pattern and lengths.

litestar's schema of a msgspec Struct leaves `additionalProperties` open even where the Struct has
`forbid_unknown_fields`, and drops the constraints of a list's string items; a client generated
from the document would then send what the server refuses. (litestar 2.25 keeps its Struct plugin
in a private module: the pin keeps it where it is.)
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Schema


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """The Struct plugin, closing the schema of a Struct that forbids unknown fields and keeping the
    constraints of its lists' string items."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if not isinstance(info, msgspec.inspect.StructType):
            return schema
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            if not isinstance(field.type, msgspec.inspect.ListType):
                continue
            item = field.type.item_type
            item = item.type if isinstance(item, msgspec.inspect.Metadata) else item
            listed = (schema.properties or {}).get(field.encode_name)
            if (
                isinstance(item, msgspec.inspect.StrType)
                and isinstance(listed, Schema)
                and isinstance(listed.items, Schema)
            ):
                listed.items.pattern, listed.items.min_length = item.pattern, item.min_length
                listed.items.max_length = item.max_length
        return schema
