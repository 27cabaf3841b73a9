"""What the search index holds of the proposals component: published challenges, the public part of
submitted proposals, and the questions and answers everyone can read. Every change goes through the
outbox (``indexer.process_pending``) and the test searches again, as a visitor would."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from cocreate.accounts.models import Department, Organisation, Role, User
from cocreate.accounts.permissions import Principal
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.moderation import services as moderation
from cocreate.search import indexer, query
from cocreate.search.models import SearchOutbox
from cocreate.settings import Settings
from proposals import submissions
from proposals.challenges import lifecycle
from proposals.dialogue import questions
from proposals.models import (
    Challenge,
    ChallengeKpi,
    Phase,
    Proposal,
    ProposalAttachment,
    ProposalKpi,
    ProposalStatus,
    Question,
    QuestionStatus,
    QuestionVisibility,
)
from proposals.search import area_slug, question_title
from tests.factories import (
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
)
from tests.helpers import count_queries

pytestmark = pytest.mark.databases("sqlite", why="what the index may hold is Python")

SECRET = "xylophagous"
"""A word only the confidential part and a confidential attachment hold."""






@dataclass
class World:
    department: Department
    staff: User
    moderator: User
    member: User
    organisation: Organisation
    challenge: Challenge

    def actor(self, session: Session, user: User) -> Principal:
        return Principal.load(session, user)


@pytest.fixture
def w(session: Session) -> World:
    department = create_department(session)
    staff = create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, department.id)])  # type: ignore[list-item]
    moderator = create_user(session, "moderator@example.jp", roles=[Role.MODERATOR])
    member = create_user(session, "member@example.jp", display_name="会員 一郎")
    organisation = create_organisation(session, "板橋モビリティ株式会社", admin=member, verified=True)
    challenge = create_challenge(session, department, phase="accepting", title="清掃工場の余熱を地域で使いたい",
                                 summary="余熱と太陽光を組み合わせたい。", area="高島平")
    return World(department, staff, moderator, member, organisation, challenge)


def keys(database: Database, settings: Settings, text: str, **filters: object) -> set[str]:
    """Drain the outbox, then the keys of everything ``text`` finds."""
    indexer.process_pending(database, settings)
    return {hit.key for hit in query.search(settings, text, per_page=100, **filters).hits}  # type: ignore[arg-type]


def key(item: Challenge | Proposal | Question) -> str:
    kind = {Challenge: "challenge", Proposal: "proposal", Question: "question"}[type(item)]
    return f"{kind}:{item.id}"


def ask(session: Session, w: World, body: str, *, visibility: QuestionVisibility = QuestionVisibility.PUBLIC,
        status: QuestionStatus = QuestionStatus.OPEN, answer: str = "", asker: User | None = None,
        challenge: Challenge | None = None) -> Question:
    question = Question(challenge_id=(challenge or w.challenge).id, asker_id=(asker or w.member).id,  # type: ignore[union-attr]
                        visibility=visibility, status=status, body=body, answer=answer)
    session.add(question)
    session.commit()
    return question


# --- each type, with its filters -----------------------------------------------------------------


def test_each_type_is_found_with_its_phase_category_and_area(session: Session, database: Database,
                                                             settings: Settings, w: World) -> None:
    session.add(ChallengeKpi(challenge_id=w.challenge.id, indicator="熱利用率", target="30%"))  # type: ignore[arg-type]
    proposal = create_proposal(session, w.challenge, w.organisation, title="余熱で温室を温める",
                               summary="温室栽培に余熱を使います。")
    session.add(ProposalKpi(proposal_id=proposal.id, indicator="収穫量", target="2倍"))
    question = ask(session, w, "余熱の温度は何度ですか？", status=QuestionStatus.ANSWERED, answer="約八十度で、配管で送ります。")

    indexer.process_pending(database, settings)
    results = query.search(settings, "余熱", per_page=100)
    by_key = {hit.key: hit for hit in results.hits}
    assert set(by_key) == {key(w.challenge), key(proposal), key(question)}
    for hit in by_key.values():
        assert (hit.phase, hit.category, hit.area, hit.challenge_id) == (
            "accepting", "environment_energy", "takashimadaira", w.challenge.id)
    assert by_key[key(proposal)].url == f"/proposals/{proposal.id}"
    assert by_key[key(question)].url == f"/challenges/{w.challenge.id}/questions/{question.id}"
    assert by_key[key(question)].title == "余熱の温度は何度ですか？"
    assert results.facets["type"] == {"challenge": 1, "proposal": 1, "question": 1}

    assert keys(database, settings, "板橋モビリティ") == {key(proposal)}  # the authoring organisation
    assert keys(database, settings, "収穫量") == {key(proposal)}  # its KPIs
    assert keys(database, settings, "熱利用率") == {key(w.challenge)}
    assert keys(database, settings, "資源環境部") == {key(w.challenge)}  # the owning department
    assert keys(database, settings, "配管") == {key(question)}  # the answer
    assert keys(database, settings, "余熱", types=["proposal"]) == {key(proposal)}
    assert keys(database, settings, "余熱", phase="voting") == set()


def test_drafts_are_never_found_until_published(session: Session, database: Database, settings: Settings,
                                                w: World) -> None:
    draft_challenge = create_challenge(session, w.department, phase="draft", title="下書きの課題で水素を使いたい")
    draft_proposal = create_proposal(session, w.challenge, w.organisation, status="draft", title="水素の下書き提案")
    assert keys(database, settings, "水素") == set()

    draft_challenge.phase = Phase.PUBLISHED
    session.commit()
    assert keys(database, settings, "水素") == {key(draft_challenge)}
    row = session.get(Proposal, draft_proposal.id)
    row.status, row.submitted_at = ProposalStatus.SUBMITTED, utcnow()  # type: ignore[union-attr]
    session.commit()
    assert keys(database, settings, "水素") == {key(draft_challenge), key(draft_proposal)}


# --- hidden, withdrawn, deleted ------------------------------------------------------------------


def test_withdrawn_hidden_and_deleted_proposals_disappear(session: Session, database: Database,
                                                          settings: Settings, w: World) -> None:
    withdrawn = create_proposal(session, w.challenge, w.organisation, title="蓄電池で余剰電力をためる案A")
    hidden = create_proposal(session, w.challenge, w.organisation, title="蓄電池で余剰電力をためる案B")
    deleted = create_proposal(session, w.challenge, w.organisation, title="蓄電池で余剰電力をためる案C")
    assert keys(database, settings, "蓄電池") == {key(withdrawn), key(hidden), key(deleted)}

    submissions.withdraw(session, w.actor(session, w.member), withdrawn.id)  # type: ignore[arg-type]
    moderation.hide(session, w.actor(session, w.moderator), "proposal", hidden.id, moderation.HideForm(reason="重複投稿です"))  # type: ignore[arg-type]
    session.delete(session.get(Proposal, deleted.id))
    session.commit()
    assert keys(database, settings, "蓄電池") == set()

    moderation.restore(session, w.actor(session, w.moderator), "proposal", hidden.id)  # type: ignore[arg-type]
    assert keys(database, settings, "蓄電池") == {key(hidden)}


def test_the_confidential_part_and_confidential_attachments_are_never_found(
        session: Session, database: Database, settings: Settings, w: World) -> None:
    proposal = create_proposal(session, w.challenge, w.organisation, title="余熱の見える化",
                               confidential=f"原価内訳 {SECRET} 120万円")
    session.add(ProposalAttachment(proposal_id=proposal.id, title=f"{SECRET} 見積書", filename=f"{SECRET}.pdf",
                                   content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                                   storage_key="proposals/" + "a" * 32, confidential=True))
    session.add(ProposalAttachment(proposal_id=proposal.id, title="公開資料の概要図", filename="public.pdf",
                                   content_type="application/pdf", size_bytes=10, sha256="1" * 64,
                                   storage_key="proposals/" + "b" * 32, confidential=False))
    session.commit()
    assert keys(database, settings, "概要図") == {key(proposal)}  # a public attachment's title is searchable
    assert keys(database, settings, SECRET) == set()
    assert keys(database, settings, "見積書") == set()
    assert keys(database, settings, "原価内訳") == set()
    for hit in query.search(settings, "余熱", per_page=100).hits:
        assert SECRET not in hit.snippet and SECRET not in hit.title
    stored = indexer.load(session, [key(proposal)])[key(proposal)]
    assert SECRET not in f"{stored.title} {stored.body} {stored.extra}"


def test_hostile_text_is_indexed_verbatim_and_its_snippet_escaped(session: Session, database: Database,
                                                                  settings: Settings, w: World,
                                                                  xss_payloads: list[str]) -> None:
    payloads = xss_payloads[:50]
    made = []
    for number, payload in enumerate(payloads):
        proposal = create_proposal(session, w.challenge, w.organisation, title=f"{payload} 雨水タンク{number}",
                                   summary=f"雨水タンク {payload}")
        made.append(proposal)
    question = ask(session, w, f"雨水タンク <script>alert(1)</script> {'長い質問です。' * 2000}")
    indexer.process_pending(database, settings)
    hits = {hit.key: hit for hit in query.search(settings, "雨水タンク", per_page=100).hits}
    assert set(hits) == {key(p) for p in made} | {key(question)}
    for proposal, payload in zip(made, payloads, strict=True):
        assert hits[key(proposal)].title == f"{payload} 雨水タンク{made.index(proposal)}"
    for hit in hits.values():
        assert "<script" not in hit.snippet and "<img" not in hit.snippet and "<svg" not in hit.snippet
    assert len(hits[key(question)].title) <= 80


@pytest.mark.databases("sqlite", "postgresql", why="the outbox and its hooks")
def test_a_challenge_moved_back_to_draft_or_deleted_takes_its_proposals_and_questions_along(
        session: Session, database: Database, settings: Settings, w: World) -> None:
    proposal = create_proposal(session, w.challenge, w.organisation, title="地中熱で学校を冷やす")
    question = ask(session, w, "地中熱の掘削は許可されますか？")
    everything = {key(w.challenge), key(proposal), key(question)}
    assert keys(database, settings, "地中熱") | keys(database, settings, "清掃工場") == everything

    w.challenge.phase = Phase.DRAFT
    session.commit()
    assert keys(database, settings, "地中熱") | keys(database, settings, "清掃工場") == set()

    w.challenge.phase = Phase.ACCEPTING
    session.commit()
    assert keys(database, settings, "地中熱") | keys(database, settings, "清掃工場") == everything

    session.delete(w.challenge)
    session.commit()
    assert keys(database, settings, "地中熱") | keys(database, settings, "清掃工場") == set()


# --- questions -----------------------------------------------------------------------------------


def test_questions_everyone_can_read_and_never_who_asked_privately(session: Session, database: Database,
                                                                   settings: Settings, w: World) -> None:
    asker = create_user(session, "asker@example.jp", display_name="質問者 花子")
    public = ask(session, w, "ごみ収集車の経路は公開されますか？", asker=asker)
    private = ask(session, w, "ごみ収集の委託費はいくらですか？", visibility=QuestionVisibility.PRIVATE, asker=asker)
    assert keys(database, settings, "ごみ収集") == {key(public)}

    questions.answer(session, settings, w.actor(session, w.staff), private.id, questions.AnswerForm(answer="委託費は予算書に載っています。"))  # type: ignore[arg-type]
    assert keys(database, settings, "ごみ収集") == {key(public), key(private)}
    assert keys(database, settings, "予算書") == {key(private)}
    assert keys(database, settings, "花子") == set()  # neither asker is ever indexed

    questions.hide(session, w.actor(session, w.staff), public.id, questions.HideForm(reason="個人情報を含むため"))  # type: ignore[arg-type]
    assert keys(database, settings, "ごみ収集") == {key(private)}


def test_a_merged_question_leaves_the_index(session: Session, database: Database, settings: Settings,
                                            w: World) -> None:
    first = ask(session, w, "街路灯はLEDになりますか？")
    duplicate = ask(session, w, "街路灯のLED化の予定は？")
    assert keys(database, settings, "街路灯") == {key(first), key(duplicate)}
    questions.merge(session, w.actor(session, w.staff), duplicate.id, questions.MergeForm(into=first.id))  # type: ignore[arg-type]
    assert keys(database, settings, "街路灯") == {key(first)}


# --- watched changes -----------------------------------------------------------------------------


def test_watched_changes_reindex_the_right_documents(session: Session, database: Database, settings: Settings,
                                                     w: World) -> None:
    proposal = create_proposal(session, w.challenge, w.organisation, title="古い題名の提案")
    question = ask(session, w, "説明会はありますか？")
    assert keys(database, settings, "古い題名") == {key(proposal)}

    stored = submissions.form_values(session, session.get(Proposal, proposal.id))  # type: ignore[arg-type]
    data = submissions.ProposalForm(**stored | {"title": "新しい題名の提案"})
    submissions.update(session, w.actor(session, w.member), proposal.id, data)  # type: ignore[arg-type]
    assert keys(database, settings, "古い題名") == set()
    assert keys(database, settings, "新しい題名") == {key(proposal)}

    organisation = session.get(Organisation, w.organisation.id)
    organisation.name = "高島平エネルギー合同会社"  # type: ignore[union-attr]
    session.commit()
    assert keys(database, settings, "高島平エネルギー") == {key(proposal)}

    # A phase change reaches the challenge's proposals and questions (they carry its phase).
    lifecycle.move(session, w.actor(session, w.staff), w.challenge.id, Phase.VOTING, "締切を早めました")  # type: ignore[arg-type]
    session.commit()
    assert keys(database, settings, "新しい題名", phase="voting") == {key(proposal)}
    assert keys(database, settings, "説明会", phase="voting") == {key(question)}
    assert keys(database, settings, "説明会", phase="accepting") == set()


def test_counters_and_unrelated_columns_mark_nothing(session: Session, database: Database, settings: Settings,
                                                     w: World) -> None:
    proposal = create_proposal(session, w.challenge, w.organisation)
    indexer.process_pending(database, settings)
    row = session.get(Proposal, proposal.id)
    row.vote_count, row.comment_count = 3, 4  # type: ignore[union-attr]
    challenge = session.get(Challenge, w.challenge.id)
    challenge.proposal_count = 9  # type: ignore[union-attr]
    session.commit()
    assert session.exec(select(SearchOutbox)).all() == []


def test_documents_load_in_a_fixed_number_of_queries(session: Session, database: Database, w: World) -> None:
    def count(proposals: int) -> int:
        made = [create_proposal(session, w.challenge, w.organisation, title=f"案{n}") for n in range(proposals)]
        asked = [ask(session, w, f"質問{n}") for n in range(proposals)]
        wanted = [key(item) for item in (*made, *asked, w.challenge)]
        session.expire_all()
        with count_queries(database.engine) as log:
            loaded = indexer.load(session, wanted)
        assert set(loaded) == set(wanted)
        return log.count

    assert count(2) == count(12)


# --- small parts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "slug"), [
    ("高島平", "takashimadaira"), ("高島平地域", "takashimadaira"), ("常盤台", "tokiwadai"), ("志村地区", "shimura"),
    ("赤塚", "akatsuka"), ("板橋", "itabashi"), ("takashimadaira", "takashimadaira"),
    ("板橋区全域", None), ("区内の主要バス停", None), ("", None),
])
def test_a_challenge_area_names_a_ward_area_only_when_it_names_exactly_one(text: str, slug: str | None) -> None:
    assert area_slug(text) == slug


def test_a_question_title_is_its_first_line_cut_short() -> None:
    assert question_title("\n  最初の行\n次の行") == "最初の行"
    assert len(question_title("あ" * 500)) == 80


def test_every_watched_column_exists() -> None:
    """A misspelt column in a watch would raise during every flush of that model."""
    from proposals import search

    for model, names in ((Challenge, search.CHALLENGE_FIELDS), (Proposal, search.PROPOSAL_FIELDS),
                         (Question, search.QUESTION_FIELDS)):
        columns = set(sa.inspect(model).attrs.keys())
        assert set(names) <= columns, model
