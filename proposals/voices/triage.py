"""The ward's triage of residents' voices (まちの声): the staff queue and the actions, each with a public trail.

Rules, all checked here whatever the caller (``voice.*`` in :mod:`proposals.permissions`):

- Staff of the owning department act on a voice; any staff member on a voice no department owns yet
  (acting on it makes it their department's); administrators on any voice. Turning voices into a
  challenge is for ward staff only, through the challenges' own service (``challenge.create``).
- Every action writes one public :class:`~proposals.models.VoiceUpdate` (its date, its reason or answer,
  the department) and an audit entry; a status change sets ``status_changed_at``. Statuses: received →
  under consideration (acknowledge) → became a challenge (turned into or linked to one) / addressed /
  not taken up (a reason is required), or merged into another voice.
- Merging moves the duplicate's supports to the voice it is merged into: a person who supported both
  counts once, the target's own author is not made a supporter of their voice, and both counts are
  recounted from the rows. Voices merged into the duplicate move along; comments stay where they are.
- Every public status change and every answer notifies the voice's author and supporters (not the
  person who acted), in their own language, in the site and by e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, func, select

from cocreate import audit, permissions
from cocreate.accounts.models import Department, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Choice, FormModel, Line, RowId, RowIds, Text
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import services as notifications
from cocreate.settings import Settings
from cocreate.web.markdown import markdown_to_text
from cocreate.web.pagination import Page, paginate
from proposals.challenges import services as challenges
from proposals.models import Category, Challenge, Phase, Voice, VoiceStatus, VoiceSupport, VoiceUpdate
from proposals.permissions import OnVoice, is_owner

VOICES = "/voices"
"""Where a voice's public page is (``{VOICES}/{id}``, the public side's ``voice-detail``)."""
VOICE = "voice"
"""``target_type`` of a voice (notifications, audit)."""
STATUS_KIND = "voice.status_changed"
ANSWER_KIND = "voice.answered"
REASON_MAX = 2000
ANSWER_MAX = 10_000
EXCERPT = 300
MAX_VOICES = 50
"""At most this many voices become one challenge at once."""
BORN_FROM_SHOWN = 50

CLOSING = (VoiceStatus.RESOLVED, VoiceStatus.DECLINED)
OPEN = (VoiceStatus.RECEIVED, VoiceStatus.CONSIDERING)


def voice_path(voice_id: int) -> str:
    """A voice's public page."""
    return f"{VOICES}/{voice_id}"


# --- notification kinds ----------------------------------------------------------------------------


def _status_label(params: dict[str, Any]) -> str:
    try:
        return VoiceStatus(str(params.get("status", ""))).label
    except ValueError:
        return ""


def _status_message(params: dict[str, Any]) -> str:
    title, status = str(params.get("voice_title", "")), _status_label(params)
    if params.get("yours"):
        return _("Your voice “%(title)s” is now “%(status)s”.", title=title, status=status)
    return _("A voice you support, “%(title)s”, is now “%(status)s”.", title=title, status=status)


def _status_subject(params: dict[str, Any]) -> str:
    return _("%(status)s: %(title)s", status=_status_label(params), title=str(params.get("voice_title", "")))


def _answer_message(params: dict[str, Any]) -> str:
    title = str(params.get("voice_title", ""))
    if params.get("yours"):
        return _("The ward has answered your voice “%(title)s”.", title=title)
    return _("The ward has answered a voice you support, “%(title)s”.", title=title)


def _answer_subject(params: dict[str, Any]) -> str:
    return _("The ward's answer: %(title)s", title=str(params.get("voice_title", "")))


KINDS = {
    STATUS_KIND: notifications.Kind(_status_message, _status_subject, "mail/voice_status_changed.txt",
                                    label=lazy_gettext("Status changes of your voices and voices you support")),
    ANSWER_KIND: notifications.Kind(_answer_message, _answer_subject, "mail/voice_answered.txt",
                                    label=lazy_gettext("The ward's answers to your voices and voices you support")),
}
"""This module's notification kinds (listed in the proposals manifest)."""


# --- forms -----------------------------------------------------------------------------------------

