"""Searching a corpus of 2,000+ generated Japanese and English documents (the index only, no database).

The index is built once for the module from ``corpus.corpus()``; each test asks it something.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest
from markupsafe import Markup

from cocreate.search import analysis, indexer, query
from cocreate.search.registry import SearchDoc
from cocreate.settings import Settings
from tests.cocreate.search import corpus
from tests.helpers import make_settings

DOCS = corpus.corpus(2000)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("search-corpus"))
    assert indexer.build(settings, DOCS) == len(DOCS) >= 2000
    return settings


def keys(results: query.Results | list[query.Hit]) -> list[str]:
    hits = results.hits if isinstance(results, query.Results) else results
    return [hit.key for hit in hits]


@functools.cache
def _terms(text: str) -> tuple[str, ...]:
    return tuple(analysis.terms(text))


def matching(word: str) -> list[SearchDoc]:
    """Documents whose title, body or extra text holds ``word``'s terms in a row (what a search must find)."""
    wanted = _terms(word)

    def holds(text: str) -> bool:
        have = _terms(text)
        return any(have[i : i + len(wanted)] == wanted for i in range(len(have)))

    return [doc for doc in DOCS if holds(doc.title) or holds(doc.body) or holds(doc.extra)]


def everything(settings: Settings, text: str, **filters: object) -> list[str]:
    return keys(query.search(settings, text, per_page=100, **filters))  # type: ignore[arg-type]


# --- Japanese -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["引越し", "引っ越し", "引越", "ひっこし"])
def test_orthographic_variants_find_each_other(indexed: Settings, text: str) -> None:
    found = everything(indexed, text)
    # 「引越しの案内」 (noun) and 「引っ越し手続き」 (read as the verb 引っ越す), whichever spelling is asked.
    assert set(found) == {corpus.MOVING_NOUN.key, corpus.MOVING_VERB.key}


def test_a_variant_inside_a_phrase_still_matches(indexed: Settings) -> None:
    assert everything(indexed, "引越し手続き") == [corpus.MOVING_VERB.key]
    assert everything(indexed, "引っ越しの際") == [corpus.MOVING_NOUN.key]


def test_a_compound_does_not_match_its_parts_across_word_boundaries(indexed: Settings) -> None:
    near_misses = matching("自動ドア")
    assert len(near_misses) > 100  # the filler is full of 自動ドア … 運転手
    assert everything(indexed, "自動運転") == [corpus.SELF_DRIVING.key]
    assert everything(indexed, "自動運転バス") == [corpus.SELF_DRIVING.key]


def test_words_separated_by_spaces_must_all_match_anywhere(indexed: Settings) -> None:
    found = everything(indexed, "自動 運転")
    assert corpus.SELF_DRIVING.key in found and corpus.NEAR_MISS.key in found
    assert corpus.MOVING_NOUN.key not in found


# --- English --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["bus", "buses", "BUSES"])
def test_english_plural_and_singular_find_each_other(indexed: Settings, text: str) -> None:
    assert {corpus.BUSES.key, corpus.BUS.key} <= set(everything(indexed, text))


@pytest.mark.parametrize("text", ["run", "running", "runs"])
def test_english_verb_forms_find_each_other(indexed: Settings, text: str) -> None:
    assert {corpus.BUSES.key, corpus.BUS.key} <= set(everything(indexed, text))


def test_english_words_of_a_query_must_all_match(indexed: Settings) -> None:
    assert set(everything(indexed, "running buses")) == {corpus.BUSES.key, corpus.BUS.key}
    assert everything(indexed, "electric running buses") == [corpus.BUSES.key]


# --- ranking --------------------------------------------------------------------------------------


def test_a_title_hit_ranks_above_a_body_hit(indexed: Settings) -> None:
    assert everything(indexed, "rainwater harvesting") == [corpus.TITLE_HIT.key, corpus.BODY_HIT.key]
    assert everything(indexed, "rainwater") == [corpus.TITLE_HIT.key, corpus.BODY_HIT.key]


def test_scores_are_descending(indexed: Settings) -> None:
    hits = query.search(indexed, "公園", per_page=50).hits
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


# --- filters, facets, pages -----------------------------------------------------------------------


