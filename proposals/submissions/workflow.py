"""Writing proposals: drafting, saving, submitting (each submission a version), withdrawing, the
consortium of co-authors and attachments. Each service checks the rules whatever the caller."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, BinaryIO

from sqlmodel import Session, func, select

from cocreate import audit
from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import (
    Forbidden,
    Principal,
    require_signed_in,
    require_verified_organisation,
)
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.web.forms import parse_id
from proposals import attachments as files
from proposals import events
from proposals.models import (
    Challenge,
    Proposal,
    ProposalAttachment,
    ProposalKpi,
    ProposalOrganisation,
    ProposalStatus,
    ProposalVersion,
)
from proposals.submissions.access import NotFound, _challenge_or_404, _lock, authors_of, load
from proposals.submissions.forms import ATTACHMENT_TITLE_MAX, TEXT_FIELDS, ProposalInput, _clean, _text_error
from proposals.submissions.rules import (
    MAX_COAUTHORS,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    _refuse,
    _require_changeable,
    _require_editor,
    _require_phase,
    validate,
)
from proposals.submissions.views import CHALLENGE, PROPOSAL, STORAGE_FOLDER, attachments_of, kpis_of, path_of


def recount(session: Session, challenge: Challenge) -> int:
    """Set ``proposal_count`` to the number of submitted proposals (the caller holds the row lock)."""
    session.flush()
    challenge.proposal_count = session.exec(
        select(func.count()).select_from(Proposal)
        .where(Proposal.challenge_id == challenge.id, Proposal.status == ProposalStatus.SUBMITTED)).one()
    return challenge.proposal_count

def _actor_label(user: User) -> str:
    return f"{user.display_name} (#{user.id})"[:200]


# --- writing -------------------------------------------------------------------------------------


def _apply(session: Session, proposal: Proposal, data: ProposalInput) -> list[str]:
    """Copy ``data`` onto the proposal and its KPI rows; returns the names of the changed fields."""
    changed = []
    for name in TEXT_FIELDS:
        new = _clean(getattr(data, name))
        new = new.strip() if name in ("title", "summary") else new
        if getattr(proposal, name) != new:
            setattr(proposal, name, new)
            changed.append(name)
    if proposal.cost_estimate_yen != data.cost_estimate_yen:
        proposal.cost_estimate_yen = data.cost_estimate_yen
        changed.append("cost_estimate_yen")
    session.flush()
    old = [(k.indicator, k.baseline, k.target, k.unit) for k in kpis_of(session, proposal.id)]  # type: ignore[arg-type]
    new_kpis = [(k.indicator.strip(), k.baseline.strip(), k.target.strip(), k.unit.strip()) for k in data.kpis]
    if old != new_kpis:
        for row in kpis_of(session, proposal.id):  # type: ignore[arg-type]
            session.delete(row)
        for position, (indicator, baseline, target, unit) in enumerate(new_kpis):
            session.add(ProposalKpi(proposal_id=proposal.id, position=position, indicator=indicator,  # type: ignore[arg-type]
                                    baseline=baseline, target=target, unit=unit))
        changed.append("kpis")
    return changed

def create_draft(session: Session, actor: Principal, challenge_id: int, organisation_id: int | str | None,
                 data: ProposalInput) -> Proposal:
    """A new draft led by ``organisation_id`` (a verified organisation of the actor). Commits.

    The author then follows the proposal and its challenge.
    """
    user = require_signed_in(actor)
    challenge = _challenge_or_404(session, actor, challenge_id, lock=True)
    _require_phase(session, challenge)
    org_id = parse_id(organisation_id)
    if org_id is None:
        session.rollback()
        raise Invalid({"organisation_id": _("Choose the organisation that proposes.")})
    try:
        require_verified_organisation(session, actor, org_id)
    except Forbidden:
        session.rollback()
        raise
    if errors := validate(data, complete=False):
        session.rollback()
        raise Invalid(errors)
    proposal = Proposal(challenge_id=challenge.id, lead_organisation_id=org_id, created_by_id=user.id,  # type: ignore[arg-type]
                        status=ProposalStatus.DRAFT, title="")
    session.add(proposal)
    session.flush()
    _apply(session, proposal, data)
    session.add(ProposalOrganisation(proposal_id=proposal.id, organisation_id=org_id, is_lead=True,  # type: ignore[arg-type]
                                     confirmed_at=utcnow(), confirmed_by_id=user.id))
    notifications.follow(session, user.id, PROPOSAL, proposal.id)  # type: ignore[arg-type]
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    session.commit()
    return proposal

def _content(session: Session, proposal: Proposal) -> dict[str, Any]:
    """The full content of a proposal as stored in a version."""
    assert proposal.id is not None
    return {
        **{name: getattr(proposal, name) for name in TEXT_FIELDS},
        "cost_estimate_yen": proposal.cost_estimate_yen,
        "kpis": [[k.indicator, k.baseline, k.target, k.unit] for k in kpis_of(session, proposal.id)],
        "organisations": [[o.id, o.name, bool(row.is_lead)] for row, o in authors_of(session, proposal.id)],
        "attachments": [[a.id, a.filename, a.confidential] for a in attachments_of(session, proposal.id)],
    }

def _add_version(session: Session, proposal: Proposal, user: User, now: datetime) -> ProposalVersion:
    proposal.version += 1
    version = ProposalVersion(proposal_id=proposal.id, number=proposal.version, submitted_at=now,  # type: ignore[arg-type]
                              submitted_by_id=user.id,
                              content_json=json.dumps(_content(session, proposal), ensure_ascii=False))
    session.add(version)
    return version

def update(session: Session, actor: Principal, proposal_id: int, data: ProposalInput) -> Proposal:
    """Save changes (authors). A submitted proposal changes only while the challenge accepts proposals,
    must stay complete, and each saved change is a new version. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_editor(session, access)
    if proposal.status is ProposalStatus.WITHDRAWN:
        _refuse(session, _("A withdrawn proposal can no longer be changed."))
    submitted = proposal.status is ProposalStatus.SUBMITTED
    if submitted:
        _require_phase(session, challenge)
    if errors := validate(data, complete=submitted):
        session.rollback()
        raise Invalid(errors)
    changed = _apply(session, proposal, data)
    if submitted and changed:
        now = utcnow()
        _add_version(session, proposal, user, now)
        audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.resubmitted",
                     target_type=PROPOSAL, target_id=str(proposal.id),
                     details={"challenge_id": challenge.id, "version": proposal.version, "fields": changed})
    session.commit()
    return proposal

