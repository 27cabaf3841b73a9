"""Printable A4 sheets with a QR code (decoded by a real decoder, zxing-cpp), their links from the pages, and
the administrators' counts of online and assisted entries per channel in one aggregate query."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from proposals.desk import printing, services
from proposals.models import Category, Voice, VoiceChannel
from tests.cocreate.desk.conftest import World
from tests.factories import actor, create_user, sign_in
from tests.helpers import count_queries

pytestmark = pytest.mark.databases("sqlite", why="pages and counts; nothing here depends on the database engine")


def _read(rows: list[list[bool]], scale: int = 4, border: int = 4) -> str:
    """Read a QR code's modules (rows of dark or light) back with a real decoder (zxing-cpp)."""
    width = max(len(row) for row in rows)
    size_x, size_y = (width + 2 * border) * scale, (len(rows) + 2 * border) * scale
    pixels = bytearray([255]) * (size_x * size_y)
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = ((y + border) * scale + dy) * size_x + (x + border) * scale
                    pixels[start:start + scale] = bytes(scale)
    found = zxingcpp.read_barcodes(memoryview(bytes(pixels)).cast("B", (size_y, size_x)))
    assert len(found) == 1
    return found[0].text


def _svg_modules(svg: str) -> list[list[bool]]:
    """The dark modules the page's inline SVG draws: segno draws each row's runs as one stroked path of
    moves (``M``, ``m``) and horizontal lines (``h``), a module wide."""
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg)
    assert path, svg[:300]
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for command, args in re.findall(r"([Mmh])([-\d. ]+)", path.group(1)):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(numbers[0])))
            x += numbers[0]
    xs, ys = [p[0] for p in dark], [p[1] for p in dark]
    return [[(cx, cy) in dark for cx in range(min(xs), max(xs) + 1)] for cy in range(min(ys), max(ys) + 1)]


def test_challenge_sheet_has_the_print_stylesheet_the_url_and_a_qr_code_of_it(
        client: TestClient[Litestar], world: World, app: Litestar) -> None:
    challenge = world["challenge"]
    response = client.get(f"/challenges/{challenge.id}/print")
    assert response.status_code == 200
    page = response.text
    assert re.search(r'<link rel="stylesheet" href="[^"]*/css/print\.css(?:\?v=[^"]*)?"', page)
    url = app.state.settings.base_url.rstrip("/") + f"/challenges/{challenge.id}"
    assert f'id="print-url"><a href="/challenges/{challenge.id}">{url}</a>' in page
    assert challenge.title in page and challenge.summary in page
    svg = page[page.index("<svg"):page.index("</svg>") + 6]
    assert 'role="img"' in svg and "aria-label=" in svg
    assert _read(_svg_modules(svg)) == url  # the code drawn on the page, read back by a real decoder
    assert 'class="print-lines"' in page  # the blank opinion area


def test_the_print_stylesheet_is_a4(client: TestClient[Litestar], world: World) -> None:
    page = client.get(f"/challenges/{world['challenge'].id}/print").text
    href = re.search(r'<link rel="stylesheet" href="([^"]*/css/print\.css(?:\?v=[^"]*)?)"', page)
    assert href
    css = client.get(href.group(1)).text
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css) and "@media print" in css


def test_drafts_and_hidden_voices_have_no_sheet(client: TestClient[Litestar], session: Session, world: World) -> None:
    assert client.get(f"/challenges/{world['draft'].id}/print").status_code == 404
    assert client.get("/challenges/99999/print").status_code == 404
    hidden = Voice(title="非公開", body="x", category=Category.ADMIN_DX, hidden_at=utcnow())
    session.add(hidden)
    session.commit()
    assert client.get(f"/voices/{hidden.id}/print").status_code == 404
    assert client.get("/voices/99999/print").status_code == 404


