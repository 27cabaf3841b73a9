"""Writing proposals: drafting, saving, submitting (each submission a version), withdrawing, the
consortium of co-authors and attachments. Each service checks the rules whatever the caller, runs in a
unit of work (:func:`cocreate.db.transactional`) and refuses by raising a domain error."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, BinaryIO

from sqlmodel import Session, func, select

from cocreate import audit, permissions
from cocreate.accounts.models import Organisation, User
from cocreate.accounts.permissions import Principal, require_signed_in, require_verified_organisation
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.files import storage as files
from cocreate.files.storage import ReceivedFile
from cocreate.i18n import gettext as _
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
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
from proposals.submissions.access import authors_of, load, load_challenge, load_locked, on_new_proposal
from proposals.submissions.forms import (
    TEXT_FIELDS,
    AttachmentForm,
    CoauthorAction,
    CoauthorForm,
    ProposalForm,
    complete,
)
from proposals.submissions.rules import (
    MAX_COAUTHORS,
    MAX_FILES,
    MAX_TOTAL_BYTES,
    submission_problems,
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


def _apply(session: Session, proposal: Proposal, form: ProposalForm) -> list[str]:
    """Copy the form onto the proposal and its KPI rows; returns the names of the changed fields."""
    changed = []
    for name in TEXT_FIELDS:
        new = getattr(form, name)
        if getattr(proposal, name) != new:
            setattr(proposal, name, new)
            changed.append(name)
    if proposal.cost_estimate_yen != form.cost_estimate_yen:
        proposal.cost_estimate_yen = form.cost_estimate_yen
        changed.append("cost_estimate_yen")
    session.flush()
    old = [(k.indicator, k.baseline, k.target, k.unit) for k in kpis_of(session, proposal.id)]  # type: ignore[arg-type]
    new_kpis = [(k.indicator, k.baseline, k.target, k.unit) for k in form.kpis]
    if old != new_kpis:
        for row in kpis_of(session, proposal.id):  # type: ignore[arg-type]
            session.delete(row)
        for position, (indicator, baseline, target, unit) in enumerate(new_kpis):
            session.add(ProposalKpi(proposal_id=proposal.id, position=position, indicator=indicator,  # type: ignore[arg-type]
                                    baseline=baseline, target=target, unit=unit))
        changed.append("kpis")
    return changed


@transactional
def create_draft(session: Session, actor: Principal, challenge_id: int, organisation_id: int,
                 form: ProposalForm) -> Proposal:
    """A new draft led by ``organisation_id`` (a verified organisation of the actor).

    The author then follows the proposal and its challenge.
    """
    user = require_signed_in(actor)
    challenge = load_challenge(session, actor, challenge_id, lock=True)
    permissions.require(actor, "proposal.create", on_new_proposal(session, actor, challenge)[0])
    require_verified_organisation(session, actor, organisation_id)
    proposal = Proposal(challenge_id=challenge.id, lead_organisation_id=organisation_id, created_by_id=user.id,  # type: ignore[arg-type]
                        status=ProposalStatus.DRAFT, title="")
    session.add(proposal)
    session.flush()
    _apply(session, proposal, form)
    session.add(ProposalOrganisation(proposal_id=proposal.id, organisation_id=organisation_id, is_lead=True,  # type: ignore[arg-type]
                                     confirmed_at=utcnow(), confirmed_by_id=user.id))
    notifications.follow(session, user.id, PROPOSAL, proposal.id)  # type: ignore[arg-type]
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
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


@transactional
def update(session: Session, actor: Principal, proposal_id: int, form: ProposalForm) -> Proposal:
    """Save changes (authors). A submitted proposal changes only while the challenge accepts proposals,
    must stay complete, and each saved change is a new version."""
    user = require_signed_in(actor)
    proposal, challenge, on = load_locked(session, actor, proposal_id)
    permissions.require(actor, "proposal.edit", on)
    submitted = proposal.status is ProposalStatus.SUBMITTED
    if submitted:
        form = complete(form)
    changed = _apply(session, proposal, form)
    if submitted and changed:
        now = utcnow()
        _add_version(session, proposal, user, now)
        audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.resubmitted",
                     target_type=PROPOSAL, target_id=str(proposal.id),
                     details={"challenge_id": challenge.id, "version": proposal.version, "fields": changed})
    return proposal


@transactional
def submit(session: Session, actor: Principal, proposal_id: int) -> Proposal:
    """Submit a complete draft while the challenge accepts proposals; every co-author must have confirmed.
    The first version is kept."""
    user = require_signed_in(actor)
    proposal, challenge, on = load_locked(session, actor, proposal_id)
    permissions.require(actor, "proposal.submit", on)
    submission_problems(session, proposal).raise_any()
    now = utcnow()
    proposal.status = ProposalStatus.SUBMITTED
    proposal.submitted_at = now
    _add_version(session, proposal, user, now)
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.submitted",
                 target_type=PROPOSAL, target_id=str(proposal.id),
                 details={"challenge_id": challenge.id, "version": proposal.version})
    events.announce(session, events.PROPOSAL_SUBMITTED, proposal_id, actor_id=user.id)
    return proposal


@transactional
def withdraw(session: Session, actor: Principal, proposal_id: int) -> Proposal:
    """Withdraw a submitted proposal (authors, while accepting). The row and its versions stay."""
    user = require_signed_in(actor)
    proposal, challenge, on = load_locked(session, actor, proposal_id)
    permissions.require(actor, "proposal.withdraw", on)
    proposal.status = ProposalStatus.WITHDRAWN
    proposal.withdrawn_at = utcnow()
    recount(session, challenge)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.withdrawn",
                 target_type=PROPOSAL, target_id=str(proposal.id), details={"challenge_id": challenge.id})
    return proposal


# --- consortium ----------------------------------------------------------------------------------


@transactional
def add_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | None) -> Organisation:
    """The lead's members invite a verified organisation as co-author of a draft; a member of it confirms."""
    user = require_signed_in(actor)
    _proposal, challenge, on = load_locked(session, actor, proposal_id)
    permissions.require(actor, "proposal.invite_coauthor", on)
    organisation = session.get(Organisation, organisation_id) if organisation_id is not None else None
    rows = session.exec(select(ProposalOrganisation).where(ProposalOrganisation.proposal_id == proposal_id)).all()
    error = None
    if organisation is None or not organisation.is_verified:
        error = _("Choose a verified organisation from the list.")
    elif any(row.organisation_id == organisation_id for row in rows):
        error = _("This organisation is already an author of the proposal.")
    elif len(rows) - 1 >= MAX_COAUTHORS:
        error = _("A consortium can have at most %(max)s co-authors.", max=MAX_COAUTHORS)
    if error:
        raise Invalid({"organisation_id": error})
    assert organisation is not None
    session.add(ProposalOrganisation(proposal_id=proposal_id, organisation_id=organisation.id, is_lead=False))  # type: ignore[arg-type]
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_invited",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": organisation.id})
    return organisation


