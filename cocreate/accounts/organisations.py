"""Organisation use cases: create and edit, members and e-mail invitations, verification by the ward.

Every function checks the acting :class:`Principal` itself and owns its transaction: it either
commits the whole change (with its audit entry and e-mails) or raises and changes nothing.

Rules worth knowing:
- The corporate number (法人番号) is optional, but an organisation without one cannot be verified.
- Changing the name or the corporate number of a verified organisation removes the verification
  until a ward administrator checks it again (the gate for proposals and bookings relies on it).
- An organisation always keeps at least one administrator.
- Invitations are single-use links valid for 14 days; only the token's SHA-256 is stored, and only
  the account whose confirmed e-mail address is the invited one can accept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import mail, paths, permissions
from cocreate.accounts import corporate_number
from cocreate.accounts.models import (
    Organisation,
    OrganisationInvitation,
    OrganisationKind,
    OrganisationMember,
    User,
)
from cocreate.accounts.permissions import (
    Forbidden,
    Principal,
    membership,
    on_organisation,
    require_signed_in,
    user_allowed_to,
)
from cocreate.accounts.services import FormModel, check_email, normalize_email
from cocreate.audit import record
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, FieldType, Message, as_text, refuse
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext, using_locale
from cocreate.settings import Settings
from cocreate.web.pagination import Page, paginate
from cocreate.web.templating import render_standalone

NAME_MAX = 200
ADDRESS_MAX = 300
WEBSITE_MAX = 500
DESCRIPTION_MAX = 5000
NOTE_MAX = 500
QUERY_MAX = 100

INVITATION_TTL = timedelta(days=14)
MAX_PENDING_INVITATIONS = 50
# Revoking and re-sending must not turn the invitation form into a way of mailing strangers in bulk.
MAX_INVITATIONS_PER_DAY = 100

NTA_LOOKUP_URL = "https://www.houjin-bangou.nta.go.jp/henkorireki-johoto.html?selHouzinNo={number}"

# One-line fields: no control characters (they would break e-mail subjects) and no bidirectional
# overrides (they let a name display as another organisation's name).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Multi-line text: tabs and line breaks are fine, other control characters are not.
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL_FORBIDDEN = re.compile(r"[\s<>\"'`\\^{}|\x00-\x1f\x7f]")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _actor_label(user: User) -> str:
    return f"{user.display_name} (#{user.id})"[:200]


def _get(session: Session, organisation_id: int, *, lock: bool = False) -> Organisation:
    organisation = session.get(Organisation, organisation_id, with_for_update=lock)
    if organisation is None:
        raise NotFound()
    return organisation


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewing:
    """An organisation as one actor sees it; also the target of the organisation rules (templates ask
    ``can("organisation.edit", viewing)``)."""

    organisation: Organisation
    member: OrganisationMember | None

    @property
    def is_verified(self) -> bool:
        return self.organisation.is_verified

    @property
    def is_member(self) -> bool:
        return self.member is not None

    @property
    def is_org_admin(self) -> bool:
        return self.member is not None and self.member.is_admin


def view(session: Session, actor: Principal, organisation_id: int) -> Viewing:
    """The organisation if the actor may see it: verified ones are public, others only to their
    members and ward administrators (to everyone else they do not exist: 404)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    viewing = Viewing(organisation, membership(session, actor.user_id, organisation_id))
    if not permissions.can(actor, "organisation.view", viewing):
        raise NotFound()
    return viewing


def parse_kind(raw: str | None) -> OrganisationKind | None:
    try:
        return OrganisationKind(raw) if raw else None
    except ValueError:
        return None


def _name_matches(query: str) -> Any:
    text = query.strip()[:QUERY_MAX].lower()
    number = corporate_number.normalize(text)
    condition = sa.func.lower(col(Organisation.name)).contains(text, autoescape=True)
    if number.isascii() and number.isdigit():
        condition = sa.or_(condition, col(Organisation.corporate_number).contains(number, autoescape=True))
    return condition


