"""User Markdown is rendered without raw HTML and sanitised: no payload survives as live markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from cocreate.web.markdown import markdown_to_text, render_markdown

ALLOWED_TAGS = {"p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
                "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img"}


class LiveMarkup(HTMLParser):
    """Collects what a browser would treat as live: tags, event handlers and script URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.problems.append(f"attribute {name}")
            if name in ("href", "src", "action", "data") and value is not None:
                scheme = re.sub(r"[\s\x00-\x1f]", "", value).split(":", 1)[0].lower()
                if ":" in value and scheme not in ("http", "https", "mailto"):
                    self.problems.append(f"{name}={value!r}")


def live_markup(html: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.problems


def test_every_payload_is_neutralised(xss_payloads: list[str]) -> None:
    assert len(xss_payloads) > 40
    for payload in xss_payloads:
        html = str(render_markdown(payload))
        assert live_markup(html) == [], f"payload survived:\n{payload}\n->\n{html}"


def test_all_payloads_together_in_one_document(xss_payloads: list[str]) -> None:
    html = str(render_markdown("\n\n".join(xss_payloads)))
    assert live_markup(html) == []


def test_the_checker_itself_catches_live_markup() -> None:
    assert live_markup('<img src=x onerror="alert(1)">') == ["attribute onerror"]
    assert live_markup('<a href=" java\tscript:alert(1)">x</a>') != []
    assert live_markup("<script>alert(1)</script>") == ["tag <script>"]


def test_raw_html_is_shown_as_text_not_markup() -> None:
    html = str(render_markdown("<b>bold</b> and <script>alert(1)</script>"))
    assert "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html


def test_links_get_nofollow_ugc_noopener() -> None:
    html = str(render_markdown("[区のサイト](https://www.city.itabashi.tokyo.jp/) and https://example.jp"))
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://www.city.itabashi.tokyo.jp/"' in html


@pytest.mark.parametrize("href", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:x", "data:text/html,x"])
def test_dangerous_link_schemes_are_dropped(href: str) -> None:
    html = str(render_markdown(f"[click]({href})"))
    assert "href" not in html.lower() or href.split(":")[0].lower() not in html.lower()


def test_common_markdown_still_works() -> None:
    html = str(render_markdown("# 見出し\n\n**太字** と *斜体* と ~~取消~~\n\n- 一\n- 二\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code`"))
    assert "<h2>見出し</h2>" in html  # user headings start below the page's own h1
    assert "<strong>太字</strong>" in html and "<em>斜体</em>" in html and "<s>取消</s>" in html
    assert "<li>一</li>" in html and "<table>" in html and "<code>code</code>" in html


def test_huge_and_odd_input_does_not_crash() -> None:
    assert render_markdown(None) == ""
    assert render_markdown("") == ""
    big = "あ" * 500_000 + "<script>" + "[" * 10_000 + "*" * 10_000
    html = str(render_markdown(big))
    assert live_markup(html) == []
    assert len(html) < 600_000
    assert "\x00" not in str(render_markdown("nul\x00byte"))


def test_plain_text_for_snippets() -> None:
    assert markdown_to_text("**太字** & <b>x</b>\n\n段落") == "太字 & <b>x</b> 段落"
    assert markdown_to_text("あ" * 50, limit=10) == "あ" * 9 + "…"
