"""Stable pseudonyms for the authors of residents' contributions in open data.

An author appears as ``p-`` and 16 hex digits of an HMAC-SHA-256 of their account id, keyed with the
site's secret (:meth:`cocreate.settings.Settings.signing_key`) under a purpose of its own: the same person
has the same pseudonym in every dataset and every generation (so a reader can tell that two comments
come from one person), and nobody without the secret can go from the pseudonym back to the account (an
id is a small number; a plain hash of it would be reversed by trying them all).

The generator sets the key for the dataset functions (:func:`keyed`); a dataset function called outside
it fails rather than publishing an unkeyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PURPOSE = b"cocreate open data pseudonym v1\x00"

_key: ContextVar[bytes | None] = ContextVar("opendata_pseudonym_key", default=None)


@contextmanager
def keyed(secret: str) -> Iterator[None]:
    """Pseudonyms made inside the block are keyed with ``secret`` (the site's signing key)."""
    token = _key.set(hashlib.sha256(PURPOSE + secret.encode()).digest())
    try:
        yield
    finally:
        _key.reset(token)


def pseudonym(account_id: int | None) -> str:
    """The author's pseudonym (``p-1f3a…``); "" for no account (an assisted entry, a deleted account)."""
    if account_id is None:
        return ""
    key = _key.get()
    if key is None:
        raise RuntimeError("no pseudonym key: call the dataset inside cocreate.opendata.pseudonyms.keyed()")
    return "p-" + hmac.new(key, str(int(account_id)).encode(), hashlib.sha256).hexdigest()[:16]
