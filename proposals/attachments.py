"""Files attached to a challenge: PDFs and images, checked by their content, stored under random names.

The type is read from the first bytes of the file (its "magic number"), never from its name or the
type the browser claims, so an executable or an HTML page renamed ``.pdf`` is refused. SVG is refused
too: it can carry scripts. The upload is copied to disk in chunks and reading stops as soon as the
size limit is passed. The file on disk is named by a random key; the name it was uploaded with is
kept, cleaned, for display only.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, func, select

from cocreate import audit
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.accounts.services import ValidationFailed
from cocreate.settings import Settings
from cocreate.web.i18n import gettext as _
from proposals import challenges, lifecycle, phases
from proposals.models import AttachmentKind, Challenge, ChallengeAttachment

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 20
MAX_TITLE = 200
MAX_FILENAME = 255
CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 12
STORAGE_FOLDER = "challenges"
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


def path_of(settings: Settings, attachment: ChallengeAttachment) -> Path:
    """Where the file of ``attachment`` lives."""
    return stored_path(settings, attachment.storage_key, STORAGE_FOLDER)


def remove_file(path: Path) -> None:
    """Remove a stored file; a failure is logged, never raised (the row is what counts)."""
    _remove(path)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # the row is gone already; a stray file is harmless and can be swept later
        log.exception("could not remove attachment file %s", path)


# --- receiving a file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedFile:
    storage_key: str
    path: Path
    size_bytes: int
    sha256: str
    file_type: FileType


def receive(settings: Settings, source: BinaryIO, limit: int = MAX_FILE_BYTES, *,
            folder: str = STORAGE_FOLDER) -> ReceivedFile:
    """Copy ``source`` to a new file under a random name in ``folder`` (of the upload folder), in chunks.

    Reading stops at the first chunk past ``limit`` and as soon as the first bytes show a type that is
    not accepted; nothing is left on disk then. Raises ValidationFailed({"file": …}).
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
        raise ValidationFailed({"file": error or ""})
    return ReceivedFile(key, path, size, digest.hexdigest(), file_type)


# --- use cases -----------------------------------------------------------------------------------


def attachments_of(session: Session, challenge_id: int) -> Sequence[ChallengeAttachment]:
    """A challenge's attachments, oldest first."""
    return session.exec(select(ChallengeAttachment).where(ChallengeAttachment.challenge_id == challenge_id)
                        .order_by(col(ChallengeAttachment.created_at), col(ChallengeAttachment.id))).all()


def download_url(attachment: ChallengeAttachment) -> str:
    return f"/challenges/{attachment.challenge_id}/attachments/{attachment.id}"


def _editable_challenge(session: Session, actor: Principal, challenge_id: int, *, lock: bool) -> Challenge:
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id, with_for_update=lock, populate_existing=lock)
    if challenge is None:
        raise ValidationFailed({"challenge": _("This challenge does not exist.")})
    lifecycle.require_owner(session, actor, challenge)
    if challenge.phase in phases.TERMINAL:
        session.rollback()
        raise Forbidden(_("This challenge has ended and can no longer be edited."))
    return challenge


