"""Residents' voices (まちの声), the public side: posting a voice, supporting it, and reading voices.

Rules, all checked here whatever the caller (the rules themselves are ``voice.*`` in
:mod:`proposals.permissions`):

- A signed-in, confirmed resident posts a voice: a title, a description (Markdown), a category, an area
  of the ward or none, and optionally a point on the map (inside the ward's surroundings) or an
  address, and up to :data:`MAX_PHOTOS` photos, each described for people who cannot see it. The
  photos are content-checked and stored by :mod:`cocreate.files.storage`, and lose their EXIF location
  unless the resident keeps it (:mod:`cocreate.files.images`). The owning department is chosen by
  :func:`proposals.voices.routing.owning_department`. The author follows their voice.
- Others support a voice, once each (not its author), and may withdraw their support. The support is a
  row (one per voice and person, its primary key) inserted with ON CONFLICT DO NOTHING, and
  ``Voice.support_count`` changes in SQL by the rows actually inserted or deleted, so the count stays
  exact when the same person, or many, click at once.
- Everyone reads voices that are not hidden; a voice merged into another lives on in that one (its page
  sends there). Lists leave merged voices out. Staff triage (status changes, answers, merges) is
  another module's; its trail (:class:`proposals.models.VoiceUpdate`) is shown here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

import sqlalchemy as sa
from pydantic import Field, model_validator
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from cocreate import permissions
from cocreate.accounts.models import Department, User
from cocreate.accounts.permissions import Principal, require_signed_in
from cocreate.areas import Area
from cocreate.db import transactional, unit_of_work
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.files import images as photo_files
from cocreate.files import storage
from cocreate.forms import (
    Choice,
    Degrees,
    Flag,
    FormModel,
    Line,
    PhotoSlot,
    Problems,
    Text,
    as_text,
    check_photo_slots,
    photo_slots,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.notifications import follows
from cocreate.settings import Settings
from cocreate.web.pagination import DEFAULT_PER_PAGE, Page, paginate
from proposals.challenges.queries import PUBLIC_PHASES
from proposals.models import (
    Category,
    Challenge,
    Phase,
    Voice,
    VoiceChannel,
    VoicePhoto,
    VoiceStatus,
    VoiceSupport,
    VoiceUpdate,
)
from proposals.permissions import OnVoice
from proposals.voices.routing import owning_department

VOICE = "voice"
"""``target_type`` of a voice in follows, comments, reports and search."""
TITLE_MAX = 120
BODY_MAX = 5000
ADDRESS_MAX = 200
ALT_MAX = 200
MAX_PHOTOS = 3
PHOTO_MAX_BYTES = 10 * 1024 * 1024
STORAGE_FOLDER = "voice-photos"

LATITUDE_RANGE = (35.70, 35.85)
LONGITUDE_RANGE = (139.58, 139.78)
"""A box around Itabashi ward (about 35.74–35.80 N, 139.62–139.73 E) with a margin: a point outside
it is a slip of the finger (or the wrong place), not a local voice."""

LISTED = tuple(status for status in VoiceStatus if status is not VoiceStatus.MERGED)
"""The statuses a list shows (a merged voice lives on in the one it was merged into)."""


# --- the form ------------------------------------------------------------------------------------


class VoiceForm(FormModel):
    """A new voice: what, where (an area, a point or an address, all optional) and photos."""

    title: Annotated[str, Line(TITLE_MAX, required=lazy_gettext("Give your voice a short title."))] = ""
    body: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Describe the need, problem or idea."),
                              strip=False)] = ""
    category: Annotated[Category | None, Choice(Category, lazy_gettext("Choose a category from the list."))] = None
    area: Annotated[Area | None, Choice(Area, lazy_gettext("Choose an area from the list."), required=False)] = None
    latitude: Annotated[float | None, Degrees(*LATITUDE_RANGE, lazy_gettext(
        "Enter a latitude in or near Itabashi ward, from 35.70 to 35.85."))] = None
    longitude: Annotated[float | None, Degrees(*LONGITUDE_RANGE, lazy_gettext(
        "Enter a longitude in or near Itabashi ward, from 139.58 to 139.78."))] = None
    address: Annotated[str, Line(ADDRESS_MAX)] = ""
    keep_location: Annotated[bool, Flag()] = False
    photos: list[PhotoSlot] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _gather_photos(cls, data: Any) -> Any:
        return photo_slots(data, MAX_PHOTOS)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        """A point has both coordinates; each photo its description and each description its photo."""
        problems = Problems()
        if (self.latitude is None) != (self.longitude is None):
            problems.add("latitude" if self.latitude is None else "longitude",
                         _("Enter both latitude and longitude, or neither."))
        check_photo_slots(self.photos, ALT_MAX, problems)
        problems.raise_any()
        return self


# --- who the actor is to a voice ------------------------------------------------------------------


def on_voice(actor: Principal, voice: Voice) -> OnVoice:
    """The voice as the ``voice.*`` rules see it for ``actor`` (from the row alone: no query)."""
    return OnVoice.of(voice, actor)


def public_voice(session: Session, voice_id: int, *, lock: bool = False) -> Voice:
    """A voice the public may read (merged ones too: their page sends on); hidden and unknown: NotFound."""
    voice = session.get(Voice, voice_id, with_for_update=lock, populate_existing=lock)
    if voice is None or voice.hidden_at is not None:
        raise NotFound()
    return voice


# --- posting -------------------------------------------------------------------------------------


def path_of(settings: Settings, photo: VoicePhoto) -> Any:
    """Where a photo's file lives (its key is checked, so a bad row cannot point elsewhere)."""
    return storage.stored_path(settings, photo.storage_key, STORAGE_FOLDER)


