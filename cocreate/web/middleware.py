"""ASGI middleware of the core: the request's locale."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from cocreate import i18n

ONE_YEAR = 365 * 24 * 3600


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def locale_middleware(default_locale: str, secure_cookies: bool):
    """Choose the locale: ``?lang=`` (remembered in a cookie), then the cookie, then Accept-Language."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            cookie_header = _header(scope, b"cookie")
            cookies = SimpleCookie()
            if cookie_header:
                try:
                    cookies.load(cookie_header)
                except Exception:
                    cookies = SimpleCookie()
            chosen = None
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if query.get("lang", [None])[0] in i18n.SUPPORTED_LOCALES:
                chosen = query["lang"][0]
            saved = cookies[i18n.LOCALE_COOKIE].value if i18n.LOCALE_COOKIE in cookies else None
            locale = chosen or i18n.negotiate(saved, _header(scope, b"accept-language"), default_locale)
            scope.setdefault("state", {})["locale"] = locale

            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    headers.add("vary", "Accept-Language, Cookie")
                    if chosen and chosen != saved:
                        attributes = f"Path=/; Max-Age={ONE_YEAR}; HttpOnly; SameSite=Lax"
                        if secure_cookies:
                            attributes += "; Secure"
                        headers.add("set-cookie", f"{i18n.LOCALE_COOKIE}={chosen}; {attributes}")
                await send(message)

            with i18n.using_locale(locale):
                await app(scope, receive, send_with_cookie)

        return middleware

    return factory
