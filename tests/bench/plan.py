"""What a benchmark dataset holds, decided once and deterministically: who registers, which organisations
exist, which challenges, proposals, comments and votes, with their text and times.

A :class:`Plan` is written either through the real services (``tests/bench/test_bulk.py``, on a tiny
shape) or in bulk (:mod:`tests.bench.bulk`); the test proves that both leave the same rows. The story
a plan tells, in the order the services would run it:

1. every person registers (terms and privacy consents, a confirmation e-mail) and confirms the address;
2. the demo administrator makes one staff member per department;
3. one member per organisation registers it, and the administrator verifies it (an e-mail tells them);
4. staff draft and publish the challenges with their schedule; the schedule moves them on to
   accepting proposals (and raising the vote limit of the target challenge is audited);
5. organisation members draft and submit proposals (versions, follows, audit entries);
6. the schedule moves the challenges into comments and voting;
7. residents, proposers (marked official) and staff comment, reply and vote;
8. the schedule moves some challenges on to review.

The first challenge is the *target*: the peer's data shape (200 submitted proposals, ~1,450 votes, one
proposal with 1,000 comments = 900 threads + 100 replies, one with 20) on which the pages are measured.
Tasks the services queue for the worker (notifying followers, delivering e-mail) are not part of the
dataset: it is the state the web requests leave, before the worker has run.

Large parts (votes, comments) are generated lazily, proposal by proposal, each from its own seed, so a
ward-scale plan fits in memory and every consumer sees the same rows whatever order it reads them in.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from cocreate.accounts.corporate_number import check_digit
from cocreate.db.base import utcnow
from cocreate.demo import DEMO_PASSWORD, DEPARTMENTS
from proposals.models import Category, Phase
from tests.bench import text

PASSWORD = DEMO_PASSWORD
"""Every generated account signs in with the published demo password (docs/demo-accounts.md)."""

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Shape:
    """Sizes of a dataset. ``users`` = staff + organisation members + residents (voters come on top)."""

    name: str
    residents: int
    organisations: int
    staff: int
    """One staff member (and challenge owner) per department, in the demo's department order."""
    challenges: int
    proposals: int
    comments: int
    votes: int
    voters: int = 64
    """Extra accounts with no votes yet: the benchmark's concurrent voters."""
    target_proposals: int = 200
    target_votes: int = 1450
    big_thread: tuple[int, int] = (900, 100)
    """Comments on the target's first proposal: top level, replies."""
    small_thread: int = 20
    """Comments on the target's second proposal."""
    target_vote_limit: int = 200
    """Votes a resident may give in the target challenge: all of its proposals, so that the voters of
    the benchmark never run out (the staff form allows up to 50; the column has no limit)."""

    @property
    def users(self) -> int:
        return self.staff + self.organisations + self.residents


SHAPES = {
    "peer": Shape("peer", residents=40, organisations=20, staff=1, challenges=1, proposals=200, comments=1020,
                  votes=1450),
    "ward": Shape("ward", residents=10_000 - 8 - 600, organisations=600, staff=8, challenges=100,
                  proposals=20_000, comments=200_000, votes=1_000_000),
}
TINY = Shape("tiny", residents=6, organisations=3, staff=2, challenges=3, proposals=9, comments=15, votes=20,
             voters=2, target_proposals=4, target_votes=9, big_thread=(4, 2), small_thread=2, target_vote_limit=4)
"""Small enough to build through the services in a test, and with every kind of row the others have."""


# --- the specs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSpec:
    index: int
    email: str
    display_name: str
    kind: str  # staff, member, resident, voter
    locale: str
    registered_at: datetime
    department: str | None = None
    """Department code of a staff member."""


@dataclass(frozen=True)
class OrganisationSpec:
    index: int
    name: str
    kind: str
    corporate_number: str
    address: str
    website: str
    description: str
    admin: int
    """User index of the member who registers it (its administrator)."""
    created_at: datetime
    verified_at: datetime


@dataclass(frozen=True)
class KpiSpec:
    indicator: str
    baseline: str
    target: str
    unit: str


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    weight: int
    description: str


