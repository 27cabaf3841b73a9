"""Demo surveys: the ward's closed 「区民ニーズ調査」 with its 274 responses, and an open survey on a challenge.

The closed survey follows the residents' survey of the smart city policy (shared/seeds, 000: 274 answers on
the web over 17 days; the fields to tackle first, 安全・安心 far ahead, then 子育て・教育 and 健康・福祉; the
direction to take, 「地域課題の解決を最優先する」 first). Staff build and publish it through the services;
the demo residents answer through :func:`~cocreate.surveys.services.submit_response` and the support desk
enters paper and workshop answers through :func:`~cocreate.surveys.services.enter_desk_response`, each at its
moment (:class:`~cocreate.demo_playback.Playback`). The rest of the 274, the answers of the ward's web form
from before the site (no account: nobody can edit them or find them in "download my data"), are checked by
the services' own :func:`~cocreate.surveys.services.parse_answers` and written in bulk, which keeps the demo
fast. Everything is drawn from a seeded random generator, so every load gives the same answers.

Loaded by the proposals demo once its challenges exist (the open survey belongs to one); idempotent: a survey
whose title exists is left as it is.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate.accounts.permissions import Principal
from cocreate.channels import Channel
from cocreate.db.base import clock_at, utcnow
from cocreate.demo_playback import Playback, ward_time
from cocreate.i18n import WARD_TIMEZONE
from cocreate.settings import Settings
from cocreate.surveys import services, targets
from cocreate.surveys.models import QuestionKind, Survey, SurveyAnswer, SurveyResponse
from cocreate.surveys.services import QuestionDetails, SurveyDetails

NEEDS_TITLE = "区民ニーズ調査"
RESPONSES = 274
DESK_PAPER = 9
DESK_WORKSHOP = 3
STAFF = "demo-staff@example.jp"
DESK = "demo-desk@example.jp"
RESIDENTS = ("demo-resident@example.jp", "demo-resident2@example.jp", "demo-resident3@example.jp",
             "demo-resident4@example.jp", "demo-resident5@example.jp", "demo-resident6@example.jp")
OPENED_DAY = -75
"""The survey opened this many days before today and ran for 17 days, like the ward's own."""
DAYS_OPEN = 17

FIELDS = [  # (label, weight): the fields to tackle first, at most three
    ("安全・安心（防犯・防災）", 62), ("子育て・教育", 41), ("健康・福祉・医療", 36), ("交通・移動", 30),
    ("環境・エネルギー", 22), ("地域コミュニティ", 17), ("産業・商店街のにぎわい", 14), ("行政手続きのデジタル化", 12),
]
DIRECTIONS = [
    ("地域課題の解決を最優先する", 38), ("持続可能性を重視する", 24), ("区民の参加と対話を重視する", 16),
    ("新しい技術を積極的に取り入れる", 12), ("地域経済の活性化を重視する", 10),
]
LIVEABILITY = [4, 12, 30, 38, 16]  # 1 (住みにくい) … 5 (住みやすい)
SATISFACTION_COLUMNS = ["満足", "やや満足", "やや不満", "不満"]
SATISFACTION_ROWS = [  # statement, weights of the columns
    ("防犯・防災の取組", [14, 38, 34, 14]), ("子育て・教育の環境", [20, 44, 26, 10]),
    ("医療・福祉のサービス", [18, 46, 27, 9]), ("駅やバスなど交通の便", [30, 42, 20, 8]),
    ("公園・緑・水辺", [34, 40, 19, 7]),
]
FREE_TEXTS = [
    "夜道が暗い場所が多いので、街灯や防犯カメラを増やしてほしい。",
    "災害時にどこへ避難すればよいか、スマートフォンですぐに分かるようにしてほしい。",
    "大雨のときの内水氾濫が心配です。水位の情報をリアルタイムで知りたい。",
    "子どもの通学路の見守りを、地域とデジタルの両方で強化してほしい。",
    "保育園や学童の空き状況をオンラインで確認・申請できるようにしてほしい。",
    "高齢の親が一人暮らしなので、見守りのサービスがあると安心です。",
    "病院の待ち時間が長い。予約や呼び出しをスマホでできると助かる。",
    "坂の多い地域なので、駅まで気軽に乗れる小さな乗り物がほしい。",
    "バスの本数が少ない時間帯がある。運行情報をバス停で分かるようにしてほしい。",
    "区の手続きを窓口に行かずに済ませたい。",
    "デジタルが苦手な人も取り残されないよう、窓口での支援も続けてほしい。",
    "公園のトイレや遊具の傷みを、区民が地図で報告できる仕組みがあるとよい。",
    "商店街のにぎわいを取り戻すイベントやポイントの仕組みに期待しています。",
    "省エネや再生可能エネルギーの取組を、区民にも分かりやすく見せてほしい。",
    "町会の担い手が足りない。若い世代が参加しやすい仕組みを考えてほしい。",
    "外国人住民にも情報が届くよう、多言語で発信してほしい。",
    "区が集めたデータを公開して、地域の課題解決に使えるようにしてほしい。",
    "高島平の団地の建替えに合わせて、新しい技術を試してほしい。",
]
TEXT_SHARE = 0.4
"""About this share of the responses write something in the free-text question."""


