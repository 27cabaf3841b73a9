"""Proposal (提案) pages: the list per challenge, each proposal's page, writing, submitting, withdrawing,
the consortium, versions and attachments; and the read API. HTTP only: the rules live in
``proposals.submissions``.

Every form works without JavaScript (POST, then 303). With htmx the filters of the list swap the
results region, and the proposal form asks for similar proposals while the title and summary are
typed; a plain "check for similar proposals" button re-renders the form with the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.permissions import Principal, principal_of, signed_in
from cocreate.errors import Forbidden, Invalid, NotFound
from cocreate.forms import Flag, FormModel, first, shown
from cocreate.i18n import gettext as _
from cocreate.moderation import services as moderation
from cocreate.notifications import follows
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition, file_size
from cocreate.web.forms import Form, Multipart, again_on_invalid, parse_id
from cocreate.web.htmx import after_post, render
from cocreate.web.links import route_path
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, PageInfo, clamp_page
from proposals import sections, submissions
from proposals.challenges import services as challenges
from proposals.challenges.public_routes import KpiOut
from proposals.challenges.services import ChallengeViewer
from proposals.models import Challenge, DecisionOutcome, Phase, Proposal, ProposalStatus
from proposals.submissions import (
    AttachmentForm,
    CoauthorForm,
    CompleteProposalForm,
    NewProposalForm,
    ProposalForm,
    SortOrder,
    StatusFilter,
)

SECTION = "proposals/submissions/_proposal_section.html"
LIST_PAGE = "proposals/submissions/proposal_list.html"
RESULTS = "proposals/submissions/_proposal_results.html"
DETAIL_PAGE = "proposals/submissions/proposal_detail.html"
FORM_PAGE = "proposals/submissions/proposal_form.html"
SIMILAR = "proposals/submissions/_proposal_similar.html"
REFUSED_PAGE = "proposals/submissions/proposal_refused.html"
VERSIONS_PAGE = "proposals/submissions/proposal_versions.html"
SEED_COOKIE = "cocreate_proposal_seed"
BLANK_KPI_ROWS = 2


def detail_section(session: Session, actor: Principal, challenge: Challenge,
                   viewer: ChallengeViewer | None = None) -> tuple[str, dict[str, Any]] | None:
    """The proposals section of the challenge page: the count, a link to the list, the "propose" button
    for members of verified organisations while accepting, and the actor's own proposals."""
    if challenge.phase is Phase.DRAFT:
        return None
    return SECTION, {
        "challenge": challenge,
        "eligibility": submissions.eligibility(session, actor, challenge, viewer),
        "mine": submissions.my_proposals(session, actor, challenge.id, viewer),  # type: ignore[arg-type]
        "signed_in": actor.is_signed_in,
    }


# --- forms ---------------------------------------------------------------------------------------


class SimilarCheck(FormModel):
    """The proposal form's "check for similar proposals" button (shows the form again, saves nothing)."""

    check_similar: Annotated[bool, Flag()] = False


def _form_of(session: Session, proposal: Proposal) -> dict[str, Any]:
    form = submissions.form_values(session, proposal)
    form["cost_estimate_yen"] = f"{proposal.cost_estimate_yen:,}" if proposal.cost_estimate_yen is not None else ""
    form["organisation_id"] = str(proposal.lead_organisation_id)
    return form


def _shown_errors(errors: dict[str, str]) -> dict[str, str]:
    """A KPI row's error is shown beside its field: not again above the table."""
    if any(name.startswith("kpis-") for name in errors):
        return {name: message for name, message in errors.items() if name != "kpis"}
    return errors


