"""Secrets stay out of the access log.

Single-use links carry their token in the path (``/account/password/reset/<token>``, confirmation,
e-mail change, invitations, one-click unsubscribe) and the OpenID Connect callback its ``code`` and
``state`` in the query. uvicorn's access log writes every request line, so whoever reads the logs (an
operator, a log shipper, a backup of them) could use a reset link before its owner. The filter below
rewrites each access record before it is written: a path segment that looks like a token (32 or more
URL-safe characters, as :func:`secrets.token_urlsafe` makes them) and the values of secret-bearing
query parameters become ``[redacted]``; everything else of the line stays as it was.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_-]{32,}(?=/|$)")
SECRET_PARAMETERS = frozenset({"code", "state", "token", "key", "secret", "password", "id_token", "access_token"})


def redact(target: str) -> str:
    """The request target (path and query) without tokens and secret parameter values."""
    path, question, query = target.partition("?")
    path = TOKEN_SEGMENT.sub(REDACTED, path)
    if not question:
        return path
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_PARAMETERS for name, _value in pairs):
        return f"{path}?{query}"
    return path + "?" + urlencode([(name, REDACTED if name.lower() in SECRET_PARAMETERS else value)
                                   for name, value in pairs], safe="[]")


class RedactSecrets(logging.Filter):
    """For uvicorn's access records: ``args`` is (client, method, target, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install() -> None:
    """Add the filter to the access logger once (each web process builds its app once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
        logger.addFilter(RedactSecrets())
