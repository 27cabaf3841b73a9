"""``scripts/bench``: run the load benchmark, print the tables, store them, exit 1 when a budget is missed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cocreate import components
from tests.bench import profile, report, runner
from tests.bench.plan import SHAPES
from tests.servers import ROOT

STORE = ROOT / "docs" / "performance.json"
DOC = ROOT / "docs" / "performance.md"


def _names(raw: str) -> list[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    known = [*runner.ROUTE_NAMES, runner.VOTES]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown page {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def _connections(raw: str) -> list[int]:
    try:
        values = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("connections are whole numbers, e.g. 1,32,256") from None
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError("connections are whole numbers from 1, e.g. 1,32,256")
    return values


def _setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    name = name.upper()
    return (name if name.startswith("COCREATE_") else f"COCREATE_{name}"), value


def parse(argv: list[str]) -> tuple[runner.Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=(
        "Generate a dataset, serve it with `cocreate web --workers 2`, load every page, run the vote loop, "
        "check the budgets and write docs/performance.md."))
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scale", choices=sorted(SHAPES), default="peer")
    parser.add_argument("--connections", type=_connections, default=[1, 32, 256],
                        help="comma-separated numbers of concurrent connections (default 1,32,256)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--only", type=_names, default=[],
                        help=f"only these pages (comma-separated: {', '.join([*runner.ROUTE_NAMES, runner.VOTES])}); "
                        "the trivial route always runs. Results are printed, not stored")
    parser.add_argument("--keep", action="store_true", help="leave the data folder(s) for inspection")
    parser.add_argument("--no-budgets", action="store_true", help="measure and report, check nothing")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator for the pages (default: wrk when installed)")
    parser.add_argument("--vote-mode", choices=("htmx", "form"), default="htmx",
                        help="vote as htmx does (200 with the vote box, the default) or as a plain form (303)")
    parser.add_argument("--voters", type=int, default=64, help="concurrent voters (at most 64 accounts exist)")
    parser.add_argument("--data-dir", type=Path, default=None, help="where the data folders go (default: a temporary one)")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="record the web processes with py-spy (PY_SPY or PATH) during the measurements at 32 "
                        "connections and the vote loop, into DIR, with a summary per route")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", type=_setting,
                        help="a COCREATE_* setting for the served processes (e.g. --set WEB_THREADS=4), to compare "
                        "configurations; results are printed, not stored")
    parser.add_argument("--report-only", action="store_true",
                        help="only regenerate docs/performance.md from docs/performance.json")
    args = parser.parse_args(argv)
    if args.profile is not None and profile.py_spy() is None:
        parser.error("--profile needs py-spy: python3 -m venv /tmp/benchtools && /tmp/benchtools/bin/pip install "
                     "py-spy, then PY_SPY=/tmp/benchtools/bin/py-spy")
    if not 1 <= args.voters <= 64:
        parser.error("--voters is between 1 and 64")
    options = runner.Options(
        databases=("sqlite", "postgresql") if args.db == "both" else (args.db,), scale=args.scale,
        connections=args.connections, duration=args.duration, only=args.only, keep=args.keep,
        budgets=not args.no_budgets, tool=args.tool, vote_mode=args.vote_mode, voters=args.voters,
        data_dir=args.data_dir, profile=args.profile, settings=dict(args.set))
    return options, args


def main(argv: list[str]) -> int:
    components.load()  # the benchmark's composition root
    options, args = parse(argv)
    store = report.load_store(STORE)
    if args.report_only:
        report.save(STORE, DOC, store)
        return 0

    def previous(scale: str, database: str) -> runner.DatabaseRun | None:
        stored = store["runs"].get(f"{scale}/{database}")
        return runner.DatabaseRun.from_dict(stored["run"]) if stored else None

    machine = runner.machine()
    runs = runner.run(options, previous)
    print()
    for run in runs:
        print(f"## {run.scale} shape on {run.database}\n")
        print(report.table(run))
        print()
    if not options.only and not options.settings:
        for run in runs:
            store["runs"][f"{run.scale}/{run.database}"] = {
                "machine": machine | {"date": run.started},
                "options": {"connections": list(options.connections), "duration": options.duration,
                            "vote_mode": options.vote_mode, "tool": options.tool},
                "run": run.as_dict()}
        report.save(STORE, DOC, store)
        print(f"written to {DOC.relative_to(ROOT)} (and {STORE.relative_to(ROOT)})")
    missed = [f"{run.scale}/{run.database}: {check.name} ({check.detail})"
              for run in runs for check in run.checks if check.ok is False]
    if missed:
        print("\nbudgets missed:\n  " + "\n  ".join(missed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