def _form_page(request: Request, session: Session, actor: Principal, challenge: Challenge, form: dict[str, Any], *,
               proposal: Proposal | None = None, errors: dict[str, str] | None = None, similar_checked: bool = False,
               status_code: int = 200) -> Template:
    assert challenge.id is not None
    similar = submissions.similar_proposals(session, request.app.state.settings, challenge.id, form.get("title", ""),
                                            form.get("summary", ""), exclude_id=proposal.id if proposal else None) \
        if similar_checked or proposal is not None else []
    return render(request, FORM_PAGE, {
        "challenge": challenge, "proposal": proposal, "form": form, "errors": _shown_errors(errors or {}),
        "organisations": submissions.proposing_organisations(session, actor) if proposal is None else [],
        "blank_rows": BLANK_KPI_ROWS, "similar": similar, "similar_checked": similar_checked,
        "challenge_kpis": challenges.kpis_of(session, challenge.id),
    }, status_code=status_code)


def _proposal_page(request: Request, proposal_id: int | None, fragment: str = "") -> str:
    """The proposal's page (at ``fragment``): where its forms come back to."""
    return request.app.route_reverse("proposal-detail", proposal_id=proposal_id) + fragment


def _refused(request: Request, challenge: Challenge, reason: str) -> Template:
    return render(request, REFUSED_PAGE, {"challenge": challenge, "reason": reason}, status_code=403)


# --- writing -------------------------------------------------------------------------------------


@get("/challenges/{challenge_id:int}/proposals/new", name="proposal-new", guards=[signed_in], sync_to_thread=True)
def proposal_new(request: Request, db_session: DbSession, challenge_id: FromPath[int]) -> Template:
    actor = principal_of(request)
    challenge = submissions.load_challenge(db_session, actor, challenge_id)
    eligible = submissions.eligibility(db_session, actor, challenge)
    if not eligible:
        return _refused(request, challenge, eligible.reason)
    form = {"organisation_id": str(eligible.organisations[0].id), "kpis": []}
    return _form_page(request, db_session, actor, challenge, form)


def _create_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  challenge_id: int, **_kwargs: Any) -> Template:
    actor = principal_of(request)
    challenge = submissions.load_challenge(db_session, actor, challenge_id)
    return _form_page(request, db_session, actor, challenge, form, errors=failed.errors)


@post("/challenges/{challenge_id:int}/proposals/new", name="proposal-create", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_create_again, model=NewProposalForm)
def proposal_create(request: Request, db_session: DbSession, challenge_id: FromPath[int],
                    data: Form) -> Template | Redirect:
    actor = principal_of(request)
    challenge = submissions.load_challenge(db_session, actor, challenge_id)
    eligible = submissions.eligibility(db_session, actor, challenge)
    if not eligible:
        return _refused(request, challenge, eligible.reason)
    if SimilarCheck.parse(data).check_similar:
        return _form_page(request, db_session, actor, challenge, shown(data, NewProposalForm), similar_checked=True)
    form = NewProposalForm.parse(data)
    assert form.organisation_id is not None
    try:
        proposal = submissions.create_draft(db_session, actor, challenge_id, form.organisation_id, form)
    except Forbidden as refused:
        return _refused(request, challenge, str(refused.detail))
    return after_post(request, _proposal_page(request, proposal.id),
                      message=_("Your draft has been saved. Only your organisation can see it until you submit it."))


@get("/challenges/{challenge_id:int}/proposals/similar", name="proposal-similar", sync_to_thread=True)
def proposal_similar(request: Request, db_session: DbSession, settings: AppSettings, challenge_id: FromPath[int],
                     title: FromQuery[str] = "", summary: FromQuery[str] = "",
                     exclude: FromQuery[str] = "") -> Template:
    """The similar-proposals box (a fragment, for htmx while typing)."""
    challenge = submissions.load_challenge(db_session, principal_of(request), challenge_id)
    assert challenge.id is not None
    similar = submissions.similar_proposals(db_session, settings, challenge.id, title[:submissions.TITLE_MAX],
                                            summary[:submissions.SUMMARY_MAX],
                                            exclude_id=parse_id(exclude))
    return render(request, SIMILAR, {"similar": similar, "similar_checked": True, "challenge": challenge})


def _editable(request: Request, session: Session, proposal_id: int) -> tuple[Proposal, Challenge]:
    actor = principal_of(request)
    proposal, challenge, on = submissions.load(session, actor, proposal_id)
    permissions.require(actor, "proposal.manage", on)
    return proposal, challenge