def public_list(session: Session, *, kind: OrganisationKind | None = None, query: str = "",
                page: int = 1, per_page: int = 20) -> Page[Organisation]:
    """Verified organisations by name: one COUNT and one SELECT whatever the page's length."""
    statement = select(Organisation).where(col(Organisation.verified_at).is_not(None))
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    if query.strip():
        statement = statement.where(_name_matches(query))
    statement = statement.order_by(col(Organisation.name), col(Organisation.id))
    return paginate(session, statement, page, per_page)  # type: ignore[arg-type]


def my_organisations(session: Session, actor: Principal, *, page: int = 1,
                     per_page: int = 50) -> Page[tuple[Organisation, OrganisationMember]]:
    user = require_signed_in(actor)
    statement = (
        select(Organisation, OrganisationMember)
        .join(OrganisationMember, col(OrganisationMember.organisation_id) == Organisation.id)
        .where(OrganisationMember.user_id == user.id)
        .order_by(col(Organisation.name), col(Organisation.id))
    )
    return paginate(session, statement, page, per_page, scalars=False)  # type: ignore[arg-type]


ADMIN_STATUSES = ("pending", "verified", "all")


def admin_list(session: Session, actor: Principal, *, status: str = "all", kind: OrganisationKind | None = None,
               query: str = "", page: int = 1, per_page: int = 20) -> Page[tuple[Organisation, User | None]]:
    """For ward administrators: unverified organisations first (oldest waiting first), then the rest."""
    permissions.require(actor, "organisation.verify")
    statement = select(Organisation, User).outerjoin(User, col(User.id) == Organisation.created_by_id)
    if status == "pending":
        statement = statement.where(col(Organisation.verified_at).is_(None))
    elif status == "verified":
        statement = statement.where(col(Organisation.verified_at).is_not(None))
    if kind is not None:
        statement = statement.where(Organisation.kind == kind)
    if query.strip():
        statement = statement.where(_name_matches(query))
    statement = statement.order_by(
        sa.case((col(Organisation.verified_at).is_(None), 0), else_=1),
        col(Organisation.created_at),
        col(Organisation.id),
    )
    return paginate(session, statement, page, per_page, scalars=False)  # type: ignore[arg-type]


def members(session: Session, actor: Principal, organisation_id: int, *, page: int = 1,
            per_page: int = 50) -> tuple[Viewing, Page[tuple[OrganisationMember, User]]]:
    """The member list, for the organisation's members and ward administrators (admins first)."""
    require_signed_in(actor)
    viewing = view(session, actor, organisation_id)
    permissions.require(actor, "organisation.see_members", viewing)
    statement = (
        select(OrganisationMember, User)
        .join(User, col(User.id) == OrganisationMember.user_id)
        .where(OrganisationMember.organisation_id == organisation_id)
        .order_by(col(OrganisationMember.is_admin).desc(), col(User.display_name), col(User.id))
    )
    return viewing, paginate(session, statement, page, per_page, scalars=False)  # type: ignore[arg-type]


def _pending_condition() -> Any:
    return sa.and_(
        col(OrganisationInvitation.accepted_at).is_(None),
        col(OrganisationInvitation.revoked_at).is_(None),
        col(OrganisationInvitation.expires_at) > utcnow(),
    )


def pending_invitations(session: Session, actor: Principal, organisation_id: int) -> Sequence[OrganisationInvitation]:
    """Open invitations (at most :data:`MAX_PENDING_INVITATIONS`), for the organisation's admins."""
    permissions.require(actor, "organisation.manage_members", on_organisation(session, actor, organisation_id))
    return session.exec(
        select(OrganisationInvitation)
        .where(OrganisationInvitation.organisation_id == organisation_id, _pending_condition())
        .order_by(col(OrganisationInvitation.created_at).desc(), col(OrganisationInvitation.id).desc())
        .limit(MAX_PENDING_INVITATIONS)
    ).all()


def admin_count(session: Session, organisation_id: int) -> int:
    return session.execute(
        sa.select(sa.func.count()).select_from(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation_id, col(OrganisationMember.is_admin).is_(True)
        )
    ).scalar_one()


