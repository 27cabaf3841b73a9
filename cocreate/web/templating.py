"""The Jinja2 environment shared by pages, fragments and e-mails."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.ext import Extension
from litestar.plugins.jinja import JinjaTemplateEngine as Engine

from cocreate import components, i18n, permissions
from cocreate.web.markdown import markdown_to_text, render_markdown

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@cache
def _static_hash(path: str) -> str:
    file = STATIC_DIR / path
    if not file.is_file():
        raise FileNotFoundError(f"static file not found: {path}")
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """URL of a static file with a content hash, so it can be cached for a year."""
    return f"/static/{path}?v={_static_hash(path)}"


@pass_context
def get_flashes(context: Any) -> list[dict[str, Any]]:
    """Flash messages of this request's session, consumed on display (none outside a session)."""
    request = context.get("request")
    session = request.scope.get("session") if request is not None else None
    if isinstance(session, dict):
        return session.pop("_messages", [])
    return []


@pass_context
def current_user(context: Any) -> Any:
    """The signed-in user, or None (also on pages served before the auth middleware, e.g. 404s)."""
    request = context.get("request")
    return request.scope.get("user") if request is not None else None


class _Nobody:
    """Stands in for the acting Principal on a page rendered before the auth middleware put one into the
    request (a 404 of an unknown address, say): nobody signed in, no roles. The web layer knows no accounts."""

    user = None
    user_id = None
    roles: frozenset[Any] = frozenset()
    staff_department_ids: frozenset[int] = frozenset()
    is_signed_in = False
    is_staff = False
    is_admin = False

    def has_role(self, *_roles: Any) -> bool:
        return False


@pass_context
def current_principal(context: Any) -> Any:
    """The acting Principal (roles included), anonymous when nobody is signed in."""
    request = context.get("request")
    principal = request.scope.get("principal") if request is not None else None
    return principal if principal is not None else _Nobody()


@pass_context
def can(context: Any, action: str, target: Any = None) -> Any:
    """``{% if can("question.answer", qa) %}``: the acting person's :func:`cocreate.permissions.can`."""
    return permissions.can(current_principal(context), action, target)


def navigation(menu: str, principal: Any = None) -> list[Any]:
    """The links of a header menu, as the components' manifests declare them, that ``principal`` sees."""

    def shown(item: Any) -> bool:
        if item.action is None and item.visible is None:
            return True
        if principal is None:
            return False
        return ((item.action is None or bool(permissions.can(principal, item.action)))
                and (item.visible is None or item.visible(principal)))

    items = [item for item in components.navigation(menu) if shown(item)]
    taken = {item.id for item in items if item.id and not item.fallback}
    return [item for item in items if not (item.fallback and item.id in taken)]


def navigation_sections(menu: str, principal: Any = None) -> dict[str | None, list[Any]]:
    """The links of ``menu`` that ``principal`` sees, by the heading of their section (in the current
    language; None: the page's own list), the sections in the order of their first link."""
    sections: dict[str | None, list[Any]] = {}
    for item in navigation(menu, principal):
        sections.setdefault(None if item.section is None else str(item.section), []).append(item)
    return sections


@pass_context
def locale_switch_url(context: Any, locale: str) -> str:
    """The current page in another language (``?lang=``; other query parameters kept)."""
    request = context.get("request")
    if request is None:
        return f"/?lang={locale}"
    query = request.scope.get("query_string", b"").decode("latin-1")
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "lang"]
    params.append(("lang", locale))
    return f"{request.url.path}?{urlencode(params)}"


BLANK_RUNS = re.compile(r"\n{3,}")
_ENDTRANS_AT_LINE_END = re.compile(r"(\{%-?\s*endtrans\s*-?%\})\n")


class TextLineBreaks(Extension):
    """trim_blocks removes the newline after every block tag, ``{% endtrans %}`` included, which in
    a plain-text e-mail runs a translated sentence into the next line. For ``.txt`` templates the
    newline after ``{% endtrans %}`` is doubled before parsing, so the text reads as written."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name and name.endswith(".txt"):
            return _ENDTRANS_AT_LINE_END.sub(lambda match: match.group(1) + "\n\n", source)
        return source


def make_environment(*, auto_reload: bool = False) -> Environment:
    """The Jinja environment; ``auto_reload`` (development only) checks every template file's time on
    every render, which costs a few percent of each page."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        auto_reload=auto_reload,
        cache_size=1000,  # every template stays compiled
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),  # .txt e-mails are plain text
        extensions=["jinja2.ext.i18n", TextLineBreaks],
        undefined=StrictUndefined,  # a typo in a template fails loudly in tests, not silently in production
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations(i18n.get_locale()).gettext(message),
        lambda singular, plural, n: i18n.translations(i18n.get_locale()).ngettext(singular, plural, n),
        newstyle=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.filters.update(
        date=i18n.format_date,
        datetime=i18n.format_datetime,
        deadline=i18n.format_deadline,
        from_iso=i18n.parse_iso,
        number=i18n.format_number,
        yen=i18n.format_yen,
        markdown=render_markdown,
        markdown_text=markdown_to_text,
        content_lang=i18n.content_language,
    )
    env.globals.update(
        static_url=static_url,
        get_locale=i18n.get_locale,
        supported_locales=i18n.SUPPORTED_LOCALES,
        locale_name=i18n.locale_display_name,
        get_flashes=get_flashes,
        locale_switch_url=locale_switch_url,
        current_user=current_user,
        current_principal=current_principal,
        navigation=navigation,
        navigation_sections=navigation_sections,
        can=can,
    )
    return env


def make_template_engine(*, auto_reload: bool = False) -> Engine:
    return Engine.from_environment(make_environment(auto_reload=auto_reload))


def render_standalone(template_name: str, **context: Any) -> str:
    """Render outside a request (e-mails, exports) in the current locale.

    In plain-text templates (``.txt``) a line ending in ``{% endtrans %}`` keeps its line break (see
    :class:`TextLineBreaks`), and runs of blank lines left by conditional blocks shrink to one.
    """
    text = _standalone_env().get_template(template_name).render(**context)
    if template_name.endswith(".txt"):
        text = BLANK_RUNS.sub("\n\n", text)
    return text


@cache
def _standalone_env() -> Environment:
    return make_environment()