REASON_REQUIRED = lazy_gettext("Give the reason; it is shown publicly with the new status.")


class NoteForm(FormModel):
    """Acknowledge (an optional public note)."""

    note: Annotated[str, Text(REASON_MAX)] = ""


class AnswerForm(FormModel):
    answer: Annotated[str, Text(ANSWER_MAX, strip=False, required=lazy_gettext("Write the answer."))] = ""


class CloseForm(FormModel):
    """Mark as addressed or not taken up, with the public reason."""

    status: Annotated[VoiceStatus | None, Choice(VoiceStatus, lazy_gettext("Choose “Addressed” or “Not taken up”."))] = None
    reason: Annotated[str, Text(REASON_MAX, required=REASON_REQUIRED)] = ""


class ReassignForm(FormModel):
    department_id: Annotated[int | None, RowId(lazy_gettext("Choose a department from the list."), required=True)] = None
    department_note: Annotated[str, Text(REASON_MAX)] = ""


class MergeForm(FormModel):
    into: Annotated[int | None, RowId(lazy_gettext("Enter the number of another voice."), required=True)] = None
    merge_note: Annotated[str, Text(REASON_MAX)] = ""


class LinkForm(FormModel):
    challenge_id: Annotated[int | None, RowId(lazy_gettext("Enter the number of an existing challenge."),
                                              required=True)] = None
    link_note: Annotated[str, Text(REASON_MAX)] = ""


class ToChallengeForm(FormModel):
    """One or several voices become a draft challenge that cites them."""

    voice_ids: Annotated[list[int], RowIds(lazy_gettext("Choose voices from the list."))] = Field(default_factory=list)
    challenge_title: Annotated[str, Line(200, required=lazy_gettext(
        "Give the challenge a title, written as a wish (「…を実現したい」)."))] = ""
    draft_department_id: Annotated[int | None, RowId(lazy_gettext("Choose one of your departments."))] = None


# --- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    status: VoiceStatus | None = None
    category: Category | None = None
    area: str = ""


@dataclass(frozen=True)
class QueueItem:
    voice: Voice
    department: Department | None


def queue(session: Session, actor: Principal, filters: QueueFilters, page: int, per_page: int) -> Page[QueueItem]:
    """One page of the actor's queue, in one query: the voices of their departments and those no
    department owns yet (all voices for administrators), newest first; merged voices only when asked for."""
    permissions.require(actor, "voice.queue")
    statement = (select(Voice, Department).join(Department, col(Department.id) == Voice.department_id, isouter=True)
                 .order_by(col(Voice.created_at).desc(), col(Voice.id).desc()))
    if not actor.is_admin:
        statement = statement.where(sa.or_(col(Voice.department_id).in_(sorted(actor.staff_department_ids)),
                                           col(Voice.department_id).is_(None)))
    if filters.status is not None:
        statement = statement.where(col(Voice.status) == filters.status)
    else:
        statement = statement.where(col(Voice.status) != VoiceStatus.MERGED)
    if filters.category is not None:
        statement = statement.where(col(Voice.category) == filters.category)
    if filters.area:
        statement = statement.where(col(Voice.area) == filters.area)
    result = paginate(session, statement, page, per_page, scalars=False)
    return Page(items=[QueueItem(voice, department) for voice, department in result.items], page=result.page,
                per_page=result.per_page, total=result.total)


def load(session: Session, actor: Principal, voice_id: int, *, action: str = "voice.triage",
         lock: bool = False) -> Voice:
    """The voice, if the actor may do ``action`` to it (NotFound, Forbidden, SignInRequired, or Invalid
    for its state)."""
    require_signed_in(actor)
    voice = session.get(Voice, voice_id, with_for_update=lock)
    if voice is None:
        raise NotFound()
    permissions.require(actor, action, OnVoice.of(voice))
    return voice


def trail(session: Session, voice_id: int) -> Sequence[tuple[VoiceUpdate, Department | None]]:
    """The voice's public trail, oldest first, with each entry's department (one query)."""
    return session.exec(select(VoiceUpdate, Department)
                        .join(Department, col(Department.id) == VoiceUpdate.department_id, isouter=True)
                        .where(VoiceUpdate.voice_id == voice_id)
                        .order_by(col(VoiceUpdate.created_at), col(VoiceUpdate.id))).all()  # type: ignore[return-value]