def test_voice_sheet_links_back_to_the_voice(client: TestClient[Litestar], session: Session, world: World,
                                             app: Litestar) -> None:
    voice = Voice(title="公園のベンチが壊れている", body="**座れません**。直してください。", category=Category.URBAN_DEVELOPMENT,
                  area="shimura", channel=VoiceChannel.PAPER, entered_by_id=world["desk"].id, consent_at=utcnow(),
                  desk_note="用紙 No. 3")
    session.add(voice)
    session.commit()
    page = client.get(f"/voices/{voice.id}/print").text
    url = app.state.settings.base_url.rstrip("/") + f"/voices/{voice.id}"
    assert f'id="print-url">{url}<' in page
    svg = page[page.index("<svg"):page.index("</svg>") + 6]
    assert _read(_svg_modules(svg)) == url
    assert "座れません" in page and "**" not in page  # Markdown as plain text
    assert "用紙 No. 3" not in page  # the private note is never printed
    assert printing.voice_section(session, actor(session, None), voice) == (
        "proposals/desk/_voice_links.html", {"voice_id": voice.id})


def test_the_challenge_page_links_its_sheet_and_the_desk_forms_for_the_desk(
        client: TestClient[Litestar], world: World) -> None:
    challenge = world["challenge"]
    page = client.get(f"/challenges/{challenge.id}").text
    assert f'href="/challenges/{challenge.id}/print"' in page
    assert 'id="challenge-desk-comment-link"' not in page
    sign_in(client, world["desk"])
    page = client.get(f"/challenges/{challenge.id}").text
    assert 'id="challenge-desk-comment-link"' in page and f"/desk/bulk/comments?challenge={challenge.id}" in page


def test_admin_dashboard_counts_assisted_and_online_entries_per_channel(
        client: TestClient[Litestar], session: Session, world: World, database) -> None:  # type: ignore[no-untyped-def]
    challenge = world["challenge"]
    resident = world["resident"]
    desk = world["desk"]
    for channel, n in ((VoiceChannel.ONLINE, 3), (VoiceChannel.PAPER, 2), (VoiceChannel.PHONE, 1)):
        for _ in range(n):
            session.add(Voice(title="声", body="x", category=Category.ADMIN_DX, channel=channel,
                              author_id=resident.id if channel is VoiceChannel.ONLINE else None,
                              entered_by_id=None if channel is VoiceChannel.ONLINE else desk.id))
    for channel, n in (("online", 4), ("workshop", 5)):
        for _ in range(n):
            session.add(Comment(target_type="challenge", target_id=challenge.id, body="意見", channel=channel,
                                author_id=resident.id if channel == "online" else None))
    session.add(Comment(target_type="challenge", target_id=challenge.id, body="消した", channel="workshop",
                        deleted_at=utcnow()))
    session.commit()
    admin = actor(session, world["admin"])
    with count_queries(database.engine) as log:
        counts = services.channel_counts(session, admin)
    assert log.count == 1, str(log)
    assert counts.voices == {"online": 3, "paper": 2, "workshop": 0, "phone": 1}
    assert counts.comments == {"online": 4, "paper": 0, "workshop": 5, "phone": 0}
    assert counts.assisted(counts.voices) == 3 and counts.assisted(counts.comments) == 5
    with pytest.raises(Exception):  # noqa: B017 - Forbidden, whatever page asks
        services.channel_counts(session, actor(session, desk))

    sign_in(client, world["admin"])
    page = client.get("/admin").text
    row = page[page.index('id="channel-counts-workshop"'):]
    row = row[:row.index("</tr>")]
    assert re.findall(r'<td class="number">([^<]+)</td>', row) == ["0", "5"]
    total = page[page.index('id="channel-counts-assisted"'):]
    assert re.findall(r'<td class="number">([^<]+)</td>', total[:total.index("</tr>")]) == ["3", "5"]


def test_only_administrators_see_the_counts(client: TestClient[Litestar], session: Session, world: World) -> None:
    moderator = create_user(session, "mod@example.jp", roles=[Role.MODERATOR])
    assert services.admin_section(session, actor(session, moderator)) is None
    assert services.admin_section(session, actor(session, world["desk"])) is None
    assert services.admin_section(session, actor(session, world["admin"])) is not None
