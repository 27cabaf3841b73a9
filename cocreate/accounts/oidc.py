"""Sign-in with OpenID Connect providers: authorization-code flow with PKCE (S256), state and nonce.

Authlib builds the authorization request and the PKCE challenge; the token endpoint is called with
plain httpx (Authlib's httpx client is deprecated) and the ID token is checked with joserfc against
the provider's published keys: signature (never ``alg: none``), issuer, audience, expiry and nonce.

The pieces of a pending sign-in (state, nonce, PKCE verifier) live in the server-side session, keyed
by state, and are removed when the provider's answer comes back: a replayed answer finds nothing.

Linking rules, in order: a known (provider, subject) signs its user in; otherwise a provider-verified
e-mail address that matches an account whose address is confirmed here links to that account; any
other match is refused with an explanation; no match at all starts a new account, created only once
the person has chosen a display name and agreed to the terms (:func:`complete_sign_up`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote_plus

import httpx
import sqlalchemy as sa
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session, select

from cocreate import permissions
from cocreate.accounts import consents, services
from cocreate.accounts.models import OidcIdentity, User
from cocreate.accounts.permissions import Forbidden, Principal, require_signed_in
from cocreate.accounts.services import AGREE_TO_PRIVACY, AGREE_TO_TERMS, DisplayName, FormModel, Ticked
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.settings import OidcProvider, Settings

log = logging.getLogger(__name__)

SESSION_FLOWS = "oidc_flows"
SESSION_PENDING = "oidc_pending"
FLOW_TTL = 10 * 60  # seconds from the redirect to the provider until its answer must be back
PENDING_TTL = 30 * 60  # seconds to fill in the completion form of a new account
MAX_FLOWS = 5  # sign-ins started in other tabs that may still come back
METADATA_TTL = 60 * 60
JWKS_REFRESH_INTERVAL = 30  # an unknown key id refetches the key set at most this often
HTTP_TIMEOUT = 10.0
CLOCK_LEEWAY = 60
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                       "EdDSA", "Ed25519")


class OidcError(Exception):
    """The provider's answer could not be used; nothing was changed.

    ``message`` is translated for the page, ``detail`` is for the log only.
    """

    def __init__(self, message: str, detail: str, status_code: int = 400) -> None:
        super().__init__(detail)
        self.message = message
        self.detail = detail
        self.status_code = status_code


def _unusable_answer(provider: OidcProvider, detail: str) -> OidcError:
    return OidcError(
        _("We could not verify the answer from %(provider)s, so you have not been signed in. Nothing was "
          "changed. Please try again.", provider=provider.name),
        detail,
    )


def _expired_attempt(detail: str) -> OidcError:
    return OidcError(
        _("This sign-in attempt has expired or was already used. Nothing was changed. Start again from the "
          "sign-in page."),
        detail,
    )


# --- provider metadata and keys ------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderMetadata:
    """The parts of a provider's discovery document that the code flow uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    id_token_algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]


_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, tuple[float, KeySet]] = {}


def clear_caches() -> None:
    """Forget every cached discovery document and key set (tests; a provider rotating everything)."""
    with _lock:
        _metadata_cache.clear()
        _jwks_cache.clear()


