"""Decisions (採択・不採択・保留): owning staff record an outcome and a public rationale per proposal in the
review phase, publish them all at once, and the proposers and followers are notified once each."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Forbidden
from cocreate.audit.models import AuditEntry
from cocreate.errors import Invalid
from cocreate.mail import OutboundEmail
from cocreate.notifications import services as notifications
from cocreate.notifications.models import Notification
from cocreate.settings import Settings
from cocreate.tasks import configure_celery
from proposals import review
from proposals.models import Challenge, DecisionOutcome, Proposal
from tests.factories import sign_in
from tests.proposals.review_helpers import World, actor, add_review, make_world, post

pytestmark = pytest.mark.databases("sqlite", why="decision rules are Python")


@pytest.fixture(autouse=True)
def broker(settings: Settings) -> None:
    """E-mail delivery tasks go to the test broker."""
    configure_celery(settings)


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def _form(world: World, **entries: tuple[str, str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for name, (outcome, rationale) in entries.items():
        proposal = getattr(world, name)
        data[f"outcome-{proposal.id}"] = outcome
        data[f"rationale-{proposal.id}"] = rationale
    return data


def _entries(entries: dict[int, tuple[str, str]]) -> review.DecisionsForm:
    """The decisions form as posted: proposal id -> (outcome, rationale)."""
    data: dict[str, str] = {}
    for proposal_id, (outcome, rationale) in entries.items():
        data[review.outcome_field(proposal_id)] = outcome
        data[review.rationale_field(proposal_id)] = rationale
    return review.DecisionsForm.parse(data)


def _decided(session: Session, proposal: Proposal) -> Proposal:
    fresh = session.get(Proposal, proposal.id, populate_existing=True)
    assert fresh is not None
    return fresh


# --- saving --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 303), ("resident", 403), ("reviewer_a", 403),
                                               ("other_staff", 403), ("admin", 403), ("staff", 303)])
def test_saving_decisions_per_role(client: TestClient[Litestar], session: Session, world: World, who: str,
                                   expected: int) -> None:
    if who != "anonymous":
        sign_in(client, world.people[who])
    url = f"/staff/challenges/{world.challenge.id}/decisions"
    page = client.get(url, follow_redirects=False)
    assert page.status_code == (200 if who == "staff" else expected)
    response = post(client, url, _form(world, p1=("selected", "地域の移動課題に直接応える提案です。")))
    assert response.status_code == expected
    if who == "anonymous":
        assert response.headers["location"].startswith("/account/sign-in")
    p1 = _decided(session, world.p1)
    if who == "staff":
        assert p1.decision is DecisionOutcome.SELECTED and p1.decided_by_id == world.people["staff"].id
        assert p1.decision_rationale == "地域の移動課題に直接応える提案です。"
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.decisions_saved")).one()
        assert session.get(Challenge, world.challenge.id).decisions_published_at is None  # type: ignore[union-attr]
    else:
        assert p1.decision is None


def test_decision_validation(session: Session, world: World, xss_payloads: list[str]) -> None:
    staff = actor(session, world.people["staff"])
    cases = [
        ({world.p1.id: ("selected", "  ")}, f"rationale-{world.p1.id}"),
        ({world.p1.id: ("", "理由だけ")}, f"outcome-{world.p1.id}"),
        ({world.p1.id: ("maybe", "理由")}, f"outcome-{world.p1.id}"),
        ({world.p1.id: ("on_hold", "長" * (review.RATIONALE_MAX + 1))}, f"rationale-{world.p1.id}"),
    ]
    for entries, key in cases:
        with pytest.raises(Invalid) as failed:
            review.save_decisions(session, staff, world.challenge.id, _entries(entries))
        assert key in failed.value.errors, entries
    assert _decided(session, world.p1).decision is None
    # A draft proposal is not part of the decisions: it is ignored.
    assert review.save_decisions(session, staff, world.challenge.id, _entries({world.draft.id: ("selected", "x")})) == 0
    assert _decided(session, world.draft).decision is None

    hostile = "\n".join(xss_payloads)[: review.RATIONALE_MAX]
    review.save_decisions(session, staff, world.challenge.id, _entries({world.p1.id: ("not_selected", hostile)}))
    assert _decided(session, world.p1).decision_rationale == hostile.strip()
    with pytest.raises(Forbidden):
        review.save_decisions(session, actor(session, world.people["other_staff"]), world.challenge.id,
                              _entries({world.p1.id: ("selected", "理由")}))


def test_a_refused_decisions_form_is_shown_again_as_sent(client: TestClient[Litestar], session: Session,
                                                          world: World) -> None:
    sign_in(client, world.people["staff"])
    url = f"/staff/challenges/{world.challenge.id}/decisions"
    refused = post(client, url, _form(world, p1=("selected", "  "), p2=("", "保留の理由")))
    assert refused.status_code == 400
    assert f'id="field-rationale-{world.p1.id}-error"' in refused.text and "AIデマンド交通" in refused.text
    assert f'id="field-outcome-{world.p2.id}-error"' in refused.text
    assert '<option value="selected" selected>' in refused.text and "保留の理由</textarea>" in refused.text
    control = post(client, url, _form(world, p1=("selected", "理由\x00です")))
    assert control.status_code == 400 and f'id="field-rationale-{world.p1.id}-error"' in control.text
    unknown = post(client, url, _form(world, p1=("maybe", "理由")))
    assert unknown.status_code == 400 and f'id="field-outcome-{world.p1.id}-error"' in unknown.text
    assert _decided(session, world.p1).decision is None and _decided(session, world.p2).decision is None
    assert session.exec(select(AuditEntry)).first() is None


def test_decisions_only_in_review_phase(session: Session, world: World, settings: Settings) -> None:
    staff = actor(session, world.people["staff"])
    for phase in ("voting", "decided"):
        world.challenge.phase = phase
        session.add(world.challenge)
        session.commit()
        with pytest.raises(Invalid) as failed:
            review.save_decisions(session, staff, world.challenge.id, _entries({world.p1.id: ("selected", "理由")}))
        assert "decisions" in failed.value.errors
        with pytest.raises(Invalid):
            review.publish_decisions(session, settings, staff, world.challenge.id)
    assert _decided(session, world.p1).decision is None


# --- publishing ----------------------------------------------------------------------------------


def test_publish_requires_every_decision(client: TestClient[Litestar], session: Session, world: World) -> None:
    sign_in(client, world.people["staff"])
    url = f"/staff/challenges/{world.challenge.id}/decisions"
    assert post(client, url, _form(world, p1=("selected", "採択の理由"))).status_code == 303
    refused = post(client, f"{url}/publish")
    assert refused.status_code == 400
    assert "1件" in refused.text
    assert session.get(Challenge, world.challenge.id, populate_existing=True).decisions_published_at is None  # type: ignore[union-attr]
    assert session.exec(select(Notification)).first() is None


@pytest.mark.databases("sqlite", "postgresql", why="notifications are inserted with ON CONFLICT")
def test_publish_notifies_once(client: TestClient[Litestar], session: Session, world: World,
                               settings: Settings, xss_payloads: list[str]) -> None:
    people = world.people
    follower = people["resident"]
    proposal_follower = people["reviewer_c"]
    notifications.follow(session, follower.id, "challenge", world.challenge.id)  # type: ignore[arg-type]
    notifications.follow(session, proposal_follower.id, "proposal", world.p1.id)  # type: ignore[arg-type]
    notifications.follow(session, people["proposer"].id, "challenge", world.challenge.id)  # type: ignore[arg-type]
    notifications.follow(session, people["staff"].id, "challenge", world.challenge.id)  # type: ignore[arg-type]
    session.commit()
    for who in ("reviewer_a", "reviewer_b"):  # both assigned reviewers have reviewed
        add_review(session, world.p1, people[who], [4, 3], criteria=world.criteria)
    sign_in(client, people["staff"])
    url = f"/staff/challenges/{world.challenge.id}/decisions"
    rationale = f"実現性が高いと評価しました。{xss_payloads[-2]}"
    assert post(client, url, _form(world, p1=("selected", rationale), p2=("on_hold", "予算の確認後に再検討します。"))).status_code == 303
    published = post(client, f"{url}/publish")
    assert published.status_code == 303, published.text[:3000]
    challenge = session.get(Challenge, world.challenge.id, populate_existing=True)
    assert challenge is not None and challenge.decisions_published_at is not None
    assert challenge.phase == "decided"  # publishing the decisions moves the timeline on
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.decisions_published")).one()
    assert entry.target_id == str(world.challenge.id)

    def outbox() -> dict[str, int]:
        counts: dict[str, int] = {}
        for email in session.exec(select(OutboundEmail)).all():
            counts[email.to_address] = counts.get(email.to_address, 0) + 1
        return counts

    # Two proposals: each recipient hears once per proposal; the acting staff member not at all.
    expected = {"proposer@example.jp": 2, "member@example.jp": 2, "resident@example.jp": 2, "shinsa-c@example.jp": 1}
    assert outbox() == expected
    notes = session.exec(select(Notification).where(Notification.user_id == people["proposer"].id)
                         .order_by(col(Notification.target_id))).all()
    assert [n.event_key for n in notes] == [f"decision.published:{world.p1.id}", f"decision.published:{world.p2.id}"]
    assert all(n.url == f"/proposals/{n.target_id}" for n in notes)
    assert '"yours": true' in notes[0].params_json  # the proposer hears it as their own proposal

    mail = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == "proposer@example.jp")
                        .order_by(col(OutboundEmail.id))).first()
    assert mail is not None and "AIデマンド交通" in mail.subject
    assert "結果：採択" in mail.body_text and f"/proposals/{world.p1.id}" in mail.body_text
    english = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == "member@example.jp")
                           .order_by(col(OutboundEmail.id))).first()  # the first is the selected proposal's
    assert english is not None and "Outcome: selected" in english.body_text  # in the reader's language

    # Publishing again is refused and sends nothing more; notifying again adds nothing either.
    again = post(client, f"{url}/publish")
    assert again.status_code == 400 and "公表されています" in again.text
    review.notify_decisions(session, settings, challenge, [_decided(session, world.p1), _decided(session, world.p2)],
                            actor_id=people["staff"].id)
    session.commit()
    assert outbox() == expected
    # After publishing the decisions are final, and the page shows them (escaped).
    assert post(client, url, _form(world, p1=("not_selected", "変更"))).status_code == 400
    assert _decided(session, world.p1).decision is DecisionOutcome.SELECTED
    page = client.get(url)
    assert 'id="published-decisions"' in page.text and "実現性が高いと評価しました。" in page.text
    assert "<img src=x onerror" not in page.text and "<svg/onload" not in page.text
    # The proposal now reads as its decision, not "Submitted": its page, the list, the API.
    detail = client.get(f"/proposals/{world.p1.id}").text
    meta = detail.split('class="proposal-meta"', 1)[1].split("</p>", 1)[0]
    assert 'badge-selected">採択<' in meta and "提出済み" not in meta
    listing = client.get(f"/challenges/{world.challenge.id}/proposals").text
    card = listing.split(f'id="proposal-{world.p2.id}"', 1)[1].split("</li>", 1)[0]
    assert "badge-on-hold" in card and "提出済み" not in card
    api = client.get(f"/api/v1/proposals/{world.p1.id}").json()
    assert api["status"] == "selected" and api["decision"] == "selected"
    items = client.get(f"/api/v1/challenges/{world.challenge.id}/proposals").json()["items"]
    assert {item["id"]: item["status"] for item in items} == {world.p1.id: "selected", world.p2.id: "on_hold"}


def test_publishing_waits_for_reviewers_who_sent_nothing_unless_staff_confirm(
        client: TestClient[Litestar], session: Session, world: World) -> None:
    people = world.people
    sign_in(client, people["staff"])
    url = f"/staff/challenges/{world.challenge.id}/decisions"
    assert post(client, url, _form(world, p1=("selected", "採択の理由"), p2=("not_selected", "理由"))).status_code == 303
    page = client.get(url).text
    assert 'id="silent-reviewers"' in page and "審査 一郎" in page and "審査 二郎" in page
    refused = post(client, f"{url}/publish")
    assert refused.status_code == 400 and 'id="field-publish-error"' in refused.text
    assert "審査 一郎、審査 二郎" in refused.text
    # A draft review is not a review; a submitted one (of any proposal) is.
    add_review(session, world.p2, people["reviewer_b"], [2, 2], criteria=world.criteria, submitted=False)
    add_review(session, world.p1, people["reviewer_a"], [4, 4], criteria=world.criteria)
    refused = post(client, f"{url}/publish")
    assert refused.status_code == 400 and "審査 二郎" in refused.text and "審査 一郎" not in refused.text.split(
        'id="field-publish-error"', 1)[1].split("</p>", 1)[0]
    assert session.get(Challenge, world.challenge.id, populate_existing=True).decisions_published_at is None  # type: ignore[union-attr]
    # Staff confirm: published, and the audit log says without whose reviews.
    assert post(client, f"{url}/publish", {"without_reviews": "yes"}).status_code == 303
    assert session.get(Challenge, world.challenge.id, populate_existing=True).decisions_published_at is not None  # type: ignore[union-attr]
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.decisions_published")).one()
    assert "審査 二郎" in entry.details_json and "審査 一郎" not in entry.details_json


def test_publish_with_no_proposals_is_refused(session: Session, world: World, settings: Settings) -> None:
    for proposal in (world.p1, world.p2):
        proposal.status = "withdrawn"
        session.add(proposal)
    session.commit()
    with pytest.raises(Invalid) as failed:
        review.publish_decisions(session, settings, actor(session, world.people["staff"]), world.challenge.id)
    assert "publish" in failed.value.errors
    with pytest.raises(Forbidden):
        review.publish_decisions(session, settings, actor(session, world.people["other_staff"]), world.challenge.id)