@dataclass(frozen=True)
class ChallengeSpec:
    index: int
    staff: int
    """User index of the staff member who drafts and publishes it."""
    department: str
    co_owners: tuple[str, ...]
    category: str
    area: str
    title: str
    summary: str
    background: str
    current_situation: str
    desired_outcome: str
    constraints: str
    eligibility: str
    support_facilities: str
    support_data: str
    support_other: str
    budget_cap_yen: int | None
    contact_name: str
    contact_email: str
    contact_phone: str
    criteria: tuple[CriterionSpec, ...]
    kpis: tuple[KpiSpec, ...]
    created_at: datetime
    published_at: datetime
    schedule: dict[Phase, datetime]
    final_phase: Phase
    vote_limit: int | None
    """None: the default limit (3)."""
    proposals: range = range(0)
    """Indexes of its proposals."""

    def phase_changes(self) -> list[tuple[Phase, Phase, datetime]]:
        """The moves the schedule makes after publication (from, to, when), up to the final phase."""
        moves = [(Phase.PUBLISHED, Phase.ACCEPTING, self.schedule[Phase.ACCEPTING] + MINUTE),
                 (Phase.ACCEPTING, Phase.VOTING, self.schedule[Phase.VOTING] + MINUTE)]
        if self.final_phase is Phase.REVIEW:
            moves.append((Phase.VOTING, Phase.REVIEW, self.schedule[Phase.REVIEW] + MINUTE))
        return moves

    @property
    def next_transition_at(self) -> datetime:
        later = [when for phase, when in self.schedule.items() if _ORDER.index(phase) > _ORDER.index(self.final_phase)]
        return min(later)


_ORDER = [Phase.DRAFT, Phase.PUBLISHED, Phase.ACCEPTING, Phase.VOTING, Phase.REVIEW, Phase.DECIDED]


@dataclass(frozen=True)
class ProposalSpec:
    index: int
    challenge: int
    organisation: int
    author: int
    title: str
    summary: str
    description: str
    team: str
    cost_estimate_yen: int | None
    schedule: str
    test_field_needs: str
    confidential: str
    kpis: tuple[KpiSpec, ...]
    created_at: datetime
    submitted_at: datetime
    votes: int
    comments: tuple[int, int]
    """Top-level comments, replies."""

    @property
    def comment_count(self) -> int:
        return sum(self.comments)


@dataclass(frozen=True)
class CommentSpec:
    number: int
    """Position among the proposal's comments (replies come after their thread)."""
    author: int
    body: str
    official: str  # "", "proposer" or "staff"
    parent: int | None
    """``number`` of the thread's top-level comment, for a reply."""
    created_at: datetime
    reply_count: int = 0


@dataclass(frozen=True)
class VoteSpec:
    proposal: int
    challenge: int
    user: int
    created_at: datetime


# --- the plan -------------------------------------------------------------------------------------


