"""Trial (実証プロジェクト) pages: the public list and page, starting a trial (from a selected proposal or
ward-run), editing, progress updates with photos, the final results; the sections on the challenge and
proposal pages ("you said, we did"); and the read API. HTTP only: the rules live in ``labs.trials``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Principal, has_any_role, principal_of, signed_in
from cocreate.errors import Invalid, NotFound
from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition
from cocreate.web.forms import Form, Multipart, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.links import route_path
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, PageInfo, clamp_page
from cocreate.web.sections import page_sections
from labs import access, trials
from labs.models import Trial, TrialStatus
from proposals import api as proposals

LIST_PAGE = "labs/trial_list.html"
DETAIL_PAGE = "labs/trial_detail.html"
FORM_PAGE = "labs/trial_form.html"
UPDATE_PAGE = "labs/trial_update_form.html"
RESULTS_PAGE = "labs/trial_results.html"
REFUSED_PAGE = "labs/trial_refused.html"
CHALLENGE_SECTION = "labs/_trial_challenge_section.html"
PROPOSAL_SECTION = "labs/_trial_proposal_section.html"
BLANK_KPI_ROWS = 2


# --- sections of the challenge and proposal pages ------------------------------------------------


def challenge_section(session: Session, actor: Principal, challenge: Any,
                      viewer: Any = None) -> tuple[str, dict[str, Any]] | None:
    """"You said, we did": the challenge's published trials, on the challenge page (None: no trial yet).
    One query: the section shows each trial's own title, status and results only."""
    assert challenge.id is not None
    found = trials.published_trials_of_challenge(session, challenge.id)
    if not found:
        return None
    return CHALLENGE_SECTION, {"challenge": challenge, "trials": found}


def proposal_section(session: Session, actor: Principal, proposal: Any) -> tuple[str, dict[str, Any]] | None:
    """The proposal's trial, or starting one from a selected proposal (None: nothing to show)."""
    assert proposal.id is not None
    trial = trials.trial_of_proposal(session, proposal.id)
    if trial is not None:
        if not trials.can_see(session, actor, trial):
            return None
        return PROPOSAL_SECTION, {"proposal": proposal, "trial": trial}
    if not proposals.is_startable(session, proposal.id):
        return None
    facts = access.on_proposal(session, actor, proposal.challenge_id, ("trial.start",))
    if not permissions.can(actor, "trial.start", facts):
        return None
    return PROPOSAL_SECTION, {"proposal": proposal, "trial": None, "facts": facts}


# --- forms ---------------------------------------------------------------------------------------


def _shown_trial(form: dict[str, Any]) -> dict[str, Any]:
    """What was sent, as the trial form shows it again (the organisations ticked as a list)."""
    ticked = form.get("organisation_ids", [])
    return {**form, "organisation_ids": ticked if isinstance(ticked, list) else [ticked]}


def _form_page(request: Request, session: Session, form: dict[str, Any], *, trial: Trial | None = None,
               errors: dict[str, str] | None = None) -> Template:
    actor = principal_of(request)
    coordinator = permissions.can(actor, "trial.assign")  # the form shows who runs the trial
    return render(request, FORM_PAGE, {
        "trial": trial, "form": form, "errors": errors or {}, "statuses": list(TrialStatus),
        "blank_rows": BLANK_KPI_ROWS,
        "departments": trials.departments_for_form(session) if coordinator else [],
        "organisations": trials.verified_organisations(session) if coordinator else [],
    })


def _refused(request: Request, message: str, *, status_code: int, proposal_id: int | None = None,
             trial_id: int | None = None) -> Template:
    return render(request, REFUSED_PAGE, {"message": message, "proposal_id": proposal_id, "trial_id": trial_id},
                  status_code=status_code)


def _trial_page(request: Request, trial_id: int | None, fragment: str = "") -> str:
    """The trial's page (at ``fragment``): where its forms come back to."""
    return request.app.route_reverse("trial-detail", trial_id=trial_id) + fragment


