"""Access adapters: password hashing and the credentials table."""
