"""Votes (応援): who may vote, the phase, the per-challenge limit, verified-only challenges, withdrawing,
htmx and plain forms, the staff settings page, exact counts under concurrency (SQLite and PostgreSQL),
and that who voted is never shown."""

from __future__ import annotations

import threading

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from cocreate.accounts.models import User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.i18n import gettext, using_locale
from cocreate.settings import Settings
from proposals import phases
from proposals.challenges import lifecycle
from proposals.models import Challenge, Phase, Proposal, Vote
from proposals.phases import Action
from proposals.votes import routes as vote_routes
from proposals.votes import services as votes
from tests.factories import (
    Ward,
    actor,
    create_challenge,
    create_proposal,
    create_user,
    create_ward,
    reload,
    sign_in,
)
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="vote rules are Python; row locks and the unique vote run on both")

# --- helpers -------------------------------------------------------------------------------------






World = Ward


@pytest.fixture
def world(session: Session) -> Ward:
    return create_ward(session, phase="voting")


def vote_rows(session: Session, proposal_id: int | None = None) -> int:
    statement = select(func.count()).select_from(Vote)
    if proposal_id is not None:
        statement = statement.where(Vote.proposal_id == proposal_id)
    return session.exec(statement).one()


def more_proposals(session: Session, world: World, count: int) -> list[Proposal]:
    return [create_proposal(session, world.challenge, world.organisation, title=f"提案 {i}") for i in range(count)]


def set_phase(session: Session, challenge: Challenge, phase: str) -> None:
    challenge = session.get(Challenge, challenge.id)  # type: ignore[assignment]
    challenge.phase = Phase(phase)
    session.add(challenge)
    session.commit()


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


# --- the service ---------------------------------------------------------------------------------


def test_a_resident_votes_once_and_withdraws(session: Session, world: World) -> None:
    resident = actor(session, world.resident)
    assert votes.vote(session, resident, world.proposal.id) is True  # type: ignore[arg-type]
    assert votes.vote(session, resident, world.proposal.id) is False  # type: ignore[arg-type]
    assert reload(session, world.proposal).vote_count == 1 and vote_rows(session) == 1  # type: ignore[union-attr]
    vote = session.exec(select(Vote)).one()
    assert (vote.user_id, vote.challenge_id) == (world.resident.id, world.challenge.id)
    assert votes.unvote(session, resident, world.proposal.id) is True  # type: ignore[arg-type]
    assert votes.unvote(session, resident, world.proposal.id) is False  # type: ignore[arg-type]
    assert reload(session, world.proposal).vote_count == 0 and vote_rows(session) == 0  # type: ignore[union-attr]


def test_the_vote_limit_counts_per_challenge(session: Session, world: World) -> None:
    challenge = session.get(Challenge, world.challenge.id)
    challenge.vote_limit = 2  # type: ignore[union-attr]
    session.commit()
    first, second, third = more_proposals(session, world, 3)
    elsewhere = create_proposal(session, create_challenge(session, world.other_department, phase="voting", title="別の課題"),
                                world.organisation)
    resident = actor(session, world.resident)
    votes.vote(session, resident, first.id)  # type: ignore[arg-type]
    votes.vote(session, resident, second.id)  # type: ignore[arg-type]
    with pytest.raises(Invalid) as refused:
        votes.vote(session, resident, third.id)  # type: ignore[arg-type]
    assert refused.value.errors["vote"] == ja(
        "You have used all %(limit)s of your votes on this challenge. Withdraw one to support another proposal.",
        limit=2)
    assert reload(session, third).vote_count == 0  # type: ignore[union-attr]
    assert votes.vote(session, resident, elsewhere.id) is True  # type: ignore[arg-type]  # another challenge's limit
    votes.unvote(session, resident, first.id)  # type: ignore[arg-type]
    assert votes.vote(session, resident, third.id) is True  # type: ignore[arg-type]
    assert vote_rows(session) == 3