# --- starting a trial ----------------------------------------------------------------------------


def _not_started(failed: Invalid, form: dict[str, Any], *, request: Request, proposal_id: int,
                 **_kwargs: Any) -> Template:
    """Why no trial was started; a second attempt answers 409 with a link to the trial."""
    if isinstance(failed, trials.TrialExists):
        return _refused(request, failed.errors["trial"], status_code=409, proposal_id=proposal_id,
                        trial_id=failed.trial_id)
    return _refused(request, next(iter(failed.errors.values())), status_code=400, proposal_id=proposal_id)


@post("/proposals/{proposal_id:int}/trial", name="trial-from-proposal", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_not_started)
def trial_from_proposal(request: Request, db_session: DbSession, proposal_id: FromPath[int]) -> Template | Redirect:
    """Start the trial of a selected proposal; a second attempt answers 409 with a link to the trial."""
    trial = trials.create_from_proposal(db_session, principal_of(request), proposal_id)
    return after_post(request, request.app.route_reverse("trial-edit", trial_id=trial.id),
                      message=_("The trial has been created from the proposal. Check it, then publish it."))


coordinators_only = has_any_role(Role.COORDINATOR, Role.ADMIN)


@get("/trials/new", name="trial-new", guards=[coordinators_only], sync_to_thread=True)
def trial_new(request: Request, db_session: DbSession) -> Template:
    return _form_page(request, db_session, {"status": TrialStatus.PLANNED.value, "retention_days": "90", "kpis": [],
                                            "organisation_ids": [], "published": False})


def _create_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                  **_kwargs: Any) -> Template:
    return _form_page(request, db_session, _shown_trial(form), errors=failed.errors)


@post("/trials/new", name="trial-create", guards=[coordinators_only], sync_to_thread=True)
@again_on_invalid(_create_again, model=trials.CoordinatorTrialForm)
def trial_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    trial = trials.create(db_session, principal_of(request), trials.CoordinatorTrialForm.parse(data))
    return after_post(request, _trial_page(request, trial.id), message=_("The trial has been created."))


# --- editing -------------------------------------------------------------------------------------


@get("/trials/{trial_id:int}/edit", name="trial-edit", guards=[signed_in], sync_to_thread=True)
def trial_edit(request: Request, db_session: DbSession, trial_id: FromPath[int]) -> Template:
    trial = trials.editable_trial(db_session, principal_of(request), trial_id)
    return _form_page(request, db_session, trials.form_values(db_session, trial), trial=trial)


def _update_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, trial_id: int,
                  **_kwargs: Any) -> Template:
    trial = trials.editable_trial(db_session, principal_of(request), trial_id)
    return _form_page(request, db_session, _shown_trial(form), trial=trial, errors=failed.errors)


@post("/trials/{trial_id:int}/edit", name="trial-update", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_update_again, model=trials.TrialForm)
def trial_update(request: Request, db_session: DbSession, trial_id: FromPath[int], data: Form) -> Template | Redirect:
    actor = principal_of(request)
    trials.update(db_session, actor, trial_id, trials.form_for(actor).parse(data))
    return after_post(request, _trial_page(request, trial_id), message=_("The trial has been saved."))


# --- progress updates ----------------------------------------------------------------------------


def _update_page(request: Request, trial: Trial, form: dict[str, Any], *,
                 errors: dict[str, str] | None = None) -> Template:
    return render(request, UPDATE_PAGE, {"trial": trial, "form": form, "errors": errors or {},
                                         "slots": range(trials.MAX_PHOTOS)})


@get("/trials/{trial_id:int}/updates/new", name="trial-update-new", guards=[signed_in], sync_to_thread=True)
def update_new(request: Request, db_session: DbSession, trial_id: FromPath[int]) -> Template:
    trial = trials.editable_trial(db_session, principal_of(request), trial_id, "trial.post_update")
    return _update_page(request, trial, {"posted_on": datetime.now(WARD_TIMEZONE).date().isoformat()})


