"""The support desk's pages (/desk): record a resident's voice or comment, a workshop's opinions as many rows
or a CSV file (with a preview of every row and its errors, then a confirmation), and the CSV templates.
HTTP only: the rules live in :mod:`proposals.desk.services`. Every form works without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.response import Redirect, Template
from sqlmodel import Session

from cocreate.accounts.permissions import Principal, principal_of
from cocreate.areas import Area
from cocreate.errors import Invalid
from cocreate.forms import Choice, Flag, FormModel, Problems, RowId, as_text, uploaded
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from cocreate.web.dependencies import DbSession
from cocreate.web.forms import Form, Multipart, again_on_invalid
from cocreate.web.htmx import after_post, render
from proposals.desk import bulk, services
from proposals.desk.bulk import COMMENTS, VOICES
from proposals.models import Category, VoiceChannel
from proposals.voices import assisted

HOME = "proposals/desk/desk.html"
VOICE_FORM = "proposals/desk/voice_form.html"
COMMENT_FORM = "proposals/desk/comment_form.html"
BULK = "proposals/desk/bulk.html"
PREVIEW = "proposals/desk/preview.html"
CHANNEL_NAMES = {
    VoiceChannel.PAPER: lazy_gettext("Paper form"),
    VoiceChannel.WORKSHOP: lazy_gettext("Workshop"),
    VoiceChannel.PHONE: lazy_gettext("Phone call"),
}
CHOOSE_CHANNEL = lazy_gettext("Choose how the opinion reached the ward.")


class EntryForm(FormModel):
    """What every desk form sends besides its rows: the channel, the challenge (comments) and the consent."""

    channel: Annotated[VoiceChannel | None, Choice(VoiceChannel, CHOOSE_CHANNEL, required=False)] = None
    challenge_id: Annotated[int | None, RowId(lazy_gettext("Choose the challenge the opinions are about."))] = None
    consent: Annotated[bool, Flag()] = False


def _options(db_session: Session, actor: Principal, *, challenges: bool) -> dict[str, Any]:
    """The choices of the desk's forms (the challenges that take comments only where they are chosen)."""
    options: dict[str, Any] = {
        "channel_options": [("", _("Choose…"))] + [(c.value, str(label)) for c, label in CHANNEL_NAMES.items()],
        "category_options": [("", _("Choose…"))] + [(c.value, c.label) for c in Category],
        "area_options": [("", _("Not specified"))] + [(a.value, a.label) for a in Area],
        "challenge_options": [("", _("Choose…"))],
    }
    if challenges:
        options["challenge_options"] += [(str(i), title) for i, title
                                         in services.challenges_taking_comments(db_session, actor)]
    return options


def _home_path(request: Request) -> str:
    return request.app.route_reverse("desk-home")


@get("/desk", name="desk-home", sync_to_thread=True)
def home(request: Request, db_session: DbSession) -> Template:
    actor = principal_of(request)
    return render(request, HOME, {"entries": services.recent(db_session, actor)})


# --- one at a time -------------------------------------------------------------------------------


def _voice_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str],
                status_code: int = 200) -> Template:
    actor = principal_of(request)
    services.require_desk(actor)
    return render(request, VOICE_FORM, {"form": form, "errors": errors,
                                        **_options(db_session, actor, challenges=False)},
                  status_code=status_code)


@get("/desk/voices/new", name="desk-voice-new", sync_to_thread=True)
def voice_new(request: Request, db_session: DbSession) -> Template:
    return _voice_page(request, db_session, {"channel": VoiceChannel.PAPER.value}, {})


def _voice_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                 **_kwargs: Any) -> Template:
    return _voice_page(request, db_session, form, failed.errors)


@post("/desk/voices/new", name="desk-voice-create", sync_to_thread=True)
@again_on_invalid(_voice_again)
def voice_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    actor = principal_of(request)
    services.require_desk(actor)
    entry, row = _parse_both(EntryForm, assisted.AssistedVoiceForm, data)
    services.enter_voices(db_session, actor, [row], entry.channel, consented=entry.consent)
    return after_post(request, _home_path(request), message=_("The resident's voice was recorded."))


def _parse_both(first: type[FormModel], second: type[FormModel], data: dict[str, Any]) -> tuple[Any, Any]:
    """Both forms read, and every error of both shown at once."""
    errors: dict[str, str] = {}
    parsed = []
    for model in (first, second):
        try:
            parsed.append(model.parse(data))
        except Invalid as failed:
            errors.update(failed.errors)
    if errors:
        raise Invalid(errors)
    entry = parsed[0]
    if entry.channel is None:
        raise Invalid({"channel": str(CHOOSE_CHANNEL)})
    if not entry.consent:
        raise Invalid({"consent": _("Confirm that the resident agreed to the publication of their opinion.")})
    return parsed[0], parsed[1]


