"""Pages of the opinion analysis: the staff's runs (start, progress, review, publish) and the public
"what we heard" page of a published run. Every form works without JavaScript (POST, then 303); the status
of a running analysis refreshes itself with htmx (polling), and has a reload link without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.analysis import services
from cocreate.analysis.sources import all_sources
from cocreate.errors import Forbidden, Invalid
from cocreate.forms import Flag, FormModel, Line, RowId
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, again_on_invalid
from cocreate.web.htmx import after_post, render
from cocreate.web.pagination import clamp_page

HOME = "analysis/home.html"
RUN = "analysis/run.html"
STATUS = "analysis/_status.html"
HEARD = "analysis/heard.html"


class StartForm(FormModel):
    source: Annotated[str, Line(30, required=lazy_gettext("Choose what to analyse."))] = ""
    subject_id: Annotated[int | None, RowId()] = None


class PublishForm(FormModel):
    published: Annotated[bool, Flag()] = False


def _home(request: Request, db_session: Session, *, errors: dict[str, str] | None = None,
          form: dict[str, Any] | None = None, page: int = 1, status_code: int = 200) -> Template:
    runs, more = services.my_runs(db_session, principal_of(request), page)
    period_sources = [source for source in all_sources() if source.by_period]
    return render(request, HOME, {"runs": runs, "more": more, "page": page, "period_sources": period_sources,
                                  "errors": errors or {}, "form": form or {}}, status_code=status_code)


@get("/staff/analysis", name="analysis-home", guards=[signed_in], sync_to_thread=True)
def home(request: Request, db_session: DbSession, page: FromQuery[str] = "1") -> Template:
    """The runs one started, and the form to analyse the voices of a period."""
    if not principal_of(request).is_staff:
        raise Forbidden()
    number, _size = clamp_page(page)
    return _home(request, db_session, page=number)


def _start_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                 **_kwargs: Any) -> Template:
    return _home(request, db_session, errors=failed.errors, form=form)


@post("/staff/analysis", name="analysis-start", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_start_again)
def start(request: Request, db_session: DbSession, data: Form) -> Redirect:
    if not principal_of(request).is_staff:  # before reading the form: others get no form errors
        raise Forbidden()
    form = StartForm.parse(data)
    run = services.start(db_session, principal_of(request), form.source, form.subject_id,
                         services.PeriodForm.parse(data))
    return after_post(request, request.app.route_reverse("analysis-run", run_id=run.id),  # type: ignore[return-value]
                      message=_("The analysis has started. This page shows its progress."))


def _run_page(request: Request, db_session: Session, run_id: int, *, errors: dict[str, str] | None = None,
              form: dict[str, Any] | None = None, status_code: int = 200) -> Template:
    run = services.view(db_session, principal_of(request), run_id)
    return render(request, RUN, {"v": run, "errors": errors or {}, "form": form or {}}, fragment=STATUS,
                  status_code=status_code)


@get("/staff/analysis/{run_id:int}", name="analysis-run", guards=[signed_in], sync_to_thread=True)
def run_page(request: Request, db_session: DbSession, run_id: FromPath[int]) -> Template:
    """A run's progress, then its topics to review; for htmx (the polling), the status part only."""
    return _run_page(request, db_session, run_id)


def _review_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session, run_id: int,
                  **_kwargs: Any) -> Template:
    return _run_page(request, db_session, run_id, errors=failed.errors, form=form)


def _back(request: Request, run_id: int, message: str, anchor: str = "") -> Redirect:
    return after_post(request, request.app.route_reverse("analysis-run", run_id=run_id) + anchor,  # type: ignore[return-value]
                      message=message)


@post("/staff/analysis/{run_id:int}/topics/{topic_id:int}", name="analysis-topic-rename", guards=[signed_in],
      sync_to_thread=True)
@again_on_invalid(_review_again)
def rename(request: Request, db_session: DbSession, run_id: FromPath[int], topic_id: FromPath[int],
           data: Form) -> Redirect:
    try:  # each topic's field is named after it: label-{topic_id}
        form = services.RenameForm.parse({"label": data.get(f"label-{topic_id}", "")})
        topic = services.rename(db_session, principal_of(request), run_id, topic_id, form)
    except Invalid as failed:  # the error goes under this topic's own field
        raise Invalid({f"label-{topic_id}": message for message in failed.errors.values()}) from None
    return _back(request, run_id, _("The topic has been renamed."), f"#topic-{topic.id}")


@post("/staff/analysis/{run_id:int}/merge", name="analysis-merge", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_review_again)
def merge(request: Request, db_session: DbSession, run_id: FromPath[int], data: Form) -> Redirect:
    topic = services.merge(db_session, principal_of(request), run_id, services.MergeForm.parse(data))
    return _back(request, run_id, _("The topics have been merged."), f"#topic-{topic.id}")


@post("/staff/analysis/{run_id:int}/publish", name="analysis-publish", guards=[signed_in], sync_to_thread=True)
def publish(request: Request, db_session: DbSession, run_id: FromPath[int], data: Form) -> Redirect:
    wanted = PublishForm.parse(data).published
    services.publish(db_session, principal_of(request), run_id, wanted)
    return _back(request, run_id, _("The page “What we heard” is now public.") if wanted
                 else _("The page “What we heard” is no longer public."))


@get("/heard/{run_id:int}", name="analysis-heard", sync_to_thread=True)
def heard(request: Request, db_session: DbSession, run_id: FromPath[int]) -> Template:
    """The public "what we heard" page of a published run (unpublished runs: 404, except to their reviewers)."""
    return render(request, HEARD, {"v": services.view(db_session, principal_of(request), run_id, "analysis.view")})


ROUTES = [Router(path="/", route_handlers=[home, start, run_page, rename, merge, publish, heard],
                 include_in_schema=False)]
