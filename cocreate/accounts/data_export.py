"""Download my data as a zip: asked for on the account page, built by the worker, mailed as a link that expires.

- :func:`request_export` (the POST, rate-limited) stores a :class:`DataExport` row and queues
  :data:`BUILD_TASK` after commit. One request at a time: while one is being prepared, asking again
  changes nothing.
- :func:`build` (the worker) reads every section of :func:`cocreate.accounts.self_service.export_data_of`
  and writes ``exports/<nonce>.zip`` in the data folder: ``data.json`` (everything), one CSV per
  section (flattened; UTF-8 with a byte order mark so that Excel reads Japanese), and a README in
  Japanese and English. It then mails the owner the link, in their language.
- The link (:func:`link`) carries the row's id and nonce signed with the site's key; it answers only to
  the signed-in owner (:func:`open_file`), until ``expires_at`` (``COCREATE_DATA_EXPORT_DAYS``, 7 by
  default). :func:`expire_due` (a beat task) then deletes the file and marks the row expired.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col, select

from cocreate import mail, paths
from cocreate.accounts import self_service
from cocreate.accounts.models import DataExport, DataExportStatus, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import N_, using_locale
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from cocreate.tasks.queue import enqueue
from cocreate.web.templating import render_standalone

BUILD_TASK = "cocreate.accounts.build_data_export"
EXPIRE_TASK = "cocreate.accounts.expire_data_exports"
SALT = "cocreate.accounts.data_export"
MAX_TOKEN_LENGTH = 300
STALE_REQUEST = timedelta(hours=1)
"""A request still not built after this (its task lost) no longer keeps the person from asking again."""


# --- where the files are, and the link ----------------------------------------------------------------


def folder(settings: Settings) -> Path:
    return settings.data_dir / "exports"


def file_path(settings: Settings, export: DataExport) -> Path:
    return folder(settings) / f"{export.nonce}.zip"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.signing_key(), salt=SALT)


def token(settings: Settings, export: DataExport) -> str:
    return _serializer(settings).dumps({"e": export.id, "n": export.nonce})


def download_path(settings: Settings, export: DataExport) -> str:
    return paths.data_export_download(token(settings, export))


def link(settings: Settings, export: DataExport) -> str:
    """The absolute address mailed to the owner."""
    return paths.absolute(settings, download_path(settings, export))


def file_name(export: DataExport) -> str:
    assert export.ready_at is not None
    return f"cocreate-data-{export.ready_at.date().isoformat()}.zip"


# --- the account page -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportState:
    """The person's latest request as the page shows it: its status, and the link while it works."""

    export: DataExport | None
    status: DataExportStatus | None
    download: str | None = None

    @property
    def preparing(self) -> bool:
        return self.status is DataExportStatus.REQUESTED


def latest(session: Session, settings: Settings, actor: Principal) -> ExportState:
    """The signed-in person's latest request (one query); a ready one past its time shows as expired."""
    user_id = require_signed_in(actor).id
    export = session.exec(select(DataExport).where(DataExport.user_id == user_id)
                          .order_by(col(DataExport.id).desc()).limit(1)).first()
    if export is None:
        return ExportState(None, None)
    status = export.status
    if status is DataExportStatus.READY and (export.expires_at is None or export.expires_at <= utcnow()):
        status = DataExportStatus.EXPIRED
    if status is DataExportStatus.REQUESTED and export.created_at <= utcnow() - STALE_REQUEST:
        status = DataExportStatus.FAILED
    download = download_path(settings, export) if status is DataExportStatus.READY else None
    return ExportState(export, status, download)


@transactional
def request_export(session: Session, actor: Principal) -> DataExport:
    """Ask for a zip of one's data; the worker builds it once this commits. Refused while one is being prepared."""
    user_id = require_signed_in(actor).id
    # The account row is locked so that two requests at once cannot both pass the check below.
    session.exec(select(User.id).where(User.id == user_id).with_for_update()).one()
    pending = session.exec(select(DataExport.id).where(
        DataExport.user_id == user_id, DataExport.status == DataExportStatus.REQUESTED,
        col(DataExport.created_at) > utcnow() - STALE_REQUEST)).first()
    if pending is not None:
        raise Invalid({"export": _("Your data is already being prepared. We will e-mail you a link when it is "
                                   "ready.")})
    export = DataExport(user_id=user_id, status=DataExportStatus.REQUESTED, nonce=secrets.token_urlsafe(24))
    session.add(export)
    session.flush()
    enqueue(session, BUILD_TASK, export.id)
    return export


# --- the download -----------------------------------------------------------------------------------


def open_file(session: Session, settings: Settings, actor: Principal, value: str) -> tuple[Path, str]:
    """The zip's path and download name for the signed-in owner; NotFound for anyone else, a forged or
    damaged token, an expired link or a file already deleted."""
    user_id = require_signed_in(actor).id
    try:
        claims = _serializer(settings).loads(value) if value and len(value) <= MAX_TOKEN_LENGTH else None
    except BadSignature:
        claims = None
    if not isinstance(claims, dict) or not isinstance(claims.get("e"), int) or not isinstance(claims.get("n"), str):
        raise NotFound()
    export = session.get(DataExport, claims["e"])
    if (export is None or export.user_id != user_id or export.nonce != claims["n"]
            or export.status is not DataExportStatus.READY or export.expires_at is None
            or export.expires_at <= utcnow()):
        raise NotFound()
    path = file_path(settings, export)
    if not path.is_file():
        raise NotFound()
    return path, file_name(export)