# --- profile -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationText(FieldType):
    """Text of an organisation's profile, without surrounding spaces, each field saying in its own words
    what is wrong. One-line fields refuse control characters and bidirectional overrides (they let a
    name display as another organisation's name); multi-line ones keep tabs and line breaks."""

    max_length: int
    too_long: Message
    unusable: Message
    required: Message | None = None
    multiline: bool = False

    def parse(self, value: Any) -> str:
        text = as_text(value).strip()
        if self.required is not None and not text:
            raise refuse(self.required)
        if len(text) > self.max_length:
            raise refuse(str(self.too_long) % {"max": self.max_length})
        if (_CONTROL_MULTILINE if self.multiline else _CONTROL).search(text):
            raise refuse(self.unusable)
        return text


@dataclass(frozen=True)
class CorporateNumber(FieldType):
    """A 法人番号 as its 13 digits (full-width digits and separators forgiven), or None when empty."""

    def parse(self, value: Any) -> str | None:
        raw = as_text(value)
        if not corporate_number.normalize(raw):
            return None
        try:
            return corporate_number.parse(raw)
        except corporate_number.InvalidCorporateNumber as invalid:
            if invalid.reason == "format":
                raise refuse(_("Enter the corporate number (法人番号) as 13 digits.")) from None
            raise refuse(_(
                "This corporate number is not valid: its first digit does not match the other 12. "
                "Check it against the National Tax Agency's corporate number site."
            )) from None


@dataclass(frozen=True)
class Website(FieldType):
    """An http(s) address, or empty (:func:`check_website`)."""

    def parse(self, value: Any) -> str:
        website = as_text(value).strip()
        if message := check_website(website):
            raise refuse(message)
        return website


class OrganisationForm(FormModel):
    """An organisation's profile; only the name and the kind are required."""

    name: Annotated[str, OrganisationText(
        NAME_MAX, lazy_gettext("Use at most %(max)s characters for the name."),
        lazy_gettext("The name contains characters that cannot be used."),
        required=lazy_gettext("Enter the name of the organisation."))] = ""
    kind: Annotated[OrganisationKind, Choice(OrganisationKind, lazy_gettext("Choose the kind of organisation."))] = \
        None  # type: ignore[assignment]
    corporate_number: Annotated[str | None, CorporateNumber()] = None
    address: Annotated[str, OrganisationText(
        ADDRESS_MAX, lazy_gettext("Use at most %(max)s characters for the address."),
        lazy_gettext("The address contains characters that cannot be used."))] = ""
    website: Annotated[str, Website()] = ""
    description: Annotated[str, OrganisationText(
        DESCRIPTION_MAX, lazy_gettext("Use at most %(max)s characters for the description."),
        lazy_gettext("The description contains characters that cannot be used."), multiline=True)] = ""


def check_website(website: str) -> str | None:
    if not website:
        return None
    if len(website) > WEBSITE_MAX:
        return _("Use at most %(max)s characters for the website address.", max=WEBSITE_MAX)
    parts = urlsplit(website)
    if parts.scheme.lower() not in ("http", "https") or _URL_FORBIDDEN.search(website):
        return _("Enter the website address starting with https:// or http://.")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        host = None
    if not host or parts.username is not None or parts.password is not None:
        return _("Enter the website address starting with https:// or http://.")
    return None


def _check_number_free(session: Session, form: OrganisationForm, *, organisation_id: int | None = None) -> None:
    """The friendly check that no other organisation has the corporate number (the unique index is the
    backstop, see :func:`_flush_or_number_taken`)."""
    if form.corporate_number is None:
        return
    taken = session.exec(select(Organisation.id).where(Organisation.corporate_number == form.corporate_number,
                                                       Organisation.id != organisation_id)).first()
    if taken is not None:
        raise Invalid({"corporate_number": _corporate_number_taken()})


def _corporate_number_taken() -> str:
    return _(
        "Another organisation already uses this corporate number. If it is yours, ask its administrators "
        "to invite you."
    )


def _flush_or_number_taken(session: Session) -> None:
    """Flush; the unique corporate number may still be taken by a concurrent request."""
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise Invalid({"corporate_number": _corporate_number_taken()}) from None


