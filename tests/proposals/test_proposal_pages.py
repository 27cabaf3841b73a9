"""Proposal pages and the read API through the real app: who sees what (the confidential part above
all), writing and the similar-proposals box, lists with filters, sort and pages, versions,
attachments and hostile Markdown."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, select

from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.errors import Invalid
from cocreate.files import storage
from cocreate.i18n import gettext as _
from cocreate.settings import Settings
from proposals import submissions
from proposals.models import Challenge, DecisionOutcome, Phase, Proposal, ProposalAttachment, ProposalStatus
from tests.factories import sign_in
from tests.helpers import QueryLog, assert_no_live_markup, csrf_token
from tests.proposals.search_helpers import index_now, unread_broker
from tests.proposals.test_submissions import (
    SECRET,
    World,
    complete,
    draft,
    make_world,
    submitted,
    verify_first,
)

pytestmark = pytest.mark.databases("sqlite", why="proposal pages are Python; paging SQL runs on both")

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64






@pytest.fixture
def world(session: Session, app: Litestar) -> World:
    return make_world(session)


def post(client: TestClient[Litestar], url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return client.post(url, data={"_csrf_token": csrf_token(client), **(data or {})}, follow_redirects=False,
                       **kwargs)


def form_data(**overrides: Any) -> dict[str, str]:
    data = {
        "title": "AIデマンド交通で高島平の移動を支える", "summary": "予約制の乗合交通を一年間実証します。",
        "description": "## 内容\n\n乗合交通を走らせます。", "team": "代表 山田", "cost_estimate_yen": "2,800,000",
        "schedule": "4月開始", "test_field_needs": "高島平の道路", "confidential": SECRET,
        "kpis-0-indicator": "外出頻度", "kpis-0-baseline": "週2回", "kpis-0-target": "週3回", "kpis-0-unit": "回/週",
    }
    return data | overrides


def as_user(client: TestClient[Litestar], world: World, who: str | None) -> TestClient[Litestar]:
    if who is not None:
        sign_in(client, world.people[who])
    return client


def hide(session: Session, proposal: Proposal, reason: str = "個人情報が含まれていたため") -> None:
    row = session.get(Proposal, proposal.id)
    assert row is not None
    row.hidden_at, row.hidden_reason = utcnow(), reason
    session.commit()


# --- writing -------------------------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in(client: TestClient[Litestar], world: World) -> None:
    response = client.get(f"/challenges/{world.challenge.id}/proposals/new", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/account/sign-in")


@pytest.mark.parametrize(("who", "reason"), [
    ("resident", lambda: _("Proposals are submitted by organisations. Register your organisation, or ask its "
                           "administrator to add you, and have it verified by the ward.")),
    ("unverified_member", verify_first),
])
def test_who_cannot_propose_is_told_why(client: TestClient[Litestar], session: Session, world: World, who: str,
                                       reason: Any) -> None:
    as_user(client, world, who)
    page = client.get(f"/challenges/{world.challenge.id}/proposals/new")
    assert page.status_code == 403 and str(escape(reason())) in page.text
    organisation = world.unverified if who == "unverified_member" else world.org
    response = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                    form_data(organisation_id=str(organisation.id)))
    assert response.status_code == 403
    assert session.exec(select(Proposal)).all() == []
    challenge_page = client.get(f"/challenges/{world.challenge.id}")
    assert 'id="propose-button"' not in challenge_page.text and str(escape(reason())) in challenge_page.text


def test_outside_the_accepting_phase_the_form_is_refused(client: TestClient[Litestar], session: Session,
                                                         world: World) -> None:
    challenge = session.get(Challenge, world.challenge.id)
    challenge.phase = Phase.VOTING  # type: ignore[union-attr]
    session.commit()
    as_user(client, world, "member")
    page = client.get(f"/challenges/{world.challenge.id}/proposals/new")
    assert page.status_code == 403
    assert str(escape(_("Proposals can be submitted only while the challenge is accepting proposals."))) in page.text
    assert post(client, f"/challenges/{world.challenge.id}/proposals/new",
                form_data(organisation_id=str(world.org.id))).status_code == 403


def test_a_member_writes_submits_edits_and_withdraws(client: TestClient[Litestar], session: Session,
                                                     world: World) -> None:
    as_user(client, world, "member")
    challenge_page = client.get(f"/challenges/{world.challenge.id}")
    assert 'id="propose-button"' in challenge_page.text
    form = client.get(f"/challenges/{world.challenge.id}/proposals/new")
    assert form.status_code == 200 and 'id="field-title"' in form.text
    assert f'hx-get="/challenges/{world.challenge.id}/proposals/similar"' in form.text
    assert "keyup changed delay:500ms from:#field-title, keyup changed delay:500ms from:#field-summary" in form.text

    created = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                   form_data(organisation_id=str(world.org.id)))
    assert created.status_code == 303
    proposal = session.exec(select(Proposal)).one()
    assert created.headers["location"] == f"/proposals/{proposal.id}"
    assert proposal.cost_estimate_yen == 2_800_000 and proposal.status is ProposalStatus.DRAFT
    assert "draft-notice" in client.get(f"/proposals/{proposal.id}").text

    assert post(client, f"/proposals/{proposal.id}/submit").status_code == 303
    session.expire_all()
    assert session.get(Proposal, proposal.id).status is ProposalStatus.SUBMITTED  # type: ignore[union-attr]
    assert session.get(Challenge, world.challenge.id).proposal_count == 1  # type: ignore[union-attr]

    edit = client.get(f"/proposals/{proposal.id}/edit")
    assert edit.status_code == 200 and "resubmit-notice" in edit.text
    assert post(client, f"/proposals/{proposal.id}/edit", form_data(summary="二年間実証します。")).status_code == 303
    session.expire_all()
    assert session.get(Proposal, proposal.id).version == 2  # type: ignore[union-attr]

    assert post(client, f"/proposals/{proposal.id}/withdraw").status_code == 303
    session.expire_all()
    assert session.get(Proposal, proposal.id).status is ProposalStatus.WITHDRAWN  # type: ignore[union-attr]
    assert session.get(Challenge, world.challenge.id).proposal_count == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": ""}, "title", "This field is required."),
    ({"title": "あ" * 201}, "title", "Use at most %(max)s characters."),
    ({"cost_estimate_yen": "たくさん"}, "cost_estimate_yen",
     "Enter the amount in yen as a whole number, for example 3,000,000."),
    ({"cost_estimate_yen": "-5"}, "cost_estimate_yen", "Enter an amount in yen between 0 and %(max)s."),
    ({"kpis-0-target": ""}, "kpis-0-target", "This field is required."),
    ({"organisation_id": "abc"}, "organisation_id", "Choose the organisation that proposes."),
])
def test_form_errors_are_shown_and_nothing_is_saved(client: TestClient[Litestar], session: Session, world: World,
                                                    overrides: dict[str, str], field: str, message: str) -> None:
    as_user(client, world, "member")
    response = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                    form_data(organisation_id=str(world.org.id)) | overrides)
    assert response.status_code == 400
    assert f'id="field-{field}' in response.text and 'href="#field-' in response.text
    expected = _(message, max="{:,}".format(200 if field == "title" else 1_000_000_000_000))
    assert str(escape(expected)) in response.text
    assert session.exec(select(Proposal)).all() == []


def test_submitting_an_incomplete_draft_shows_what_is_missing(client: TestClient[Litestar], session: Session,
                                                              world: World) -> None:
    proposal = draft(session, world, description="")
    as_user(client, world, "member")
    response = post(client, f"/proposals/{proposal.id}/submit")
    assert response.status_code == 400 and 'href="#field-description"' in response.text
    session.expire_all()
    assert session.get(Proposal, proposal.id).status is ProposalStatus.DRAFT  # type: ignore[union-attr]


def test_huge_and_wrongly_typed_input_is_refused_cleanly(client: TestClient[Litestar], session: Session,
                                                         world: World) -> None:
    as_user(client, world, "member")
    huge = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                form_data(organisation_id=str(world.org.id), description="x" * 150_000,
                          cost_estimate_yen="9" * 40))
    assert huge.status_code == 400
    wrong = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                 {"organisation_id": [str(world.org.id), "2"], "title": ["", "b"], "kpis-999999-target": "x"})
    assert wrong.status_code == 400 and 'href="#field-title"' in wrong.text  # the first value counts
    assert session.exec(select(Proposal)).all() == []


def test_a_consortium_partner_confirms_on_the_page(client: TestClient[Litestar], session: Session,
                                                   world: World) -> None:
    proposal = draft(session, world)
    as_user(client, world, "member")
    page = client.get(f"/proposals/{proposal.id}")
    assert 'id="coauthor-form"' in page.text and world.partner.name in page.text
    assert post(client, f"/proposals/{proposal.id}/coauthors",
                {"action": "add", "organisation_id": str(world.partner.id)}).status_code == 303
    refused = post(client, f"/proposals/{proposal.id}/submit")
    assert refused.status_code == 400 and world.partner.name in refused.text

    partner = TestClient(client.app, base_url=str(client.base_url))
    with partner:
        as_user(partner, world, "partner_member")
        page = partner.get(f"/proposals/{proposal.id}")
        assert f'id="confirm-coauthor-{world.partner.id}"' in page.text
        assert post(partner, f"/proposals/{proposal.id}/coauthors",
                    {"action": "confirm", "organisation_id": str(world.partner.id)}).status_code == 303
    assert post(client, f"/proposals/{proposal.id}/submit").status_code == 303
    detail = client.get(f"/proposals/{proposal.id}").text
    assert detail.count('class="badge badge-verified"') == 2


# --- similar proposals ---------------------------------------------------------------------------


def test_similar_proposals_while_typing_and_on_a_plain_submit(client: TestClient[Litestar], session: Session,
                                                              world: World, database: Database, settings: Settings,
                                                              tmp_path: Path) -> None:
    unread_broker(settings, tmp_path)
    for i in range(7):
        submitted(session, world, title=f"AIデマンド交通で高島平の移動を支える案{i}")
    hidden = submitted(session, world, title="AIデマンド交通で高島平の移動（非表示の案）")
    hide(session, hidden)
    draft(session, world, title="AIデマンド交通で高島平の移動（下書きの案）")
    index_now(database, settings)
    url = f"/challenges/{world.challenge.id}/proposals/similar"

    fragment = client.get(url, params={"title": "高島平のAIデマンド交通", "summary": ""},
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.count('class="similar-item"') == 5
    assert "非表示の案" not in fragment.text and "下書きの案" not in fragment.text
    none = client.get(url, params={"title": "公園の花壇", "summary": "花の苗"})
    assert 'id="similar-empty"' in none.text

    as_user(client, world, "member")
    plain = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                 form_data(organisation_id=str(world.org.id), check_similar="yes"))
    assert plain.status_code == 200 and plain.text.count('class="similar-item"') == 5
    assert 'value="AIデマンド交通で高島平の移動を支える"' in plain.text  # the form keeps what was typed
    assert session.exec(select(Proposal).where(Proposal.status == ProposalStatus.DRAFT)).all().__len__() == 1


def test_similar_proposals_stay_on_their_challenge(client: TestClient[Litestar], session: Session,
                                                   world: World, database: Database, settings: Settings,
                                                   tmp_path: Path) -> None:
    unread_broker(settings, tmp_path)
    other = draft(session, world, challenge=world.other_challenge, title="AIデマンド交通で別の課題")
    submissions.submit(session, world.actor(session, "member"), other.id)  # type: ignore[arg-type]
    index_now(database, settings)
    assert client.get(f"/challenges/{world.other_challenge.id}/proposals/similar",
                      params={"title": "AIデマンド交通で別の課題"}).text.count('class="similar-item"') == 1
    response = client.get(f"/challenges/{world.challenge.id}/proposals/similar",
                          params={"title": "AIデマンド交通で別の課題"})
    assert "別の課題" not in response.text and 'id="similar-empty"' in response.text


# --- the confidential part -----------------------------------------------------------------------


@pytest.fixture
def published(session: Session, world: World, database: Database, settings: Settings, tmp_path: Path) -> Proposal:
    """A submitted proposal with a confidential part and a confidential attachment named with the marker
    (indexed for search, so that it is among the similar proposals)."""
    unread_broker(settings, tmp_path)
    proposal = submitted(session, world)
    session.add(ProposalAttachment(proposal_id=proposal.id, title=f"{SECRET}-file", filename=f"{SECRET}.pdf",  # type: ignore[arg-type]
                                   content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                                   storage_key="proposals/" + "a" * 32, confidential=True))
    session.commit()
    index_now(database, settings)
    return proposal


@pytest.mark.parametrize("who", [None, "resident", "stranger_member", "other_staff", "other_reviewer"])
def test_the_confidential_part_is_absent_from_every_public_page_and_api(
        client: TestClient[Litestar], world: World, published: Proposal, who: str | None) -> None:
    as_user(client, world, who)
    cid, pid = world.challenge.id, published.id
    for url in (f"/proposals/{pid}", f"/challenges/{cid}/proposals", f"/challenges/{cid}",
                f"/challenges/{cid}/proposals?sort=random", f"/challenges/{cid}/proposals?status=submitted",
                f"/api/v1/challenges/{cid}/proposals", f"/api/v1/proposals/{pid}",
                f"/challenges/{cid}/proposals/similar?title=AIデマンド交通"):
        response = client.get(url, headers={"Accept": "application/json"} if "/api/" in url else {})
        assert response.status_code == 200, url
        assert SECRET not in response.text, url
        assert ("AIデマンド交通" in response.text) if url != f"/challenges/{cid}" else ('id="proposals-count"' in response.text)
    assert client.get(f"/proposals/{pid}/versions", follow_redirects=False).status_code in (303, 403)


@pytest.mark.parametrize("who", ["staff", "reviewer", "member", "member2"])
def test_the_confidential_part_is_shown_to_owning_staff_assigned_reviewers_and_authors(
        client: TestClient[Litestar], world: World, published: Proposal, who: str) -> None:
    as_user(client, world, who)
    page = client.get(f"/proposals/{published.id}")
    assert page.status_code == 200 and 'id="confidential"' in page.text and SECRET in page.text
    assert client.get(f"/challenges/{world.challenge.id}/proposals").text.count(SECRET) == 0


def test_hostile_markdown_is_stored_verbatim_and_rendered_harmless(
        client: TestClient[Litestar], session: Session, world: World, xss_payloads: list[str]) -> None:
    hostile = "\n\n".join(xss_payloads)
    proposal = submitted(session, world, description=hostile, team=hostile[:5000],
                         title=xss_payloads[0][:200].replace("\n", " "), summary=xss_payloads[1][:500])
    assert session.get(Proposal, proposal.id).description == hostile  # type: ignore[union-attr]
    for url in (f"/proposals/{proposal.id}", f"/challenges/{world.challenge.id}/proposals",
                f"/challenges/{world.challenge.id}"):
        page = client.get(url)
        assert page.status_code == 200
        assert_no_live_markup(page.text)
    detail = client.get(f"/proposals/{proposal.id}").text
    assert "<script>alert(1)</script>" not in detail


# --- what the public sees of withdrawn, hidden and decided proposals ------------------------------


def test_withdrawn_and_hidden_proposals_show_no_content(client: TestClient[Litestar], session: Session,
                                                        world: World) -> None:
    withdrawn = submitted(session, world, title="取り下げた提案", summary="取り下げ前の要約")
    submissions.withdraw(session, world.actor(session, "member"), withdrawn.id)  # type: ignore[arg-type]
    hidden = submitted(session, world, title="非表示の提案", summary="非表示前の要約")
    hide(session, hidden, "個人情報が含まれていたため")

    page = client.get(f"/proposals/{withdrawn.id}").text
    assert "取り下げた提案" in page and 'id="withdrawn-notice"' in page and "取り下げ前の要約" not in page
    page = client.get(f"/proposals/{hidden.id}").text
    assert "個人情報が含まれていたため" in page and "非表示前の要約" not in page
    listing = client.get(f"/challenges/{world.challenge.id}/proposals").text
    assert "取り下げた提案" in listing and "取り下げ前の要約" not in listing and "非表示前の要約" not in listing
    only_withdrawn = client.get(f"/challenges/{world.challenge.id}/proposals?status=withdrawn").text
    assert "取り下げた提案" in only_withdrawn and "非表示の提案" not in only_withdrawn
    api = client.get(f"/api/v1/proposals/{hidden.id}").json()
    assert api["summary"] == "" and api["description"] == "" and api["hidden_reason"] == "個人情報が含まれていたため"


def test_a_decision_is_public_only_once_decisions_are_published(client: TestClient[Litestar], session: Session,
                                                                world: World) -> None:
    proposal = submitted(session, world)
    row = session.get(Proposal, proposal.id)
    row.decision, row.decision_rationale = DecisionOutcome.SELECTED, "地域への効果が最も高いと判断しました。"  # type: ignore[union-attr]
    session.commit()
    assert "地域への効果が最も高い" not in client.get(f"/proposals/{proposal.id}").text
    assert client.get(f"/api/v1/proposals/{proposal.id}").json()["decision"] is None
    assert 'id="proposals-empty"' in client.get(f"/challenges/{world.challenge.id}/proposals?status=selected").text
    challenge = session.get(Challenge, world.challenge.id)
    challenge.decisions_published_at = utcnow()  # type: ignore[union-attr]
    session.commit()
    assert "地域への効果が最も高い" in client.get(f"/proposals/{proposal.id}").text
    assert client.get(f"/api/v1/proposals/{proposal.id}").json()["decision"] == "selected"
    assert proposal.title in client.get(f"/challenges/{world.challenge.id}/proposals?status=selected").text


def test_drafts_are_not_found_by_others_nor_listed(client: TestClient[Litestar], session: Session,
                                                   world: World) -> None:
    proposal = draft(session, world, title="まだ下書きの提案")
    assert client.get(f"/proposals/{proposal.id}").status_code == 404
    assert client.get(f"/api/v1/proposals/{proposal.id}").status_code == 404
    assert "まだ下書きの提案" not in client.get(f"/challenges/{world.challenge.id}/proposals").text
    as_user(client, world, "staff")
    assert client.get(f"/proposals/{proposal.id}").status_code == 404


# --- the list ------------------------------------------------------------------------------------


def _list_queries(client: TestClient[Litestar], query_log: QueryLog, url: str) -> int:
    client.get(url)  # warm up: the first request may load sessions and settings
    start = query_log.count
    assert client.get(url).status_code == 200
    return query_log.count - start


def test_the_list_reads_a_fixed_number_of_queries(client: TestClient[Litestar], session: Session, world: World,
                                                  query_log: QueryLog) -> None:
    for i in range(3):
        submitted(session, world, title=f"提案{i}")
    url = f"/challenges/{world.challenge.id}/proposals?sort=votes"
    few = _list_queries(client, query_log, url)
    for i in range(3, 30):
        submitted(session, world, title=f"提案{i}", organisation=world.partner if i % 2 else world.org,
                  who="partner_member" if i % 2 else "member")
    many = _list_queries(client, query_log, url)
    assert few == many, str(query_log)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.count('class="card proposal-card"') == 20
    assert 'rel="next"' in fragment.text


@pytest.mark.databases("sqlite", "postgresql", why="paging SQL")
def test_sort_orders_and_a_stable_random_order_across_pages(client: TestClient[Litestar], session: Session,
                                                            world: World) -> None:
    ids = [submitted(session, world, title=f"提案{i:02d}").id for i in range(25)]
    row = session.get(Proposal, ids[3])
    row.vote_count, row.comment_count = 9, 1  # type: ignore[union-attr]
    row = session.get(Proposal, ids[5])
    row.comment_count = 7  # type: ignore[union-attr]
    session.commit()

    def listed(url: str) -> list[int]:
        return [int(n) for n in re.findall(r'<li class="card proposal-card" id="proposal-(\d+)"', client.get(url).text)]

    base = f"/challenges/{world.challenge.id}/proposals"
    assert listed(base)[0] == ids[-1]
    assert listed(f"{base}?sort=votes")[0] == ids[3]
    assert listed(f"{base}?sort=comments")[0] == ids[5]
    first = listed(f"{base}?sort=random")
    assert client.cookies.get("cocreate_proposal_seed")
    again = listed(f"{base}?sort=random")
    second = listed(f"{base}?sort=random&page=2")
    assert first == again and len(first) == 20 and len(second) == 5
    assert sorted(first + second) == sorted(ids)  # paging neither repeats nor skips
    assert first != sorted(first, reverse=True) or second  # a shuffle, not the newest order
    api = client.get(f"/api/v1/challenges/{world.challenge.id}/proposals?sort=random&seed=42&per_page=10").json()
    api2 = client.get(f"/api/v1/challenges/{world.challenge.id}/proposals?sort=random&seed=42&per_page=10").json()
    assert [i["id"] for i in api["items"]] == [i["id"] for i in api2["items"]]
    assert api["page"]["total"] == 25 and "seed=42" in api["page"]["next"]


def test_the_api_is_typed_and_public_only(client: TestClient[Litestar], session: Session, world: World) -> None:
    proposal = submitted(session, world)
    listing = client.get(f"/api/v1/challenges/{world.challenge.id}/proposals").json()
    item = listing["items"][0]
    assert item["id"] == proposal.id and item["status"] == "submitted" and item["organisations"][0]["verified"]
    assert "confidential" not in item
    detail = client.get(f"/api/v1/proposals/{proposal.id}").json()
    assert detail["cost_estimate_yen"] == 2_800_000 and detail["kpis"][0]["indicator"] == "外出頻度"
    assert "confidential" not in detail and SECRET not in str(detail)
    index = client.get("/api/v1").json()["resources"]
    assert index["proposal"] == "/api/v1/proposals/{id}"
    schema = client.get("/schema/openapi.json").json()
    assert "/api/v1/proposals/{proposal_id}" in schema["paths"]
    assert client.get("/api/v1/challenges/999999/proposals").status_code == 404


# --- versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("member", 200), ("staff", 200), ("reviewer", 200),
                                             ("resident", 403), ("other_staff", 403), ("other_reviewer", 403)])
def test_the_versions_page_shows_the_diff_to_who_may_see_it(client: TestClient[Litestar], session: Session,
                                                            world: World, who: str, status: int) -> None:
    proposal = submitted(session, world)
    submissions.update(session, world.actor(session, "member"), proposal.id,  # type: ignore[arg-type]
                       complete(summary="予約制の乗合交通を二年間実証します。", confidential=SECRET + "-v2"))
    as_user(client, world, who)
    response = client.get(f"/proposals/{proposal.id}/versions")
    assert response.status_code == status
    if status == 200:
        assert 'id="version-diff"' in response.text and 'id="change-summary"' in response.text
        assert "<mark>二</mark>" in response.text and "-v2" in unescape(response.text)
    else:
        assert SECRET not in response.text


# --- attachments ---------------------------------------------------------------------------------


def upload(client: TestClient[Litestar], proposal_id: int, content: bytes, filename: str, **fields: str) -> Any:
    return client.post(f"/proposals/{proposal_id}/attachments",
                       data={"_csrf_token": csrf_token(client), **fields},
                       files={"file": (filename, content, "application/pdf")}, follow_redirects=False)


def test_pdf_attachments_public_and_confidential(client: TestClient[Litestar], session: Session,
                                                 world: World) -> None:
    proposal = submitted(session, world)
    member = TestClient(client.app, base_url=str(client.base_url))
    with member:
        as_user(member, world, "member")
        assert upload(member, proposal.id, PDF, "概要.pdf", attachment_title="概要").status_code == 303  # type: ignore[arg-type]
        assert upload(member, proposal.id, PDF, "内訳.pdf", confidential="yes").status_code == 303  # type: ignore[arg-type]
        refused = upload(member, proposal.id, PNG, "写真.pdf")  # type: ignore[arg-type]
        assert refused.status_code == 400 and 'id="field-file-error"' in refused.text
        public, secret = session.exec(select(ProposalAttachment).order_by(ProposalAttachment.id)).all()
        assert secret.confidential and not public.confidential
        assert member.get(f"/proposals/{proposal.id}/attachments/{secret.id}").content == PDF
    assert client.get(f"/proposals/{proposal.id}/attachments/{public.id}").content == PDF
    assert client.get(f"/proposals/{proposal.id}/attachments/{secret.id}").status_code == 404
    page = client.get(f"/proposals/{proposal.id}").text
    assert "概要" in page and "内訳.pdf" not in page
    assert client.get(f"/api/v1/proposals/{proposal.id}").json()["attachments"][0]["id"] == public.id
    as_user(client, world, "reviewer")
    assert client.get(f"/proposals/{proposal.id}/attachments/{secret.id}").status_code == 200
    session.expire_all()
    assert len(session.exec(select(ProposalAttachment)).all()) == 2


def test_after_proposals_close_authors_can_no_longer_change_anything(client: TestClient[Litestar], session: Session,
                                                                     world: World) -> None:
    proposal = submitted(session, world)
    challenge = session.get(Challenge, world.challenge.id)
    challenge.phase = Phase.VOTING  # type: ignore[union-attr]
    challenge.proposals_close_at = utcnow() - timedelta(days=1)  # type: ignore[union-attr]
    session.commit()
    as_user(client, world, "member")
    assert post(client, f"/proposals/{proposal.id}/edit", form_data(summary="締切後")).status_code == 403
    assert post(client, f"/proposals/{proposal.id}/withdraw").status_code == 403
    assert upload(client, proposal.id, PDF, "a.pdf").status_code == 403  # type: ignore[arg-type]
    page = client.get(f"/proposals/{proposal.id}").text
    assert 'id="edit-link"' not in page and 'id="change-closed"' in page


# --- typed forms: what the pages refuse, and what they read leniently -----------------------------


def test_a_form_without_its_title_field_is_refused(client: TestClient[Litestar], session: Session,
                                                   world: World) -> None:
    """A field left out of the post is checked as empty, not skipped."""
    as_user(client, world, "member")
    data = form_data(organisation_id=str(world.org.id))
    del data["title"]
    response = post(client, f"/challenges/{world.challenge.id}/proposals/new", data)
    assert response.status_code == 400 and 'href="#field-title"' in response.text
    assert session.exec(select(Proposal)).all() == []


def test_a_kpi_row_error_is_shown_beside_its_field_only(client: TestClient[Litestar], session: Session,
                                                        world: World) -> None:
    as_user(client, world, "member")
    response = post(client, f"/challenges/{world.challenge.id}/proposals/new",
                    form_data(organisation_id=str(world.org.id), **{"kpis-0-target": ""}))
    assert response.status_code == 400
    assert 'href="#field-kpis-0-target"' in response.text and 'href="#field-kpis"' not in response.text
    assert 'value="外出頻度"' in response.text  # the row as typed


def test_a_submitted_proposal_edited_incomplete_is_refused_and_unchanged(client: TestClient[Litestar],
                                                                        session: Session, world: World) -> None:
    proposal = submitted(session, world)
    as_user(client, world, "member")
    response = post(client, f"/proposals/{proposal.id}/edit", form_data(description="", cost_estimate_yen="abc"))
    assert response.status_code == 400
    assert 'href="#field-description"' in response.text and 'href="#field-cost_estimate_yen"' in response.text
    session.expire_all()
    stored = session.get(Proposal, proposal.id)
    assert stored.version == 1 and stored.description.startswith("## 内容")  # type: ignore[union-attr]


def test_the_consortium_form_refuses_what_it_cannot_read(client: TestClient[Litestar], session: Session,
                                                         world: World) -> None:
    proposal = draft(session, world)
    as_user(client, world, "member")
    url = f"/proposals/{proposal.id}/coauthors"
    unknown = post(client, url, {"action": "merge", "organisation_id": str(world.partner.id)})
    assert unknown.status_code == 400 and str(escape(_("Choose what to do."))) in unknown.text
    not_an_id = post(client, url, {"action": "add", "organisation_id": "abc"})
    assert not_an_id.status_code == 400
    assert str(escape(_("Choose a verified organisation from the list."))) in not_an_id.text
    assert post(client, url, {"action": "confirm", "organisation_id": "abc"}).status_code == 404
    assert post(client, url, {"action": "remove", "organisation_id": str(world.org.id)}).status_code == 400
    assert len(submissions.authors_of(session, proposal.id)) == 1  # type: ignore[arg-type]


def test_a_co_author_declines_on_the_page_and_strangers_cannot(client: TestClient[Litestar], session: Session,
                                                              world: World) -> None:
    proposal = draft(session, world)
    submissions.add_coauthor(session, world.actor(session, "member"), proposal.id, world.partner.id)  # type: ignore[arg-type]
    url = f"/proposals/{proposal.id}/coauthors"
    as_user(client, world, "stranger_member")
    assert post(client, url, {"action": "remove", "organisation_id": str(world.partner.id)}).status_code == 404
    assert len(submissions.authors_of(session, proposal.id)) == 2  # type: ignore[arg-type]
    partner = TestClient(client.app, base_url=str(client.base_url))
    with partner:
        as_user(partner, world, "partner_member")
        response = post(partner, url, {"action": "remove", "organisation_id": str(world.partner.id)})
        assert response.status_code == 303 and response.headers["location"].endswith("#consortium")
    assert [o.id for _row, o in submissions.authors_of(session, proposal.id)] == [world.org.id]  # type: ignore[arg-type]


def test_an_attachment_title_over_several_lines_is_one_line(client: TestClient[Litestar], session: Session,
                                                           world: World) -> None:
    proposal = submitted(session, world)
    as_user(client, world, "member")
    assert upload(client, proposal.id, PDF, "概要.pdf", attachment_title="事業の\r\n概要 ").status_code == 303  # type: ignore[arg-type]
    assert session.exec(select(ProposalAttachment.title)).one() == "事業の 概要"
    too_long = upload(client, proposal.id, PDF, "長い.pdf", attachment_title="あ" * 201)  # type: ignore[arg-type]
    assert too_long.status_code == 400 and 'href="#field-attachment_title"' in too_long.text


def test_a_refused_attachment_leaves_no_file(session: Session, settings: Settings, world: World) -> None:
    proposal = submitted(session, world)
    member = world.actor(session, "member")
    folder = storage.storage_root(settings) / submissions.STORAGE_FOLDER
    for number in range(submissions.MAX_FILES):
        submissions.add_attachment(session, settings, member, proposal.id, submissions.AttachmentForm(),  # type: ignore[arg-type]
                                   source=io.BytesIO(PDF), filename=f"{number}.pdf")
    kept = sorted(folder.iterdir())
    with pytest.raises(Invalid) as failed:
        submissions.add_attachment(session, settings, member, proposal.id, submissions.AttachmentForm(),  # type: ignore[arg-type]
                                   source=io.BytesIO(PDF), filename="one-more.pdf")
    assert "file" in failed.value.errors and sorted(folder.iterdir()) == kept
    with pytest.raises(Invalid):
        submissions.add_attachment(session, settings, member, proposal.id, submissions.AttachmentForm(),  # type: ignore[arg-type]
                                   source=io.BytesIO(PNG), filename="photo.pdf")
    assert sorted(folder.iterdir()) == kept
    doomed = session.exec(select(ProposalAttachment).order_by(ProposalAttachment.id)).first()
    assert doomed is not None
    doomed_path = submissions.path_of(settings, doomed)
    submissions.delete_attachment(session, settings, member, proposal.id, doomed.id)  # type: ignore[arg-type]
    assert not doomed_path.exists()
    session.expire_all()
    assert len(session.exec(select(ProposalAttachment)).all()) == submissions.MAX_FILES - 1