@get("/proposals/{proposal_id:int}/edit", name="proposal-edit", guards=[signed_in], sync_to_thread=True)
def proposal_edit(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> Template:
    proposal, challenge = _editable(request, db_session, proposal_id)
    return _form_page(request, db_session, principal_of(request), challenge, _form_of(db_session, proposal),
                      proposal=proposal)


def _update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  proposal_id: int, **_kwargs: Any) -> Template:
    proposal, challenge = _editable(request, db_session, proposal_id)
    return _form_page(request, db_session, principal_of(request), challenge, form, proposal=proposal,
                      errors=failed.errors)


@post("/proposals/{proposal_id:int}/edit", name="proposal-update", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_update_again, model=ProposalForm)
def proposal_update(request: Request, db_session: DbSession, proposal_id: FromPath[int],
                    data: Form) -> Template | Redirect:
    actor = principal_of(request)
    proposal, challenge = _editable(request, db_session, proposal_id)
    if SimilarCheck.parse(data).check_similar:
        return _form_page(request, db_session, actor, challenge, shown(data, ProposalForm), proposal=proposal,
                          similar_checked=True)
    submitted = proposal.status is ProposalStatus.SUBMITTED
    form = (CompleteProposalForm if submitted else ProposalForm).parse(data)
    try:
        proposal = submissions.update(db_session, actor, proposal_id, form)
    except Forbidden as refused:
        return _refused(request, challenge, str(refused.detail))
    message = (_("Your changes have been saved as version %(number)s.", number=proposal.version) if submitted
               else _("Your draft has been saved."))
    return after_post(request, _proposal_page(request, proposal_id), message=message)


def detail_page(request: Request, session: Session, proposal_id: int, *, errors: dict[str, str] | None = None,
                status_code: int = 200) -> Template:
    actor = principal_of(request)
    detail = submissions.detail(session, actor, proposal_id)
    extra = (sections.proposal_sections(session, actor, detail.proposal)
             if detail.proposal.status is not ProposalStatus.DRAFT else [])
    return render(request, DETAIL_PAGE, {"d": detail, "sections": extra, "errors": errors or {},
                                         "file_size": file_size,
                                         "hidden_notice": moderation.hidden_notice(detail.proposal),
                                         "follow": _follow_button(session, actor, detail)},
                  status_code=status_code)


def _follow_button(session: Session, actor: Principal, detail: Any) -> follows.Button | None:
    """Its follow button; none on a proposal hidden by a moderator, except for those who see it in full."""
    if detail.proposal.hidden_at is not None and not permissions.can(actor, "proposal.read_confidential", detail.on):
        return None
    return follows.button(session, actor, "proposal", detail.proposal.id)


def _detail_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  proposal_id: int, **_kwargs: Any) -> Template:
    """The proposal's page with the errors of one of its forms (submit, withdraw, consortium, files)."""
    return detail_page(request, db_session, proposal_id, errors=failed.errors)


