"""The access log filter: tokens of single-use links and secret query values become [redacted]."""

from __future__ import annotations

import logging
import secrets

import pytest

from cocreate.web.logredact import REDACTED, RedactSecrets, redact

pytestmark = pytest.mark.databases("sqlite", why="no database: a logging filter")


@pytest.mark.parametrize(("target", "expected"), [
    ("/account/confirm/{t}", "/account/confirm/[redacted]"),
    ("/account/password/reset/{t}", "/account/password/reset/[redacted]"),
    ("/unsubscribe/{t}", "/unsubscribe/[redacted]"),
    ("/staff/invitations/{t}", "/staff/invitations/[redacted]"),
    ("/organisations/invitations/{t}/", "/organisations/invitations/[redacted]/"),
    ("/account/oidc/demo/callback?code=abc&state=def", "/account/oidc/demo/callback?code=[redacted]&state=[redacted]"),
    ("/x?token={t}&page=2", "/x?token=[redacted]&page=2"),
    ("/challenges?category=transport_mobility&page=3", "/challenges?category=transport_mobility&page=3"),
    ("/proposals/12/comments", "/proposals/12/comments"),
    ("/static/css/site.css", "/static/css/site.css"),
])
def test_redact_hides_tokens_and_secret_parameters_only(target: str, expected: str) -> None:
    assert redact(target.format(t=secrets.token_urlsafe(32))) == expected


def test_the_filter_rewrites_uvicorn_access_records() -> None:
    token = secrets.token_urlsafe(32)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", f"/account/confirm/{token}", "1.1", 200), None)
    assert RedactSecrets().filter(record)
    assert token not in record.getMessage() and REDACTED in record.getMessage()
    assert record.getMessage().endswith('"GET /account/confirm/[redacted] HTTP/1.1" 200')


def test_the_app_installs_the_filter_on_the_access_logger(app) -> None:
    assert any(isinstance(f, RedactSecrets) for f in logging.getLogger("uvicorn.access").filters)