@pytest.mark.parametrize("phase", ["published", "accepting", "review", "decided", "trial", "completed", "closed"])
def test_voting_is_open_only_in_the_voting_phase(session: Session, world: World, phase: str) -> None:
    set_phase(session, world.challenge, phase)
    with pytest.raises(Invalid) as refused:
        votes.vote(session, actor(session, world.resident), world.proposal.id)  # type: ignore[arg-type]
    assert refused.value.errors["vote"]
    assert vote_rows(session) == 0


def test_a_vote_cannot_be_withdrawn_after_voting_closes(session: Session, world: World) -> None:
    votes.vote(session, actor(session, world.resident), world.proposal.id)  # type: ignore[arg-type]
    set_phase(session, world.challenge, "review")
    with pytest.raises(Invalid) as refused:
        votes.unvote(session, actor(session, world.resident), world.proposal.id)  # type: ignore[arg-type]
    assert refused.value.errors["vote"] == phases.check(Phase.REVIEW, Action.VOTE).reason
    assert reload(session, world.proposal).vote_count == 1  # type: ignore[union-attr]


def test_only_residents_vote(session: Session, world: World) -> None:
    with pytest.raises(SignInRequired):
        votes.vote(session, Principal.anonymous(), world.proposal.id)  # type: ignore[arg-type]
    with pytest.raises(Forbidden, match=ja(
            "Staff of a department that owns this challenge cannot vote on its proposals.")):
        votes.vote(session, actor(session, world.staff), world.proposal.id)  # type: ignore[arg-type]
    with pytest.raises(Forbidden, match=ja(
            "Members of the organisations that wrote this proposal cannot vote on it.")):
        votes.vote(session, actor(session, world.member), world.proposal.id)  # type: ignore[arg-type]
    unconfirmed = create_user(session, "new@example.jp", confirmed=False)
    with pytest.raises(Forbidden):
        votes.vote(session, actor(session, unconfirmed), world.proposal.id)  # type: ignore[arg-type]
    assert vote_rows(session) == 0
    # Staff of another department and moderators are residents like anyone else here.
    assert votes.vote(session, actor(session, world.other_staff), world.proposal.id) is True  # type: ignore[arg-type]
    assert votes.vote(session, actor(session, world.moderator), world.proposal.id) is True  # type: ignore[arg-type]
    assert reload(session, world.proposal).vote_count == 2  # type: ignore[union-attr]


def test_verified_only_challenges(session: Session, world: World) -> None:
    challenge = session.get(Challenge, world.challenge.id)
    challenge.votes_require_verified = True  # type: ignore[union-attr]
    session.commit()
    with pytest.raises(Invalid) as refused:
        votes.vote(session, actor(session, world.resident), world.proposal.id)  # type: ignore[arg-type]
    assert refused.value.errors["vote"] == ja(
        "Only residents whose residency the ward has confirmed can vote on this challenge.")
    view = votes.section(session, actor(session, world.resident), world.proposal)
    assert view is not None and view.needs_verification and not view.can_vote
    resident = session.get(User, world.resident.id)
    resident.residency_verified_at = utcnow()  # type: ignore[union-attr]
    session.commit()
    assert votes.vote(session, actor(session, world.resident), world.proposal.id) is True  # type: ignore[arg-type]


def test_only_submitted_visible_proposals_take_votes(session: Session, world: World) -> None:
    resident = actor(session, world.resident)
    draft = create_proposal(session, world.challenge, world.organisation, status="draft", title="下書き")
    with pytest.raises(votes.NotFound):
        votes.vote(session, resident, draft.id)  # type: ignore[arg-type]
    with pytest.raises(votes.NotFound):
        votes.vote(session, resident, 999_999)
    withdrawn = create_proposal(session, world.challenge, world.organisation, status="withdrawn", title="取下げ")
    with pytest.raises(Invalid):
        votes.vote(session, resident, withdrawn.id)  # type: ignore[arg-type]
    hidden = session.get(Proposal, world.proposal.id)
    hidden.hidden_at = utcnow()  # type: ignore[union-attr]
    session.commit()
    with pytest.raises(Invalid) as refused:
        votes.vote(session, resident, world.proposal.id)  # type: ignore[arg-type]
    assert refused.value.errors["vote"] == ja("This proposal is hidden and cannot be supported.")
    draft_challenge = create_challenge(session, world.department, phase="draft", title="下書きの課題")
    on_draft = create_proposal(session, draft_challenge, world.organisation)
    with pytest.raises(votes.NotFound):
        votes.vote(session, resident, on_draft.id)  # type: ignore[arg-type]
    assert vote_rows(session) == 0


