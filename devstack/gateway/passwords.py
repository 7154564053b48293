"""Password hashes with scrypt (standard library), stored as one self-describing string.

`scrypt$<n>$<r>$<p>$<salt>$<hash>` keeps the cost parameters with each hash, so the cost can be
raised (DEVSTACK_SCRYPT_LOG2_N) without locking anyone out: old hashes verify with their own
parameters and are rehashed at the next successful sign-in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

from devstack import settings

_R, _P, _DKLEN = 8, 1, 32
# A stored hash is trusted data, but a corrupt one must not make us allocate gigabytes.
_MAX_N = 2**20


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL's own default memory cap (32 MiB) is below N=2^17's 128 MiB: allow exactly what
    # these parameters need (its check is 128*r*(N+2) for V plus 128*r*p for B).
    maxmem = 128 * r * (n + p + 2)
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


def hash_password(password: str, log2_n: int | None = None) -> str:
    """A new hash at the configured cost (or at 2**log2_n)."""
    n, salt = 2 ** (log2_n or settings.scrypt_log2_n()), os.urandom(16)
    digest = _scrypt(password, salt, n, _R, _P, _DKLEN)
    return f"scrypt${n}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not 1 < int(n) <= _MAX_N:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """True when `stored` was made with other parameters than new hashes get now."""
    return stored.split("$")[1:4] != [str(2 ** settings.scrypt_log2_n()), str(_R), str(_P)]


@functools.cache
def _dummy_hash(log2_n: int) -> str:
    return hash_password("not a password anyone has", log2_n)


def dummy_hash() -> str:
    """Checked against when the email is unknown, so a wrong email costs as long as a wrong
    password (at the current cost)."""
    return _dummy_hash(settings.scrypt_log2_n())
