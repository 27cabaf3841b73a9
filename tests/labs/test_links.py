"""Links of the labs pages are built from route names (``url_for`` in templates, ``route_reverse`` and
:func:`cocreate.web.links.route_path` in routes, :mod:`labs.paths` where there is no request): the helpers
give the routes' own paths, and the links of a few pages, as a coordinator, an organisation member and a
visitor see them, lead to pages that answer 200 (forms: to routes that take a post)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.exceptions import NoRouteMatchFoundException
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.models import Role
from cocreate.db.base import utcnow
from cocreate.web.links import route_path
from labs import notices, paths
from labs.models import (
    Blackout,
    BookingStatus,
    NoticeKind,
    RecruitmentCall,
    RecruitmentStatus,
    Trial,
    TrialOrganisation,
    TrialStatus,
    TrialUpdate,
)
from tests.helpers import csrf_token
from tests.labs.helpers import create_booking, create_field, create_organisation, create_user, sign_in
from tests.links import check_links
from tests.proposals.staff_helpers import png_bytes

pytestmark = pytest.mark.databases("sqlite", why="links come from the app's routes")


def test_each_path_of_code_without_a_request_is_its_routes_path(app: Litestar) -> None:
    for name, (helper, parameters) in paths.CHECKED.items():
        assert helper(**parameters) == app.route_reverse(name, **parameters), name


@pytest.mark.parametrize(("name", "parameters"), [
    ("field-list", {}),
    ("coordinate-fields", {}),
    ("booking-detail", {"booking_id": 12}),
    ("booking-approve", {"booking_id": 12}),
    ("coordinate-field-blackout-delete", {"field_id": 3, "blackout_id": 45}),
    ("trial-update-photo", {"trial_id": 1, "update_id": 22, "photo_id": 333}),
    ("labs-calendar-private-feed", {"filename": "abc.ics"}),
    ("api-trial-detail", {"trial_id": 7}),
])
def test_route_path_fills_in_the_routes_path(app: Litestar, name: str, parameters: dict[str, object]) -> None:
    assert route_path(app, name)(**parameters) == app.route_reverse(name, **parameters)


def test_route_path_of_an_unknown_route_fails(app: Litestar) -> None:
    with pytest.raises(NoRouteMatchFoundException):
        route_path(app, "no-such-route")


# --- the pages' links ----------------------------------------------------------------------------


def test_the_links_of_labs_pages_lead_to_pages(session: Session, client: TestClient[Litestar]) -> None:
    coordinator = create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR])
    member = create_user(session, "member@example.jp")
    organisation = create_organisation(session, admin=member, verified=True)
    field = create_field(session, coordinator)
    soon = (utcnow() + timedelta(days=3)).replace(hour=1, minute=0, second=0, microsecond=0)
    session.add(Blackout(field_id=field.id, starts_at=soon, ends_at=soon + timedelta(hours=3), reason="祭り"))  # type: ignore[arg-type]
    pending = create_booking(session, field, organisation, author=member)
    draft = create_booking(session, field, organisation, author=member, status=BookingStatus.DRAFT, title="下書き")
    approved = create_booking(session, field, organisation, author=member, status=BookingStatus.APPROVED,
                              periods=[(soon + timedelta(days=1), soon + timedelta(days=1, hours=2))])
    notices.announce(session, approved, NoticeKind.APPROVED)
    trial = Trial(title="高島平モビリティ実証", summary="概要", status=TrialStatus.RUNNING, published=True)
    session.add(trial)
    session.commit()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
    call = RecruitmentCall(trial_id=trial.id, title="試乗モニター", eligibility="区内在住の方", activities="試乗",  # type: ignore[arg-type]
                           places=2, consent_text="走行データを使います。", status=RecruitmentStatus.OPEN)
    session.add(call)
    session.commit()

    sign_in(client, coordinator)
    for form, files in ((f"/coordinate/fields/{field.id}/photos", {"file": ("p.png", png_bytes(), "image/png")}),
                        (f"/trials/{trial.id}/updates/new", {"photo-0": ("p.png", png_bytes(), "image/png")})):
        data = {"alt_text": "広場", "alt-0": "広場", "posted_on": soon.date().isoformat(), "title": "進捗",
                "body": "順調です。", "_csrf_token": csrf_token(client)}
        assert client.post(form, data=data, files=files, follow_redirects=False).status_code == 303, form
    update = session.exec(select(TrialUpdate)).one()
    month = f"?date={soon.date().isoformat()}"
    followed, _posted = check_links(client, [
        "/fields", f"/fields/{field.id}", f"/coordinate/fields/{field.id}/edit", "/coordinate/fields",
        f"/calendar{month}", f"/fields/{field.id}/calendar{month}&view=week", "/coordinate/bookings",
        f"/bookings/{pending.id}", "/coordinate/calendar-feed", "/trials", f"/trials/{trial.id}",
        f"/calls/{call.id}", f"/calls/{call.id}/applications", "/notices", f"/bookings/{approved.id}/notice",
    ])
    # The pages lead to the pages of bookings (pending: the booking; approved: its notice), photos and feeds.
    assert {f"/bookings/{pending.id}", f"/bookings/{approved.id}/notice", f"/trials/{trial.id}/updates.atom",
            f"/fields/{field.id}/calendar.ics"} <= followed
    assert any(re.fullmatch(rf"/fields/{field.id}/photos/\d+", link) for link in followed)
    assert any(re.fullmatch(rf"/trials/{trial.id}/updates/{update.id}/photos/\d+", link) for link in followed)

    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    sign_in(client, member)
    followed, _posted = check_links(client, [
        "/bookings", f"/bookings/{draft.id}", f"/bookings/{draft.id}/edit", f"/bookings/{pending.id}/cancel",
        f"/bookings/new?field_id={field.id}", "/notices/subscriptions", "/my/participation",
    ])
    assert f"/bookings/{draft.id}/edit" in followed or f"/bookings/{draft.id}/cancel" in followed

    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    followed, _posted = check_links(client, [f"/fields/{field.id}", f"/calls/{call.id}", f"/trials/{trial.id}"])
    assert {f"/account/sign-in?next=/fields/{field.id}",
            f"/account/sign-in?next=%2Fcalls%2F{call.id}"} <= followed