def departments(session: Session) -> Sequence[Department]:
    return session.exec(select(Department).order_by(Department.code)).all()


@dataclass(frozen=True)
class BornFrom:
    """The voices a challenge was born from or is linked to (its "born from N residents' voices")."""

    total: int
    voices: Sequence[Voice]


def born_from(session: Session, challenge_id: int) -> BornFrom:
    """The shown voices citing the challenge, oldest first (at most :data:`BORN_FROM_SHOWN`), and how
    many there are, in one query."""
    statement = (select(Voice).where(col(Voice.challenge_id) == challenge_id, col(Voice.hidden_at).is_(None),
                                     col(Voice.status) != VoiceStatus.MERGED)
                 .order_by(col(Voice.created_at), col(Voice.id)))
    result = paginate(session, statement, 1, BORN_FROM_SHOWN)
    return BornFrom(result.total, result.items)


# --- writing ---------------------------------------------------------------------------------------


def _actor_label(user: User) -> str:
    return f"{user.display_name} (#{user.id})"[:200]


def _take(actor: Principal, voice: Voice) -> None:
    """A voice nobody owns becomes the acting staff member's department's."""
    if voice.department_id is None and actor.staff_department_ids:
        voice.department_id = min(actor.staff_department_ids)


def _write(session: Session, settings: Settings | None, user: User, voice: Voice, kind: str, *,
           status: VoiceStatus | None = None, body: str = "", other_voice_id: int | None = None,
           challenge_id: int | None = None, action: str, details: dict[str, Any] | None = None,
           notify: bool = True) -> VoiceUpdate:
    """One public entry of the trail (and the status change it records), its audit entry and, for a
    status change or an answer, the notifications."""
    assert voice.id is not None
    now = utcnow()
    previous = voice.status
    if status is not None:
        voice.status = status
        voice.status_changed_at = now
    update = VoiceUpdate(voice_id=voice.id, kind=kind, status=status, body=body, department_id=voice.department_id,
                         other_voice_id=other_voice_id, challenge_id=challenge_id, actor_id=user.id, created_at=now)
    session.add(voice)
    session.add(update)
    session.flush()
    audit.record(session, actor_id=user.id, actor_label=_actor_label(user), action=action, target_type=VOICE,
                 target_id=str(voice.id), details={"from": previous.value, "to": voice.status.value,
                                                   "update_id": update.id, **(details or {})})
    if notify and settings is not None and (status is not None or kind == "answer"):
        _notify(session, settings, user, voice, update)
    return update


def _notify(session: Session, settings: Settings, actor_user: User, voice: Voice, update: VoiceUpdate) -> None:
    assert voice.id is not None and update.id is not None
    kind = ANSWER_KIND if update.kind == "answer" else STATUS_KIND
    supporters = set(session.exec(select(VoiceSupport.user_id).where(VoiceSupport.voice_id == voice.id)).all())
    authors = {voice.author_id} - {None, actor_user.id}
    supporters -= authors | {actor_user.id}
    params = {"voice_id": voice.id, "voice_title": voice.title, "status": voice.status.value,
              "text": markdown_to_text(update.body, EXCERPT)}
    common: dict[str, Any] = {"kind": kind, "target_type": VOICE, "target_id": voice.id, "url": voice_path(voice.id),
                              "event_key": f"{kind}:{update.id}", "settings": settings}
    notifications.notify(session, user_ids=authors, params=params | {"yours": True}, **common)  # type: ignore[arg-type]
    notifications.notify(session, user_ids=supporters, params=params, **common)


@transactional
def acknowledge(session: Session, settings: Settings, actor: Principal, voice_id: int, form: NoteForm) -> VoiceUpdate:
    """Received → under consideration (受付 → 検討中), with an optional public note."""
    user = require_signed_in(actor)
    voice = load(session, actor, voice_id, action="voice.acknowledge", lock=True)
    _take(actor, voice)
    return _write(session, settings, user, voice, "status", status=VoiceStatus.CONSIDERING, body=form.note,
                  action="voice.acknowledged")


