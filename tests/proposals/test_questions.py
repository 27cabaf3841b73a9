"""The dialogue (質疑応答): asking, private questions, answers, merge/pin/hide and the answer notification,
through the services and the real app, per role and per phase."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.header import decode_header, make_header

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, func, select

from cocreate.accounts.models import Role, User
from cocreate.accounts.permissions import Forbidden, Principal, SignInRequired
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.db import Database
from cocreate.errors import Invalid
from cocreate.mail import OutboundEmail
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Follow, Notification
from cocreate.settings import Settings
from cocreate.tasks import configure_celery, enqueue
from proposals.dialogue import question_routes, questions
from proposals.dialogue.questions import AskForm
from proposals.models import Challenge, Phase, Question, QuestionStatus, QuestionVisibility
from tests.factories import create_challenge, create_department, create_organisation, create_user, sign_in
from tests.helpers import count_queries, csrf_token
from tests.servers import SmtpSink, Worker, wait_until

pytestmark = pytest.mark.databases("sqlite", why="dialogue rules are Python")

World = dict[str, object]


@pytest.fixture
def world(session: Session, app: Litestar) -> World:
    # ``app`` configures Celery with the test settings, so tasks enqueued by services go to the test broker.
    env = create_department(session)
    other = create_department(session, "transport", division_ja="都市整備部", section_ja="交通政策課",
                              division_en="Urban Development", section_en="Transport Policy")
    member = create_user(session, "member@example.jp", display_name="会員 一郎")
    world: World = {
        "env": env, "other": other,
        "staff": create_user(session, "kankyo@example.jp", display_name="環境 花子", roles=[(Role.STAFF, env.id)]),
        "other_staff": create_user(session, "kotsu@example.jp", roles=[(Role.STAFF, other.id)]),
        "resident": create_user(session, "resident@example.jp", display_name="区民 太郎"),
        "neighbour": create_user(session, "neighbour@example.jp", display_name="隣人 次郎"),
        "unconfirmed": create_user(session, "new@example.jp", confirmed=False),
        "admin": create_user(session, "admin@example.jp", roles=[Role.ADMIN]),
        "member": member,
        "org": create_organisation(session, "板橋モビリティ株式会社", admin=member, verified=True),
        "unverified_org": create_organisation(session, "未確認合同会社", admin=member),
    }
    world["challenge"] = create_challenge(session, env)
    return world


def principal(session: Session, world: World, name: str) -> Principal:
    return Principal.load(session, world[name])  # type: ignore[arg-type]


def cid(world: World) -> int:
    return world["challenge"].id  # type: ignore[attr-defined]


def ask(session: Session, world: World, name: str = "resident", body: str = "余熱の温度は何度ですか？",
        visibility: str = "public", organisation_id: str = "") -> Question:
    return questions.ask(session, principal(session, world, name), cid(world),
                         AskForm(body=body, visibility=visibility, organisation_id=organisation_id))


def answer(session: Session, world: World, settings: Settings, question: Question, text: str = "約80℃です。",
           name: str = "staff") -> Question:
    return questions.answer(session, settings, principal(session, world, name), question.id, questions.AnswerForm(answer=text))  # type: ignore[arg-type]


def set_phase(session: Session, world: World, phase: Phase) -> None:
    challenge = session.get(Challenge, cid(world))
    assert challenge is not None
    challenge.phase = phase
    session.add(challenge)
    session.commit()


def question_count(session: Session, world: World) -> int:
    session.expire_all()
    return session.get(Challenge, cid(world)).question_count  # type: ignore[union-attr]


def stored_questions(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Question)).one()


@contextmanager
def browser(app: Litestar, user: User | None = None) -> Iterator[TestClient[Litestar]]:
    """A separate client (own cookies) signed in as ``user``."""
    with TestClient(app, base_url="http://testserver.local") as client:
        if user is not None:
            sign_in(client, user)
        yield client


def main_of(page: str) -> str:
    """The page's main content (the header holds the signed-in user's own name and forms)."""
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def article_of(page: str, question_id: int) -> str:
    return page.split(f'id="question-{question_id}"', 1)[1].split("</article>", 1)[0]


def post(client: TestClient[Litestar], url: str, htmx: bool = False, **data: object) -> object:
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={"_csrf_token": csrf_token(client), **data}, headers=headers,
                       follow_redirects=False)


# --- asking: phases and roles --------------------------------------------------------------------


@pytest.mark.parametrize("phase", [Phase.PUBLISHED, Phase.ACCEPTING])
def test_residents_and_members_ask_while_the_phase_allows(session: Session, world: World, phase: Phase) -> None:
    set_phase(session, world, phase)
    question = ask(session, world)
    assert question.status is QuestionStatus.OPEN and question.asker_id == world["resident"].id  # type: ignore[attr-defined]
    for_org = ask(session, world, "member", "データの提供形式は？", organisation_id=str(world["org"].id))  # type: ignore[attr-defined]
    assert for_org.organisation_id == world["org"].id  # type: ignore[attr-defined]
    assert question_count(session, world) == 2
    # Askers follow the challenge from then on.
    assert notifications.is_following(session, world["resident"].id, "challenge", cid(world))  # type: ignore[attr-defined]
    assert notifications.followers(session, "challenge", cid(world)) == sorted(
        [world["resident"].id, world["member"].id])  # type: ignore[attr-defined]


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.REVIEW, Phase.DECIDED, Phase.TRIAL, Phase.COMPLETED,
                                   Phase.CLOSED])
def test_asking_after_proposals_close_is_refused_with_the_reason(
    session: Session, world: World, phase: Phase, client: TestClient[Litestar]
) -> None:
    set_phase(session, world, phase)
    with pytest.raises(Invalid) as failed:
        ask(session, world)
    assert set(failed.value.errors) == {"phase"} and failed.value.errors["phase"]
    assert stored_questions(session) == 0 and question_count(session, world) == 0

    sign_in(client, world["resident"])  # type: ignore[arg-type]
    response = post(client, f"/challenges/{cid(world)}/questions", body="まだ質問できますか？", visibility="public")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert 'id="error-summary"' in response.text and 'id="ask-form"' not in response.text  # type: ignore[attr-defined]
    assert stored_questions(session) == 0


def test_a_draft_challenge_has_no_dialogue(session: Session, world: World, client: TestClient[Litestar]) -> None:
    set_phase(session, world, Phase.DRAFT)
    with pytest.raises(questions.NotFound):
        ask(session, world)
    # Its owning staff see the draft, but the phase allows no questions.
    with pytest.raises(Invalid):
        ask(session, world, "staff")
    assert question_routes.detail_section(session, principal(session, world, "staff"),
                                          session.get(Challenge, cid(world))) is None
    sign_in(client, world["resident"])  # type: ignore[arg-type]
    assert client.get(f"/challenges/{cid(world)}/questions").status_code == 404
    response = post(client, f"/challenges/{cid(world)}/questions", body="公開前？", visibility="public")
    assert response.status_code == 404  # type: ignore[attr-defined]
    assert stored_questions(session) == 0


def test_who_may_ask(session: Session, world: World, app: Litestar) -> None:
    with pytest.raises(SignInRequired):
        questions.ask(session, Principal.anonymous(), cid(world), AskForm(body="匿名の質問"))
    with pytest.raises(Forbidden):
        ask(session, world, "unconfirmed")
    for name in ("resident", "member", "staff", "other_staff", "admin"):
        ask(session, world, name, f"{name} の質問")
    assert stored_questions(session) == 5

    url = f"/challenges/{cid(world)}/questions"
    with browser(app) as anonymous:
        response = post(anonymous, url, body="匿名の質問", visibility="public")
        assert response.status_code == 303 and "/account/sign-in" in response.headers["location"]  # type: ignore[attr-defined]
        page = anonymous.get(url)
        assert page.status_code == 200 and 'id="ask-form"' not in page.text
        assert "/account/sign-in?next=/challenges/" in page.text
    with browser(app, world["resident"]) as resident:  # type: ignore[arg-type]
        response = post(resident, url, body="**太字**の質問です", visibility="public")
        assert response.status_code == 303  # type: ignore[attr-defined]
        question = session.exec(select(Question).order_by(Question.id.desc())).first()  # type: ignore[union-attr]
        assert question is not None and question.body == "**太字**の質問です"
        assert response.headers["location"] == f"/challenges/{cid(world)}#question-{question.id}"  # type: ignore[attr-defined]
        page = resident.get(url)
        assert "<strong>太字</strong>" in page.text and "区民 太郎" in page.text
    assert stored_questions(session) == 6


def test_members_ask_for_their_verified_organisations_only(session: Session, world: World, app: Litestar) -> None:
    org_id = world["org"].id  # type: ignore[attr-defined]
    for name, organisation in (("resident", org_id), ("member", world["unverified_org"].id),  # type: ignore[attr-defined]
                               ("member", "abc"), ("member", "999999")):
        with pytest.raises(Invalid) as failed:
            ask(session, world, name, organisation_id=str(organisation))
        assert set(failed.value.errors) == {"organisation_id"}
    assert stored_questions(session) == 0
    question = ask(session, world, "member", "実証フィールドの電源は？", organisation_id=str(org_id))

    with browser(app) as anonymous:
        page = anonymous.get(f"/challenges/{cid(world)}/questions/{question.id}").text
        assert "板橋モビリティ株式会社" in page and "会員 一郎" not in page
    with browser(app, world["member"]) as member:  # type: ignore[arg-type]
        page = member.get(f"/challenges/{cid(world)}/questions").text
        assert 'name="organisation_id"' in page and "板橋モビリティ株式会社" in page
        assert "未確認合同会社" not in page


# --- private questions ---------------------------------------------------------------------------


def test_private_questions_are_seen_by_the_asker_and_owning_staff_until_answered(
    session: Session, world: World, app: Litestar, settings: Settings
) -> None:
    question = ask(session, world, "member", "非公開の質問です：予算の内訳は？", visibility="private",
                   organisation_id=str(world["org"].id))  # type: ignore[attr-defined]
    assert question_count(session, world) == 0
    list_url = f"/challenges/{cid(world)}/questions"
    url = f"{list_url}/{question.id}"
    outsiders = [None, world["neighbour"], world["other_staff"], world["admin"]]
    for user in outsiders:
        with browser(app, user) as client:  # type: ignore[arg-type]
            assert client.get(url).status_code == 404
            assert "予算の内訳" not in client.get(list_url).text
    for user in (world["member"], world["staff"]):
        with browser(app, user) as client:  # type: ignore[arg-type]
            assert client.get(url).status_code == 200
            assert "予算の内訳" in client.get(list_url).text

    answer(session, world, settings, question, "内訳は募集要項の別紙をご覧ください。")
    assert question_count(session, world) == 1
    for user in [*outsiders, world["member"]]:
        with browser(app, user) as client:  # type: ignore[arg-type]
            for page in (client.get(url), client.get(list_url)):
                assert page.status_code == 200
                assert "予算の内訳" in page.text and "内訳は募集要項の別紙" in page.text
                # Published without any asker identity: neither the person nor the organisation.
                shown = main_of(page.text) if user is not world["member"] else article_of(page.text, question.id)  # type: ignore[arg-type]
                assert "会員 一郎" not in shown and "板橋モビリティ株式会社" not in shown
    with browser(app, world["staff"]) as staff:  # type: ignore[arg-type]
        assert "板橋モビリティ株式会社" in staff.get(url).text  # the ward still knows who asked


# --- answering -----------------------------------------------------------------------------------


def test_only_owning_staff_answer_and_edits_are_marked(
    session: Session, world: World, app: Litestar, settings: Settings
) -> None:
    question = ask(session, world)
    for name in ("resident", "other_staff", "admin"):
        with pytest.raises(Forbidden):
            answer(session, world, settings, question, name=name)
    with pytest.raises(SignInRequired):
        questions.answer(session, settings, Principal.anonymous(), question.id, questions.AnswerForm(answer="x"))  # type: ignore[arg-type]
    url = f"/challenges/{cid(world)}/questions/{question.id}/answer"
    with browser(app, world["other_staff"]) as other:  # type: ignore[arg-type]
        assert post(other, url, answer="越権の回答").status_code == 403  # type: ignore[attr-defined]
    with browser(app) as anonymous:
        assert post(anonymous, url, answer="匿名").status_code == 303  # type: ignore[attr-defined]
    session.expire_all()
    assert session.get(Question, question.id).status is QuestionStatus.OPEN  # type: ignore[union-attr]

    with browser(app, world["staff"]) as staff:  # type: ignore[arg-type]
        for bad in ("", "   ", "x" * (questions.ANSWER_MAX + 1)):
            response = post(staff, url, answer=bad, view="question")
            assert response.status_code == 400 and 'id="error-summary"' in response.text  # type: ignore[attr-defined]
        session.expire_all()
        assert session.get(Question, question.id).status is QuestionStatus.OPEN  # type: ignore[union-attr]
        response = post(staff, url, answer="約**80度**です。", view="question")
        assert response.status_code == 303  # type: ignore[attr-defined]
        assert response.headers["location"] == f"/challenges/{cid(world)}/questions/{question.id}"  # type: ignore[attr-defined]
        page = staff.get(response.headers["location"]).text  # type: ignore[attr-defined]
        assert "<strong>80度</strong>" in page and f'id="question-{question.id}-edited"' not in page
        assert "資源環境部 環境政策課" in page
        response = post(staff, url, answer="約85℃です（訂正）。", view="question")
        assert response.status_code == 303  # type: ignore[attr-defined]
        page = staff.get(f"/challenges/{cid(world)}/questions/{question.id}").text
        assert "約85℃です（訂正）" in page and f'id="question-{question.id}-edited"' in page
    session.expire_all()
    stored = session.get(Question, question.id)
    assert stored is not None and stored.status is QuestionStatus.ANSWERED
    assert stored.answered_by_id == world["staff"].id and stored.answer_department_id == world["env"].id  # type: ignore[attr-defined]
    actions = session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "question")
                           .order_by(AuditEntry.id)).all()
    assert actions == ["question.answered", "question.answer_edited"]
    assert verify(session).ok


@pytest.mark.parametrize(("phase", "allowed"), [(Phase.VOTING, True), (Phase.TRIAL, True),
                                                (Phase.COMPLETED, False), (Phase.CLOSED, False)])
def test_answering_follows_the_phases(session: Session, world: World, settings: Settings, phase: Phase,
                                      allowed: bool) -> None:
    question = ask(session, world)
    set_phase(session, world, phase)
    if allowed:
        assert answer(session, world, settings, question).status is QuestionStatus.ANSWERED
    else:
        with pytest.raises(Invalid) as failed:
            answer(session, world, settings, question)
        assert failed.value.errors["answer"]
        session.expire_all()
        assert session.get(Question, question.id).status is QuestionStatus.OPEN  # type: ignore[union-attr]


def test_staff_see_the_queue_and_answer_from_the_section_with_htmx(
    session: Session, world: World, app: Litestar
) -> None:
    first = ask(session, world, body="一つ目")
    second = ask(session, world, body="二つ目", visibility="private")
    with browser(app, world["resident"]) as resident:  # type: ignore[arg-type]
        assert 'id="questions-queue"' not in resident.get(f"/challenges/{cid(world)}/questions").text
    with browser(app, world["staff"]) as staff:  # type: ignore[arg-type]
        page = staff.get(f"/challenges/{cid(world)}/questions").text
        assert 'id="questions-queue"' in page
        assert f'id="answer-form-{first.id}"' in page and f'id="answer-form-{second.id}"' in page
        url = f"/challenges/{cid(world)}/questions/{second.id}/answer"
        # An error comes back as the section (200: htmx swaps no 4xx) with the message by the field.
        response = post(staff, url, htmx=True, answer="", view="section")
        assert response.status_code == 200 and response.text.lstrip().startswith('<section class="questions"')  # type: ignore[attr-defined]
        assert f'id="field-answer-{second.id}-error"' in response.text  # type: ignore[attr-defined]
        response = post(staff, url, htmx=True, answer="二つ目への回答", view="section")
        assert response.status_code == 200 and "HX-Trigger" in response.headers  # type: ignore[attr-defined]
        assert "二つ目への回答" in response.text and f'id="answer-form-{second.id}"' not in response.text  # type: ignore[attr-defined]
        response = post(staff, f"/challenges/{cid(world)}/questions/{first.id}/answer", answer="一つ目への回答",
                        view="section")
        assert response.headers["location"] == f"/challenges/{cid(world)}#question-{first.id}"  # type: ignore[attr-defined]
    assert question_count(session, world) == 2


def test_a_question_of_another_challenge_is_not_found_under_this_one(
    session: Session, world: World, app: Litestar
) -> None:
    question = ask(session, world)
    elsewhere = create_challenge(session, world["env"], title="別の課題")  # type: ignore[arg-type]
    with browser(app, world["staff"]) as staff:  # type: ignore[arg-type]
        assert staff.get(f"/challenges/{elsewhere.id}/questions/{question.id}").status_code == 404
        response = post(staff, f"/challenges/{elsewhere.id}/questions/{question.id}/answer", answer="x")
        assert response.status_code == 404  # type: ignore[attr-defined]


# --- merge, pin, hide, count ---------------------------------------------------------------------


def test_merge_pin_and_hide_keep_the_count_exact(
    session: Session, world: World, app: Litestar, settings: Settings
) -> None:
    original = ask(session, world, body="余熱の温度は？")
    duplicate = ask(session, world, "neighbour", body="余熱は何度くらいですか？")
    private = ask(session, world, "member", body="非公開の質問", visibility="private")
    spam = ask(session, world, "neighbour", body="宣伝です 090-0000-0000")
    assert question_count(session, world) == 3  # the private one is not public

    for name in ("resident", "other_staff"):
        with pytest.raises(Forbidden):
            questions.merge(session, principal(session, world, name), duplicate.id, questions.MergeForm(into=original.id))  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            questions.set_pinned(session, principal(session, world, name), original.id, True)  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            questions.hide(session, principal(session, world, name), spam.id, questions.HideForm(reason="宣伝のため"))  # type: ignore[arg-type]
    staff = principal(session, world, "staff")
    for target in (duplicate.id, private.id, "abc", 999_999):  # itself, a private unanswered one, junk, unknown
        with pytest.raises(Invalid) as failed:
            questions.merge(session, staff, duplicate.id, questions.MergeForm(into=target))  # type: ignore[arg-type]
        assert set(failed.value.errors) == {"into"}
    with pytest.raises(Invalid):
        questions.set_pinned(session, staff, private.id, True)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        questions.hide(session, staff, spam.id, questions.HideForm(reason="  "))  # type: ignore[arg-type]
    assert question_count(session, world) == 3

    questions.merge(session, staff, duplicate.id, questions.MergeForm(into=str(original.id)))  # type: ignore[arg-type]
    assert question_count(session, world) == 2
    questions.hide(session, staff, spam.id, questions.HideForm(reason="電話番号（個人情報）が含まれていたため"))  # type: ignore[arg-type]
    assert question_count(session, world) == 1
    answer(session, world, settings, private)
    assert question_count(session, world) == 2
    questions.set_pinned(session, staff, private.id, True)  # type: ignore[arg-type]

    with browser(app) as anonymous:
        page = anonymous.get(f"/challenges/{cid(world)}/questions").text
        assert 'id="questions-count"' in page
        ids = [int(n) for n in re.findall(r'<li class="card question" id="question-(\d+)"', page)]
        assert ids == [private.id, spam.id, original.id]  # pinned first, then newest; merged left out
        assert "電話番号（個人情報）が含まれていたため" in page and "090-0000-0000" not in page
        merged = anonymous.get(f"/challenges/{cid(world)}/questions/{duplicate.id}").text
        assert f'id="question-{duplicate.id}-merged"' in merged
        assert f'href="/challenges/{cid(world)}/questions/{original.id}"' in merged
        target = anonymous.get(f"/challenges/{cid(world)}/questions/{original.id}").text
        assert f'href="/challenges/{cid(world)}/questions/{duplicate.id}"' in target
    with browser(app, world["staff"]) as staff_client:  # type: ignore[arg-type]
        page = staff_client.get(f"/challenges/{cid(world)}/questions/{spam.id}").text
        assert "090-0000-0000" in page  # staff can still read what was hidden
        response = post(staff_client, f"/challenges/{cid(world)}/questions/{private.id}/pin", pinned="no",
                        view="question")
        assert response.status_code == 303  # type: ignore[attr-defined]
        response = post(staff_client, f"/challenges/{cid(world)}/questions/{original.id}/hide", reason="",
                        view="question")
        assert response.status_code == 400 and 'id="field-reason-error"' in response.text  # type: ignore[attr-defined]
    session.expire_all()
    assert not session.get(Question, private.id).pinned  # type: ignore[union-attr]
    assert session.get(Question, duplicate.id).merged_into_id == original.id  # type: ignore[union-attr]
    actions = sorted(session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "question")).all())
    assert actions == ["question.answered", "question.hidden", "question.merged", "question.pinned",
                       "question.unpinned"]


def test_the_first_answer_notifies_askers_merged_askers_and_followers_once(
    session: Session, world: World, settings: Settings
) -> None:
    original = ask(session, world, "resident", "余熱の温度は？")
    duplicate = ask(session, world, "neighbour", "余熱は何度？", visibility="private")
    questions.merge(session, principal(session, world, "staff"), duplicate.id, questions.MergeForm(into=original.id))  # type: ignore[arg-type]
    notifications.follow(session, world["member"].id, "challenge", cid(world))  # type: ignore[attr-defined]
    notifications.follow(session, world["staff"].id, "challenge", cid(world))  # type: ignore[attr-defined]
    session.commit()
    answer(session, world, settings, original)
    answer(session, world, settings, original, "編集した回答")  # an edit notifies nobody again
    rows = session.exec(select(Notification).order_by(Notification.user_id)).all()
    by_user = {n.user_id: n for n in rows}
    assert set(by_user) == {world["resident"].id, world["neighbour"].id, world["member"].id}  # type: ignore[attr-defined]
    assert '"yours": true' in by_user[world["resident"].id].params_json  # type: ignore[attr-defined]
    assert '"yours": true' in by_user[world["neighbour"].id].params_json  # type: ignore[attr-defined]
    assert "yours" not in by_user[world["member"].id].params_json  # type: ignore[attr-defined]
    assert {n.url for n in rows} == {f"/challenges/{cid(world)}/questions/{original.id}"}
    assert session.exec(select(func.count()).select_from(OutboundEmail)).one() == 3


# --- hostile, huge and wrong input ---------------------------------------------------------------


ACTIVE_HTML = re.compile(r"<(script|iframe|object|embed|svg|math|base|meta|marquee|video|body)\b"
                         r"|<[a-z][^<>]*\son[a-z]+\s*="
                         r"|<[a-z][^<>]*\s(href|src|action)\s*=\s*[\"']?\s*(javascript|vbscript|data):", re.I)
"""Live markup a payload could smuggle in: script-ish elements, event handlers, script URLs in real tags."""


def assert_inert(page: str) -> None:
    found = [main_of(page)[max(0, m.start() - 80):m.end() + 20] for m in ACTIVE_HTML.finditer(main_of(page))]
    assert not found, found


def test_hostile_input_is_stored_verbatim_and_rendered_escaped(
    session: Session, world: World, app: Litestar, settings: Settings, xss_payloads: list[str]
) -> None:
    asked = [ask(session, world, body=payload) for payload in xss_payloads]
    answer(session, world, settings, asked[0], "\n".join(xss_payloads[:20]))
    questions.hide(session, principal(session, world, "staff"), asked[1].id, questions.HideForm(reason="<script>alert('reason')</script>"))  # type: ignore[arg-type]
    session.expire_all()
    assert [session.get(Question, q.id).body for q in asked] == xss_payloads  # type: ignore[union-attr]
    url = f"/challenges/{cid(world)}/questions"
    with browser(app, world["staff"]) as staff:  # type: ignore[arg-type]
        pages = -(-len(asked) // questions.PER_PAGE)
        for number in range(1, pages + 1):
            assert_inert(staff.get(f"{url}?page={number}").text)
        for question in asked[:25]:
            assert_inert(staff.get(f"{url}/{question.id}").text)
        page = staff.get(f"{url}/{asked[1].id}").text
        assert str(escape("<script>alert('reason')</script>")) in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in staff.get(f"{url}/{asked[0].id}").text


def test_huge_empty_and_wrong_typed_input_change_nothing(session: Session, world: World, app: Litestar) -> None:
    url = f"/challenges/{cid(world)}/questions"
    with browser(app, world["resident"]) as client:  # type: ignore[arg-type]
        cases = [
            ({"body": "あ" * (questions.BODY_MAX + 1), "visibility": "public"}, "field-body-error"),
            ({"body": "x" * 100_000, "visibility": "public"}, "field-body-error"),
            ({"body": "   \n ", "visibility": "public"}, "field-body-error"),
            ({"body": "制御文字\x00", "visibility": "public"}, "field-body-error"),
            ({"body": "質問", "visibility": "banana"}, "field-visibility-error"),
            ({"body": "質問", "visibility": "public", "organisation_id": "abc"}, "field-organisation_id"),
            ({"body": "質問", "visibility": "public", "organisation_id": "1e3"}, "field-organisation_id"),
        ]
        for data, marker in cases:
            response = post(client, url, **data)
            assert response.status_code == 400, data  # type: ignore[attr-defined]
            assert marker in response.text and 'id="error-summary"' in response.text  # type: ignore[attr-defined]
        assert stored_questions(session) == 0
        # What was typed comes back in the form.
        response = post(client, url, body="残しておく本文", visibility="banana")
        assert "残しておく本文" in response.text  # type: ignore[attr-defined]
        # Exactly the limit is fine; a field sent twice takes the first value.
        response = client.post(url, data={"_csrf_token": csrf_token(client), "body": ["あ" * questions.BODY_MAX, "二つ目"],
                                          "visibility": "private"}, follow_redirects=False)
        assert response.status_code == 303, response.text[-3000:]
        assert client.get(f"{url}?page=abc").status_code == 200
        assert client.get(f"/challenges/{cid(world)}/questions/abc").status_code in (400, 404)
        assert client.get("/challenges/99999/questions").status_code == 404
    session.expire_all()
    stored = session.exec(select(Question)).one()
    assert stored.body == "あ" * questions.BODY_MAX and stored.visibility is QuestionVisibility.PRIVATE


# --- pages ---------------------------------------------------------------------------------------


def test_the_section_paginates_and_htmx_loads_more(session: Session, world: World, app: Litestar) -> None:
    for n in range(questions.PER_PAGE + 3):
        ask(session, world, body=f"質問その{n}")
    url = f"/challenges/{cid(world)}/questions"
    with browser(app) as client:
        page = client.get(url).text
        assert page.count('<li class="card question"') == questions.PER_PAGE
        assert 'id="questions-more"' in page and f'href="{url}?page=2"' in page
        more = client.get(f"{url}?page=2", headers={"HX-Request": "true"})
        assert "HX-Request" in more.headers["vary"]
        assert more.text.count('<li class="card question"') == 3 and "<html" not in more.text
        assert 'id="questions-more"' not in more.text
        plain = client.get(f"{url}?page=2").text  # without JavaScript: the same page in full
        assert "<html" in plain and plain.count('<li class="card question"') == 3


def test_ask_with_htmx_swaps_the_section(session: Session, world: World, app: Litestar) -> None:
    url = f"/challenges/{cid(world)}/questions"
    with browser(app, world["resident"]) as client:  # type: ignore[arg-type]
        response = post(client, url, htmx=True, body="htmxからの質問", visibility="public")
        assert response.status_code == 200  # type: ignore[attr-defined]
        assert response.text.lstrip().startswith('<section class="questions"')  # type: ignore[attr-defined]
        assert "htmxからの質問" in response.text and "cocreate:flash" in response.headers["hx-trigger"]  # type: ignore[attr-defined]
        response = post(client, url, htmx=True, body="", visibility="public")
        assert response.status_code == 200 and 'id="field-body-error"' in response.text  # type: ignore[attr-defined]
    assert stored_questions(session) == 1


def test_follow_and_unfollow(session: Session, world: World, app: Litestar) -> None:
    url = f"/challenges/{cid(world)}/follow"
    resident_id = world["resident"].id  # type: ignore[attr-defined]
    with browser(app) as anonymous:
        assert post(anonymous, url, follow="yes").status_code == 303  # type: ignore[attr-defined]
        assert f'id="challenge-{cid(world)}-follow"' in anonymous.get(f"/challenges/{cid(world)}/questions").text
    with browser(app, world["resident"]) as client:  # type: ignore[arg-type]
        assert post(client, url, follow="yes").headers["location"] == f"/challenges/{cid(world)}"  # type: ignore[attr-defined]
        assert post(client, url, follow="yes").status_code == 303  # type: ignore[attr-defined]  # twice is fine
        assert notifications.followers(session, "challenge", cid(world)) == [resident_id]
        response = post(client, url, htmx=True, follow="no")
        assert response.status_code == 200 and 'name="follow" value="yes"' in response.text  # type: ignore[attr-defined]
        assert notifications.followers(session, "challenge", cid(world)) == []
        assert post(client, "/challenges/99999/follow", follow="yes").status_code == 404  # type: ignore[attr-defined]
    set_phase(session, world, Phase.DRAFT)
    with browser(app, world["resident"]) as client:  # type: ignore[arg-type]
        assert post(client, url, follow="yes").status_code == 404  # type: ignore[attr-defined]
    assert session.exec(select(func.count()).select_from(Follow)).one() == 0


@pytest.mark.parametrize("viewer", [None, "resident", "staff"])
def test_the_section_reads_in_a_constant_number_of_queries(
    session: Session, world: World, app: Litestar, settings: Settings, viewer: str | None
) -> None:
    def fill(total: int) -> None:
        for n in range(total - stored_questions(session)):
            question = ask(session, world, ("resident", "member", "neighbour")[n % 3], f"質問{n}",
                           visibility=("public", "private")[n % 2],
                           organisation_id=str(world["org"].id) if n % 3 == 1 else "")  # type: ignore[attr-defined]
            if n % 4 == 0:
                answer(session, world, settings, question)
                answer(session, world, settings, question, "編集後の回答")

    user = world[viewer] if viewer else None
    counts = []
    with browser(app, user) as client:  # type: ignore[arg-type]
        for total in (3, 30):
            fill(total)
            client.get(f"/challenges/{cid(world)}/questions")
            with count_queries(app.state.database.engine) as log:
                page = client.get(f"/challenges/{cid(world)}/questions")
            assert page.status_code == 200
            counts.append(log.count)
            challenge = session.get(Challenge, cid(world))
            with count_queries(session.get_bind()) as direct:  # type: ignore[arg-type]
                questions.section(session, Principal.load(session, user), challenge)  # type: ignore[arg-type]
            counts.append(direct.count)
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_the_challenge_page_shows_the_section(session: Session, world: World, app: Litestar) -> None:
    question = ask(session, world, body="課題ページに出る質問")
    with browser(app, world["resident"]) as client:  # type: ignore[arg-type]
        page = client.get(f"/challenges/{cid(world)}").text
        assert 'id="questions"' in page and 'id="ask-form"' in page and f'id="question-{question.id}"' in page
        assert f'id="challenge-{cid(world)}-follow"' in page
    with browser(app, world["staff"]) as client:  # type: ignore[arg-type]
        assert f'id="answer-form-{question.id}"' in client.get(f"/challenges/{cid(world)}").text


# --- the answer notification, through a real worker ----------------------------------------------


def subject_of(message: object) -> str:
    return str(make_header(decode_header(message["Subject"])))  # type: ignore[index]


def test_the_answer_reaches_the_asker_and_followers_once_each(
    session: Session, smtp_worker_settings: tuple[Settings, Worker], smtp_sink: SmtpSink, database: Database,
    settings: Settings,
) -> None:
    worker_settings, worker = smtp_worker_settings
    configure_celery(worker_settings)
    smtp_sink.clear()
    env = create_department(session)
    staff = create_user(session, "kankyo@example.jp", roles=[(Role.STAFF, env.id)])  # type: ignore[arg-type]
    asker = create_user(session, "asker@example.jp", display_name="Asker", locale="en")
    follower = create_user(session, "follower@example.jp", display_name="フォロワー")
    unconfirmed = create_user(session, "unconfirmed@example.jp", confirmed=False)
    challenge = create_challenge(session, env)
    for user in (follower, unconfirmed, staff):
        notifications.follow(session, user.id, "challenge", challenge.id)  # type: ignore[arg-type]
    session.commit()
    question = questions.ask(session, Principal.load(session, asker), challenge.id,
                             AskForm(body="Is the heat available at night?", visibility="private"))
    questions.answer(session, worker_settings, Principal.load(session, staff), question.id,  # type: ignore[arg-type]
                     questions.AnswerForm(answer="はい、夜間も利用できます。"))
    # Answering again (an edit) notifies nobody again.
    questions.answer(session, worker_settings, Principal.load(session, staff), question.id,  # type: ignore[arg-type]
                     questions.AnswerForm(answer="はい、夜間も利用できます（24時間）。"))

    try:
        messages = smtp_sink.wait_for(2, timeout=30)
    except AssertionError:
        raise AssertionError(worker.log()[-4000:]) from None
    # The same delivery task arrives twice more (a retry, a duplicate): no e-mail is sent again.
    email_ids = list(session.exec(select(OutboundEmail.id).order_by(OutboundEmail.id)).all())
    assert len(email_ids) == 2
    with database.transaction() as sending:
        enqueue(sending, notifications.SEND_TASK, f"question.answered:{question.id}", email_ids)
        enqueue(sending, notifications.SEND_TASK, f"question.answered:{question.id}", email_ids)
        enqueue(sending, "cocreate.heartbeat", "after-question-mail")

    def heartbeat_seen() -> bool:
        from cocreate.tasks.heartbeat import WorkerHeartbeat

        with database.session() as check:
            return check.get(WorkerHeartbeat, "after-question-mail") is not None

    wait_until(heartbeat_seen, 30, "the worker to run the tasks queued behind the duplicates")
    messages = list(smtp_sink.messages)
    by_recipient = {m["To"]: m for m in messages}
    assert sorted(m["To"] for m in messages) == ["asker@example.jp", "follower@example.jp"]
    assert subject_of(by_recipient["asker@example.jp"]).startswith("Your question has been answered")
    english = by_recipient["asker@example.jp"].get_payload(decode=True).decode()
    assert f"/challenges/{challenge.id}/questions/{question.id}" in english and "Hello Asker" in english
    assert "フォロワー" in by_recipient["follower@example.jp"].get_payload(decode=True).decode()

    rows = session.exec(select(Notification).order_by(Notification.user_id)).all()
    assert [(n.user_id, n.kind) for n in rows] == sorted(
        [(asker.id, "question.answered"), (follower.id, "question.answered"),
         (unconfirmed.id, "question.answered")])
    configure_celery(settings)