def test_the_section_shows_the_count_and_only_the_viewers_own_state(session: Session, world: World) -> None:
    assert vote_routes.proposal_section(session, Principal.anonymous(), world.proposal)[0] == "proposals/votes/_vote.html"  # type: ignore[index]
    draft = create_proposal(session, world.challenge, world.organisation, status="draft", title="下書き")
    assert vote_routes.proposal_section(session, Principal.anonymous(), draft) is None
    votes.vote(session, actor(session, world.resident), world.proposal.id)  # type: ignore[arg-type]
    proposal = reload(session, world.proposal)
    mine = votes.section(session, actor(session, world.resident), proposal)  # type: ignore[arg-type]
    theirs = votes.section(session, actor(session, world.other_staff), proposal)  # type: ignore[arg-type]
    assert mine and mine.voted and mine.can_withdraw and mine.used == 1 and mine.remaining == 2
    assert theirs and not theirs.voted and theirs.can_vote and theirs.remaining == 3
    staff_view = votes.section(session, actor(session, world.staff), proposal)  # type: ignore[arg-type]
    assert staff_view and not staff_view.can_vote and staff_view.can_report
    author_view = votes.section(session, actor(session, world.member), proposal)  # type: ignore[arg-type]
    assert author_view and not author_view.can_vote and not author_view.can_report


# --- routes: htmx and plain forms ----------------------------------------------------------------


def post(client: TestClient[Litestar], path: str, *, htmx: bool = False, **data: str):  # type: ignore[no-untyped-def]
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data={"_csrf_token": csrf_token(client), **data}, headers=headers,
                       follow_redirects=False)


def test_the_plain_form_votes_and_goes_back(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.resident)
    pid = world.proposal.id
    response = post(client, f"/proposals/{pid}/vote", next=f"/challenges/{world.challenge.id}")
    assert response.status_code == 303 and response.headers["location"] == f"/challenges/{world.challenge.id}#vote-{pid}"
    assert reload(session, world.proposal).vote_count == 1  # type: ignore[union-attr]
    response = post(client, f"/proposals/{pid}/unvote", next="//evil.example/")
    assert response.status_code == 303 and response.headers["location"] == f"/#vote-{pid}"
    response = post(client, f"/proposals/{pid}/vote")
    assert response.headers["location"] == f"/proposals/{pid}#vote-{pid}"
    assert reload(session, world.proposal).vote_count == 1  # type: ignore[union-attr]


def test_htmx_swaps_the_vote_box(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.resident)
    pid = world.proposal.id
    response = post(client, f"/proposals/{pid}/vote", htmx=True)
    assert response.status_code == 200
    assert f'id="vote-{pid}"' in response.text and f'id="proposal-{pid}-unvote-button"' in response.text
    assert f'id="proposal-{pid}-vote-count"' in response.text and "cocreate:flash" in response.headers["hx-trigger"]
    assert "<html" not in response.text
    response = post(client, f"/proposals/{pid}/unvote", htmx=True)
    assert f'id="proposal-{pid}-vote-button"' in response.text
    assert reload(session, world.proposal).vote_count == 0  # type: ignore[union-attr]


