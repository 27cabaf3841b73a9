"""Reports and moderation: reporting proposals and comments, the automatic hide at three open reports,
the moderators' queue and actions per role, the audit log, and blocking an account ends its sessions."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, col, func, select

from cocreate.accounts.models import User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.comments.models import Comment
from cocreate.db import Database
from cocreate.errors import Invalid, NotFound
from cocreate.forms import CONTROL_CHARS
from cocreate.i18n import gettext, using_locale
from cocreate.moderation import services as moderation
from cocreate.moderation.models import Report, ReportReason
from cocreate.settings import Settings
from tests.factories import (
    Ward,
    actor,
    create_proposal,
    create_user,
    create_ward,
    reload,
    sign_in,
)
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="moderation rules are Python; simultaneous reports run on both")






@dataclass
class World(Ward):
    """The usual cast, a comment on the proposal by a commenter, and four residents who report."""

    comment: Comment
    commenter: User
    residents: list[User]


@pytest.fixture
def world(session: Session) -> World:
    ward = create_ward(session, phase="voting")
    commenter = create_user(session, "commenter@example.jp", display_name="投稿 次郎")
    comment = Comment(target_type="proposal", target_id=ward.proposal.id, author_id=commenter.id,  # type: ignore[arg-type]
                      body="090-1234-5678 に電話してください")
    session.add(comment)
    session.commit()
    session.refresh(comment)
    residents = [create_user(session, f"reporter{i}@example.jp", display_name=f"通報者{i}") for i in range(4)]
    return World(**vars(ward), comment=comment, commenter=commenter, residents=residents)


def ja(message: str, **variables: object) -> str:
    with using_locale("ja"):
        return gettext(message, **variables)


def post(client: TestClient[Litestar], path: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"_csrf_token": csrf_token(client), **data}, follow_redirects=False)


def report_n(session: Session, world: World, target_type: str, target_id: int, n: int) -> None:
    for user in world.residents[:n]:
        moderation.report(session, actor(session, user), moderation.ReportForm(target_type=target_type, target_id=target_id, reason="spam"))


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))).all())


# --- reporting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("target_type", ["proposal", "comment"])
def test_three_open_reports_hide_the_content_pending_review(session: Session, world: World,
                                                            target_type: str) -> None:
    target = world.proposal if target_type == "proposal" else world.comment
    report_n(session, world, target_type, target.id, 2)  # type: ignore[arg-type]
    item = reload(session, target)
    assert item.report_count == 2 and item.hidden_at is None  # type: ignore[union-attr]
    report_n(session, world, target_type, target.id, 3)  # type: ignore[arg-type]  # the first two repeat
    item = reload(session, target)
    assert item.report_count == 3 and item.hidden_at is not None and item.hidden_by_id is None  # type: ignore[union-attr]
    assert item.hidden_reason == moderation.PENDING_REVIEW  # type: ignore[union-attr]
    assert moderation.hidden_notice(item) == ja(moderation.PENDING_REVIEW)
    assert session.exec(select(func.count()).select_from(Report)).one() == 3
    assert audit_actions(session) == []  # reporting is not a moderator action


def test_a_repeat_report_says_already_reported(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.residents[0])
    data = {"target_type": "proposal", "target_id": str(world.proposal.id), "reason": "off_topic", "note": "関係ない"}
    response = post(client, "/reports", **data)
    assert response.status_code == 303 and response.headers["location"] == f"/proposals/{world.proposal.id}"
    assert post(client, "/reports", **data).status_code == 303
    page = client.get("/")
    assert escape(ja("You have already reported this. A moderator will look at it.")) in page.text
    assert reload(session, world.proposal).report_count == 1  # type: ignore[union-attr]
    stored = session.exec(select(Report)).one()
    assert (stored.reason, stored.note, stored.reporter_id) == (ReportReason.OFF_TOPIC, "関係ない", world.residents[0].id)


def test_nobody_reports_their_own_content(session: Session, world: World, client: TestClient[Litestar]) -> None:
    with pytest.raises(Forbidden):
        moderation.report(session, actor(session, world.member), moderation.ReportForm(target_type="proposal", target_id=world.proposal.id, reason="spam"))
    with pytest.raises(Forbidden):
        moderation.report(session, actor(session, world.commenter), moderation.ReportForm(target_type="comment", target_id=world.comment.id, reason="spam"))
    with pytest.raises(SignInRequired):
        moderation.report(session, Principal.anonymous(), moderation.ReportForm(target_type="comment", target_id=world.comment.id, reason="spam"))
    sign_in(client, world.commenter)
    assert client.get(f"/reports/comment/{world.comment.id}").status_code == 403
    assert session.exec(select(func.count()).select_from(Report)).one() == 0


def test_a_report_the_database_already_holds_changes_nothing(session: Session, world: World,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The same person reporting twice at once: the second report is refused by the unique constraint
    after the look-up missed it, and that is no error (the unit of work is undone, nothing else)."""
    reporter = actor(session, world.residents[0])
    form = moderation.ReportForm(target_type="comment", target_id=world.comment.id, reason="spam")
    assert moderation.report(session, reporter, form)[1] is True
    real_exec = session.exec
    missed = []

    def missing_the_first_report(statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "report.reporter_id" in str(statement):
            missed.append(statement)
            return real_exec(select(Report.id).where(Report.id == -1))
        return real_exec(statement, *args, **kwargs)

    monkeypatch.setattr(session, "exec", missing_the_first_report)
    target, created = moderation.report(session, reporter, form)
    monkeypatch.undo()
    assert missed and created is False and target.item.id == world.comment.id
    assert session.exec(select(func.count()).select_from(Report)).one() == 1
    assert reload(session, world.comment).report_count == 1  # type: ignore[union-attr]


def test_the_report_form(session: Session, world: World, client: TestClient[Litestar]) -> None:
    path = f"/reports/comment/{world.comment.id}"
    assert client.get(path, follow_redirects=False).headers["location"].startswith("/account/sign-in")
    assert post(client, "/reports", target_type="comment").headers["location"].startswith("/account/sign-in")
    sign_in(client, world.residents[0])
    page = client.get(path)
    assert page.status_code == 200 and 'id="reason-personal_info"' in page.text and world.comment.body in page.text
    assert client.get("/reports/proposal/999999").status_code == 404
    assert client.get("/reports/question/1").status_code == 404
    draft = create_proposal(session, world.challenge, world.organisation, status="draft", title="下書き")
    assert client.get(f"/reports/proposal/{draft.id}").status_code == 404


@pytest.mark.parametrize("data", [
    {}, {"reason": ""}, {"reason": "boring"}, {"reason": "spam", "note": "x" * 1001}, {"reason": "spam", "note": "a\x00b"},
])
def test_invalid_reports_are_refused(session: Session, world: World, client: TestClient[Litestar],
                                     data: dict[str, str]) -> None:
    sign_in(client, world.residents[0])
    response = post(client, "/reports", target_type="proposal", target_id=str(world.proposal.id), **data)
    assert response.status_code == 400 and 'id="error-summary"' in response.text
    assert session.exec(select(func.count()).select_from(Report)).one() == 0
    assert reload(session, world.proposal).report_count == 0  # type: ignore[union-attr]


@pytest.mark.parametrize("data", [{}, {"target_type": "user", "target_id": "1"}, {"target_type": "proposal",
                                                                                  "target_id": "abc"}])
def test_reports_without_a_target_are_refused(session: Session, world: World, client: TestClient[Litestar],
                                              data: dict[str, str]) -> None:
    sign_in(client, world.residents[0])
    assert post(client, "/reports", reason="spam", **data).status_code == 400
    assert post(client, "/reports", reason="spam", target_type="proposal", target_id="999999").status_code == 404
    assert session.exec(select(func.count()).select_from(Report)).one() == 0


def test_hostile_notes_are_stored_verbatim_and_shown_escaped(session: Session, world: World,
                                                             client: TestClient[Litestar],
                                                             xss_payloads: list[str]) -> None:
    payloads = [p for p in xss_payloads if len(p) <= moderation.NOTE_MAX and not CONTROL_CHARS.search(p)]
    users = [create_user(session, f"xss{i}@example.jp") for i in range(len(payloads))]
    for user, payload in zip(users, payloads, strict=True):
        moderation.report(session, actor(session, user), moderation.ReportForm(target_type="comment", target_id=world.comment.id, reason="offensive", note=payload))
    notes = set(session.exec(select(Report.note)).all())
    assert notes == {p.strip() for p in payloads}
    sign_in(client, world.moderator)
    page = client.get(f"/moderation/comment/{world.comment.id}").text
    for payload in payloads:
        if "<" in payload:
            assert payload.strip() not in page
    assert "<script>alert(1)</script>" not in page


@pytest.mark.committed("racing threads each use their own connection")
@pytest.mark.databases("sqlite", "postgresql", why="row locks and constraints under concurrency")
def test_simultaneous_reports_hide_once_with_an_exact_count(session: Session, world: World, settings: Settings) -> None:
    racing = Database(settings, pool_size=8, max_overflow=0)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def attempt(user_id: int) -> None:
        try:
            with racing.session() as db:
                principal = Principal.load(db, db.get(User, user_id))
                db.commit()
                barrier.wait(timeout=30)
                moderation.report(db, principal, moderation.ReportForm(target_type="proposal", target_id=world.proposal.id, reason="spam"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=attempt, args=(u.id,)) for u in world.residents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    racing.dispose()
    assert errors == []
    item = reload(session, world.proposal)
    assert item.report_count == 4 and item.hidden_at is not None  # type: ignore[union-attr]


# --- the queue -----------------------------------------------------------------------------------


def test_the_queue_per_role(session: Session, world: World, app: Litestar) -> None:
    report_n(session, world, "comment", world.comment.id, 1)  # type: ignore[arg-type]
    for user, expected in ((None, 303), (world.residents[0], 403), (world.staff, 403), (world.member, 403),
                           (world.moderator, 200), (world.admin, 200)):
        with TestClient(app, base_url="http://testserver.local") as client:
            if user is not None:
                sign_in(client, user)
            for path in ("/moderation", f"/moderation/comment/{world.comment.id}"):
                response = client.get(path, follow_redirects=False)
                assert response.status_code == expected, (user, path)
            hidden = post(client, f"/moderation/comment/{world.comment.id}/hide", reason="個人情報")
            assert hidden.status_code == (expected if expected != 200 else 303), user
            if expected == 200:
                post(client, f"/moderation/comment/{world.comment.id}/restore")
    assert audit_actions(session) == ["moderation.hidden", "moderation.restored"] * 2


def test_the_queue_lists_reasons_not_reporters_in_constant_queries(session: Session, world: World, app: Litestar,
                                                                   client: TestClient[Litestar]) -> None:
    sign_in(client, world.moderator)
    report_n(session, world, "proposal", world.proposal.id, 3)  # type: ignore[arg-type]
    moderation.report(session, actor(session, world.residents[0]), moderation.ReportForm(target_type="comment", target_id=world.comment.id, reason="personal_info"))

    def queries() -> int:
        with count_queries(app.state.database.engine) as log:
            page = client.get("/moderation")
        assert page.status_code == 200
        return log.count

    few = queries()
    page = client.get("/moderation").text
    assert f'id="queue-proposal-{world.proposal.id}"' in page and f'id="queue-comment-{world.comment.id}"' in page
    assert str(escape(ja("Spam or advertising"))) + " (3)" in page
    assert str(escape(ja("Personal information"))) + " (1)" in page
    for user in world.residents:
        assert user.display_name not in page
        assert user.display_name not in client.get(f"/moderation/proposal/{world.proposal.id}").text
    for index in range(12):
        proposal = create_proposal(session, world.challenge, world.organisation, title=f"提案{index}")
        moderation.report(session, actor(session, world.residents[0]), moderation.ReportForm(target_type="proposal", target_id=proposal.id, reason="spam"))  # type: ignore[arg-type]
        comment = Comment(target_type="proposal", target_id=proposal.id, author_id=world.commenter.id, body=f"c{index}")  # type: ignore[arg-type]
        session.add(comment)
        session.commit()
        moderation.report(session, actor(session, world.residents[1]), moderation.ReportForm(target_type="comment", target_id=comment.id, reason="off_topic"))  # type: ignore[arg-type]
    assert queries() == few
    assert 'aria-label=' in client.get("/moderation").text  # more than one page: the pager shows
    assert client.get("/moderation?page=2").status_code == 200
    assert client.get("/moderation?page=junk").status_code == 200


def test_what_the_desk_entered_is_named_by_its_channel(session: Session, world: World,
                                                       client: TestClient[Litestar]) -> None:
    # A comment the support desk typed in from a paper form has no author account: the queue and the item
    # page say how it reached the ward instead of leaving the author blank.
    entered = Comment(target_type="proposal", target_id=world.proposal.id, body="紙の意見", channel="paper",  # type: ignore[arg-type]
                      entered_by_id=world.staff.id)
    session.add(entered)
    session.commit()
    moderation.report(session, actor(session, world.residents[0]),
                      moderation.ReportForm(target_type="comment", target_id=entered.id, reason="spam"))  # type: ignore[arg-type]
    sign_in(client, world.moderator)
    paper = str(escape(ja("Entered by the ward from a paper form")))
    queue = client.get("/moderation").text
    row = queue[queue.index(f'id="queue-comment-{entered.id}"'):]
    assert paper in row[:row.index("</tr>")]
    item = client.get(f"/moderation/comment/{entered.id}").text
    assert f'<span id="moderation-author">{paper}</span>' in item
    assert 'id="block-form"' not in item  # there is no account to block
    assert f'<span id="moderation-author">{escape(world.commenter.public_name)}</span>' in client.get(
        f"/moderation/comment/{world.comment.id}").text


# --- moderator actions ---------------------------------------------------------------------------


def test_hide_shows_the_reason_and_resolves_the_reports(session: Session, world: World,
                                                        client: TestClient[Litestar]) -> None:
    report_n(session, world, "proposal", world.proposal.id, 3)  # type: ignore[arg-type]
    sign_in(client, world.moderator)
    path = f"/moderation/proposal/{world.proposal.id}/hide"
    response = post(client, path, reason="   ")
    assert response.status_code == 400 and 'id="field-reason-error"' in response.text
    assert post(client, path, reason="x" * 501).status_code == 400
    assert reload(session, world.proposal).hidden_reason == moderation.PENDING_REVIEW  # type: ignore[union-attr]
    assert post(client, path, reason="広告のため非表示にしました").status_code == 303
    item = reload(session, world.proposal)
    assert item.hidden_reason == "広告のため非表示にしました" and item.hidden_by_id == world.moderator.id  # type: ignore[union-attr]
    assert moderation.hidden_notice(item) == ja("Hidden by a moderator: %(reason)s", reason="広告のため非表示にしました")
    assert set(session.exec(select(Report.resolution)).all()) == {"hidden"}
    assert post(client, path, reason="もう一度").status_code == 400  # already hidden
    entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id) == (
        "moderation.hidden", world.moderator.id, "proposal", str(world.proposal.id))
    assert "広告のため" in entry.details_json
    assert 'id="moderation-empty"' in client.get("/moderation").text


def test_restore_and_dismiss(session: Session, world: World, client: TestClient[Litestar]) -> None:
    sign_in(client, world.admin)
    cid = world.comment.id
    assert post(client, f"/moderation/comment/{cid}/restore").status_code == 400  # not hidden
    assert post(client, f"/moderation/comment/{cid}/dismiss").status_code == 400  # no reports
    report_n(session, world, "comment", cid, 3)  # type: ignore[arg-type]
    assert reload(session, world.comment).hidden_at is not None  # type: ignore[union-attr]
    assert post(client, f"/moderation/comment/{cid}/dismiss").status_code == 303
    comment = reload(session, world.comment)
    assert comment.hidden_at is None and comment.hidden_reason == ""  # type: ignore[union-attr]
    assert set(session.exec(select(Report.resolution)).all()) == {"dismissed"}
    moderation.hide(session, actor(session, world.moderator), "comment", cid, moderation.HideForm(reason="電話番号が含まれています"))  # type: ignore[arg-type]
    assert post(client, f"/moderation/comment/{cid}/restore").status_code == 303
    comment = reload(session, world.comment)
    assert comment.hidden_at is None and comment.hidden_by_id is None  # type: ignore[union-attr]
    assert audit_actions(session) == ["moderation.dismissed", "moderation.hidden", "moderation.restored"]
    assert verify(session).ok
    assert post(client, "/moderation/question/1/hide", reason="x").status_code == 404


def test_blocking_the_author_ends_their_sessions(session: Session, world: World, app: Litestar) -> None:
    with TestClient(app, base_url="http://testserver.local") as author:
        sign_in(author, world.commenter)
        assert author.get("/account", follow_redirects=False).status_code == 200
        with TestClient(app, base_url="http://testserver.local") as client:
            sign_in(client, world.moderator)
            page = client.get(f"/moderation/comment/{world.comment.id}").text
            assert 'id="block-form"' in page
            path = f"/moderation/users/{world.commenter.id}/block"
            response = post(client, path, block_reason="", target_type="comment", target_id=str(world.comment.id))
            assert response.status_code == 400 and 'id="field-block_reason-error"' in response.text
            response = post(client, path, block_reason="繰り返しの迷惑行為", target_type="comment",
                            target_id=str(world.comment.id))
            assert response.status_code == 303
        assert author.get("/account", follow_redirects=False).headers["location"].startswith("/account/sign-in")
    user = reload(session, world.commenter)
    assert user.blocked_at is not None and user.blocked_reason == "繰り返しの迷惑行為"  # type: ignore[union-attr]
    entry = session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.actor_id, entry.target_id) == ("user.blocked", world.moderator.id, str(world.commenter.id))


