"""The pages every public site has: seeded in both languages, linked from every page's footer, rendered
from sanitised Markdown."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role
from cocreate.i18n import gettext, using_locale
from cocreate.pages import services
from cocreate.pages.models import SitePage
from cocreate.pages.seed import FIRST_VERSION, seed_rows
from tests.cocreate.web.test_markdown import live_markup
from tests.factories import actor, create_user, sign_in

pytestmark = pytest.mark.databases("sqlite", why="pages and their revisions are plain rows and Python")

FOOTER_LINKS = ("/about", "/help", "/terms", "/privacy", "/accessibility", "/contact")
# What each seeded page must say, in each language: enough to know it is the real text, not a stub.
SEEDED = {
    "terms": ("利用規約", "禁止事項", "Terms of use", "What is not allowed"),
    "privacy": ("個人情報の取扱い", "第三者への提供", "Privacy policy", "Sharing with others"),
    "about": ("このサイトについて", "事業者ヒアリング", "About this site", "place of dialogue"),
    "help": ("ヘルプ（参加のしかた）", "実証フィールド担当の方", "Help (how to take part)", "Field coordinators"),
    "accessibility": ("アクセシビリティ", "ウェブコンテンツ・アクセシビリティ・ガイドライン", "Accessibility",
                      "WCAG) 2.2 at level AA"),
    "contact": ("お問い合わせ", "環境政策課", "Contact us", "Environmental Policy Section"),
}


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


def body_of(html: str) -> str:
    match = re.search(r'<div class="prose site-page-body">(.*?)</div>\s*</article>', html, re.S)
    assert match is not None, html[:2000]
    return match.group(1)


@pytest.mark.parametrize("slug", list(SEEDED))
def test_each_page_reads_in_japanese_and_in_english(client: TestClient[Litestar], slug: str) -> None:
    title_ja, phrase_ja, title_en, phrase_en = SEEDED[slug]
    japanese = client.get(f"/{slug}?lang=ja")
    assert japanese.status_code == 200
    assert f'<h1 id="site-page-title">{title_ja}</h1>' in japanese.text and phrase_ja in japanese.text
    assert '<html lang="ja">' in japanese.text and phrase_en not in japanese.text
    english = client.get(f"/{slug}?lang=en")
    assert english.status_code == 200
    assert f'<h1 id="site-page-title">{title_en}</h1>' in english.text and phrase_en in english.text
    assert '<html lang="en">' in english.text and phrase_ja not in body_of(english.text)
    # Markdown became structure: sections are h2 under the page's h1, and nothing but the page's h1 is an h1.
    assert english.text.count("<h1") == 1 and "<h2>" in body_of(english.text)


def test_versioned_pages_say_which_version_is_shown(client: TestClient[Litestar]) -> None:
    for slug in ("terms", "privacy"):
        page = client.get(f"/{slug}?lang=en").text
        assert f"Version {FIRST_VERSION}, published on" in page
    assert "Version" not in client.get("/about?lang=en").text.split('id="site-page-meta"')[1].split("</p>")[0]
    assert "最終更新日" in client.get("/about?lang=ja").text


def test_every_seed_file_is_complete() -> None:
    rows = {row["page"]: row for row in seed_rows()}
    assert set(rows) == {page.value for page in SitePage}
    for row in rows.values():
        assert row["title_ja"] and row["title_en"] and len(row["body_ja"]) > 500 and len(row["body_en"]) > 900
        assert (row["version"] == FIRST_VERSION) is (row["page"] in ("terms", "privacy"))
        for body in (row["body_ja"], row["body_en"]):
            assert "TODO" not in body and "素案" not in body and "（案）" not in body


def test_help_screenshots_exist_for_both_languages(client: TestClient[Litestar]) -> None:
    for locale in ("ja", "en"):
        page = client.get(f"/help?lang={locale}").text
        images = re.findall(r'<img src="(/static/img/help/[^"]+)" alt="([^"]+)"', page)
        assert len(images) >= 5
        for src, alt in images:
            assert f"/{locale}/" in src and len(alt) > 20
            assert client.get(src).status_code == 200, src


@pytest.mark.parametrize("path", ["/", "/challenges", "/account/register", "/account/sign-in", "/terms", "/help",
                                  "/no-such-page"])
def test_the_footer_links_to_every_site_page(client: TestClient[Litestar], path: str) -> None:
    page = client.get(path)
    footer = page.text.split('<footer class="site-footer">', 1)[1]
    for link in FOOTER_LINKS:
        assert f'href="{link}"' in footer, (path, link)
    assert ja("Terms of use") in footer and ja("Privacy policy") in footer


def test_the_footer_marks_the_page_being_read(client: TestClient[Litestar]) -> None:
    footer = client.get("/privacy").text.split('<footer class="site-footer">', 1)[1]
    assert 'href="/privacy" id="footer-privacy" aria-current="page"' in footer
    assert footer.count('aria-current="page"') == 1


def test_the_footer_is_on_signed_in_pages_too(app: Litestar, session: Session) -> None:
    user = create_user(session, "resident@example.jp")
    with TestClient(app, base_url="http://testserver.local") as client:
        sign_in(client, user)
        footer = client.get("/account").text.split('<footer class="site-footer">', 1)[1]
    assert all(f'href="{link}"' in footer for link in FOOTER_LINKS)


def test_an_unknown_page_is_not_found(client: TestClient[Litestar]) -> None:
    assert client.get("/imprint").status_code == 404
    # Visitors are asked to sign in before anything about the administration is said.
    assert client.get("/admin/pages/imprint/edit", follow_redirects=False).status_code == 303


def test_hostile_markdown_is_rendered_harmless(client: TestClient[Litestar], session: Session,
                                               xss_payloads: list[str]) -> None:
    admin = create_user(session, "admin@example.jp", roles=[Role.ADMIN])
    hostile = "\n\n".join(xss_payloads)
    current = services.current(session, SitePage.ABOUT).revision
    services.save(session, actor(session, admin), SitePage.ABOUT, services.PageForm(
        title_ja='<script>alert("t")</script>', title_en='"><img src=x onerror=alert(1)>', body_ja=hostile,
        body_en=hostile, base_revision_id=str(current.id)))
    for locale in ("ja", "en"):
        page = client.get(f"/about?lang={locale}").text
        assert live_markup(body_of(page)) == []
        heading = page.split('<h1 id="site-page-title">', 1)[1].split("</h1>", 1)[0]
        assert live_markup(heading) == [] and "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in client.get("/about?lang=ja").text