def test_a_vote_costs_a_fixed_number_of_statements(session: Session, world: World, client: TestClient[Litestar],
                                                  app: Litestar) -> None:
    """The vote's write holds the database's write lock (SQLite) from its first statement to its commit:
    one statement for the state under the lock, the insert and the counter. Whatever the voter's
    other votes, a vote through htmx is the session, the user, the write rate limit's counter (one
    upsert in a short transaction of its own, before the vote's; on SQLite in the counters' own file),
    one read of the proposal and its
    challenge (authorship included), and those three writes."""
    sign_in(client, world.resident)
    for proposal in more_proposals(session, world, 2):  # a challenge's default limit is 3
        assert post(client, f"/proposals/{proposal.id}/vote", htmx=True).status_code == 200
    with count_queries(app.state.database.engine) as log:
        response = post(client, f"/proposals/{world.proposal.id}/vote", htmx=True)
    assert response.status_code == 200 and f'id="proposal-{world.proposal.id}-unvote-button"' in response.text
    # On SQLite the rate limit's counter is in a database file of its own (its own write lock), so it is not
    # among the main database's statements.
    counter = 0 if app.state.database.dialect == "sqlite" else 1
    assert log.count == 6 + counter, log.statements
    assert sum(statement.lstrip().upper().startswith(("INSERT", "UPDATE")) for statement in log.statements) == 2 + counter
    assert sum("rate_limit_counter" in statement for statement in log.statements) == counter
    assert reload(session, world.proposal).vote_count == 1  # type: ignore[union-attr]


def test_refusals_through_the_routes(session: Session, world: World, client: TestClient[Litestar]) -> None:
    pid = world.proposal.id
    response = post(client, f"/proposals/{pid}/vote")
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in?")
    response = post(client, f"/proposals/{pid}/vote", htmx=True)
    assert response.headers["hx-redirect"].startswith("/account/sign-in?")
    sign_in(client, world.staff)  # owning staff: refused with the reason on the page, not a bare 403
    refused = post(client, f"/proposals/{pid}/vote")
    assert refused.status_code == 403 and 'id="error-summary"' in refused.text and 'id="proposal"' in refused.text
    assert "この課題を担当する部署の職員は、提案を応援できません。" in refused.text
    boxed = post(client, f"/proposals/{pid}/vote", htmx=True)
    assert boxed.status_code == 200 and f'id="vote-{pid}"' in boxed.text and "cocreate:flash" in boxed.headers["hx-trigger"]
    assert reload(session, world.proposal).vote_count == 0  # type: ignore[union-attr]
    assert post(client, "/proposals/999999/vote").status_code == 404
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    challenge = session.get(Challenge, world.challenge.id)
    challenge.vote_limit = 1  # type: ignore[union-attr]
    session.commit()
    second = more_proposals(session, world, 1)[0]
    sign_in(client, world.resident)
    post(client, f"/proposals/{pid}/vote")
    response = post(client, f"/proposals/{second.id}/vote", htmx=True)
    assert response.status_code == 200 and f'id="proposal-{second.id}-vote-status"' in response.text
    assert reload(session, second).vote_count == 0  # type: ignore[union-attr]
    response = post(client, f"/proposals/{second.id}/vote")
    assert response.status_code == 303
    assert vote_rows(session) == 1


def test_who_voted_is_never_shown(session: Session, world: World, client: TestClient[Litestar]) -> None:
    names = [f"応援者{i}号" for i in range(3)]
    for index, name in enumerate(names):
        voter = create_user(session, f"voter{index}@example.jp", display_name=name)
        votes.vote(session, actor(session, voter), world.proposal.id)  # type: ignore[arg-type]
    sign_in(client, world.resident)
    pid = world.proposal.id
    pages = [post(client, f"/proposals/{pid}/vote", htmx=True).text,
             client.get(f"/challenges/{world.challenge.id}").text,
             client.get(f"/api/v1/challenges/{world.challenge.id}").text,
             client.get(f"/api/v1/proposals/{pid}").text, client.get(f"/challenges/{world.challenge.id}/proposals").text]
    proposal_page = client.get(f"/proposals/{pid}")  # renders the vote box through proposal_sections
    assert proposal_page.status_code == 200 and f'id="proposal-{pid}-unvote-button"' in proposal_page.text
    pages.append(proposal_page.text)
    assert "4人" in pages[0] and "4人" in proposal_page.text
    for text in pages:
        for name in names:
            assert name not in text
    sign_in(client, world.staff)
    assert all(name not in client.get(f"/staff/challenges/{world.challenge.id}/voting").text for name in names)


