"""Files attached to a challenge: PDFs and images, checked by their content and stored under random
names by :mod:`cocreate.files.storage` in the ``challenges`` folder of the upload folder."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import unit_of_work
from cocreate.errors import Invalid
from cocreate.files.storage import (
    MAX_FILE_BYTES,
    PDF,
    ReceivedFile,
    clean_filename,
    receive,
    remove_file,
    stored_path,
)
from cocreate.forms import Problems, text_error
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from proposals.challenges import services as challenges
from proposals.models import AttachmentKind, Challenge, ChallengeAttachment
from proposals.permissions import on_challenge

log = logging.getLogger(__name__)

MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 20
MAX_TITLE = 200
STORAGE_FOLDER = "challenges"


def path_of(settings: Settings, attachment: ChallengeAttachment) -> Path:
    """Where the file of ``attachment`` lives."""
    return stored_path(settings, attachment.storage_key, STORAGE_FOLDER)


# --- use cases -----------------------------------------------------------------------------------


def attachments_of(session: Session, challenge_id: int) -> Sequence[ChallengeAttachment]:
    """A challenge's attachments, oldest first."""
    return session.exec(select(ChallengeAttachment).where(ChallengeAttachment.challenge_id == challenge_id)
                        .order_by(col(ChallengeAttachment.created_at), col(ChallengeAttachment.id))).all()


def _editable_challenge(session: Session, actor: Principal, challenge_id: int, *, lock: bool) -> Challenge:
    require_signed_in(actor)
    challenge = session.get(Challenge, challenge_id, with_for_update=lock, populate_existing=lock)
    if challenge is None:
        raise Invalid({"challenge": _("This challenge does not exist.")})
    permissions.require(actor, "challenge.attach", on_challenge(session, actor, challenge))
    return challenge


def _check_fields(kind: str, title: str) -> Problems:
    problems = Problems()
    if kind not in {k.value for k in AttachmentKind}:
        problems.add("kind", _("Choose what kind of file this is."))
    described = kind in (AttachmentKind.IMAGE, AttachmentKind.COVER)
    if message := text_error(title.strip(), MAX_TITLE, single_line=True, required=_(
            "Describe the image in a few words; this text is read out to people who cannot see it.")
            if described else None):
        problems.add("attachment_title", message)
    return problems


def add(session: Session, settings: Settings, actor: Principal, challenge_id: int, *, kind: str, title: str,
        source: BinaryIO | None, filename: str) -> ChallengeAttachment:
    """Attach an uploaded file (staff of an owning department; audited).

    A document must be a PDF, an image or cover a PNG, JPEG, GIF or WebP image. A new cover replaces
    the previous one, whose file is removed after the commit. Limits: :data:`MAX_FILE_BYTES` a file,
    :data:`MAX_TOTAL_BYTES` and :data:`MAX_FILES` a challenge. The copied file is removed when anything
    refuses.
    """
    with unit_of_work(session):  # checked, then no transaction is held open while the file is copied
        _editable_challenge(session, actor, challenge_id, lock=False)
    problems = _check_fields(kind, title)
    received: ReceivedFile | None = None
    if source is None or not filename:
        problems.add("file", _("Choose a file to upload."))
    else:
        try:
            received = receive(settings, source, MAX_FILE_BYTES, folder=STORAGE_FOLDER)
        except Invalid as failed:
            problems.extend(failed.errors)
    if received is not None and "kind" not in problems.errors:
        if kind == AttachmentKind.DOCUMENT and received.file_type is not PDF:
            problems.add("file", _("A document must be a PDF file. Upload images as an image."))
        elif kind != AttachmentKind.DOCUMENT and not received.file_type.is_image:
            problems.add("file", _("Choose a PNG, JPEG, GIF or WebP image."))
    if problems:
        if received is not None:
            remove_file(received.path)
        problems.raise_any()
    assert received is not None

    try:
        with unit_of_work(session):
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
                raise Invalid({"file": _("A challenge can have at most %(max)s files. Delete one first.",
                                         max=MAX_FILES)})
            if total + received.size_bytes > MAX_TOTAL_BYTES:
                raise Invalid({"file": _(
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
            audit.record(session, actor_id=user.id, actor_label=user.display_name,
                         action="challenge.attachment_added", target_type="challenge", target_id=str(challenge.id),
                         details={"attachment_id": attachment.id, "kind": kind, "filename": attachment.filename,
                                  "content_type": attachment.content_type, "size_bytes": attachment.size_bytes,
                                  "sha256": attachment.sha256, "replaced": [row.id for row in replaced]})
            old_paths = [path_of(settings, row) for row in replaced]
    except BaseException:
        remove_file(received.path)
        raise
    for path in old_paths:
        remove_file(path)
    return attachment


def delete(session: Session, settings: Settings, actor: Principal, challenge_id: int, attachment_id: int) -> None:
    """Remove an attachment (staff of an owning department; audited); its file goes after the commit."""
    with unit_of_work(session):
        _editable_challenge(session, actor, challenge_id, lock=True)
        attachment = session.get(ChallengeAttachment, attachment_id)
        if attachment is None or attachment.challenge_id != challenge_id:
            raise Invalid({"attachment": _("This file does not exist (it may have been deleted already).")})
        user = require_signed_in(actor)
        path = path_of(settings, attachment)
        session.delete(attachment)
        audit.record(session, actor_id=user.id, actor_label=user.display_name, action="challenge.attachment_deleted",
                     target_type="challenge", target_id=str(challenge_id),
                     details={"attachment_id": attachment_id, "kind": attachment.kind.value,
                              "filename": attachment.filename, "sha256": attachment.sha256})
    remove_file(path)


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