def _get_json(provider: OidcProvider, url: str, what: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise OidcError(
            _("%(provider)s cannot be reached at the moment. Please try again later, or sign in with your "
              "e-mail address and password.", provider=provider.name),
            f"{what} of {provider.slug} at {url}: {error}",
            status_code=502,
        ) from error
    if not isinstance(document, dict):
        raise _unusable_answer(provider, f"{what} of {provider.slug} is not a JSON object")
    return document


def _string_list(value: object) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def discover(provider: OidcProvider) -> ProviderMetadata:
    """The provider's metadata from its discovery document, cached for an hour per process."""
    with _lock:
        cached = _metadata_cache.get(provider.issuer)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _get_json(provider, url, "discovery document")
    # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the one configured.
    if document.get("issuer") != provider.issuer:
        raise _unusable_answer(provider, f"discovery issuer {document.get('issuer')!r} != {provider.issuer!r}")
    endpoints = {name: document.get(name) for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")}
    if not all(isinstance(value, str) and value.startswith(("https://", "http://")) for value in endpoints.values()):
        raise _unusable_answer(provider, f"discovery document of {provider.slug} lacks endpoints")
    userinfo = document.get("userinfo_endpoint")
    metadata = ProviderMetadata(
        issuer=provider.issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],  # type: ignore[arg-type]
        token_endpoint=endpoints["token_endpoint"],  # type: ignore[arg-type]
        jwks_uri=endpoints["jwks_uri"],  # type: ignore[arg-type]
        userinfo_endpoint=userinfo if isinstance(userinfo, str) else None,
        id_token_algorithms=_string_list(document.get("id_token_signing_alg_values_supported")) or ("RS256",),
        token_auth_methods=_string_list(document.get("token_endpoint_auth_methods_supported"))
        or ("client_secret_basic",),
    )
    with _lock:
        _metadata_cache[provider.issuer] = (time.monotonic() + METADATA_TTL, metadata)
    return metadata


def provider_keys(provider: OidcProvider, metadata: ProviderMetadata, *, refresh: bool = False) -> KeySet:
    """The provider's public signing keys (its JWKS), cached; ``refresh`` refetches them, rate-limited."""
    now = time.monotonic()
    with _lock:
        cached = _jwks_cache.get(metadata.jwks_uri)
    if cached is not None:
        fetched_at, keys = cached
        fresh = now - fetched_at < METADATA_TTL
        if fresh and (not refresh or now - fetched_at < JWKS_REFRESH_INTERVAL):
            return keys
    document = _get_json(provider, metadata.jwks_uri, "key set")
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise _unusable_answer(provider, f"key set of {provider.slug}: {error}") from error
    with _lock:
        _jwks_cache[metadata.jwks_uri] = (now, keys)
    return keys


# --- ID token ------------------------------------------------------------------------------------


def verify_id_token(
    id_token: str,
    *,
    keys: KeySet,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: tuple[str, ...] = ("RS256",),
    now: int | None = None,
) -> dict[str, Any]:
    """The claims of a valid ID token, or :class:`joserfc.errors.JoseError`.

    Checks the signature with ``keys`` (only asymmetric ``algorithms``: never ``none``, never a
    shared-secret one), then ``iss``, ``aud`` (and ``azp`` when there are several audiences),
    ``exp``, ``iat``, ``sub`` and ``nonce``.
    """
    allowed = [algorithm for algorithm in algorithms if algorithm in ID_TOKEN_ALGORITHMS] or ["RS256"]
    token = jwt.decode(id_token, keys, algorithms=allowed)
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        now=now,
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    registry.validate(claims)
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise InvalidClaimError("azp")
    if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
        raise InvalidClaimError("sub")
    return claims


def _verified_claims(provider: OidcProvider, metadata: ProviderMetadata, id_token: str, nonce: str) -> dict[str, Any]:
    def check(keys: KeySet) -> dict[str, Any]:
        return verify_id_token(id_token, keys=keys, issuer=metadata.issuer, client_id=provider.client_id,
                               nonce=nonce, algorithms=metadata.id_token_algorithms)

    try:
        try:
            return check(provider_keys(provider, metadata))
        except InvalidKeyIdError:  # the provider may have rotated its keys since we fetched them
            return check(provider_keys(provider, metadata, refresh=True))
    except JoseError as error:
        raise _unusable_answer(provider, f"ID token from {provider.slug} rejected: {error}") from error


# --- the flow ------------------------------------------------------------------------------------


def redirect_uri(settings: Settings, provider: OidcProvider) -> str:
    """Where the provider sends the browser back; registered with the provider as is."""
    return f"{settings.base_url.rstrip('/')}/account/oidc/{provider.slug}/callback"


def begin(session_data: MutableMapping[str, Any], settings: Settings, provider: OidcProvider,
          next_url: str = "/") -> str:
    """Remember a new sign-in attempt in the session and return the provider's authorization URL."""
    metadata = discover(provider)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, within PKCE's 43 to 128
    now = time.time()
    flows = {key: flow for key, flow in _flows(session_data).items() if flow.get("created", 0) + FLOW_TTL > now}
    for key in sorted(flows, key=lambda key: flows[key].get("created", 0))[: max(0, len(flows) - MAX_FLOWS + 1)]:
        del flows[key]
    flows[state] = {"provider": provider.slug, "nonce": nonce, "verifier": verifier, "next": next_url,
                    "created": now}
    session_data[SESSION_FLOWS] = flows
    return prepare_grant_uri(
        metadata.authorization_endpoint, provider.client_id, "code", redirect_uri(settings, provider),
        provider.scopes, state, nonce=nonce, code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )


def _flows(session_data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    flows = session_data.get(SESSION_FLOWS)
    return dict(flows) if isinstance(flows, dict) else {}


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in: its ``sub`` and what it told us about them."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    suggested_name: str


def _take_flow(session_data: MutableMapping[str, Any], provider: OidcProvider, state: str) -> dict[str, Any]:
    flows = _flows(session_data)
    flow = flows.pop(state, None) if state else None
    if flows:
        session_data[SESSION_FLOWS] = flows
    else:
        session_data.pop(SESSION_FLOWS, None)
    if flow is None:
        raise _expired_attempt(f"unknown state for {provider.slug}")
    if flow.get("provider") != provider.slug:
        raise _expired_attempt(f"state of {flow.get('provider')!r} came back to {provider.slug}")
    if flow.get("created", 0) + FLOW_TTL < time.time():
        raise _expired_attempt(f"sign-in at {provider.slug} took too long")
    return flow


def _exchange_code(provider: OidcProvider, metadata: ProviderMetadata, settings: Settings, code: str,
                   verifier: str) -> dict[str, Any]:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(settings, provider),
            "code_verifier": verifier}
    secret = provider.client_secret.get_secret_value()
    auth: httpx.BasicAuth | None = None
    if "client_secret_basic" in metadata.token_auth_methods or "client_secret_post" not in metadata.token_auth_methods:
        # RFC 6749, section 2.3.1: both parts are form-encoded before Basic encoding.
        auth = httpx.BasicAuth(quote_plus(provider.client_id), quote_plus(secret))
    else:
        data |= {"client_id": provider.client_id, "client_secret": secret}
    try:
        response = httpx.post(metadata.token_endpoint, data=data, auth=auth, timeout=HTTP_TIMEOUT,
                              headers={"Accept": "application/json"})
    except httpx.HTTPError as error:
        raise OidcError(
            _("%(provider)s cannot be reached at the moment. Please try again later, or sign in with your "
              "e-mail address and password.", provider=provider.name),
            f"token endpoint of {provider.slug}: {error}", status_code=502,
        ) from error
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("id_token"), str):
        error_code = body.get("error") if isinstance(body, dict) else None
        raise _unusable_answer(provider, f"token endpoint of {provider.slug} answered {response.status_code} "
                                         f"{error_code!r}")
    return body


