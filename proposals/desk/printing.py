"""Printable A4 sheets (印刷用シート) to post at ward facilities, for any public challenge and any public voice:
the title, a summary, how to take part (the page's address printed, and a QR code linking back, made here
with segno as inline SVG), and a blank area for a resident's opinion on paper that the support desk enters
later (代理入力). Pages for everyone; the print stylesheet (``static/css/print.css``) sets ``@page`` to A4.
"""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, Router, get
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup, escape
from sqlmodel import Session

from cocreate import paths as core_paths
from cocreate.accounts.permissions import Principal, principal_of
from cocreate.areas import Area
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.htmx import render
from cocreate.web.markdown import markdown_to_text
from proposals.challenges import services as challenges
from proposals.models import Challenge, Phase, Voice, VoiceChannel, VoiceStatus

SHEET = "proposals/desk/print_sheet.html"
VOICES = "/voices"
"""Where a voice's public page is (``/voices/{id}``)."""
SUMMARY_MAX = 600


def qr_svg(url: str, label: str) -> Markup:
    """A QR code of ``url`` as inline SVG (error correction M, a quiet zone of four modules), named ``label``
    for assistive technology."""
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=False, svgclass="print-qr")
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704 - segno's SVG of our own URL; the label is escaped


def voice_path(voice_id: int) -> str:
    return f"{VOICES}/{voice_id}"


def _public_voice(session: Session, voice_id: int) -> Voice:
    voice = session.get(Voice, voice_id)
    if voice is None or voice.hidden_at is not None or voice.status is VoiceStatus.MERGED:
        raise NotFound()
    return voice


@get("/challenges/{challenge_id:int}/print", name="challenge-print", sync_to_thread=True)
def challenge_sheet(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int]) -> Template:
    """The A4 sheet of a public challenge (drafts have none)."""
    challenge = challenges.visible_challenge(db_session, principal_of(request), challenge_id)
    if challenge is None or challenge.phase is Phase.DRAFT:
        raise NotFound()
    path = request.app.route_reverse("challenge-detail", challenge_id=challenge_id)
    url = core_paths.absolute(settings, path)
    return render(request, SHEET, {
        "kind": "challenge", "title": challenge.title, "summary": challenge.summary[:SUMMARY_MAX],
        "facts": [(_("Category"), challenge.category.label)] if challenge.category else [],
        "url": url, "path": path, "qr": qr_svg(url, _("QR code of the page's address: %(url)s", url=url)),
    })


@get("/voices/{voice_id:int}/print", name="voice-print", sync_to_thread=True)
def voice_sheet(request: Request, db_session: DbSession, settings: AppSettings, voice_id: FromPath[int]) -> Template:
    """The A4 sheet of a public voice (a hidden or merged one has none)."""
    voice = _public_voice(db_session, voice_id)
    path = voice_path(voice_id)
    url = core_paths.absolute(settings, path)
    facts = [(_("Category"), voice.category.label)]
    if voice.area:
        facts.append((_("Area"), Area(voice.area).label))
    facts.append((_("Status"), voice.status.label))
    if voice.channel is not VoiceChannel.ONLINE:
        facts.append((_("How it reached the ward"), voice.channel.label))
    return render(request, SHEET, {
        "kind": "voice", "title": voice.title, "summary": markdown_to_text(voice.body, SUMMARY_MAX),
        "facts": facts, "url": url, "path": None,
        "qr": qr_svg(url, _("QR code of the page's address: %(url)s", url=url)),
    })


# --- links from the pages -----------------------------------------------------------------------------


def challenge_section(session: Session, actor: Principal, challenge: Challenge,
                      viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """On a public challenge's page: its printable sheet, and for the support desk the desk's forms."""
    if challenge.phase is Phase.DRAFT:
        return None
    return "proposals/desk/_challenge_links.html", {"challenge_id": challenge.id}


def voice_section(session: Session, actor: Principal, voice: Voice) -> tuple[str, dict[str, Any]] | None:
    """On a voice's page (the ``voice`` page sections): its printable sheet (none for a hidden or merged one)."""
    if voice.hidden_at is not None or voice.status is VoiceStatus.MERGED:
        return None
    return "proposals/desk/_voice_links.html", {"voice_id": voice.id}


ROUTES: list[Any] = [Router(path="/", route_handlers=[challenge_sheet, voice_sheet], include_in_schema=False)]
