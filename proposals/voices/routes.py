"""Residents' voices (まちの声), the public pages: the list, posting a voice, a voice's page with its
support box, its photos, the Atom feed and the read API. HTTP only: ``services`` decides.

Every form works without JavaScript (POST, then 303). With htmx, the support form swaps the support box
and the list's filters swap the results region. Staff triage is another module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Litestar, Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, Parameter
from litestar.response import File, Redirect, Template
from sqlmodel import Session

from cocreate import permissions
from cocreate.accounts.permissions import principal_of, signed_in
from cocreate.areas import AREA_LABELS, Area
from cocreate.errors import Forbidden, Invalid, NotFound
from cocreate.forms import FormModel, ReturnPath
from cocreate.i18n import gettext as _
from cocreate.notifications import follows
from cocreate.web.dependencies import AppSettings, DbSession
from cocreate.web.downloads import IMMUTABLE_CACHE, content_disposition
from cocreate.web.feeds import FEED_LIMIT, Entry, Feed, atom_response
from cocreate.web.forms import Form, Multipart, again_on_invalid, safe_next
from cocreate.web.htmx import after_post, is_htmx, render
from cocreate.web.links import route_path
from cocreate.web.markdown import markdown_to_text
from cocreate.web.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, PageInfo, clamp_page
from cocreate.web.sections import page_sections
from proposals.models import Category, Voice, VoiceChannel, VoiceStatus
from proposals.voices import services as voices

LIST_PAGE = "proposals/voices/voice_list.html"
RESULTS = "proposals/voices/_voice_results.html"
FORM_PAGE = "proposals/voices/voice_form.html"
DETAIL_PAGE = "proposals/voices/voice_detail.html"
SUPPORT_BOX = "proposals/voices/_support.html"


# --- the list ------------------------------------------------------------------------------------


def _list_context(request: Request, session: Session, params: dict[str, Any]) -> dict[str, Any]:
    filters, ignored = voices.parse_filters(params)
    number, _size = clamp_page(params.get("page", "1"))
    page = voices.find_public_voices(session, filters, number)
    base = request.app.route_reverse("voice-list")

    def url_for_page(page_number: int) -> str:
        return base + "?" + urlencode(filters.query_params(page=page_number))

    return {"page": page, "filters": filters, "ignored": ignored, "categories": list(Category),
            "areas": list(Area), "area_labels": AREA_LABELS, "statuses": list(voices.LISTED), "sort_orders": list(voices.VoiceSort),
            "url_for_page": url_for_page}


@get("/voices", name="voice-list", sync_to_thread=True)
def voice_list(request: Request, db_session: DbSession, category: FromQuery[str] = "", area: FromQuery[str] = "",
               status: FromQuery[str] = "", sort: FromQuery[str] = "", page: FromQuery[str] = "1") -> Template:
    """Residents' voices with filters and sort; htmx gets only the results region."""
    context = _list_context(request, db_session, {"category": category, "area": area, "status": status,
                                                  "sort": sort, "page": page})
    return render(request, LIST_PAGE, context, fragment=RESULTS)


# --- posting -------------------------------------------------------------------------------------


LEAFLET_IMAGES = "/static/js/vendor/leaflet-1.9.4/images/"


def _map_context(settings: Any) -> dict[str, Any]:
    """What ``static/js/voice-map.js`` reads from data attributes (nothing when no tiles are configured:
    then the pages are exactly the plain form and the text with its OpenStreetMap link)."""
    if not settings.map_tile_url:
        return {"map_tile_url": ""}
    return {"map_tile_url": settings.map_tile_url, "map_attribution": settings.map_attribution,
            "leaflet_images": LEAFLET_IMAGES}


