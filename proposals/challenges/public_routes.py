"""Public challenge pages (list, detail, change history) and the read API for challenges.

The main body of the detail page is ``templates/proposals/_challenge_body.html``, rendered from
:func:`challenge_body_context`; the staff preview page renders the same pair, so what staff preview
is what the public sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import Template
from sqlmodel import Session, col, select

from cocreate.accounts.models import Department
from cocreate.accounts.permissions import Principal, principal_of
from cocreate.errors import NotFound
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.web.dependencies import DbSession
from cocreate.web.downloads import file_size
from cocreate.web.errors import MAX_ROW_ID
from cocreate.web.htmx import render
from cocreate.web.links import route_path
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, PageInfo
from proposals import phases, sections
from proposals.challenges import history, queries
from proposals.challenges import services as challenges
from proposals.models import (
    AttachmentKind,
    Category,
    Challenge,
    Phase,
    PhaseChange,
    QuestionStatus,
    QuestionVisibility,
)

# --- the detail page's body (shared with the staff preview) ---------------------------------------


@dataclass(frozen=True)
class TimelineStep:
    """One phase on the timeline: its planned start, when it actually began, and where we are."""

    phase: Phase
    planned_at: datetime | None
    started_at: datetime | None
    state: str
    """``done``, ``current``, ``upcoming`` or ``skipped`` (not reached before the challenge closed)."""

    @property
    def is_current(self) -> bool:
        return self.state == "current"


def home_section(session: Session) -> tuple[str, dict[str, Any]]:
    """The home page's section: the newest public challenges and how many there are."""
    return "proposals/challenges/_home_challenges.html", {
        "challenges": queries.latest_public_challenges(session),
        "challenge_count": queries.count_public_challenges(session),
    }


def timeline_of(challenge: Challenge, schedule: dict[Phase, datetime],
                changes: Sequence[PhaseChange]) -> list[TimelineStep]:
    """The public phases in order with planned and actual dates; a closed challenge ends with "closed"."""
    started: dict[Phase, datetime] = {}
    for change in changes:  # oldest first: the latest start of a phase wins (staff may move back)
        started[change.to_phase] = change.changed_at
    planned = dict(schedule)
    if challenge.published_at is not None:
        planned.setdefault(Phase.PUBLISHED, challenge.published_at)

    current = challenge.phase
    if current is Phase.CLOSED:
        closing = [c for c in changes if c.to_phase is Phase.CLOSED]
        reached = closing[-1].from_phase if closing else Phase.PUBLISHED
    else:
        reached = current
    steps = []
    for phase in phases.ORDER[1:]:
        if current is Phase.CLOSED:
            state = "done" if phases.index(phase) <= phases.index(reached) else "skipped"
        elif phase is current:
            state = "current"
        else:
            state = "done" if phases.index(phase) < phases.index(current) else "upcoming"
        steps.append(TimelineStep(phase, planned.get(phase), started.get(phase), state))
    if current is Phase.CLOSED:
        steps.append(TimelineStep(Phase.CLOSED, None, started.get(Phase.CLOSED), "current"))
    return steps


def phase_changes_of(session: Session, challenge_id: int) -> Sequence[PhaseChange]:
    return session.exec(select(PhaseChange).where(PhaseChange.challenge_id == challenge_id)
                        .order_by(col(PhaseChange.changed_at), col(PhaseChange.id))).all()


def challenge_body_context(session: Session, challenge: Challenge) -> dict[str, Any]:
    """Everything ``proposals/_challenge_body.html`` shows, read in a fixed number of queries.

    Include the template with this dict bound to ``body``:
    ``{% with body = body %}{% include "proposals/challenges/_challenge_body.html" %}{% endwith %}``.
    The caller decides who may see the challenge (drafts: owning staff only).
    """
    assert challenge.id is not None
    rows = challenges.rows_of(session, challenge.id)
    attachments = rows.attachments
    covers = [a for a in attachments if a.kind is AttachmentKind.COVER]
    return {
        "challenge": challenge,
        "owners": rows.owners,
        "criteria": rows.criteria,
        "kpis": rows.kpis,
        "attachments": attachments,
        "cover": covers[-1] if covers else None,
        "images": [a for a in attachments if a.kind is AttachmentKind.IMAGE],
        "documents": [a for a in attachments if a.kind is AttachmentKind.DOCUMENT],
        "file_size": file_size,
        "timeline": timeline_of(challenge, rows.schedule, rows.phase_changes),
    }


# --- pages ---------------------------------------------------------------------------------------


def _list_context(request: Request, session: Session, params: Mapping[str, Any]) -> dict[str, Any]:
    options = queries.filter_options(session)
    filters, ignored = queries.parse_filters(params, options)
    page = queries.find_public_challenges(session, filters, params.get("page", 1))
    base = request.app.route_reverse("challenge-list")

    def url_for_page(number: int) -> str:
        return base + "?" + urlencode(filters.query_params(page=number))

    return {
        "page": page,
        "filters": filters,
        "ignored": ignored,
        "options": options,
        "phase_filters": list(queries.PhaseFilter),
        "categories": list(Category),
        "sort_orders": list(queries.SortOrder),
        "url_for_page": url_for_page,
    }