def test_every_document_holding_the_word_is_found_and_nothing_else(indexed: Settings) -> None:
    expected = {doc.key for doc in matching("図書館")}
    results = query.search(indexed, "図書館", per_page=100)
    assert results.total == len(expected) > 100
    pages = [query.search(indexed, "図書館", page=page, per_page=100) for page in range(1, results.pages + 1)]
    assert {key for page in pages for key in keys(page)} == expected


@pytest.mark.parametrize(
    "filters",
    [{"types": ["proposal"]}, {"types": ["challenge", "question"]}, {"phase": "reviewing"},
     {"category": "childcare"}, {"area": "shimura"}, {"types": ["question"], "area": "akatsuka", "phase": "decided"}],
)
def test_filters_keep_exactly_the_matching_documents(indexed: Settings, filters: dict[str, object]) -> None:
    def fits(doc: SearchDoc) -> bool:
        return all([
            not filters.get("types") or doc.type in filters["types"],  # type: ignore[operator]
            "phase" not in filters or doc.phase == filters["phase"],
            "category" not in filters or doc.category == filters["category"],
            "area" not in filters or doc.area == filters["area"],
        ])

    expected = {doc.key for doc in matching("公園") if fits(doc)}
    results = query.search(indexed, "公園", per_page=100, **filters)  # type: ignore[arg-type]
    assert results.total == len(expected) > 0
    collected = [key for page in range(1, results.pages + 1)
                 for key in keys(query.search(indexed, "公園", page=page, per_page=100, **filters))]  # type: ignore[arg-type]
    assert set(collected) == expected and len(collected) == len(expected)


def test_facets_count_the_matches_with_the_other_filters_applied(indexed: Settings) -> None:
    docs = matching("park")
    results = query.search(indexed, "park", area="tokiwadai")
    in_area = [doc for doc in docs if doc.area == "tokiwadai"]
    assert results.total == len(in_area)
    assert results.facets["type"] == dict(Counter(doc.type for doc in in_area))
    assert results.facets["category"] == dict(Counter(doc.category for doc in in_area))
    assert results.facets["phase"] == dict(Counter(doc.phase for doc in in_area if doc.phase))
    # The area facet ignores the area filter itself, so other areas can be chosen.
    assert results.facets["area"] == dict(Counter(doc.area for doc in docs))
    assert len(results.facets["area"]) == len(corpus.AREAS)