def _form_page(request: Request, form: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Template:
    actor = principal_of(request)
    settings = request.app.state.settings
    decision = permissions.can(actor, "voice.post")
    return render(request, FORM_PAGE, {
        "form": form, "errors": errors, "refusal": "" if decision else decision.reason,
        "category_options": [(c.value, c.label) for c in Category], "area_options": [(a.value, a.label) for a in Area],
        "max_photos": voices.MAX_PHOTOS,
        "lat_range": voices.LATITUDE_RANGE, "lng_range": voices.LONGITUDE_RANGE,
        "area_centres": {area.value: list(area.centre) for area in Area},
        **_map_context(settings),
    }, status_code=status_code)


@get("/voices/new", name="voice-new", guards=[signed_in], sync_to_thread=True)
def voice_new(request: Request) -> Template:
    """The form to post a voice (or, for an account that may not post yet, why not)."""
    return _form_page(request, {}, {})


def _post_again(failed: Invalid, form: dict[str, Any], *, request: Request, **_kwargs: Any) -> Template:
    form = {key: value for key, value in form.items() if not key.startswith("photo-")}
    return _form_page(request, form, failed.errors)


@post("/voices", name="voice-post", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_post_again)
def voice_post(request: Request, db_session: DbSession, settings: AppSettings, data: Multipart) -> Redirect | Template:
    voice = voices.post(db_session, settings, principal_of(request), voices.VoiceForm.parse(data))
    return after_post(request, request.app.route_reverse("voice-detail", voice_id=voice.id),
                      message=_("Thank you. Your voice has been published and sent to the ward."))


# --- one voice -----------------------------------------------------------------------------------


def _detail_page(request: Request, db_session: Session, voice_id: int, *, refusal: str = "",
                 status_code: int = 200) -> Template | Redirect:
    actor = principal_of(request)
    view = voices.detail(db_session, actor, voice_id)
    voice = view.voice
    if voice.status is VoiceStatus.MERGED and voice.merged_into_id is not None:
        return Redirect(path=request.app.route_reverse("voice-detail", voice_id=voice.merged_into_id) + "?merged="
                        + str(voice.id), status_code=303)
    if refusal:
        view.refusal, view.can_support = refusal, False
    return render(request, DETAIL_PAGE, {
        "v": view, "voice": voice,
        "sections": page_sections("voice", db_session, actor, voice),
        "follow": follows.button(db_session, actor, voices.VOICE, voice_id),
        "merged_from": _merged_from(request), "area_labels": AREA_LABELS,
        **_map_context(request.app.state.settings),
    }, status_code=status_code)


@get("/voices/{voice_id:int}", name="voice-detail", sync_to_thread=True)
def voice_detail(request: Request, db_session: DbSession, voice_id: FromPath[int]) -> Template | Redirect:
    """A voice in full, its trail, its support box, then the sections others contribute (comments,
    staff triage). A merged voice sends to the one it was merged into."""
    return _detail_page(request, db_session, voice_id)


def _merged_from(request: Request) -> int | None:
    raw = request.query_params.get("merged", "")
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


class BackForm(FormModel):
    next: Annotated[str, ReturnPath()] = ""


def _support_answer(request: Request, voice_id: int, back: str, message: str, category: str,
                    view: voices.VoiceDetail | None = None) -> Template | Redirect:
    context = {"ctx": {"v": view}} if view is not None else None
    return after_post(request, f"{back}#support", message=message, category=category,
                      fragment=SUPPORT_BOX if view is not None else None, context=context)


def _support_again(failed: Invalid, form: dict[str, Any], *, request: Request, voice_id: int,
                   **_kwargs: Any) -> Template | Redirect:
    back = safe_next(form.get("next", "")) if form.get("next") else request.app.route_reverse(
        "voice-detail", voice_id=voice_id)
    return after_post(request, f"{back}#support", message=next(iter(failed.errors.values())), category="error")


def _change(request: Request, db_session: DbSession, voice_id: int, data: dict[str, Any],
            adding: bool) -> Template | Redirect | Response[str]:
    actor = principal_of(request)
    back = BackForm.parse(data).next or request.app.route_reverse("voice-detail", voice_id=voice_id)
    try:
        result = (voices.support if adding else voices.unsupport)(db_session, actor, voice_id)
    except Forbidden as refused:  # its author, an unconfirmed account: 403 with the reason (htmx: in the box)
        if not is_htmx(request):
            return _detail_page(request, db_session, voice_id, refusal=str(refused.detail), status_code=403)
        view = voices.detail(db_session, actor, voice_id)
        view.refusal, view.can_support = str(refused.detail), False
        return _support_answer(request, voice_id, back, str(refused.detail), "error", view)
    if adding:
        message = _("Thank you for your support.") if result.changed else _("You already support this voice.")
    else:
        message = _("Your support was withdrawn.") if result.changed else _("You had not supported this voice.")
    return _support_answer(request, voice_id, back, message, "success", voices.after_change(actor, result))


@post("/voices/{voice_id:int}/support", name="voice-support", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_support_again)
def voice_support(request: Request, db_session: DbSession, voice_id: FromPath[int],
                  data: Form) -> Template | Redirect | Response[str]:
    return _change(request, db_session, voice_id, data, adding=True)


@post("/voices/{voice_id:int}/unsupport", name="voice-unsupport", guards=[signed_in], sync_to_thread=True)
@again_on_invalid(_support_again)
def voice_unsupport(request: Request, db_session: DbSession, voice_id: FromPath[int],
                    data: Form) -> Template | Redirect | Response[str]:
    return _change(request, db_session, voice_id, data, adding=False)


@get("/voices/{voice_id:int}/photos/{voice_photo_id:int}", name="voice-photo", sync_to_thread=True)
def voice_photo(db_session: DbSession, settings: AppSettings, voice_id: FromPath[int],
                voice_photo_id: FromPath[int]) -> File:
    found = voices.photo_for_download(db_session, settings, voice_id, voice_photo_id)
    if found is None:
        raise NotFound()
    photo, path = found
    return File(path=path, media_type=photo.content_type, content_disposition_type="inline", headers={
        "content-disposition": content_disposition(photo.filename), "x-content-type-options": "nosniff",
        "cache-control": IMMUTABLE_CACHE, "etag": f'"{photo.sha256}"'})


# --- the Atom feed -------------------------------------------------------------------------------


def voices_feed(app: Litestar, session: Session) -> Feed:
    voice_page = route_path(app, "voice-detail")
    entries = [Entry(key=f"voice/{voice.id}", title=voice.title, path=voice_page(voice_id=voice.id),
                     published=voice.created_at, updated=voice.status_changed_at or voice.created_at,
                     summary=markdown_to_text(voice.body, 400),
                     categories=[(voice.category.value, voice.category.label),
                                 (f"status-{voice.status.value}", voice.status.label)])
               for voice in voices.find_public_voices(session, voices.VoiceFilters(), 1, FEED_LIMIT).items]
    return Feed(key="voices", title=_("Residents' voices — cocreate Itabashi"),
                subtitle=_("Local needs, problems and ideas raised by residents."),
                path=app.route_reverse("voice-list"), self_path=app.route_reverse("voices-feed"), entries=entries)


@get("/voices.atom", name="voices-feed", sync_to_thread=True)
def voices_atom(request: Request, db_session: DbSession, settings: AppSettings) -> Response[bytes]:
    """The newest residents' voices (hidden and merged ones never)."""
    return atom_response(settings, voices_feed(request.app, db_session))


# --- read API ------------------------------------------------------------------------------------


@dataclass
class VoiceSummaryOut:
    id: int
    url: str
    title: str
    category: Category
    category_label: str
    area: Area | None
    area_label: str
    status: VoiceStatus
    status_label: str
    channel: VoiceChannel
    """``online``, or how the ward entered it for a resident (``paper``, ``workshop``, ``phone``)."""
    latitude: float | None
    longitude: float | None
    address: str
    support_count: int
    comment_count: int
    created_at: datetime
    status_changed_at: datetime | None


@dataclass
class VoiceListOut:
    items: list[VoiceSummaryOut]
    page: PageInfo


@dataclass
class VoicePhotoOut:
    id: int
    url: str
    alt_text: str
    content_type: str
    size_bytes: int


@dataclass
class VoiceUpdateOut:
    kind: str
    """``status``, ``answer``, ``department``, ``merge`` or ``link``."""
    status: VoiceStatus | None
    body: str
    """The reason or the public answer (Markdown)."""
    department: str | None
    other_voice_id: int | None
    challenge_id: int | None
    """Only when the challenge is public."""
    created_at: datetime


@dataclass
class VoiceOut(VoiceSummaryOut):
    body: str
    """Markdown."""
    author: str
    """The author's public name, or how the ward entered it."""
    department: str | None
    """The owning department, in the language of the request."""
    challenge_id: int | None
    """The challenge it is linked to or became, when public."""
    merged_into_id: int | None
    photos: list[VoicePhotoOut]
    updates: list[VoiceUpdateOut]


def _area(voice: Voice) -> Area | None:
    try:
        return Area(voice.area) if voice.area else None
    except ValueError:
        return None


def _summary(request: Request, voice: Voice) -> dict[str, Any]:
    assert voice.id is not None
    area = _area(voice)
    return {"id": voice.id, "url": request.app.route_reverse("voice-detail", voice_id=voice.id), "title": voice.title,
            "category": voice.category, "category_label": voice.category.label, "area": area,
            "area_label": area.label if area else "", "status": voice.status, "status_label": voice.status.label,
            "channel": voice.channel, "latitude": voice.latitude, "longitude": voice.longitude,
            "address": voice.address, "support_count": voice.support_count, "comment_count": voice.comment_count,
            "created_at": voice.created_at, "status_changed_at": voice.status_changed_at}


@get("/voices", name="api-voice-list", sync_to_thread=True, tags=["voices"], summary="List residents' voices")
def api_voice_list(
    request: Request,
    db_session: DbSession,
    category: Annotated[Category | None, Parameter(description="Category of the voice.")] = None,
    area: Annotated[Area | None, Parameter(description="An area of the ward.")] = None,
    status: Annotated[VoiceStatus | None, Parameter(
        description="Where the ward's triage stands (`merged` voices are never listed).")] = None,
    sort: Annotated[voices.VoiceSort, Parameter(description="`newest` or `support` (most supported first).")
                    ] = voices.VoiceSort.NEWEST,
    page: Annotated[int, Parameter(ge=1, description="Page number; past the end gives the last page.")] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=MAX_PER_PAGE, description="Items per page.")] = DEFAULT_PER_PAGE,
) -> VoiceListOut:
    """Public voices (never hidden or merged ones), with the same filters, sort orders and pages as `/voices`."""
    filters = voices.VoiceFilters(category=category, area=area,
                                  status=status if status is not VoiceStatus.MERGED else None, sort=sort)
    if status is VoiceStatus.MERGED:
        result = Page(items=[], page=1, per_page=per_page, total=0)
    else:
        result = voices.find_public_voices(db_session, filters, page, per_page)
    base = request.app.route_reverse("api-voice-list")
    params = dict(filters.query_params(), **({"status": status.value} if status is not None else {}))

    def link(number: int) -> str:
        return base + "?" + urlencode({**params, "page": number, "per_page": result.per_page})

    return VoiceListOut(
        items=[VoiceSummaryOut(**_summary(request, voice)) for voice in result.items],
        page=PageInfo(page=result.page, per_page=result.per_page, total=result.total, pages=result.pages,
                      next=link(result.page + 1) if result.has_next else None,
                      previous=link(result.page - 1) if result.has_previous else None))


