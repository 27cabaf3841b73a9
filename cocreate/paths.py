"""Paths of the core's pages for code that runs without a request: e-mails (absolute, with
:func:`absolute`), notifications (stored with their link) and the comments' view-models, built by services.

Pages, redirects and the API build their links from route names (``url_for`` in templates,
``request.app.route_reverse`` in routes). Code without a request has no app to ask, so each path it
needs is written here once, beside the name of its route; ``tests/cocreate/web/test_links.py`` checks
every helper against ``route_reverse`` of that name. The components' own paths are theirs
(``labs/paths.py``; what comments and moderation link to is declared in the manifests, see
:mod:`cocreate.comments.targets` and :mod:`cocreate.moderation.targets`).
"""

from __future__ import annotations

from typing import Any


def absolute(settings: Any, path: str) -> str:
    """``path`` on the site's public address (``settings.base_url``): the links of e-mails and feeds."""
    return settings.base_url.rstrip("/") + path


# --- accounts ------------------------------------------------------------------------------------


def sign_in() -> str:
    """``sign-in``."""
    return "/account/sign-in"


def confirm_email(token: str) -> str:
    """``confirm-email``: the link of the registration e-mail."""
    return f"/account/confirm/{token}"


def password_forgot() -> str:
    """``password-forgot``."""
    return "/account/password/forgot"


def password_reset(token: str) -> str:
    """``password-reset``."""
    return f"/account/password/reset/{token}"


def account_password() -> str:
    """``account-password``."""
    return "/account/password"


def email_change_confirm(token: str) -> str:
    """``account-email-confirm``: the link sent to a new e-mail address."""
    return f"/account/email/confirm/{token}"


def data_export_download(token: str) -> str:
    """``account-export-file``: the link mailed when a "download my data" zip is ready."""
    return f"/account/export/file/{token}"


def account_residency() -> str:
    """``account-residency``."""
    return "/account/residency"


def staff_invitation(token: str) -> str:
    """``staff-invitation``."""
    return f"/account/staff-invitation/{token}"


def organisation(organisation_id: int) -> str:
    """``organisation``."""
    return f"/organisations/{organisation_id}"


def organisation_invitation(token: str) -> str:
    """``organisation-invitation``."""
    return f"/organisations/invitations/{token}"


# --- notifications -------------------------------------------------------------------------------


def notifications() -> str:
    """``notifications``."""
    return "/notifications"


def notification_settings() -> str:
    """``account-notifications``."""
    return "/account/notifications"


def unsubscribe(token: str) -> str:
    """``unsubscribe``: the one-click link of a notification e-mail."""
    return f"/unsubscribe/{token}"


# --- comments ------------------------------------------------------------------------------------


def comment_replies(comment_id: int) -> str:
    """``comment-replies``: a thread (its first comment's id) with its replies."""
    return f"/comments/{comment_id}/replies"


CHECKED: dict[str, tuple[Any, dict[str, Any]]] = {
    "sign-in": (sign_in, {}),
    "confirm-email": (confirm_email, {"token": "abc"}),
    "password-forgot": (password_forgot, {}),
    "password-reset": (password_reset, {"token": "abc"}),
    "account-password": (account_password, {}),
    "account-email-confirm": (email_change_confirm, {"token": "abc"}),
    "account-residency": (account_residency, {}),
    "account-export-file": (data_export_download, {"token": "abc"}),
    "staff-invitation": (staff_invitation, {"token": "abc"}),
    "organisation": (organisation, {"organisation_id": 1}),
    "organisation-invitation": (organisation_invitation, {"token": "abc"}),
    "notifications": (notifications, {}),
    "account-notifications": (notification_settings, {}),
    "unsubscribe": (unsubscribe, {"token": "abc"}),
    "comment-replies": (comment_replies, {"comment_id": 1}),
}
"""Each helper with its route's name and sample parameters (for the test that checks them)."""
