"""Links of the proposals pages are built from route names (``url_for`` in templates, ``route_reverse`` and
:func:`cocreate.web.links.route_path` in routes, :mod:`proposals.paths` where there is no request): the
helpers give the routes' own paths, and the links of the main pages (challenges, questions, briefings,
proposals, votes, the staff pages and the reviewers' pages), as a visitor, a resident, an organisation
member, owning staff and a reviewer see them, lead to pages that answer 200 (forms: to routes that take a
post)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Role, User
from cocreate.db.base import utcnow
from proposals import paths
from proposals.models import BriefingSession, ChallengeCriterion, QuestionStatus, ReviewerAssignment
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)
from tests.helpers import csrf_token
from tests.links import check_links
from tests.proposals.public_helpers import add_question
from tests.proposals.staff_helpers import pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.databases("sqlite", why="links come from the app's routes")


def test_each_path_of_code_without_a_request_is_its_routes_path(app: Litestar) -> None:
    for name, (helper, parameters) in paths.CHECKED.items():
        assert helper(**parameters) == app.route_reverse(name, **parameters), name


@pytest.mark.parametrize(("name", "parameters", "path"), [
    ("challenge-list", {}, "/challenges"),
    ("staff-challenges", {}, "/staff/challenges"),
    ("review-home", {}, "/review"),
    ("staff-reviewers", {"challenge_id": 3}, "/staff/challenges/3/reviewers"),
    ("briefing-ics", {"challenge_id": 3, "filename": "45.ics"}, "/challenges/3/briefings/45.ics"),
    ("proposal-attachment", {"proposal_id": 7, "file_id": 8}, "/proposals/7/attachments/8"),
    ("challenge-attachment", {"challenge_id": 3, "attachment_id": 9}, "/challenges/3/attachments/9"),
    ("api-proposal-list", {"challenge_id": 3}, "/api/v1/challenges/3/proposals"),
])
def test_the_routes_have_the_paths_they_had(app: Litestar, name: str, parameters: dict[str, object],
                                            path: str) -> None:
    """Redirects, pagination and API links name these routes: the paths they give are those written before."""
    assert app.route_reverse(name, **parameters) == path


# --- the pages' links ----------------------------------------------------------------------------


def _as(client: TestClient[Litestar], user: User | None) -> None:
    """``client`` signed out, then signed in as ``user`` (None: a visitor)."""
    client.post("/account/sign-out", data={"_csrf_token": csrf_token(client)})
    client.cookies.clear()
    if user is not None:
        sign_in(client, user)


def test_the_links_of_proposals_pages_lead_to_pages(session: Session, client: TestClient[Litestar]) -> None:
    transport = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                                  division_en="Urban Development", section_en="Transport Policy")
    staff = create_user(session, "kotsu@example.jp", display_name="交通 太郎", roles=[(Role.STAFF, transport.id)])  # type: ignore[list-item]
    reviewer = create_user(session, "shinsa@example.jp", display_name="審査 一郎", roles=[Role.REVIEWER])
    create_user(session, "shinsa-2@example.jp", display_name="審査 二郎", roles=[Role.REVIEWER])  # to assign
    resident = create_user(session, "resident@example.jp", display_name="板橋 花子")
    member = create_user(session, "member@example.jp", display_name="提案 仲間")
    organisation = create_organisation(session, admin=member, verified=True)
    create_organisation(session, "板橋まちづくりNPO", verified=True)  # a co-author to invite

    accepting = create_challenge(session, transport, phase="accepting", title="バス停を地域の拠点にしたい")
    voting = create_challenge(session, transport, phase="voting", title="公園の使い方を考えたい")
    in_review = create_challenge(session, transport, phase="review", title="高島平の移動を支えたい")
    draft_challenge = create_challenge(session, transport, phase="draft", title="下書きの課題")
    for number in range(20):  # a second page of challenges, public and staff
        create_challenge(session, transport, phase="published", title=f"課題その{number + 1}")

    # Questions: more than a page, one answered, one merged into it.
    answered = add_question(session, accepting, resident, "データはありますか？", status=QuestionStatus.ANSWERED,
                            answer="あります。")
    merged = add_question(session, accepting, resident, "データは公開されますか？", status=QuestionStatus.MERGED)
    merged.merged_into_id = answered.id
    session.add(merged)
    for number in range(21):
        opened = add_question(session, accepting, resident, f"質問その{number + 1}")
    soon = utcnow() + timedelta(days=7)
    briefing = BriefingSession(challenge_id=accepting.id, title="オンライン説明会", starts_at=soon,  # type: ignore[arg-type]
                               ends_at=soon + timedelta(hours=1), place="区役所", capacity=30)
    session.add(briefing)
    submitted = create_proposal(session, accepting, organisation, title="バス停に掲示板を", author=member)
    draft = create_proposal(session, accepting, organisation, status="draft", title="下書きの提案", author=member)
    to_vote = create_proposal(session, voting, organisation, title="公園で朝市を", author=member)
    to_review = create_proposal(session, in_review, organisation, title="AIデマンド交通", author=member)
    session.add(ChallengeCriterion(challenge_id=in_review.id, position=0, name="実現可能性", weight=100))  # type: ignore[arg-type]
    session.add(ReviewerAssignment(challenge_id=in_review.id, user_id=reviewer.id, assigned_by_id=staff.id))  # type: ignore[arg-type]
    session.commit()
    session.refresh(briefing)

    # Files to link to: the challenge's document and image, the proposal's PDF.
    _as(client, staff)
    assert upload(client, accepting.id, pdf_bytes(), "資料.pdf", title="資料").status_code == 303
    assert upload(client, accepting.id, png_bytes(), "写真.png", kind="image", title="バス停").status_code == 303
    _as(client, member)
    sent = client.post(f"/proposals/{submitted.id}/attachments",
                       data={"_csrf_token": csrf_token(client), "attachment_title": "計画書"},
                       files={"file": ("計画書.pdf", pdf_bytes(), "application/pdf")}, follow_redirects=False)
    assert sent.status_code == 303

    cid, qid = accepting.id, answered.id
    _as(client, None)
    followed, _posts = check_links(client, [
        "/challenges", "/challenges?page=2", f"/challenges/{cid}", f"/challenges/{cid}/history",
        f"/challenges/{cid}/questions", f"/challenges/{cid}/questions?page=2", f"/challenges/{cid}/questions/{qid}",
        f"/challenges/{cid}/questions/{merged.id}", f"/challenges/{cid}/briefings", f"/challenges/{cid}/proposals",
        f"/proposals/{submitted.id}", f"/proposals/{to_vote.id}",
    ])
    assert {f"/account/sign-in?next=/challenges/{cid}", f"/account/sign-in?next=%2Fproposals%2F{to_vote.id}",
            f"/challenges/{cid}/proposals.atom", f"/challenges/{cid}/answers.atom", "/challenges.atom",
            f"/challenges/{cid}/questions?page=2", f"/challenges/{cid}/questions", f"/challenges/{cid}/history",
            f"/challenges/{cid}/questions/{qid}", f"/challenges/{cid}/briefings/{briefing.id}.ics",
            f"/proposals/{submitted.id}", f"/challenges/{cid}/proposals"} <= followed
    assert any(re.fullmatch(rf"/challenges/{cid}/attachments/\d+", link) for link in followed)
    assert any(re.fullmatch(rf"/proposals/{submitted.id}/attachments/\d+", link) for link in followed)
    assert any(link.startswith("/challenges?") and "page=2" in link for link in followed)

    _as(client, resident)
    followed, posts = check_links(client, [
        f"/challenges/{cid}", f"/challenges/{cid}/briefings", f"/challenges/{cid}/questions/{qid}",
        f"/proposals/{to_vote.id}",
    ])
    assert {f"/challenges/{cid}/questions", f"/challenges/{cid}/follow",
            f"/challenges/{cid}/briefings/{briefing.id}/register", f"/proposals/{to_vote.id}/vote"} <= posts
    assert f"/reports/proposal/{to_vote.id}" in followed

    _as(client, member)
    registered = client.post(f"/challenges/{cid}/briefings/{briefing.id}/register",
                             data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert registered.status_code == 303
    followed, posts = check_links(client, [
        f"/challenges/{cid}", f"/challenges/{cid}/proposals/new", f"/proposals/{submitted.id}",
        f"/proposals/{submitted.id}/edit", f"/proposals/{draft.id}", f"/proposals/{draft.id}/edit",
        f"/proposals/{submitted.id}/versions",
    ])
    assert {f"/challenges/{cid}/proposals/new", f"/proposals/{submitted.id}/edit", f"/proposals/{draft.id}",
            f"/proposals/{submitted.id}/versions", f"/challenges/{cid}/proposals/similar"} <= followed
    assert {f"/challenges/{cid}/proposals/new", f"/proposals/{draft.id}/submit", f"/proposals/{draft.id}/edit",
            f"/proposals/{submitted.id}/withdraw", f"/proposals/{draft.id}/coauthors",
            f"/proposals/{submitted.id}/attachments", f"/challenges/{cid}/briefings/{briefing.id}/cancel-registration",
            } <= posts

    _as(client, staff)
    staff_pages = f"/staff/challenges/{cid}"
    followed, posts = check_links(client, [
        "/staff/challenges", "/staff/challenges?page=2", "/staff/challenges/new", f"{staff_pages}/edit",
        f"{staff_pages}/preview", f"/staff/challenges/{draft_challenge.id}/edit", f"{staff_pages}/briefings",
        f"{staff_pages}/briefings/new", f"{staff_pages}/briefings/{briefing.id}/edit",
        f"{staff_pages}/briefings/{briefing.id}/cancel", f"{staff_pages}/briefings/{briefing.id}/registrants",
        f"{staff_pages}/voting", f"/staff/challenges/{in_review.id}/reviewers?q=審査",
        f"/staff/challenges/{in_review.id}/review", f"/staff/challenges/{in_review.id}/decisions",
        f"/challenges/{cid}", f"/challenges/{cid}/questions/{opened.id}",
    ])
    assert {"/staff/challenges/new", "/staff/challenges?page=2", f"{staff_pages}/briefings", f"{staff_pages}/voting",
            f"/staff/challenges/{in_review.id}/reviewers", f"/staff/challenges/{in_review.id}/review.csv",
            f"/staff/challenges/{in_review.id}/decisions", f"{staff_pages}/briefings/{briefing.id}/registrants.csv",
            } <= followed
    assert {"/staff/challenges/new", f"{staff_pages}/edit", f"{staff_pages}/phase", f"{staff_pages}/attachments",
            f"/staff/challenges/{draft_challenge.id}/publish", f"{staff_pages}/briefings",
            f"{staff_pages}/briefings/{briefing.id}/edit", f"{staff_pages}/briefings/{briefing.id}/cancel",
            f"{staff_pages}/voting", f"/staff/challenges/{in_review.id}/reviewers",
            f"/staff/challenges/{in_review.id}/reviewers/remove", f"/staff/challenges/{in_review.id}/decisions",
            f"/challenges/{cid}/questions/{opened.id}/answer", f"/challenges/{cid}/questions/{opened.id}/pin",
            f"/challenges/{cid}/questions/{opened.id}/merge", f"/challenges/{cid}/questions/{opened.id}/hide",
            } <= posts

    _as(client, reviewer)
    followed, posts = check_links(client, ["/review", f"/review/challenges/{in_review.id}",
                                            f"/review/proposals/{to_review.id}"])
    assert {f"/review/challenges/{in_review.id}", f"/review/proposals/{to_review.id}", "/review"} <= followed
    assert f"/review/proposals/{to_review.id}/conflict" in posts