# --- exact counts under concurrency (both databases) ---------------------------------------------


def race(settings: Settings, calls: list[tuple[int, int]]) -> tuple[list[bool], list[str], list[BaseException]]:
    """Run ``vote(user, proposal)`` for each call in its own thread and database session, all released
    at once by a barrier; returns the results, the refusals and any unexpected errors."""
    racing = Database(settings, pool_size=len(calls) + 2, max_overflow=0)
    barrier = threading.Barrier(len(calls))
    results: list[bool] = []
    refusals: list[str] = []
    errors: list[BaseException] = []

    def attempt(user_id: int, proposal_id: int) -> None:
        try:
            with racing.session() as db:
                principal = Principal.load(db, db.get(User, user_id))
                db.commit()  # no transaction (and no SQLite write lock) held while waiting
                barrier.wait(timeout=30)
                try:
                    results.append(votes.vote(db, principal, proposal_id))
                except Invalid as failed:
                    refusals.append(failed.errors["vote"])
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    return results, refusals, errors


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_twenty_residents_voting_at_once_give_an_exact_count(session: Session, world: World, settings: Settings) -> None:
    voters = [create_user(session, f"racer{i}@example.jp") for i in range(20)]
    results, refusals, errors = race(settings, [(u.id, world.proposal.id) for u in voters])  # type: ignore[misc]
    assert errors == [] and refusals == [] and results == [True] * 20
    assert reload(session, world.proposal).vote_count == 20 == vote_rows(session, world.proposal.id)  # type: ignore[union-attr]


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_a_double_submit_counts_once(session: Session, world: World, settings: Settings) -> None:
    results, refusals, errors = race(settings, [(world.resident.id, world.proposal.id)] * 10)  # type: ignore[list-item]
    assert errors == [] and refusals == []
    assert sorted(results) == [False] * 9 + [True]
    assert reload(session, world.proposal).vote_count == 1 == vote_rows(session)  # type: ignore[union-attr]


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_racing_votes_cannot_pass_the_limit(session: Session, world: World, settings: Settings) -> None:
    proposals = more_proposals(session, world, 5)
    results, refusals, errors = race(settings, [(world.resident.id, p.id) for p in proposals])  # type: ignore[misc]
    assert errors == []
    assert results == [True] * 3 and len(refusals) == 2
    assert vote_rows(session) == 3
    session.expire_all()
    assert sum(session.get(Proposal, p.id).vote_count for p in proposals) == 3  # type: ignore[union-attr]


@pytest.mark.committed("the phase change and the vote each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="the advisory lock (PostgreSQL) and the write lock (SQLite)")
def test_a_vote_waits_for_a_phase_change_in_flight_and_is_then_refused(session: Session, world: World,
                                                                       settings: Settings) -> None:
    """Closing the voting phase and a vote at the same moment: the vote passed its checks on a snapshot
    that still says "voting", waits for the phase change to commit, then sees the new phase under its
    lock and is refused; no vote lands after voting closed."""
    racing = Database(settings, wait_seconds=20)
    outcome: list[BaseException | bool] = []

    def vote() -> None:
        try:
            with racing.session() as db:
                outcome.append(votes.vote(db, Principal.load(db, db.get(User, world.resident.id)), world.proposal.id))  # type: ignore[arg-type]
        except BaseException as error:  # the main thread looks at it
            outcome.append(error)

    try:
        with racing.session() as staff_session:
            challenge = staff_session.get(Challenge, world.challenge.id, with_for_update=True)
            assert challenge is not None
            lifecycle.record_move(staff_session, challenge, Phase.REVIEW, actor=None)  # not committed yet
            voter = threading.Thread(target=vote)  # SQLite: queues for the write lock; PostgreSQL: the advisory lock
            voter.start()
            voter.join(timeout=1.0)
            assert voter.is_alive() and outcome == []  # waiting for the phase change, not voting on
            staff_session.commit()
        voter.join(timeout=20)
    finally:
        racing.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], Invalid), outcome
    assert vote_rows(session) == 0 and reload(session, world.proposal).vote_count == 0  # type: ignore[union-attr]


