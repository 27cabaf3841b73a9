"""One benchmark run: build a site with a dataset, serve it as production does, measure, check the budgets.

For each database: a fresh data folder is migrated and given the demo content (``cocreate db upgrade``,
``cocreate demo``), the plan of the chosen scale is written in bulk and the search index rebuilt; the
queries each page runs are counted in-process (Litestar's TestClient on the same data); then
``cocreate web --workers 2`` serves it and every route is loaded at each number of connections (the
trivial route first, so each page's ratio compares numbers the same processes gave minutes apart);
finally 64 signed-in voters vote and the vote counts in the database are checked against the answers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from litestar.testing import TestClient

from cocreate.app import create_app
from cocreate.db import Database
from cocreate.search import indexer
from cocreate.settings import Settings
from tests.bench import bulk, cpu, load, profile
from tests.bench.plan import PASSWORD, SHAPES, Plan
from tests.helpers import count_queries
from tests.live import Browser, LiveSite, prepare_site
from tests.servers import ROOT, PostgresServer, start_postgres

SEARCH_QUERY = "防災"


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    label: str


ROUTES = (
    Route("trivial", "/healthz", "trivial route `/healthz`"),
    Route("home", "/", "home `/`"),
    Route("challenges", "/challenges", "challenge list `/challenges`"),
    Route("proposals", "/challenges/{challenge}/proposals", "proposal list of the voting challenge"),
    Route("proposal", "/proposals/{proposal}", "proposal page, first 20 of 1,000 comments"),
    Route("api", "/api/v1/challenges/{challenge}/proposals", "proposals API list"),
    Route("search", f"/search?q={quote(SEARCH_QUERY)}", f"search 「{SEARCH_QUERY}」"),
)
ROUTE_NAMES = [route.name for route in ROUTES]
VOTES = "votes"
SIGNED_IN = "@signed-in"
"""Suffix of the same page measured as a signed-in resident: never answered from the page cache, so
it shows what rendering the page costs (visitors who are not signed in get the few-second cache)."""
SIGNED_IN_PAGES = ("home", "challenges", "proposals", "proposal", "search")

RATIO_PAGES = ("challenges", "proposals", "proposal")
RATIO_MIN = 0.40
WARD_KEEP = 0.75
QUERIES_MAX = 10
VOTES_MIN = 300.0
BUDGET_CONNECTIONS = 32
WEB_PROCESSES = 2
WRITE_RATE_LIMIT = "1000000"
RATE_LIMIT_SCALE = "10000"  # every simulated person signs in from 127.0.0.1


@dataclass
class Options:
    databases: Sequence[str] = ("sqlite", "postgresql")
    scale: str = "peer"
    connections: Sequence[int] = (1, 32, 256)
    duration: float = 10.0
    only: Sequence[str] = ()
    keep: bool = False
    budgets: bool = True
    tool: str = "auto"
    vote_mode: str = "htmx"
    voters: int = 64
    data_dir: Path | None = None
    profile: Path | None = None
    """Record the web processes with py-spy at the budget's connections (and during the vote loop) here."""
    settings: dict[str, str] = field(default_factory=dict)
    """``COCREATE_*`` settings of the served processes beyond the benchmark's own."""

    def wants(self, name: str) -> bool:
        """The trivial route always runs: every ratio needs it."""
        return name == "trivial" or not self.only or name in self.only


@dataclass
class Check:
    name: str
    ok: bool | None
    """None: could not be checked in this run."""
    detail: str


