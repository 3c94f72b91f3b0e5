"""Webhook secrets at rest: AES-256-GCM with a key from the settings, bound to their destination."""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class SecretBox:
    """Encrypts and decrypts destination secrets; the destination id is authenticated data,
    so a ciphertext copied to another destination does not decrypt."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, destination_id: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), destination_id.encode())

    def open(self, destination_id: str, sealed: bytes) -> str:
        try:
            plain = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], destination_id.encode())
        except InvalidTag as exc:
            raise ValueError("webhook secret does not decrypt with the configured key") from exc
        return plain.decode()
