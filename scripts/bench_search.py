#!/usr/bin/env python
"""Benchmark the search engine on generated documents (not a test: run it by hand, copy the table).

    .venv/bin/python scripts/bench_search.py [--docs 100000] [--queries 300] [--dir PATH]

Builds an index of ``--docs`` generated Japanese and English documents (the test corpus's generator,
tests/cocreate/search/corpus.py) with the production analyzer and schema, then runs ``--queries``
varied searches (single words and phrases in both languages, several words, filters, later pages,
similar proposals, misses) through ``cocreate.search.query`` exactly as the web app does, and prints
a Markdown table: build time, index size, and query latency median and 95th percentile.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cocreate.search import analysis, index, indexer, query  # noqa: E402
from cocreate.settings import Settings  # noqa: E402
from tests.cocreate.search import corpus  # noqa: E402

WORDS = ["公園", "図書館", "防災", "子育て", "高齢者", "商店街", "自転車", "保育園", "避難所", "給食",
         "park", "library", "disaster", "elderly", "bicycle", "waste", "residents", "volunteers"]
PHRASES = ["自動運転", "引越し", "引っ越し手続き", "住民の声", "実証の計画", "ボランティアの募集", "自動ドア",
           "運転手の確保", "利用者アンケート", "community van", "automatic door", "new ideas"]
MULTI = ["公園 防災", "高島平 子育て", "park residents", "bicycle trial schedule", "板橋 図書館 アンケート",
         "running buses", "志村 避難所"]
MISSES = ["存在しない言葉", "zyxwvut", "量子コンピュータ"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[position]


def queries(count: int, seed: int = 11) -> list[tuple[str, Callable[[Settings], object]]]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
    kinds: list[Callable[[], tuple[str, Callable[[Settings], object]]]] = [
        lambda: (word := rng.choice(WORDS), lambda s: query.search(s, word)),
        lambda: (phrase := rng.choice(PHRASES), lambda s: query.search(s, phrase)),
        lambda: (multi := rng.choice(MULTI), lambda s: query.search(s, multi)),
        lambda: (f"{(w := rng.choice(WORDS))} type+area",
                 lambda s: query.search(s, w, types=[rng.choice(corpus.TYPES)], area=rng.choice(corpus.AREAS))),
        lambda: (f"{(w := rng.choice(WORDS))} page 3", lambda s: query.search(s, w, page=3)),
        lambda: (miss := rng.choice(MISSES), lambda s: query.search(s, miss)),
        lambda: ("similar", lambda s: query.similar(s, challenge_id=rng.randint(1, 40),
                                                    text="高島平で自動運転バスと自転車の実証をしたい")),
    ]
    return [kinds[number % len(kinds)]() for number in range(count)]


def folder_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None, help="data folder (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="query the index already in --dir, build nothing")
    args = parser.parse_args()

    base = args.dir or Path(tempfile.mkdtemp(prefix="cocreate-bench-"))
    settings = Settings(env="test", data_dir=base, search_index_dir=base / "index", secret_key="bench" * 8)

    documents = list(corpus.generated(args.docs, start_id=1))
    characters = sum(len(doc.title) + len(doc.body) + len(doc.extra) for doc in documents)

    analysis.terms("辞書を読み込む")  # load the dictionary before timing (a worker does it once)
    wall, cpu = time.perf_counter(), time.process_time()
    term_count = sum(len(analysis.terms(doc.body)) for doc in documents[:5000])
    analyse_rate = 5000 / (time.process_time() - cpu)

    build = "not measured (--reuse)"
    if not args.reuse:
        wall, cpu = time.perf_counter(), time.process_time()
        indexer.build(settings, documents)
        build_wall, build_cpu = time.perf_counter() - wall, time.process_time() - cpu
        build = f"{build_wall:.0f} s wall, {build_cpu:.0f} s CPU ({args.docs / build_cpu:,.0f} documents per CPU second)"
    live = index.live_dir(settings)
    assert live is not None
    size = folder_size(live)

    workload = queries(args.queries)
    for _label, run in workload[:20]:  # warm the operating system's file cache and the searcher
        run(settings)
    timings: dict[str, list[tuple[float, float]]] = {"all": []}
    for label, run in workload:
        wall, cpu = time.perf_counter(), time.process_time()
        run(settings)
        elapsed = ((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)
        timings["all"].append(elapsed)
        kind = ("similar proposals" if label == "similar" else "filters" if "type+area" in label else
                "page 3" if "page 3" in label else "several words" if " " in label else "one word or phrase")
        timings.setdefault(kind, []).append(elapsed)

    print(f"{args.docs:,} documents ({characters / args.docs:.0f} characters each on average, two thirds "
          f"Japanese), {len(workload)} queries; Python {sys.version.split()[0]}, one process. CPU time is what "
          "the process used; wall time includes waiting for the CPU on a shared machine.\n")
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| analyzer (Sudachi + keys), bodies | {analyse_rate:,.0f} documents per CPU second "
          f"({term_count / 5000:.0f} terms each) |")
    print(f"| index build (one writer, optimised) | {build} |")
    print(f"| index size on disk | {size / 1_000_000:.0f} MB |")
    for kind, values in timings.items():
        walls = [w for w, _c in values]
        cpus = [c for _w, c in values]
        print(f"| query, {kind} ({len(values)}) | CPU median {statistics.median(cpus):.1f} ms, "
              f"p95 {percentile(cpus, 0.95):.1f} ms; wall median {statistics.median(walls):.1f} ms, "
              f"p95 {percentile(walls, 0.95):.1f} ms |")


if __name__ == "__main__":
    main()
