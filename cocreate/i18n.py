"""Japanese first, English complete: locale negotiation, gettext and locale-aware formatting.

The current locale lives in a context variable, set per request by :class:`LocaleMiddleware` and
by :func:`using_locale` in tasks (e-mails), so templates, services and form errors all agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, dates, numbers
from babel.support import LazyProxy, NullTranslations, Translations

SUPPORTED_LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
LOCALE_COOKIE = "cocreate_locale"
WARD_TIMEZONE = ZoneInfo("Asia/Tokyo")
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

_current_locale: ContextVar[str] = ContextVar("cocreate_locale", default=DEFAULT_LOCALE)


class CatalogMissingError(RuntimeError):
    pass


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog for ``locale``. English is the source language of every message."""
    mo_file = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.mo"
    if locale == "en" and not mo_file.exists():
        return NullTranslations()
    if not mo_file.exists():
        raise CatalogMissingError(f"{mo_file} is missing: run `cocreate i18n compile`")
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


@contextmanager
def using_locale(locale: str) -> Iterator[None]:
    token = _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def gettext(message: str, **variables: Any) -> str:
    """Translate into the current locale; ``%(name)s`` placeholders are filled from ``variables``."""
    text = translations(get_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    return text % ({"num": n} | variables)


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """For module-level labels: translated when shown, in the locale of that moment."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


_ = gettext


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet (translated later, in another locale)."""
    return message


def negotiate(cookie_value: str | None, accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The user's explicit choice (cookie) first, then the browser's Accept-Language, then the default."""
    if cookie_value in SUPPORTED_LOCALES:
        return cookie_value  # type: ignore[return-value]
    if accept_language:
        ranked: list[tuple[float, int, str]] = []
        for index, part in enumerate(accept_language.split(",")):
            tag, _sep, params = part.strip().partition(";")
            quality = 1.0
            for param in params.split(";"):
                key, _eq, value = param.strip().partition("=")
                if key == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            if tag and quality > 0:
                ranked.append((-quality, index, tag.strip().lower()))
        for _q, _i, tag in sorted(ranked):
            primary = tag.split("-")[0]
            if primary in SUPPORTED_LOCALES:
                return primary
    return default


def _localize(value: datetime) -> datetime:
    return value.astimezone(WARD_TIMEZONE) if value.tzinfo else value


def format_date(value: date | datetime | None, format: str = "long") -> str:
    """``2026年11月22日`` / ``November 22, 2026``; datetimes are shown in the ward's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _localize(value).date()
    return dates.format_date(value, format=format, locale=get_locale())


def parse_iso(value: str | datetime | None) -> datetime | None:
    """An ISO 8601 date-time kept as text (e.g. in a notification's stored parameters), or None if it is not one.

    Lets templates format stored moments like any other: ``{{ params.starts_at|from_iso|date("full") }}``.
    """
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


SHORT_DATE = {"ja": "yyyy/MM/dd", "en": "yyyy-MM-dd"}


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    """A moment in the ward's time zone, one way everywhere, always with a 24-hour clock and no seconds:
    ``2026年12月26日 18:00`` / ``December 26, 2026, 18:00``, or with ``"short"`` ``2026/12/26 18:00`` /
    ``2026-12-26 18:00``. Any other ``format`` is a Babel pattern (``"HH:mm"``)."""
    if value is None:
        return ""
    local = _localize(value)
    locale = get_locale()
    clock = dates.format_time(local, "HH:mm", locale=locale)
    if format == "short":
        return f"{dates.format_date(local, SHORT_DATE.get(locale, 'yyyy-MM-dd'), locale=locale)} {clock}"
    if format in ("medium", "long", "full"):
        day = dates.format_date(local, "full" if format == "full" else "long", locale=locale)
        return f"{day} {clock}" if locale == "ja" else f"{day}, {clock}"
    return dates.format_datetime(local, format=format, locale=locale, tzinfo=WARD_TIMEZONE)


def format_deadline(value: datetime | None, format: str = "medium") -> str:
    """A deadline as people read one: a deadline at midnight is the end of the day before, 23:59
    (``2027-01-06 00:00`` reads ``2027-01-05 23:59``; with ``"date"``, the date of that last day)."""
    if value is None:
        return ""
    local = _localize(value)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        local = local - timedelta(minutes=1)
    return format_date(local) if format == "date" else format_datetime(local, format)


def format_number(value: float | int | None) -> str:
    if value is None:
        return ""
    return numbers.format_decimal(value, locale=get_locale())


def format_yen(value: int | None) -> str:
    if value is None:
        return ""
    return numbers.format_currency(value, "JPY", locale=get_locale())


_JAPANESE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def content_language(text: str | None) -> str:
    """The language of user-written text, for ``lang`` attributes (WCAG 3.1.2 Language of Parts).

    Any kana or kanji makes it Japanese; otherwise English. Screen readers then pronounce a Japanese
    title correctly on an English page, and the other way round.
    """
    return "ja" if text and _JAPANESE_SCRIPT.search(text) else "en"


def locale_display_name(locale: str) -> str:
    """A language's own name (日本語, English), for the language switcher."""
    return Locale.parse(locale).get_display_name(locale) or locale