@get("/challenges", name="challenge-list", sync_to_thread=True)
def challenge_list(request: Request, db_session: DbSession, phase: FromQuery[str] = "",
                   category: FromQuery[str] = "", area: FromQuery[str] = "", department: FromQuery[str] = "",
                   sort: FromQuery[str] = "", page: FromQuery[str] = "1") -> Template:
    """Public challenges with filters and sort; htmx gets only the results region."""
    params = {"phase": phase, "category": category, "area": area, "department": department, "sort": sort,
              "page": page}
    context = _list_context(request, db_session, params)
    return render(request, "proposals/challenges/challenge_list.html", context, fragment="proposals/challenges/_challenge_results.html")


def _visible_or_404(request: Request, session: Session, challenge_id: int) -> Challenge:
    challenge = challenges.visible_challenge(session, principal_of(request), challenge_id)
    if challenge is None:
        raise NotFound()
    return challenge


@get("/challenges/{challenge_id:int}", name="challenge-detail", sync_to_thread=True)
def challenge_detail(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    """A challenge in full, then the sections other parts contribute (Q&A, briefings).

    The viewer's state (owner, follower, organisations) is read once with the challenge and handed to
    every section: the page stays within its budget of 10 queries whatever its rows.
    """
    actor = principal_of(request)
    found = challenges.page_challenge(db_session, actor, challenge_id)
    if found is None:
        raise NotFound()
    challenge, viewer = found
    assert challenge.id is not None
    return render(request, "proposals/challenges/challenge_detail.html", {
        "body": challenge_body_context(db_session, challenge),
        "sections": sections.detail_sections(db_session, actor, challenge, viewer),
        "follow": follows.Button(target_type="challenge", target_id=challenge.id, signed_in=actor.is_signed_in,
                                 following=viewer.following, follower_count=viewer.follower_count),
    })


@get("/challenges/{challenge_id:int}/history", name="challenge-history", sync_to_thread=True)
def challenge_history(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    """What changed after publication and when, and every phase change with its reason."""
    challenge = _visible_or_404(request, db_session, challenge_id)
    assert challenge.id is not None
    return render(request, "proposals/challenges/challenge_history.html", {
        "challenge": challenge,
        "revisions": history.history_of(db_session, challenge.id),
        "phase_changes": list(reversed(phase_changes_of(db_session, challenge.id))),
    })


# --- read API ------------------------------------------------------------------------------------


@dataclass
class DepartmentOut:
    id: int
    name: str
    """In the language of the request (``?lang=`` or Accept-Language)."""
    name_ja: str
    name_en: str


@dataclass
class ChallengeSummaryOut:
    id: int
    url: str
    title: str
    summary: str
    category: Category
    category_label: str
    area: str
    phase: Phase
    phase_label: str
    department: DepartmentOut
    """The lead department (co-owners are listed on the challenge itself)."""
    published_at: datetime | None
    proposals_close_at: datetime | None
    proposal_count: int
    question_count: int


@dataclass
class ChallengeListOut:
    items: list[ChallengeSummaryOut]
    page: PageInfo


@dataclass
class PhaseOut:
    phase: Phase
    label: str
    state: str
    """``done``, ``current``, ``upcoming`` or ``skipped``."""
    planned_start: datetime | None
    started_at: datetime | None


@dataclass
class CriterionOut:
    name: str
    description: str
    weight: int


@dataclass
class KpiOut:
    indicator: str
    baseline: str
    target: str
    unit: str


@dataclass
class AttachmentOut:
    id: int
    kind: AttachmentKind
    title: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


@dataclass
class QuestionOut:
    id: int
    visibility: QuestionVisibility
    status: QuestionStatus
    body: str
    asked_at: datetime
    asker: str | None
    """The asker's public name for public questions; always null for private ones."""
    answer: str
    answered_at: datetime | None
    pinned: bool


@dataclass
class ChallengeOut(ChallengeSummaryOut):
    owners: list[DepartmentOut]
    contact_name: str
    contact_email: str
    contact_phone: str
    background: str
    current_situation: str
    desired_outcome: str
    constraints: str
    eligibility: str
    """Markdown, like the other long texts."""
    budget_cap_yen: int | None
    support_facilities: str
    support_data: str
    support_other: str
    closed_reason: str
    revision: int
    history_url: str
    phases: list[PhaseOut]
    criteria: list[CriterionOut]
    kpis: list[KpiOut]
    attachments: list[AttachmentOut]
    questions: list[QuestionOut]


def _department_out(department: Department) -> DepartmentOut:
    assert department.id is not None
    return DepartmentOut(id=department.id, name=department.display_name(), name_ja=department.display_name("ja"),
                         name_en=department.display_name("en"))


def _summary_fields(request: Request, challenge: Challenge) -> dict[str, Any]:
    assert challenge.id is not None
    return {
        "id": challenge.id, "url": request.app.route_reverse("challenge-detail", challenge_id=challenge.id),
        "title": challenge.title, "summary": challenge.summary, "category": challenge.category,
        "category_label": challenge.category.label,
        "area": challenge.area, "phase": challenge.phase, "phase_label": challenge.phase.label,
        "department": _department_out(challenge.department), "published_at": challenge.published_at,
        "proposals_close_at": challenge.proposals_close_at, "proposal_count": challenge.proposal_count,
        "question_count": challenge.question_count,
    }


@get("/challenges", name="api-challenge-list", sync_to_thread=True, tags=["challenges"],
     summary="List public challenges")
def api_challenge_list(
    request: Request,
    db_session: DbSession,
    phase: Annotated[queries.PhaseFilter | None, Parameter(
        description="A public phase, or `active` (not ended) / `ended` (completed or closed).")] = None,
    category: Annotated[Category | None, Parameter(description="Category of the challenge.")] = None,
    area: Annotated[str | None, Parameter(description="Area, exactly as written (e.g. 高島平).",
                                          max_length=100)] = None,
    department: Annotated[int | None, Parameter(
        description="A department id; matches challenges it owns or co-owns.", ge=1, le=MAX_ROW_ID)] = None,
    sort: Annotated[queries.SortOrder, Parameter(
        description="`newest`, `deadline` (proposal deadline soonest, none last) or `proposals` (most first).")
    ] = queries.SortOrder.NEWEST,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> ChallengeListOut:
    """Public challenges (never drafts), with the same filters, sort orders and pages as `/challenges`."""
    filters = queries.ChallengeFilters(phase=phase, category=category, area=area or None,
                                       department_id=department, sort=sort)
    result = queries.find_public_challenges(db_session, filters, page, per_page)
    base = request.app.route_reverse("api-challenge-list")

    def link(number: int) -> str:
        return base + "?" + urlencode(filters.query_params(page=number, per_page=result.per_page))

    return ChallengeListOut(
        items=[ChallengeSummaryOut(**_summary_fields(request, c)) for c in result.items],
        page=PageInfo(page=result.page, per_page=result.per_page, total=result.total, pages=result.pages,
                      next=link(result.page + 1) if result.has_next else None,
                      previous=link(result.page - 1) if result.has_previous else None),
    )


@get("/challenges/{challenge_id:int}", name="api-challenge-detail", sync_to_thread=True, tags=["challenges"],
     summary="A public challenge in full")
def api_challenge_detail(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> ChallengeOut:
    """Public fields, owners, phases with planned and actual dates, criteria, KPIs, attachments and public Q&A.

    Drafts answer 404 like unknown ids. Private questions appear once answered, without their asker.
    """
    challenge = challenges.visible_challenge(db_session, Principal.anonymous(), challenge_id)
    if challenge is None:
        raise NotFound(_("This challenge does not exist or is not public."))
    body = challenge_body_context(db_session, challenge)
    questions = queries.public_questions(db_session, challenge_id)
    attachment_url = route_path(request.app, "challenge-attachment")
    return ChallengeOut(
        **_summary_fields(request, challenge),
        owners=[_department_out(d) for d in body["owners"]],
        contact_name=challenge.contact_name, contact_email=challenge.contact_email,
        contact_phone=challenge.contact_phone, background=challenge.background,
        current_situation=challenge.current_situation, desired_outcome=challenge.desired_outcome,
        constraints=challenge.constraints, eligibility=challenge.eligibility, budget_cap_yen=challenge.budget_cap_yen,
        support_facilities=challenge.support_facilities, support_data=challenge.support_data,
        support_other=challenge.support_other, closed_reason=challenge.closed_reason, revision=challenge.revision,
        history_url=request.app.route_reverse("challenge-history", challenge_id=challenge_id),
        phases=[PhaseOut(phase=s.phase, label=s.phase.label, state=s.state, planned_start=s.planned_at,
                         started_at=s.started_at) for s in body["timeline"]],
        criteria=[CriterionOut(c.name, c.description, c.weight) for c in body["criteria"]],
        kpis=[KpiOut(k.indicator, k.baseline, k.target, k.unit) for k in body["kpis"]],
        attachments=[AttachmentOut(id=a.id, kind=a.kind, title=a.title, filename=a.filename,  # type: ignore[arg-type]
                                   content_type=a.content_type, size_bytes=a.size_bytes, sha256=a.sha256,
                                   url=attachment_url(challenge_id=a.challenge_id, attachment_id=a.id))
                     for a in body["attachments"]],
        questions=[QuestionOut(id=q.id, visibility=q.visibility, status=q.status, body=q.body,  # type: ignore[arg-type]
                               asked_at=q.created_at,
                               asker=asker.public_name if asker is not None
                               and q.visibility is QuestionVisibility.PUBLIC else None,
                               answer=q.answer if q.status is QuestionStatus.ANSWERED else "",
                               answered_at=q.answered_at if q.status is QuestionStatus.ANSWERED else None,
                               pinned=q.pinned) for q, asker in questions],
    )


page_routes = Router(path="/", route_handlers=[challenge_list, challenge_detail, challenge_history],
                     include_in_schema=False)
api_routes = Router(path="/api/v1", route_handlers=[api_challenge_list, api_challenge_detail])
ROUTES = [page_routes, api_routes]
