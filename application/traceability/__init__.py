"""Traceability: equipment, materials, lots and work orders, and the genealogy they make.

Each module holds one resource's commands, handlers and results, and exports its registry
fragment; `HANDLERS` is the capability's.
"""

from __future__ import annotations

from application.handlers import join
from application.traceability import equipment, lots, materials, work_orders

HANDLERS = join([equipment.HANDLERS, materials.HANDLERS, lots.HANDLERS, work_orders.HANDLERS])
