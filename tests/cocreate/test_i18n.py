"""Locale negotiation, formatting and catalogue completeness."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from cocreate import i18n
from cocreate.i18n import format_date, format_datetime, format_number, format_yen, negotiate, using_locale

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "ja"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "ja,en;q=0.5", "ja"),
        (None, "fr-FR,en;q=0.8,ja;q=0.7", "en"),
        (None, "fr-FR,de;q=0.9", "ja"),
        (None, "en;q=0.2,ja;q=0.9", "ja"),
        (None, "en;q=0", "ja"),
        (None, "garbage;;q=abc,,", "ja"),
        ("en", "ja", "en"),
        ("ja", "en", "ja"),
        ("xx", "en", "en"),
    ],
)
def test_negotiation_prefers_choice_then_browser_then_japanese(cookie, header, expected) -> None:  # type: ignore[no-untyped-def]
    assert negotiate(cookie, header) == expected


def test_dates_and_numbers_follow_the_locale() -> None:
    day = date(2026, 11, 22)
    # 23:30 UTC is already the next day in Tokyo.
    late = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    with using_locale("ja"):
        assert format_date(day) == "2026年11月22日"
        assert format_date(late) == "2026年11月22日"
        assert format_datetime(late, "short") == "2026/11/22 08:30"  # one format: 24-hour, two digits
        assert format_number(1234567) == "1,234,567"
        assert format_yen(3000000) == "￥3,000,000"
    with using_locale("en"):
        assert format_date(day) == "November 22, 2026"
        assert format_yen(3000000) == "¥3,000,000"


def test_gettext_uses_the_current_locale() -> None:
    with using_locale("ja"):
        assert i18n.gettext("Page not found") == "ページが見つかりません"
        assert i18n.gettext("Error %(code)s", code=404) == "エラー 404"
    with using_locale("en"):
        assert i18n.gettext("Page not found") == "Page not found"


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with (ROOT / "cocreate" / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def _source_messages() -> set[str]:
    method_map = [("cocreate/**.py", "python"), ("proposals/**.py", "python"), ("labs/**.py", "python"),
                  ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    jinja = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}
    options = {"templates/**.html": jinja, "templates/**.txt": jinja}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}
    found = set()
    # Babel skips folders starting with "_" by default; ours may (e.g. templates/_partials).
    def every_folder(path: str) -> bool:
        name = Path(path).name
        return not name.startswith(".") and name not in ("node_modules", "__pycache__")

    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords, directory_filter=every_folder
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_in_the_code_is_translated_into_japanese() -> None:
    catalog = _catalog("ja")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (m.string[0] if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, "untranslated (run `cocreate i18n extract` and translate):\n" + "\n".join(missing)


def test_english_catalog_covers_every_message() -> None:
    # English is the source language: its catalogue must list every message (msgstr may stay empty).
    ids = {(m.id[0] if isinstance(m.id, tuple) else m.id) for m in _catalog("en") if m.id}
    missing = sorted(_source_messages() - ids)
    assert not missing, "missing from the en catalogue (run `cocreate i18n extract`):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders() -> None:
    import re

    for message in _catalog("ja"):
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        target = message.string[0] if isinstance(message.string, tuple) else message.string
        assert set(re.findall(r"%\(\w+\)s", source)) == set(re.findall(r"%\(\w+\)s", target)), source


@pytest.mark.parametrize(
    ("text", "expected"),
    [("高島平", "ja"), ("スマートバス停", "ja"), ("ｶﾀｶﾅ", "ja"), ("Smart bus stops", "en"), ("", "en"), (None, "en"),
     ("IoT と AI", "ja")],
)
def test_content_language_marks_user_text(text, expected) -> None:  # type: ignore[no-untyped-def]
    assert i18n.content_language(text) == expected


def test_moments_read_one_way_with_a_24_hour_clock_and_deadlines_end_the_day_before() -> None:
    from datetime import UTC, datetime

    from cocreate.i18n import format_datetime, format_deadline, using_locale

    evening = datetime(2026, 12, 26, 9, 0, tzinfo=UTC)  # 18:00 in Tokyo
    midnight = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)  # 2027-01-06 00:00 in Tokyo
    with using_locale("ja"):
        assert format_datetime(evening) == "2026年12月26日 18:00"
        assert format_datetime(evening, "short") == "2026/12/26 18:00"
        assert format_deadline(midnight, "short") == "2027/01/05 23:59"
        assert format_deadline(midnight, "date") == "2027年1月5日"
    with using_locale("en"):
        assert format_datetime(evening) == "December 26, 2026, 18:00"
        assert format_datetime(evening, "short") == "2026-12-26 18:00"
        assert format_deadline(midnight) == "January 5, 2027, 23:59"
        assert format_deadline(evening) == "December 26, 2026, 18:00"  # not at midnight: as it is
        assert "AM" not in format_datetime(midnight) and "PM" not in format_datetime(evening)
