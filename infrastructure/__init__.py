"""Adapters: settings, persistence on SQLite and PostgreSQL, the event transcoder, the clock."""