def _post_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, trial_id: int,
                **_kwargs: Any) -> Template:
    trial = trials.editable_trial(db_session, principal_of(request), trial_id, "trial.post_update")
    return _update_page(request, trial, form, errors=failed.errors)


@post("/trials/{trial_id:int}/updates/new", name="trial-update-create", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_post_again)
def update_create(request: Request, db_session: DbSession, settings: AppSettings, trial_id: FromPath[int],
                  data: Multipart) -> Template | Redirect:
    trials.add_update(db_session, settings, principal_of(request), trial_id, trials.UpdateForm.parse(data))
    return after_post(request, _trial_page(request, trial_id, "#updates"), message=_("The update has been posted."))


def _not_deleted(failed: Invalid, form: dict[str, Any], *, request: Request, trial_id: int,
                 **_kwargs: Any) -> Template:
    return _refused(request, next(iter(failed.errors.values())), status_code=400, trial_id=trial_id)


@post("/trials/{trial_id:int}/updates/{update_id:int}/delete", name="trial-update-delete", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_not_deleted)
def update_delete(request: Request, db_session: DbSession, settings: AppSettings, trial_id: FromPath[int],
                  update_id: FromPath[int]) -> Template | Redirect:
    trials.delete_update(db_session, settings, principal_of(request), trial_id, update_id)
    return after_post(request, _trial_page(request, trial_id, "#updates"), message=_("The update has been deleted."))


@get("/trials/{trial_id:int}/updates/{update_id:int}/photos/{photo_id:int}", name="trial-update-photo",
     sync_to_thread=True)
def update_photo(request: Request, db_session: DbSession, settings: AppSettings, trial_id: FromPath[int],
                 update_id: FromPath[int], photo_id: FromPath[int]) -> File:
    found = trials.photo_for_download(db_session, settings, principal_of(request), trial_id, update_id, photo_id)
    if found is None:
        raise NotFound()
    photo, trial, path = found
    return File(path=path, media_type=photo.content_type, content_disposition_type="inline", headers={
        "content-disposition": content_disposition(photo.filename),
        "x-content-type-options": "nosniff",
        "cache-control": IMMUTABLE_CACHE if trial.published else "private, no-store",
        "etag": f'"{photo.sha256}"',
    })


# --- results -------------------------------------------------------------------------------------


def _results_page(request: Request, session: Session, trial: Trial, form: dict[str, Any], *,
                  errors: dict[str, str] | None = None) -> Template:
    assert trial.id is not None
    return render(request, RESULTS_PAGE, {"trial": trial, "kpis": trials.kpis_of(session, trial.id), "form": form,
                                          "errors": errors or {}})


@get("/trials/{trial_id:int}/results", name="trial-results", guards=[signed_in], sync_to_thread=True)
def results_edit(request: Request, db_session: DbSession, trial_id: FromPath[int]) -> Template:
    trial = trials.editable_trial(db_session, principal_of(request), trial_id, "trial.record_results")
    assert trial.id is not None
    form: dict[str, Any] = {"results": trial.results}
    for kpi in trials.kpis_of(db_session, trial.id):
        form[f"kpi-{kpi.id}-result"] = kpi.result
        form[f"kpi-{kpi.id}-note"] = kpi.result_note
    return _results_page(request, db_session, trial, form)


def _results_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, trial_id: int,
                   **_kwargs: Any) -> Template:
    trial = trials.editable_trial(db_session, principal_of(request), trial_id, "trial.record_results")
    return _results_page(request, db_session, trial, form, errors=failed.errors)


