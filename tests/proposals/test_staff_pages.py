"""The ward staff's challenge editor: list, new, edit, preview, publish and phase moves, per role."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from markupsafe import escape
from sqlmodel import Session, select

from cocreate import i18n
from cocreate.audit import verify
from cocreate.audit.models import AuditEntry
from cocreate.forms import parse_whole_number
from cocreate.web.forms import parse_local_datetime
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.models import Challenge, ChallengeRevision, Phase, PhaseChange
from tests.factories import create_challenge, sign_in
from tests.helpers import QueryLog, assert_no_live_markup
from tests.proposals.staff_helpers import (
    Ward,
    complete_form,
    make_ward,
    pdf_bytes,
    post,
    signed_in_client,
    upload,
)

pytestmark = pytest.mark.databases("sqlite", why="staff pages are Python")


def ja(message: str, **variables: object) -> str:
    """A message of another part of the code as the Japanese pages show it."""
    with i18n.using_locale("ja"):
        return i18n.gettext(message, **variables)


@pytest.fixture
def ward(session: Session) -> Ward:
    return make_ward(session)


def snapshot(session: Session, challenge_id: int) -> tuple[object, ...]:
    """Everything the editor can change, to prove that a refused request changed nothing."""
    session.expire_all()
    challenge = session.get(Challenge, challenge_id)
    assert challenge is not None
    return (challenge.model_dump(exclude={"updated_at"}),
            [c.model_dump() for c in challenges.criteria_of(session, challenge_id)],
            [k.model_dump() for k in challenges.kpis_of(session, challenge_id)],
            sorted(lifecycle.owning_department_ids(session, challenge_id)),
            lifecycle.schedule_of(session, challenge_id),
            session.exec(select(ChallengeRevision)).all(), session.exec(select(AuditEntry)).all())


# --- who may use the editor ----------------------------------------------------------------------


def challenge_requests(ward: Ward) -> list[tuple[str, str, dict[str, str] | None]]:
    """(method, url, form) for every page about one challenge; forms are invalid on purpose, so an
    allowed request answers 400 and changes nothing."""
    draft, published = ward.draft.id, ward.published.id
    return [
        ("GET", f"/staff/challenges/{draft}/edit", None),
        ("GET", f"/staff/challenges/{published}/edit", None),
        ("GET", f"/staff/challenges/{draft}/preview", None),
        ("POST", f"/staff/challenges/{draft}/edit", {"title": ""}),
        ("POST", f"/staff/challenges/{draft}/publish", {}),  # the draft is incomplete
        ("POST", f"/staff/challenges/{published}/phase", {"phase": "accepting", "reason": ""}),
        ("POST", f"/staff/challenges/{draft}/attachments", {"kind": "document"}),  # no file
        ("POST", f"/staff/challenges/{draft}/attachments/999999/delete", {}),  # no such file
    ]


@pytest.mark.parametrize("who", ["anonymous", "resident", "member", "admin", "other_staff"])
def test_only_owning_staff_reach_a_challenge_in_the_editor(
    client: TestClient[Litestar], session: Session, ward: Ward, who: str
) -> None:
    before = snapshot(session, ward.draft.id), snapshot(session, ward.published.id)
    signed_in_client(client, ward, who)
    for method, url, form in challenge_requests(ward):
        response = client.get(url, follow_redirects=False) if method == "GET" else post(client, url, form)
        if who == "anonymous":
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/account/sign-in?next="), url
        else:
            assert response.status_code == 403, (url, response.status_code)
    assert (snapshot(session, ward.draft.id), snapshot(session, ward.published.id)) == before


@pytest.mark.parametrize("who", ["staff", "co_staff"])
def test_owning_and_co_owning_staff_use_every_page(
    client: TestClient[Litestar], session: Session, ward: Ward, who: str
) -> None:
    signed_in_client(client, ward, who)
    for method, url, form in challenge_requests(ward):
        response = client.get(url, follow_redirects=False) if method == "GET" else post(client, url, form)
        assert response.status_code == (200 if method == "GET" else 400), (url, response.status_code)
    listing = client.get("/staff/challenges")
    assert listing.status_code == 200
    assert "下書きの課題を実現したい" in listing.text and "公開中の課題を実現したい" in listing.text
    assert client.get("/staff/challenges/new").status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "resident", "member", "admin"])
def test_the_list_and_new_pages_need_a_staff_role(
    client: TestClient[Litestar], session: Session, ward: Ward, who: str
) -> None:
    signed_in_client(client, ward, who)
    for response in (client.get("/staff/challenges", follow_redirects=False),
                     client.get("/staff/challenges/new", follow_redirects=False),
                     post(client, "/staff/challenges/new", complete_form(department_id=str(ward.transport.id)))):
        assert response.status_code == (303 if who == "anonymous" else 403)
    assert len(session.exec(select(Challenge)).all()) == 2


def test_other_departments_see_only_their_own_challenges(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    create_challenge(session, ward.parks, phase="draft", title="公園の課題を実現したい")
    sign_in(client, ward.people["other_staff"])
    listing = client.get("/staff/challenges").text
    assert "公園の課題を実現したい" in listing
    assert "下書きの課題" not in listing and "公開中の課題" not in listing
    # A department the person is not staff of cannot be chosen, even by a hand-made form.
    response = post(client, "/staff/challenges/new", complete_form(department_id=str(ward.transport.id)))
    assert response.status_code == 403
    assert session.exec(select(Challenge).where(Challenge.department_id == ward.transport.id)).all() != []
    assert len(session.exec(select(Challenge)).all()) == 3
    page = client.get("/staff/challenges/new").text
    assert f'value="{ward.parks.id}"' in page and f'<option value="{ward.transport.id}"' not in page


def test_the_list_pages_in_the_database(
    client: TestClient[Litestar], session: Session, ward: Ward, query_log: QueryLog
) -> None:
    sign_in(client, ward.people["staff"])
    client.get("/staff/challenges")
    query_log.statements.clear()
    client.get("/staff/challenges")
    with_two = query_log.count
    for number in range(25):
        create_challenge(session, ward.env if number % 2 else ward.transport, phase="draft",
                         title=f"一覧の課題{number:02d}", co_owners=[ward.transport] if number % 2 else [])
    query_log.statements.clear()
    first = client.get("/staff/challenges")
    assert query_log.count == with_two, str(query_log)
    assert first.text.count('<tr id="challenge-') == 20
    assert "課題 27件中 1〜20件目" in first.text
    second = client.get("/staff/challenges?page=2").text
    assert second.count('<tr id="challenge-') == 7
    junk = client.get("/staff/challenges?page=abc")
    assert junk.status_code == 200 and junk.text.count('<tr id="challenge-') == 20


# --- the form ------------------------------------------------------------------------------------


def test_new_edit_round_trip_with_every_field(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["staff"])
    page = client.get("/staff/challenges/new")
    assert page.status_code == 200 and 'id="field-criteria-1-name"' in page.text  # two blank rows
    form = complete_form(department_id=str(ward.transport.id), co_owners=[str(ward.env.id), str(ward.parks.id)],
                         budget_cap_yen="３，０００，０００円")
    # A blank row between filled rows is skipped; the rows after it keep their order.
    form |= {"criteria-0-name": "", "criteria-0-weight": "", "criteria-0-description": "",
             "criteria-3-name": "実現可能性", "criteria-3-weight": "４０", "criteria-3-description": "体制と技術"}
    response = post(client, "/staff/challenges/new", form)
    assert response.status_code == 303, response.text[:3000]
    challenge = session.exec(select(Challenge)).all()[-1]
    assert response.headers["location"] == f"/staff/challenges/{challenge.id}/edit"
    assert challenge.phase is Phase.DRAFT and challenge.department_id == ward.transport.id
    assert challenge.title == form["title"] and challenge.budget_cap_yen == 3_000_000
    assert challenge.background == form["background"] and challenge.contact_phone == "03-3579-2111"
    assert challenge.support_data == "乗降データ（匿名化済み）"
    assert [(c.name, c.weight, c.description) for c in challenges.criteria_of(session, challenge.id)] == [
        ("地域への効果", 60, ""), ("実現可能性", 40, "体制と技術")]
    assert [(k.indicator, k.baseline, k.target, k.unit) for k in challenges.kpis_of(session, challenge.id)] == [
        ("外出頻度", "週2回", "週3回", "回/週")]
    assert lifecycle.owning_department_ids(session, challenge.id) == {ward.transport.id, ward.env.id, ward.parks.id}
    # Entered as Tokyo time, stored in UTC.
    assert lifecycle.schedule_of(session, challenge.id) == {
        Phase.ACCEPTING: datetime(2030, 4, 1, 0, 0, tzinfo=UTC), Phase.VOTING: datetime(2030, 5, 1, 0, 0, tzinfo=UTC)}

    edit = client.get(f"/staff/challenges/{challenge.id}/edit").text
    assert 'value="3,000,000"' in edit
    assert 'value="2030-04-01T09:00"' in edit and 'value="2030-05-01T09:00"' in edit
    assert 'value="地域への効果"' in edit and 'value="実現可能性"' in edit
    assert 'id="field-criteria-3-name"' in edit and 'id="field-criteria-4-name"' not in edit  # 2 filled + 2 blank
    assert 'id="field-kpis-2-indicator"' in edit and 'id="field-kpis-3-indicator"' not in edit
    assert f'id="co-owner-{ward.env.id}" name="co_owners" value="{ward.env.id}" checked' in edit
    assert f'id="co-owner-{ward.transport.id}"' not in edit  # the lead is not a co-owner choice
    assert '<output id="criteria-total-value">100</output>' in edit
    assert html.escape(form["background"], quote=False) in edit

    # Save again: one co-owner fewer, a KPI more, a date removed, the budget cleared.
    changed = complete_form(co_owners=[str(ward.env.id)], budget_cap_yen="", phase_voting="",
                            **{"kpis-1-indicator": "利用者数", "kpis-1-target": "500", "kpis-1-unit": "人"})
    response = post(client, f"/staff/challenges/{challenge.id}/edit", changed)
    assert response.status_code == 303 and response.headers["location"] == f"/staff/challenges/{challenge.id}/edit"
    session.expire_all()
    saved = session.get(Challenge, challenge.id)
    assert saved is not None and saved.budget_cap_yen is None
    assert lifecycle.owning_department_ids(session, challenge.id) == {ward.transport.id, ward.env.id}
    assert set(lifecycle.schedule_of(session, challenge.id)) == {Phase.ACCEPTING}
    assert [k.indicator for k in challenges.kpis_of(session, challenge.id)] == ["外出頻度", "利用者数"]
    assert saved.revision == 0 and session.exec(select(ChallengeRevision)).all() == []  # drafts keep no history
    created, updated = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
    assert (created.action, created.actor_id, created.target_id) == (
        "challenge.created", ward.people["staff"].id, str(challenge.id))
    assert updated.action == "challenge.updated"
    assert json.loads(updated.details_json)["fields"] == ["budget_cap_yen", "criteria", "kpis", "owners",
                                                              "schedule"]
    assert verify(session).ok
    assert "下書きを保存しました" in client.get(f"/staff/challenges/{challenge.id}/edit").text


def test_a_title_and_category_are_enough_for_a_draft(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["co_staff"])
    response = post(client, "/staff/challenges/new",
                    {"department_id": str(ward.env.id), "title": "まずはタイトルだけ", "category": "admin_dx"})
    assert response.status_code == 303
    draft = session.exec(select(Challenge).where(Challenge.title == "まずはタイトルだけ")).one()
    assert draft.department_id == ward.env.id and draft.created_by_id == ward.people["co_staff"].id


def test_invalid_forms_are_shown_again_with_400_and_change_nothing(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    url = f"/staff/challenges/{ward.draft.id}/edit"
    before = snapshot(session, ward.draft.id)
    required = ja("This field is required.")
    cases = [
        ({"title": ""}, "title", required),
        ({"title": "あ" * 201}, "title", ja("Use at most %(max)s characters.", max=200)),
        ({"title": "改行\nあり"}, "title", ja("This field contains characters that cannot be used.")),
        ({"background": "x" * 20_001}, "background", ja("Use at most %(max)s characters.", max=20_000)),
        ({"category": "nonsense"}, "category", ja("Choose a category.")),
        ({"contact_email": "not an address"}, "contact_email", ja("Enter an e-mail address like name@example.jp.")),
        ({"budget_cap_yen": "三百万円"}, "budget_cap_yen", "金額は円単位の整数で入力してください（例：3,000,000）。"),
        ({"budget_cap_yen": "-5"}, "budget_cap_yen",
         ja("Enter an amount in yen between 0 and %(max)s.", max=f"{challenges.BUDGET_MAX:,}")),
        ({"budget_cap_yen": "9" * 40}, "budget_cap_yen", "金額は円単位の整数で入力してください（例：3,000,000）。"),
        ({"criteria-1-weight": "50"}, "criteria",
         ja("The weights add up to %(total)s; they must add up to 100.", total=90)),
        ({"criteria-1-weight": "abc"}, "criteria-1-weight", ja("Enter a whole number from 0 to 100.")),
        ({"criteria-1-weight": "99999999999999999999"}, "criteria-1-weight", ja("Enter a whole number from 0 to 100.")),
        ({"criteria-1-name": "", "criteria-1-description": "説明だけ"}, "criteria-1-name", required),
        ({"kpis-0-target": ""}, "kpis-0-target", required),
        ({"phase_accepting": "tomorrow"}, "phase_accepting", "日時を入力してください（例：2026-12-01 10:00）。"),
        ({"phase_accepting": "2030-13-45T99:99"}, "phase_accepting", "日時を入力してください（例：2026-12-01 10:00）。"),
        ({"phase_voting": "2030-03-01T09:00"}, "phase_voting",
         ja("This date must be after the start of “%(previous)s”.", previous=ja("Accepting proposals"))),
        ({"co_owners": ["x"]}, "co_owners", "一覧から部署を選んでください。"),
        ({"co_owners": ["999999"]}, "co_owners", "一覧から部署を選んでください。"),
        ({"co_owners": [str(n) for n in range(11)]}, "co_owners", ja("Choose at most %(max)s departments.", max=10)),
        ({f"criteria-{n}-{part}": value for n in range(11) for part, value in (("name", f"基準{n}"), ("weight", "9"))},
         "criteria", ja("Use at most %(max)s criteria.", max=10)),
        ({f"kpis-{n}-{part}": "x" for n in range(11) for part in ("indicator", "target")},
         "kpis", ja("Use at most %(max)s KPIs.", max=10)),
    ]
    for override, field, message in cases:
        response = post(client, url, complete_form(**override))
        assert response.status_code == 400, (override, response.status_code)
        assert 'id="error-summary"' in response.text and f'href="#field-{field}"' in response.text, override
        assert str(escape(message)) in response.text, (override, message)
        assert snapshot(session, ward.draft.id) == before, override
    # What was typed is shown again, including what could not be read.
    response = post(client, url, complete_form(budget_cap_yen="三百万円", phase_accepting="tomorrow"))
    assert 'value="三百万円"' in response.text and 'value="tomorrow"' in response.text
    assert 'value="高島平の移動を、誰もが気軽にできるようにしたい"' in response.text
    # Sent twice, or as a list: the first value counts, nothing crashes.
    response = post(client, url, {"title": ["一つ目", "二つ目"], "category": "admin_dx"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Challenge, ward.draft.id).title == "一つ目"  # type: ignore[union-attr]


def test_a_field_left_out_is_refused_like_an_empty_one_and_what_was_sent_comes_back(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    url = f"/staff/challenges/{ward.draft.id}/edit"
    before = snapshot(session, ward.draft.id)
    response = post(client, url, {key: value for key, value in complete_form(co_owners=str(ward.env.id)).items()
                                  if key != "title"})
    assert response.status_code == 400 and 'href="#field-title"' in response.text
    assert f'id="co-owner-{ward.env.id}" name="co_owners" value="{ward.env.id}" checked' in response.text
    assert 'value="実現可能性"' in response.text and 'value="2030-04-01T09:00"' in response.text
    assert snapshot(session, ward.draft.id) == before
    moved = post(client, f"/staff/challenges/{ward.published.id}/phase", {})
    assert moved.status_code == 400
    assert 'href="#field-phase"' in moved.text and 'href="#field-reason"' in moved.text


def test_the_new_page_asks_for_one_of_your_departments(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["staff"])
    for department_id in ("", "abc"):
        response = post(client, "/staff/challenges/new", complete_form(department_id=department_id, title=""))
        assert response.status_code == 400
        assert 'href="#field-department_id"' in response.text and 'href="#field-title"' in response.text
    assert len(session.exec(select(Challenge)).all()) == 2


def test_hostile_input_is_stored_verbatim_and_shown_as_text(
    client: TestClient[Litestar], session: Session, ward: Ward, xss_payloads: list[str]
) -> None:
    sign_in(client, ward.people["staff"])
    url = f"/staff/challenges/{ward.draft.id}/edit"
    markdown_source = "\n\n".join(xss_payloads)
    one_line = [p for p in xss_payloads if "\n" not in p and len(p) <= 200]
    for payload in one_line:
        form = complete_form(title=payload, summary=payload, area=payload[:100], background=markdown_source,
                             desired_outcome=payload, support_data=payload,
                             **{"criteria-0-name": payload, "criteria-0-description": payload,
                                "kpis-0-indicator": payload})
        response = post(client, url, form)
        if response.status_code == 400:  # bidirectional overrides and the like are refused in one-line fields
            assert 'href="#field-title"' in response.text, payload
            assert_no_live_markup(response.text)
            continue
        assert response.status_code == 303, (payload, response.text[:2000])
        session.expire_all()
        stored = session.get(Challenge, ward.draft.id)
        assert stored is not None and stored.title == payload.strip() and stored.background == markdown_source
        for page in (client.get(f"/staff/challenges/{ward.draft.id}/preview").text, client.get(url).text):
            assert_no_live_markup(page)
            assert "<script>alert" not in page
        preview = client.get(f"/staff/challenges/{ward.draft.id}/preview").text
        assert str(escape(payload.strip())) in preview, payload
    preview = client.get(f"/staff/challenges/{ward.draft.id}/preview").text
    assert "{{ 7*7 }}{{ config }}" in preview  # user text is never evaluated as a template


# --- preview, publish, history, phase ------------------------------------------------------------


def test_preview_shows_the_draft_as_the_public_will_see_it(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    sign_in(client, ward.people["co_staff"])
    form = complete_form(co_owners=[str(ward.env.id)])
    assert post(client, f"/staff/challenges/{ward.draft.id}/edit", form).status_code == 303
    preview = client.get(f"/staff/challenges/{ward.draft.id}/preview")
    assert preview.status_code == 200
    text = preview.text
    assert 'id="preview-banner"' in text and "プレビュー" in text and "まだ公開されていません" in text
    assert "高島平の移動を、誰もが気軽にできるようにしたい" in text
    assert "坂道と高齢化で外出が難しくなっている地域の移動手段を一緒に考えたい。" in text
    assert "<strong>高齢化</strong>" in text and "<li>坂道が多い</li>" in text  # Markdown rendered
    assert "実現可能性" in text and "地域への効果" in text and "外出頻度" in text
    assert text.count("<h1") == 1


def test_publishing_from_the_page_is_audited(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["staff"])
    url = f"/staff/challenges/{ward.draft.id}"
    before = snapshot(session, ward.draft.id)
    refused = post(client, f"{url}/publish")
    assert refused.status_code == 400
    assert "公開する前に、次の項目を入力してください。" in refused.text
    for field in ("background", "desired_outcome", "contact_name", "contact_email", "criteria"):
        assert f'href="#field-{field}"' in refused.text, field
    # Each line of the summary names its field, and the fields publishing needs say so.
    summary = refused.text.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#field-contact_email">問い合わせ先メールアドレス：' in summary
    assert '<a href="#field-background">背景：' in summary
    email_label = refused.text.split('<label for="field-contact_email">', 1)[1].split("</label>", 1)[0]
    assert '<span class="required">（公開に必須）</span>' in email_label
    assert snapshot(session, ward.draft.id) == before

    assert post(client, f"{url}/edit", complete_form()).status_code == 303
    response = post(client, f"{url}/publish")
    assert response.status_code == 303 and response.headers["location"] == f"{url}/edit"
    session.expire_all()
    challenge = session.get(Challenge, ward.draft.id)
    assert challenge is not None and challenge.phase is Phase.PUBLISHED and challenge.published_at is not None
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.published")).one()
    assert entry.actor_id == ward.people["staff"].id and entry.target_id == str(ward.draft.id)
    assert verify(session).ok
    page = client.get(f"{url}/edit").text
    assert "公開しました" in page and 'id="publish-form"' not in page and 'id="phase-form"' in page
    assert post(client, f"{url}/publish").status_code == 400  # only once


def test_edits_after_publishing_are_kept_as_public_history(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    sign_in(client, ward.people["staff"])
    url = f"/staff/challenges/{ward.draft.id}"
    post(client, f"{url}/edit", complete_form())
    assert post(client, f"{url}/publish").status_code == 303
    page = client.get(f"{url}/edit").text
    assert 'id="field-note"' in page
    # A published challenge must stay complete.
    refused = post(client, f"{url}/edit", complete_form(background="", note="背景を削除"))
    assert refused.status_code == 400 and session.exec(select(ChallengeRevision)).all() == []
    response = post(client, f"{url}/edit", complete_form(budget_cap_yen="5,000,000", note="予算上限を修正しました"))
    assert response.status_code == 303
    revision = session.exec(select(ChallengeRevision)).one()
    assert revision.note == "予算上限を修正しました" and revision.changed_by_id == ward.people["staff"].id
    assert json.loads(revision.changes_json) == {"budget_cap_yen": [3_000_000, 5_000_000]}
    assert challenges.revisions_of(session, ward.draft.id)[0]["number"] == 1
    assert "変更内容は課題の公開ページの変更履歴に表示されます" in client.get(f"{url}/edit").text
    long_note = post(client, f"{url}/edit", complete_form(budget_cap_yen="1", note="x" * 501))
    assert long_note.status_code == 400 and 'href="#field-note"' in long_note.text
    assert len(session.exec(select(ChallengeRevision)).all()) == 1


def test_staff_move_the_phase_with_a_reason(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["co_staff"])
    url = f"/staff/challenges/{ward.published.id}/phase"
    before = snapshot(session, ward.published.id)
    for form, fields in (({"phase": "accepting", "reason": ""}, {"reason"}),
                         ({"phase": "nonsense", "reason": ""}, {"phase", "reason"}),
                         ({"phase": "published", "reason": "同じフェーズ"}, {"phase"}),
                         ({"phase": "draft", "reason": "下書きに戻す"}, {"phase"}),
                         ({"phase": "accepting", "reason": "x" * 2001}, {"reason"})):
        response = post(client, url, form)
        assert response.status_code == 400, form
        for field in fields:
            assert f'href="#field-{field}"' in response.text, form
        assert snapshot(session, ward.published.id) == before
    reason = "説明会の反響が大きく、募集を前倒しします。<script>alert(1)</script>"
    response = post(client, url, {"phase": "accepting", "reason": reason})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Challenge, ward.published.id).phase is Phase.ACCEPTING  # type: ignore[union-attr]
    change = session.exec(select(PhaseChange)).one()
    assert change.reason == reason and change.changed_by_id == ward.people["co_staff"].id
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "challenge.phase_changed")).one()
    assert json.loads(entry.details_json)["to"] == "accepting"
    page = client.get(f"/staff/challenges/{ward.published.id}/edit").text
    assert f"課題を「{ja('Accepting proposals')}」に移しました。" in page
    assert_no_live_markup(page)
    # Drafts are published, not moved.
    assert post(client, f"/staff/challenges/{ward.draft.id}/phase",
                {"phase": "accepting", "reason": "理由"}).status_code == 400


def test_ended_challenges_cannot_be_edited_but_can_be_moved_back(
    client: TestClient[Litestar], session: Session, ward: Ward
) -> None:
    closed = create_challenge(session, ward.transport, phase="closed", title="終了した課題")
    sign_in(client, ward.people["staff"])
    page = client.get(f"/staff/challenges/{closed.id}/edit").text
    assert 'id="ended-notice"' in page and 'id="challenge-form"' not in page and 'id="attachment-form"' not in page
    assert post(client, f"/staff/challenges/{closed.id}/edit", complete_form()).status_code == 403
    assert upload(client, closed.id, pdf_bytes(), "a.pdf").status_code == 403
    assert post(client, f"/staff/challenges/{closed.id}/phase",
                {"phase": "accepting", "reason": "誤って終了したため戻します"}).status_code == 303


def test_unknown_challenges_are_not_found(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["staff"])
    assert client.get("/staff/challenges/999999/edit").status_code == 404
    assert client.get("/staff/challenges/999999/preview").status_code == 404
    assert post(client, "/staff/challenges/999999/publish").status_code == 404
    assert client.get("/staff/challenges/abc/edit").status_code == 404


def test_the_pages_are_in_japanese_and_english(client: TestClient[Litestar], session: Session, ward: Ward) -> None:
    sign_in(client, ward.people["staff"])
    japanese = client.get(f"/staff/challenges/{ward.draft.id}/edit").text
    assert "下書きの編集" in japanese and "評価基準" in japanese and "添付ファイルとカバー画像" in japanese
    english = client.get(f"/staff/challenges/{ward.published.id}/edit?lang=en").text
    assert "Edit challenge" in english and "Change the phase by hand" in english
    assert "Start of “Accepting proposals”" in english


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("3000000", 3_000_000), ("3,000,000", 3_000_000), ("３，０００，０００", 3_000_000), ("¥3,000,000円", 3_000_000),
    (" 12 ", 12), ("-1", -1), ("3.5", None), ("三百万", None), ("", None), ("1e6", None), ("9" * 17, None),
])
def test_amounts_accept_commas_and_full_width_digits(raw: str, expected: int | None) -> None:
    assert parse_whole_number(raw, allow="円¥") == expected


def test_dates_are_read_as_tokyo_time() -> None:
    assert parse_local_datetime("2030-04-01T09:00") == datetime(2030, 4, 1, 0, 0, tzinfo=UTC)
    assert parse_local_datetime("２０３０-０４-０１T０９:００") == datetime(2030, 4, 1, 0, 0, tzinfo=UTC)
    assert parse_local_datetime("2030-01-01T08:30") == datetime(2029, 12, 31, 23, 30, tzinfo=UTC)
    for junk in ("tomorrow", "2030-02-30T10:00", "2030-04-01T09:00+09:00", "9999-01-01T00:00", ""):
        assert parse_local_datetime(junk) is None, junk