@transactional
def confirm_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | None) -> None:
    """A member of an invited (verified) organisation confirms its part in the consortium."""
    user = require_signed_in(actor)
    proposal, challenge, _access = load_locked(session, actor, proposal_id)
    row = session.get(ProposalOrganisation, (proposal_id, organisation_id)) if organisation_id is not None else None
    if row is None:
        raise NotFound()
    require_verified_organisation(session, actor, row.organisation_id)
    if row.confirmed_at is not None:
        raise Invalid({"confirm": _("Your organisation has already confirmed.")})
    if proposal.status is not ProposalStatus.DRAFT:
        raise Invalid({"confirm": _("This proposal is no longer a draft.")})
    row.confirmed_at = utcnow()
    row.confirmed_by_id = user.id
    notifications.follow(session, user.id, PROPOSAL, proposal_id)
    notifications.follow(session, user.id, CHALLENGE, challenge.id)  # type: ignore[arg-type]
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_confirmed",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": row.organisation_id})


@transactional
def remove_coauthor(session: Session, actor: Principal, proposal_id: int, organisation_id: int | None) -> None:
    """Before submission, the lead removes a co-author, or a co-author's member declines."""
    user = require_signed_in(actor)
    _proposal, challenge, on = load_locked(session, actor, proposal_id)
    row = session.get(ProposalOrganisation, (proposal_id, organisation_id)) if organisation_id is not None else None
    if row is None or row.is_lead:
        raise Invalid({"organisation_id": _("Choose a co-author of this proposal.")})
    permissions.require(actor, "proposal.remove_coauthor", on.coauthor(row.organisation_id))
    session.delete(row)
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action="proposal.coauthor_removed",
                 target_type=PROPOSAL, target_id=str(proposal_id),
                 details={"challenge_id": challenge.id, "organisation_id": organisation_id})


