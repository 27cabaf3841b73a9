"""Download my data as a zip: asked for on the account page, built by a real Celery worker, mailed through a real
SMTP server as a link that works for its owner only, until it expires and the beat task deletes the file."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import URLSafeSerializer
from litestar import Litestar
from sqlmodel import Session, select

from cocreate.accounts import data_export
from cocreate.accounts.models import DataExport, DataExportStatus, User
from cocreate.app import create_app
from cocreate.comments.models import Comment
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from cocreate.web.ratelimit import BUDGETS
from proposals.models import Vote
from tests.cocreate.accounts.self_service_helpers import new_client, post, signed_in_client
from tests.factories import (
    PASSWORD,
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)
from tests.helpers import make_settings
from tests.servers import SmtpSink, Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="the export is Python over plain queries; the worker is real")


def plant(session: Session, user: User, challenge: Any, tag: str) -> None:
    """A proposal, a comment and a vote of ``user``, each carrying ``tag`` where it has text."""
    organisation = create_organisation(session, f"{tag}株式会社", admin=user)
    proposal = create_proposal(session, challenge, organisation, author=user, title=f"{tag}の提案",
                               summary=f"{tag}の要約")
    session.add_all([
        Comment(target_type="proposal", target_id=proposal.id, author_id=user.id, body=f"{tag}のコメント"),  # type: ignore[arg-type]
        Vote(proposal_id=proposal.id, challenge_id=challenge.id, user_id=user.id),  # type: ignore[arg-type]
    ])
    session.commit()


def _body(message: Message) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[union-attr]


def _path_of_link(text: str) -> str:
    match = re.search(r"https?://\S+(/account/export/file/\S+)", text)
    assert match is not None, text
    return match.group(1)


def read_zip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # a byte order mark: Excel reads the Japanese
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.worker
def test_the_zip_is_built_by_the_worker_mailed_and_downloaded_by_its_owner_only_until_it_expires(
    app: Litestar, session: Session, database: Database, settings: Settings,
    smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink,
) -> None:
    worker_settings, worker = smtp_worker_settings
    app.state.settings = worker_settings  # the app reads the files the worker wrote (restored by the fixture)
    configure_celery(worker_settings)
    smtp_sink.clear()
    try:
        challenge = create_challenge(session, create_department(session), phase="voting")
        hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
        taro = create_user(session, "taro@example.jp", display_name="たろう")
        plant(session, hanako, challenge, "花子")
        plant(session, taro, challenge, "太郎")
        client = signed_in_client(app, hanako)

        page = client.get("/account/export")
        assert page.status_code == 200 and 'id="export-request-form"' in page.text
        assert post(new_client(app), "/account/export/request").headers["location"].startswith("/account/sign-in")
        asked = post(client, "/account/export/request")
        assert asked.status_code == 303 and asked.headers["location"] == "/account/export"

        try:
            messages = smtp_sink.wait_for(1, timeout=60)
        except AssertionError:
            raise AssertionError(worker.log()[-4000:]) from None
        ours = [m for m in messages if m["To"] == "hanako@example.jp"]
        assert ours and not [m for m in messages if m["To"] != "hanako@example.jp"]
        text = _body(ours[0])
        assert "はなこ 様" in text and "7" in text
        link = _path_of_link(text)

        ready = client.get("/account/export").text
        assert link in ready and 'id="export-zip-link"' in ready

        # A visitor is asked to sign in; another account gets a 404 (nothing says whose it is).
        visitor = new_client(app).get(link, follow_redirects=False)
        assert visitor.status_code == 303 and visitor.headers["location"].startswith("/account/sign-in")
        assert signed_in_client(app, taro).get(link).status_code == 404
        assert client.get(link[:-3] + "abc").status_code == 404  # a damaged token

        response = client.get(link)
        assert response.status_code == 200, response.text[:300]
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["cache-control"] == "no-store"
        assert "attachment" in response.headers["content-disposition"]
        files = read_zip(response.content)
        data = json.loads(files["data.json"])
        assert data["profile"]["email"] == "hanako@example.jp"
        assert [c["body"] for c in data["comments"]] == ["花子のコメント"]
        assert [row["body"] for row in csv_rows(files["csv/comments.csv"])] == ["花子のコメント"]
        assert [row["proposal_title"] for row in csv_rows(files["csv/votes.csv"])] == ["花子の提案"]
        assert csv_rows(files["csv/profile.csv"])[0]["email"] == "hanako@example.jp"
        readme = files["README.txt"].decode()
        assert "【日本語】" in readme and "【English】" in readme and "csv/comments.csv" in readme
        for name, body in files.items():
            content = body.decode("utf-8-sig")
            for foreign in ("太郎", "taro@example.jp", "たろう"):
                assert foreign not in content, (name, foreign)

        # Past its time the link answers 404 at once; the beat task deletes the file.
        with database.transaction() as write:
            export = write.exec(select(DataExport).where(DataExport.user_id == hanako.id)).one()
            export.expires_at = utcnow() - timedelta(minutes=1)
            write.add(export)
            stored = data_export.file_path(worker_settings, export)
        assert stored.is_file()
        assert client.get(link).status_code == 404
        with database.transaction() as write:
            enqueue(write, data_export.EXPIRE_TASK)
        wait_until(lambda: not stored.exists(), 40, "the beat task to delete the expired file")
        with database.session() as check:
            assert check.exec(select(DataExport.status).where(DataExport.user_id == hanako.id)).one() \
                is DataExportStatus.EXPIRED
        assert client.get(link).status_code == 404
        page = client.get("/account/export").text
        assert "期限が切れ" in page and link not in page and 'id="export-request-form"' in page
    finally:
        configure_celery(settings)


# --- the same rules in one process (the broker has no worker here: the tests run the build themselves) ---------


def _only_export(session: Session, user: User) -> DataExport:
    session.expire_all()
    return session.exec(select(DataExport).where(DataExport.user_id == user.id)).one()


def test_asking_again_while_it_is_prepared_changes_nothing(app: Litestar, session: Session) -> None:
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    client = signed_in_client(app, hanako)
    assert post(client, "/account/export/request").status_code == 303
    page = client.get("/account/export").text
    assert "データを用意しています" in page and 'id="export-request-form"' not in page
    again = post(client, "/account/export/request")
    assert again.status_code == 409 and "すでに用意しているところ" in again.text and 'id="error-summary"' in again.text
    assert _only_export(session, hanako).status is DataExportStatus.REQUESTED
    # Its task lost, a request older than an hour no longer holds the person back; the beat task marks it failed.
    export = _only_export(session, hanako)
    export.created_at = utcnow() - data_export.STALE_REQUEST - timedelta(minutes=1)
    session.add(export)
    session.commit()
    assert "用意できませんでした" in client.get("/account/export").text
    assert data_export.expire_due(session, app.state.settings) == 1
    assert _only_export(session, hanako).status is DataExportStatus.FAILED
    assert post(client, "/account/export/request").status_code == 303


def test_the_link_is_the_owners_only_and_deleting_the_account_deletes_the_file(
    app: Litestar, session: Session, settings: Settings
) -> None:
    challenge = create_challenge(session, create_department(session), phase="voting")
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    taro = create_user(session, "taro@example.jp", display_name="たろう")
    plant(session, hanako, challenge, "花子")
    client = signed_in_client(app, hanako)
    assert post(client, "/account/export/request").status_code == 303
    export = _only_export(session, hanako)
    assert data_export.build(session, settings, export.id) is True  # type: ignore[arg-type]
    assert data_export.build(session, settings, export.id) is False  # type: ignore[arg-type]  # built once
    export = _only_export(session, hanako)
    link = data_export.download_path(settings, export)
    assert client.get(link).status_code == 200
    # Another person's id and nonce under a token signed with another key: refused.
    forged = URLSafeSerializer("not-the-key", salt=data_export.SALT).dumps({"e": export.id, "n": export.nonce})
    assert client.get(f"/account/export/file/{forged}").status_code == 404
    assert signed_in_client(app, taro).get(link).status_code == 404

    stored = data_export.file_path(settings, export)
    assert stored.is_file()
    assert post(client, "/account/delete", {"password": PASSWORD, "confirm": "yes"}).status_code == 303
    session.expire_all()
    assert session.exec(select(DataExport).where(DataExport.user_id == hanako.id)).first() is None
    data_export.expire_due(session, settings)  # what the task queued by the deletion does
    assert not stored.exists()


def test_sections_become_flat_tables() -> None:
    tables = data_export.tables("notification_settings", {
        "deliveries": [{"kind": "comment.posted", "delivery": "digest"}],
        "chosen": [],
    })
    assert tables == {"notification_settings.deliveries": [{"kind": "comment.posted", "delivery": "digest"}],
                      "notification_settings.chosen": []}
    assert data_export.tables("profile", {"email": "a@example.jp", "address": {"area": "高島平"}, "tags": ["a", 1]}) \
        == {"profile": [{"email": "a@example.jp", "address.area": "高島平", "tags": ["a", 1]}]}
    body = data_export.csv_bytes([{"a": "高島平", "b": None}, {"b": True, "c": ["x"]}])
    assert csv_rows(body) == [{"a": "高島平", "b": "", "c": ""}, {"a": "", "b": "true", "c": '["x"]'}]
    assert data_export.csv_bytes([]) == b"\xef\xbb\xbf"


def test_asking_for_zips_is_rate_limited_per_account(tmp_path: Path, database_url: str, broker_url: str,
                                                     database: Database, session: Session) -> None:
    """Each request builds a zip of everything and sends an e-mail: a day's budget per account (and address)."""
    limited = make_settings(tmp_path / "data", database_url=database_url, broker_url=broker_url, rate_limit_scale=1)
    hanako = create_user(session, "hanako@example.jp", display_name="はなこ")
    client = signed_in_client(create_app(limited, database=database), hanako)
    answers = [post(client, "/account/export/request").status_code
               for _attempt in range(BUDGETS["data-export"].per_target + 1)]
    assert answers[0] == 303 and set(answers[1:-1]) == {409}  # one at a time; each attempt counts
    assert answers[-1] == 429
    assert _only_export(session, hanako).status is DataExportStatus.REQUESTED
