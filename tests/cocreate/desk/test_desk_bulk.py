"""A workshop's opinions at once: the rows form (with "more rows" and no JavaScript), CSV files in UTF-8 with
and without a byte-order mark and in Shift_JIS, the preview with every row and its translated errors, the
confirmation that records every valid row in one unit of work, and bad files refused with a reason."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.audit.models import AuditEntry
from cocreate.comments.models import Comment
from cocreate.i18n import gettext as _
from cocreate.i18n import using_locale
from proposals.desk import bulk
from proposals.models import Category, Voice, VoiceChannel
from tests.cocreate.desk.conftest import World
from tests.factories import sign_in
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="the desk's rules are Python; its writes are plain inserts")

TOPICS = ["子どもの遊び場を増やしてほしい", "夜道が暗くて怖い", "バスの本数を増やしてほしい", "公園のトイレをきれいに",
          "高齢者の見守りを", "防災訓練に参加しやすく"]


def _csv(rows: list[list[str]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (codecs.BOM_UTF8 if bom else b"") + out.getvalue().encode(encoding)


def _upload(client: TestClient[Litestar], kind: str, content: bytes, **fields: str):  # type: ignore[no-untyped-def]
    data = {"_csrf_token": csrf_token(client), "action": "csv", "channel": "workshop", **fields}
    return client.post(f"/desk/bulk/{kind}", data=data, files={"file": ("workshop.csv", content, "text/csv")},
                       follow_redirects=False)


def _hidden_rows(html: str) -> dict[str, str]:
    """The confirmation form's fields, as the preview page sends them back."""
    form = html[html.index('id="desk-confirm-form"'):]
    return {name: value.replace("&#34;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&#39;", "'")
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}


def _confirm(client: TestClient[Litestar], kind: str, preview_html: str, consent: bool = True):  # type: ignore[no-untyped-def]
    data = _hidden_rows(preview_html)
    data["_csrf_token"] = csrf_token(client)
    if consent:
        data["consent"] = "yes"
    return client.post(f"/desk/bulk/{kind}/confirm", data=data, follow_redirects=False)


def test_twenty_workshop_opinions_from_a_csv_file_are_recorded_at_once(
        client: TestClient[Litestar], session: Session, world: World, database) -> None:  # type: ignore[no-untyped-def]
    challenge = world["challenge"]
    rows = [["opinion", "note"]] + [[f"{TOPICS[i % len(TOPICS)]}（付箋 {i + 1}）", f"付箋 {i + 1}"] for i in range(20)]
    sign_in(client, world["desk"])
    preview = _upload(client, "comments", _csv(rows, bom=True), challenge_id=str(challenge.id))
    assert preview.status_code == 200, preview.text[:3000]
    assert len(re.findall(r'class="row-valid"', preview.text)) == 20
    assert session.exec(select(func.count()).select_from(Comment)).one() == 0  # nothing yet: a preview
    with count_queries(database.engine) as log:
        done = _confirm(client, "comments", preview.text)
    assert done.status_code == 303, done.text[:3000]
    inserts = [s for s in log.statements if s.lstrip().upper().startswith("INSERT INTO COMMENT")]
    assert len(inserts) <= 20
    recorded = session.exec(select(Comment).order_by(Comment.id)).all()
    assert len(recorded) == 20
    assert {c.channel for c in recorded} == {"workshop"} and {c.author_id for c in recorded} == {None}
    assert recorded[0].desk_note == "付箋 1" and recorded[19].body.endswith("（付箋 20）")
    assert len({c.consent_at for c in recorded}) == 1 and recorded[0].consent_at is not None
    page = client.get(f"/challenges/{challenge.id}").text
    assert page.count("comment-assisted") >= 20
    # One audit entry for the batch: who, from what, which comments (not the private notes).
    [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "desk.comments_entered")).all()
    assert entry.actor_id == world["desk"].id and entry.target_id == str(challenge.id)
    details = json.loads(entry.details_json)
    assert details["channel"] == "workshop" and details["comment_ids"] == [c.id for c in recorded]
    assert "付箋" not in entry.details_json


