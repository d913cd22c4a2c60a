"""Password hashing (argon2id) and secret tokens.

Hashing costs ~tens of milliseconds of CPU on purpose; the async helpers push it to a
thread so one login never stalls every other request on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults follow RFC 9106's second recommended profile (argon2id, 64 MiB).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rehash on login)."""
    return _hasher.check_needs_rehash(password_hash)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


def new_token(nbytes: int = 48) -> str:
    """An opaque URL-safe token; 48 random bytes = 384 bits = 64 base64url characters."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """What the database stores instead of the token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