@pytest.mark.databases("sqlite", "postgresql", why="row locks and the unique vote")
def test_the_database_keeps_one_vote_per_resident_and_proposal(session: Session, world: World) -> None:
    import sqlalchemy as sa

    session.add(Vote(proposal_id=world.proposal.id, challenge_id=world.challenge.id, user_id=world.resident.id))  # type: ignore[arg-type]
    session.commit()
    session.add(Vote(proposal_id=world.proposal.id, challenge_id=world.challenge.id, user_id=world.resident.id))  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()


# --- staff: the voting settings ------------------------------------------------------------------


def test_owning_staff_set_the_limit_and_the_verified_rule(session: Session, world: World,
                                                          client: TestClient[Litestar]) -> None:
    path = f"/staff/challenges/{world.challenge.id}/voting"
    assert client.get(path, follow_redirects=False).headers["location"].startswith("/account/sign-in")
    sign_in(client, world.staff)
    page = client.get(path)
    assert page.status_code == 200 and 'id="field-vote_limit"' in page.text and 'value="3"' in page.text
    response = post(client, path, vote_limit="５", votes_require_verified="yes")
    assert response.status_code == 303
    challenge = reload(session, world.challenge)
    assert challenge.vote_limit == 5 and challenge.votes_require_verified  # type: ignore[union-attr]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.voting_updated")).one()
    assert entry.actor_id == world.staff.id and entry.target_id == str(world.challenge.id)
    assert '"vote_limit":5' in entry.details_json and '"vote_limit":3' in entry.details_json


@pytest.mark.parametrize("value", ["", "0", "51", "abc", "-1", "1.5", "9" * 5000, "<script>alert(1)</script>"])
def test_invalid_limits_are_refused(session: Session, world: World, client: TestClient[Litestar], value: str) -> None:
    sign_in(client, world.staff)
    response = post(client, f"/staff/challenges/{world.challenge.id}/voting", vote_limit=value)
    assert response.status_code == 400 and 'id="field-vote_limit-error"' in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert reload(session, world.challenge).vote_limit == 3  # type: ignore[union-attr]
    assert session.exec(select(func.count()).select_from(AuditEntry)).one() == 0


def test_only_owning_staff_change_the_voting_settings(session: Session, world: World,
                                                      client: TestClient[Litestar]) -> None:
    path = f"/staff/challenges/{world.challenge.id}/voting"
    for user in (world.other_staff, world.resident, world.moderator):
        with TestClient(client.app, base_url="http://testserver.local") as other:
            sign_in(other, user)
            assert other.get(path).status_code == 403
            assert post(other, path, vote_limit="10").status_code == 403
    assert reload(session, world.challenge).vote_limit == 3  # type: ignore[union-attr]
    with pytest.raises(Forbidden):
        votes.update_settings(session, actor(session, world.other_staff), world.challenge.id,  # type: ignore[arg-type]
                              votes.VotingForm(vote_limit="10"))


def test_a_back_address_that_cannot_be_read_goes_to_the_proposal(session: Session, world: World,
                                                                 client: TestClient[Litestar]) -> None:
    sign_in(client, world.resident)
    pid = world.proposal.id
    response = post(client, f"/proposals/{pid}/vote", next="/challenges/\x00" + "x" * 600)
    assert response.status_code == 303 and response.headers["location"] == f"/proposals/{pid}#vote-{pid}"
    assert reload(session, world.proposal).vote_count == 0  # type: ignore[union-attr]


def test_a_settings_form_without_the_limit_is_refused(session: Session, world: World,
                                                     client: TestClient[Litestar]) -> None:
    sign_in(client, world.staff)
    response = post(client, f"/staff/challenges/{world.challenge.id}/voting", votes_require_verified="yes")
    assert response.status_code == 400 and 'id="field-vote_limit-error"' in response.text
    challenge = reload(session, world.challenge)
    assert challenge.vote_limit == 3 and not challenge.votes_require_verified  # type: ignore[union-attr]
