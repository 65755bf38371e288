"""Chronicle's domain model: equipment, materials, lots and work orders as event-sourced aggregates."""