@dataclass
class _Stored:
    slot: PhotoSlot
    received: storage.ReceivedFile
    size_bytes: int
    sha256: str


def _receive_photos(settings: Settings, form: VoiceForm) -> list[_Stored]:
    """Store the chosen photos (content-checked; images only) without their location unless kept; a
    photo refused refuses them all, and no file is kept then."""
    problems = Problems()
    stored: list[_Stored] = []
    for slot in form.photos:
        if not slot.has_file:
            continue
        try:
            received = storage.receive(settings, slot.source, PHOTO_MAX_BYTES, folder=STORAGE_FOLDER)  # type: ignore[arg-type]
        except Invalid as failed:
            problems.add(f"photo-{slot.index}", failed.errors.get("file", ""))
            continue
        try:
            if not received.file_type.is_image:
                raise Invalid({"file": _("Choose a PNG, JPEG, GIF or WebP image.")})
            if form.keep_location:
                size, digest = received.size_bytes, received.sha256
            else:
                size, digest = photo_files.strip_location(received.path, received.file_type)
        except Invalid as failed:
            storage.remove_file(received.path)
            problems.add(f"photo-{slot.index}", failed.errors.get("file", ""))
            continue
        stored.append(_Stored(slot, received, size, digest))
    if problems:
        for item in stored:
            storage.remove_file(item.received.path)
        problems.raise_any()
    return stored