@transactional
def create(session: Session, actor: Principal, form: OrganisationForm) -> Organisation:
    """Create an (unverified) organisation; its creator becomes its first administrator."""
    user = require_signed_in(actor)
    _check_number_free(session, form)
    organisation = Organisation(name=form.name, kind=form.kind, corporate_number=form.corporate_number,
                                address=form.address, website=form.website, description=form.description,
                                created_by_id=user.id)
    session.add(organisation)
    _flush_or_number_taken(session)
    session.add(OrganisationMember(organisation_id=organisation.id, user_id=user.id, is_admin=True))  # type: ignore[arg-type]
    record(session, actor_id=user.id, actor_label=_actor_label(user), action="organisation.created",
           target_type="organisation", target_id=str(organisation.id),
           details={"name": form.name, "kind": form.kind.value, "corporate_number": form.corporate_number})
    return organisation


@dataclass(frozen=True)
class Edited:
    organisation: Organisation
    verification_cleared: bool


@transactional
def update(session: Session, actor: Principal, organisation_id: int, form: OrganisationForm) -> Edited:
    """Edit the profile (organisation admins). A verified organisation whose name or corporate number
    changes loses its verification, and the audit log says why."""
    user = user_allowed_to(actor, "organisation.edit", on_organisation(session, actor, organisation_id))
    organisation = _get(session, organisation_id, lock=True)
    _check_number_free(session, form, organisation_id=organisation_id)
    changed = [name for name in ("name", "kind", "corporate_number", "address", "website", "description")
               if getattr(organisation, name) != getattr(form, name)]
    identity_changed = [name for name in ("name", "corporate_number") if name in changed]
    cleared = organisation.is_verified and bool(identity_changed)
    before = {name: getattr(organisation, name) for name in identity_changed}
    for name in changed:
        setattr(organisation, name, getattr(form, name))
    if cleared:
        organisation.verified_at = None
        organisation.verified_by_id = None
    session.add(organisation)
    _flush_or_number_taken(session)
    if cleared:
        record(session, actor_id=user.id, actor_label=_actor_label(user),
               action="organisation.verification_cleared", target_type="organisation",
               target_id=str(organisation_id),
               details={"changed": identity_changed, "before": before,
                        "after": {name: getattr(form, name) for name in identity_changed}})
    return Edited(organisation, cleared)


# --- invitations ---------------------------------------------------------------------------------


@transactional
def invite(session: Session, settings: Settings, actor: Principal, organisation_id: int, email: str, *,
           as_admin: bool = False) -> OrganisationInvitation:
    """E-mail a single-use invitation link. Inviting an address again replaces its open invitation."""
    inviter = user_allowed_to(actor, "organisation.manage_members", on_organisation(session, actor, organisation_id))
    organisation = _get(session, organisation_id, lock=True)
    address = normalize_email(email)
    if message := check_email(address):
        raise Invalid({"email": message})
    invitee = session.exec(select(User).where(User.email == address, col(User.deleted_at).is_(None))).first()
    if invitee is not None and membership(session, invitee.id, organisation_id) is not None:
        raise Invalid({"email": _("This person is already a member of the organisation.")})

    now = utcnow()
    previous = session.exec(
        select(OrganisationInvitation).where(
            OrganisationInvitation.organisation_id == organisation_id,
            OrganisationInvitation.email == address,
            col(OrganisationInvitation.accepted_at).is_(None),
            col(OrganisationInvitation.revoked_at).is_(None),
        )
    ).all()
    for old in previous:
        old.revoked_at = now
        session.add(old)
    session.flush()
    pending = session.execute(
        sa.select(sa.func.count()).select_from(OrganisationInvitation).where(
            OrganisationInvitation.organisation_id == organisation_id, _pending_condition()
        )
    ).scalar_one()
    if pending >= MAX_PENDING_INVITATIONS:
        raise Invalid({"email": _(
            "This organisation already has %(max)s open invitations. Revoke some or wait until they are "
            "accepted.", max=MAX_PENDING_INVITATIONS)})

    sent_today = session.execute(
        sa.select(sa.func.count()).select_from(OrganisationInvitation).where(
            OrganisationInvitation.organisation_id == organisation_id,
            col(OrganisationInvitation.created_at) > now - timedelta(days=1),
        )
    ).scalar_one()
    if sent_today >= MAX_INVITATIONS_PER_DAY:
        raise Invalid({"email": _(
            "This organisation has sent %(max)s invitations in the last 24 hours. Try again tomorrow.",
            max=MAX_INVITATIONS_PER_DAY)})

    token = secrets.token_urlsafe(32)
    invitation = OrganisationInvitation(organisation_id=organisation_id, email=address, token_hash=_hash(token),
                                        as_admin=as_admin, invited_by_id=inviter.id, expires_at=now + INVITATION_TTL)
    session.add(invitation)
    session.flush()
    with using_locale(invitee.locale if invitee is not None else inviter.locale):
        text = render_standalone(
            "mail/organisation_invitation.txt", organisation=organisation, inviter=inviter, as_admin=as_admin,
            link=paths.absolute(settings, paths.organisation_invitation(token)), expires_at=invitation.expires_at,
            base_url=settings.base_url,
        )
        subject = _("Invitation to join %(organisation)s on cocreate", organisation=organisation.name)
        mail.queue_email(session, to=address, subject=subject[:300], text=text)
    record(session, actor_id=inviter.id, actor_label=_actor_label(inviter), action="organisation.member_invited",
           target_type="organisation", target_id=str(organisation_id),
           details={"invitation_id": invitation.id, "email": address, "as_admin": as_admin,
                    "replaced": [old.id for old in previous]})
    return invitation