@transactional
def answer(session: Session, settings: Settings, actor: Principal, voice_id: int, form: AnswerForm) -> VoiceUpdate:
    """A public answer from the department (Markdown); the status stays as it is."""
    user = require_signed_in(actor)
    voice = load(session, actor, voice_id, action="voice.answer", lock=True)
    _take(actor, voice)
    return _write(session, settings, user, voice, "answer", body=form.answer, action="voice.answered",
                  details={"answer": form.answer[:EXCERPT]})


@transactional
def close(session: Session, settings: Settings, actor: Principal, voice_id: int, form: CloseForm) -> VoiceUpdate:
    """Addressed (対応済み) or not taken up (対応しない), with the public reason."""
    user = require_signed_in(actor)
    voice = load(session, actor, voice_id, action="voice.close", lock=True)
    if form.status not in CLOSING:
        raise Invalid({"status": _("Choose “Addressed” or “Not taken up”.")})
    if voice.status is form.status:
        raise Invalid({"status": _("This voice already has this status.")})
    _take(actor, voice)
    return _write(session, settings, user, voice, "status", status=form.status, body=form.reason,
                  action="voice.resolved" if form.status is VoiceStatus.RESOLVED else "voice.declined")


@transactional
def reassign(session: Session, actor: Principal, voice_id: int, form: ReassignForm) -> VoiceUpdate:
    """Give the voice to another department (shown in the trail; the status stays as it is)."""
    user = require_signed_in(actor)
    voice = load(session, actor, voice_id, action="voice.reassign", lock=True)
    department = session.get(Department, form.department_id) if form.department_id is not None else None
    if department is None:
        raise Invalid({"department_id": _("Choose a department from the list.")})
    if department.id == voice.department_id:
        raise Invalid({"department_id": _("This department is already in charge of this voice.")})
    before = voice.department_id
    voice.department_id = department.id
    return _write(session, None, user, voice, "department", body=form.department_note, action="voice.reassigned",
                  details={"department_from": before, "department_to": department.id})


@transactional
def merge(session: Session, settings: Settings, actor: Principal, voice_id: int, form: MergeForm) -> VoiceUpdate:
    """Merge a duplicate into another voice: its supports move to that voice (each person once), its
    status becomes "merged" pointing at it, voices merged into it move along; comments stay."""
    user = require_signed_in(actor)
    # Lock both rows in id order (two merges of the same pair never wait on each other crosswise).
    for locked in sorted({voice_id, form.into or voice_id}):
        session.get(Voice, locked, with_for_update=True)
    voice = load(session, actor, voice_id, action="voice.merge")
    if form.into == voice_id:
        raise Invalid({"into": _("A voice cannot be merged into itself.")})
    target = session.get(Voice, form.into) if form.into is not None else None
    if target is None:
        raise Invalid({"into": _("There is no voice with this number.")})
    if target.status is VoiceStatus.MERGED:
        raise Invalid({"into": _("That voice was itself merged into another one; merge into that one instead.")})
    assert voice.id is not None and target.id is not None
    # The people told are the duplicate's, before its supports move.
    update = _write(session, settings, user, voice, "merge", status=VoiceStatus.MERGED, body=form.merge_note,
                    other_voice_id=target.id, action="voice.merged", details={"into": target.id})
    voice.merged_into_id = target.id
    already = select(VoiceSupport.user_id).where(VoiceSupport.voice_id == target.id)
    carried = (select(sa.literal(target.id), col(VoiceSupport.user_id), col(VoiceSupport.created_at))
               .where(VoiceSupport.voice_id == voice.id, col(VoiceSupport.user_id).not_in(already)))
    if target.author_id is not None:
        carried = carried.where(col(VoiceSupport.user_id) != target.author_id)
    session.execute(sa.insert(VoiceSupport).from_select(["voice_id", "user_id", "created_at"], carried))
    session.execute(sa.delete(VoiceSupport).where(col(VoiceSupport.voice_id) == voice.id))
    session.execute(sa.update(Voice).where(col(Voice.merged_into_id) == voice.id).values(merged_into_id=target.id))
    voice.support_count = 0
    target.support_count = session.exec(select(func.count()).select_from(VoiceSupport)
                                        .where(VoiceSupport.voice_id == target.id)).one()
    session.add_all([voice, target])
    session.add(VoiceUpdate(voice_id=target.id, kind="merge", department_id=target.department_id,
                            other_voice_id=voice.id, actor_id=user.id, created_at=update.created_at))
    session.flush()
    return update