def test_a_shift_jis_file_from_excel_is_read(client: TestClient[Litestar], session: Session, world: World) -> None:
    rows = [["タイトル", "内容", "分野", "地域", "住所", "メモ"],
            ["駅前が暗い", "街灯を増やしてほしいです。", "防災・防犯", "高島平地域", "高島平駅前", "No.1"],
            ["バス停にベンチを", "高齢の母が座れる場所がほしい。", "transport_mobility", "", "", "No.2"]]
    sign_in(client, world["desk"])
    preview = _upload(client, "voices", _csv(rows, encoding="cp932"))
    assert preview.status_code == 200, preview.text[:3000]
    assert "駅前が暗い" in preview.text and "バス停にベンチを" in preview.text
    assert len(re.findall(r'class="row-valid"', preview.text)) == 2
    done = _confirm(client, "voices", preview.text)
    assert done.status_code == 303
    voices = session.exec(select(Voice).order_by(Voice.id)).all()
    assert [v.title for v in voices] == ["駅前が暗い", "バス停にベンチを"]
    assert voices[0].category is Category.DISASTER_SAFETY and voices[0].area == "takashimadaira"
    assert voices[1].category is Category.TRANSPORT_MOBILITY and voices[1].area == ""
    assert {v.channel for v in voices} == {VoiceChannel.WORKSHOP} and voices[0].desk_note == "No.1"
    [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "desk.voices_entered")).all()
    assert json.loads(entry.details_json)["voice_ids"] == [v.id for v in voices]


def test_the_preview_shows_every_row_with_its_translated_errors(client: TestClient[Litestar], session: Session,
                                                                world: World) -> None:
    rows = [["title", "description", "category", "area", "address", "note"],
            ["よい行", "説明です", "environment_energy", "shimura", "", ""],
            ["", "タイトルがない", "environment_energy", "", "", ""],
            ["分野が違う", "説明", "宇宙開発", "", "", ""],
            ["地域が違う", "説明", "admin_dx", "大阪", "", ""],
            ["長すぎる" * 40, "説明", "admin_dx", "", "", ""]]
    sign_in(client, world["desk"])
    preview = _upload(client, "voices", _csv(rows, bom=True))
    assert preview.status_code == 200
    page = preview.text
    assert len(re.findall(r'class="row-valid"', page)) == 1
    assert len(re.findall(r'class="row-invalid"', page)) == 4
    row3 = page[page.index('id="desk-preview-row-3"'):page.index('id="desk-preview-row-4"')]
    assert ("title" in row3 and "タイトルを入力" in row3) or "Enter a title" in row3
    row4 = page[page.index('id="desk-preview-row-4"'):page.index('id="desk-preview-row-5"')]
    assert "category" in row4
    row6 = page[page.index('id="desk-preview-row-6"'):page.index('</tbody>')]
    assert "120" in row6  # at most 120 characters
    # Japanese by default: a message the catalogue already translates.
    assert "文字以内" in row6
    # The confirmation records the valid row only.
    done = _confirm(client, "voices", page)
    assert done.status_code == 303
    assert [v.title for v in session.exec(select(Voice)).all()] == ["よい行"]


def test_without_consent_nothing_is_recorded(client: TestClient[Litestar], session: Session, world: World) -> None:
    rows = [["opinion"], ["意見 1"], ["意見 2"]]
    sign_in(client, world["desk"])
    preview = _upload(client, "comments", _csv(rows), challenge_id=str(world["challenge"].id))
    refused = _confirm(client, "comments", preview.text, consent=False)
    assert refused.status_code == 400
    assert 'id="field-consent-error"' in refused.text and 'id="desk-confirm-form"' in refused.text
    assert session.exec(select(func.count()).select_from(Comment)).one() == 0
    # Starting again is a link: nothing was or will be recorded.
    assert 'id="desk-cancel"' in refused.text


@pytest.mark.parametrize(("content", "message"), [
    (_csv([["name", "comment"], ["a", "b"]]), "columns"),
    (_csv([["opinion"]] + [[f"意見 {i}"] for i in range(bulk.MAX_ROWS + 1)]), "too many"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "cannot be read"),
    (b"", "empty"),
    ("opinion\n意見".encode("utf-16"), "cannot be read"),
    (b"opinion\n" + b"x" * (bulk.MAX_FILE_BYTES + 10), "too large"),
])
def test_bad_files_are_refused_with_a_reason_and_change_nothing(client: TestClient[Litestar], session: Session,
                                                                world: World, content: bytes, message: str) -> None:
    sign_in(client, world["desk"])
    client.cookies["cocreate_locale"] = "en"
    response = _upload(client, "comments", content, challenge_id=str(world["challenge"].id))
    assert response.status_code == 400, response.text[:2000]
    error = re.search(r'id="field-file-error">([^<]+)<', response.text)
    assert error, response.text[:3000]
    assert session.exec(select(func.count()).select_from(Comment)).one() == 0