@dataclass
class DatabaseRun:
    database: str
    scale: str
    started: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    generation: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """route -> connections (as a string) -> Result.as_dict()."""
    votes: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    data_dir: str = ""

    def rps(self, route: str, connections: int) -> float | None:
        value = self.results.get(route, {}).get(str(connections))
        return float(value["rps"]) if value else None

    def cpu_ms(self, route: str, connections: int) -> float | None:
        """Server CPU per request: the web processes' plus PostgreSQL's."""
        value = self.results.get(route, {}).get(str(connections))
        if not value or value.get("web_cpu_ms") is None:
            return None
        return float(value["web_cpu_ms"]) + float(value.get("db_cpu_ms") or 0.0)

    def ratio(self, route: str, connections: int) -> float | None:
        page, trivial = self.rps(route, connections), self.rps("trivial", connections)
        return page / trivial if page is not None and trivial else None

    def as_dict(self) -> dict[str, Any]:
        return {"database": self.database, "scale": self.scale, "started": self.started,
                "load_before": list(self.load_before), "load_after": list(self.load_after),
                "generation": self.generation, "rows": self.rows, "queries": self.queries, "results": self.results,
                "votes": self.votes, "checks": [vars(check) for check in self.checks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatabaseRun:
        run = cls(database=data["database"], scale=data["scale"], started=data["started"],
                  load_before=tuple(data["load_before"]), load_after=tuple(data["load_after"]),  # type: ignore[arg-type]
                  generation=data["generation"], rows=data["rows"], queries=data["queries"],
                  results=data["results"], votes=data["votes"])
        run.checks = [Check(**check) for check in data.get("checks", [])]
        return run


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = os.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


def say(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message} (load {loadavg()[0]:.2f})", flush=True)


# --- one database ---------------------------------------------------------------------------------


def run_database(database: str, options: Options, base: Path, peer: DatabaseRun | None = None) -> DatabaseRun:
    run = DatabaseRun(database=database, scale=options.scale,
                      started=datetime.now(UTC).isoformat(timespec="seconds"), load_before=loadavg())
    data_dir = base / f"{options.scale}-{database}"
    run.data_dir = str(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    postgres: PostgresServer | None = None
    site: LiveSite | None = None
    try:
        overrides = {"COCREATE_WRITE_RATE_LIMIT": WRITE_RATE_LIMIT, "COCREATE_RATE_LIMIT_SCALE": RATE_LIMIT_SCALE,
                     **options.settings}
        if database == "postgresql":
            postgres = start_postgres()
            overrides["COCREATE_DATABASE_URL"] = postgres.create_database("cocreate_bench")
        started = time.perf_counter()
        say(f"{database}: migrating and loading the demo content into {data_dir}")
        site = prepare_site(data_dir, **overrides)
        run.generation["migrate + demo"] = time.perf_counter() - started
        settings = _settings(site)
        ids = _generate(run, settings, options)
        _count_queries(run, settings, ids, options)
        say(f"{database}: starting cocreate web --workers {WEB_PROCESSES}")
        site.start_web(WEB_PROCESSES)
        meter = cpu.Meter({"web": site.processes["web"].pid,
                           "db": cpu.postmaster_pid(postgres.data_dir) if postgres is not None else None})
        _measure_pages(run, site, ids, options, meter)
        if options.wants(VOTES):
            _measure_votes(run, site, settings, ids, options, meter)
        if options.budgets:
            run.checks = check_budgets(run, peer)
    except Exception as error:  # report it with what was measured, and go on with the next database
        traceback.print_exc()
        say(f"{database}: the run stopped: {type(error).__name__}: {error}")
        run.checks.append(Check("run completed", False, f"stopped by {type(error).__name__}: {error}"[:500]))
    finally:
        if site is not None:
            site.stop()
        if postgres is not None:
            _stop_postgres(postgres, keep=options.keep)
        run.load_after = loadavg()
    return run


def _settings(site: LiveSite) -> Settings:
    env = site.env
    return Settings(env="test", data_dir=site.data_dir, database_url=env.get("COCREATE_DATABASE_URL", ""),
                    base_url=env["COCREATE_BASE_URL"], write_rate_limit=int(WRITE_RATE_LIMIT))


def _stop_postgres(postgres: PostgresServer, *, keep: bool) -> None:
    if not keep:
        postgres.stop()
        return
    subprocess.run([*postgres.as_postgres, str(postgres.bin_dir / "pg_ctl"), "-D", str(postgres.data_dir), "-m", "fast",
                    "stop"], capture_output=True, check=False)
    say(f"PostgreSQL data kept in {postgres.data_dir} (start it with pg_ctl -D … start, port {postgres.port})")


def _generate(run: DatabaseRun, settings: Settings, options: Options) -> bulk.Ids:
    database = Database(settings)
    try:
        plan = Plan(SHAPES[options.scale])
        say(f"{run.database}: generating the {options.scale} dataset in bulk")
        started = time.perf_counter()
        report = bulk.write(database, settings, plan, progress=lambda message: say(f"  {message}"))
        run.generation["bulk insert"] = time.perf_counter() - started
        run.rows = report.rows
        if database.dialect == "postgresql":
            started = time.perf_counter()
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")  # what autovacuum would do shortly after such a load
            run.generation["analyze"] = time.perf_counter() - started
        say(f"{run.database}: rebuilding the search index")
        started = time.perf_counter()
        documents = indexer.rebuild(database, settings)
        run.generation["search index"] = time.perf_counter() - started
        run.rows["search documents"] = documents
        run.generation["total"] = sum(run.generation.values())
        say(f"{run.database}: dataset ready in {run.generation['total']:.0f} s ({documents} documents indexed)")
        return report.ids
    finally:
        database.dispose()


def _paths(ids: bulk.Ids) -> dict[str, str]:
    values = {"challenge": ids.challenge(0), "proposal": ids.proposal(0)}
    return {route.name: route.path.format(**values) for route in ROUTES}


def _resident_email(settings: Settings) -> str:
    database = Database(settings)
    try:
        with database.engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT email FROM user_account WHERE email LIKE 'bench-resident%' ORDER BY id DESC LIMIT 1")).scalar_one()
    finally:
        database.dispose()


def _count_queries(run: DatabaseRun, settings: Settings, ids: bulk.Ids, options: Options) -> None:
    """Queries per request, in-process on the same data, with the page cache off (what a visitor who
    misses the cache costs, and what every signed-in request costs): the second of two identical
    requests, for a visitor and for a signed-in resident."""
    paths = _paths(ids)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the TestClient logs every request otherwise
    app = create_app(settings.model_copy(update={"public_cache_seconds": 0}))
    engine = app.state.database.engine

    def count(client: TestClient[Any], name: str, path: str) -> None:
        client.get(path, headers={"Accept-Language": "ja"})
        with count_queries(engine) as log:
            response = client.get(path, headers={"Accept-Language": "ja"})
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code} in-process")
        run.queries[name] = log.count

    with TestClient(app, base_url="http://127.0.0.1") as client:
        for name, path in paths.items():
            if options.wants(name):
                count(client, name, path)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.get("/")
        answer = client.post("/account/sign-in", data={"email": _resident_email(settings), "password": PASSWORD,
                                                       "_csrf_token": client.cookies["cocreate_csrf"]})
        if answer.status_code != 200:  # followed the 303 to the page
            raise RuntimeError(f"the resident could not sign in: {answer.status_code}")
        for name in SIGNED_IN_PAGES:
            if options.wants(name):
                count(client, name + SIGNED_IN, paths[name])
    with TestClient(app, base_url="http://127.0.0.1") as client:
        if options.wants(VOTES):
            run.queries[VOTES] = _count_vote_queries(client, engine, settings, ids, options)
    say(f"{run.database}: queries per request {run.queries}")


def _count_vote_queries(client: TestClient[Any], engine: sa.Engine, settings: Settings, ids: bulk.Ids,
                        options: Options) -> int:
    """One vote by a resident who has not voted on the proposal yet (before the baseline is read)."""
    database = Database(settings)
    try:
        with database.engine.connect() as conn:
            email, user_id = conn.execute(sa.text(
                "SELECT email, id FROM user_account WHERE email LIKE 'bench-resident%' ORDER BY id LIMIT 1")).one()
            proposal_id = conn.execute(sa.text(
                "SELECT min(id) FROM proposal WHERE challenge_id = :c AND id NOT IN "
                "(SELECT proposal_id FROM vote WHERE user_id = :u)"), {"c": ids.challenge(0), "u": user_id}).scalar_one()
    finally:
        database.dispose()
    client.get("/")
    csrf = client.cookies["cocreate_csrf"]
    answer = client.post("/account/sign-in", data={"email": email, "password": PASSWORD, "_csrf_token": csrf},
                         follow_redirects=False)
    if answer.status_code != 303:
        raise RuntimeError(f"the probe resident could not sign in: {answer.status_code}")
    headers = {"HX-Request": "true"} if options.vote_mode == "htmx" else {}
    with count_queries(engine) as log:
        answer = client.post(f"/proposals/{proposal_id}/vote", data={"_csrf_token": client.cookies["cocreate_csrf"]},
                             headers=headers, follow_redirects=False)
    if answer.status_code not in (200, 303):
        raise RuntimeError(f"the probe vote answered {answer.status_code}")
    return log.count


def _measure_pages(run: DatabaseRun, site: LiveSite, ids: bulk.Ids, options: Options, meter: cpu.Meter) -> None:
    paths = _paths(ids)
    routes = [route for route in ROUTES if options.wants(route.name)]
    for route in routes:
        answer = load.request_status(site.url, paths[route.name])
        if answer != 200:
            raise RuntimeError(f"GET {paths[route.name]} answered {answer} from the server")
    resident = Browser(site.url)
    resident.sign_in(_resident_email(_settings(site)), PASSWORD)
    cookie = {"Cookie": "; ".join(f"{name}={value}" for name, value in resident.cookies.items())}
    measured = [(route.name, paths[route.name], None) for route in routes]
    measured += [(name + SIGNED_IN, paths[name], cookie) for name in SIGNED_IN_PAGES if options.wants(name)]
    say(f"{run.database}: warming up ({len(measured)} routes)")
    for _name, path, headers in measured:
        load.measure(site.url + path, 8, 1, tool=options.tool, headers=headers)
    for connections in options.connections:
        for name, path, headers in measured:
            route = Route(name, path, name)
            recorder = _recorder(run, site, options, f"{route.name}-c{connections}", connections)
            meter.start()
            result = load.measure(site.url + path, connections, options.duration, tool=options.tool, headers=headers)
            result.server_cpu_s = meter.stop()
            _profiled(run, options, recorder, f"{route.name}-c{connections}")
            run.results.setdefault(route.name, {})[str(connections)] = result.as_dict()
            costs = "  ".join(f"{name} CPU {1000 * seconds / max(1, result.requests):.1f} ms/req"
                              for name, seconds in result.server_cpu_s.items())
            say(f"{run.database} {route.name:10} c={connections:<3} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms"
                f"  p99 {result.p99_ms:7.1f} ms  errors {result.errors}  non-2xx {result.non_2xx}  {costs}")


def _recorder(run: DatabaseRun, site: LiveSite, options: Options, name: str, connections: int, *,
              idle: bool = False) -> profile.Recorder | None:
    binary = profile.py_spy()
    if options.profile is None or binary is None:
        return None
    if connections != BUDGET_CONNECTIONS and BUDGET_CONNECTIONS in options.connections:
        return None
    folder = options.profile / f"{run.scale}-{run.database}"
    return profile.Recorder(binary, site.processes["web"].pid, folder, name, options.duration, idle=idle)


def _profiled(run: DatabaseRun, options: Options, recorder: profile.Recorder | None, name: str) -> None:
    if recorder is None or options.profile is None:
        return
    text = profile.summary(recorder.wait())
    path = options.profile / f"{run.scale}-{run.database}" / f"{name}.summary.txt"
    path.write_text(text + "\n", encoding="utf-8")
    say(f"{run.database} {name}: py-spy summary in {path}")


def _target_counts(settings: Settings, challenge_id: int) -> dict[int, tuple[int, int]]:
    """Per proposal of the target challenge: (Proposal.vote_count, count of vote rows)."""
    database = Database(settings)
    try:
        with database.engine.connect() as conn:
            counters = dict(conn.execute(sa.text("SELECT id, vote_count FROM proposal WHERE challenge_id = :c"),
                                         {"c": challenge_id}).all())
            rows = dict(conn.execute(sa.text("SELECT proposal_id, count(*) FROM vote WHERE challenge_id = :c "
                                             "GROUP BY proposal_id"), {"c": challenge_id}).all())
    finally:
        database.dispose()
    return {proposal_id: (count, rows.get(proposal_id, 0)) for proposal_id, count in counters.items()}


def _measure_votes(run: DatabaseRun, site: LiveSite, settings: Settings, ids: bulk.Ids, options: Options,
                   meter: cpu.Meter) -> None:
    challenge_id = ids.challenge(0)
    baseline = _target_counts(settings, challenge_id)
    proposals = sorted(baseline)
    emails = [f"bench-voter{number:05d}@example.jp" for number in range(1, options.voters + 1)]
    say(f"{run.database}: signing in {len(emails)} voters")
    voters = load.sign_in_voters(site.url, emails, PASSWORD, proposals)
    say(f"{run.database}: {len(voters)} voters voting for {options.duration:g} s ({options.vote_mode})")
    recorder = _recorder(run, site, options, VOTES, BUDGET_CONNECTIONS, idle=True)
    meter.start()
    result = load.vote_loop(site.url, voters, options.duration, htmx=options.vote_mode == "htmx")
    result.server_cpu_s = meter.stop()
    _profiled(run, options, recorder, VOTES)
    after = _target_counts(settings, challenge_id)
    wrong = [(proposal_id, baseline[proposal_id], result.accepted[proposal_id], after[proposal_id])
             for proposal_id in proposals
             if after[proposal_id] != (baseline[proposal_id][0] + result.accepted[proposal_id],
                                       baseline[proposal_id][1] + result.accepted[proposal_id])]
    run.votes = result.as_dict() | {
        "mode": options.vote_mode, "exact": not wrong, "mismatches": wrong[:10],
        "baseline_votes": sum(rows for _count, rows in baseline.values()),
        "final_votes": sum(rows for _count, rows in after.values()),
        "final_vote_count": sum(count for count, _rows in after.values())}
    say(f"{run.database} votes: {result.accepted_total} accepted in {result.seconds:.1f} s = {result.rate:.0f}/s, "
        f"non-2xx {result.non_2xx}, errors {result.errors}, refused {result.refused}, "
        f"counts {'exact' if not wrong else f'WRONG on {len(wrong)} proposals'}")


# --- budgets --------------------------------------------------------------------------------------


def check_budgets(run: DatabaseRun, peer: DatabaseRun | None) -> list[Check]:
    checks: list[Check] = []
    c = BUDGET_CONNECTIONS
    for name, count in run.queries.items():
        if name in ROUTE_NAMES:
            checks.append(Check(f"queries {name}", count <= QUERIES_MAX, f"{count} queries (≤ {QUERIES_MAX})"))
    for name, count in run.queries.items():
        if name.endswith(SIGNED_IN):
            checks.append(Check(f"queries {name}", count <= QUERIES_MAX, f"{count} queries (≤ {QUERIES_MAX})"))
    if run.scale == "peer":
        for name, by_connections in run.results.items():
            result = by_connections.get(str(c))
            if result is not None:
                ok = result["errors"] == 0 and result["non_2xx"] == 0
                checks.append(Check(f"no errors {name} c={c}", ok,
                                    f"{result['errors']} errors, {result['non_2xx']} non-2xx"))
        for name in RATIO_PAGES:
            ratio = run.ratio(name, c)
            if ratio is not None:
                checks.append(Check(f"ratio {name} c={c}", ratio >= RATIO_MIN,
                                    f"{ratio:.0%} of the trivial route (≥ {RATIO_MIN:.0%})"))
    else:
        for name in [*RATIO_PAGES, *(page + SIGNED_IN for page in RATIO_PAGES)]:
            ratio = run.ratio(name, c)
            if ratio is None:
                continue
            base = peer.ratio(name, c) if peer is not None else None
            if peer is None or base is None:
                checks.append(Check(f"ward vs peer {name} c={c}", None,
                                    "no peer-shape result on this database to compare with: run --scale peer first"))
                continue
            cost, peer_cost = run.cpu_ms(name, c), peer.cpu_ms(name, c)
            ratios = f"{ratio:.0%} of the trivial route vs {base:.0%} on the peer shape (kept {ratio / base:.0%})"
            if cost and peer_cost:
                # Throughput of a CPU-bound server is the inverse of the CPU a request costs; unlike req/s
                # compared across two runs, that barely depends on what else the shared machine is doing.
                kept = peer_cost / cost
                checks.append(Check(f"ward vs peer {name} c={c}", kept >= WARD_KEEP,
                                    f"server CPU {cost:.1f} ms/request vs {peer_cost:.1f} on the peer shape: "
                                    f"throughput kept {kept:.0%} (≥ {WARD_KEEP:.0%}); req/s {ratios}"))
            else:
                checks.append(Check(f"ward vs peer {name} c={c}", ratio >= WARD_KEEP * base,
                                    f"{ratios}, ≥ {WARD_KEEP:.0%}"))
    if run.votes:
        votes = run.votes
        checks.append(Check("votes rate", votes["rate"] >= VOTES_MIN,
                            f"{votes['rate']:.0f} accepted votes/s with {votes['voters']} voters (≥ {VOTES_MIN:.0f})"))
        checks.append(Check("votes exact", bool(votes["exact"]),
                            f"vote counts {'equal' if votes['exact'] else 'differ from'} baseline + "
                            f"{votes['accepted']} accepted"))
        if run.scale == "peer":
            checks.append(Check("no errors votes", votes["errors"] == 0 and votes["non_2xx"] == 0,
                                f"{votes['errors']} errors, {votes['non_2xx']} non-2xx "
                                f"(statuses {votes.get('statuses', {})})"))
    return checks


# --- the machine ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    commit = _git("rev-parse", "--short", "HEAD")
    changed = [line for line in _git("status", "--porcelain", "--untracked-files=no").splitlines()
               if not line.endswith(("docs/performance.md", "docs/performance.json"))]  # our own output
    if changed:
        commit += " (with uncommitted changes)"
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": memory, "python": platform.python_version(),
            "commit": commit, "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_generator": "wrk" if load.wrk_available() else "python"}


def _git(*args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return completed.stdout.strip()


def run(options: Options, previous: Callable[[str, str], DatabaseRun | None]) -> list[DatabaseRun]:
    """Every database of ``options``; ``previous(scale, database)`` gives the last stored run (for ward)."""
    base = options.data_dir or Path(tempfile.mkdtemp(prefix="cocreate-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    runs = []
    try:
        for database in options.databases:
            runs.append(run_database(database, options, base, previous("peer", database)))
    finally:
        if options.keep:
            say(f"data kept in {base}")
        elif options.data_dir is None:
            shutil.rmtree(base, ignore_errors=True)
    return runs