def _visible_challenge(session: Session, actor: Principal, challenge_id: int | None, field: str) -> Challenge:
    challenge = session.get(Challenge, challenge_id) if challenge_id is not None else None
    if challenge is None or (challenge.phase is Phase.DRAFT and not is_owner(session, actor, challenge)):
        raise Invalid({field: _("There is no challenge with this number.")})
    return challenge


@transactional
def link(session: Session, settings: Settings, actor: Principal, voice_id: int, form: LinkForm) -> VoiceUpdate:
    """Link the voice to an existing challenge (one the actor can see): it "became a challenge"."""
    user = require_signed_in(actor)
    voice = load(session, actor, voice_id, action="voice.link", lock=True)
    challenge = _visible_challenge(session, actor, form.challenge_id, "challenge_id")
    if voice.challenge_id == challenge.id:
        raise Invalid({"challenge_id": _("This voice is already linked to this challenge.")})
    _take(actor, voice)
    voice.challenge_id = challenge.id
    return _write(session, settings, user, voice, "link", status=VoiceStatus.CHALLENGE, body=form.link_note,
                  challenge_id=challenge.id, action="voice.linked", details={"challenge_id": challenge.id})


def citation(voices: Sequence[Voice]) -> str:
    """The draft challenge's background: the voices it was born from, each a link to its page (Markdown)."""
    lines = [_("This challenge was born from these residents' voices:"), ""]
    for voice in voices:
        title = voice.title.replace("[", "(").replace("]", ")")
        lines.append(f"- [{title}]({voice_path(voice.id)})  (#{voice.id})")  # type: ignore[arg-type]
    return "\n".join(lines) + "\n"


@transactional
def to_challenge(session: Session, settings: Settings, actor: Principal, form: ToChallengeForm) -> Challenge:
    """Turn one or several voices into a draft challenge of one of the actor's departments that cites
    them (created by the challenges' own service); each voice becomes "became a challenge"."""
    user = require_signed_in(actor)
    permissions.require(actor, "voice.draft_challenge")
    if not form.voice_ids:
        raise Invalid({"voice_ids": _("Choose at least one voice.")})
    if len(form.voice_ids) > MAX_VOICES:
        raise Invalid({"voice_ids": _("Choose at most %(max)s voices.", max=MAX_VOICES)})
    ids = sorted(form.voice_ids)
    found = {voice.id: voice for voice in session.exec(
        select(Voice).where(col(Voice.id).in_(ids)).order_by(col(Voice.id)).with_for_update()).all()}
    if len(found) != len(ids):
        raise Invalid({"voice_ids": _("Choose voices from the list.")})
    voices = [found[voice_id] for voice_id in form.voice_ids]
    for voice in voices:
        permissions.require(actor, "voice.to_challenge", OnVoice.of(voice), field="voice_ids")
    department_id = form.draft_department_id
    if department_id is None:
        owned = [v.department_id for v in voices if actor.is_staff_of(v.department_id)]
        department_id = owned[0] if owned else (min(actor.staff_department_ids) if len(actor.staff_department_ids) == 1
                                                else None)
    if department_id is None or not actor.is_staff_of(department_id):
        raise Invalid({"draft_department_id": _("Choose one of your departments.")})
    draft = challenges.create_draft(session, actor, department_id, challenges.ChallengeForm(
        title=form.challenge_title, category=voices[0].category, background=citation(voices)))
    assert draft.id is not None
    for voice in voices:
        if voice.department_id is None:
            voice.department_id = department_id
        voice.challenge_id = draft.id
        _write(session, settings, user, voice, "status", status=VoiceStatus.CHALLENGE, challenge_id=draft.id,
               action="voice.challenge_drafted", details={"challenge_id": draft.id})
    return draft