@post("/trials/{trial_id:int}/results", name="trial-results-save", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_results_again)
def results_save(request: Request, db_session: DbSession, trial_id: FromPath[int], data: Form) -> Template | Redirect:
    form = trials.ResultsForm.parse(data)
    trial = trials.save_results(db_session, principal_of(request), trial_id, form)
    message = (_("The results have been published.") if trial.results_published_at is not None and form.publish
               else _("The results have been saved."))
    return after_post(request, _trial_page(request, trial_id, "#results"), message=message)


# --- public pages --------------------------------------------------------------------------------


def _status_choice(raw: str) -> TrialStatus | None:
    try:
        return TrialStatus(raw)
    except ValueError:
        return None


@get("/trials", name="trial-list", sync_to_thread=True)
def trial_list(request: Request, db_session: DbSession, status: FromQuery[str] = "",
               page: FromQuery[str] = "1") -> Template:
    """Published trials with a status filter, a page at a time."""
    chosen = _status_choice(status)
    number, _size = clamp_page(page)
    result = trials.find_public(db_session, chosen, number)
    base = request.app.route_reverse("trial-list")

    def url_for_page(n: int) -> str:
        params = {"status": chosen.value if chosen else "", "page": n if n > 1 else ""}
        query = urlencode({k: v for k, v in params.items() if v})
        return base + (f"?{query}" if query else "")

    return render(request, LIST_PAGE, {
        "page": result, "items": trials.list_items(db_session, result.items), "status": chosen,
        "statuses": list(TrialStatus), "url_for_page": url_for_page,
    })


@get("/trials/{trial_id:int}", name="trial-detail", sync_to_thread=True)
def trial_detail(request: Request, db_session: DbSession, trial_id: FromPath[int]) -> Template:
    """A trial in full: KPIs, updates, results, where it came from, then other parts' sections."""
    actor = principal_of(request)
    trial = trials.visible_trial(db_session, actor, trial_id)
    if trial is None:
        raise NotFound()
    return render(request, DETAIL_PAGE, {
        "d": trials.detail(db_session, actor, trial),
        # A trial's updates and their photos can be many: their links are built without a lookup each.
        "photo_url": route_path(request.app, "trial-update-photo"),
        "update_delete_url": route_path(request.app, "trial-update-delete"),
        "sections": page_sections("trial", db_session, actor, trial),
        "follow": follows.button(db_session, actor, "trial", trial_id),
    })


# --- read API ------------------------------------------------------------------------------------


@dataclass
class TrialOrganisationOut:
    id: int
    name: str
    lead: bool


@dataclass
class TrialSummaryOut:
    id: int
    url: str
    title: str
    summary: str
    status: TrialStatus
    status_label: str
    starts_on: date | None
    ends_on: date | None
    department: str | None
    """The owning department's name in the request's language."""
    organisations: list[TrialOrganisationOut]
    challenge_id: int | None
    proposal_id: int | None
    results_published_at: datetime | None


@dataclass
class TrialListOut:
    items: list[TrialSummaryOut]
    page: PageInfo


@dataclass
class TrialKpiOut:
    indicator: str
    unit: str
    baseline: str
    target: str
    result: str
    """Empty until the results are published."""
    result_note: str


@dataclass
class TrialPhotoOut:
    alt_text: str
    content_type: str
    url: str


@dataclass
class TrialUpdateOut:
    id: int
    posted_on: date
    title: str
    body: str
    """Markdown."""
    photos: list[TrialPhotoOut]


@dataclass
class TrialLinksOut:
    page: str
    challenge: str | None
    proposal: str | None
    api_challenge: str | None
    api_proposal: str | None


@dataclass
class TrialOut(TrialSummaryOut):
    description: str
    """Markdown."""
    results: str
    """Markdown; empty until the results are published."""
    kpis: list[TrialKpiOut]
    updates: list[TrialUpdateOut]
    links: TrialLinksOut


