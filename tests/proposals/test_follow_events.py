"""Follow events on challenges and proposals (proposals.events, and the core's comment events
cocreate.comments.events): a proposal submitted on a followed challenge, a reply to a comment and a
challenge's phase change reach the followers (or the comment authors), never the person who caused them nor anyone else, once per event, each in their own language;
the answer and decision notifications that already existed are checked here too.

The services announce an event as a task sent after commit; :func:`deliver` runs exactly the tasks a
service sent (caught just before its commit), as the worker would. One test runs a real worker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, col, select

from cocreate.accounts.models import Organisation, User
from cocreate.comments import events as comment_events
from cocreate.comments import services as comments
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from cocreate.tasks.queue import pending
from proposals import events, submissions
from proposals.challenges import lifecycle
from proposals.dialogue import questions
from proposals.dialogue.questions import AskForm
from proposals.models import Challenge, ChallengePhaseDate, Phase, ProposalStatus
from tests.factories import (
    Audience,
    actor,
    create_audience,
    create_challenge,
    create_department,
    create_organisation,
    create_proposal,
    create_user,
    sign_in,
)
from tests.helpers import Task, email_count, emails, notified, tasks_announced
from tests.servers import SmtpSink, Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="event fan-out is Python; the worker test runs on both")







RUN = {events.TASK: events.run, comment_events.TASK: comment_events.run}
"""The event tasks (of proposals, and of the core's comments) and what the worker runs for each."""


@pytest.fixture
def announced(session: Session) -> Iterator[list[Task]]:
    """The event tasks the services of this session sent (caught just before each commit)."""
    with tasks_announced(session, *RUN) as tasks:
        yield tasks


def deliver(session: Session, settings: Settings, tasks: list[Task]) -> None:
    """Run the announced tasks as the worker does, then forget them."""
    for name, args, kwargs, _queue in list(tasks):
        RUN[name](session, settings, *args, **kwargs)
    tasks.clear()


@dataclass
class World(Audience):
    challenge: Challenge
    organisation: Organisation
    author: User
    colleague: User


@pytest.fixture
def world(session: Session) -> World:
    department = create_department(session)
    audience = create_audience(session, department)
    author = create_user(session, "author@example.jp", display_name="提案者")
    colleague = create_user(session, "colleague@example.jp")
    organisation = create_organisation(session, admin=author, members=[colleague], verified=True)
    challenge = create_challenge(session, department, phase="accepting")
    for user in (audience.staff, author, colleague, audience.follower, audience.english):
        notifications.follow(session, user.id, "challenge", challenge.id)  # type: ignore[arg-type]
    session.commit()
    return World(**vars(audience), challenge=challenge, organisation=organisation, author=author, colleague=colleague)


# --- proposal submitted --------------------------------------------------------------------------


def test_a_submitted_proposal_reaches_the_challenge_followers_but_not_its_authors(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    proposal = create_proposal(session, world.challenge, world.organisation, status="draft", author=world.author,
                               title="AIデマンド交通 <script>alert(1)</script>")
    submissions.submit(session, actor(session, world.author), proposal.id)
    assert [task[1][:2] for task in announced] == [(events.PROPOSAL_SUBMITTED, proposal.id)]
    deliver(session, settings, announced)

    assert notified(session, events.PROPOSAL_SUBMITTED) == sorted([world.staff.id, world.follower.id,
                                                                  world.english.id])
    row = session.exec(select(Notification).where(Notification.user_id == world.follower.id)).one()
    assert row.url == f"/proposals/{proposal.id}" and row.event_key == f"proposal.submitted:{proposal.id}"
    mail = emails(session)
    assert set(mail) == {"staff@example.jp", "follower@example.jp", "english@example.jp"}
    english = mail["english@example.jp"]
    assert str(make_header(decode_header(english.subject))).startswith("New proposal on a challenge you follow")
    assert "Hello Emma" in english.body_text and f"/proposals/{proposal.id}" in english.body_text
    assert "<script>alert(1)</script>" in english.body_text  # plain text mail: verbatim, nothing to escape
    japanese = mail["follower@example.jp"]
    assert "フォロワー" in japanese.body_text and "新しい提案" in japanese.subject

    # The same event again (a retried task) tells nobody twice.
    events.run(session, settings, events.PROPOSAL_SUBMITTED, proposal.id, world.author.id)
    assert len(notified(session, events.PROPOSAL_SUBMITTED)) == 3 and email_count(session) == 3


def test_the_site_list_reads_each_notification_in_the_readers_language(
        session: Session, settings: Settings, world: World) -> None:
    proposal = create_proposal(session, world.challenge, world.organisation, title="高島平の移動")
    events.run(session, settings, events.PROPOSAL_SUBMITTED, proposal.id, world.author.id)
    from cocreate.i18n import using_locale

    row = session.exec(select(Notification).where(Notification.user_id == world.english.id)).one()
    with using_locale("en"):
        assert notifications.describe(row) == (
            f"A proposal has been submitted to “{world.challenge.title}”, which you follow: 高島平の移動")
    with using_locale("ja"):
        assert "高島平の移動" in notifications.describe(row) and "提案" in notifications.describe(row)


def test_a_proposal_withdrawn_or_hidden_before_the_task_runs_tells_nobody(
        session: Session, settings: Settings, world: World) -> None:
    withdrawn = create_proposal(session, world.challenge, world.organisation, status="withdrawn")
    hidden = create_proposal(session, world.challenge, world.organisation)
    hidden.hidden_at = utcnow()
    session.add(hidden)
    session.commit()
    draft = create_proposal(session, world.challenge, world.organisation, status="draft")
    for proposal in (withdrawn, hidden, draft):
        assert events.run(session, settings, events.PROPOSAL_SUBMITTED, proposal.id, None) == 0
    assert events.run(session, settings, events.PROPOSAL_SUBMITTED, 999_999, None) == 0
    assert notified(session, events.PROPOSAL_SUBMITTED) == [] and emails(session) == {}


def test_a_refused_submission_announces_nothing(session: Session, world: World, announced: list[Task]) -> None:
    proposal = create_proposal(session, world.challenge, world.organisation, status="submitted")
    with pytest.raises(Invalid):
        submissions.submit(session, actor(session, world.author), proposal.id)
    assert announced == [] and pending(session) == []
    assert session.get(type(proposal), proposal.id).status is ProposalStatus.SUBMITTED  # type: ignore[union-attr]


# --- comment replies -----------------------------------------------------------------------------


def test_a_reply_reaches_the_thread_author_and_the_comment_replied_to(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    challenge_id = world.challenge.id
    top = comments.post(session, actor(session, world.follower), "challenge", challenge_id, comments.CommentForm(body="最初のコメントです"))
    assert announced == []  # a top-level comment is nobody's reply
    first = comments.post(session, actor(session, world.english), "challenge", challenge_id, comments.CommentForm(body="I agree **strongly**.", parent_id=str(top.id)))
    deliver(session, settings, announced)
    assert notified(session, comment_events.COMMENT_REPLIED) == [world.follower.id]
    row = session.exec(select(Notification).where(Notification.kind == comment_events.COMMENT_REPLIED)).one()
    assert row.url == f"/comments/{top.id}/replies" and row.target_id == first.id
    mail = emails(session)
    assert list(mail) == ["follower@example.jp"] and "I agree strongly." in mail["follower@example.jp"].body_text

    # A reply to the reply joins the thread: its author and the thread's author hear of it, the replier not.
    second = comments.post(session, actor(session, world.author), "challenge", challenge_id, comments.CommentForm(body="ありがとうございます", parent_id=str(first.id)))
    deliver(session, settings, announced)
    rows = session.exec(select(Notification.user_id, Notification.event_key)
                        .where(Notification.kind == comment_events.COMMENT_REPLIED).order_by(col(Notification.id))).all()
    assert sorted(rows[1:]) == sorted([(world.follower.id, f"comment.replied:{second.id}"),
                                       (world.english.id, f"comment.replied:{second.id}")])
    english = emails(session)["english@example.jp"]
    assert english.subject.startswith("New reply to your comment") and "提案者" in english.body_text

    # The thread's author answering in their own thread: only the other person hears of it.
    third = comments.post(session, actor(session, world.follower), "challenge", challenge_id, comments.CommentForm(body="どういたしまして", parent_id=str(second.id)))
    deliver(session, settings, announced)
    assert sorted(session.exec(select(Notification.user_id).where(
        Notification.event_key == f"comment.replied:{third.id}")).all()) == [world.author.id]
    assert world.outsider.id not in notified(session, comment_events.COMMENT_REPLIED)
    assert world.staff.id not in notified(session, comment_events.COMMENT_REPLIED)  # following the challenge is not enough


def test_a_reply_on_a_proposal_links_to_its_thread_and_hostile_names_are_shown_escaped(
        session: Session, settings: Settings, world: World, announced: list[Task], client: TestClient[Litestar],
        xss_payloads: list[str]) -> None:
    hostile = "<script>alert(1)</script>"
    proposal = create_proposal(session, world.challenge, world.organisation, title=f"提案 {hostile}")
    replier = session.get(User, world.english.id)
    assert replier is not None
    replier.display_name = xss_payloads[-2][:100]
    session.add(replier)
    session.commit()
    top = comments.post(session, actor(session, world.follower), "proposal", proposal.id, comments.CommentForm(body="良い提案です"))
    reply = comments.post(session, actor(session, world.english), "proposal", proposal.id, comments.CommentForm(body=hostile, parent_id=str(top.id)))
    deliver(session, settings, announced)
    row = session.exec(select(Notification).where(Notification.kind == comment_events.COMMENT_REPLIED)).one()
    assert (row.user_id, row.target_id, row.url) == (world.follower.id, reply.id, f"/comments/{top.id}/replies")
    assert hostile in row.params_json  # stored verbatim
    mail = emails(session)["follower@example.jp"]
    assert hostile in mail.body_text and f"提案 {hostile}" in mail.body_text  # plain text: verbatim
    sign_in(client, world.follower)
    page = client.get("/notifications")
    assert page.status_code == 200
    assert hostile not in page.text and xss_payloads[-2][:100] not in page.text
    assert str(escape(f"提案 {hostile}")) in page.text


def test_a_reply_removed_before_the_task_runs_tells_nobody(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    top = comments.post(session, actor(session, world.follower), "challenge", world.challenge.id, comments.CommentForm(body="質問です"))
    reply = comments.post(session, actor(session, world.english), "challenge", world.challenge.id, comments.CommentForm(body="Answer", parent_id=str(top.id)))
    comments.delete(session, actor(session, world.english), reply.id)
    deliver(session, settings, announced)
    assert notified(session, comment_events.COMMENT_REPLIED) == []


# --- phase changes -------------------------------------------------------------------------------


def test_a_phase_change_by_staff_reaches_the_followers_but_not_the_staff(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    change = lifecycle.move(session, actor(session, world.staff), world.challenge.id, Phase.VOTING,
                            "応募が集まったため、投票に進みます。")
    assert [task[1][:2] for task in announced] == [(events.PHASE_CHANGED, change.id)]
    deliver(session, settings, announced)
    assert notified(session, events.PHASE_CHANGED) == sorted(
        [world.author.id, world.colleague.id, world.follower.id, world.english.id])
    mail = emails(session)
    assert "staff@example.jp" not in mail and "outsider@example.jp" not in mail
    english = mail["english@example.jp"]
    assert english.subject == f"Comments and voting: {world.challenge.title}"
    assert "Now: comments and voting" in english.body_text and "投票に進みます" in english.body_text
    assert mail["follower@example.jp"].subject == f"意見募集・投票：{world.challenge.title}"
    events.run(session, settings, events.PHASE_CHANGED, change.id, world.staff.id)
    assert email_count(session) == 4


def test_a_scheduled_phase_change_reaches_every_follower(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    now = utcnow()
    session.add(ChallengePhaseDate(challenge_id=world.challenge.id, phase=Phase.VOTING,  # type: ignore[arg-type]
                                   starts_at=now - timedelta(minutes=1)))
    challenge = session.get(Challenge, world.challenge.id)
    assert challenge is not None
    challenge.next_transition_at = now - timedelta(minutes=1)
    session.add(challenge)
    session.commit()
    moved = lifecycle.advance_due(session, now)
    assert [m.to_phase for m in moved] == [Phase.VOTING]
    deliver(session, settings, announced)
    assert notified(session, events.PHASE_CHANGED) == sorted(
        [world.staff.id, world.author.id, world.colleague.id, world.follower.id, world.english.id])


def test_publishing_decisions_tells_the_decisions_not_a_phase_change_too(
        session: Session, settings: Settings, announced: list[Task]) -> None:
    from proposals import review
    from tests.proposals.review_helpers import make_world

    decided = make_world(session)
    resident = decided.people["resident"]
    notifications.follow(session, resident.id, "challenge", decided.challenge.id)  # type: ignore[arg-type]
    session.commit()
    staff = actor(session, decided.people["staff"])
    review.save_decisions(session, staff, decided.challenge.id, review.DecisionsForm(entries={
        decided.p1.id: review.DecisionForm(outcome="selected", rationale="実現性が高い"),
        decided.p2.id: review.DecisionForm(outcome="not_selected", rationale="予算超過")}))
    review.publish_decisions(session, settings, staff, decided.challenge.id, without_reviews=True)
    assert session.get(Challenge, decided.challenge.id).phase is Phase.DECIDED  # type: ignore[union-attr]
    assert announced == []
    assert notified(session, "decision.published").count(resident.id) == 2
    assert notified(session, events.PHASE_CHANGED) == []


# --- the kinds that existed: answers and decisions -----------------------------------------------


def test_a_public_answer_reaches_the_challenge_followers_but_not_the_answering_staff(
        session: Session, settings: Settings, world: World) -> None:
    question = questions.ask(session, actor(session, world.outsider), world.challenge.id,
                             AskForm(body="夜間も使えますか？", visibility="public"))
    questions.answer(session, settings, actor(session, world.staff), question.id, questions.AnswerForm(answer="はい、使えます。"))
    assert notified(session, "question.answered") == sorted(
        [world.author.id, world.colleague.id, world.follower.id, world.english.id, world.outsider.id])


# --- a real worker -------------------------------------------------------------------------------


@pytest.mark.databases("sqlite", "postgresql", why="a real worker and ON CONFLICT inserts")
def test_a_submission_reaches_the_followers_through_the_worker_once(
        session: Session, smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink, database: Database,
        settings: Settings, world: World) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    try:
        proposal = create_proposal(session, world.challenge, world.organisation, status="draft", author=world.author)
        submissions.submit(session, actor(session, world.author), proposal.id)
        try:
            smtp_sink.wait_for(3, timeout=30)
        except AssertionError:
            raise AssertionError(worker.log()[-4000:]) from None
        # The event's task arrives twice more (a retry, a duplicate): nobody is told again.
        with database.transaction() as sending:
            enqueue(sending, events.TASK, events.PROPOSAL_SUBMITTED, proposal.id, world.author.id, None)
            enqueue(sending, events.TASK, events.PROPOSAL_SUBMITTED, proposal.id, world.author.id, None)
            enqueue(sending, "cocreate.heartbeat", "after-submitted-events")

        def heartbeat_seen() -> bool:
            from cocreate.tasks.heartbeat import WorkerHeartbeat

            with database.session() as check:
                return check.get(WorkerHeartbeat, "after-submitted-events") is not None

        wait_until(heartbeat_seen, 30, "the worker to run the tasks queued behind the duplicates")
        assert sorted(m["To"] for m in smtp_sink.messages) == [
            "english@example.jp", "follower@example.jp", "staff@example.jp"]
        assert notified(session, events.PROPOSAL_SUBMITTED) == sorted(
            [world.staff.id, world.follower.id, world.english.id])
    finally:
        configure_celery(settings)


# --- comments on a proposal ----------------------------------------------------------------------


def test_a_comment_on_a_proposal_reaches_its_authors_and_followers_once(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    proposal = create_proposal(session, world.challenge, world.organisation, title="駅前の移動支援", author=world.author)
    notifications.follow(session, world.english.id, "proposal", proposal.id)  # type: ignore[arg-type]
    session.commit()
    top = comments.post(session, actor(session, world.follower), "proposal", proposal.id, comments.CommentForm(body="費用は**どのくらい**ですか"))
    assert [task[1][:2] for task in announced] == [(comment_events.COMMENT_POSTED, top.id)]
    deliver(session, settings, announced)
    # The authors (every member of the proposing organisation) and the proposal's follower; not the
    # commenter, not the challenge's followers (staff follows the challenge only), not an outsider.
    assert notified(session, comment_events.COMMENT_POSTED) == sorted([world.author.id, world.colleague.id, world.english.id])
    row = session.exec(select(Notification).where(Notification.user_id == world.author.id,
                                                  Notification.kind == comment_events.COMMENT_POSTED)).one()
    assert row.url == f"/proposals/{proposal.id}#comment-{top.id}"
    mail = emails(session)
    assert set(mail) == {"author@example.jp", "colleague@example.jp", "english@example.jp"}
    english = mail["english@example.jp"]
    assert str(make_header(decode_header(english.subject))) == "New comment on a proposal: 駅前の移動支援"
    assert "費用はどのくらいですか" in english.body_text and f"#comment-{top.id}" in english.body_text
    assert "コメント" in str(make_header(decode_header(mail["author@example.jp"].subject)))
    comment_events.run(session, settings, comment_events.COMMENT_POSTED, top.id, world.follower.id)  # a retried task
    assert len(notified(session, comment_events.COMMENT_POSTED)) == 3 and email_count(session) == 3

    # The author answers the comment: its writer hears of the reply (once, as a reply), the colleague and
    # the follower of the comment on their proposal; the author, who wrote it, of nothing.
    reply = comments.post(session, actor(session, world.author), "proposal", proposal.id, comments.CommentForm(body="およそ300万円です", parent_id=str(top.id)))
    deliver(session, settings, announced)
    assert sorted(session.exec(select(Notification.user_id, Notification.kind)
                               .where(Notification.target_id == reply.id)).all()) == sorted([
        (world.follower.id, comment_events.COMMENT_REPLIED), (world.colleague.id, comment_events.COMMENT_POSTED),
        (world.english.id, comment_events.COMMENT_POSTED)])


def test_comments_on_challenges_and_hidden_comments_tell_nobody_new(
        session: Session, settings: Settings, world: World, announced: list[Task]) -> None:
    comments.post(session, actor(session, world.follower), "challenge", world.challenge.id, comments.CommentForm(body="課題へのコメント"))
    assert announced == []  # the challenge's followers are not told of every comment
    proposal = create_proposal(session, world.challenge, world.organisation)
    comment = comments.post(session, actor(session, world.follower), "proposal", proposal.id, comments.CommentForm(body="コメント"))
    comment.hidden_at = utcnow()  # a moderator hid it before the task ran
    session.add(comment)
    session.commit()
    deliver(session, settings, announced)
    assert notified(session, comment_events.COMMENT_POSTED) == [] and emails(session) == {}
