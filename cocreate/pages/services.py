"""Reading the site pages, and editing them (administrators only): each save is a new revision.

Nothing is overwritten: the page shows its newest revision and administrators can read every earlier
one. On the terms of use and the privacy policy a save either corrects the current version (people's
agreement still holds) or starts a new version, which every signed-in user is asked to agree to before
they continue (:mod:`cocreate.accounts.consents`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import audit, permissions
from cocreate.accounts import consents
from cocreate.accounts.models import User
from cocreate.accounts.permissions import Principal, user_allowed_to
from cocreate.db import transactional
from cocreate.db.base import utcnow
from cocreate.errors import Invalid, NotFound
from cocreate.forms import Flag, FormModel, Line, Text
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _
from cocreate.pages.models import VERSIONED_PAGES, PageRevision, SitePage
from cocreate.web.pagination import Page, paginate

TITLE_MAX = 100
BODY_MAX = 50_000
NOTE_MAX = 300
HISTORY_PER_PAGE = 20


def parse_page(value: str) -> SitePage:
    try:
        return SitePage(value)
    except ValueError:
        raise NotFound(value) from None


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageView:
    revision: PageRevision
    version_since: datetime | None
    """When the shown version was published (terms and privacy); None elsewhere."""


def _newest(page: SitePage) -> sa.ScalarSelect[int]:
    return select(sa.func.max(PageRevision.id)).where(PageRevision.page == page).scalar_subquery()


def current(session: Session, page: SitePage) -> PageView:
    """The page as everyone sees it (one query); :class:`NotFound` before its first revision."""
    shown = sa.orm.aliased(PageRevision, name="shown")
    other = sa.orm.aliased(PageRevision, name="other")
    since = (select(sa.func.min(other.created_at))
             .where(other.page == page, other.version == shown.version).scalar_subquery())
    row = session.exec(select(shown, since).where(shown.id == _newest(page))).first()  # type: ignore[call-overload]
    if row is None:
        raise NotFound(page)
    revision, version_since = row
    return PageView(revision=revision, version_since=version_since if revision.version else None)


# --- administration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSummary:
    page: SitePage
    revision: PageRevision | None
    author: User | None
    revisions: int


def overview(session: Session, actor: Principal) -> list[PageSummary]:
    """Every page with its current revision, who saved it and how many revisions it has (one query)."""
    permissions.require(actor, "page.edit")
    counts = (select(PageRevision.page, sa.func.max(PageRevision.id).label("newest"),
                     sa.func.count().label("revisions")).group_by(PageRevision.page).subquery())
    rows = session.exec(
        select(PageRevision, User, counts.c.revisions)  # type: ignore[call-overload]
        .join(counts, col(PageRevision.id) == counts.c.newest)
        .outerjoin(User, col(User.id) == PageRevision.created_by_id)
    ).all()
    found = {revision.page: PageSummary(revision.page, revision, author, count) for revision, author, count in rows}
    return [found.get(page, PageSummary(page, None, None, 0)) for page in SitePage]


@dataclass(frozen=True)
class RevisionRow:
    revision: PageRevision
    author: User | None


def history(session: Session, actor: Principal, page: SitePage, page_number: int = 1) -> Page[RevisionRow]:
    """The page's revisions, newest first, with who saved each."""
    permissions.require(actor, "page.edit")
    statement = (select(PageRevision, User).outerjoin(User, col(User.id) == PageRevision.created_by_id)
                 .where(PageRevision.page == page).order_by(col(PageRevision.id).desc()))
    result = paginate(session, statement, page_number, HISTORY_PER_PAGE, scalars=False)
    return Page(items=[RevisionRow(revision, author) for revision, author in result.items], page=result.page,
                per_page=result.per_page, total=result.total)


def revision(session: Session, actor: Principal, page: SitePage, revision_id: int) -> RevisionRow:
    """One revision of the page, current or earlier, with who saved it."""
    permissions.require(actor, "page.edit")
    row = session.exec(select(PageRevision, User).outerjoin(User, col(User.id) == PageRevision.created_by_id)
                       .where(PageRevision.id == revision_id, PageRevision.page == page)).first()
    if row is None:
        raise NotFound(revision_id)
    return RevisionRow(*row)