def test_bad_files_are_refused_in_japanese(client: TestClient[Litestar], world: World) -> None:
    sign_in(client, world["desk"])
    response = _upload(client, "voices", _csv([["name"], ["x"]]))
    assert response.status_code == 400
    error = re.search(r'id="field-file-error">([^<]+)<', response.text)
    with using_locale("ja"):  # through the catalogue in the person's language (Japanese by default)
        expected = _("The columns of the file do not match. The first line must name the columns: %(expected)s.",
                     expected="title, description, category, area, address, note")
    assert error and error.group(1) == expected


def test_no_file_chosen_says_so(client: TestClient[Litestar], world: World) -> None:
    sign_in(client, world["desk"])
    response = client.post("/desk/bulk/voices", data={"_csrf_token": csrf_token(client), "action": "csv",
                                                      "channel": "workshop"},
                           files={"file": ("", b"", "application/octet-stream")}, follow_redirects=False)
    assert response.status_code == 400 and 'id="field-file-error"' in response.text


def test_rows_typed_in_the_form_with_more_rows_without_javascript(client: TestClient[Litestar], session: Session,
                                                                 world: World) -> None:
    sign_in(client, world["desk"])
    page = client.get("/desk/bulk/voices").text
    assert len(re.findall(r'name="rows-\d+-title"', page)) == bulk.BLANK_ROWS
    data = {"_csrf_token": csrf_token(client), "channel": "workshop", "action": "more",
            "rows-0-title": "ごみ出しの曜日", "rows-0-body": "分かりにくい", "rows-0-category": "environment_energy"}
    more = client.post("/desk/bulk/voices", data=data, files={"file": ("", b"", "application/octet-stream")})
    assert more.status_code == 200
    assert len(re.findall(r'name="rows-\d+-title"', more.text)) >= bulk.BLANK_ROWS + bulk.MORE_ROWS
    assert 'value="ごみ出しの曜日"' in more.text  # what was typed stays
    data = {"_csrf_token": csrf_token(client), "channel": "workshop", "action": "preview",
            "rows-0-title": "ごみ出しの曜日", "rows-0-body": "分かりにくい", "rows-0-category": "environment_energy",
            "rows-14-title": "公園の照明", "rows-14-body": "暗い", "rows-14-category": "disaster_safety",
            "rows-15-title": "", "rows-15-body": "分野がない"}
    preview = client.post("/desk/bulk/voices", data=data, files={"file": ("", b"", "application/octet-stream")})
    assert preview.status_code == 200, preview.text[:3000]
    assert len(re.findall(r'class="row-valid"', preview.text)) == 2
    assert len(re.findall(r'class="row-invalid"', preview.text)) == 1
    done = _confirm(client, "voices", preview.text)
    assert done.status_code == 303
    assert sorted(v.title for v in session.exec(select(Voice)).all()) == ["ごみ出しの曜日", "公園の照明"]


def test_an_empty_rows_form_says_so(client: TestClient[Litestar], world: World) -> None:
    sign_in(client, world["desk"])
    response = client.post("/desk/bulk/comments", data={"_csrf_token": csrf_token(client), "channel": "workshop",
                                                        "challenge_id": str(world["challenge"].id),
                                                        "action": "preview"},
                           files={"file": ("", b"", "application/octet-stream")})
    assert response.status_code == 400 and 'id="field-rows"' in response.text


def test_templates_name_the_documented_columns(client: TestClient[Litestar], world: World) -> None:
    sign_in(client, world["desk"])
    for kind, header in (("voices", "title,description,category,area,address,note"), ("comments", "opinion,note")):
        response = client.get(f"/desk/bulk/{kind}/template.csv")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert response.content.startswith(codecs.BOM_UTF8)
        assert response.content.decode("utf-8-sig").splitlines()[0] == header
        page = client.get(f"/desk/bulk/{kind}").text
        assert all(f"<code>{column}</code>" in page for column in header.split(","))
