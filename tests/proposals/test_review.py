"""Review (審査): staff assign reviewers, reviewers declare conflicts and score blind, staff read the
weighted results and download them as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.permissions import Forbidden
from cocreate.audit.models import AuditEntry
from cocreate.errors import Invalid
from proposals import review
from proposals.models import ConflictDeclaration, Review, ReviewerAssignment, ReviewScore
from tests.factories import create_proposal, create_user, sign_in
from tests.helpers import QueryLog
from tests.proposals.review_helpers import World, actor, add_review, make_world, post

pytestmark = pytest.mark.databases("sqlite", why="review rules are Python")


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def _scores(world: World, first: object, second: object) -> dict[str, object]:
    return {f"score-{world.criteria[0].id}": first, f"score-{world.criteria[1].id}": second}


# --- assigning reviewers -------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 303), ("resident", 403), ("reviewer_a", 403),
                                               ("other_staff", 403), ("admin", 403), ("staff", 200)])
def test_reviewers_page_per_role(client: TestClient[Litestar], world: World, who: str, expected: int) -> None:
    if who != "anonymous":
        sign_in(client, world.people[who])
    response = client.get(f"/staff/challenges/{world.challenge.id}/reviewers", follow_redirects=False)
    assert response.status_code == expected
    if expected == 303:
        assert response.headers["location"].startswith("/account/sign-in")
    if expected == 200:
        assert "審査 一郎" in response.text and "審査 二郎" in response.text


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_staff_search_and_assign(client: TestClient[Litestar], session: Session, world: World) -> None:
    sign_in(client, world.people["staff"])
    page = client.get(f"/staff/challenges/{world.challenge.id}/reviewers", params={"q": "審査"})
    assert page.status_code == 200
    # The reviewer role holder who is not yet assigned; not the resident whose name matches, nor the assigned.
    assert f'id="candidate-{world.people["reviewer_c"].id}"' in page.text
    assert f'id="candidate-{world.people["resident"].id}"' not in page.text
    assert f'id="candidate-{world.people["reviewer_a"].id}"' not in page.text
    by_email = client.get(f"/staff/challenges/{world.challenge.id}/reviewers", params={"q": "KANKYO@"})
    assert f'id="candidate-{world.people["other_staff"].id}"' in by_email.text  # ward staff may review too

    response = post(client, f"/staff/challenges/{world.challenge.id}/reviewers",
                    {"user_id": str(world.people["reviewer_c"].id)})
    assert response.status_code == 303
    assert session.exec(select(ReviewerAssignment).where(
        ReviewerAssignment.user_id == world.people["reviewer_c"].id)).one().assigned_by_id == world.people["staff"].id
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "review.reviewer_assigned")).one()
    assert entry.target_id == str(world.challenge.id)

    again = post(client, f"/staff/challenges/{world.challenge.id}/reviewers", {"user_id": str(world.people["reviewer_c"].id)})
    assert again.status_code == 400 and "審査 三郎" in again.text
    for bad in (str(world.people["resident"].id), "abc", "", "9" * 40):
        refused = post(client, f"/staff/challenges/{world.challenge.id}/reviewers", {"user_id": bad})
        assert refused.status_code == 400, bad
        assert "検索結果" in refused.text or "Choose a person" in refused.text
    assert len(session.exec(select(ReviewerAssignment)).all()) == 3


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_search_is_not_a_pattern(session: Session, world: World) -> None:
    assert review.candidates(session, world.challenge.id, "%") == []
    assert review.candidates(session, world.challenge.id, "   ") == []
    assert [u.id for u in review.candidates(session, world.challenge.id, " 審査  三郎 ")] == [world.people["reviewer_c"].id]
    assert review.candidates(session, world.challenge.id, "審査\x00三郎") == []  # no name has control characters


@pytest.mark.databases("sqlite", "postgresql", why="the unique assignment is the database's")
def test_assigning_twice_at_once_is_refused_and_undone(session: Session, world: World,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Another window assigned the same person between the check and the insert: the database's unique
    assignment refuses the second, the refusal says so and nothing of it is kept (no audit entry)."""
    from proposals.review import workflow

    monkeypatch.setattr(workflow, "is_assigned", lambda *_args: False)
    reviewer = world.people["reviewer_a"]
    with pytest.raises(Invalid) as failed:
        review.assign(session, actor(session, world.people["staff"]), world.challenge.id, reviewer.id)
    assert "審査 一郎" in failed.value.errors["user_id"]
    assert len(session.exec(select(ReviewerAssignment).where(ReviewerAssignment.user_id == reviewer.id)).all()) == 1
    assert session.exec(select(AuditEntry)).first() is None