def _userinfo(provider: OidcProvider, metadata: ProviderMetadata, access_token: str, subject: str) -> dict[str, Any]:
    """Claims from the UserInfo endpoint, for providers that keep e-mail and profile out of the ID token."""
    if not metadata.userinfo_endpoint or not access_token:
        return {}
    try:
        response = httpx.get(metadata.userinfo_endpoint, timeout=HTTP_TIMEOUT,
                             headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        claims = response.json() if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        log.warning("userinfo of %s could not be read", provider.slug)
        return {}
    if not isinstance(claims, dict):
        return {}
    # OpenID Connect Core 1.0, section 5.3.2: a sub that differs from the ID token's must be ignored.
    if claims.get("sub") != subject:
        raise _unusable_answer(provider, f"userinfo sub of {provider.slug} differs from the ID token")
    return claims


_NO_CONTROL_CHARACTERS = dict.fromkeys([*range(0x20), 0x7F])
"""A ``str.translate`` table that drops control characters (line breaks and tabs too)."""


def _suggested_name(claims: Mapping[str, Any]) -> str:
    for claim in ("nickname", "preferred_username", "name", "given_name"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.translate(_NO_CONTROL_CHARACTERS).strip()[:50]
    return ""


def finish(session_data: MutableMapping[str, Any], settings: Settings, provider: OidcProvider,
           params: Mapping[str, str | None]) -> tuple[ProviderIdentity, str]:
    """Check the provider's answer (the callback's query) and return who signed in and where to go next.

    Raises :class:`OidcError` for a refusal at the provider, an unknown, used or expired state, a
    mix-up of providers, a failed code exchange (PKCE included) or an ID token that does not verify.
    """
    flow = _take_flow(session_data, provider, params.get("state") or "")
    if params.get("error"):
        if params["error"] == "access_denied":
            raise OidcError(_("You cancelled the sign-in at %(provider)s. Nothing was changed.",
                              provider=provider.name), f"access_denied at {provider.slug}")
        raise _unusable_answer(provider, f"{provider.slug} answered error={params['error']!r}")
    metadata = discover(provider)
    # RFC 9207: when the provider names itself in the answer, it must be the one we asked.
    if params.get("iss") is not None and params["iss"] != metadata.issuer:
        raise _unusable_answer(provider, f"answer for {provider.slug} came from {params['iss']!r}")
    code = params.get("code") or ""
    if not code or len(code) > 2000:
        raise _unusable_answer(provider, f"no usable code from {provider.slug}")
    tokens = _exchange_code(provider, metadata, settings, code, flow["verifier"])
    claims = _verified_claims(provider, metadata, tokens["id_token"], flow["nonce"])
    if "email" not in claims:
        access_token = tokens.get("access_token")
        extra = _userinfo(provider, metadata, access_token if isinstance(access_token, str) else "", claims["sub"])
        claims = extra | claims
    email = claims.get("email")
    identity = ProviderIdentity(
        provider=provider.slug,
        subject=claims["sub"],
        email=services.normalize_email(email) if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
        suggested_name=_suggested_name(claims),
    )
    return identity, str(flow.get("next") or "/")


# --- linking and accounts ------------------------------------------------------------------------


class RefusalReason(StrEnum):
    ACCOUNT_UNAVAILABLE = "account_unavailable"  # blocked or deleted
    EMAIL_NOT_VERIFIED = "email_not_verified"  # the provider vouches for no e-mail address
    EMAIL_NOT_CONFIRMED = "email_not_confirmed"  # an account has the address but never confirmed it


@dataclass(frozen=True)
class SignedIn:
    user: User
    linked: bool = False
    created: bool = False


@dataclass(frozen=True)
class Refused:
    reason: RefusalReason
    email: str | None = None


@dataclass(frozen=True)
class NeedsCompletion:
    """No account yet: the person chooses a display name and agrees to the terms first."""

    identity: ProviderIdentity


Outcome = SignedIn | Refused | NeedsCompletion


def _record_sign_in(user: User, identity_row: OidcIdentity, email: str | None) -> None:
    now = utcnow()
    identity_row.last_used_at = now
    if email:
        identity_row.email = email
    user.last_sign_in_at = now


def resolve(session: Session, identity: ProviderIdentity) -> Outcome:
    """Apply the linking rules to a verified provider identity (commits a sign-in or a new link)."""
    for _attempt in range(2):
        try:
            with unit_of_work(session):
                return _resolve(session, identity)
        except sa.exc.IntegrityError:  # the same identity was linked by a concurrent callback: decide again
            continue
    raise RuntimeError("OIDC identity could not be linked")  # pragma: no cover - two races in a row


def _resolve(session: Session, identity: ProviderIdentity) -> Outcome:
    row = session.exec(select(OidcIdentity).where(OidcIdentity.provider == identity.provider,
                                                  OidcIdentity.subject == identity.subject)).first()
    if row is not None:
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return Refused(RefusalReason.ACCOUNT_UNAVAILABLE)
        _record_sign_in(user, row, identity.email if identity.email_verified else None)
        return SignedIn(user)
    if not identity.email or not identity.email_verified or services.check_email(identity.email):
        return Refused(RefusalReason.EMAIL_NOT_VERIFIED, identity.email)
    user = session.exec(select(User).where(User.email == identity.email)).first()
    if user is None:
        return NeedsCompletion(identity)
    if not user.is_active:
        return Refused(RefusalReason.ACCOUNT_UNAVAILABLE)
    if not user.is_confirmed:
        return Refused(RefusalReason.EMAIL_NOT_CONFIRMED, identity.email)
    row = OidcIdentity(user_id=user.id, provider=identity.provider, subject=identity.subject,  # type: ignore[arg-type]
                       email=identity.email)
    session.add(row)
    _record_sign_in(user, row, identity.email)
    session.flush()  # a link made meanwhile by a concurrent callback fails here, inside the unit of work
    return SignedIn(user, linked=True)


@dataclass(frozen=True)
class PendingAccount:
    """A new account waiting for its completion form, kept in the session."""

    provider: str
    subject: str
    email: str
    suggested_name: str
    next_url: str
    created: float

    @property
    def identity(self) -> ProviderIdentity:
        return ProviderIdentity(provider=self.provider, subject=self.subject, email=self.email,
                                email_verified=True, suggested_name=self.suggested_name)


def keep_pending(session_data: MutableMapping[str, Any], identity: ProviderIdentity, next_url: str) -> None:
    assert identity.email is not None
    session_data[SESSION_PENDING] = asdict(PendingAccount(
        provider=identity.provider, subject=identity.subject, email=identity.email,
        suggested_name=identity.suggested_name, next_url=next_url, created=time.time(),
    ))


def pending_account(session_data: Mapping[str, Any], settings: Settings) -> PendingAccount | None:
    """The account waiting for its completion form, if it has not expired and its provider still exists."""
    data = session_data.get(SESSION_PENDING)
    if not isinstance(data, dict):
        return None
    try:
        pending = PendingAccount(**data)
    except TypeError:
        return None
    if pending.created + PENDING_TTL < time.time() or settings.oidc_provider(pending.provider) is None:
        return None
    return pending


def forget_pending(session_data: MutableMapping[str, Any]) -> None:
    session_data.pop(SESSION_PENDING, None)


class CompletionForm(FormModel):
    """What a new account of a provider identity needs: a display name and the two agreements."""

    display_name: Annotated[str, DisplayName()] = ""
    accept_terms: Annotated[bool, Ticked(AGREE_TO_TERMS)] = False
    accept_privacy: Annotated[bool, Ticked(AGREE_TO_PRIVACY)] = False


def complete_sign_up(session: Session, pending: PendingAccount, form: CompletionForm, *, locale: str = "ja") -> Outcome:
    """Create the account of a new provider identity, with its consents, and link the identity.

    The e-mail address was verified by the provider, so it counts as confirmed. The linking rules
    run again first (in a unit of work of their own): an account with the address may have appeared
    since the form was shown.
    """
    outcome = resolve(session, pending.identity)
    if not isinstance(outcome, NeedsCompletion):
        return outcome
    try:
        with unit_of_work(session):
            user = _create_account(session, pending, form, locale)
    except sa.exc.IntegrityError:  # a registration or another callback won the race: decide again
        return resolve(session, pending.identity)
    return SignedIn(user, created=True)


def _create_account(session: Session, pending: PendingAccount, form: CompletionForm, locale: str) -> User:
    now = utcnow()
    user = User(email=pending.email, email_confirmed_at=now, display_name=form.display_name, password_hash=None,
                locale=locale if locale in ("ja", "en") else "ja", last_sign_in_at=now)
    session.add(user)
    session.flush()
    consents.record(session, user, consents.current_versions(session))
    session.add(OidcIdentity(user_id=user.id, provider=pending.provider, subject=pending.subject,  # type: ignore[arg-type]
                             email=pending.email, last_used_at=now))
    session.flush()  # the identity linked meanwhile fails here, inside the unit of work
    return user


# --- linked identities on the account page ----------------------------------------------------------


def linked_identities(session: Session, user_id: int) -> list[OidcIdentity]:
    """The provider accounts linked to a user, oldest first."""
    return list(session.exec(select(OidcIdentity).where(OidcIdentity.user_id == user_id)
                             .order_by(OidcIdentity.created_at, OidcIdentity.id)).all())  # type: ignore[arg-type]


@transactional
def unlink(session: Session, actor: Principal, identity_id: int) -> OidcIdentity:
    """Remove one of the actor's own linked provider accounts.

    Refused when it is the only way left to sign in (no password and no other linked provider).
    """
    user = require_signed_in(actor)
    row = session.get(OidcIdentity, identity_id, with_for_update=True)
    if row is None:
        raise Forbidden()
    permissions.require(actor, "identity.unlink", row)
    owner = session.get(User, user.id)
    others = session.exec(select(sa.func.count()).select_from(OidcIdentity).where(
        OidcIdentity.user_id == user.id, OidcIdentity.id != identity_id)).one()
    if owner is None or (not owner.password_hash and not others):
        raise Invalid({"identity": _(
            "This is the only way you can sign in. Set a password first (use “Forgot your password?” on the "
            "sign-in page), then remove this link.")})
    session.delete(row)
    return row
