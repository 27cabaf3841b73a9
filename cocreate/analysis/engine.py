"""What the ward heard: residents' texts grouped into topics, each with its characteristic words and a few
representative quotes, entirely on this machine (no network, no model fetched at run time).

The method, measured against the labelled set ``tests/data/opinions-ja.tsv`` (see the README's section on
the opinion analysis for the figures):

1. Words: Sudachi (the dictionary the search already ships) splits each text in mode C (whole compounds:
   「防犯カメラ」, 「待機児童」) and keeps the *normalised form* of its nouns (no numbers, pronouns or
   dependent nouns such as 「こと」), minus a short list of words every opinion uses (「区」, 「方」).
   English words are lower-cased and stemmed as the search does. (Verbs and adjectives were tried: they
   lowered the agreement, 「増やす」 and 「困る」 are in every topic.)
2. Weights: TF-IDF (scikit-learn, sublinear term frequency) over those words, joined by TF-IDF over the
   one- and two-character pieces of the same words, so that 「防犯」 and 「防犯カメラ」 or 「保育」 and
   「保育園」 meet although opinions are short.
3. Topics: latent semantic analysis (a truncated SVD to 12 dimensions) then k-means, trying every number
   of topics between 2 and a bound from the number of texts (about √n, at most 12) and keeping the one
   with the best silhouette (cosine). On opinions the silhouette grows with the number of topics, so in
   practice the bound decides: a few topics too many (staff merge them) agree better with the labelled
   set than exactly ten. The topics themselves are then the consensus of twelve k-means runs (LSA of 8,
   12 and 16 dimensions, four seeds each): k-means over each text's memberships in those runs, steadier
   than any one run. Texts with no content word form no topic.
4. Labels: a topic's characteristic words are those whose mean weight in the topic most exceeds their mean
   weight in all texts; its quotes are the texts nearest its centre, preferring texts of a readable length.

Deterministic: the same texts give the same topics (fixed seeds).
"""

from __future__ import annotations

import math
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

METHOD = "sudachi-tfidf-lsa-kmeans-consensus"
LSA_DIMENSIONS = 12
CONSENSUS_DIMENSIONS = (8, 12, 16)
CONSENSUS_RUNS = 4
SILHOUETTE_SAMPLE = 2000

