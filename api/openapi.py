"""The OpenAPI document says what the server enforces: request bodies refuse unknown fields.

litestar's schema of a msgspec Struct leaves `additionalProperties` open even where the Struct has
`forbid_unknown_fields`; a client generated from the document would then send fields the server
refuses. (litestar 2.25 keeps its Struct plugin in a private module: the pin keeps it where it is.)
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import Schema


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """The Struct plugin, closing the schema of a Struct that forbids unknown fields."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
