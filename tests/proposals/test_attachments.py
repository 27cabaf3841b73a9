"""Attachments of challenges: checked by content, limited in size, stored under random names, served
with safe headers, hidden while the challenge is a draft, removed from disk when deleted."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from urllib.parse import unquote

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.permissions import Forbidden, Principal
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.errors import Invalid
from cocreate.files import storage
from cocreate.files.storage import GIF, JPEG, PDF, PNG, WEBP, clean_filename, detect_type
from cocreate.settings import Settings
from cocreate.web.downloads import content_disposition
from proposals.challenges import attachments
from proposals.models import AttachmentKind, ChallengeAttachment
from tests.factories import create_challenge, sign_in
from tests.helpers import assert_no_live_markup
from tests.proposals.staff_helpers import (
    EXECUTABLE,
    HTML_PAGE,
    SVG_IMAGE,
    Ward,
    make_ward,
    pdf_bytes,
    png_bytes,
    post,
    signed_in_client,
    upload,
)

pytestmark = pytest.mark.databases("sqlite", why="attachment checks are Python")

MB = 1024 * 1024


@pytest.fixture
def ward(session: Session) -> Ward:
    return make_ward(session)


def stored_files(settings: Settings) -> list[Path]:
    folder = storage.storage_root(settings) / "challenges"
    return sorted(folder.iterdir()) if folder.exists() else []


def rows(session: Session) -> list[ChallengeAttachment]:
    session.expire_all()
    return list(session.exec(select(ChallengeAttachment).order_by(ChallengeAttachment.id)).all())


def actor(session: Session, ward: Ward, who: str = "staff") -> Principal:
    return Principal.load(session, ward.people[who])


# --- type detection and names --------------------------------------------------------------------


def test_the_type_comes_from_the_content() -> None:
    assert detect_type(pdf_bytes()[:12]) is PDF
    assert detect_type(png_bytes()[:12]) is PNG
    assert detect_type(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01") is JPEG
    assert detect_type(b"GIF89a\x01\x00\x01\x00\x80\x00") is GIF
    assert detect_type(b"RIFF\x24\x00\x00\x00WEBPVP8 ") is WEBP
    for content in (EXECUTABLE, HTML_PAGE, SVG_IMAGE, b"PK\x03\x04zip", b"", b"RIFF\x24\x00\x00\x00WAVEfmt ",
                    b"  %PDF-1.4", b"\x7fELF\x02\x01\x01"):
        assert detect_type(content[:12]) is None, content[:12]


@pytest.mark.parametrize(("raw", "file_type", "expected"), [
    ("資料 2026.pdf", PDF, "資料 2026.pdf"),
    ("../../etc/passwd", PDF, "passwd.pdf"),
    ("C:\\Users\\職員\\Desktop\\概要.PDF", PDF, "概要.PDF"),
    ("report.exe", PDF, "report.exe.pdf"),
    ("photo.jpeg", JPEG, "photo.jpeg"),
    ("evil\u202efdp.exe", PDF, "evilfdp.exe.pdf"),
    ("line\nbreak\x00.png", PNG, "linebreak.png"),
    ("  .hidden.pdf  ", PDF, "hidden.pdf"),
    ("", PNG, "attachment.png"),
    ("/", PDF, "attachment.pdf"),
])
def test_file_names_are_cleaned_for_display(raw: str, file_type: object, expected: str) -> None:
    assert clean_filename(raw, file_type) == expected  # type: ignore[arg-type]


def test_long_file_names_keep_their_extension() -> None:
    name = clean_filename("あ" * 400 + ".pdf", PDF)
    assert len(name) == 255 and name.endswith(".pdf")


def test_content_disposition_has_an_ascii_fallback_and_the_encoded_name() -> None:
    header = content_disposition('資料 "最終"版.pdf')
    assert header.startswith("inline; filename=\"")
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and '"' not in fallback and fallback.endswith(".pdf")
    encoded = header.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == '資料 "最終"版.pdf' and " " not in encoded and '"' not in encoded


# --- uploading through the page ------------------------------------------------------------------


def test_staff_attach_a_real_pdf_and_a_real_png(
    client: TestClient[Litestar], session: Session, settings: Settings, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    document, image = pdf_bytes("Takashimadaira"), png_bytes(3, 2)
    response = upload(client, ward.published.id, document, "高島平の移動調査 2026.pdf", title="移動調査の結果")
    assert response.status_code == 303, response.text[:3000]
    assert response.headers["location"] == f"/staff/challenges/{ward.published.id}/edit#attachments"
    response = upload(client, ward.published.id, image, "map.png", kind="image", title="対象地域の地図",
                      content_type="application/pdf")  # what the browser claims does not matter
    assert response.status_code == 303
    pdf_row, png_row = rows(session)
    assert (pdf_row.kind, pdf_row.content_type, pdf_row.filename, pdf_row.title) == (
        AttachmentKind.DOCUMENT, "application/pdf", "高島平の移動調査 2026.pdf", "移動調査の結果")
    assert (png_row.kind, png_row.content_type) == (AttachmentKind.IMAGE, "image/png")
    assert pdf_row.size_bytes == len(document) and pdf_row.sha256 == hashlib.sha256(document).hexdigest()
    assert pdf_row.uploaded_by_id == ward.people["staff"].id
    # Stored under random names in the upload folder, never the user's name.
    files = stored_files(settings)
    assert len(files) == 2 and all(len(f.name) == 32 for f in files)
    assert attachments.path_of(settings, pdf_row).read_bytes() == document
    assert "高島平" not in "".join(str(f) for f in files)
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.attachment_added")).all()
    assert len(entries) == 2 and json.loads(entries[0].details_json)["sha256"] == pdf_row.sha256
    assert verify(session).ok
    page = client.get(f"/staff/challenges/{ward.published.id}/edit").text
    assert "「高島平の移動調査 2026.pdf」を添付しました。" in page
    assert f'href="/challenges/{ward.published.id}/attachments/{pdf_row.id}"' in page


def test_download_headers(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["staff"])
    document = pdf_bytes()
    upload(client, ward.published.id, document, "資料 2026.pdf")
    upload(client, ward.published.id, png_bytes(), "写真.png", kind="image", title="写真")
    pdf_row, png_row = rows(session)
    anonymous = TestClient(client.app, base_url="http://testserver.local")
    with anonymous:
        response = anonymous.get(f"/challenges/{ward.published.id}/attachments/{pdf_row.id}")
        assert response.status_code == 200 and response.content == document
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == (
            "inline; filename=\"__ 2026.pdf\"; filename*=UTF-8''%E8%B3%87%E6%96%99%202026.pdf")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["etag"] == f'"{pdf_row.sha256}"'
        image = anonymous.get(f"/challenges/{ward.published.id}/attachments/{png_row.id}")
        assert image.headers["content-type"] == "image/png" and image.headers["content-disposition"].startswith("inline;")
        # The attachment must belong to the challenge in the address.
        other = create_challenge(session, ward.parks, phase="published", title="別の課題")
        assert anonymous.get(f"/challenges/{other.id}/attachments/{pdf_row.id}").status_code == 404
        assert anonymous.get(f"/challenges/{ward.published.id}/attachments/999999").status_code == 404


def test_draft_attachments_are_only_for_the_owning_staff(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    assert upload(client, ward.draft.id, pdf_bytes(), "下書き資料.pdf").status_code == 303
    (row,) = rows(session)
    url = f"/challenges/{ward.draft.id}/attachments/{row.id}"
    owner = client.get(url)
    assert owner.status_code == 200 and owner.headers["cache-control"] == "private, no-cache"
    for who in ("anonymous", "resident", "member", "admin", "other_staff", "co_staff"):
        with TestClient(client.app, base_url="http://testserver.local") as other:
            signed_in_client(other, ward, who)
            expected = 200 if who == "co_staff" else 404
            assert other.get(url).status_code == expected, who


@pytest.mark.parametrize(("content", "filename", "kind"), [
    (EXECUTABLE, "setup.pdf", "document"),
    (HTML_PAGE, "report.pdf", "document"),
    (SVG_IMAGE, "logo.png", "image"),
    (SVG_IMAGE, "cover.svg", "cover"),
    (HTML_PAGE, "photo.jpg", "image"),
    (b"just some text", "notes.pdf", "document"),
    (b"%PDF", "tiny.pdf", "document"),
    (b"", "empty.pdf", "document"),
])
def test_files_that_are_not_pdfs_or_images_are_refused(
    client: TestClient[Litestar], session: Session, settings: Settings, ward: Ward, content: bytes, filename: str,
    kind: str,
) -> None:
    sign_in(client, ward.people["staff"])
    response = upload(client, ward.published.id, content, filename, kind=kind, title="タイトル")
    assert response.status_code == 400
    assert 'href="#field-file"' in response.text and 'aria-invalid="true"' in response.text
    assert ("ファイルが空です。" if not content else "ファイルの種類は、ファイル名ではなく中身で判定しています") in response.text
    assert rows(session) == [] and stored_files(settings) == []
    assert session.exec(select(AuditEntry)).all() == []


def test_the_kind_must_match_the_content(
    client: TestClient[Litestar], session: Session, settings: Settings, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    as_document = upload(client, ward.published.id, png_bytes(), "map.png", kind="document")
    assert as_document.status_code == 400 and "資料はPDFファイルにしてください" in as_document.text
    as_image = upload(client, ward.published.id, pdf_bytes(), "doc.pdf", kind="image", title="図")
    assert as_image.status_code == 400 and "PNG・JPEG・GIF・WebP形式の画像を選んでください。" in as_image.text
    no_alt = upload(client, ward.published.id, png_bytes(), "map.png", kind="image", title="  ")
    assert no_alt.status_code == 400 and 'href="#field-attachment_title"' in no_alt.text
    bad_kind = upload(client, ward.published.id, pdf_bytes(), "doc.pdf", kind="executable")
    assert bad_kind.status_code == 400 and 'href="#field-kind"' in bad_kind.text
    long_title = upload(client, ward.published.id, pdf_bytes(), "doc.pdf", title="あ" * 201)
    assert long_title.status_code == 400 and 'href="#field-attachment_title"' in long_title.text
    no_file = post(client, f"/staff/challenges/{ward.published.id}/attachments", {"kind": "document"})
    assert no_file.status_code == 400 and "アップロードするファイルを選んでください。" in no_file.text
    assert rows(session) == [] and stored_files(settings) == []


def test_hostile_titles_and_file_names_stay_text(
    client: TestClient[Litestar], session: Session, ward: Ward, xss_payloads: list[str]
) -> None:
    sign_in(client, ward.people["staff"])
    for payload in [p for p in xss_payloads if "\n" not in p][:25]:
        response = upload(client, ward.published.id, png_bytes(), payload[:250], kind="image", title=payload[:200])
        assert response.status_code in (303, 400), payload
    stored = rows(session)
    assert stored and all("/" not in row.filename and "\x00" not in row.filename for row in stored)
    for url in (f"/staff/challenges/{ward.published.id}/edit", f"/staff/challenges/{ward.published.id}/preview"):
        page = client.get(url).text
        assert_no_live_markup(page)
        assert "<script>alert" not in page
    for row in stored:
        header = client.get(f"/challenges/{ward.published.id}/attachments/{row.id}").headers["content-disposition"]
        assert "\n" not in header and header.count('"') == 2


# --- limits --------------------------------------------------------------------------------------


class EndlessPdf(io.RawIOBase):
    """A PDF header followed by zeros without end; counts what was read."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the whole upload must never be read at once"
        chunk = (b"%PDF-1.7\n" + b"\0" * size)[:size] if self.served == 0 else b"\0" * size
        self.served += len(chunk)
        return chunk