def test_removing_someone_who_is_no_reviewer(client: TestClient[Litestar], session: Session, world: World) -> None:
    sign_in(client, world.people["staff"])
    url = f"/staff/challenges/{world.challenge.id}/reviewers/remove"
    for bad in ("abc", "", str(world.people["reviewer_c"].id)):
        refused = post(client, url, {"user_id": bad})
        assert refused.status_code == 400, bad
        assert 'id="field-remove"' in refused.text and "審査員ではありません" in refused.text, bad
    assert len(session.exec(select(ReviewerAssignment)).all()) == 2


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_unassign(session: Session, world: World) -> None:
    staff = actor(session, world.people["staff"])
    add_review(session, world.p1, world.people["reviewer_a"], [3, 3], criteria=world.criteria)
    add_review(session, world.p1, world.people["reviewer_b"], [3, 3], criteria=world.criteria, submitted=False)
    with pytest.raises(Invalid) as failed:
        review.unassign(session, staff, world.challenge.id, world.people["reviewer_a"].id)
    assert "remove" in failed.value.errors
    review.unassign(session, staff, world.challenge.id, world.people["reviewer_b"].id)
    assert not review.is_assigned(session, world.people["reviewer_b"].id, world.challenge.id)
    assert session.exec(select(Review).where(Review.reviewer_id == world.people["reviewer_b"].id)).first() is None
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "review.reviewer_unassigned")).one()
    with pytest.raises(Forbidden):
        review.unassign(session, actor(session, world.people["other_staff"]), world.challenge.id,
                        world.people["reviewer_a"].id)


# --- reviewing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 303), ("resident", 403), ("reviewer_c", 403),
                                               ("staff", 403), ("reviewer_a", 200)])