def _weighted(rng: random.Random, weighted: Sequence[tuple[str, int]]) -> str:
    return rng.choices([label for label, _ in weighted], weights=[w for _, w in weighted])[0]


def _pick_fields(rng: random.Random) -> list[str]:
    """Up to three fields, drawn by weight without putting one twice."""
    count = rng.choices([1, 2, 3], weights=[20, 35, 45])[0]
    left = list(FIELDS)
    picked = []
    for _ in range(count):
        label = _weighted(rng, left)
        picked.append(label)
        left = [item for item in left if item[0] != label]
    return picked


def _answers(rng: random.Random, form: services.SurveyForm) -> dict[str, Any]:
    """One response's answers, as the survey's form posts them."""
    fields, direction, liveability, satisfaction, opinion = form.questions
    ids = {o.label: o.id for q in form.questions for o in (*q.choices, *q.rows)}
    answers: dict[str, Any] = {
        fields.name: [str(ids[label]) for label in _pick_fields(rng)],
        direction.name: str(ids[_weighted(rng, DIRECTIONS)]),
    }
    if rng.random() < 0.95:
        answers[liveability.name] = str(rng.choices(range(1, 6), weights=LIVEABILITY)[0])
    for row in satisfaction.rows:
        if rng.random() < 0.97:
            weights = dict(SATISFACTION_ROWS)[row.label]
            answers[f"{satisfaction.name}_r{row.id}"] = str(ids[rng.choices(SATISFACTION_COLUMNS, weights=weights)[0]])
    if rng.random() < TEXT_SHARE:
        answers[opinion.name] = rng.choice(FREE_TEXTS)
    return answers


def _existing(session: Session, title: str) -> Survey | None:
    return session.exec(select(Survey).where(Survey.title == title)).first()


def _build_needs_survey(playback: Playback, staff: Principal, opens: datetime, closes: datetime) -> int:
    session = playback.session
    built = opens - timedelta(days=6)

    def build() -> int:
        survey = services.create_survey(session, staff, SurveyDetails(
            title=NEEDS_TITLE, anonymous=True, results_public=True, opens_at=opens, closes_at=closes,
            description="スマートシティの推進にあたり、区民の皆さまが優先してほしい分野や暮らしの実感をお聞きします。"
                        "回答は匿名で集計し、結果はこのサイトで公開します。"))
        sid = survey.id
        assert sid is not None
        add = lambda **form: services.add_question(session, staff, sid, QuestionDetails(**form))  # noqa: E731
        add(kind=QuestionKind.MULTIPLE, prompt="スマートシティの推進で、区が優先的に取り組むべき分野はどれですか（3つまで）",
            options="\n".join(label for label, _ in FIELDS), max_choices=3, required=True)
        add(kind=QuestionKind.SINGLE, prompt="推進にあたって最も重視すべき方向性はどれですか",
            options="\n".join(label for label, _ in DIRECTIONS), required=True)
        add(kind=QuestionKind.SCALE, prompt="板橋区は暮らしやすいまちだと感じますか", scale_min=1, scale_max=5,
            scale_min_label="住みにくい", scale_max_label="住みやすい")
        add(kind=QuestionKind.MATRIX, prompt="次の分野の現在の満足度をお聞かせください",
            options="\n".join(SATISFACTION_COLUMNS), rows="\n".join(label for label, _ in SATISFACTION_ROWS))
        add(kind=QuestionKind.TEXT, prompt="スマートシティで解決してほしい身近な課題があればお書きください")
        return sid

    survey_id = playback.at(built, build)
    playback.at(built + timedelta(days=1), lambda: services.publish(session, staff, survey_id))
    return survey_id


def _moment(rng: random.Random, opens: datetime, closes: datetime) -> datetime:
    """A moment while the survey was open, during the ward's waking hours."""
    day = rng.randrange((closes - opens).days)
    moment = opens + timedelta(days=day, minutes=rng.randrange(14 * 60))
    return min(moment, closes - timedelta(minutes=5))


