"""Searching the index: full-text search with filters, facets and snippets, and similar documents.

The query text is never parsed as a query language (no field prefixes, operators or wildcards to
trip over): it is split on whitespace; each part must match (AND), in the title, body or extra text;
a part that the analyzer splits into several terms must match them as a phrase (「自動運転」 = 自動
followed by 運転, so 「自動ドア…運転手」 is no match).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import markupsafe
from whoosh.collectors import TopCollector
from whoosh.query import And, ConstantScoreQuery, Or, Phrase, Query, Term
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from cocreate.search import analysis, index
from cocreate.settings import Settings

MAX_QUERY_CHARS = 200
MAX_PARTS = 12
SNIPPET_CHARS = 160
MAX_PER_PAGE = 100
TEXT_FIELDS = ("title", "body", "extra")
_NEAR_END = 3
"""A snippet this close to either end of the text takes the rest in (a full stop, say)."""
_LEAD = 30
"""Characters shown before the first match of a snippet."""


@dataclass(frozen=True)
class Hit:
    key: str
    type: str
    id: int
    title: str
    url: str
    snippet: markupsafe.Markup
    """Escaped text with matches wrapped in ``<mark>…</mark>``."""
    phase: str | None
    category: str | None
    area: str | None
    challenge_id: int | None
    score: float


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]
    """Facet field ("type", "phase", "category", "area") → value → number of matching documents."""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1


def empty(page: int = 1, per_page: int = 20) -> Results:
    return Results(hits=[], total=0, page=page, per_page=per_page, facets={name: {} for name in index.FACETS})


def text_query(text: str) -> Query | None:
    """The query for what a person typed, or None when it holds no searchable word."""
    parsed = _parse(text)
    return parsed[0] if parsed else None


def _parse(text: str) -> tuple[Query, frozenset[str]] | None:
    parts: list[Query] = []
    terms: set[str] = set()
    for part in text[:MAX_QUERY_CHARS].split()[:MAX_PARTS]:
        words = [token.text for token in analysis.analyzer()(part, mode="query")]
        if not words:
            continue
        terms.update(words)
        if len(words) == 1:
            parts.append(Or([Term(field, words[0]) for field in TEXT_FIELDS]))
        else:
            parts.append(Or([Phrase(field, words) for field in TEXT_FIELDS]))
    if not parts:
        return None
    return (parts[0] if len(parts) == 1 else And(parts)), frozenset(terms)


def search(
    settings: Settings,
    text: str,
    *,
    types: Sequence[str] = (),
    phase: str | None = None,
    category: str | None = None,
    area: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Results:
    """One page of documents matching ``text``, best first, with facet counts.

    Facet counts for a field are taken with every other filter applied but not that field's own, so a
    filter shows what choosing another value would give. An empty query or a missing index gives no hits.
    """
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    parsed = _parse(text or "")
    if parsed is None:
        return empty(page, per_page)
    query, words = parsed
    searcher = index.searcher(settings)
    if searcher is None:
        return empty(page, per_page)
    chosen = {
        "type": list(dict.fromkeys(types)),
        "phase": [phase] if phase else [],
        "category": [category] if category else [],
        "area": [area] if area else [],
    }
    values = _value_sets(settings, searcher)
    selected = {name: _union(values[name], wanted) for name, wanted in chosen.items() if wanted}
    filtered = _intersect_all(list(selected.values()))
    first = (page - 1) * per_page
    # One pass over the matches: every matching document is noted (for the counts), the filtered ones
    # are ranked (Whoosh would otherwise evaluate the query twice, and phrases are the costly part).
    collector = _MatchCollector(limit=first + per_page, allowed=filtered)
    searcher.search_with_collector(query, collector)
    matches = collector.matched
    allowed = matches if filtered is None else matches & filtered
    facets = {
        name: _counts(values[name], _intersect(matches, [docs for other, docs in selected.items() if other != name]))
        for name in index.FACETS
    }
    total = len(allowed)
    hits: list[Hit] = []
    if first < total:
        ranked = [(hit.docnum, hit.score, hit.fields()) for hit in collector.results()[first : first + per_page]]
        hits = _hits(searcher, ranked, words)
    return Results(hits=hits, total=total, page=page, per_page=per_page, facets=facets)


# Per index generation: facet field -> value -> the documents with that value (set algebra in C beats
# Whoosh's per-document grouping by far). A new generation (every drain commits one) starts afresh.
_VALUE_SETS: dict[tuple[str, int], dict[str, dict[str, set[int]]]] = {}
_VALUE_SETS_LOCK = threading.Lock()


def _value_sets(settings: Settings, searcher: Searcher) -> dict[str, dict[str, set[int]]]:
    key = (str(index.live_dir(settings)), searcher.reader().generation())
    cached = _VALUE_SETS.get(key)
    if cached is not None:
        return cached
    reader = searcher.reader()
    table = {
        name: {
            str(value): set(searcher.docs_for_query(Term(name, value))) for value in reader.field_terms(name)
        }
        for name in index.FACETS
    }
    with _VALUE_SETS_LOCK:
        while len(_VALUE_SETS) >= 4:
            _VALUE_SETS.pop(next(iter(_VALUE_SETS)))
        _VALUE_SETS[key] = table
    return table


class _MatchCollector(TopCollector):
    """The best ``limit`` documents among ``allowed`` (None: all), noting every matching document."""

    def __init__(self, limit: int, allowed: set[int] | None) -> None:
        # See every match (no block skipping, no matcher pruning by score): the counts need them all.
        super().__init__(limit=limit, usequality=False, replace=0)
        self.allowed = allowed
        self.matched: set[int] = set()

    def collect(self, sub_docnum: int) -> Any:
        docnum = self.offset + sub_docnum
        self.matched.add(docnum)
        if self.allowed is None or docnum in self.allowed:
            return super().collect(sub_docnum)
        return None


def _intersect_all(sets: list[set[int]]) -> set[int] | None:
    if not sets:
        return None
    ordered = sorted(sets, key=len)
    return ordered[0].intersection(*ordered[1:])


def _union(sets: dict[str, set[int]], wanted: list[str]) -> set[int]:
    found = [sets.get(value, set()) for value in wanted]
    return set().union(*found) if len(found) > 1 else set(found[0])


def _intersect(docs: set[int], others: Iterable[set[int]]) -> set[int]:
    result = docs
    for other in sorted(others, key=len):
        result = result & other
    return result


def _counts(sets: dict[str, set[int]], docs: set[int]) -> dict[str, int]:
    counts = {value: len(docs & members) for value, members in sets.items() if value}
    return dict(sorted(((v, n) for v, n in counts.items() if n), key=lambda item: (-item[1], item[0])))


def similar(
    settings: Settings, *, challenge_id: int, text: str, exclude_id: int | None = None, limit: int = 5
) -> list[Hit]:
    """Proposals of this challenge most like ``text`` (its key terms, weighted by rarity), best first."""
    if not text or not text.strip():
        return []
    searcher = index.searcher(settings)
    if searcher is None:
        return []
    # Rare words weigh most, but a particle 「の」 can be "rare" in a small index: content words only.
    content = analysis.content_terms(text[:5000])
    key_terms = [word for word, _score in searcher.key_terms_from_text("body", text[:5000], numterms=40)
                 if word in content][:20]
    if not key_terms:
        return []
    # The challenge's proposals drive the matching (an And skips to them), so common words cost nothing
    # for the rest of the index; the restriction scores 0 and leaves the ranking to the words.
    restrict = ConstantScoreQuery(And([Term("challenge_id", challenge_id), Term("type", "proposal")]), 0.0)
    query = And([restrict, Or([Term(field, word) for word in key_terms for field in ("title", "body")])])
    mask = Term("key", f"proposal:{exclude_id}") if exclude_id is not None else None
    results = searcher.search(query, mask=mask, limit=max(1, min(limit, MAX_PER_PAGE)))
    ranked = [(hit.docnum, hit.score, hit.fields()) for hit in results]
    return _hits(searcher, ranked, frozenset(key_terms))


def _hits(
    searcher: Searcher, ranked: list[tuple[int, float, dict[str, Any]]], words: frozenset[str]
) -> list[Hit]:
    spans = _match_spans(searcher, [docnum for docnum, _score, _fields in ranked], words)
    return [_hit(fields, score, spans.get(docnum, [])) for docnum, score, fields in ranked]


def _match_spans(
    searcher: Searcher, docnums: list[int], words: frozenset[str]
) -> dict[int, list[tuple[int, int]]]:
    """Where the query's words are in each document's body, from the character offsets in the index."""
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    wanted = sorted(set(docnums))
    for word in words:
        try:
            matcher = searcher.postings("body", word)
        except TermNotFound:
            continue
        for docnum in wanted:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
                if not matcher.is_active():
                    break
            if matcher.id() == docnum:
                spans[docnum].extend((start, end) for _position, start, end in matcher.value_as("characters"))
    return spans


def _hit(fields: dict[str, Any], score: float, spans: list[tuple[int, int]]) -> Hit:
    challenge = fields.get("challenge_id")
    return Hit(
        key=fields["key"],
        type=fields["type"],
        id=int(fields["id"]),
        title=fields.get("title", ""),
        url=fields.get("url", ""),
        snippet=snippet(fields.get("body", ""), spans),
        phase=fields.get("phase") or None,
        category=fields.get("category") or None,
        area=fields.get("area") or None,
        challenge_id=int(challenge) if challenge is not None else None,
        score=float(score or 0.0),
    )


def snippet(text: str, spans: Iterable[tuple[int, int]], width: int = SNIPPET_CHARS) -> markupsafe.Markup:
    """About ``width`` characters of ``text`` around the most matches, escaped, the matches in ``<mark>``."""
    marks = _merge(spans, len(text))
    if not marks:
        return markupsafe.escape(_shorten(text, width))
    # The window that starts a little before a match and holds the most matches.
    best_start, best_count = 0, -1
    for begin, _end in marks:
        start = max(0, begin - _LEAD)
        count = sum(1 for b, e in marks if b >= start and e <= start + width)
        if count > best_count:
            best_start, best_count = start, count
    start = 0 if best_start <= _NEAR_END else best_start
    end = min(len(text), start + width)
    if len(text) - end <= _NEAR_END:
        end = len(text)
    out: list[str] = ["…"] if start > 0 else []
    position = start
    for begin, finish in marks:
        if begin < position or finish > end:
            continue
        out.append(str(markupsafe.escape(text[position:begin])))
        out.append(f"<mark>{markupsafe.escape(text[begin:finish])}</mark>")
        position = finish
    out.append(str(markupsafe.escape(text[position:end])))
    if end < len(text):
        out.append("…")
    return markupsafe.Markup("".join(out))  # noqa: S704 - every piece of text is escaped above


def _merge(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Sorted, non-overlapping spans; adjacent ones (自動|運転) become one."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted((max(0, b), min(length, e)) for b, e in spans):
        if begin >= end:
            continue
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def _shorten(text: str, width: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


__all__ = ["Hit", "Results", "search", "similar", "snippet", "text_query"]