@transactional
def change_coauthors(session: Session, actor: Principal, proposal_id: int, form: CoauthorForm) -> str:
    """Add, confirm or remove a co-author (the consortium form); returns the message to show."""
    require_signed_in(actor)
    _proposal, _challenge, on = load(session, actor, proposal_id)
    permissions.require(actor, "proposal.change_coauthors", on)
    if form.action is CoauthorAction.ADD:
        organisation = add_coauthor(session, actor, proposal_id, form.organisation_id)
        return _("%(name)s has been invited as a co-author. A member of it must confirm before the proposal "
                 "can be submitted.", name=organisation.name)
    if form.action is CoauthorAction.CONFIRM:
        confirm_coauthor(session, actor, proposal_id, form.organisation_id)
        return _("Your organisation has confirmed its part in this proposal.")
    if form.action is CoauthorAction.REMOVE:
        remove_coauthor(session, actor, proposal_id, form.organisation_id)
        return _("The co-author has been removed.")
    raise Invalid({"organisation_id": _("Choose what to do.")})


# --- attachments (PDF) ---------------------------------------------------------------------------


def _check_may_attach(session: Session, actor: Principal, proposal_id: int) -> None:
    _proposal, _challenge, on = load_locked(session, actor, proposal_id)
    permissions.require(actor, "proposal.attach", on)


def _receive_pdf(settings: Settings, source: BinaryIO | None, filename: str) -> ReceivedFile:
    """The upload stored under a random name, if it is a PDF (its type read from its content)."""
    if source is None or not filename:
        raise Invalid({"file": _("Choose a file to upload.")})
    received = files.receive(settings, source, folder=STORAGE_FOLDER)
    if received.file_type is not files.PDF:
        files.remove_file(received.path)
        raise Invalid({"file": _("Only PDF files can be attached to a proposal.")})
    return received


def add_attachment(session: Session, settings: Settings, actor: Principal, proposal_id: int, form: AttachmentForm,
                   *, source: BinaryIO | None, filename: str) -> ProposalAttachment:
    """Attach a PDF (authors, while the proposal can change).

    The proposal is checked, then the file is copied with no lock held, then the proposal is locked and
    checked again and the limits are counted. If anything refuses, the copied file is removed.
    """
    user = require_signed_in(actor)
    with unit_of_work(session):  # ends the transaction: no lock is held while the file is copied
        _check_may_attach(session, actor, proposal_id)
    received = _receive_pdf(settings, source, filename)
    try:
        with unit_of_work(session):
            _check_may_attach(session, actor, proposal_id)
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
                proposal_id=proposal_id, title=form.attachment_title,
                filename=files.clean_filename(filename, received.file_type),
                content_type=received.file_type.content_type, size_bytes=received.size_bytes,
                sha256=received.sha256, storage_key=received.storage_key, confidential=form.confidential,
                uploaded_by_id=user.id)
            session.add(attachment)
    except BaseException:
        files.remove_file(received.path)
        raise
    return attachment


def delete_attachment(session: Session, settings: Settings, actor: Principal, proposal_id: int,
                      attachment_id: int) -> None:
    """Remove an attachment (authors, while the proposal can change); versions keep its name. The file
    goes once the removal is committed."""
    require_signed_in(actor)
    with unit_of_work(session):
        _check_may_attach(session, actor, proposal_id)
        attachment = session.get(ProposalAttachment, attachment_id)
        if attachment is None or attachment.proposal_id != proposal_id:
            raise Invalid({"file": _("This file does not exist (it may have been deleted already).")})
        path = path_of(settings, attachment)
        session.delete(attachment)
    files.remove_file(path)