def _comment_page(request: Request, db_session: Session, form: dict[str, Any], errors: dict[str, str],
                  status_code: int = 200) -> Template:
    actor = principal_of(request)
    services.require_desk(actor)
    return render(request, COMMENT_FORM, {"form": form, "errors": errors,
                                          **_options(db_session, actor, challenges=True)},
                  status_code=status_code)


@get("/desk/comments/new", name="desk-comment-new", sync_to_thread=True)
def comment_new(request: Request, db_session: DbSession) -> Template:
    challenge = as_text(request.query_params.get("challenge"))[:20]
    return _comment_page(request, db_session, {"channel": VoiceChannel.PAPER.value, "challenge_id": challenge}, {})


def _comment_again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
                   **_kwargs: Any) -> Template:
    return _comment_page(request, db_session, form, failed.errors)


@post("/desk/comments/new", name="desk-comment-create", sync_to_thread=True)
@again_on_invalid(_comment_again)
def comment_create(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    actor = principal_of(request)
    services.require_desk(actor)
    entry, row = _parse_both(EntryForm, bulk.CommentRow, data)
    services.enter_comments(db_session, actor, entry.challenge_id, [row], entry.channel, consented=entry.consent)
    return after_post(request, _home_path(request), message=_("The resident's opinion was recorded."))


# --- many at once --------------------------------------------------------------------------------


def _bulk_page(request: Request, db_session: Session, kind: str, *, form: dict[str, Any] | None = None,
               errors: dict[str, str] | None = None, rows: list[dict[str, str]] | None = None,
               status_code: int = 200) -> Template:
    actor = principal_of(request)
    services.require_desk(actor)
    blank = {part: "" for part in bulk.fields(kind)}
    shown_rows = list(rows or [])
    shown_rows += [dict(blank) for _ in range(max(0, bulk.BLANK_ROWS - len(shown_rows)))]
    return render(request, BULK, {
        "kind": kind, "form": form or {"channel": VoiceChannel.WORKSHOP.value}, "errors": errors or {},
        "rows": shown_rows, "columns": bulk.COLUMNS[kind], "max_rows": bulk.MAX_ROWS,
        "max_kb": bulk.MAX_FILE_BYTES // 1024, **_options(db_session, actor, challenges=kind == COMMENTS),
    }, status_code=status_code)


@get("/desk/bulk/voices", name="desk-bulk-voices", sync_to_thread=True)
def bulk_voices(request: Request, db_session: DbSession) -> Template:
    return _bulk_page(request, db_session, VOICES)


@get("/desk/bulk/comments", name="desk-bulk-comments", sync_to_thread=True)
def bulk_comments(request: Request, db_session: DbSession) -> Template:
    challenge = as_text(request.query_params.get("challenge"))[:20]
    return _bulk_page(request, db_session, COMMENTS, form={"channel": VoiceChannel.WORKSHOP.value,
                                                           "challenge_id": challenge})


def _settings(data: dict[str, Any]) -> dict[str, str]:
    return {"channel": as_text(data.get("channel"))[:20], "challenge_id": as_text(data.get("challenge_id"))[:20]}


def _preview(request: Request, db_session: Session, kind: str, batch: bulk.Batch, settings: dict[str, str],
             errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    actor = principal_of(request)
    services.require_desk(actor)
    options = _options(db_session, actor, challenges=kind == COMMENTS)
    return render(request, PREVIEW, {
        "kind": kind, "batch": batch, "form": settings, "errors": errors or {}, "parts": bulk.fields(kind),
        "columns": bulk.COLUMNS[kind], **options,
        "column_names": {part: english for part, english, _ja in bulk.COLUMNS[kind]},
        "channel_label": dict(options["channel_options"]).get(settings["channel"], ""),
        "challenge_label": dict(options["challenge_options"]).get(settings["challenge_id"], ""),
    }, status_code=status_code)


def _check_settings(kind: str, data: dict[str, Any]) -> EntryForm:
    entry = EntryForm.parse(data)
    problems: dict[str, str] = {}
    if entry.channel is None or entry.channel is VoiceChannel.ONLINE:
        problems["channel"] = str(CHOOSE_CHANNEL)
    if kind == COMMENTS and entry.challenge_id is None:
        problems["challenge_id"] = _("Choose the challenge the opinions are about.")
    if problems:
        raise Invalid(problems)
    return entry


def _bulk_again(kind: str) -> Any:
    def again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
              data: dict[str, Any], **_kwargs: Any) -> Template:
        try:
            rows = [values for _number, values in bulk.posted_rows(kind, data)][: bulk.MAX_ROWS]
        except Invalid:
            rows = []
        return _bulk_page(request, db_session, kind, form=_settings(data), errors=failed.errors, rows=rows)
    return again


def _bulk_posted(request: Request, db_session: Session, kind: str, data: dict[str, Any]) -> Template:
    """The bulk form's three buttons: "more rows" shows it again with more empty rows; "check the rows" and
    "check the file" show the preview of every row filled in, or of every row of the CSV file."""
    services.require_desk(principal_of(request))
    settings = _settings(data)
    action = as_text(data.get("action"))
    values = bulk.posted_rows(kind, data)
    if action == "more":
        rows = [row for _number, row in values if any(v.strip() for v in row.values())]
        blank = max(len(values), bulk.BLANK_ROWS) + bulk.MORE_ROWS - len(rows)
        shown = rows + [{part: "" for part in bulk.fields(kind)} for _ in range(blank)]
        return _bulk_page(request, db_session, kind, form=settings, rows=shown[: bulk.MAX_ROWS])
    problems: dict[str, str] = {}
    try:
        _check_settings(kind, data)
    except Invalid as failed:
        problems.update(failed.errors)
    if action == "csv":
        upload = uploaded(data.get("file"))
        if upload is None:
            problems["file"] = _("Choose the CSV file to import.")
        Problems(problems).raise_any()
        assert upload is not None
        batch = bulk.read_csv(kind, upload.file.read(bulk.MAX_FILE_BYTES + 1))
    else:
        Problems(problems).raise_any()
        batch = bulk.check(kind, [(index + 1, row) for index, (_number, row) in enumerate(values)])
        if not batch.rows:
            raise Invalid({"rows": _("Enter at least one opinion.")})
    return _preview(request, db_session, kind, batch, settings)


@post("/desk/bulk/voices", name="desk-bulk-voices-check", sync_to_thread=True)
@again_on_invalid(_bulk_again(VOICES))
def bulk_voices_check(request: Request, db_session: DbSession, data: Multipart) -> Template:
    return _bulk_posted(request, db_session, VOICES, data)


@post("/desk/bulk/comments", name="desk-bulk-comments-check", sync_to_thread=True)
@again_on_invalid(_bulk_again(COMMENTS))
def bulk_comments_check(request: Request, db_session: DbSession, data: Multipart) -> Template:
    return _bulk_posted(request, db_session, COMMENTS, data)


def _confirm_again(kind: str) -> Any:
    def again(failed: Invalid, form: dict[str, Any], *, request: Request, db_session: Session,
              data: dict[str, Any], **_kwargs: Any) -> Template:
        try:
            batch = bulk.check(kind, bulk.posted_rows(kind, data))
        except Invalid as too_many:
            return _bulk_page(request, db_session, kind, form=_settings(data), errors=too_many.errors)
        return _preview(request, db_session, kind, batch, _settings(data), errors=failed.errors)
    return again


def _confirmed(request: Request, db_session: Session, kind: str, data: dict[str, Any]) -> Template | Redirect:
    """Create every valid row of the preview in one unit of work (the invalid ones are left out)."""
    actor = principal_of(request)
    services.require_desk(actor)
    entry = _check_settings(kind, data)
    batch = bulk.check(kind, bulk.posted_rows(kind, data))
    valid = [row.parsed for row in batch.valid]
    if not valid:
        raise Invalid({"rows": _("No row can be recorded: correct the rows and check them again.")})
    if kind == VOICES:
        created: list[Any] = services.enter_voices(db_session, actor, valid, entry.channel, consented=entry.consent)
    else:
        created = services.enter_comments(db_session, actor, entry.challenge_id, valid, entry.channel,
                                          consented=entry.consent)
    return after_post(request, _home_path(request),
                      message=_("%(count)s opinions were recorded.", count=len(created)))


@post("/desk/bulk/voices/confirm", name="desk-bulk-voices-confirm", sync_to_thread=True)
@again_on_invalid(_confirm_again(VOICES))
def bulk_voices_confirm(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    return _confirmed(request, db_session, VOICES, data)


@post("/desk/bulk/comments/confirm", name="desk-bulk-comments-confirm", sync_to_thread=True)
@again_on_invalid(_confirm_again(COMMENTS))
def bulk_comments_confirm(request: Request, db_session: DbSession, data: Form) -> Template | Redirect:
    return _confirmed(request, db_session, COMMENTS, data)


def _template_file(request: Request, kind: str) -> Response[bytes]:
    services.require_desk(principal_of(request))
    return Response(bulk.template(kind), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="desk-{kind}.csv"'})


@get("/desk/bulk/voices/template.csv", name="desk-bulk-voices-template", sync_to_thread=True)
def voices_template(request: Request) -> Response[bytes]:
    return _template_file(request, VOICES)


@get("/desk/bulk/comments/template.csv", name="desk-bulk-comments-template", sync_to_thread=True)
def comments_template(request: Request) -> Response[bytes]:
    return _template_file(request, COMMENTS)


desk_router = Router(path="/", route_handlers=[
    home, voice_new, voice_create, comment_new, comment_create, bulk_voices, bulk_comments, bulk_voices_check,
    bulk_comments_check, bulk_voices_confirm, bulk_comments_confirm,
    voices_template, comments_template,
], include_in_schema=False)
ROUTES: list[Any] = [desk_router]