@transactional
def revoke_invitation(session: Session, actor: Principal, organisation_id: int, invitation_id: int) -> None:
    """Withdraw an open invitation (organisation admins); its link stops working at once."""
    user = user_allowed_to(actor, "organisation.manage_members", on_organisation(session, actor, organisation_id))
    invitation = session.get(OrganisationInvitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.organisation_id != organisation_id:
        raise NotFound()
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Invalid({"invitation": _("This invitation was already accepted or revoked.")})
    invitation.revoked_at = utcnow()
    session.add(invitation)
    record(session, actor_id=user.id, actor_label=_actor_label(user), action="organisation.invitation_revoked",
           target_type="organisation", target_id=str(organisation_id),
           details={"invitation_id": invitation_id, "email": invitation.email})


INVITATION_OK = "ok"
INVITATION_UNKNOWN = "unknown"
INVITATION_EXPIRED = "expired"
INVITATION_REVOKED = "revoked"
INVITATION_USED = "used"


@dataclass(frozen=True)
class InvitationLookup:
    status: str
    invitation: OrganisationInvitation | None = None
    organisation: Organisation | None = None

    @property
    def usable(self) -> bool:
        return self.status == INVITATION_OK


def _find_invitation(session: Session, token: str, *, lock: bool = False) -> InvitationLookup:
    if not token or len(token) > 200:
        return InvitationLookup(INVITATION_UNKNOWN)
    statement = select(OrganisationInvitation).where(OrganisationInvitation.token_hash == _hash(token))
    invitation = session.exec(statement.with_for_update() if lock else statement).first()
    if invitation is None:
        return InvitationLookup(INVITATION_UNKNOWN)
    organisation = session.get(Organisation, invitation.organisation_id)
    if invitation.accepted_at is not None:
        status = INVITATION_USED
    elif invitation.revoked_at is not None:
        status = INVITATION_REVOKED
    elif invitation.expires_at <= utcnow():
        status = INVITATION_EXPIRED
    else:
        status = INVITATION_OK
    return InvitationLookup(status, invitation, organisation)


def look_up_invitation(session: Session, token: str) -> InvitationLookup:
    """What an invitation link leads to (for the page that offers to accept it)."""
    return _find_invitation(session, token)


def mask_email(address: str) -> str:
    """``h****@example.jp``: enough for the right person to recognise, little for anyone else."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}{'*' * max(1, min(len(local) - 1, 8))}@{domain}"


def invitation_is_for(invitation: OrganisationInvitation, user: User | None) -> bool:
    return (user is not None and user.is_active and user.is_confirmed
            and user.email is not None and user.email == invitation.email)


class InvitationNotUsable(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class InvitationForSomeoneElse(Forbidden):
    def __init__(self, invited: str) -> None:
        super().__init__(_(
            "This invitation was sent to %(email)s. Sign in with the account that uses this e-mail address "
            "to accept it.", email=mask_email(invited)))
        self.invited = invited


@transactional
def accept_invitation(session: Session, actor: Principal, token: str) -> OrganisationMember:
    """Join the organisation with a single-use link; the signed-in account's confirmed e-mail
    address must be the invited one."""
    require_signed_in(actor)
    user = session.get(User, actor.user_id)
    found = _find_invitation(session, token, lock=True)
    if not found.usable or found.invitation is None:
        raise InvitationNotUsable(found.status)
    invitation = found.invitation
    if not invitation_is_for(invitation, user):
        raise InvitationForSomeoneElse(invitation.email)
    assert user is not None and user.id is not None
    now = utcnow()
    member = membership(session, user.id, invitation.organisation_id)
    if member is None:
        member = OrganisationMember(organisation_id=invitation.organisation_id, user_id=user.id,
                                    is_admin=invitation.as_admin)
    elif invitation.as_admin and not member.is_admin:
        member.is_admin = True
    session.add(member)
    invitation.accepted_at = now
    invitation.accepted_by_id = user.id
    session.add(invitation)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # the same person accepted twice at once: the other request won
        raise InvitationNotUsable(INVITATION_USED) from None
    record(session, actor_id=user.id, actor_label=_actor_label(user), action="organisation.member_joined",
           target_type="organisation", target_id=str(invitation.organisation_id),
           details={"invitation_id": invitation.id, "user_id": user.id, "as_admin": member.is_admin})
    return member


# --- members -------------------------------------------------------------------------------------


def _last_admin_message() -> str:
    return _("An organisation needs at least one administrator. Make another member an administrator first.")


@transactional
def remove_member(session: Session, actor: Principal, organisation_id: int, user_id: int) -> None:
    """An admin removes a member, or a member leaves (``user_id`` is their own); the last
    administrator can do neither."""
    leaving = actor.user_id == user_id
    acting = user_allowed_to(actor, "organisation.leave" if leaving else "organisation.manage_members",
                             on_organisation(session, actor, organisation_id))
    _get(session, organisation_id, lock=True)  # serialises membership changes of this organisation
    target = membership(session, user_id, organisation_id)
    if target is None:
        raise NotFound()
    if target.is_admin and admin_count(session, organisation_id) <= 1:
        raise Invalid({"member": _last_admin_message()})
    session.delete(target)
    record(session, actor_id=acting.id, actor_label=_actor_label(acting),
           action="organisation.member_left" if leaving else "organisation.member_removed",
           target_type="organisation", target_id=str(organisation_id),
           details={"user_id": user_id, "was_admin": target.is_admin})


@transactional
def set_admin(session: Session, actor: Principal, organisation_id: int, user_id: int, is_admin: bool) -> None:
    """Make a member an administrator of the organisation, or an ordinary member again."""
    acting = user_allowed_to(actor, "organisation.manage_members", on_organisation(session, actor, organisation_id))
    _get(session, organisation_id, lock=True)
    target = membership(session, user_id, organisation_id)
    if target is None:
        raise NotFound()
    if target.is_admin == is_admin:
        return  # nothing to change
    if not is_admin and admin_count(session, organisation_id) <= 1:
        raise Invalid({"member": _last_admin_message()})
    target.is_admin = is_admin
    session.add(target)
    record(session, actor_id=acting.id, actor_label=_actor_label(acting),
           action="organisation.admin_granted" if is_admin else "organisation.admin_revoked",
           target_type="organisation", target_id=str(organisation_id), details={"user_id": user_id})


# --- verification by the ward --------------------------------------------------------------------


_NOTE_TOO_LONG = lazy_gettext("Use at most %(max)s characters for the note.")
_NOTE_UNUSABLE = lazy_gettext("The note contains characters that cannot be used.")


class VerifyForm(FormModel):
    """A note on the verification (optional)."""

    note: Annotated[str, OrganisationText(NOTE_MAX, _NOTE_TOO_LONG, _NOTE_UNUSABLE, multiline=True)] = ""


class UnverifyForm(FormModel):
    """Why the verification is withdrawn: the organisation's administrators are told."""

    note: Annotated[str, OrganisationText(NOTE_MAX, _NOTE_TOO_LONG, _NOTE_UNUSABLE, multiline=True, required=lazy_gettext(
        "Give the reason; the organisation's administrators will see it."))] = ""


def _notify_admins(session: Session, settings: Settings, organisation: Organisation, *, verified: bool,
                   note: str) -> None:
    admins = session.exec(
        select(User)
        .join(OrganisationMember, col(OrganisationMember.user_id) == User.id)
        .where(OrganisationMember.organisation_id == organisation.id, col(OrganisationMember.is_admin).is_(True),
               col(User.email).is_not(None), col(User.deleted_at).is_(None))
    ).all()
    for admin in admins:
        assert admin.email is not None
        with using_locale(admin.locale):
            text = render_standalone("mail/organisation_verification.txt", user=admin, organisation=organisation,
                                     verified=verified, note=note, base_url=settings.base_url,
                                     link=paths.absolute(settings, paths.organisation(organisation.id)))  # type: ignore[arg-type]
            subject = (_("%(organisation)s is now verified on cocreate", organisation=organisation.name) if verified
                       else _("The verification of %(organisation)s was withdrawn", organisation=organisation.name))
            mail.queue_email(session, to=admin.email, subject=subject[:300], text=text)


@transactional
def verify(session: Session, settings: Settings, actor: Principal, organisation_id: int,
           form: VerifyForm | None = None) -> Organisation:
    """A ward administrator confirms the organisation (against its 法人番号); it may then submit
    proposals and request bookings. Its administrators are told by e-mail."""
    admin = user_allowed_to(actor, "organisation.verify")
    organisation = _get(session, organisation_id, lock=True)
    note = form.note if form is not None else ""
    if organisation.is_verified:
        raise Invalid({"note": _("This organisation is already verified.")})
    if not organisation.corporate_number:
        raise Invalid({"note": _(
            "An organisation without a corporate number (法人番号) cannot be verified. Ask its administrators "
            "to add one.")})
    organisation.verified_at = utcnow()
    organisation.verified_by_id = admin.id
    session.add(organisation)
    record(session, actor_id=admin.id, actor_label=_actor_label(admin), action="organisation.verified",
           target_type="organisation", target_id=str(organisation_id),
           details={"name": organisation.name, "corporate_number": organisation.corporate_number, "note": note})
    _notify_admins(session, settings, organisation, verified=True, note=note)
    return organisation


@transactional
def unverify(session: Session, settings: Settings, actor: Principal, organisation_id: int,
             form: UnverifyForm) -> Organisation:
    """Withdraw the verification, with a reason the organisation's administrators receive."""
    admin = user_allowed_to(actor, "organisation.verify")
    organisation = _get(session, organisation_id, lock=True)
    note = form.note
    if not organisation.is_verified:
        raise Invalid({"note": _("This organisation is not verified.")})
    organisation.verified_at = None
    organisation.verified_by_id = None
    session.add(organisation)
    record(session, actor_id=admin.id, actor_label=_actor_label(admin), action="organisation.unverified",
           target_type="organisation", target_id=str(organisation_id),
           details={"name": organisation.name, "corporate_number": organisation.corporate_number, "note": note})
    _notify_admins(session, settings, organisation, verified=False, note=note)
    return organisation


def admin_review(session: Session, actor: Principal, organisation_id: int) -> tuple[Organisation, User | None, User | None]:
    """An organisation with its creator and the administrator who verified it (ward admins only)."""
    permissions.require(actor, "organisation.verify")
    organisation = _get(session, organisation_id)
    creator = session.get(User, organisation.created_by_id) if organisation.created_by_id else None
    verifier = session.get(User, organisation.verified_by_id) if organisation.verified_by_id else None
    return organisation, creator, verifier


def nta_lookup_url(number: str | None) -> str | None:
    """The organisation's page on the National Tax Agency's 法人番号公表サイト, to check it by hand."""
    return NTA_LOOKUP_URL.format(number=number) if number and corporate_number.is_valid(number) else None