def submit(session: Session, actor: Principal, proposal_id: int) -> Proposal:
    """Submit a complete draft while the challenge accepts proposals; every co-author must have confirmed.
    The first version is kept. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_editor(session, access)
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"submit": _("This proposal has already been submitted.")})
    _require_phase(session, challenge)
    errors = validate(ProposalInput.from_proposal(session, proposal), complete=True)
    pending = [o.name for row, o in authors_of(session, proposal_id) if row.confirmed_at is None]
    if pending:
        errors["coauthors"] = _("Every organisation of the consortium must confirm first. Waiting for: "
                                "%(names)s.", names="、".join(pending))
    if errors:
        session.rollback()
        raise Invalid(errors)
    now = utcnow()
    proposal.status = ProposalStatus.SUBMITTED
    proposal.submitted_at = now
    _add_version(session, proposal, user, now)
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.submitted",
                 target_type=PROPOSAL, target_id=str(proposal.id),
                 details={"challenge_id": challenge.id, "version": proposal.version})
    events.announce(session, events.PROPOSAL_SUBMITTED, proposal_id, actor_id=user.id)
    session.commit()
    return proposal

def withdraw(session: Session, actor: Principal, proposal_id: int) -> Proposal:
    """Withdraw a submitted proposal (authors, while accepting). The row and its versions stay. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_editor(session, access)
    if proposal.status is not ProposalStatus.SUBMITTED:
        session.rollback()
        raise Invalid({"withdraw": _("Only a submitted proposal can be withdrawn.")})
    _require_phase(session, challenge)
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.withdrawn_at = utcnow()
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.withdrawn",
                 target_type=PROPOSAL, target_id=str(proposal.id), details={"challenge_id": challenge.id})
    session.commit()
    return proposal


# --- consortium ----------------------------------------------------------------------------------


def add_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | str) -> Organisation:
    """The lead's members invite a verified organisation as co-author of a draft; a member of it confirms."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    if not access.lead_member:
        _refuse(session, _("Only members of the lead organisation can invite co-authors."))
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"organisation_id": _("Co-authors can be added only before submission.")})
    org_id = parse_id(organisation_id)
    organisation = session.get(Organisation, org_id) if org_id is not None else None
    rows = session.exec(select(ProposalOrganisation).where(ProposalOrganisation.proposal_id == proposal_id)).all()
    error = None
    if organisation is None or not organisation.is_verified:
        error = _("Choose a verified organisation from the list.")
    elif any(row.organisation_id == org_id for row in rows):
        error = _("This organisation is already an author of the proposal.")
    elif len(rows) - 1 >= MAX_COAUTHORS:
        error = _("A consortium can have at most %(max)s co-authors.", max=MAX_COAUTHORS)
    if error:
        session.rollback()
        raise Invalid({"organisation_id": error})
    assert organisation is not None
    session.add(ProposalOrganisation(proposal_id=proposal_id, organisation_id=organisation.id, is_lead=False))  # type: ignore[arg-type]
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_invited",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": organisation.id})
    session.commit()
    return organisation

def confirm_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | str) -> None:
    """A member of an invited (verified) organisation confirms its part in the consortium. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, _access = _lock(session, actor, proposal_id)
    org_id = parse_id(organisation_id)
    row = session.get(ProposalOrganisation, (proposal_id, org_id)) if org_id is not None else None
    if row is None:
        session.rollback()
        raise NotFound()
    try:
        require_verified_organisation(session, actor, row.organisation_id)
    except Forbidden:
        session.rollback()
        raise
    if row.confirmed_at is not None:
        session.rollback()
        raise Invalid({"confirm": _("Your organisation has already confirmed.")})
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"confirm": _("This proposal is no longer a draft.")})
    row.confirmed_at = utcnow()
    row.confirmed_by_id = user.id
    notifications.follow(session, user.id, PROPOSAL, proposal_id)
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_confirmed",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": row.organisation_id})
    session.commit()

