"""Security headers on every response, including error pages and static files."""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

DEFAULT_MAP_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def content_security_policy(map_tile_url: str = DEFAULT_MAP_TILE_URL) -> str:
    """The policy: everything from this site only, except map tiles from the configured tile server.

    No inline scripts or styles anywhere: htmx is configured through a <meta> tag and its own
    indicator styles are switched off (see base.html), so the policy can stay strict.
    """
    tiles = urlsplit(map_tile_url)
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.scheme and tiles.netloc else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data:{tile_origin}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
"""The policy with the default tile server."""

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(self), payment=()",
    "cross-origin-opener-policy": "same-origin",
}


def make_security_headers_hook(*, hsts: bool, map_tile_url: str = DEFAULT_MAP_TILE_URL):
    headers = {"content-security-policy": content_security_policy(map_tile_url), **SECURITY_HEADERS}
    if hsts:
        headers["strict-transport-security"] = "max-age=63072000; includeSubDomains"

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            response_headers = MutableScopeHeaders.from_message(message)
            for name, value in headers.items():
                if name not in response_headers:
                    response_headers[name] = value

    return add_security_headers
