"""The challenge page and the challenge list read a fixed number of queries, signed in or not, whatever the
number of owners, criteria, KPIs, phase dates, attachments, questions, briefings, proposals, comments,
trials and followers (issue 13: at most 10 queries on any page)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session

from cocreate.accounts.models import Department, Organisation, Role, User
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.notifications.models import Follow
from labs.models import Trial, TrialOrganisation, TrialStatus
from proposals.models import (
    AttachmentKind,
    BriefingRegistration,
    BriefingSession,
    Category,
    Challenge,
    ChallengeCriterion,
    ChallengeDepartment,
    ChallengeKpi,
    ChallengePhaseDate,
    Phase,
    PhaseChange,
    Question,
    QuestionStatus,
    QuestionVisibility,
)
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)
from tests.helpers import count_queries
from tests.proposals.public_helpers import add_attachment

pytestmark = pytest.mark.databases(
    "sqlite", "postgresql", why="query counts depend on the SQL each dialect is given (window functions, joins)")

BUDGET = 10
"""Issue 13: at most 10 queries on any page, whatever its data size."""


@dataclass
class World:
    lead: Department
    challenge: Challenge
    staff: User  # staff of the lead department
    resident: User
    member: User  # member of a verified organisation with a proposal on the challenge
    organisation: Organisation
    others: list[Organisation]
    rounds: int = 0


@pytest.fixture
def world(session: Session) -> World:
    lead = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                             division_en="Urban Development", section_en="Transport Policy")
    challenge = create_challenge(session, lead, phase="accepting", title="高島平の移動を支えたい")
    member = create_user(session, "member@example.jp", display_name="提案 一郎")
    return World(
        lead=lead, challenge=challenge,
        staff=create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, lead.id)]),  # type: ignore[list-item]
        resident=create_user(session, "resident@example.jp", display_name="区民 花子"),
        member=member, organisation=create_organisation(session, admin=member, verified=True),
        others=[],
    )


def grow(session: Session, w: World, n: int) -> None:
    """``n`` more of every kind of row the challenge page shows (co-owners, criteria, KPIs, phase dates and
    changes, attachments, questions, briefings and registrations, proposals, comments, trials, followers)."""
    challenge = w.challenge
    cid = challenge.id
    assert cid is not None
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    viewers = (w.staff, w.resident, w.member)
    for _ in range(n):
        w.rounds += 1
        r = w.rounds
        department = create_department(session, f"dept-{r}", division_ja=f"部{r}", section_ja=f"課{r}",
                                       division_en=f"Division {r}", section_en=f"Section {r}")
        session.add(ChallengeDepartment(challenge_id=cid, department_id=department.id))  # type: ignore[arg-type]
        session.add(ChallengeCriterion(challenge_id=cid, position=r, name=f"基準{r}", weight=r % 100,
                                       description=f"説明{r}"))
        session.add(ChallengeKpi(challenge_id=cid, position=r, indicator=f"指標{r}", baseline=f"{r}",
                                 target=f"{r + 1}", unit="回"))
        schedulable = [p for p in (Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW, Phase.DECIDED, Phase.TRIAL,
                                   Phase.COMPLETED)]
        if r <= len(schedulable):
            session.add(ChallengePhaseDate(challenge_id=cid, phase=schedulable[r - 1],
                                           starts_at=now + timedelta(days=10 * r)))
        session.add(PhaseChange(challenge_id=cid, from_phase=Phase.PUBLISHED, to_phase=Phase.ACCEPTING,
                                changed_at=now - timedelta(days=r), reason=f"理由{r}"))
        asker = create_user(session, f"asker{r}@example.jp", display_name=f"質問者{r}")
        for visibility, status in ((QuestionVisibility.PUBLIC, QuestionStatus.OPEN),
                                   (QuestionVisibility.PUBLIC, QuestionStatus.ANSWERED),
                                   (QuestionVisibility.PRIVATE, QuestionStatus.ANSWERED),
                                   (QuestionVisibility.PRIVATE, QuestionStatus.OPEN)):
            answered = status is QuestionStatus.ANSWERED
            session.add(Question(challenge_id=cid, asker_id=(w.member if r % 2 else asker).id,
                                 visibility=visibility, status=status, body=f"質問{r}",
                                 answer=f"回答{r}" if answered else "", answered_at=now if answered else None,
                                 answered_by_id=w.staff.id if answered else None))
        for days in (r, -r):
            starts = now + timedelta(days=days)
            briefing = BriefingSession(challenge_id=cid, title=f"説明会{r}", starts_at=starts,
                                       ends_at=starts + timedelta(hours=1), place="本庁舎", capacity=10,
                                       registered_count=len(viewers))
            session.add(briefing)
            session.flush()
            for viewer in viewers:
                session.add(BriefingRegistration(session_id=briefing.id, user_id=viewer.id))  # type: ignore[arg-type]
        other = create_organisation(session, f"提案組織{r}", admin=asker, verified=True)
        w.others.append(other)
        create_proposal(session, challenge, other, title=f"提案{r}", author=asker)
        create_proposal(session, challenge, w.organisation, title=f"自組織の提案{r}", author=w.member,
                        status="draft" if r % 2 else "submitted")
        for author in (asker, *viewers):
            session.add(Comment(target_type="challenge", target_id=cid, author_id=author.id, body=f"意見{r}"))
        trial = Trial(challenge_id=cid, department_id=department.id, title=f"実証{r}", summary="要約",
                      status=TrialStatus.RUNNING, starts_on=date.today(), published=True)
        session.add(trial)
        session.flush()
        session.add(TrialOrganisation(trial_id=trial.id, organisation_id=other.id, is_lead=True))  # type: ignore[arg-type]
        session.add(Follow(user_id=asker.id, target_type="challenge", target_id=cid))  # type: ignore[arg-type]
        for kind in AttachmentKind:
            add_attachment(session, challenge, kind, title=f"{kind}{r}")
    challenge.proposal_count = session.get(Challenge, cid).proposal_count  # type: ignore[union-attr]
    session.commit()


@contextmanager
def browser(app: Litestar, user: User | None) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://testserver.local") as client:
        if user is not None:
            sign_in(client, user)
        yield client


def counted(app: Litestar, client: TestClient[Litestar], url: str) -> tuple[int, str]:
    client.get(url)  # a first view may write the session (a message shown once); measure the next
    with count_queries(app.state.database.engine) as log:
        response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    return log.count, str(log)


VIEWERS = ["anonymous", "resident", "member", "staff"]


def shown(page: str, prefix: str) -> int:
    return len(re.findall(rf'id="{prefix}-\d+"', page))


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_challenge_page_reads_at_most_ten_queries_whatever_its_rows(
    app: Litestar, session: Session, world: World, viewer: str
) -> None:
    user = None if viewer == "anonymous" else getattr(world, viewer)
    url = f"/challenges/{world.challenge.id}"
    grow(session, world, 2)
    with browser(app, user) as client:
        few, _log = counted(app, client, url)
        grow(session, world, 4)
        many, log = counted(app, client, url)
        page = client.get(url).text
    assert many == few, log
    assert many <= BUDGET, log
    # Every kind of row is on the page, in its grown number: the queries left nothing out.
    assert shown(page, "owner") == 7 and shown(page, "criterion") == 6 and shown(page, "kpi") == 6
    assert shown(page, "attachment") == 12 and shown(page, "challenge-trial") == 6
    assert 'id="timeline-trial"' in page and 'id="briefings"' in page and 'id="comments"' in page
    assert f'id="follow-challenge-{world.challenge.id}-count"' in page
    if viewer == "staff":
        assert 'id="questions-queue"' in page and shown(page, "answer-form") > 0
    if viewer == "member":
        assert 'id="propose-button"' in page and "自組織の提案6" in page  # their own proposals, drafts too
    if viewer == "resident":
        assert 'id="propose-reason"' in page and 'id="questions-queue"' not in page


# --- the challenge list's filter menus ---------------------------------------------------------------


def menu(page: str, name: str) -> list[str]:
    """The values a filter menu offers (its "all" entry left out)."""
    select = page.split(f'<select id="filter-{name}"', 1)[1].split("</select>", 1)[0]
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


def catalogue(session: Session, departments: list[Department], start: int, count: int) -> None:
    """``count`` public challenges spread over the departments, areas and categories, and as many drafts
    with areas and departments no public challenge has."""
    categories = ["transport_mobility", "environment_energy", "health_welfare"]
    for n in range(start, start + count):
        create_challenge(session, departments[n % 3], phase=("published", "accepting", "completed")[n % 3],
                         title=f"課題{n}", area=("高島平", "舟渡", "")[n % 3], category=categories[n % 3],
                         co_owners=[departments[3]] if n % 5 == 0 else ())
        create_challenge(session, departments[4], phase="draft", title=f"下書き{n}", area="秘密の地区",
                         category="admin_dx")


def test_the_filter_menus_list_what_public_challenges_have_in_a_fixed_number_of_queries(
    app: Litestar, session: Session, world: World
) -> None:
    departments = [world.lead] + [create_department(session, f"menu-{n}", division_ja=f"部{n}", section_ja=f"課{n}",
                                                    division_en=f"Division {n}", section_en=f"Section {n}")
                                  for n in range(4)]
    world.challenge.phase = Phase.DRAFT  # the fixture's own challenge is not in the menus either
    session.add(world.challenge)
    session.commit()
    counts = []
    with browser(app, world.resident) as client:
        for start, count in ((0, 3), (3, 27)):
            catalogue(session, departments, start, count)
            queries, log = counted(app, client, "/challenges")
            counts.append(queries)
            page = client.get("/challenges").text
            assert menu(page, "area") == ["舟渡", "高島平"]  # sorted; drafts' areas never
            assert menu(page, "department") == [str(d.id) for d in sorted(departments[:4], key=lambda d: d.code)]
            assert menu(page, "category") == [c.value for c in Category]  # every category, as before
            assert queries <= BUDGET, log
    assert counts[0] == counts[1], log
