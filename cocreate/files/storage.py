"""Uploaded files, checked by their content and stored under random names (every component's uploads).

The type is read from the first bytes of the file (its "magic number"), never from its name or the
type the browser claims, so an executable or an HTML page renamed ``.pdf`` is refused. SVG is refused
too: it can carry scripts. The upload is copied to disk in chunks and reading stops as soon as the
size limit is passed. The file on disk is named by a random key in a folder of the upload folder
(one per kind of owner, e.g. ``challenges``, ``field-photos``); the name it was uploaded with is kept,
cleaned, for display only. Rows that point to such a file use :class:`cocreate.files.models.StoredFile`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.settings import Settings

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 255
CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 12
# Control characters and the invisible bidirectional overrides that make "evil‮fdp.exe" look like a PDF.
_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    """Accepted name endings; the first is added when the uploaded name has none of them."""

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


PDF = FileType("application/pdf", (".pdf",))
PNG = FileType("image/png", (".png",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"))
GIF = FileType("image/gif", (".gif",))
WEBP = FileType("image/webp", (".webp",))


def detect_type(head: bytes) -> FileType | None:
    """The type of a file from its first bytes (at least :data:`SNIFF_BYTES`), or None if not accepted."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def clean_filename(raw: str, file_type: FileType | None = None) -> str:
    """The uploaded name made safe to show and to send back: no folders, no control or bidi characters,
    at most 255 characters, ending in an extension that matches the detected type."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME_CHARS.sub("", name).strip().strip(".").strip()
    if file_type is not None and not name.lower().endswith(file_type.extensions):
        name = f"{name or 'attachment'}{file_type.extensions[0]}"
    name = name or "attachment"
    if len(name) > MAX_FILENAME:
        _stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 10:  # keep the extension, shorten the name before it
            name = name[: MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_FILENAME]
    return name


def storage_root(settings: Settings) -> Path:
    assert settings.upload_dir is not None
    return settings.upload_dir


def stored_path(settings: Settings, storage_key: str, folder: str) -> Path:
    """Where a file that :func:`receive` stored in ``folder`` lives. The key is checked against the form
    ``receive`` gives it, so a bad row cannot point anywhere else on disk."""
    if not re.fullmatch(rf"{re.escape(folder)}/[0-9a-f]{{32}}", storage_key):
        raise ValueError(f"unexpected storage key {storage_key!r}")
    return storage_root(settings) / storage_key


def remove_file(path: Path) -> None:
    """Remove a stored file; a failure is logged, never raised (the row is what counts)."""
    _remove(path)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # the row is gone already; a stray file is harmless and can be swept later
        log.exception("could not remove stored file %s", path)


# --- receiving a file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedFile:
    storage_key: str
    path: Path
    size_bytes: int
    sha256: str
    file_type: FileType


def receive(settings: Settings, source: BinaryIO, limit: int = MAX_FILE_BYTES, *, folder: str) -> ReceivedFile:
    """Copy ``source`` to a new file under a random name in ``folder`` (of the upload folder), in chunks.

    Reading stops at the first chunk past ``limit`` and as soon as the first bytes show a type that is
    not accepted; nothing is left on disk then. Raises Invalid({"file": …}).
    """
    (storage_root(settings) / folder).mkdir(parents=True, exist_ok=True)
    key = f"{folder}/{secrets.token_hex(16)}"
    path = storage_root(settings) / key
    digest = hashlib.sha256()
    size = 0
    head = b""
    file_type: FileType | None = None
    error: str | None = None
    try:
        with path.open("xb") as out:
            while True:
                chunk = source.read(CHUNK_BYTES)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    error = _("The file is larger than %(max)s MB.", max=limit // (1024 * 1024))
                    break
                if file_type is None:
                    head += chunk[: SNIFF_BYTES - len(head)]
                    if len(head) >= SNIFF_BYTES:
                        file_type = detect_type(head)
                        if file_type is None:
                            break
                digest.update(chunk)
                out.write(chunk)
        if error is None and size == 0:
            error = _("The file is empty.")
        if error is None and file_type is None:
            file_type = detect_type(head)
        if error is None and file_type is None:
            error = _("Only PDF files and PNG, JPEG, GIF or WebP images are accepted. The type is checked "
                      "by the file's content, whatever its name says.")
    except BaseException:
        _remove(path)
        raise
    if error is not None or file_type is None:
        _remove(path)
        raise Invalid({"file": error or ""})
    return ReceivedFile(key, path, size, digest.hexdigest(), file_type)
