"""Following challenges, proposals, trials and test fields: the generic follow / unfollow button (plain form and
htmx), who may follow what (nobody follows what they cannot see: 404, nothing stored), authors following what
they create, and the "Following" page (paginated in the database, no N+1, unfollow, hostile titles escaped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import Department, Organisation, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db.base import utcnow
from cocreate.notifications import follows, services
from cocreate.notifications.models import Follow
from labs import fields, trials
from labs.models import Area, FieldKind, TestField, Trial, TrialOrganisation, TrialStatus
from proposals.challenges import services as challenges
from proposals.models import Challenge, DecisionOutcome, Phase, Proposal, ProposalVersion
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)
from tests.helpers import QueryLog, csrf_token
from tests.labs.helpers import create_field

pytestmark = pytest.mark.databases("sqlite", why="follow rules are Python; paging SQL runs on both")

HTMX = {"HX-Request": "true"}






@dataclass
class World:
    department: Department
    staff: User
    coordinator: User
    member: User
    resident: User
    organisation: Organisation
    challenge: Challenge
    draft_challenge: Challenge
    proposal: Proposal
    draft_proposal: Proposal
    hidden_proposal: Proposal
    trial: Trial
    unpublished_trial: Trial
    field: TestField
    unpublished_field: TestField

    def visible_targets(self) -> list[tuple[str, int, str]]:
        """(type, id, page) of one visible target of each type."""
        return [("challenge", self.challenge.id, f"/challenges/{self.challenge.id}"),  # type: ignore[list-item]
                ("proposal", self.proposal.id, f"/proposals/{self.proposal.id}"),  # type: ignore[list-item]
                ("trial", self.trial.id, f"/trials/{self.trial.id}"),  # type: ignore[list-item]
                ("test_field", self.field.id, f"/fields/{self.field.id}")]  # type: ignore[list-item]


def make_trial(session: Session, department: Department, organisation: Organisation, *, published: bool = True,
               title: str = "高島平モビリティ実証") -> Trial:
    trial = Trial(title=title, summary="概要です。", description="実証します。", status=TrialStatus.RUNNING,
                  published=published, department_id=department.id, starts_on=date(2026, 12, 1),
                  ends_on=date(2027, 3, 31))
    session.add(trial)
    session.flush()
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
    session.commit()
    session.refresh(trial)
    return trial


@pytest.fixture
def w(session: Session, app: Litestar) -> World:
    department = create_department(session)
    member = create_user(session, "member@example.jp", display_name="モビリティ担当")
    organisation = create_organisation(session, admin=member, verified=True)
    coordinator = create_user(session, "coordinator@example.jp", roles=[Role.COORDINATOR])
    challenge = create_challenge(session, department)
    hidden = create_proposal(session, challenge, organisation, title="非表示の提案", author=member)
    hidden.hidden_at = utcnow()
    hidden.hidden_reason = "個人情報"
    session.add(hidden)
    session.commit()
    return World(
        department=department,
        staff=create_user(session, "staff@example.jp", roles=[(Role.STAFF, department.id)]),  # type: ignore[list-item]
        coordinator=coordinator, member=member, resident=create_user(session, "resident@example.jp", locale="en"),
        organisation=organisation, challenge=challenge,
        draft_challenge=create_challenge(session, department, phase="draft", title="下書きの課題"),
        proposal=create_proposal(session, challenge, organisation, author=member),
        draft_proposal=create_proposal(session, challenge, organisation, status="draft", title="下書きの提案",
                                       author=member),
        hidden_proposal=hidden,
        trial=make_trial(session, department, organisation),
        unpublished_trial=make_trial(session, department, organisation, published=False, title="非公開の実証"),
        field=create_field(session, coordinator),
        unpublished_field=create_field(session, coordinator, published=False, name="非公開のフィールド"),
    )


def post(client: TestClient[Litestar], url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False,
                       **kwargs)


def follows_of(session: Session, user: User) -> list[tuple[str, int]]:
    session.expire_all()
    return [(row.target_type, row.target_id) for row in session.exec(
        select(Follow).where(Follow.user_id == user.id).order_by(col(Follow.target_type), col(Follow.target_id)))]


def follow_count(session: Session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Follow)).one()


# --- the button ----------------------------------------------------------------------------------


def test_a_resident_follows_and_unfollows_each_type_with_plain_forms(
    client: TestClient[Litestar], session: Session, w: World
) -> None:
    sign_in(client, w.resident)
    for target_type, target_id, page in w.visible_targets():
        dom_id = f"follow-{target_type}-{target_id}"
        before = client.get(page)
        assert before.status_code == 200
        assert f'id="{dom_id}-button"' in before.text and f'action="/follows/{target_type}/{target_id}"' in before.text
        assert f'id="{dom_id}-count">0 followers' in before.text

        response = post(client, f"/follows/{target_type}/{target_id}")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == page
        assert (target_type, target_id) in follows_of(session, w.resident)
        # following twice is harmless: still one row
        assert post(client, f"/follows/{target_type}/{target_id}").status_code == 303
        assert follows_of(session, w.resident).count((target_type, target_id)) == 1

        after = client.get(page)
        assert "You now follow this." in after.text  # the flash message
        assert f'action="/follows/{target_type}/{target_id}/delete"' in after.text
        assert f'id="{dom_id}-count">1 follower<' in after.text

        response = post(client, f"/follows/{target_type}/{target_id}/delete")
        assert response.status_code == 303 and response.headers["location"] == page
        assert (target_type, target_id) not in follows_of(session, w.resident)
        assert post(client, f"/follows/{target_type}/{target_id}/delete").status_code == 303  # again: harmless
    assert follows_of(session, w.resident) == []


def test_htmx_gets_the_new_button(client: TestClient[Litestar], session: Session, w: World) -> None:
    sign_in(client, w.resident)
    response = post(client, f"/follows/trial/{w.trial.id}", headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<div class="follow" id="follow-trial-{w.trial.id}">')
    assert f'hx-post="/follows/trial/{w.trial.id}/delete"' in response.text and "<html" not in response.text
    assert "cocreate:flash" in response.headers["HX-Trigger"]
    response = post(client, f"/follows/trial/{w.trial.id}/delete", headers=HTMX)
    assert response.status_code == 200 and f'hx-post="/follows/trial/{w.trial.id}"' in response.text
    assert follows_of(session, w.resident) == []


def test_the_page_is_japanese_by_default(client: TestClient[Litestar], w: World) -> None:
    sign_in(client, w.member)  # a Japanese reader
    page = client.get(f"/challenges/{w.challenge.id}").text
    assert f'id="follow-challenge-{w.challenge.id}-button"' in page
    assert ">Follow<" not in page


def test_visitors_are_sent_to_sign_in(client: TestClient[Litestar], session: Session, w: World) -> None:
    page = client.get(f"/proposals/{w.proposal.id}").text
    assert f'id="follow-proposal-{w.proposal.id}-sign-in"' in page
    assert f'action="/follows/proposal/{w.proposal.id}"' not in page
    for url in (f"/follows/proposal/{w.proposal.id}", f"/follows/proposal/{w.proposal.id}/delete"):
        response = post(client, url)
        assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    response = client.get("/account/following", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")
    assert follow_count(session) == 0


def test_what_a_person_cannot_see_cannot_be_followed(client: TestClient[Litestar], session: Session,
                                                     w: World) -> None:
    sign_in(client, w.resident)
    refused = [f"/follows/challenge/{w.draft_challenge.id}", f"/follows/proposal/{w.draft_proposal.id}",
               f"/follows/proposal/{w.hidden_proposal.id}", f"/follows/trial/{w.unpublished_trial.id}",
               f"/follows/test_field/{w.unpublished_field.id}", "/follows/challenge/999999",
               f"/follows/area/{w.challenge.id}", f"/follows/organisation/{w.organisation.id}",
               f"/follows/{'x' * 5000}/1", "/follows/challenge/abc", "/follows/challenge/1.5",
               f"/follows/question/{w.challenge.id}"]
    for url in refused:
        assert post(client, url).status_code == 404, url
        assert post(client, url, headers=HTMX).status_code == 404, url
    assert follow_count(session) == 0
    # unfollowing something unknown tells nothing and changes nothing
    assert post(client, f"/follows/trial/{w.unpublished_trial.id}/delete").status_code == 303
    assert post(client, "/follows/nonsense/1/delete").status_code == 404
    # the hidden proposal's page shows no follow button to the public
    assert f"follow-proposal-{w.hidden_proposal.id}" not in client.get(f"/proposals/{w.hidden_proposal.id}").text


@pytest.mark.parametrize(("persona", "target", "allowed"), [
    ("staff", "draft_challenge", True),  # the owning department sees its draft
    ("coordinator", "draft_challenge", False),
    ("member", "draft_proposal", True),  # its authors
    ("staff", "draft_proposal", False),  # a draft is its authors' alone
    ("member", "hidden_proposal", True),
    ("staff", "hidden_proposal", True),  # owning staff see it in full
    ("coordinator", "hidden_proposal", False),
    ("coordinator", "unpublished_trial", True),
    ("staff", "unpublished_trial", True),  # the department in charge
    ("member", "unpublished_trial", True),  # its organisation
    ("resident", "unpublished_trial", False),
    ("coordinator", "unpublished_field", True),  # its coordinator
    ("staff", "unpublished_field", False),
])
def test_who_may_follow_what_is_not_public(client: TestClient[Litestar], session: Session, w: World,
                                           persona: str, target: str, allowed: bool) -> None:
    target_type = {"draft_challenge": "challenge", "draft_proposal": "proposal", "hidden_proposal": "proposal",
                   "unpublished_trial": "trial", "unpublished_field": "test_field"}[target]
    target_id = getattr(w, target).id
    user = getattr(w, persona)
    sign_in(client, user)
    response = post(client, f"/follows/{target_type}/{target_id}")
    assert response.status_code == (303 if allowed else 404), response.text
    assert ((target_type, target_id) in follows_of(session, user)) is allowed


def test_only_the_following_page_is_a_place_to_go_back_to(client: TestClient[Litestar], w: World) -> None:
    sign_in(client, w.resident)
    url = f"/follows/challenge/{w.challenge.id}"
    for hostile in ("https://evil.example/", "//evil.example", "/account/following/../../admin",
                    "/account/following?page=2&x=https://evil", "javascript:alert(1)"):
        response = post(client, url, {"next": hostile})
        assert response.headers["location"] == f"/challenges/{w.challenge.id}", hostile
    response = post(client, url + "/delete", {"next": "/account/following?page=3"})
    assert response.headers["location"] == "/account/following?page=3"


# --- authors follow what they create -------------------------------------------------------------


def test_authors_follow_what_they_create(session: Session, w: World, app: Litestar) -> None:
    def actor(user: User) -> Principal:
        return Principal.load(session, user)

    challenge = challenges.create_draft(session, actor(w.staff), w.department.id,  # type: ignore[arg-type]
                                        challenges.ChallengeForm(title="新しい課題", category="environment_energy"))
    assert ("challenge", challenge.id) in follows_of(session, w.staff)

    trial = trials.create(session, actor(w.coordinator), trials.CoordinatorTrialForm(
        title="区の実証", summary="概要", department_id=str(w.department.id)))
    assert ("trial", trial.id) in follows_of(session, w.coordinator)

    field = fields.create(session, actor(w.coordinator), fields.FieldForm(
        name="新しいフィールド", kind=FieldKind.PARK.value, area=Area.TAKASHIMADAIRA.value, address="板橋区高島平",
        summary="概要", min_booking_minutes=60, max_booking_minutes=240))
    assert ("test_field", field.id) in follows_of(session, w.coordinator)

    # a trial started from a selected proposal: its starter and the proposal's author and submitter follow it
    submitter = create_user(session, "submitter@example.jp")
    decided = create_challenge(session, w.department, phase="decided", title="決定済みの課題")
    decided.decisions_published_at = utcnow()
    selected = create_proposal(session, decided, w.organisation, author=w.member, title="選ばれた提案")
    selected.decision = DecisionOutcome.SELECTED
    selected.decided_at = utcnow()
    session.add_all([decided, selected, ProposalVersion(proposal_id=selected.id, number=1,
                                                        submitted_by_id=submitter.id, content_json="{}")])
    session.commit()
    started = trials.create_from_proposal(session, actor(w.staff), selected.id)  # type: ignore[arg-type]
    for user in (w.staff, w.member, submitter):
        assert ("trial", started.id) in follows_of(session, user), user.email
    assert ("trial", started.id) not in follows_of(session, w.resident)
    session.refresh(decided)
    assert decided.phase is Phase.TRIAL


# --- the "Following" page ------------------------------------------------------------------------


def _follow_many(session: Session, user: User, w: World, count: int) -> None:
    """``count`` follows spread over the four types (new challenges and trials beyond the world's)."""
    targets: list[tuple[str, int]] = [(t, i) for t, i, _page in w.visible_targets()]
    n = 0
    while len(targets) < count:
        n += 1
        if n % 2:
            targets.append(("challenge", create_challenge(session, w.department, title=f"課題 {n}").id))
        else:
            targets.append(("trial", make_trial(session, w.department, w.organisation, title=f"実証 {n}").id))  # type: ignore[arg-type]
    for target_type, target_id in targets[:count]:
        services.follow(session, user.id, target_type, target_id)  # type: ignore[arg-type]
    session.commit()


@pytest.mark.databases("sqlite", "postgresql", why="paging SQL")
def test_the_following_page_lists_in_few_queries_and_pages_in_the_database(
    client: TestClient[Litestar], session: Session, w: World, query_log: QueryLog
) -> None:
    sign_in(client, w.resident)
    empty = client.get("/account/following")
    assert empty.status_code == 200 and 'id="following-empty"' in empty.text

    _follow_many(session, w.resident, w, 4)
    session.add(Follow(user_id=w.resident.id, target_type="area", target_id=3))  # type: ignore[arg-type]
    session.commit()
    query_log.statements.clear()
    page = client.get("/account/following")
    few = query_log.count
    assert page.status_code == 200
    for target_type, target_id, url in w.visible_targets():
        assert f'id="following-{target_type}-{target_id}"' in page.text
        assert f'href="{url}"' in page.text
        assert f'action="/follows/{target_type}/{target_id}/delete"' in page.text
    assert "following-area-" not in page.text  # area notices are managed on their own page
    assert "You follow 4 items." in page.text

    _follow_many(session, w.resident, w, 30)  # the first 4 again: ON CONFLICT DO NOTHING
    query_log.statements.clear()
    page = client.get("/account/following")
    assert query_log.count <= few, str(query_log)  # one batch per type on the page, never one per follow
    assert page.text.count('class="card" id="following-') == 20
    second = client.get("/account/following?page=2")
    assert second.text.count('class="card" id="following-') == 10
    assert 'name="next" value="/account/following?page=2"' in second.text
    assert client.get("/account/following?page=abc").status_code == 200
    assert client.get("/account/following?page=999").text.count('class="card" id="following-') == 10


def test_unfollowing_from_the_page_goes_back_to_it(client: TestClient[Litestar], session: Session,
                                                   w: World) -> None:
    sign_in(client, w.resident)
    _follow_many(session, w.resident, w, 4)
    response = post(client, f"/follows/trial/{w.trial.id}/delete", {"next": "/account/following"})
    assert response.status_code == 303 and response.headers["location"] == "/account/following"
    page = client.get("/account/following").text
    assert f'id="following-trial-{w.trial.id}"' not in page and "You follow 3 items." in page
    # htmx: the row's button becomes a "Follow" button, without the follower count
    response = post(client, f"/follows/challenge/{w.challenge.id}/delete", {"next": "/account/following"},
                    headers=HTMX)
    assert f'hx-post="/follows/challenge/{w.challenge.id}"' in response.text
    assert "follower" not in response.text


def test_what_became_invisible_stays_listed_to_be_unfollowed(client: TestClient[Litestar], session: Session,
                                                             w: World) -> None:
    sign_in(client, w.resident)
    _follow_many(session, w.resident, w, 4)
    w.trial.published = False
    w.proposal.hidden_at = utcnow()
    session.add_all([w.trial, w.proposal])
    session.commit()
    page = client.get("/account/following").text
    assert w.trial.title not in page and "非表示" not in page
    assert page.count("This is no longer available.") == 2
    assert post(client, f"/follows/trial/{w.trial.id}/delete").status_code == 303
    assert ("trial", w.trial.id) not in follows_of(session, w.resident)


def test_hostile_titles_are_escaped(client: TestClient[Litestar], session: Session, w: World,
                                    xss_payloads: list[str]) -> None:
    sign_in(client, w.resident)
    payloads = xss_payloads[:8]
    for payload in payloads:
        challenge = create_challenge(session, w.department, title=payload[:200])
        session.add(Follow(user_id=w.resident.id, target_type="challenge", target_id=challenge.id))  # type: ignore[arg-type]
    session.commit()
    page = client.get("/account/following").text
    assert "<script" not in page.split('id="following-list"')[1].split("</ol>")[0]
    titles = session.exec(select(Challenge.title).where(col(Challenge.title).in_([p[:200] for p in payloads]))).all()
    assert sorted(titles) == sorted(p[:200] for p in payloads)  # stored verbatim


def test_the_registry_knows_the_five_types(app: Litestar) -> None:
    assert sorted(follows.types()) == ["challenge", "proposal", "test_field", "trial", "voice"]
    with pytest.raises(follows.NotFound):
        follows.followable("area")
