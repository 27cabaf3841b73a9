"""Runs of the opinion analysis: who may start and review them, the task's work, rename, merge and publish,
the public page (hidden until published), the challenge page's link, and query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, select

from cocreate.accounts.models import Role
from cocreate.accounts.permissions import Forbidden, SignInRequired
from cocreate.analysis import services
from cocreate.analysis.models import AnalysisRun, AnalysisTopic, RunStatus
from cocreate.audit.models import AuditEntry
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.tasks.queue import diverted
from proposals.models import Category, Question, QuestionVisibility, Voice
from tests.factories import Ward, actor, create_user, create_ward, reload, sign_in
from tests.helpers import count_queries, csrf_token

pytestmark = pytest.mark.databases("sqlite", why="analysis rules and the engine are Python")

RESIDENT_SAYS = [
    "公園のトイレが汚くて使えません。清掃の回数を増やしてください。",
    "公園の遊具が古くなって使用禁止のままです。",
    "公園にベンチと日陰が少なく、高齢者が休めません。",
    "公園の照明が暗く、夕方以降は誰も使っていません。",
    "バスの本数が少なくて、病院に行くのに不便です。",
    "バス停にベンチと屋根をつけてほしい。",
    "コミュニティバスを走らせてほしい。坂の上から駅まで歩くのはつらい。",
    "夜遅い時間のバスがなくなってしまい、帰りはタクシーしかありません。",
]


@pytest.fixture
def ward(session: Session, app: Litestar) -> Ward:
    return create_ward(session, phase="voting")


def add_texts(session: Session, ward: Ward) -> None:
    cid = ward.challenge.id
    for number, body in enumerate(RESIDENT_SAYS):
        session.add(Comment(target_type="challenge", target_id=cid, author_id=ward.resident.id, body=body))
        if number == 0:
            session.add(Comment(target_type="proposal", target_id=ward.proposal.id, author_id=ward.resident.id,
                                body="提案のバスの実証に期待しています。バスが増えると助かる。"))
    session.add(Comment(target_type="challenge", target_id=cid, author_id=ward.resident.id,
                        body="HIDDEN-COMMENT 隠された意見", hidden_at=utcnow()))
    session.add(Comment(target_type="challenge", target_id=cid, author_id=ward.staff.id, official="staff",
                        body="OFFICIAL-ANSWER 区からの回答"))
    session.add(Question(challenge_id=cid, asker_id=ward.member.id, visibility=QuestionVisibility.PUBLIC,
                         body="公園のトイレの清掃は誰が担当していますか。"))
    session.add(Question(challenge_id=cid, asker_id=ward.member.id, visibility=QuestionVisibility.PRIVATE,
                         body="PRIVATE-QUESTION 非公開の質問"))
    session.add(Voice(category=Category.URBAN_DEVELOPMENT, title="バス停の屋根", body="雨の日にバスを待つのが大変です。", author_id=ward.resident.id,
                      challenge_id=cid))
    session.commit()


def run_now(session: Session, run: AnalysisRun) -> AnalysisRun:
    """What the worker does, in this process (the worker itself is tested in test_runs_worker.py)."""
    assert services.execute(session, run.id) == "done"  # type: ignore[arg-type]
    return reload(session, run)


def started(session: Session, ward: Ward) -> AnalysisRun:
    add_texts(session, ward)
    return run_now(session, services.start(session, actor(session, ward.staff), "challenge", ward.challenge.id))


# --- permissions per role ----------------------------------------------------------------------------


@pytest.mark.parametrize("who, refused", [("anonymous", SignInRequired), ("resident", Forbidden),
                                          ("member", Forbidden), ("other_staff", Forbidden),
                                          ("moderator", Forbidden), ("admin", Forbidden)])
def test_only_staff_of_the_owning_department_analyse_a_challenge(session: Session, ward: Ward, who: str,
                                                                 refused: type[Exception]) -> None:
    person = None if who == "anonymous" else getattr(ward, who)
    with pytest.raises(refused):
        services.start(session, actor(session, person), "challenge", ward.challenge.id)
    assert session.exec(select(AnalysisRun)).all() == []


def test_owning_staff_start_an_analysis_whose_task_waits_for_the_commit(session: Session, ward: Ward) -> None:
    sent: list[tuple[str, tuple[object, ...]]] = []
    with diverted(lambda name, args, _kwargs, _queue: sent.append((name, args))):
        run = services.start(session, actor(session, ward.staff), "challenge", ward.challenge.id)
    assert run.status is RunStatus.QUEUED and run.title == ward.challenge.title
    assert sent == [(services.TASK, (run.id,))]  # sent once the run is committed
    assert reload(session, run).created_by_id == ward.staff.id


@pytest.mark.parametrize("who, allowed", [("staff", True), ("other_staff", True), ("resident", False),
                                          ("admin", False)])
def test_any_staff_analyse_the_voices_of_a_period(session: Session, ward: Ward, who: str, allowed: bool) -> None:
    period = services.PeriodForm(start=date(2026, 1, 1), end=date(2026, 12, 31))
    if allowed:
        assert services.start(session, actor(session, getattr(ward, who)), "voices", None, period).id
    else:
        with pytest.raises(Forbidden):
            services.start(session, actor(session, getattr(ward, who)), "voices", None, period)


@pytest.mark.parametrize("start, end, field", [(None, None, "start"), (date(2026, 5, 1), None, "end"),
                                               (date(2026, 5, 2), date(2026, 5, 1), "end"),
                                               (date(2020, 1, 1), date(2026, 1, 1), "end")])
def test_a_bad_period_is_refused_under_its_field(session: Session, ward: Ward, start: date | None,
                                                 end: date | None, field: str) -> None:
    with pytest.raises(Invalid) as refused:
        services.start(session, actor(session, ward.staff), "voices", None, services.PeriodForm(start=start, end=end))
    assert field in refused.value.errors
    assert session.exec(select(AnalysisRun)).all() == []


def test_unknown_subjects_are_not_found(session: Session, ward: Ward) -> None:
    with pytest.raises(NotFound):
        services.start(session, actor(session, ward.staff), "challenge", 999_999)
    with pytest.raises(NotFound):
        services.start(session, actor(session, ward.staff), "nothing", 1)


# --- the task's work -----------------------------------------------------------------------------------


def test_the_run_reads_only_public_residents_texts_and_finds_topics(session: Session, ward: Ward) -> None:
    run = started(session, ward)
    assert run.status is RunStatus.DONE and run.progress == 100
    assert run.text_count == len(RESIDENT_SAYS) + 3  # + the comment on its proposal, the public question, the voice
    topics = session.exec(select(AnalysisTopic).where(AnalysisTopic.run_id == run.id)).all()
    assert len(topics) >= 2
    assert sum(topic.size for topic in topics) == run.text_count
    quotes = " ".join(quote for topic in topics for quote in topic.quotes)
    for secret in ("HIDDEN-COMMENT", "OFFICIAL-ANSWER", "PRIVATE-QUESTION"):
        assert secret not in quotes
    words = {word for topic in topics for word in topic.words}
    assert {"公園", "バス"} <= words
    assert services.execute(session, run.id) == "skipped"  # a redelivered task changes nothing


def test_voices_of_a_period_are_read_by_their_creation_date(session: Session, ward: Ward) -> None:
    today = utcnow()
    for title in ("公園のベンチ", "公園の遊具", "バスの本数", "バス停の屋根"):
        session.add(Voice(category=Category.URBAN_DEVELOPMENT, title=title, body=f"{title}をお願いします。", author_id=ward.resident.id))
    session.add(Voice(category=Category.URBAN_DEVELOPMENT, title="OLD", body="古い声", author_id=ward.resident.id, created_at=today - timedelta(days=400)))
    session.commit()
    day = today.date()
    run = services.start(session, actor(session, ward.other_staff), "voices", None,
                         services.PeriodForm(start=day - timedelta(days=1), end=day + timedelta(days=1)))
    run = run_now(session, run)
    assert run.text_count == 4


# --- review: rename, merge, publish ------------------------------------------------------------------


def topics_of(session: Session, run: AnalysisRun) -> list[AnalysisTopic]:
    session.expire_all()
    return list(session.exec(select(AnalysisTopic).where(AnalysisTopic.run_id == run.id)
                             .order_by(AnalysisTopic.position)).all())


def test_rename_merge_and_publish(session: Session, ward: Ward) -> None:
    run = started(session, ward)
    staff = actor(session, ward.staff)
    first, second, *_rest = topics_of(session, run)
    services.rename(session, staff, run.id, first.id, services.RenameForm(label="公園の設備"))
    assert reload(session, first).label == "公園の設備"
    with pytest.raises(Invalid):
        services.rename(session, staff, run.id, first.id, services.RenameForm(label="  "))
    sizes = first.size + second.size
    services.merge(session, staff, run.id, services.MergeForm(keep=str(first.id), merge=str(second.id)))
    kept = topics_of(session, run)
    assert second.id not in {topic.id for topic in kept}
    assert reload(session, first).size == sizes and reload(session, first).label == "公園の設備"
    with pytest.raises(Invalid):
        services.merge(session, staff, run.id, services.MergeForm(keep=str(first.id), merge=str(first.id)))
    with pytest.raises(Forbidden):
        services.publish(session, actor(session, ward.other_staff), run.id)
    services.publish(session, staff, run.id)
    assert reload(session, run).published_at is not None
    logged = session.exec(select(AuditEntry.action).where(AuditEntry.target_type == "analysis_run",
                                                          AuditEntry.target_id == str(run.id))
                          .order_by(AuditEntry.id)).all()
    assert logged == ["analysis.started", "analysis.topic_renamed", "analysis.topics_merged", "analysis.published"]
    assert services.latest_published(session, "challenge", ward.challenge.id).id == run.id  # type: ignore[union-attr]


def test_a_quote_hidden_after_the_run_leaves_the_pages(session: Session, ward: Ward) -> None:
    run = started(session, ward)
    topic = next(topic for topic in topics_of(session, run) if any(ref.startswith("comment:") for ref in topic.quote_refs))
    ref = next(ref for ref in topic.quote_refs if ref.startswith("comment:"))
    quote = topic.quotes[topic.quote_refs.index(ref)]
    services.publish(session, actor(session, ward.staff), run.id)
    assert quote in services.view(session, actor(session, None), run.id, "analysis.view").quotes(topic)
    comment = session.get(Comment, int(ref.split(":")[1]))
    comment.hidden_at, comment.hidden_reason = utcnow(), "個人情報"  # type: ignore[union-attr]
    session.commit()
    for who in (None, ward.staff):
        assert quote not in services.view(session, actor(session, who), run.id, "analysis.view").quotes(topic)


@pytest.mark.parametrize("who", ["other_staff", "resident", "admin"])
def test_others_may_not_review(session: Session, ward: Ward, who: str) -> None:
    run = started(session, ward)
    topic = topics_of(session, run)[0]
    person = actor(session, getattr(ward, who))
    with pytest.raises(Forbidden):
        services.rename(session, person, run.id, topic.id, services.RenameForm(label="x"))
    with pytest.raises(Forbidden):
        services.view(session, person, run.id)
    assert reload(session, topic).label != "x"


def test_an_unfinished_run_cannot_be_reviewed(session: Session, ward: Ward) -> None:
    run = services.start(session, actor(session, ward.staff), "challenge", ward.challenge.id)
    with pytest.raises(Conflict):
        services.publish(session, actor(session, ward.staff), run.id)


# --- pages -----------------------------------------------------------------------------------------------


def post(client: TestClient[Litestar], url: str, data: dict[str, str]) -> object:
    return client.post(url, data={**data, "_csrf_token": csrf_token(client)}, follow_redirects=False)


def test_the_pages_from_start_to_the_public_page(app: Litestar, session: Session, ward: Ward,
                                                 client: TestClient[Litestar]) -> None:
    add_texts(session, ward)
    challenge_page = f"/challenges/{ward.challenge.id}"
    assert 'id="what-we-heard"' not in client.get(challenge_page).text  # nothing published, not staff
    sign_in(client, ward.staff)
    assert 'id="analysis-start-form"' in client.get(challenge_page).text
    answer = post(client, "/staff/analysis", {"source": "challenge", "subject_id": str(ward.challenge.id)})
    assert answer.status_code == 303, re.findall(r'error-summary.*?</ul>', answer.text, re.S)  # type: ignore[attr-defined]
    run_url = answer.headers["location"]  # type: ignore[attr-defined]
    run_id = int(re.search(r"/(\d+)$", run_url).group(1))  # type: ignore[union-attr]
    waiting = client.get(run_url)
    # htmx asks again every two seconds; without JavaScript, a link reloads the page (no automatic refresh,
    # which would move a screen reader's reading position: WCAG 2.2.1)
    assert 'hx-trigger="every 2s"' in waiting.text and 'id="analysis-reload"' in waiting.text
    assert client.get(run_url, headers={"HX-Request": "true"}).text.lstrip().startswith('<div id="analysis-status"')
    run_now(session, session.get(AnalysisRun, run_id))  # type: ignore[arg-type]
    review = client.get(run_url).text
    assert 'id="analysis-done"' in review and "every 2s" not in review
    topic = topics_of(session, session.get(AnalysisRun, run_id))[0]  # type: ignore[arg-type]
    # A blank name comes back with its error, under that topic's field; nothing changes.
    bad = post(client, f"{run_url}/topics/{topic.id}", {f"label-{topic.id}": ""})
    assert bad.status_code == 400 and f'id="field-label-{topic.id}-error"' in bad.text  # type: ignore[attr-defined]
    assert post(client, f"{run_url}/topics/{topic.id}", {f"label-{topic.id}": "公園をもっと使いやすく"}).status_code == 303  # type: ignore[attr-defined]
    bad_merge = post(client, f"{run_url}/merge", {"keep": str(topic.id), "merge": "abc"})
    assert bad_merge.status_code == 400  # type: ignore[attr-defined]
    # Not published yet: the public page does not exist for anyone else.
    with TestClient(app, base_url="http://testserver.local") as visitor:
        assert visitor.get(f"/heard/{run_id}").status_code == 404
        assert post(client, f"{run_url}/publish", {"published": "yes"}).status_code == 303  # type: ignore[attr-defined]
        public = visitor.get(f"/heard/{run_id}")
        assert public.status_code == 200 and "公園をもっと使いやすく" in public.text
        assert "<svg" in public.text and 'id="heard-table"' in public.text
        assert f'href="/heard/{run_id}"' in visitor.get(challenge_page).text
        assert visitor.get("/staff/analysis", follow_redirects=False).status_code in (302, 303, 401)
        assert visitor.get(run_url, follow_redirects=False).status_code in (302, 303, 401)


def test_a_post_without_the_csrf_token_changes_nothing(session: Session, ward: Ward,
                                                       client: TestClient[Litestar]) -> None:
    sign_in(client, ward.staff)
    answer = client.post("/staff/analysis", data={"source": "challenge", "subject_id": str(ward.challenge.id)},
                         follow_redirects=False)
    assert answer.status_code == 403
    assert session.exec(select(AnalysisRun)).all() == []


def test_the_staff_home_and_period_form(session: Session, ward: Ward, client: TestClient[Litestar]) -> None:
    sign_in(client, ward.resident)
    assert client.get("/staff/analysis").status_code == 403
    client.get("/account/sign-out")
    other = create_user(session, "another-staff@example.jp", roles=[(Role.STAFF, ward.other_department.id)])  # type: ignore[list-item]
    with TestClient(client.app, base_url="http://testserver.local") as staff_client:
        sign_in(staff_client, other)
        assert 'id="start-voices-form"' in staff_client.get("/staff/analysis").text
        bad = post(staff_client, "/staff/analysis", {"source": "voices", "start": "2026-05-02", "end": "2026-05-01"})
        assert bad.status_code == 400 and 'id="field-end-error"' in bad.text  # type: ignore[attr-defined]
        good = post(staff_client, "/staff/analysis", {"source": "voices", "start": "2026-05-01", "end": "2026-05-31"})
        assert good.status_code == 303  # type: ignore[attr-defined]
        assert 'id="run-' in staff_client.get("/staff/analysis").text


def test_pages_read_a_fixed_number_of_queries(app: Litestar, session: Session, ward: Ward,
                                              client: TestClient[Litestar]) -> None:
    run = started(session, ward)
    services.publish(session, actor(session, ward.staff), run.id)
    counts = []
    comment = session.exec(select(Comment.id).where(Comment.target_type == "challenge")).first()
    voice = session.exec(select(Voice.id)).first()
    for extra in range(2):
        if extra:  # more topics and quotes of every kind: the same number of queries
            for number in range(5):
                session.add(AnalysisTopic(run_id=run.id, position=10 + number, label=f"追加{number}", words=["公園"],
                                          quotes=["公園", "バス"], quote_refs=[f"comment:{comment}", f"voice:{voice}"],
                                          size=3))
            session.commit()
        client.get(f"/heard/{run.id}")
        with count_queries(app.state.database.engine) as log:
            assert client.get(f"/heard/{run.id}").status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1] and counts[0] <= 8, counts


def test_the_review_page_reads_a_fixed_number_of_queries(app: Litestar, session: Session, ward: Ward,
                                                          client: TestClient[Litestar]) -> None:
    run = started(session, ward)
    sign_in(client, ward.staff)
    counts = []
    for extra in range(2):
        if extra:
            for number in range(5):
                session.add(AnalysisTopic(run_id=run.id, position=10 + number, label=f"追加{number}", words=["公園"],
                                          quotes=["公園"], quote_refs=["comment:1"], size=3))
            session.commit()
        client.get(f"/staff/analysis/{run.id}")
        with count_queries(app.state.database.engine) as log:
            page = client.get(f"/staff/analysis/{run.id}")
        assert page.status_code == 200 and 'id="merge-form"' in page.text
        counts.append(log.count)
    assert counts[0] == counts[1] and counts[0] <= 10, counts


def test_a_published_analysis_of_voices_is_public_without_a_subject_page(session: Session, ward: Ward,
                                                                         client: TestClient[Litestar]) -> None:
    for title in ("公園のベンチ", "バスの本数"):
        session.add(Voice(category=Category.URBAN_DEVELOPMENT, title=title, body="お願いします。",
                          author_id=ward.resident.id))
    session.commit()
    day = utcnow().date()
    run = run_now(session, services.start(session, actor(session, ward.other_staff), "voices", None,
                                          services.PeriodForm(start=day - timedelta(days=1), end=day)))
    assert client.get(f"/heard/{run.id}").status_code == 404
    services.publish(session, actor(session, ward.staff), run.id)  # any staff reviews voices
    page = client.get(f"/heard/{run.id}")
    assert page.status_code == 200 and 'id="subject-link"' not in page.text and run.title in page.text