def remove_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | str) -> None:
    """Before submission, the lead removes a co-author, or a co-author's member declines. Commits."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    org_id = parse_id(organisation_id)
    row = session.get(ProposalOrganisation, (proposal_id, org_id)) if org_id is not None else None
    if row is None or row.is_lead:
        session.rollback()
        raise Invalid({"organisation_id": _("Choose a co-author of this proposal.")})
    if not (access.lead_member or row.organisation_id in access.author_organisation_ids):
        _refuse(session, _("Only members of the lead organisation can invite co-authors."))
    if proposal.status is not ProposalStatus.DRAFT:
        session.rollback()
        raise Invalid({"organisation_id": _("Co-authors can be changed only before submission.")})
    session.delete(row)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_removed",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": org_id})
    session.commit()

COAUTHOR_ACTIONS = ("add", "confirm", "remove")

def change_coauthors(session: Session, actor: Principal, proposal_id: int, action: str,
                     organisation_id: int | str) -> str:
    """Add, confirm or remove a co-author (the consortium form); returns the message to show."""
    require_signed_in(actor)
    _proposal, _challenge, access = load(session, actor, proposal_id)
    session.rollback()
    if not access.is_author:
        raise Forbidden(_("Only members of the organisations that wrote this proposal can do this."))
    if action == "add":
        organisation = add_coauthor(session, actor, proposal_id, organisation_id)
        return _("%(name)s has been invited as a co-author. A member of it must confirm before the proposal "
                 "can be submitted.", name=organisation.name)
    if action == "confirm":
        confirm_coauthor(session, actor, proposal_id, organisation_id)
        return _("Your organisation has confirmed its part in this proposal.")
    if action == "remove":
        remove_coauthor(session, actor, proposal_id, organisation_id)
        return _("The co-author has been removed.")
    raise Invalid({"organisation_id": _("Choose what to do.")})


# --- attachments (PDF) ---------------------------------------------------------------------------


def add_attachment(session: Session, settings: Settings, actor: Principal, proposal_id: int, *, title: str,
                   confidential: bool, source: BinaryIO | None, filename: str) -> ProposalAttachment:
    """Attach a PDF (authors, while the proposal can change). The type is read from the content."""
    user = require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_changeable(session, proposal, challenge, access)
    session.rollback()  # hold no lock while the file is copied
    errors: dict[str, str] = {}
    title = " ".join(_clean(title).split())
    if message := _text_error(title, ATTACHMENT_TITLE_MAX, required=False, single_line=True):
        errors["attachment_title"] = message
    received = None
    if source is None or not filename:
        errors["file"] = _("Choose a file to upload.")
    else:
        try:
            received = files.receive(settings, source, folder=STORAGE_FOLDER)
        except Invalid as failed:
            errors.update(failed.errors)
    if received is not None and received.file_type is not files.PDF:
        errors["file"] = _("Only PDF files can be attached to a proposal.")
    if errors:
        if received is not None:
            files.remove_file(received.path)
        raise Invalid(errors)
    assert received is not None
    try:
        proposal, challenge, access = _lock(session, actor, proposal_id)
        _require_changeable(session, proposal, challenge, access)
        count, total = session.exec(
            select(func.count(), func.coalesce(func.sum(ProposalAttachment.size_bytes), 0))
            .where(ProposalAttachment.proposal_id == proposal_id)).one()
        if count + 1 > MAX_FILES:
            raise Invalid({"file": _("A proposal can have at most %(max)s files. Delete one first.",
                                              max=MAX_FILES)})
        if total + received.size_bytes > MAX_TOTAL_BYTES:
            raise Invalid({"file": _("All files of a proposal together may take at most %(max)s MB; "
                                              "this one would go over.", max=MAX_TOTAL_BYTES // (1024 * 1024))})
        attachment = ProposalAttachment(
            proposal_id=proposal_id, title=title, filename=files.clean_filename(filename, received.file_type),
            content_type=received.file_type.content_type, size_bytes=received.size_bytes, sha256=received.sha256,
            storage_key=received.storage_key, confidential=confidential, uploaded_by_id=user.id)
        session.add(attachment)
        session.commit()
    except BaseException:
        session.rollback()
        files.remove_file(received.path)
        raise
    return attachment

def delete_attachment(session: Session, settings: Settings, actor: Principal, proposal_id: int,
                      attachment_id: int) -> None:
    """Remove an attachment (authors, while the proposal can change); versions keep its name."""
    require_signed_in(actor)
    proposal, challenge, access = _lock(session, actor, proposal_id)
    _require_changeable(session, proposal, challenge, access)
    attachment = session.get(ProposalAttachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal_id:
        session.rollback()
        raise Invalid({"file": _("This file does not exist (it may have been deleted already).")})
    path = path_of(settings, attachment)
    session.delete(attachment)
    session.commit()
    files.remove_file(path)
