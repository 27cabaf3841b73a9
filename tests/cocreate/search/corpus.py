"""A generated corpus of Japanese and English documents for the search engine's tests and benchmark.

``corpus(n)`` is deterministic: the same ``n`` gives the same documents. Besides the generated filler it
holds a few planted documents (``PLANTED``) for the cases the engine must get right: orthographic
variants (引越し / 引っ越し), word boundaries (自動運転 vs 自動ドア…運転手), English stemming and ranking.
The filler never contains the planted documents' rare words, and its Japanese uses 自動 and 運転 only
apart (自動ドア, 運転手), so the boundary case is tested against many near misses.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from cocreate.search.registry import SearchDoc

TYPES = ("challenge", "proposal", "question", "trial", "test_field")
PHASES = ("accepting", "reviewing", "decided", "closed")
CATEGORIES = ("mobility", "welfare", "environment_energy", "disaster", "childcare", "commerce")
AREAS = ("itabashi", "tokiwadai", "shimura", "akatsuka", "takashimadaira")
AREA_JA = {"itabashi": "板橋", "tokiwadai": "常盤台", "shimura": "志村", "akatsuka": "赤塚", "takashimadaira": "高島平"}

TOPICS_JA = ("公園", "図書館", "防災", "子育て", "高齢者", "商店街", "自転車", "保育園", "ごみ", "緑化", "避難所", "給食")
TOPICS_EN = ("park", "library", "disaster", "childcare", "elderly", "market", "bicycle", "nursery", "waste", "trees")
PHRASES_JA = (
    "{area}地域で{topic}の取り組みを進めたいと考えています。",
    "{topic}に関する住民の声を集め、区と事業者が一緒に検討します。",
    "駅前の自動ドアが故障しやすく、バスの運転手からも意見がありました。",
    "{area}の{topic}について、実証の計画と費用の見込みを示します。",
    "地域の{topic}を支えるため、ボランティアの募集を行います。",
    "運転手の確保が課題で、自動販売機の設置場所も見直します。",
    "{topic}の利用者アンケートを実施し、結果を公開します。",
)
PHRASES_EN = (
    "We want to improve the {topic} in {area} together with residents.",
    "Residents asked for a better {topic}; the ward will test new ideas.",
    "The driver of the community van waits by the automatic door of the station.",
    "This plan explains the budget and the schedule for the {topic} trial in {area}.",
    "Volunteers help with the {topic} every weekend.",
)

BASE_TIME = datetime(2026, 4, 1, tzinfo=UTC)


def _doc(type_: str, id_: int, title: str, body: str, **fields: object) -> SearchDoc:
    values: dict[str, object] = {
        "type": type_,
        "id": id_,
        "title": title,
        "body": body,
        "url": f"/{type_}s/{id_}",
        "updated_at": BASE_TIME + timedelta(minutes=id_),
    }
    values.update(fields)
    return SearchDoc(**values)  # type: ignore[arg-type]


# Planted documents: ids 1-99, generated ones from 100.
MOVING_NOUN = _doc("challenge", 1, "引越しの案内を分かりやすくしたい", "転入される方へ、引越しの際の届出を一覧にします。",
                   phase="accepting", category="welfare", area="itabashi")
MOVING_VERB = _doc("question", 2, "窓口の混雑について", "引っ越し手続きの窓口が混んでいます。予約はできますか。",
                   phase="accepting", category="welfare", area="shimura")
SELF_DRIVING = _doc("proposal", 3, "高島平でのバス実証", "自動運転バスの実証実験を高島平団地で行います。",
                    phase="reviewing", category="mobility", area="takashimadaira", challenge_id=1)
NEAR_MISS = _doc("proposal", 4, "駅前の安全", "自動ドアの前で運転手が乗客を待ちます。自動で運転するものではありません。",
                 phase="reviewing", category="mobility", area="takashimadaira", challenge_id=1)
BUSES = _doc("trial", 5, "Electric buses for Takashimadaira", "Two small buses are running between the station "
             "and the housing estate.", phase="decided", category="mobility", area="takashimadaira")
BUS = _doc("test_field", 6, "Depot for a community bus", "A garage where one bus can charge overnight; it runs "
           "every morning.", category="mobility", area="akatsuka")
TITLE_HIT = _doc("challenge", 7, "Rainwater harvesting for school gardens", "Schools want to water their gardens "
                 "in summer without raising costs.", phase="accepting", category="environment_energy",
                 area="akatsuka")
BODY_HIT = _doc("challenge", 8, "Cooler school gardens in summer", "Schools want rainwater harvesting so that "
                "their gardens stay green without raising costs.", phase="accepting",
                category="environment_energy", area="akatsuka")
HOSTILE = _doc("question", 9, "<script>alert('x')</script> フェンスの件", "<script>alert('x')</script>"
               " 公園のフェンス&amp;ゲートが<b>壊れて</b>います。", phase="accepting", category="welfare",
               area="itabashi")
PLANTED = (MOVING_NOUN, MOVING_VERB, SELF_DRIVING, NEAR_MISS, BUSES, BUS, TITLE_HIT, BODY_HIT, HOSTILE)


def generated(count: int, *, seed: int = 7, start_id: int = 100) -> Iterator[SearchDoc]:
    """``count`` filler documents, about two thirds Japanese and one third English."""
    rng = random.Random(seed)
    for number in range(count):
        id_ = start_id + number
        type_ = TYPES[number % len(TYPES)]
        area = rng.choice(AREAS)
        category = rng.choice(CATEGORIES)
        phase = rng.choice(PHASES) if type_ in ("challenge", "proposal", "question") else None
        if number % 3 == 2:
            topic = rng.choice(TOPICS_EN)
            title = f"{topic.capitalize()} in {area.capitalize()} #{number}"
            sentences = [rng.choice(PHRASES_EN).format(topic=topic, area=area.capitalize())
                         for _ in range(rng.randint(2, 6))]
            body = " ".join(sentences)
        else:
            topic = rng.choice(TOPICS_JA)
            title = f"{AREA_JA[area]}の{topic}をよくしたい（{number}）"
            sentences = [rng.choice(PHRASES_JA).format(topic=topic, area=AREA_JA[area])
                         for _ in range(rng.randint(2, 6))]
            body = "".join(sentences)
        yield _doc(type_, id_, title, body, phase=phase, category=category, area=area,
                   challenge_id=(number % 40) + 1 if type_ == "proposal" else None,
                   extra="株式会社いたばしモビリティ" if number % 11 == 0 else "")


def corpus(count: int = 2000) -> list[SearchDoc]:
    """The planted documents plus ``count`` generated ones."""
    return [*PLANTED, *generated(count)]