_SKIP_POS = {"空白", "補助記号", "記号"}
_NOUN_SKIP = {"数詞", "代名詞", "助動詞語幹"}
_CONTENT_POS = {"名詞"}
STOP_WORDS = frozenset(
    """
    区 板橋 板橋区 区民 住民 ほしい 欲しい 思う 考える 願う 良い 良いい いい する ある いる 為る 有る 居る なる 成る
    できる 出来る 来る 行く 言う 見る 分かる 貰う もらう くれる 下さい ください 頂く いただく 欲しい 感じる 聞く
    こと 事 もの 物 ため 為 よう 様 ところ 所 方 ほう とき 時 中 今 前 後 気 毎年 最近 もっと 多い 少ない 無い ない
    お願い 願い 是非 ぜひ 何 人 さん 方々 自分 みんな 皆 等 など 的 化 性 用 どこ いつ 今後 一つ 以外 場合 結局
    please the and for with are more this that our would should could have will not only
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
_tokenizers = threading.local()
_dictionary_lock = threading.Lock()
_dictionary: list[object] = []


@dataclass(frozen=True)
class Topic:
    """One group of texts: ``members`` and ``quotes`` are indices into the analysed texts."""

    words: list[str]
    members: list[int]
    quotes: list[int]


@dataclass(frozen=True)
class Result:
    topics: list[Topic]
    """Largest first."""
    unassigned: list[int] = field(default_factory=list)
    """Texts with no content word (「賛成です。」): counted, never a topic of their own."""
    method: str = METHOD
    silhouette: float | None = None


Progress = Callable[[int, str], None]
"""Called with a percentage (0–100) and a short stage name (``words``, ``topics``, ``labels``)."""


def _sudachi() -> object:
    tokenizer = getattr(_tokenizers, "tokenizer", None)
    if tokenizer is None:
        from sudachipy import Dictionary, SplitMode

        with _dictionary_lock:
            if not _dictionary:
                _dictionary.append(Dictionary(dict="core"))
        tokenizer = _dictionary[0].create(mode=SplitMode.C)  # type: ignore[attr-defined]
        _tokenizers.tokenizer = tokenizer
    return tokenizer


def content_words(text: str) -> list[str]:
    """The normalised content words of ``text``, in order (what the topics are made of)."""
    from cocreate.search.analysis import latin_key

    tokenizer = _sudachi()
    result: list[str] = []
    # Sudachi refuses very long inputs; opinions are short, and a long one says enough in its first part.
    text = unicodedata.normalize("NFKC", text)[:8000]
    for morpheme in tokenizer.tokenize(text):  # type: ignore[attr-defined]
        pos = morpheme.part_of_speech()
        if pos[0] in _SKIP_POS or pos[0] not in _CONTENT_POS:
            continue
        if pos[0] == "名詞" and (pos[1] in _NOUN_SKIP or pos[2] == "助数詞"):
            continue
        if pos[1] == "非自立可能":
            continue
        surface = morpheme.surface()
        if surface.isascii():
            if not any(char.isalpha() for char in surface):
                continue
            word = latin_key(surface)
        else:
            word = morpheme.normalized_form()
        if len(word) < 2 and not ("\u4e00" <= word <= "\u9fff"):  # single kana or letters say nothing
            continue
        if word in STOP_WORDS or word.lower() in STOP_WORDS:
            continue
        result.append(word)
    return result


def topic_bound(count: int) -> int:
    """The largest number of topics worth trying for ``count`` texts: about √n, from 2 to 12."""
    return max(2, min(12, round(math.sqrt(count))))


def analyse(texts: Sequence[str], *, topics: int | None = None, progress: Progress | None = None,
            seed: int = 0) -> Result:
    """Group ``texts`` into topics (``topics`` of them, or the number with the best silhouette)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import normalize

    def report(percent: int, stage: str) -> None:
        if progress is not None:
            progress(percent, stage)

    report(0, "words")
    documents: list[list[str]] = []
    step = max(1, len(texts) // 10)
    for number, text in enumerate(texts):
        documents.append(content_words(text))
        if number % step == 0:
            report(5 + 45 * number // max(1, len(texts)), "words")
    usable = [index for index, words in enumerate(documents) if words]
    unassigned = [index for index, words in enumerate(documents) if not words]
    if len(usable) < 2:
        topic = [Topic(words=_common_words([documents[i] for i in usable]), members=usable, quotes=usable[:3])]
        return Result(topics=topic if usable else [], unassigned=unassigned)

    report(50, "topics")
    from scipy.sparse import hstack

    # Words for the labels; the characters of those words (one and two) for the grouping too, so that
    # 「防犯」 and 「防犯カメラ」, 「保育園」 and 「保育」 meet although the texts are short.
    words_vectorizer = TfidfVectorizer(analyzer=lambda words: words, sublinear_tf=True)
    matrix = words_vectorizer.fit_transform([documents[i] for i in usable])
    vocabulary = np.array(words_vectorizer.get_feature_names_out())
    characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True,
                                 min_df=2 if len(usable) >= 20 else 1)
    try:
        features = hstack([matrix, characters.fit_transform([" ".join(documents[i]) for i in usable])]).tocsr()
    except ValueError:  # no character occurs twice
        features = matrix
    dimensions = min(LSA_DIMENSIONS, features.shape[0] - 1, features.shape[1] - 1)
    if dimensions >= 2:
        reduced = normalize(TruncatedSVD(n_components=dimensions, random_state=seed).fit_transform(features))
    else:
        reduced = normalize(features.toarray())

    if topics is not None:
        candidates = [max(1, min(topics, len(usable)))]
    else:
        candidates = list(range(2, min(topic_bound(len(usable)), len(usable) - 1) + 1)) or [1]
    best: tuple[float, np.ndarray] | None = None
    for number, k in enumerate(candidates):
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(reduced)
        distinct = len(set(labels.tolist()))
        # Above SILHOUETTE_SAMPLE texts, the silhouette of a fixed sample (its pairwise distances grow as n²).
        score = (silhouette_score(reduced, labels, metric="cosine", random_state=seed,
                                  sample_size=min(len(usable), SILHOUETTE_SAMPLE))
                 if 1 < distinct < len(usable) else -1.0)
        if best is None or score > best[0]:
            best = (float(score), labels)
        report(50 + 35 * (number + 1) // len(candidates), "topics")
    assert best is not None
    silhouette, labels = best
    if len(candidates) > 1 and len(set(labels.tolist())) > 1:
        labels = _consensus(features, len(set(labels.tolist())), seed)

    report(85, "labels")
    overall = np.asarray(matrix.mean(axis=0)).ravel()  # sparse all along: texts x words can be large
    lengths = np.array([len(texts[i]) for i in usable])
    result: list[Topic] = []
    for label in sorted(set(labels.tolist())):
        rows = np.flatnonzero(labels == label)
        mean = np.asarray(matrix[rows].mean(axis=0)).ravel()
        lift = mean - overall
        if not (lift > 0).any():  # one topic for all: its words are simply the weightiest
            lift = mean
        order = np.argsort(-lift)
        words: list[str] = []
        for column in order:
            if lift[column] <= 0 or len(words) >= 8:
                break
            word = str(vocabulary[column])
            if " " in word and all(part in words for part in word.split(" ")):
                continue
            words.append(word.replace(" ", "・"))
        centre = reduced[rows].mean(axis=0)
        closeness = reduced[rows] @ centre
        # Prefer quotes that read as a whole thought: penalise very short and very long texts a little.
        readable = np.where((lengths[rows] >= 20) & (lengths[rows] <= 160), 1.0, 0.85)
        ranked = rows[np.argsort(-(closeness * readable), kind="stable")]
        result.append(Topic(words=words, members=[usable[i] for i in rows.tolist()],
                            quotes=[usable[i] for i in ranked[:3].tolist()]))
    result.sort(key=lambda topic: (-len(topic.members), topic.members[0]))
    report(100, "done")
    return Result(topics=result, unassigned=unassigned, silhouette=silhouette if len(candidates) else None)


def _consensus(features: object, topics: int, seed: int) -> np.ndarray:
    """``topics`` groups agreed on by several k-means runs (LSA of each of CONSENSUS_DIMENSIONS, a few seeds
    each): each text becomes the list of groups the runs put it in (one-hot), and k-means groups those
    lists, so texts that the runs keep together end together. One k-means run depends on its seeds; the
    agreement of many is steadier and agrees better with the labelled set (see the README's figures).
    Memory grows with the texts, not with their pairs."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    rows, columns = features.shape  # type: ignore[attr-defined]
    memberships: list[np.ndarray] = []
    for dimensions in CONSENSUS_DIMENSIONS:
        dimensions = min(dimensions, rows - 1, columns - 1)
        for run in range(CONSENSUS_RUNS):
            run_seed = seed * 100 + run
            reduced = normalize(TruncatedSVD(n_components=dimensions, random_state=run_seed).fit_transform(features))
            labels = KMeans(n_clusters=topics, n_init=3, random_state=run_seed).fit_predict(reduced)
            memberships.append(np.eye(topics, dtype=np.float32)[labels])
    return KMeans(n_clusters=topics, n_init=10, random_state=seed).fit_predict(np.hstack(memberships))


def _common_words(documents: list[list[str]]) -> list[str]:
    counts: dict[str, int] = {}
    for words in documents:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return [word for word, _count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:8]]


def labels_of(result: Result, count: int) -> list[int]:
    """Each text's topic number (its position in ``result.topics``), -1 for texts in no topic."""
    labels = [-1] * count
    for number, topic in enumerate(result.topics):
        for index in topic.members:
            labels[index] = number
    return labels