def _check_fields(kind: str, title: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if kind not in {k.value for k in AttachmentKind}:
        errors["kind"] = _("Choose what kind of file this is.")
    stripped = title.strip()
    if not stripped and kind in (AttachmentKind.IMAGE, AttachmentKind.COVER):
        errors["attachment_title"] = _("Describe the image in a few words; this text is read out to people "
                                       "who cannot see it.")
    elif len(stripped) > MAX_TITLE:
        errors["attachment_title"] = _("Use at most %(max)s characters.", max=MAX_TITLE)
    elif challenges.CONTROL_CHARS.search(stripped) or "\n" in stripped or "\r" in stripped:
        errors["attachment_title"] = _("This field contains characters that cannot be used.")
    return errors


def add(session: Session, settings: Settings, actor: Principal, challenge_id: int, *, kind: str, title: str,
        source: BinaryIO | None, filename: str) -> ChallengeAttachment:
    """Attach an uploaded file (staff of an owning department; audited).

    A document must be a PDF, an image or cover a PNG, JPEG, GIF or WebP image. A new cover replaces
    the previous one, whose file is removed after the commit. Limits: :data:`MAX_FILE_BYTES` a file,
    :data:`MAX_TOTAL_BYTES` and :data:`MAX_FILES` a challenge.
    """
    _editable_challenge(session, actor, challenge_id, lock=False)
    session.rollback()  # hold no transaction open while the file is copied
    errors = _check_fields(kind, title)
    received: ReceivedFile | None = None
    if source is None or not filename:
        errors["file"] = _("Choose a file to upload.")
    else:
        try:
            received = receive(settings, source)
        except ValidationFailed as failed:
            errors.update(failed.errors)
    if received is not None and "kind" not in errors:
        if kind == AttachmentKind.DOCUMENT and received.file_type is not PDF:
            errors["file"] = _("A document must be a PDF file. Upload images as an image.")
        elif kind != AttachmentKind.DOCUMENT and not received.file_type.is_image:
            errors["file"] = _("Choose a PNG, JPEG, GIF or WebP image.")
    if errors:
        if received is not None:
            _remove(received.path)
        session.rollback()
        raise ValidationFailed(errors)
    assert received is not None

    try:
        # The challenge row is locked while the limits are counted, so two uploads at once cannot both
        # squeeze under them.
        challenge = _editable_challenge(session, actor, challenge_id, lock=True)
        replaced = session.exec(select(ChallengeAttachment).where(
            ChallengeAttachment.challenge_id == challenge_id,
            ChallengeAttachment.kind == AttachmentKind.COVER)).all() if kind == AttachmentKind.COVER else []
        count, total = session.exec(
            select(func.count(), func.coalesce(func.sum(ChallengeAttachment.size_bytes), 0))
            .where(ChallengeAttachment.challenge_id == challenge_id)).one()
        count -= len(replaced)
        total -= sum(row.size_bytes for row in replaced)
        if count + 1 > MAX_FILES:
            raise ValidationFailed({"file": _("A challenge can have at most %(max)s files. Delete one first.",
                                              max=MAX_FILES)})
        if total + received.size_bytes > MAX_TOTAL_BYTES:
            raise ValidationFailed({"file": _(
                "All files of a challenge together may take at most %(max)s MB; this one would go over. "
                "Delete a file first.", max=MAX_TOTAL_BYTES // (1024 * 1024))})
        for row in replaced:
            session.delete(row)
        user = require_signed_in(actor)
        attachment = ChallengeAttachment(
            challenge_id=challenge_id, kind=AttachmentKind(kind), title=title.strip(),
            filename=clean_filename(filename, received.file_type), content_type=received.file_type.content_type,
            size_bytes=received.size_bytes, sha256=received.sha256, storage_key=received.storage_key,
            uploaded_by_id=user.id)
        session.add(attachment)
        session.flush()
        audit.record(session, actor_id=user.id, actor_label=user.display_name, action="challenge.attachment_added",
                     target_type="challenge", target_id=str(challenge.id),
                     details={"attachment_id": attachment.id, "kind": kind, "filename": attachment.filename,
                              "content_type": attachment.content_type, "size_bytes": attachment.size_bytes,
                              "sha256": attachment.sha256, "replaced": [row.id for row in replaced]})
        old_paths = [path_of(settings, row) for row in replaced]
        session.commit()
    except BaseException:
        session.rollback()
        _remove(received.path)
        raise
    for path in old_paths:
        _remove(path)
    return attachment


def delete(session: Session, settings: Settings, actor: Principal, challenge_id: int, attachment_id: int) -> None:
    """Remove an attachment (staff of an owning department; audited); its file goes after the commit."""
    _editable_challenge(session, actor, challenge_id, lock=True)
    attachment = session.get(ChallengeAttachment, attachment_id)
    if attachment is None or attachment.challenge_id != challenge_id:
        session.rollback()
        raise ValidationFailed({"attachment": _("This file does not exist (it may have been deleted already).")})
    user = require_signed_in(actor)
    path = path_of(settings, attachment)
    session.delete(attachment)
    audit.record(session, actor_id=user.id, actor_label=user.display_name, action="challenge.attachment_deleted",
                 target_type="challenge", target_id=str(challenge_id),
                 details={"attachment_id": attachment_id, "kind": attachment.kind.value,
                          "filename": attachment.filename, "sha256": attachment.sha256})
    session.commit()
    _remove(path)


def for_download(session: Session, settings: Settings, actor: Principal, challenge_id: int,
                 attachment_id: int) -> tuple[ChallengeAttachment, Challenge, Path] | None:
    """The attachment, its challenge and its file if ``actor`` may see them (drafts: owning staff only)."""
    challenge = challenges.visible_challenge(session, actor, challenge_id)
    if challenge is None:
        return None
    attachment = session.get(ChallengeAttachment, attachment_id)
    if attachment is None or attachment.challenge_id != challenge_id:
        return None
    path = path_of(settings, attachment)
    if not path.is_file():
        log.error("attachment %s of challenge %s has no file at %s", attachment_id, challenge_id, path)
        return None
    return attachment, challenge, path