def test_pages_do_not_overlap_and_cover_every_hit(indexed: Settings) -> None:
    first = query.search(indexed, "防災", per_page=20)
    assert first.total > 60 and first.pages == -(-first.total // 20)
    seen: list[str] = []
    for page in range(1, first.pages + 1):
        results = query.search(indexed, "防災", page=page, per_page=20)
        assert results.page == page and results.total == first.total
        assert len(results.hits) == (20 if page < first.pages else first.total - 20 * (first.pages - 1))
        seen.extend(keys(results))
    assert len(seen) == len(set(seen)) == first.total


def test_a_page_past_the_end_is_empty_not_the_last_page(indexed: Settings) -> None:
    results = query.search(indexed, "防災", page=999, per_page=20)
    assert results.hits == [] and results.total > 0 and results.page == 999


def test_per_page_is_bounded(indexed: Settings) -> None:
    assert len(query.search(indexed, "公園", per_page=10_000).hits) == 100
    assert query.search(indexed, "公園", page=-3, per_page=0).page == 1


# --- hits and snippets ----------------------------------------------------------------------------


def test_a_hit_carries_what_a_result_list_shows(indexed: Settings) -> None:
    (hit,) = query.search(indexed, "自動運転").hits
    doc = corpus.SELF_DRIVING
    assert (hit.key, hit.type, hit.id, hit.title, hit.url) == (doc.key, "proposal", 3, doc.title, doc.url)
    assert (hit.phase, hit.category, hit.area, hit.challenge_id) == ("reviewing", "mobility", "takashimadaira", 1)
    assert hit.score > 0
    assert hit.snippet == Markup("<mark>自動運転</mark>バスの実証実験を高島平団地で行います。")


def test_snippets_mark_the_matched_words_in_their_original_spelling(indexed: Settings) -> None:
    (hit,) = query.search(indexed, "引っ越し 窓口").hits
    assert "<mark>引っ越し</mark>" in hit.snippet and "<mark>窓口</mark>" in hit.snippet
    (noun,) = [h for h in query.search(indexed, "引っ越し").hits if h.key == corpus.MOVING_NOUN.key]
    assert "<mark>引越し</mark>" in noun.snippet
    running = query.search(indexed, "run bus", types=["trial"]).hits[0]
    assert "<mark>buses</mark>" in running.snippet and "<mark>running</mark>" in running.snippet


def test_snippets_escape_the_text_so_markup_in_documents_is_inert(indexed: Settings) -> None:
    (hit,) = query.search(indexed, "フェンス").hits
    assert hit.key == corpus.HOSTILE.key
    assert isinstance(hit.snippet, Markup)
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    # The body is Markdown: its "&amp;" is an ampersand, shown escaped once.
    assert "&lt;script&gt;" in hit.snippet and "フェンス</mark>&amp;ゲート" in hit.snippet
    assert "<mark>フェンス</mark>" in hit.snippet
    assert str(hit.snippet).replace("<mark>", "").replace("</mark>", "").count("<") == 0
    # The title is returned as plain text for the template to escape.
    assert hit.title == corpus.HOSTILE.title
    (script,) = query.search(indexed, "script alert").hits
    assert "&lt;<mark>script</mark>&gt;" in script.snippet


def test_a_title_only_hit_shows_the_start_of_the_body(indexed: Settings) -> None:
    (hit,) = query.search(indexed, "depot").hits
    assert hit.key == corpus.BUS.key
    assert hit.snippet == Markup("A garage where one bus can charge overnight; it runs every morning.")


# --- odd input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "、。！", "---", "\x00", "title:公園 OR", '"', "*", "((("])
def test_empty_or_punctuation_only_queries_find_nothing_and_do_not_fail(indexed: Settings, text: str) -> None:
    results = query.search(indexed, text)
    assert results.hits == [] and results.total == 0


def test_query_syntax_is_not_interpreted(indexed: Settings) -> None:
    # Field prefixes, operators and wildcards are words like any other (here: only "公園" matches).
    assert query.search(indexed, "公園 AND").total == 0
    assert query.search(indexed, "公園*").total == query.search(indexed, "公園").total


def test_a_huge_query_is_cut_and_answered(indexed: Settings) -> None:
    results = query.search(indexed, "公園 " * 50_000)
    assert results.total == query.search(indexed, "公園").total


def test_a_missing_index_finds_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "nothing")
    assert query.search(settings, "公園") == query.empty()
    assert query.similar(settings, challenge_id=1, text="自動運転バス") == []


def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "empty")
    assert indexer.build(settings, []) == 0
    assert query.search(settings, "公園").hits == []


# --- similar proposals ----------------------------------------------------------------------------


def test_similar_finds_proposals_of_the_same_challenge_only(indexed: Settings) -> None:
    hits = query.similar(indexed, challenge_id=1, text="高島平で自動運転バスを走らせる実証をしたい")
    assert hits and hits[0].key == corpus.SELF_DRIVING.key
    assert {hit.type for hit in hits} == {"proposal"} and {hit.challenge_id for hit in hits} == {1}
    assert len(hits) <= 5


def test_similar_leaves_out_the_proposal_itself(indexed: Settings) -> None:
    hits = query.similar(indexed, challenge_id=1, text=corpus.SELF_DRIVING.body, exclude_id=3, limit=3)
    assert corpus.SELF_DRIVING.key not in keys(hits) and len(hits) <= 3


def test_similar_to_nothing_is_nothing(indexed: Settings) -> None:
    assert query.similar(indexed, challenge_id=1, text="") == []
    assert query.similar(indexed, challenge_id=1, text="、。") == []
    assert query.similar(indexed, challenge_id=999, text="自動運転バス") == []


def test_searches_from_several_threads_agree_with_one_thread(indexed: Settings) -> None:
    # Web requests search from a thread pool; searchers are kept per thread.
    from concurrent.futures import ThreadPoolExecutor

    texts = ["公園", "park", "自動運転", "引越し", "防災 高齢者", "bus"] * 4
    expected = [keys(query.search(indexed, text)) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda text: keys(query.search(indexed, text)), texts)) == expected