def answer_rows(form: services.SurveyForm, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``survey_answer`` rows :func:`~cocreate.surveys.services.parse_answers` makes of these answers (the
    demo's own answers, which every question of the demo survey applies to), as plain values for a bulk insert
    (building thousands of ORM rows would take most of the demo's time; the tests compare both)."""
    rows: list[dict[str, Any]] = []
    for question in form.questions:
        value = answers.get(question.name)
        if question.kind is QuestionKind.SINGLE and value:
            rows.append({"question_id": question.id, "option_id": int(value)})
        elif question.kind is QuestionKind.MULTIPLE:
            rows += [{"question_id": question.id, "option_id": int(v)} for v in dict.fromkeys(value or [])]
        elif question.kind is QuestionKind.SCALE and value:
            rows.append({"question_id": question.id, "number": int(value)})
        elif question.kind is QuestionKind.TEXT and value:
            rows.append({"question_id": question.id, "text": value.strip()})
        elif question.kind is QuestionKind.MATRIX:
            for row in question.rows:
                cell = answers.get(f"{question.name}_r{row.id}")
                if cell:
                    rows.append({"question_id": question.id, "option_id": int(cell), "row_option_id": row.id})
    return rows


def _import_web_answers(session: Session, survey_id: int, drawn: list[tuple[datetime, dict[str, Any]]]) -> None:
    """The answers of the ward's web form from before the site, written in bulk (three statements); before any
    other response of the survey."""
    survey = session.get(Survey, survey_id)
    assert survey is not None
    form = services.load_form(session, survey)
    responses = SurveyResponse.__table__  # the table, not the ORM entity: one executemany, no RETURNING
    session.execute(sa.insert(responses), [  # type: ignore[arg-type]
        {"survey_id": survey_id, "submitted_at": when, "channel": Channel.ONLINE.value, "created_at": when,
         "updated_at": when, "respondent_key": None, "respondent_id": None, "edited_at": None, "entered_by_id": None,
         "consent_at": None, "desk_note": ""} for when, _answers_ in drawn])
    # The survey's first responses, in the order they were written (ids rise in insertion order).
    ids = session.exec(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id)
                       .order_by(col(SurveyResponse.id))).all()
    assert len(ids) == len(drawn)
    rows = [{"response_id": response_id, "option_id": None, "row_option_id": None, "number": None, "text": "",
             "created_at": when, "updated_at": when, **row}
            for response_id, (when, answers) in zip(ids, drawn, strict=True) for row in answer_rows(form, answers)]
    if rows:
        session.execute(sa.insert(SurveyAnswer.__table__), rows)  # type: ignore[arg-type]
    survey.response_count = survey.response_count + len(ids)
    session.add(survey)
    session.commit()


def load_needs_survey(session: Session, settings: Settings) -> str:
    if _existing(session, NEEDS_TITLE) is not None:
        return f"「{NEEDS_TITLE}」 already there"
    playback = Playback(session, settings)
    staff, desk = playback.actor(STAFF), playback.actor(DESK)
    if staff is None or desk is None:
        return f"「{NEEDS_TITLE}」 left out (it needs the core demo's people)"
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    opens = ward_time(today, OPENED_DAY, "09:00")
    closes = ward_time(today, OPENED_DAY + DAYS_OPEN, "23:59")
    survey_id = _build_needs_survey(playback, staff, opens, closes)
    survey = session.get(Survey, survey_id)
    assert survey is not None
    form = services.load_form(session, survey)
    rng = random.Random(19)  # noqa: S311 (demo content, the same every time)
    drawn = sorted(((_moment(rng, opens, closes), _answers(rng, form)) for _ in range(RESPONSES)),
                   key=lambda item: item[0])
    residents = [email for email in RESIDENTS if playback.actor(email) is not None]
    desk_count = DESK_PAPER + DESK_WORKSHOP
    # Which of the responses (in time order) the residents and the desk gave: spread over the weeks.
    through_services = sorted(rng.sample(range(RESPONSES), len(residents) + desk_count))
    chosen = set(through_services)
    web = [item for index, item in enumerate(drawn) if index not in chosen]
    with clock_at(web[-1][0] if web else opens):
        _import_web_answers(session, survey_id, web)
    order = list(range(len(through_services)))
    rng.shuffle(order)  # who gave which of them
    for position, index in zip(order, through_services, strict=True):
        when, answers = drawn[index]
        if position < len(residents):
            principal = playback.actor(residents[position])
            playback.at(when, lambda p=principal, a=answers: services.submit_response(  # type: ignore[misc]
                session, settings, p, survey_id, a))
        else:
            channel = Channel.PAPER if position - len(residents) < DESK_PAPER else Channel.WORKSHOP
            playback.at(when, lambda c=channel, a=answers: services.enter_desk_response(  # type: ignore[misc]
                session, desk, survey_id, a, c, True, "赤塚地域センターで受け付けた調査票"))
    return f"「{NEEDS_TITLE}」 added with {RESPONSES} responses ({desk_count} entered by the support desk)"


CHALLENGE_TITLE = "区民の環境にやさしい行動が見えて、続けたくなる仕組みを実現したい"
OPEN_TITLE = "エコアクションの取組についてのアンケート"
CHALLENGE_STAFF = ("demo-staff@example.jp", "demo-staff-transport@example.jp", "demo-staff-takashimadaira@example.jp")


def load_challenge_survey(session: Session, settings: Settings) -> str:
    """An open survey on the eco-action challenge, with a few answers of the demo residents."""
    if _existing(session, OPEN_TITLE) is not None:
        return f"「{OPEN_TITLE}」 already there"
    try:
        kind = targets.target("challenge")
    except Exception:  # the proposals component is not installed
        return f"「{OPEN_TITLE}」 left out (no challenges)"
    challenge_id = next((cid for cid, title in kind.choices(session) if title == CHALLENGE_TITLE), None)
    playback = Playback(session, settings)
    if challenge_id is None:
        return f"「{OPEN_TITLE}」 left out (its challenge is missing)"
    owners = targets.load_one(kind, session, challenge_id).department_ids
    staff = next((p for p in (playback.actor(email) for email in CHALLENGE_STAFF)
                  if p is not None and p.staff_department_ids & owners), None)
    if staff is None:
        return f"「{OPEN_TITLE}」 left out (no demo staff owns its challenge)"
    today = utcnow().astimezone(WARD_TIMEZONE).date()
    opens = ward_time(today, -6, "09:00")
    closes = ward_time(today, 24, "23:59")

    def build() -> int:
        survey = services.create_survey(session, staff, SurveyDetails(
            title=OPEN_TITLE, target_type="challenge", target_id=challenge_id, anonymous=True, results_public=True,
            opens_at=opens, closes_at=closes,
            description="エコアクションポイントの仕組みづくりに向けて、日頃の取組と期待をお聞きします。"))
        sid = survey.id
        assert sid is not None
        add = lambda **form: services.add_question(session, staff, sid, QuestionDetails(**form))  # noqa: E731
        add(kind=QuestionKind.MULTIPLE, prompt="日頃取り組んでいる環境にやさしい行動はどれですか",
            options="マイバッグ・マイボトル\n節電・省エネ\n徒歩・自転車での移動\n資源の分別・リサイクル\n地産地消の買い物")
        add(kind=QuestionKind.SCALE, prompt="ポイントがもらえると、取組を続けたくなりますか", scale_min=1, scale_max=5,
            scale_min_label="そう思わない", scale_max_label="そう思う", required=True)
        add(kind=QuestionKind.TEXT, prompt="ポイントの使い道としてうれしいものをお書きください")
        services.publish(session, staff, sid)
        return sid

    survey_id = playback.at(ward_time(today, -7, "10:00"), build)
    survey = session.get(Survey, survey_id)
    assert survey is not None
    form = services.load_form(session, survey)
    actions, scale, text = form.questions
    rng = random.Random(1919)  # noqa: S311 (demo content)
    answered = 0
    for index, email in enumerate(RESIDENTS[:4]):
        principal = playback.actor(email)
        if principal is None:
            continue
        answers = {actions.name: [str(o.id) for o in actions.choices if rng.random() < 0.5],
                   scale.name: str(rng.choice([3, 4, 4, 5])),
                   text.name: ["商店街で使える割引券", "区の施設の利用券", "", "植物園の入園券"][index]}
        playback.at(ward_time(today, -5 + index, "19:30"),
                    lambda p=principal, a=answers: services.submit_response(session, settings, p, survey_id, a))  # type: ignore[misc]
        answered += 1
    return f"「{OPEN_TITLE}」 added (open, {answered} responses)"


def load(session: Session, settings: Settings) -> str:
    """Both demo surveys (called by the proposals demo, after its challenges)."""
    return f"surveys: {load_needs_survey(session, settings)}; {load_challenge_survey(session, settings)}"


def needs_survey_id(session: Session) -> int | None:
    return session.exec(select(Survey.id).where(Survey.title == NEEDS_TITLE).order_by(col(Survey.id))).first()
