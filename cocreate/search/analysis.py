"""How text becomes index terms: the one place that decides the analyzer (:func:`analyzer`).

Japanese is split into words by Sudachi (mode B, the middle units: mode C keeps addresses such as
「板橋区高島平」 whole, so 「高島平」 would not find them) and each word is reduced to a
robust key: Sudachi's normalized form (which unifies orthographic variants: 「引越し」「引越」「ひっこし」
→ 「引っ越し」/「引っ越す」) with its trailing okurigana removed (「引っ越し」 and 「引っ越す」 → 「引っ越」),
because the normalized form alone depends on context: 「引っ越し手続き」 is read as the verb 引っ越す,
「引っ越しの案内」 as the noun 引っ越し. Latin words are lower-cased and stemmed with the Snowball English
stemmer (Sudachi's normalized form would turn "Running" into ランニング). Whitespace and punctuation
produce no terms. Every term keeps its character offsets, so that snippets can highlight the match.

Queries of several terms are run as phrases (see :mod:`cocreate.search.query`): 「自動運転」 is the two
words 自動 + 運転 and must not match 「自動ドア…運転手」.

The tokenizer class is pickled into the index's schema: keep this module path and class name stable
(rebuild the index after changing what it produces). The dictionary is loaded on first use.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.snowball.english import EnglishStemmer

# Sudachi refuses inputs above 49,149 bytes; split long texts well below that, at line or sentence ends.
_CHUNK_CHARS = 4000
_SKIP_POS = {"空白", "補助記号"}
_LATIN = re.compile(r"[0-9A-Za-z\u00c0-\u024f][0-9A-Za-z\u00c0-\u024f'’._+-]*")
_HAS_LETTER_OR_DIGIT = re.compile(r"[0-9A-Za-z\u00c0-\u024f]")
_HIRAGANA_TAIL = re.compile(r"[\u3041-\u309f]+$")
_KANJI = re.compile(r"[\u3400-\u9fff\uf900-\ufaff々]")
_BREAK = re.compile(r"[\n。．！？!?]")
_SOFT_BREAK = re.compile(r"[\s、，,;；]")
# Plurals the Snowball stemmer leaves apart from their singular ("buses" → "buse", "bus" → "bus").
_IRREGULAR = {"buses": "bus", "busses": "bus", "gases": "gas", "children": "child", "people": "person"}

_stemmer = EnglishStemmer()
_local = threading.local()


def analyzer() -> Tokenizer:
    """The analyzer of every text field, at index and at query time (the one choice to change)."""
    return SudachiTokenizer()


def terms(text: str) -> list[str]:
    """The index terms of ``text`` in order (for tests, diagnostics and the benchmark)."""
    return [token.text for token in analyzer()(text, mode="query")]


@functools.lru_cache(maxsize=200_000)
def latin_key(word: str) -> str:
    word = word.lower().strip("'’._+-")
    word = _IRREGULAR.get(word, word)
    if word.isdigit() or len(word) < 3:
        return word
    return _stemmer.stem(word)


@functools.lru_cache(maxsize=200_000)
def japanese_key(normalized: str) -> str:
    """Drop trailing okurigana so that a verb and its noun form meet: 引っ越す / 引っ越し → 引っ越."""
    stem = _HIRAGANA_TAIL.sub("", normalized)
    # Only stems of two characters or more (引っ越, 申し込, 手続): one kanji alone would merge unrelated
    # words (行う / 行く, 分かる / 分ける / 分).
    if len(stem) >= 2 and stem != normalized and _KANJI.search(stem[-1]):
        return stem
    return normalized


def _tokenizer() -> Any:
    # One Sudachi tokenizer per thread (it is not thread-safe); the dictionary is loaded once per process.
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        tokenizer = _dictionary(Dictionary).tokenizer(mode=SplitMode.B, fields={"pos", "normalized_form"})
        _local.tokenizer = tokenizer
    return tokenizer


_dictionaries: dict[str, Any] = {}
_dictionary_lock = threading.Lock()


def _dictionary(dictionary_class: Any) -> Any:
    with _dictionary_lock:
        if "core" not in _dictionaries:
            _dictionaries["core"] = dictionary_class(dict="core")
        return _dictionaries["core"]


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    while len(text) - start > _CHUNK_CHARS:
        end = start + _CHUNK_CHARS
        cut = -1
        for pattern in (_BREAK, _SOFT_BREAK):
            for match in pattern.finditer(text, start + _CHUNK_CHARS // 2, end):
                cut = match.end()
            if cut > start:
                break
        else:
            cut = end  # no break in the chunk's second half: a word may be cut in two here
        yield start, text[start:cut]
        start = cut
    if start < len(text):
        yield start, text[start:]


# Particles and auxiliary verbs: kept in the index (phrases need their positions), but they say nothing
# about what a text is about.
_FUNCTION_POS = frozenset({"助詞", "助動詞"})


def content_terms(text: str) -> set[str]:
    """The terms of the content words of ``text``: no particles or auxiliary verbs (「の」, 「です」)."""
    return {key for key, _start, _end in words(text, content_only=True)}


def words(text: str, *, content_only: bool = False) -> Iterator[tuple[str, int, int]]:
    """(term, startchar, endchar) for every word of ``text`` (only content words if ``content_only``)."""
    tokenizer = _tokenizer()
    for offset, chunk in _chunks(text):
        try:
            morphemes = tokenizer.tokenize(chunk)
        except UnicodeEncodeError:
            # Lone surrogates (from a badly decoded query, say): "?" each, so offsets stay the same.
            morphemes = tokenizer.tokenize(chunk.encode("utf-8", "replace").decode("utf-8"))
        for morpheme in morphemes:
            surface = morpheme.surface()
            pos = morpheme.part_of_speech()[0]
            if pos in _SKIP_POS or (content_only and pos in _FUNCTION_POS):
                continue
            begin = offset + morpheme.begin()
            folded = unicodedata.normalize("NFKC", surface)
            if _HAS_LETTER_OR_DIGIT.match(folded):
                # Latin words (and digits): the surface, never the normalized form ("Running" ≠ ランニング).
                # Sudachi may keep "self-driving" or "e.g." whole: index each latin run.
                runs = list(_LATIN.finditer(folded))
                if len(folded) == len(surface):
                    for run in runs:
                        key = latin_key(run.group())
                        if key:
                            yield key, begin + run.start(), begin + run.end()
                else:
                    for run in runs:
                        key = latin_key(run.group())
                        if key:
                            yield key, begin, begin + len(surface)
                if runs:
                    continue
            key = japanese_key(morpheme.normalized_form()).lower()
            if any(unicodedata.category(char)[0] in "LN" for char in key):  # not zero-width spaces, emoji, …
                yield key, begin, begin + len(surface)


class SudachiTokenizer(Tokenizer):
    """A Whoosh tokenizer over :func:`words` (pickled into the index schema: keep its path stable)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(value)
            yield token
            return
        for position, (key, begin, end) in enumerate(words(value)):
            token.text = key
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[begin:end]
            if positions:
                token.pos = start_pos + position
            if chars:
                token.startchar = start_char + begin
                token.endchar = start_char + end
            yield token