def post(session: Session, settings: Settings, actor: Principal, form: VoiceForm) -> Voice:
    """Post a voice (commits). Two units of work: the first checks the actor and ends, so no transaction
    is held open while the photos are copied and cleaned; the second writes. The files go again if that
    fails. Refusals: SignInRequired, Forbidden (an unconfirmed or blocked account), Invalid (the form)."""
    with unit_of_work(session):
        permissions.require(actor, "voice.post")
    stored = _receive_photos(settings, form)
    try:
        with unit_of_work(session):
            user = require_signed_in(actor)
            permissions.require(actor, "voice.post")
            assert form.category is not None
            area = form.area.value if form.area is not None else ""
            voice = Voice(title=form.title, body=form.body, category=form.category, area=area,
                          latitude=form.latitude, longitude=form.longitude, address=form.address,
                          department_id=owning_department(session, form.category, area or None),
                          author_id=user.id)
            session.add(voice)
            session.flush()
            assert voice.id is not None
            for item in stored:
                session.add(VoicePhoto(
                    voice_id=voice.id, alt_text=item.slot.alt_text, kept_location=form.keep_location,
                    filename=storage.clean_filename(item.slot.filename, item.received.file_type),
                    content_type=item.received.file_type.content_type, size_bytes=item.size_bytes,
                    sha256=item.sha256, storage_key=item.received.storage_key, uploaded_by_id=user.id))
            follows.follow_as_author(session, [user.id], VOICE, voice.id)
    except BaseException:
        for item in stored:
            storage.remove_file(item.received.path)
        raise
    return voice


# --- supporting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Support:
    """The actor's state on one voice right after supporting or withdrawing (enough to draw the box)."""

    voice: Voice
    changed: bool
    supported: bool
    support_count: int


def _insert_ignoring_duplicates(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(VoiceSupport)


def _change_count(session: Session, voice_id: int, delta: int) -> int:
    return session.execute(
        sa.update(Voice).where(col(Voice.id) == voice_id)
        .values(support_count=Voice.support_count + delta).returning(Voice.support_count)
    ).scalar_one()


def _current_count(session: Session, voice_id: int) -> int:
    return session.execute(select(Voice.support_count).where(Voice.id == voice_id)).scalar_one()


@transactional
def support(session: Session, actor: Principal, voice_id: int) -> Support:
    """Support a voice (commits); ``changed`` is False when the actor already supported it.

    Refusals: SignInRequired; Forbidden for its author and unconfirmed accounts; Invalid under
    ``support`` for a merged voice; NotFound for a hidden or unknown one."""
    user = require_signed_in(actor)
    voice = public_voice(session, voice_id)
    permissions.require(actor, "voice.support", on_voice(actor, voice), field="support")
    inserted = session.execute(
        _insert_ignoring_duplicates(session).values(voice_id=voice_id, user_id=user.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["voice_id", "user_id"]).returning(VoiceSupport.user_id)
    ).first() is not None
    count = _change_count(session, voice_id, +1) if inserted else _current_count(session, voice_id)
    return Support(voice, changed=bool(inserted), supported=True, support_count=count)


@transactional
def unsupport(session: Session, actor: Principal, voice_id: int) -> Support:
    """Withdraw the actor's support (commits); ``changed`` is False when there was none."""
    user = require_signed_in(actor)
    voice = public_voice(session, voice_id)
    permissions.require(actor, "voice.unsupport", on_voice(actor, voice), field="support")
    deleted = session.execute(sa.delete(VoiceSupport).where(col(VoiceSupport.voice_id) == voice_id,
                                                            col(VoiceSupport.user_id) == user.id)
                              .returning(VoiceSupport.user_id)).first() is not None
    count = _change_count(session, voice_id, -1) if deleted else _current_count(session, voice_id)
    return Support(voice, changed=bool(deleted), supported=False, support_count=count)


# --- lists ---------------------------------------------------------------------------------------


class VoiceSort(StrEnum):
    NEWEST = "newest"
    SUPPORT = "support"

    @property
    def label(self) -> str:
        return str(SORT_LABELS[self])


SORT_LABELS = {
    VoiceSort.NEWEST: lazy_gettext("Newest first"),
    VoiceSort.SUPPORT: lazy_gettext("Most supported"),
}


@dataclass(frozen=True)
class VoiceFilters:
    category: Category | None = None
    area: Area | None = None
    status: VoiceStatus | None = None
    sort: VoiceSort = VoiceSort.NEWEST

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.category, self.area, self.status))

    def query_params(self, **overrides: Any) -> dict[str, str]:
        """The filters as GET parameters (for links that keep them), defaults left out."""
        params = {"category": self.category.value if self.category else "",
                  "area": self.area.value if self.area else "",
                  "status": self.status.value if self.status else "",
                  "sort": self.sort.value if self.sort is not VoiceSort.NEWEST else ""}
        params.update({k: str(v) for k, v in overrides.items()})
        return {k: v for k, v in params.items() if v}