def test_reading_stops_at_the_size_limit(session: Session, settings: Settings, ward: Ward) -> None:
    source = EndlessPdf()
    with pytest.raises(Invalid) as failed:
        attachments.add(session, settings, actor(session, ward), ward.published.id, kind="document", title="",
                        source=source, filename="huge.pdf")  # type: ignore[arg-type]
    assert "10MB" in failed.value.errors["file"] or "10 MB" in failed.value.errors["file"]
    assert attachments.MAX_FILE_BYTES < source.served <= attachments.MAX_FILE_BYTES + storage.CHUNK_BYTES
    assert rows(session) == [] and stored_files(settings) == []


def test_an_oversized_upload_is_refused_with_a_clear_message(
    client: TestClient[Litestar], session: Session, settings: Settings, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    content = b"%PDF-1.7\n" + bytes(attachments.MAX_FILE_BYTES)  # one byte and a header past the limit
    response = upload(client, ward.published.id, content, "large.pdf")
    del content
    assert response.status_code == 400
    assert "ファイルの大きさが10MBを超えています。" in response.text
    assert rows(session) == [] and stored_files(settings) == []


def _fill(session: Session, challenge_id: int, sizes: list[int]) -> None:
    """Rows standing for earlier uploads (their files are not needed to count the limits)."""
    for number, size in enumerate(sizes):
        session.add(ChallengeAttachment(challenge_id=challenge_id, kind=AttachmentKind.DOCUMENT, title="",
                                        filename=f"old-{number}.pdf", content_type="application/pdf",
                                        size_bytes=size, sha256="0" * 64, storage_key=f"challenges/{number:032x}"))
    session.commit()


def test_at_most_twenty_files_a_challenge(session: Session, settings: Settings, ward: Ward) -> None:
    _fill(session, ward.published.id, [1000] * attachments.MAX_FILES)
    with pytest.raises(Invalid) as failed:
        attachments.add(session, settings, actor(session, ward), ward.published.id, kind="document", title="",
                        source=io.BytesIO(pdf_bytes()), filename="one-more.pdf")
    assert "20件まで" in failed.value.errors["file"]
    assert len(rows(session)) == attachments.MAX_FILES and stored_files(settings) == []


def test_at_most_fifty_megabytes_a_challenge(session: Session, settings: Settings, ward: Ward) -> None:
    document = pdf_bytes()
    _fill(session, ward.published.id, [10 * MB] * 4 + [10 * MB - len(document)])
    with pytest.raises(Invalid) as failed:
        attachments.add(session, settings, actor(session, ward), ward.published.id, kind="document", title="",
                        source=io.BytesIO(document + b"\0"), filename="over.pdf")
    assert "合計50MBまで" in failed.value.errors["file"]
    assert stored_files(settings) == []
    # Just under the limit is fine.
    attachments.add(session, settings, actor(session, ward), ward.published.id, kind="document", title="",
                    source=io.BytesIO(document), filename="fits.pdf")
    assert len(rows(session)) == 6


def test_a_new_cover_replaces_the_old_one(
    client: TestClient[Litestar], session: Session, settings: Settings, ward: Ward
) -> None:
    sign_in(client, ward.people["co_staff"])
    assert upload(client, ward.published.id, png_bytes(1, 1), "cover1.png", kind="cover", title="旧カバー").status_code == 303
    (first,) = rows(session)
    first_id, first_path = first.id, attachments.path_of(settings, first)
    assert first_path.exists()
    assert upload(client, ward.published.id, png_bytes(4, 4), "cover2.png", kind="cover", title="新カバー").status_code == 303
    (second,) = rows(session)
    assert second.title == "新カバー" and second.kind is AttachmentKind.COVER
    assert not first_path.exists() and stored_files(settings) == [attachments.path_of(settings, second)]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.attachment_added")
                         .order_by(AuditEntry.id.desc())).first()  # type: ignore[union-attr]
    assert entry is not None and json.loads(entry.details_json)["replaced"] == [first_id]
    preview = client.get(f"/staff/challenges/{ward.published.id}/preview").text
    assert f'src="/challenges/{ward.published.id}/attachments/{second.id}"' in preview and 'alt="新カバー"' in preview


