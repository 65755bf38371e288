"""Access: people and machine accounts, their roles, and the record of every change to them.

The first slice of the access capability: principals' lifecycle as events and the credentials store
(argon2id password hashes). Sign-in, tokens, API keys on the wire and the permission guard come next.
"""

from __future__ import annotations

from application.access import principals
from application.handlers import join

HANDLERS = join([principals.HANDLERS])