class PageForm(FormModel):
    """Both languages of a page at once; titles are one line, bodies Markdown."""

    title_ja: Annotated[str, Line(TITLE_MAX, required=lazy_gettext("Enter the title in Japanese."))] = ""
    title_en: Annotated[str, Line(TITLE_MAX, required=lazy_gettext("Enter the title in English."))] = ""
    body_ja: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write the page in Japanese."))] = ""
    body_en: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write the page in English."))] = ""
    note: Annotated[str, Line(NOTE_MAX)] = ""
    new_version: Annotated[bool, Flag()] = False
    base_revision_id: Annotated[str, Line(30)] = ""
    """The revision the editor started from: a save on top of a newer one is refused, not lost."""

    @classmethod
    def of(cls, revision: PageRevision, base: PageRevision | None = None) -> PageForm:
        """A form holding ``revision``'s text, to be saved over ``base`` (the current revision)."""
        return cls.model_construct(title_ja=revision.title_ja, title_en=revision.title_en,
                                   body_ja=revision.body_ja, body_en=revision.body_en, note="", new_version=False,
                                   base_revision_id=str((base or revision).id))


def _new_version_label(session: Session, page: SitePage) -> str:
    """The publication date in Tokyo (2027-04-01), with -2, -3 … for a second version on one day."""
    day = utcnow().astimezone(WARD_TIMEZONE).date().isoformat()
    taken = set(session.exec(select(PageRevision.version).where(
        PageRevision.page == page, col(PageRevision.version).startswith(day))).all())
    label, number = day, 1
    while label in taken:
        number += 1
        label = f"{day}-{number}"
    return label


def save(session: Session, actor: Principal, page: SitePage, form: PageForm) -> PageRevision:
    """Save a new revision of ``page`` (both languages at once), recorded in the audit log (commits).

    Refused with the reasons, changing nothing: a title or text missing or too long, nothing changed,
    or another revision saved since the editor opened the form (``conflict``; the form keeps their text
    and now builds on the newest revision, so saving again is a deliberate choice).
    """
    revision = _save(session, actor, page, form)
    if revision.new_version:
        consents.forget_versions()  # this process asks for the new version at once; others within the TTL
    return revision


@transactional
def _save(session: Session, actor: Principal, page: SitePage, form: PageForm) -> PageRevision:
    user = user_allowed_to(actor, "page.edit")
    conflict = Invalid({"conflict": _(
        "Someone else saved this page while you were editing it. Your text is kept below: compare it with "
        "the current revision, then save again.")})
    latest = session.exec(select(PageRevision).where(PageRevision.id == _newest(page))).first()
    if latest is not None and form.base_revision_id != str(latest.id):
        raise conflict
    versioned = page in VERSIONED_PAGES
    new_version = versioned and (form.new_version or latest is None or latest.version is None)
    unchanged = latest is not None and all(getattr(form, name) == getattr(latest, name).strip()
                                           for name in ("title_ja", "title_en", "body_ja", "body_en"))
    if unchanged and not new_version:
        raise Invalid({"body_ja": _("Nothing has changed since the current revision.")})
    if not versioned:
        version = None
    elif new_version:
        version = _new_version_label(session, page)
    else:
        version = latest.version if latest is not None else None
    revision = PageRevision(page=page, title_ja=form.title_ja, title_en=form.title_en, body_ja=form.body_ja,
                            body_en=form.body_en, version=version, new_version=new_version, note=form.note,
                            based_on_id=latest.id if latest is not None else None, created_by_id=user.id)
    session.add(revision)
    try:
        session.flush()
    except sa.exc.IntegrityError:  # another save on top of the same revision committed first
        raise conflict from None
    audit.record(session, actor_id=user.id, actor_label=user.display_name,
                 action="page.new_version" if new_version else "page.revised", target_type="page",
                 target_id=page.value, details={"revision": revision.id, "version": version, "note": form.note})
    return revision