# --- the worker's build -----------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return json.dumps(value, default=self_service._json_default, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A row as flat columns: nested objects become ``parent.child``; lists stay whole, as JSON."""
    if not isinstance(value, dict):
        return {prefix or "value": value}
    row: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict):
            row.update(_flatten(item, name))
        else:
            row[name] = item
    return row


def tables(name: str, value: Any) -> dict[str, list[dict[str, Any]]]:
    """The CSV tables of one section: a list is one table; an object is one row, and each list of objects
    in it its own table ``<section>.<key>`` (e.g. ``notification_settings.chosen``)."""
    if isinstance(value, list):
        return {name: [_flatten(item) for item in value]}
    if isinstance(value, dict):
        result: dict[str, list[dict[str, Any]]] = {}
        scalars = {key: item for key, item in value.items()
                   if not (isinstance(item, list) and all(isinstance(row, dict) for row in item))}
        if scalars:
            result[name] = [_flatten(scalars)]
        for key, item in value.items():
            if key not in scalars:
                result[f"{name}.{key}"] = [_flatten(row) for row in item]
        return result or {name: []}
    return {name: [{"value": value}]}


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte order mark (Excel then reads Japanese); the columns in the order they first appear."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if columns:
        writer.writerow(list(columns))
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue().encode("utf-8-sig")


def zip_bytes(data: dict[str, Any]) -> bytes:
    """``data.json``, ``csv/<table>.csv`` for every section and ``README.txt`` (Japanese and English)."""
    csv_files: list[str] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", self_service.export_json(data))
        for section, value in data.items():
            if section in ("format", "version", "exported_at"):
                continue
            for table, rows in tables(section, value).items():
                csv_files.append(f"csv/{table}.csv")
                archive.writestr(f"csv/{table}.csv", csv_bytes(rows))
        readme = render_standalone("accounts/export_readme.txt", files=csv_files,
                                   exported_at=_cell(data.get("exported_at")))
        archive.writestr("README.txt", readme.encode("utf-8"))
    return buffer.getvalue()


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(body)
    os.chmod(partial, 0o600)
    os.replace(partial, path)  # a download never sees half a file


def build(session: Session, settings: Settings, export_id: int) -> bool:
    """Build one requested zip and mail the link; False when there is nothing to do (built already, or the
    account is gone). Safe to run twice: the file is named by the request, and only one run marks it ready."""
    with unit_of_work(session):  # read: what to build, and the data (no lock is taken)
        export = session.get(DataExport, export_id)
        if export is None or export.status is not DataExportStatus.REQUESTED:
            return False
        user = session.get(User, export.user_id)
        if user is None or not user.is_active:
            return False
        body = zip_bytes(self_service.export_data_of(session, user))
    path = file_path(settings, export)
    _write(path, body)
    with unit_of_work(session):
        export = session.exec(select(DataExport).where(DataExport.id == export_id).with_for_update()).one()
        if export.status is not DataExportStatus.REQUESTED:
            return False  # another run marked it ready meanwhile (same file) or it expired
        now = utcnow()
        export.status = DataExportStatus.READY
        export.ready_at = now
        export.expires_at = now + timedelta(days=settings.data_export_days)
        export.size_bytes = len(body)
        user = session.get(User, export.user_id)
        assert user is not None and user.email is not None
        with using_locale(user.locale):
            text = render_standalone("mail/data_export_ready.txt", base_url=settings.base_url, user=user,
                                     link=link(settings, export), days=settings.data_export_days)
            mail.queue_email(session, to=user.email, subject=_(N_("Your cocreate data is ready to download")),
                             text=text)
    return True


# --- expiry -----------------------------------------------------------------------------------------


def _remove(settings: Settings, export: DataExport) -> None:
    for path in (file_path(settings, export), file_path(settings, export).with_suffix(".part")):
        path.unlink(missing_ok=True)


def expire_due(session: Session, settings: Settings, *, now: Any = None) -> int:
    """Delete the files of links past their time, mark them expired (requests never built: failed), and
    delete any file no working link points to any more (its account deleted, say); how many rows changed."""
    now = now or utcnow()
    with unit_of_work(session):
        due = session.exec(select(DataExport).where(
            ((DataExport.status == DataExportStatus.READY) & (col(DataExport.expires_at) <= now))
            | ((DataExport.status == DataExportStatus.REQUESTED) & (col(DataExport.created_at) <= now - STALE_REQUEST))
        ).order_by(col(DataExport.id)).with_for_update()).all()
        for export in due:
            _remove(settings, export)
            export.status = DataExportStatus.EXPIRED if export.status is DataExportStatus.READY else DataExportStatus.FAILED
        kept = set(session.exec(select(DataExport.nonce).where(col(DataExport.status).in_(
            [DataExportStatus.READY, DataExportStatus.REQUESTED]))).all())
    if folder(settings).is_dir():
        for path in folder(settings).iterdir():
            if path.name.split(".")[0] not in kept:
                path.unlink(missing_ok=True)
    return len(due)


def erase_for_deleted_account(session: Session, user: User) -> None:
    """Deletion hook: the account's requests go with it at once (no link works any more), and the worker
    deletes their files right after (:func:`expire_due` removes files no request points to)."""
    exports = session.exec(select(DataExport).where(DataExport.user_id == user.id)).all()
    for export in exports:
        session.delete(export)
    if exports:
        enqueue(session, EXPIRE_TASK)
