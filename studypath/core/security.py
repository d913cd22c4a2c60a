"""Password hashing (argon2id) and secret tokens.

Hashing costs tens of milliseconds of CPU on purpose; the async helpers push it to a
thread so one login never stalls every other request on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

if TYPE_CHECKING:
    from studypath.config import Settings


@dataclass(frozen=True)
class HashingParameters:
    """The argon2id cost parameters; the defaults follow RFC 9106's second recommended
    profile (t=3, 64 MiB, 4 lanes), as argon2-cffi's and the settings' do."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> HashingParameters:
        """The parameters the `STUDYPATH_PASSWORD_HASH_*` settings ask for."""
        return cls(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )

    def hasher(self) -> PasswordHasher:
        """The one place a password hasher is made."""
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            type=Type.ID,
        )


_parameters = HashingParameters()
_hasher = _parameters.hasher()
# A hash of a password nobody knows: login verifies against it when the user does not exist,
# so "no such user" costs exactly as much time as "wrong password". Made on first use (with
# the parameters in force then), not at import: hashing is deliberately slow.
_dummy_hash: str | None = None


def prepare_dummy_hash() -> None:
    """Make the dummy hash now (at startup), so the first unknown-user login is not slower."""
    _dummy()


def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def configure_hashing(parameters: HashingParameters) -> None:
    """Set the argon2id parameters for this process: the server, the CLI and a system's
    startup pass `HashingParameters.from_settings(settings)`; tests use cheap ones."""
    global _parameters, _hasher, _dummy_hash
    if parameters == _parameters:
        return
    _parameters, _hasher = parameters, parameters.hasher()
    _dummy_hash = None


def hashing_parameters() -> dict[str, int | str]:
    return {
        "algorithm": "argon2id",
        "time_cost": _hasher.time_cost,
        "memory_kib": _hasher.memory_cost,
        "parallelism": _hasher.parallelism,
        "hash_len": _hasher.hash_len,
        "salt_len": _hasher.salt_len,
    }


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with `password_hash=None` burn the same time and return False."""
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rehash on login)."""
    return _hasher.check_needs_rehash(password_hash)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


def new_token(nbytes: int = 48) -> str:
    """An opaque URL-safe token; 48 random bytes = 384 bits = 64 base64url characters."""
    return secrets.token_urlsafe(nbytes)


def random_password() -> str:
    """A random password that satisfies the password policy (for generated accounts)."""
    return f"{secrets.token_urlsafe(12)}-Sp9"


def token_hash(token: str) -> str:
    """What the database stores instead of the token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


__all__ = [
    "HashingParameters",
    "configure_hashing",
    "hash_password",
    "hash_password_async",
    "hashing_parameters",
    "needs_rehash",
    "new_token",
    "prepare_dummy_hash",
    "random_password",
    "token_hash",
    "verify_password",
    "verify_password_async",
]