# --- deleting ------------------------------------------------------------------------------------


def test_deleting_removes_the_row_and_then_the_file(
    client: TestClient[Litestar], session: Session, settings: Settings, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    upload(client, ward.published.id, pdf_bytes(), "消す資料.pdf")
    upload(client, ward.published.id, pdf_bytes("keep"), "残す資料.pdf")
    doomed, kept = rows(session)
    doomed_id, kept_id = doomed.id, kept.id
    doomed_path, kept_path = attachments.path_of(settings, doomed), attachments.path_of(settings, kept)
    url = f"/staff/challenges/{ward.published.id}/attachments/{doomed_id}/delete"
    with TestClient(client.app, base_url="http://testserver.local") as intruder:
        sign_in(intruder, ward.people["other_staff"])
        assert post(intruder, url).status_code == 403
    assert doomed_path.exists() and len(rows(session)) == 2
    response = post(client, url)
    assert response.status_code == 303
    assert [row.id for row in rows(session)] == [kept_id]
    assert not doomed_path.exists() and kept_path.exists()
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.attachment_deleted")).one()
    assert json.loads(entry.details_json)["filename"] == "消す資料.pdf"
    assert "ファイルを削除しました。" in client.get(f"/staff/challenges/{ward.published.id}/edit").text
    assert client.get(f"/challenges/{ward.published.id}/attachments/{doomed_id}").status_code == 404
    again = post(client, url)
    assert again.status_code == 400 and "このファイルは見つかりません" in again.text
    # An attachment of another challenge cannot be deleted through this one.
    assert post(client, f"/staff/challenges/{ward.draft.id}/attachments/{kept_id}/delete").status_code == 400
    assert kept_path.exists()


def test_the_services_check_the_actor(session: Session, settings: Settings, ward: Ward) -> None:
    for who in ("resident", "admin", "other_staff"):
        with pytest.raises(Forbidden):
            attachments.add(session, settings, actor(session, ward, who), ward.published.id, kind="document",
                            title="", source=io.BytesIO(pdf_bytes()), filename="a.pdf")
    assert rows(session) == [] and stored_files(settings) == []
    attachments.add(session, settings, actor(session, ward, "co_staff"), ward.published.id, kind="document",
                    title="", source=io.BytesIO(pdf_bytes()), filename="a.pdf")
    (row,) = rows(session)
    with pytest.raises(Forbidden):
        attachments.delete(session, settings, actor(session, ward, "other_staff"), ward.published.id, row.id)  # type: ignore[arg-type]
    assert attachments.for_download(session, settings, Principal.anonymous(), ward.published.id, row.id) is not None  # type: ignore[arg-type]