@get("/voices/{voice_id:int}", name="api-voice-detail", sync_to_thread=True, tags=["voices"],
     summary="A residents' voice in full")
def api_voice_detail(
    request: Request, db_session: DbSession, voice_id: FromPath[int]) -> VoiceOut:
    """A voice with its photos and its public trail. Hidden voices answer 404 like unknown ids; a merged
    voice answers with ``merged_into_id``."""
    try:
        view = voices.detail(db_session, principal_of(request), voice_id)
    except NotFound:
        raise NotFound(_("This voice does not exist or is not public.")) from None
    voice = view.voice
    photo_url = route_path(request.app, "voice-photo")
    return VoiceOut(
        **_summary(request, voice), body=voice.body, author=view.author_name,
        department=view.department.display_name() if view.department else None,
        challenge_id=voice.challenge_id if view.challenge_title is not None else None,
        merged_into_id=voice.merged_into_id,
        photos=[VoicePhotoOut(id=p.id, url=photo_url(voice_id=voice_id, voice_photo_id=p.id),  # type: ignore[arg-type]
                              alt_text=p.alt_text, content_type=p.content_type, size_bytes=p.size_bytes)
                for p in view.photos],
        updates=[VoiceUpdateOut(kind=e.update.kind, status=e.update.status, body=e.update.body,
                                department=e.department.display_name() if e.department else None,
                                other_voice_id=e.update.other_voice_id,
                                challenge_id=e.update.challenge_id if e.challenge_title is not None else None,
                                created_at=e.update.created_at) for e in view.trail])


page_routes = Router(path="/", route_handlers=[voice_list, voice_new, voice_post, voice_detail, voice_support,
                                               voice_unsupport, voice_photo, voices_atom], include_in_schema=False)
api_routes = Router(path="/api/v1", route_handlers=[api_voice_list, api_voice_detail])
ROUTES: list[Any] = [page_routes, api_routes]
