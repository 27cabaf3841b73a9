"""Results as Markdown: one table per scale and database, kept in ``docs/performance.md``.

The latest run of each (scale, database) is stored in ``docs/performance.json``; the Markdown between
the two ``bench:results`` markers of ``docs/performance.md`` is regenerated from it on every full run,
so the hand-written text around the markers (how to read, the causes of missed budgets) stays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.bench.runner import ROUTES, SIGNED_IN, VOTES, DatabaseRun

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"
ORDER = ("peer/sqlite", "peer/postgresql", "ward/sqlite", "ward/postgresql")


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _mark(ok: bool | None) -> str:
    return {True: "ok", False: "**MISSED**", None: "not checked"}[ok]


def table(run: DatabaseRun) -> str:
    """The results of one database as a Markdown table (plus the vote loop and the budgets)."""
    lines = ["| route | connections | req/s | p50 ms | p99 ms | errors (timeouts) | non-2xx | queries | × trivial "
             "| CPU ms/req web | CPU ms/req db |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    labels = {route.name: route.label for route in ROUTES}
    labels |= {route.name + SIGNED_IN: f"{route.label}, signed in (never cached)" for route in ROUTES}
    for name, by_connections in run.results.items():
        for connections, result in sorted(by_connections.items(), key=lambda item: int(item[0])):
            ratio = run.ratio(name, int(connections))
            lines.append(
                f"| {labels.get(name, name)} | {connections} | {_number(result['rps'])} | {_number(result['p50_ms'])} | "
                f"{_number(result['p99_ms'])} | {result['errors']} ({result['timeouts']}) | {result['non_2xx']} | "
                f"{run.queries.get(name, '–')} | {'–' if name == 'trivial' or ratio is None else f'{ratio:.0%}'} | "
                f"{_number(result.get('web_cpu_ms'), 2)} | {_number(result.get('db_cpu_ms'), 2)} |")
    if run.votes:
        votes = run.votes
        lines.append(
            f"| vote POST loop ({votes['mode']}), accepted votes/s | {votes['voters']} voters | "
            f"**{_number(votes['rate'])}** | {_number(votes['p50_ms'])} | {_number(votes['p99_ms'])} | "
            f"{votes['errors']} ({votes['timeouts']}) | {votes['non_2xx']} | {run.queries.get(VOTES, '–')} | – | "
            f"{_number(votes.get('web_cpu_ms'), 2)} | {_number(votes.get('db_cpu_ms'), 2)} |")
    text = "\n".join(lines)
    if run.votes:
        votes = run.votes
        text += (f"\n\nVotes: {votes['accepted']:,} accepted of {votes['attempted']:,} sent in {votes['seconds']:.1f} s "
                 f"({votes['refused']} answered with a refusal); vote rows of the voting challenge "
                 f"{votes['baseline_votes']:,} → {votes['final_votes']:,}, `Proposal.vote_count` sum "
                 f"{votes['final_vote_count']:,}: "
                 f"{'equal to baseline + accepted for every proposal' if votes['exact'] else 'NOT equal: ' + _mismatches(votes)}.")
    if run.checks:
        text += "\n\nBudgets:\n\n" + "\n".join(f"- {check.name}: {check.detail} — {_mark(check.ok)}" for check in run.checks)
    return text


def _mismatches(votes: dict[str, Any]) -> str:
    parts = []
    for proposal_id, (count, rows), accepted, (count_after, rows_after) in votes["mismatches"]:
        parts.append(f"proposal {proposal_id} had {rows} votes (vote_count {count}), {accepted} accepted, now "
                     f"{rows_after} (vote_count {count_after})")
    return "; ".join(parts)


def section(key: str, stored: dict[str, Any]) -> str:
    run = DatabaseRun.from_dict(stored["run"])
    machine, options = stored["machine"], stored["options"]
    generation = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.generation.items())
    main_rows = ", ".join(f"{name} {run.rows.get(name, 0):,}" for name in
                          ("user_account", "organisation", "challenge", "proposal", "comment", "vote", "follow",
                           "audit_entry", "search documents"))
    return "\n".join([
        f"### {run.scale} shape on {'SQLite' if run.database == 'sqlite' else 'PostgreSQL'}",
        "",
        f"{machine['date']}, commit `{machine['commit']}`; {machine['nproc']} × {machine['cpu']}, {machine['memory']} RAM, "
        f"Python {machine['python']}; load average {run.load_before[0]:.2f} / {run.load_before[1]:.2f} / "
        f"{run.load_before[2]:.2f} before and {run.load_after[0]:.2f} / {run.load_after[1]:.2f} / "
        f"{run.load_after[2]:.2f} after (1/5/15 min). `cocreate web --workers 2` (8 threads each), "
        f"{options['duration']:g} s per measurement with {machine['load_generator']}, "
        f"connections {', '.join(str(c) for c in options['connections'])}.",
        "",
        f"Rows written in bulk: {main_rows}. Generation: {generation}.",
        "",
        table(run),
        "",
    ])


def load_store(path: Path) -> dict[str, Any]:
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"runs": {}}


def save(store_path: Path, doc_path: Path, store: dict[str, Any]) -> None:
    store_path.write_text(json.dumps(store, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    keys = [key for key in ORDER if key in store["runs"]] + sorted(set(store["runs"]) - set(ORDER))
    generated = "\n".join(section(key, store["runs"][key]) for key in keys)
    block = f"{START}\n<!-- generated by scripts/bench from docs/performance.json; edit outside the markers -->\n\n" \
            f"{generated}\n{END}"
    if doc_path.exists():
        current = doc_path.read_text(encoding="utf-8")
        if START in current and END in current:
            before, rest = current.split(START, 1)
            after = rest.split(END, 1)[1]
            doc_path.write_text(before + block + after, encoding="utf-8")
            return
    doc_path.write_text(f"# Performance\n\n## Results\n\n{block}\n", encoding="utf-8")