def test_a_block_form_may_name_its_reason_reason(session: Session, world: World,
                                                 client: TestClient[Litestar]) -> None:
    sign_in(client, world.moderator)
    path = f"/moderation/users/{world.commenter.id}/block"
    refused = post(client, path)  # no reason at all, and no content to go back to
    assert refused.status_code == 400 and 'id="problem-list"' in refused.text
    assert post(client, path, reason="迷惑行為の繰り返し").headers["location"] == "/moderation"
    assert reload(session, world.commenter).blocked_reason == "迷惑行為の繰り返し"  # type: ignore[union-attr]


def test_who_a_moderator_may_block(session: Session, world: World) -> None:
    moderator = actor(session, world.moderator)
    for user in (world.staff, world.admin, world.moderator):
        with pytest.raises(Invalid):
            moderation.block_user(session, moderator, user.id, moderation.BlockForm(reason="理由"))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        moderation.block_user(session, actor(session, world.staff), world.commenter.id, moderation.BlockForm(reason="理由"))  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        moderation.block_user(session, moderator, 999_999, moderation.BlockForm(reason="理由"))
    assert moderation.block_user(session, actor(session, world.admin), world.staff.id, moderation.BlockForm(reason="管理者による停止")).blocked_at  # type: ignore[arg-type]
    with pytest.raises(Invalid):  # already blocked
        moderation.block_user(session, actor(session, world.admin), world.staff.id, moderation.BlockForm(reason="もう一度"))  # type: ignore[arg-type]
    assert audit_actions(session) == ["user.blocked"]