@dataclass
class Plan:
    shape: Shape
    seed: int = 13
    now: datetime = field(default_factory=utcnow)

    def rng(self, *key: object) -> random.Random:
        return random.Random(":".join(str(part) for part in (self.seed, *key)))

    # --- people -------------------------------------------------------------------------------

    @cached_property
    def users(self) -> list[UserSpec]:
        shape = self.shape
        rng = self.rng("users")
        start = self.now - 120 * DAY
        kinds = (["staff"] * shape.staff + ["member"] * shape.organisations + ["resident"] * shape.residents
                 + ["voter"] * shape.voters)
        users = []
        counters: dict[str, int] = {}
        span = 30 * DAY / max(1, len(kinds))
        for index, kind in enumerate(kinds):
            number = counters[kind] = counters.get(kind, 0) + 1
            department = DEPARTMENTS[number - 1][0] if kind == "staff" else None
            email = (f"bench-staff-{department}@example.jp" if kind == "staff"
                     else f"bench-{kind}{number:05d}@example.jp")
            name = (f"{DEPARTMENTS[number - 1][2]} 職員（ベンチ）" if kind == "staff"
                    else f"{text.display_name(rng)}（ベンチ）")
            users.append(UserSpec(index=index, email=email, display_name=name[:50], kind=kind,
                                  locale="en" if rng.random() < 0.05 else "ja",
                                  registered_at=start + span * index, department=department))
        return users

    def of_kind(self, kind: str) -> list[UserSpec]:
        return [user for user in self.users if user.kind == kind]

    @cached_property
    def residents(self) -> list[int]:
        return [user.index for user in self.users if user.kind == "resident"]

    @cached_property
    def staff_by_department(self) -> dict[str, int]:
        return {user.department: user.index for user in self.users if user.department is not None}

    @cached_property
    def organisations(self) -> list[OrganisationSpec]:
        rng = self.rng("organisations")
        members = self.of_kind("member")
        kinds = ("company", "startup", "university", "npo", "company", "other")
        result = []
        for index, member in enumerate(members):
            base = f"9997{index:08d}"
            created = member.registered_at + DAY
            result.append(OrganisationSpec(
                index=index, name=text.organisation_name(rng, index + 1), kind=kinds[index % len(kinds)],
                corporate_number=f"{check_digit(base)}{base}", address=f"東京都板橋区{text.pick(rng, text.AREAS)}1-{index % 30 + 1}",
                website=f"https://bench-org{index + 1}.example.jp" if index % 3 else "",
                description=text.paragraph(rng, 2), admin=member.index, created_at=created,
                verified_at=created + DAY))
        return result

    # --- challenges ---------------------------------------------------------------------------

    @cached_property
    def challenges(self) -> list[ChallengeSpec]:
        shape = self.shape
        departments = [code for code, *_ in DEPARTMENTS[: shape.staff]]
        extra = _spread(shape.proposals - shape.target_proposals, shape.challenges - 1)
        categories = list(Category)
        result = []
        first = 0
        for index in range(shape.challenges):
            rng = self.rng("challenge", index)
            department = departments[index % len(departments)]
            count = shape.target_proposals if index == 0 else extra[index - 1]
            final = Phase.REVIEW if index % 3 == 2 else Phase.VOTING
            published = self.now - (95 - index % 5) * DAY
            schedule = {Phase.ACCEPTING: self.now - 75 * DAY, Phase.VOTING: self.now - 20 * DAY,
                        Phase.REVIEW: self.now + (25 if final is Phase.VOTING else -5) * DAY}
            schedule[Phase.DECIDED] = schedule[Phase.REVIEW] + 35 * DAY
            co_owners = tuple(code for code in departments if code != department)[:1] if index % 4 == 1 else ()
            weights = (40, 35, 25) if index % 2 else (50, 50)
            result.append(ChallengeSpec(
                index=index, staff=self.staff_by_department[department], department=department, co_owners=co_owners,
                category=categories[index % len(categories)].value, area=text.pick(rng, text.AREAS),
                title=text.challenge_title(rng), summary=text.paragraph(rng, 3), background=text.markdown(rng, 2),
                current_situation=text.markdown(rng, 1), desired_outcome=text.markdown(rng, 2),
                constraints=text.paragraph(rng, 2), eligibility="法人（企業、大学・研究機関、NPO法人等）。共同提案も可能です。",
                support_facilities=text.sentence(rng), support_data=text.sentence(rng),
                support_other="" if index % 2 else text.sentence(rng),
                budget_cap_yen=None if index % 5 == 4 else 1_000_000 * (index % 9 + 1),
                contact_name=f"{department} 担当（ベンチ）", contact_email=f"bench-{department}@example.jp",
                contact_phone="" if index % 2 else "03-0000-0000",
                criteria=tuple(CriterionSpec(name, weight, text.sentence(rng)) for name, weight
                               in zip(("実現可能性", "地域への効果", "費用の妥当性"), weights, strict=False)),
                kpis=(KpiSpec(f"{text.pick(rng, text.TOPICS)}の参加者数", "0", "500", "人"),
                      KpiSpec("利用者の満足度", "未計測", "80", "%"))[: 1 + index % 2],
                created_at=published - 5 * DAY, published_at=published, schedule=schedule, final_phase=final,
                vote_limit=shape.target_vote_limit if index == 0 else None, proposals=range(first, first + count)))
            first += count
        return result

    @cached_property
    def target(self) -> ChallengeSpec:
        return self.challenges[0]

    # --- proposals ----------------------------------------------------------------------------

    @cached_property
    def proposals(self) -> list[ProposalSpec]:
        shape = self.shape
        organisations = self.organisations
        comments = self._comment_counts()
        votes = self._vote_counts()
        result = []
        for challenge in self.challenges:
            accepting = challenge.schedule[Phase.ACCEPTING]
            for number, index in enumerate(challenge.proposals):
                rng = self.rng("proposal", index)
                organisation = organisations[(index * 7 + challenge.index) % len(organisations)]
                created = accepting + DAY + (50 * DAY * number) / max(1, len(challenge.proposals))
                result.append(ProposalSpec(
                    index=index, challenge=challenge.index, organisation=organisation.index,
                    author=organisation.admin, title=text.proposal_title(rng)[:200],
                    summary=text.paragraph(rng, 3)[:500], description=text.markdown(rng, 2),
                    team=f"{organisation.name} {text.pick(rng, text.FAMILY_NAMES)}（代表）ほか{rng.randint(2, 9)}名",
                    cost_estimate_yen=None if index % 6 == 5 else rng.randint(5, 300) * 100_000,
                    schedule=f"1か月目：準備と説明会\n2〜4か月目：{text.pick(rng, text.AREAS)}での実証\n5か月目：評価と報告",
                    test_field_needs="" if index % 4 == 3 else f"{text.pick(rng, text.AREAS)}の公園または地域センター",
                    confidential=f"原価内訳：機器 {rng.randint(1, 90)}0万円、人件費 {rng.randint(1, 90)}0万円",
                    kpis=(KpiSpec("参加者数", "0", str(rng.randint(1, 20) * 50), "人"),)[: index % 2],
                    created_at=created, submitted_at=created + 2 * MINUTE, votes=votes[index],
                    comments=comments[index]))
        assert len(result) == shape.proposals
        return result

    def _comment_counts(self) -> list[tuple[int, int]]:
        """(top level, replies) per proposal."""
        shape = self.shape
        counts = [(0, 0)] * shape.proposals
        target = self.target.proposals
        counts[target[0]] = shape.big_thread
        counts[target[1]] = (shape.small_thread, 0)
        others = [index for challenge in self.challenges[1:] for index in challenge.proposals]
        remaining = shape.comments - sum(shape.big_thread) - shape.small_thread
        for index, total in zip(others, _skewed(self.rng("comment-counts"), remaining, len(others), cap=400),
                                strict=True):
            replies = total // 10
            counts[index] = (total - replies, replies)
        return counts

    def _vote_counts(self) -> list[int]:
        """Votes per proposal, never more than the residents (one vote per resident and proposal)."""
        shape = self.shape
        counts = [0] * shape.proposals
        per_challenge = [shape.target_votes, *_spread(shape.votes - shape.target_votes, len(self.challenges) - 1)]
        cap = len(self.residents)
        for challenge, total in zip(self.challenges, per_challenge, strict=True):
            rng = self.rng("vote-counts", challenge.index)
            for index, count in zip(challenge.proposals, _skewed(rng, total, len(challenge.proposals), cap=cap),
                                    strict=True):
                counts[index] = count
        return counts

    # --- lazily generated rows ----------------------------------------------------------------

    def comments_of(self, proposal: ProposalSpec) -> list[CommentSpec]:
        """The proposal's comments in the order they were posted (a reply after its thread)."""
        top, replies = proposal.comments
        if not top:
            return []
        rng = self.rng("comments", proposal.index)
        challenge = self.challenges[proposal.challenge]
        start = challenge.schedule[Phase.VOTING] + DAY
        step = (15 * DAY) / (top + replies)
        parents = [rng.randrange(top) for _ in range(replies)]
        reply_counts = [parents.count(number) for number in range(top)] if replies else [0] * top
        result = []
        for number in range(top):
            author, official = self._comment_author(rng, proposal, challenge)
            result.append(CommentSpec(number=number, author=author, body=text.comment(rng), official=official,
                                      parent=None, created_at=start + step * number,
                                      reply_count=reply_counts[number]))
        for offset, parent in enumerate(parents):
            author, official = self._comment_author(rng, proposal, challenge)
            result.append(CommentSpec(number=top + offset, author=author, body=text.reply(rng), official=official,
                                      parent=parent, created_at=start + step * (top + offset)))
        return result

    def _comment_author(self, rng: random.Random, proposal: ProposalSpec, challenge: ChallengeSpec) -> tuple[int, str]:
        roll = rng.random()
        if roll < 0.05:
            return proposal.author, "proposer"
        if roll < 0.08:
            return challenge.staff, "staff"
        return self.residents[rng.randrange(len(self.residents))], ""

    def votes_of(self, challenge: ChallengeSpec) -> Iterator[VoteSpec]:
        """The challenge's votes: residents taken in turn from a shuffled cycle, so a proposal's voters are
        all different and nobody votes more than ceil(votes / residents) times in the challenge."""
        rng = self.rng("votes", challenge.index)
        residents = list(self.residents)
        rng.shuffle(residents)
        position = 0
        start = challenge.schedule[Phase.VOTING] + DAY
        proposals = [self.proposals[index] for index in challenge.proposals]
        total = sum(p.votes for p in proposals)
        step = (15 * DAY) / max(1, total)
        number = 0
        for proposal in proposals:
            for _ in range(proposal.votes):
                yield VoteSpec(proposal=proposal.index, challenge=challenge.index,
                               user=residents[position % len(residents)], created_at=start + step * number)
                position += 1
                number += 1

    def votes(self) -> Iterator[VoteSpec]:
        for challenge in self.challenges:
            yield from self.votes_of(challenge)


def _spread(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` near-equal whole numbers."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _skewed(rng: random.Random, total: int, parts: int, *, cap: int) -> list[int]:
    """``total`` split into ``parts`` whole numbers of at most ``cap`` each, a few large and many small
    (weights drawn from a Pareto distribution), summing exactly to ``total``."""
    if parts == 0:
        return []
    if total > parts * cap:
        raise ValueError(f"{total} cannot be split into {parts} parts of at most {cap}")
    weights = [rng.paretovariate(1.5) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [min(cap, int(w * scale)) for w in weights]
    missing = total - sum(counts)
    order = sorted(range(parts), key=lambda i: -weights[i])
    i = 0
    while missing > 0:
        index = order[i % parts]
        if counts[index] < cap:
            counts[index] += 1
            missing -= 1
        i += 1
    return counts
