"""Password hashing with argon2id (argon2-cffi); hashes are upgraded when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 copes with more; the cap keeps a hostile 10 MB "password" from costing CPU


PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,  # argon2id, 64 MiB, 3 passes: the default
    "fast-for-tests": profiles.CHEAPEST,  # refused in production by the settings
}
_hasher: list[PasswordHasher] = []


def configure(profile: str) -> None:
    """Hash new passwords with this profile (``COCREATE_PASSWORD_HASHING``). Verification always reads
    the parameters stored in the hash, so hashes of either profile keep working."""
    _hasher[:] = [PasswordHasher.from_parameters(PROFILES[profile])]
    _DUMMY_HASH.clear()


def hasher() -> PasswordHasher:
    if not _hasher:
        configure("rfc9106-low-memory")
    return _hasher[0]


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


_DUMMY_HASH: list[str] = []


def burn_time(password: str) -> None:
    """Spend the time of a real verification when no account matches (no timing enumeration)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password("not-a-real-password"))
    verify_password(_DUMMY_HASH[0], password[:MAX_LENGTH])
