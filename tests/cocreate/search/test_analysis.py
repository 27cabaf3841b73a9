"""The analyzer: the terms Japanese and English text become (no index, no database)."""

from __future__ import annotations

import pickle

import pytest

from cocreate.search import analysis
from cocreate.search.analysis import SudachiTokenizer, terms


@pytest.mark.parametrize(
    ("variant", "other"),
    [
        ("引越しの案内", "引っ越しの案内"),  # okurigana variant, both read as nouns
        ("引越し手続き", "引っ越し手続き"),  # Sudachi reads the second as the verb 引っ越す
        ("引越", "引っ越す"),
        ("ひっこし", "引っ越し"),
        ("申込み", "申し込む"),
    ],
)
def test_orthographic_variants_give_the_same_term(variant: str, other: str) -> None:
    assert terms(variant)[0] == terms(other)[0]


def test_compound_is_split_so_a_phrase_can_tell_it_from_a_near_miss() -> None:
    assert terms("自動運転") == ["自動", "運転"]
    near_miss = terms("自動ドアの前で運転手が")
    assert "運転" not in near_miss
    assert near_miss[:2] == ["自動", "ドア"]


@pytest.mark.parametrize(
    ("address", "place"),
    [("板橋区高島平8丁目", "高島平"), ("東京都板橋区常盤台1丁目", "常盤台"), ("板橋区志村3丁目", "志村")],
)
def test_a_place_name_inside_an_address_is_a_term_of_its_own(address: str, place: str) -> None:
    # Sudachi's mode C keeps 「板橋区高島平」 whole, so 「高島平」 would not find the address: mode B splits it.
    assert terms(place) == [place]
    assert place in terms(address)


@pytest.mark.parametrize(
    ("words", "term"),
    [(("bus", "buses", "Buses"), "bus"), (("run", "running", "runs", "Running"), "run"),
     (("city", "cities"), "citi"), (("drive", "driving"), "drive")],
)
def test_english_is_lower_cased_and_stemmed(words: tuple[str, ...], term: str) -> None:
    assert {terms(word)[0] for word in words} == {term}


def test_latin_words_keep_their_surface_not_sudachis_katakana_reading() -> None:
    assert terms("Running self-driving E-mail ＡＢＣ") == ["run", "self", "drive", "e-mail", "abc"]


def test_whitespace_and_punctuation_make_no_terms() -> None:
    assert terms("　、。！？ ・「」（）... --- ") == []
    assert terms("公園、図書館。") == ["公園", "図書館"]


def test_offsets_point_at_the_original_words() -> None:
    text = "区の引越し窓口 and Running buses."
    tokens = [(t.text, text[t.startchar : t.endchar]) for t in analysis.analyzer()(text, chars=True, positions=True)]
    assert ("引っ越", "引越し") in tokens
    assert ("run", "Running") in tokens
    assert ("bus", "buses") in tokens


def test_positions_are_consecutive_so_phrases_work() -> None:
    positions = [t.pos for t in analysis.analyzer()("自動運転バス、実証", positions=True)]
    assert positions == list(range(len(positions)))


def test_text_longer_than_sudachis_input_limit_is_tokenised_whole() -> None:
    # Sudachi refuses inputs above 49,149 bytes: ~120,000 bytes of Japanese without any line break.
    sentence = "高島平の公園で防災訓練を行います、"
    text = sentence * 2500 + "最後の自転車"
    tokens = list(analysis.analyzer()(text, chars=True))
    assert tokens[-1].text == "自転車"
    assert text[tokens[-1].startchar : tokens[-1].endchar] == "自転車"
    assert sum(1 for t in analysis.analyzer()(text) if t.text == "防災") == 2500


def test_the_tokenizer_pickles_by_module_path_without_the_dictionary() -> None:
    # The index stores the schema, tokenizer included, with pickle: it must stay small and importable.
    data = pickle.dumps(analysis.analyzer())
    assert b"cocreate.search.analysis" in data and b"SudachiTokenizer" in data
    assert len(data) < 200
    assert pickle.loads(data) == SudachiTokenizer()  # noqa: S301 - our own bytes


def test_odd_characters_make_no_terms_and_do_not_fail() -> None:
    assert terms("\u200b\ufeff\u2060 😀 \x00\x1b") == []
    assert terms("公園\ud800の") == ["公園", "の"]  # a lone surrogate (a badly decoded query)
    assert terms("ｂｕｓｅｓ ３５０円") == ["bus", "350", "円"]  # full-width forms fold