def _summary_out(request: Request, item: trials.ListItem) -> dict[str, Any]:
    trial = item.trial
    assert trial.id is not None
    return {
        "id": trial.id, "url": _trial_page(request, trial.id), "title": trial.title, "summary": trial.summary,
        "status": trial.status, "status_label": trial.status.label, "starts_on": trial.starts_on,
        "ends_on": trial.ends_on, "department": item.department.display_name() if item.department else None,
        "organisations": [TrialOrganisationOut(o.id, o.name, lead) for o, lead in item.organisations],  # type: ignore[arg-type]
        "challenge_id": trial.challenge_id, "proposal_id": trial.proposal_id,
        "results_published_at": trial.results_published_at,
    }


@get("/trials", name="api-trial-list", sync_to_thread=True, tags=["trials"], summary="List published trials")
def api_trial_list(
    request: Request,
    db_session: DbSession,
    status: Annotated[TrialStatus | None, Parameter(description="`planned`, `running` or `completed`.")] = None,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> TrialListOut:
    """Published trials (実証プロジェクト), running first, with their organisations and department."""
    result = trials.find_public(db_session, status, page, per_page)
    base = request.app.route_reverse("api-trial-list")

    def link(number: int) -> str:
        params = {"status": status.value if status else "", "page": number, "per_page": result.per_page}
        return base + "?" + urlencode({k: v for k, v in params.items() if v})

    return TrialListOut(
        items=[TrialSummaryOut(**_summary_out(request, item)) for item in trials.list_items(db_session, result.items)],
        page=PageInfo(page=result.page, per_page=result.per_page, total=result.total, pages=result.pages,
                      next=link(result.page + 1) if result.has_next else None,
                      previous=link(result.page - 1) if result.has_previous else None))


@get("/trials/{trial_id:int}", name="api-trial-detail", sync_to_thread=True, tags=["trials"],
     summary="A published trial in full")
def api_trial_detail(request: Request, db_session: DbSession, trial_id: FromPath[int]) -> TrialOut:
    """Public fields, KPIs (results once published), organisations, progress updates and links.

    Unpublished trials answer 404 like unknown ids.
    """
    actor = Principal.anonymous()
    trial = trials.visible_trial(db_session, actor, trial_id)
    if trial is None:
        raise NotFound(_("This trial does not exist or is not public."))
    d = trials.detail(db_session, actor, trial)
    public = d.results_public
    item = trials.ListItem(trial, d.organisations, d.department)
    link, photo_url = request.app.route_reverse, route_path(request.app, "trial-update-photo")
    return TrialOut(
        **_summary_out(request, item), description=trial.description, results=trial.results if public else "",
        kpis=[TrialKpiOut(k.indicator, k.unit, k.baseline, k.target, k.result if public else "",
                          k.result_note if public else "") for k in d.kpis],
        updates=[TrialUpdateOut(u.update.id, u.update.posted_on, u.update.title, u.update.body,  # type: ignore[arg-type]
                                [TrialPhotoOut(p.alt_text, p.content_type,
                                               photo_url(trial_id=trial_id, update_id=p.update_id, photo_id=p.id))
                                 for p in u.photos]) for u in d.updates],
        links=TrialLinksOut(
            page=link("trial-detail", trial_id=trial_id),
            challenge=link("challenge-detail", challenge_id=d.challenge.id) if d.challenge else None,
            proposal=link("proposal-detail", proposal_id=d.proposal.id) if d.proposal else None,
            api_challenge=link("api-challenge-detail", challenge_id=d.challenge.id) if d.challenge else None,
            api_proposal=link("api-proposal-detail", proposal_id=d.proposal.id) if d.proposal else None),
    )


trial_router = Router(
    path="/",
    route_handlers=[trial_list, trial_new, trial_create, trial_detail, trial_edit, trial_update, trial_from_proposal,
                    update_new, update_create, update_delete, update_photo, results_edit, results_save],
    include_in_schema=False,
)
api_router = Router(path="/api/v1", route_handlers=[api_trial_list, api_trial_detail])

ROUTES: list[Any] = [trial_router, api_router]