def parse_filters(params: Mapping[str, Any]) -> tuple[VoiceFilters, bool]:
    """The filters of a list page's query (values not recognised are ignored, and said so)."""
    ignored = False

    def pick(enum: type[Any], name: str, allowed: Sequence[Any] | None = None) -> Any:
        nonlocal ignored
        raw = as_text(params.get(name, "")).strip()
        if not raw:
            return None
        try:
            value = enum(raw)
        except ValueError:
            ignored = True
            return None
        if allowed is not None and value not in allowed:
            ignored = True
            return None
        return value

    filters = VoiceFilters(category=pick(Category, "category"), area=pick(Area, "area"),
                           status=pick(VoiceStatus, "status", LISTED),
                           sort=pick(VoiceSort, "sort") or VoiceSort.NEWEST)
    return filters, ignored


def listed() -> sa.ColumnElement[bool]:
    """Voices a list shows: not hidden, not merged into another."""
    return sa.and_(col(Voice.hidden_at).is_(None), col(Voice.status) != VoiceStatus.MERGED)


def find_public_voices(session: Session, filters: VoiceFilters, page: int = 1,
                       per_page: int = DEFAULT_PER_PAGE) -> Page[Voice]:
    """One page of the public list, filtered and sorted by the database (one query)."""
    statement = select(Voice).where(listed())
    if filters.category is not None:
        statement = statement.where(Voice.category == filters.category)
    if filters.area is not None:
        statement = statement.where(Voice.area == filters.area.value)
    if filters.status is not None:
        statement = statement.where(Voice.status == filters.status)
    if filters.sort is VoiceSort.SUPPORT:
        statement = statement.order_by(col(Voice.support_count).desc(), col(Voice.created_at).desc(),
                                       col(Voice.id).desc())
    else:
        statement = statement.order_by(col(Voice.created_at).desc(), col(Voice.id).desc())
    return paginate(session, statement, page, per_page)  # type: ignore[arg-type]


# --- one voice -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailEntry:
    """One public entry of a voice's trail, as the page shows it."""

    update: VoiceUpdate
    department: Department | None
    challenge_title: str | None
    """The linked challenge's title, when the public may see it (a draft's is not shown)."""


@dataclass
class VoiceDetail:
    """Everything the voice page shows, read in a fixed number of queries."""

    voice: Voice
    author_name: str
    department: Department | None
    challenge_title: str | None
    """The challenge the voice is linked to or became, when public."""
    photos: Sequence[VoicePhoto]
    trail: list[TrailEntry]
    on: OnVoice
    signed_in: bool
    supported: bool
    can_support: bool = False
    can_unsupport: bool = False
    refusal: str = ""
    can_report: bool = False
    support_count: int | None = None
    """The count right after the actor's change (else the row's)."""

    @property
    def supporters(self) -> int:
        return self.voice.support_count if self.support_count is None else self.support_count

    @property
    def map_link(self) -> str | None:
        return map_link(self.voice)


def map_link(voice: Voice) -> str | None:
    """The OpenStreetMap page of the voice's point (None without one): a plain link, no script needed."""
    if voice.latitude is None or voice.longitude is None:
        return None
    lat, lng = f"{voice.latitude:.6f}", f"{voice.longitude:.6f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=17/{lat}/{lng}"


def author_name(voice: Voice, author: User | None) -> str:
    """Who the page names as its author: their public name (退会したユーザー once deleted), or how the
    ward entered it for someone without an account."""
    if author is not None:
        return author.public_name
    if voice.author_id is None and voice.channel is not VoiceChannel.ONLINE:
        return voice.channel.label  # even once the desk member who entered it has left
    return _("Deleted user")


