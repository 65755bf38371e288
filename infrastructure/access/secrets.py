"""Secrets that must be read again (a TOTP seed), sealed with AES-GCM under the credentials key.

The row's id is the associated data: a sealed secret copied to another person's row does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A sealed secret did not open: another key, another row, or altered bytes."""


class AesGcmBox:
    """Seals and opens secrets with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @staticmethod
    def new_key_text() -> str:
        return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def seal(self, plaintext: bytes, bound_to: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, bound_to)

    def open(self, sealed: bytes, bound_to: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to)
        except InvalidTag:
            msg = "a sealed secret did not open: another key, another row, or altered bytes"
            raise SecretBoxError(msg) from None