@post("/proposals/{proposal_id:int}/submit", name="proposal-submit", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_detail_again)
def proposal_submit(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> Template | Redirect:
    submissions.submit(db_session, principal_of(request), proposal_id)
    return after_post(request, _proposal_page(request, proposal_id),
                      message=_("Your proposal has been submitted. You can still change it until proposals close."))


@post("/proposals/{proposal_id:int}/withdraw", name="proposal-withdraw", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_detail_again)
def proposal_withdraw(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> Template | Redirect:
    submissions.withdraw(db_session, principal_of(request), proposal_id)
    return after_post(request, _proposal_page(request, proposal_id), message=_("Your proposal has been withdrawn."))


@post("/proposals/{proposal_id:int}/coauthors", name="proposal-coauthors", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_detail_again)
def proposal_coauthors(request: Request, db_session: DbSession, proposal_id: FromPath[int],
                       data: Form) -> Template | Redirect:
    message = submissions.change_coauthors(db_session, principal_of(request), proposal_id, CoauthorForm.parse(data))
    return after_post(request, _proposal_page(request, proposal_id, "#consortium"), message=message)


# --- reading -------------------------------------------------------------------------------------


@get("/proposals/{proposal_id:int}", name="proposal-detail", sync_to_thread=True)
def proposal_detail(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> Template:
    return detail_page(request, db_session, proposal_id)


def _choice(enum: Any, raw: str, default: Any) -> Any:
    try:
        return enum(raw)
    except ValueError:
        return default


@get("/challenges/{challenge_id:int}/proposals", name="proposal-list", sync_to_thread=True)
def proposal_list(request: Request, db_session: DbSession, challenge_id: FromPath[int], status: FromQuery[str] = "",
                  sort: FromQuery[str] = "", page: FromQuery[str] = "1") -> Template:
    """A challenge's public proposals with a status filter and sort; htmx gets the results region only.

    "Random" keeps one shuffle per visitor (a seed in a cookie), so paging neither repeats nor skips.
    """
    challenge = submissions.load_challenge(db_session, principal_of(request), challenge_id)
    status_filter = _choice(StatusFilter, status, StatusFilter.ALL)
    order = _choice(SortOrder, sort, SortOrder.NEWEST)
    seed = submissions.parse_seed(request.cookies.get(SEED_COOKIE))
    new_seed = seed is None and order is SortOrder.RANDOM
    if seed is None:
        seed = submissions.new_seed()
    number, _size = clamp_page(page)
    result = submissions.find_public(db_session, challenge, status=status_filter, sort=order, seed=seed, page=number)
    base = request.app.route_reverse("proposal-list", challenge_id=challenge_id)

    def url_for_page(n: int) -> str:
        params = {"status": status_filter.value, "sort": order.value if order is not SortOrder.NEWEST else "",
                  "page": n if n > 1 else ""}
        query = urlencode({k: v for k, v in params.items() if v})
        return base + (f"?{query}" if query else "")

    response = render(request, LIST_PAGE, {
        "challenge": challenge, "page": result, "status": status_filter, "sort": order,
        "statuses": list(StatusFilter), "sort_orders": list(SortOrder), "url_for_page": url_for_page,
        "decisions_published": challenge.decisions_published_at is not None,
    }, fragment=RESULTS)
    if new_seed:
        response.set_cookie(key=SEED_COOKIE, value=str(seed), max_age=7 * 24 * 3600, httponly=True,
                            samesite="lax", path="/")
    return response


@get("/proposals/{proposal_id:int}/versions", name="proposal-versions", guards=[signed_in], sync_to_thread=True)
def proposal_versions(request: Request, db_session: DbSession, proposal_id: FromPath[int],
                      older: FromQuery[str] = "", newer: FromQuery[str] = "") -> Template:
    """Every submitted version; two of them compared (by default the latest with the one before)."""
    proposal, challenge, rows = submissions.versions(db_session, principal_of(request), proposal_id)
    by_number = {row.number: row for row in rows}
    newer_row = by_number.get(submissions.parse_seed(newer) or 0) or (rows[0] if rows else None)
    older_row = by_number.get(submissions.parse_seed(older) or 0)
    if older_row is None and newer_row is not None:
        older_row = by_number.get(newer_row.number - 1)
    changes = submissions.diff(older_row, newer_row) if older_row and newer_row else []
    return render(request, VERSIONS_PAGE, {"proposal": proposal, "challenge": challenge, "versions": rows,
                                           "older": older_row, "newer": newer_row, "changes": changes})


# --- attachments ---------------------------------------------------------------------------------


def _upload(data: dict[str, Any]) -> UploadFile | None:
    """The file sent in the ``file`` field (the first, if several were)."""
    upload = first(data.get("file"))
    return upload if isinstance(upload, UploadFile) else None


@post("/proposals/{proposal_id:int}/attachments", name="proposal-attachment-add", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_detail_again)
def attachment_add(request: Request, db_session: DbSession, settings: AppSettings, proposal_id: FromPath[int],
                   data: Multipart) -> Template | Redirect:
    upload = _upload(data)
    attachment = submissions.add_attachment(
        db_session, settings, principal_of(request), proposal_id, AttachmentForm.parse(data),
        source=upload.file if upload else None, filename=upload.filename if upload else "")
    return after_post(request, _proposal_page(request, proposal_id, "#attachments"),
                      message=_("“%(name)s” was attached.", name=attachment.filename))


@post("/proposals/{proposal_id:int}/attachments/{file_id:int}/delete", name="proposal-attachment-delete",
      guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_detail_again)
def attachment_delete(request: Request, db_session: DbSession, settings: AppSettings, proposal_id: FromPath[int],
                      file_id: FromPath[int]) -> Template | Redirect:
    submissions.delete_attachment(db_session, settings, principal_of(request), proposal_id, file_id)
    return after_post(request, _proposal_page(request, proposal_id), message=_("The file was deleted."))


@get("/proposals/{proposal_id:int}/attachments/{file_id:int}", name="proposal-attachment",
     sync_to_thread=True)
def attachment_download(request: Request, db_session: DbSession, settings: AppSettings, proposal_id: FromPath[int],
                        file_id: FromPath[int]) -> File:
    found = submissions.for_download(db_session, settings, principal_of(request), proposal_id, file_id)
    if found is None:
        raise NotFound()
    attachment, path, public = found
    return File(path=path, media_type=attachment.content_type, content_disposition_type="inline", headers={
        "content-disposition": content_disposition(attachment.filename),
        "x-content-type-options": "nosniff",
        "cache-control": IMMUTABLE_CACHE if public else "private, no-store",
        "etag": f'"{attachment.sha256}"',
    })


# --- read API ------------------------------------------------------------------------------------


@dataclass
class OrganisationOut:
    id: int
    name: str
    verified: bool
    lead: bool


@dataclass
class ProposalSummaryOut:
    id: int
    url: str
    challenge_id: int
    status: Literal["submitted", "withdrawn", "selected", "not_selected", "on_hold"]
    """Submitted or withdrawn; once the challenge's decisions are published, the decision."""
    title: str
    summary: str
    """Empty for withdrawn and hidden proposals."""
    organisations: list[OrganisationOut]
    submitted_at: datetime | None
    withdrawn_at: datetime | None
    vote_count: int
    comment_count: int
    hidden: bool
    hidden_reason: str
    decision: DecisionOutcome | None
    """Null until the challenge's decisions are published."""


@dataclass
class ProposalListOut:
    items: list[ProposalSummaryOut]
    page: PageInfo


@dataclass
class AttachmentOut:
    id: int
    title: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    url: str


@dataclass
class ProposalOut(ProposalSummaryOut):
    description: str
    """Markdown; like every text below, empty for withdrawn and hidden proposals."""
    team: str
    cost_estimate_yen: int | None
    schedule: str
    test_field_needs: str
    kpis: list[KpiOut]
    attachments: list[AttachmentOut]
    version: int
    decision_rationale: str


def _summary_out(request: Request, proposal: Proposal, organisations: list[tuple[Any, bool]],
                 decision_public: bool) -> dict[str, Any]:
    assert proposal.id is not None
    shows = submissions.shows_public_content(proposal)
    return {
        "id": proposal.id, "url": _proposal_page(request, proposal.id), "challenge_id": proposal.challenge_id,
        "status": proposal.decision.value if decision_public and proposal.decision else proposal.status.value,
        "title": proposal.title, "summary": proposal.summary if shows else "",
        "organisations": [OrganisationOut(o.id, o.name, o.is_verified, lead) for o, lead in organisations],
        "submitted_at": proposal.submitted_at, "withdrawn_at": proposal.withdrawn_at,
        "vote_count": proposal.vote_count, "comment_count": proposal.comment_count,
        "hidden": proposal.hidden_at is not None,
        "hidden_reason": proposal.hidden_reason if proposal.hidden_at is not None else "",
        "decision": proposal.decision if decision_public else None,
    }


@get("/challenges/{challenge_id:int}/proposals", name="api-proposal-list", sync_to_thread=True, tags=["proposals"],
     summary="A challenge's public proposals")
def api_proposal_list(
    request: Request, db_session: DbSession, challenge_id: FromPath[int],
    status: Annotated[StatusFilter, Parameter(
        description="`submitted`, `withdrawn`, `selected` or `not_selected` (decisions once published); "
                    "empty for all.")] = StatusFilter.ALL,
    sort: Annotated[SortOrder, Parameter(description="`newest`, `votes`, `comments` or `random` (with `seed`).")
                    ] = SortOrder.NEWEST,
    seed: Annotated[int, Parameter(ge=1, le=submissions.SEED_MAX, description="Seed of the random order.")] = 1,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> ProposalListOut:
    """Submitted and withdrawn proposals (never drafts), public fields only; never the confidential part."""
    challenge = submissions.load_challenge(db_session, Principal.anonymous(), challenge_id)
    result = submissions.find_public(db_session, challenge, status=status, sort=sort, seed=seed, page=page,
                                     per_page=per_page)
    base = request.app.route_reverse("api-proposal-list", challenge_id=challenge_id)

    def link(number: int) -> str:
        params = {"status": status.value, "sort": sort.value, "page": number, "per_page": result.per_page}
        if sort is SortOrder.RANDOM:
            params["seed"] = seed
        return base + "?" + urlencode({k: v for k, v in params.items() if v})

    items = [ProposalSummaryOut(**_summary_out(request, item.proposal, [(o, o.id == item.proposal.lead_organisation_id)
                                                               for o in item.organisations], item.decision_public))
             for item in result.items]
    return ProposalListOut(items=items, page=PageInfo(
        page=result.page, per_page=result.per_page, total=result.total, pages=result.pages,
        next=link(result.page + 1) if result.has_next else None,
        previous=link(result.page - 1) if result.has_previous else None))


@get("/proposals/{proposal_id:int}", name="api-proposal-detail", sync_to_thread=True, tags=["proposals"],
     summary="A public proposal")
def api_proposal_detail(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> ProposalOut:
    """The public part of a submitted or withdrawn proposal (drafts answer 404); never the confidential part."""
    try:
        detail = submissions.detail(db_session, Principal.anonymous(), proposal_id)
    except NotFound:
        raise NotFound(_("This proposal does not exist or is not public.")) from None
    proposal = detail.proposal
    shows = detail.shows_content
    attachment_url = route_path(request.app, "proposal-attachment")
    return ProposalOut(
        **_summary_out(request, proposal, [(o, row.is_lead) for row, o in detail.authors], detail.decision_public),
        description=proposal.description if shows else "", team=proposal.team if shows else "",
        cost_estimate_yen=proposal.cost_estimate_yen if shows else None,
        schedule=proposal.schedule if shows else "", test_field_needs=proposal.test_field_needs if shows else "",
        kpis=[KpiOut(k.indicator, k.baseline, k.target, k.unit) for k in detail.kpis],
        attachments=[AttachmentOut(id=a.id, title=a.title, filename=a.filename, content_type=a.content_type,  # type: ignore[arg-type]
                                   size_bytes=a.size_bytes, sha256=a.sha256,
                                   url=attachment_url(proposal_id=a.proposal_id, file_id=a.id))
                     for a in detail.attachments if not a.confidential],
        version=proposal.version,
        decision_rationale=proposal.decision_rationale if detail.decision_public else "",
    )


proposal_router = Router(
    path="/",
    route_handlers=[proposal_list, proposal_new, proposal_create, proposal_similar, proposal_detail, proposal_edit,
                    proposal_update, proposal_submit, proposal_withdraw, proposal_coauthors, proposal_versions,
                    attachment_add, attachment_delete, attachment_download],
    include_in_schema=False,
)
api_router = Router(path="/api/v1", route_handlers=[api_proposal_list, api_proposal_detail])

ROUTES: list[Any] = [proposal_router, api_router]