def _supported_by(user_id: int | None) -> sa.ColumnElement[bool]:
    if user_id is None:
        return sa.false()
    return sa.exists().where(col(VoiceSupport.voice_id) == Voice.id, col(VoiceSupport.user_id) == user_id)


def detail(session: Session, actor: Principal, voice_id: int) -> VoiceDetail:
    """A voice's page for ``actor`` (three queries: the voice with its author, department, linked
    challenge and the actor's support; its photos; its trail). NotFound for hidden and unknown voices;
    a merged voice is returned as it is (its page sends on to :attr:`Voice.merged_into_id`)."""
    row = session.execute(
        select(Voice, User, Department, Challenge.title, Challenge.phase, _supported_by(actor.user_id))
        .outerjoin(User, col(User.id) == Voice.author_id)
        .outerjoin(Department, col(Department.id) == Voice.department_id)
        .outerjoin(Challenge, col(Challenge.id) == Voice.challenge_id)
        .where(Voice.id == voice_id)
    ).first()
    if row is None or row[0].hidden_at is not None:
        raise NotFound()
    voice, author, department, challenge_title, challenge_phase, supported = row
    photos = session.exec(select(VoicePhoto).where(VoicePhoto.voice_id == voice_id)
                          .order_by(col(VoicePhoto.id))).all()
    trail = [TrailEntry(update, update_department, title if phase is not None and phase in PUBLIC_PHASES else None)
             for update, update_department, title, phase in session.execute(
                 select(VoiceUpdate, Department, Challenge.title, Challenge.phase)
                 .outerjoin(Department, col(Department.id) == VoiceUpdate.department_id)
                 .outerjoin(Challenge, col(Challenge.id) == VoiceUpdate.challenge_id)
                 .where(VoiceUpdate.voice_id == voice_id)
                 .order_by(col(VoiceUpdate.created_at), col(VoiceUpdate.id))).all()]
    on = on_voice(actor, voice)
    view = VoiceDetail(
        voice=voice, author_name=author_name(voice, author), department=department,
        challenge_title=challenge_title if challenge_phase is not None and challenge_phase is not Phase.DRAFT else None,
        photos=photos, trail=trail, on=on, signed_in=actor.is_signed_in, supported=bool(supported))
    return support_box(actor, view)


def support_box(actor: Principal, view: VoiceDetail) -> VoiceDetail:
    """What the support box offers the actor (no query: the facts are on the view)."""
    view.can_report = view.signed_in and bool(permissions.can(actor, "voice.report", view.on))
    if view.supported:
        view.can_unsupport = bool(permissions.can(actor, "voice.unsupport", view.on))
        return view
    decision = permissions.can(actor, "voice.support", view.on)
    view.can_support = bool(decision)
    view.refusal = "" if decision or decision.sign_in else decision.reason
    return view


def after_change(actor: Principal, result: Support) -> VoiceDetail:
    """The support box right after the actor supported or withdrew, from the result alone (no query)."""
    voice = result.voice  # not changed: the row in the session stays as it was read
    view = VoiceDetail(voice=voice, author_name="", department=None, challenge_title=None, photos=[], trail=[],
                       on=on_voice(actor, voice), signed_in=True, supported=result.supported,
                       support_count=result.support_count)
    return support_box(actor, view)


def photo_for_download(session: Session, settings: Settings, voice_id: int,
                       photo_id: int) -> tuple[VoicePhoto, Any] | None:
    """A photo of a voice the public may read, with its file (None otherwise)."""
    row = session.execute(select(VoicePhoto, Voice.hidden_at).join(Voice, col(Voice.id) == VoicePhoto.voice_id)
                          .where(VoicePhoto.id == photo_id, VoicePhoto.voice_id == voice_id)).first()
    if row is None or row[1] is not None:
        return None
    photo = row[0]
    path = path_of(settings, photo)
    if not path.is_file():
        return None
    return photo, path
