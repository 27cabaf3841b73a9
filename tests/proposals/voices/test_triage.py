"""The ward's triage of residents' voices, through its services: who may do what, what each action
writes (the public trail, the status, the audit log, the notifications), and bad input changing nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, col, select

from cocreate import i18n
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.comments.models import Comment
from cocreate.errors import Forbidden, Invalid, SignInRequired
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from proposals.models import Challenge, ChallengeDepartment, Phase, Voice, VoiceStatus, VoiceUpdate
from proposals.voices import triage
from tests.factories import actor, reload
from tests.proposals.voices.triage_helpers import Ward, create_voice, make_ward, supporters_of, trail_count

pytestmark = pytest.mark.databases("sqlite", "postgresql", why="the merge and the queue are SQL both backends run")


@pytest.fixture
def ward(session: Session) -> Ward:
    return make_ward(session)


def ja(message: str, **variables: object) -> str:
    with i18n.using_locale("ja"):
        return i18n.gettext(message, **variables)


def _acknowledge(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    return triage.acknowledge(session, settings, who, voice.id, triage.NoteForm(note="担当課で確認します。"))


def _answer(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    return triage.answer(session, settings, who, voice.id, triage.AnswerForm(answer="**来年度**に拡幅します。"))


def _close(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    return triage.close(session, settings, who, voice.id, triage.CloseForm(status="resolved", reason="拡幅しました。"))


def _reassign(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    return triage.reassign(session, who, voice.id, triage.ReassignForm(department_id=ward.parks.id))


def _merge(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    target = create_voice(session, title="駅前の歩道を広げてほしい", department=ward.transport)
    return triage.merge(session, settings, who, voice.id, triage.MergeForm(into=target.id))


def _link(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    return triage.link(session, settings, who, voice.id, triage.LinkForm(challenge_id=ward.challenge.id))


def _to_challenge(session: Session, settings: Settings, who: Any, voice: Voice, ward: Ward) -> Any:
    return triage.to_challenge(session, settings, who, triage.ToChallengeForm(
        voice_ids=[voice.id], challenge_title="駅前の歩道を安全にしたい"))


ACTIONS: dict[str, Callable[..., Any]] = {
    "acknowledge": _acknowledge, "answer": _answer, "close": _close, "reassign": _reassign, "merge": _merge,
    "link": _link, "to_challenge": _to_challenge,
}
# Who may do each action to a voice of the transport department (staff) ; "other_staff" belongs to parks.
ALLOWED = {name: {"staff", "admin"} for name in ACTIONS} | {"to_challenge": {"staff"}}
REFUSED_AS = {"anonymous": SignInRequired, "resident": Forbidden, "other_staff": Forbidden, "admin": Forbidden}


@pytest.mark.parametrize("who", ["staff", "other_staff", "resident", "anonymous", "admin"])
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_per_role(session: Session, settings: Settings, ward: Ward, name: str, who: str) -> None:
    voice = create_voice(session, author=ward.people["author"], department=ward.transport)
    principal = actor(session, None if who == "anonymous" else ward.people[who])
    before = trail_count(session, voice.id)
    if who in ALLOWED[name]:
        update = ACTIONS[name](session, settings, principal, voice, ward)
        assert update is not None
        assert trail_count(session, voice.id) == before + 1
        entry = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
        assert entry is not None and entry.target_type == "voice" and entry.target_id == str(voice.id)
        assert entry.action.startswith("voice.")
    else:
        with pytest.raises(REFUSED_AS[who]):
            ACTIONS[name](session, settings, principal, voice, ward)
        assert trail_count(session, voice.id) == before
        assert reload(session, voice).status is VoiceStatus.RECEIVED


def test_any_staff_member_takes_a_voice_no_department_owns(session: Session, settings: Settings, ward: Ward) -> None:
    voice = create_voice(session, author=ward.people["author"])
    triage.acknowledge(session, settings, actor(session, ward.people["other_staff"]), voice.id, triage.NoteForm())
    voice = reload(session, voice)
    assert voice.department_id == ward.parks.id
    assert voice.status is VoiceStatus.CONSIDERING and voice.status_changed_at is not None
    # Now it is parks' voice: transport's staff no longer act on it.
    with pytest.raises(Forbidden):
        triage.answer(session, settings, actor(session, ward.people["staff"]), voice.id, triage.AnswerForm(answer="x"))


def test_acknowledge_writes_a_public_entry_and_notifies_author_and_supporters(
    session: Session, settings: Settings, ward: Ward
) -> None:
    people = ward.people
    voice = create_voice(session, author=people["author"], department=ward.transport,
                         supporters=(people["supporter"], people["resident"], people["staff"]))
    update = triage.acknowledge(session, settings, actor(session, people["staff"]), voice.id,
                                triage.NoteForm(note="現地を確認します。"))
    assert (update.kind, update.status, update.body, update.department_id, update.actor_id) == (
        "status", VoiceStatus.CONSIDERING, "現地を確認します。", ward.transport.id, people["staff"].id)
    assert reload(session, voice).status_changed_at == update.created_at
    rows = session.exec(select(Notification).where(Notification.kind == triage.STATUS_KIND)
                        .order_by(col(Notification.user_id))).all()
    # The author and the supporters, not the staff member who acted (though a supporter).
    assert sorted(row.user_id for row in rows) == sorted([people["author"].id, people["supporter"].id,
                                                          people["resident"].id])
    assert all(row.url == f"/voices/{voice.id}" for row in rows)
    yours = {row.user_id: '"yours": true' in row.params_json for row in rows}
    assert yours[people["author"].id] and not yours[people["supporter"].id]


def test_an_answer_notifies_with_its_own_kind_and_keeps_the_status(
    session: Session, settings: Settings, ward: Ward
) -> None:
    people = ward.people
    voice = create_voice(session, author=people["author"], department=ward.transport, status="considering",
                         supporters=(people["supporter"],))
    triage.answer(session, settings, actor(session, people["staff"]), voice.id,
                  triage.AnswerForm(answer="来年度に**拡幅**します。"))
    assert reload(session, voice).status is VoiceStatus.CONSIDERING
    notified = session.exec(select(Notification.user_id).where(Notification.kind == triage.ANSWER_KIND)).all()
    assert sorted(notified) == sorted([people["author"].id, people["supporter"].id])


@pytest.mark.parametrize("status", ["resolved", "declined"])
def test_close_needs_a_reason_and_records_it(session: Session, settings: Settings, ward: Ward, status: str) -> None:
    voice = create_voice(session, author=ward.people["author"], department=ward.transport)
    with pytest.raises(Invalid) as missing:
        triage.CloseForm(status=status, reason="  ")
    assert missing.value.errors == {"reason": str(triage.REASON_REQUIRED)}
    with i18n.using_locale("ja"), pytest.raises(Invalid) as translated:
        triage.CloseForm.parse({"status": status, "reason": ""})
    assert translated.value.errors["reason"] == ja("Give the reason; it is shown publicly with the new status.")
    update = triage.close(session, settings, actor(session, ward.people["staff"]), voice.id,
                          triage.CloseForm(status=status, reason="予算がつきませんでした。"))
    assert reload(session, voice).status is VoiceStatus(status)
    assert update.body == "予算がつきませんでした。"
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == f"voice.{status}")).one()
    assert json.loads(entry.details_json)["to"] == status


def test_bad_input_changes_nothing(session: Session, settings: Settings, ward: Ward) -> None:
    staff = actor(session, ward.people["staff"])
    voice = create_voice(session, author=ward.people["author"], department=ward.transport,
                         supporters=(ward.people["supporter"],))
    merged = create_voice(session, department=ward.transport, status="merged")
    before = (trail_count(session), session.exec(select(Notification)).all())
    refused = [
        (lambda: triage.close(session, settings, staff, voice.id, triage.CloseForm(status="received", reason="x")),
         "status"),
        (lambda: triage.merge(session, settings, staff, voice.id, triage.MergeForm(into=voice.id)), "into"),
        (lambda: triage.merge(session, settings, staff, voice.id, triage.MergeForm(into=merged.id)), "into"),
        (lambda: triage.merge(session, settings, staff, voice.id, triage.MergeForm(into=10**9)), "into"),
        (lambda: triage.link(session, settings, staff, voice.id, triage.LinkForm(challenge_id=10**9)), "challenge_id"),
        # another department's draft is no challenge for them
        (lambda: triage.link(session, settings, staff, voice.id, triage.LinkForm(challenge_id=ward.draft.id)),
         "challenge_id"),
        (lambda: triage.reassign(session, staff, voice.id, triage.ReassignForm(department_id=10**9)), "department_id"),
        (lambda: triage.reassign(session, staff, voice.id, triage.ReassignForm(department_id=ward.transport.id)),
         "department_id"),
        (lambda: triage.to_challenge(session, settings, staff, triage.ToChallengeForm(challenge_title="t")),
         "voice_ids"),
        (lambda: triage.to_challenge(session, settings, staff, triage.ToChallengeForm(
            voice_ids=[voice.id, 10**9], challenge_title="t")), "voice_ids"),
        (lambda: triage.to_challenge(session, settings, staff, triage.ToChallengeForm(
            voice_ids=[merged.id], challenge_title="t")), "voice_ids"),
        # a merged voice takes no further action
        (lambda: triage.answer(session, settings, staff, merged.id, triage.AnswerForm(answer="x")), "state"),
    ]
    for attempt, field in refused:
        with pytest.raises(Invalid) as failed:
            attempt()
        assert field in failed.value.errors, failed.value.errors
    assert (trail_count(session), session.exec(select(Notification)).all()) == before
    voice = reload(session, voice)
    assert (voice.status, voice.challenge_id, voice.department_id, voice.merged_into_id, voice.support_count) == (
        VoiceStatus.RECEIVED, None, ward.transport.id, None, 1)
    assert session.exec(select(Challenge).where(Challenge.title == "t")).first() is None
    # Acknowledging twice: the second is refused for the voice's state.
    triage.acknowledge(session, settings, staff, voice.id, triage.NoteForm())
    with pytest.raises(Invalid) as twice:
        triage.acknowledge(session, settings, staff, voice.id, triage.NoteForm())
    assert "acknowledge" in twice.value.errors


def test_bad_input_errors_are_translated(session: Session, settings: Settings, ward: Ward) -> None:
    staff = actor(session, ward.people["staff"])
    voice = create_voice(session, department=ward.transport)
    with i18n.using_locale("ja"):
        with pytest.raises(Invalid) as failed:
            triage.link(session, settings, staff, voice.id, triage.LinkForm(challenge_id=10**9))
        with pytest.raises(Invalid) as empty:
            triage.AnswerForm.parse({"answer": ""})
    assert failed.value.errors["challenge_id"] == ja("There is no challenge with this number.")
    assert empty.value.errors["answer"] == ja("Write the answer.") != "Write the answer."


def test_merge_carries_supports_over_exactly(session: Session, settings: Settings, ward: Ward) -> None:
    people = ward.people
    both, only_duplicate, only_target = people["resident"], people["supporter"], people["other_staff"]
    target_author = people["admin"]
    duplicate = create_voice(session, author=people["author"], department=ward.transport, title="重複",
                             supporters=(both, only_duplicate, target_author))
    target = create_voice(session, author=target_author, department=ward.transport, title="元の声",
                          supporters=(both, only_target))
    comment = Comment(target_type="voice", target_id=duplicate.id, author_id=both.id, body="うちの前もです")  # type: ignore[arg-type]
    duplicate.comment_count = 1
    session.add_all([comment, duplicate])
    session.commit()
    earlier = create_voice(session, department=ward.transport, status="merged", title="前に重複に統合された声")
    earlier.merged_into_id = duplicate.id
    session.add(earlier)
    session.commit()
    update = triage.merge(session, settings, actor(session, people["staff"]), duplicate.id,
                          triage.MergeForm(into=target.id, merge_note="同じ場所の声です。"))
    duplicate, target, earlier = reload(session, duplicate), reload(session, target), reload(session, earlier)
    # Each person once; the target's own author is not made a supporter of their voice.
    assert supporters_of(session, target.id) == sorted([both.id, only_duplicate.id, only_target.id])
    assert target.support_count == 3
    assert supporters_of(session, duplicate.id) == [] and duplicate.support_count == 0
    assert (duplicate.status, duplicate.merged_into_id) == (VoiceStatus.MERGED, target.id)
    assert earlier.merged_into_id == target.id
    # Comments stay where they are.
    assert (reload(session, comment).target_id, duplicate.comment_count, target.comment_count) == (duplicate.id, 1, 0)
    assert (update.kind, update.status, update.other_voice_id, update.body) == (
        "merge", VoiceStatus.MERGED, target.id, "同じ場所の声です。")
    on_target = session.exec(select(VoiceUpdate).where(VoiceUpdate.voice_id == target.id)).one()
    assert (on_target.kind, on_target.other_voice_id, on_target.status) == ("merge", duplicate.id, None)
    # The duplicate's author and supporters hear of it (not the staff member); the target's status stays.
    told = session.exec(select(Notification.user_id).where(Notification.kind == triage.STATUS_KIND)).all()
    assert sorted(told) == sorted([people["author"].id, both.id, only_duplicate.id, target_author.id])
    assert target.status is VoiceStatus.RECEIVED


def test_link_to_an_existing_challenge(session: Session, settings: Settings, ward: Ward) -> None:
    voice = create_voice(session, author=ward.people["author"], department=ward.transport)
    update = triage.link(session, settings, actor(session, ward.people["staff"]), voice.id,
                         triage.LinkForm(challenge_id=ward.challenge.id))
    voice = reload(session, voice)
    assert (voice.status, voice.challenge_id) == (VoiceStatus.CHALLENGE, ward.challenge.id)
    assert (update.kind, update.challenge_id) == ("link", ward.challenge.id)
    with pytest.raises(Invalid):  # twice to the same challenge
        triage.link(session, settings, actor(session, ward.people["staff"]), voice.id,
                    triage.LinkForm(challenge_id=ward.challenge.id))


def test_several_voices_become_one_draft_challenge_that_cites_them(
    session: Session, settings: Settings, ward: Ward
) -> None:
    people = ward.people
    first = create_voice(session, author=people["author"], department=ward.transport, title="歩道が狭い")
    second = create_voice(session, author=people["resident"], title="駅前に[ベンチ]を", category="urban_development")
    draft = triage.to_challenge(session, settings, actor(session, people["staff"]), triage.ToChallengeForm(
        voice_ids=[first.id, second.id], challenge_title="駅前を歩きやすくしたい"))
    draft = reload(session, draft)
    assert (draft.phase, draft.department_id, draft.title, draft.category.value) == (
        Phase.DRAFT, ward.transport.id, "駅前を歩きやすくしたい", "transport_mobility")
    assert f"(/voices/{first.id})" in draft.background and f"(/voices/{second.id})" in draft.background
    assert session.get(ChallengeDepartment, (draft.id, ward.transport.id)) is not None
    for voice in (reload(session, first), reload(session, second)):
        assert (voice.status, voice.challenge_id, voice.department_id) == (
            VoiceStatus.CHALLENGE, draft.id, ward.transport.id)
    assert session.exec(select(AuditEntry.action).where(AuditEntry.action.in_(  # type: ignore[attr-defined]
        ["challenge.created", "voice.challenge_drafted"]))).all().count("voice.challenge_drafted") == 2
    told = session.exec(select(Notification.user_id).where(Notification.kind == triage.STATUS_KIND)).all()
    assert sorted(told) == sorted([people["author"].id, people["resident"].id])
    assert triage.born_from(session, draft.id).total == 2
    assert verify(session).ok  # the audit log's chain holds


def test_the_queue_shows_the_departments_voices_and_unassigned_ones(
    session: Session, settings: Settings, ward: Ward
) -> None:
    mine = create_voice(session, department=ward.transport, title="交通課の声")
    theirs = create_voice(session, department=ward.parks, title="公園課の声", category="environment_energy",
                          area="shimura")
    nobody = create_voice(session, title="未担当の声")
    merged = create_voice(session, department=ward.transport, status="merged", title="統合済み")

    def titles(who: str, **filters: Any) -> set[str]:
        page = triage.queue(session, actor(session, ward.people[who]), triage.QueueFilters(**filters), 1, 20)
        return {item.voice.title for item in page.items}

    assert titles("staff") == {mine.title, nobody.title}
    assert titles("other_staff") == {theirs.title, nobody.title}
    assert titles("admin") == {mine.title, theirs.title, nobody.title}
    assert titles("staff", status=VoiceStatus.MERGED) == {merged.title}
    assert titles("admin", category=triage.Category.ENVIRONMENT_ENERGY) == {theirs.title}
    assert titles("admin", area="shimura") == {theirs.title}
    with pytest.raises(Forbidden):
        titles("resident")