def test_review_pages_per_role(client: TestClient[Litestar], world: World, who: str, expected: int) -> None:
    if who != "anonymous":
        sign_in(client, world.people[who])
    for url in (f"/review/challenges/{world.challenge.id}", f"/review/proposals/{world.p1.id}"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == expected, url
    if expected == 200:
        listing = client.get("/review")
        assert world.challenge.title in listing.text
        page = client.get(f"/review/proposals/{world.p1.id}")
        assert "原価内訳：車両リース 120万円" in page.text  # the confidential part, for assigned reviewers
        assert client.get(f"/review/proposals/{world.draft.id}").status_code == 404


def test_conflict_blocks_scoring(client: TestClient[Litestar], session: Session, world: World) -> None:
    sign_in(client, world.people["reviewer_a"])
    url = f"/review/proposals/{world.p1.id}"
    first = post(client, url, _scores(world, "3", "3") | {"comment": "x", "action": "draft"})
    assert first.status_code == 400 and "利益相反" in first.text  # declare first
    missing = post(client, f"{url}/conflict", {"has_conflict": "maybe"})
    assert missing.status_code == 400
    control = post(client, f"{url}/conflict", {"has_conflict": "yes", "note": "顧問\x1bです"})
    assert control.status_code == 400 and 'id="field-note-error"' in control.text
    assert 'id="has_conflict-yes" name="has_conflict" value="yes" checked' in control.text  # shown again as sent
    assert session.get(ConflictDeclaration, (world.people["reviewer_a"].id, world.p1.id)) is None
    assert post(client, f"{url}/conflict", {"has_conflict": "yes", "note": "提案企業の顧問です"}).status_code == 303
    page = client.get(url)
    assert 'id="review-form"' not in page.text
    refused = post(client, url, _scores(world, "3", "3") | {"comment": "x", "action": "submit"})
    assert refused.status_code == 400
    assert session.exec(select(Review)).first() is None
    declaration = session.get(ConflictDeclaration, (world.people["reviewer_a"].id, world.p1.id))
    assert declaration is not None and declaration.has_conflict and declaration.note == "提案企業の顧問です"


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_score_validation(client: TestClient[Litestar], session: Session, world: World) -> None:
    sign_in(client, world.people["reviewer_a"])
    url = f"/review/proposals/{world.p1.id}"
    assert post(client, f"{url}/conflict", {"has_conflict": "no"}).status_code == 303
    for first, second in (("6", "3"), ("0", "3"), ("abc", "3"), ("3.5", "3"), ("-1", "3")):
        response = post(client, url, _scores(world, first, second) | {"comment": "コメント", "action": "draft"})
        assert response.status_code == 400, first
        assert "1から5" in response.text or "1 to 5" in response.text
    incomplete = post(client, url, _scores(world, "4", "") | {"comment": "コメント", "action": "submit"})
    assert incomplete.status_code == 400 and "地域への効果" in incomplete.text
    first = f"score-{world.criteria[0].id}"
    assert f'id="{first}-4" name="{first}" value="4" checked' in incomplete.text  # the scores as sent, again
    assert "コメント</textarea>" in incomplete.text
    no_comment = post(client, url, _scores(world, "4", "5") | {"comment": "  ", "action": "submit"})
    assert no_comment.status_code == 400
    huge = post(client, url, _scores(world, "4", "5") | {"comment": "長" * (review.COMMENT_MAX + 1), "action": "submit"})
    assert huge.status_code == 400
    assert session.exec(select(Review)).first() is None  # nothing changed

    draft = post(client, url, _scores(world, "４", "") | {"comment": "途中まで", "action": "draft"})  # full-width digit
    assert draft.status_code == 303
    saved = session.exec(select(Review)).one()
    assert saved.submitted_at is None
    assert [s.score for s in session.exec(select(ReviewScore)).all()] == [4]
    assert post(client, url, _scores(world, "4", "5") | {"comment": "よい", "action": "submit"}).status_code == 303
    session.refresh(saved)
    assert saved.submitted_at is not None
    final = post(client, url, _scores(world, "1", "1") | {"comment": "変更", "action": "submit"})
    assert final.status_code == 400  # a submitted review is final
    assert sorted(s.score for s in session.exec(select(ReviewScore)).all()) == [4, 5]


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_review_only_in_review_phase(session: Session, world: World) -> None:
    world.challenge.phase = "voting"
    session.add(world.challenge)
    session.commit()
    reviewer = actor(session, world.people["reviewer_a"])
    with pytest.raises(Invalid) as failed:
        review.declare_conflict(session, reviewer, world.p1.id, review.DeclareForm(has_conflict="no"))
    assert "has_conflict" in failed.value.errors
    with pytest.raises(Forbidden):
        review.declare_conflict(session, actor(session, world.people["reviewer_c"]), world.p1.id,
                                review.DeclareForm(has_conflict="no"))


def test_blind_until_submitted(client: TestClient[Litestar], session: Session, world: World) -> None:
    payload = "<script>alert(1)</script>"
    add_review(session, world.p1, world.people["reviewer_a"], [2, 5], comment=f"Aの講評 {payload}", criteria=world.criteria)
    sign_in(client, world.people["reviewer_b"])
    url = f"/review/proposals/{world.p1.id}"
    post(client, f"{url}/conflict", {"has_conflict": "no"})
    before = client.get(url)
    assert "Aの講評" not in before.text and 'id="others-hidden"' in before.text
    assert post(client, url, _scores(world, "3", "4") | {"comment": "Bの下書き", "action": "draft"}).status_code == 303
    assert "Aの講評" not in client.get(url).text  # a draft is not a submission

    # A draft of B is never shown to A either.
    with TestClient(client.app, base_url="http://testserver.local") as other:
        sign_in(other, world.people["reviewer_a"])
        assert "Bの下書き" not in other.get(url).text

    assert post(client, url, _scores(world, "3", "4") | {"comment": "Bの講評", "action": "submit"}).status_code == 303
    after = client.get(url)
    assert "Aの講評" in after.text and 'id="others-table"' in after.text
    assert payload not in after.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in after.text  # escaped
    stored = session.exec(select(Review).where(Review.reviewer_id == world.people["reviewer_a"].id)).one()
    assert stored.comment == f"Aの講評 {payload}"  # kept verbatim

    found = review.proposal_for_reviewer(session, actor(session, world.people["reviewer_b"]), world.p1.id)
    assert [o.scores for o in found.others] == [{world.criteria[0].id: 2, world.criteria[1].id: 5}]


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_declaring_conflict_drops_a_draft(session: Session, world: World) -> None:
    reviewer = actor(session, world.people["reviewer_a"])
    review.declare_conflict(session, reviewer, world.p1.id, review.DeclareForm(has_conflict="no"))
    review.save_review(session, reviewer, world.p1.id,
                       review.ReviewForm(scores={world.criteria[0].id: "3"}, comment="途中"), submit=False)
    review.declare_conflict(session, reviewer, world.p1.id, review.DeclareForm(has_conflict="yes", note="関係があります"))
    assert session.exec(select(Review)).first() is None


@pytest.mark.databases("sqlite", "postgresql", why="the one review per reviewer is the database's")
def test_a_review_saved_twice_at_once_is_refused_and_undone(session: Session, world: World,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Another window created the review between the read and the insert: the second save is refused
    and the first one's draft stays as it was."""
    from proposals.review import workflow

    reviewer = actor(session, world.people["reviewer_a"])
    review.declare_conflict(session, reviewer, world.p1.id, review.DeclareForm(has_conflict="no"))
    review.save_review(session, reviewer, world.p1.id, review.ReviewForm(scores={world.criteria[0].id: 2},
                                                                          comment="最初の窓"), submit=False)
    declared = session.get(ConflictDeclaration, (world.people["reviewer_a"].id, world.p1.id))
    monkeypatch.setattr(workflow, "my_review", lambda *_args: (declared, None))
    with pytest.raises(Invalid) as failed:
        review.save_review(session, reviewer, world.p1.id, review.ReviewForm(scores={world.criteria[0].id: 5},
                                                                              comment="二つ目の窓"), submit=False)
    assert "review" in failed.value.errors
    saved = session.exec(select(Review)).one()
    assert saved.comment == "最初の窓"
    assert [s.score for s in session.exec(select(ReviewScore)).all()] == [2]


# --- results -------------------------------------------------------------------------------------


def _hand_example(session: Session, world: World) -> None:
    a, b = world.people["reviewer_a"], world.people["reviewer_b"]
    add_review(session, world.p1, a, [4, 5], criteria=world.criteria)
    add_review(session, world.p1, b, [2, 3], criteria=world.criteria)
    add_review(session, world.p2, a, [5, 5], criteria=world.criteria)
    add_review(session, world.p2, world.people["reviewer_c"], [1, 1], criteria=world.criteria, submitted=False)
    session.add(ConflictDeclaration(reviewer_id=b.id, proposal_id=world.p2.id, has_conflict=True))  # type: ignore[arg-type]
    world.p1.vote_count, world.p1.comment_count = 12, 4
    session.add(world.p1)
    session.commit()


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_weighted_totals_by_hand(session: Session, world: World) -> None:
    _hand_example(session, world)
    found = review.results(session, actor(session, world.people["staff"]), world.challenge.id)
    c1, c2 = (c.id for c in world.criteria)
    first, second = found.rows
    # p2: A alone scored 5 and 5 -> (40*5 + 60*5) / 5 = 100; B declared a conflict; C's draft does not count.
    assert first.proposal.id == world.p2.id
    assert first.total == pytest.approx(100.0) and first.reviews == 1 and first.conflicts == 1
    assert first.spread is None
    # p1: averages 3 and 4 -> (40*3 + 60*4) / 5 = 72; A's own total 92, B's 52 -> spread 40.
    assert second.averages == {c1: pytest.approx(3.0), c2: pytest.approx(4.0)}
    assert second.total == pytest.approx(72.0)
    assert second.spread == pytest.approx(40.0)
    assert (second.reviews, second.conflicts) == (2, 0)
    assert found.reviewers == 2
    assert review.weighted_total(world.criteria, {}) is None


def test_results_page_and_csv(client: TestClient[Litestar], session: Session, world: World) -> None:
    _hand_example(session, world)
    hostile = create_proposal(session, world.challenge, world.organisation, title='=HYPERLINK("http://evil")')
    add_review(session, hostile, world.people["reviewer_a"], [1, 2], criteria=world.criteria)
    for who in ("other_staff", "reviewer_a", "resident"):
        with TestClient(client.app, base_url="http://testserver.local") as other:
            sign_in(other, world.people[who])
            assert other.get(f"/staff/challenges/{world.challenge.id}/review").status_code == 403
            assert other.get(f"/staff/challenges/{world.challenge.id}/review.csv").status_code == 403
    assert client.get(f"/staff/challenges/{world.challenge.id}/review", follow_redirects=False).status_code == 303

    sign_in(client, world.people["staff"])
    page = client.get(f"/staff/challenges/{world.challenge.id}/review")
    assert page.status_code == 200
    assert page.text.index(f'id="result-{world.p2.id}"') < page.text.index(f'id="result-{world.p1.id}"')
    row = page.text[page.text.index(f'id="result-{world.p1.id}"'):]
    assert '<td class="result-total">72.0</td>' in row and '<td class="result-spread">40.0</td>' in row
    assert '<td class="result-votes">12</td>' in row

    response = client.get(f"/staff/challenges/{world.challenge.id}/review.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"  # declared once
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 4
    assert "実現可能性" in rows[0][5] and "地域への効果" in rows[0][6]
    assert rows[1][:3] == ["1", str(world.p2.id), "電動カートの相乗り"] and rows[1][4] == "100.0"
    assert rows[2][1] == str(world.p1.id)
    assert rows[2][4:] == ["72.0", "3.00", "4.00", "40.0", "2", "0", "12", "4"]
    assert rows[3][2] == "'=HYPERLINK(\"http://evil\")"  # a formula is kept from running


def _many_proposals(session: Session, world: World, count: int) -> None:
    reviewers = [world.people["reviewer_a"], world.people["reviewer_b"]]
    for index in range(count):
        proposal = create_proposal(session, world.challenge, world.organisation, title=f"提案 {index}")
        for number, reviewer in enumerate(reviewers):
            add_review(session, proposal, reviewer, [1 + (index + number) % 5, 1 + index % 5], criteria=world.criteria)


def test_results_query_count_is_constant(client: TestClient[Litestar], session: Session, world: World,
                                         query_log: QueryLog) -> None:
    sign_in(client, world.people["staff"])
    url = f"/staff/challenges/{world.challenge.id}/review"
    _many_proposals(session, world, 1)  # 3 submitted proposals with the two of the world
    client.get(url)
    query_log.statements.clear()
    assert client.get(url).status_code == 200
    few = query_log.count
    _many_proposals(session, world, 17)  # 20
    query_log.statements.clear()
    page = client.get(url)
    assert page.status_code == 200 and page.text.count('id="result-') == 20
    assert query_log.count == few, str(query_log)


@pytest.mark.databases("sqlite", "postgresql", why="scores and aggregates in SQL")
def test_reviewer_sees_own_progress(session: Session, world: World) -> None:
    reviewer = actor(session, world.people["reviewer_a"])
    add_review(session, world.p1, world.people["reviewer_a"], [3, 3], criteria=world.criteria)
    review.declare_conflict(session, reviewer, world.p2.id, review.DeclareForm(has_conflict="yes"))
    page = review.my_challenges(session, reviewer)
    assert [(i.proposals, i.submitted, i.conflicts, i.remaining) for i in page.items] == [(2, 1, 1, 0)]
    states = {i.proposal.id: i.state for i in review.challenge_for_reviewer(session, reviewer, world.challenge.id).page.items}
    assert states == {world.p1.id: "submitted", world.p2.id: "conflict"}
    nobody = create_user(session, "nobody@example.jp", roles=[])
    assert review.my_challenges(session, actor(session, nobody)).total == 0
