"""Plain-text e-mails keep their paragraphs (trim_blocks must not eat the line after a translation)."""

from __future__ import annotations

from cocreate.i18n import using_locale
from cocreate.web.templating import render_standalone


class _User:
    display_name = "はなこ"


def test_paragraphs_are_separated_by_one_blank_line() -> None:
    with using_locale("ja"):
        text = render_standalone("mail/password_changed.txt", user=_User(), link="http://example.jp/reset",
                                 base_url="http://example.jp")
    paragraphs = text.strip().split("\n\n")
    assert paragraphs[0] == "はなこ 様"
    assert paragraphs[1].startswith("コクリエ板橋のアカウントのパスワードが変更され")
    assert "http://example.jp/reset" in paragraphs
    assert "\n\n\n" not in text


def test_conditional_blocks_leave_no_empty_runs() -> None:
    class Department:
        def display_name(self) -> str:
            return "資源環境部 環境政策課"

    with using_locale("en"):
        text = render_standalone("mail/staff_roles_granted.txt", user=_User(), inviter="Admin",
                                 roles=["Ward staff", "Reviewer"], department=Department(),
                                 link="http://example.jp/sign-in", base_url="http://example.jp")
    assert "\n- Ward staff\n- Reviewer\n" in text
    assert "\n\n\n" not in text
