"""The read API fuzzed from its own OpenAPI schema, against the live server with the demo content.

Schemathesis generates requests from ``/schema/openapi.json`` in every phase (examples, coverage,
fuzzing, and stateful sequences that follow the links it infers between operations) and runs every
check: no server error, no status code the schema does not document, responses that match their
schemas, schema-valid requests accepted and invalid ones refused. One run has a fixed seed (the same
requests every time); a second has a random seed, printed when it fails so that it can be replayed
with ``st run --seed``. Together they send at least 3,000 requests.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from e2e.conftest import LiveServer

CONFIG = Path(__file__).resolve().parent.parent / "tests" / "api" / "schemathesis.toml"
FIXED_SEED = 20261207
EXAMPLES_PER_OPERATION = 150
AT_LEAST = 3000



def _fuzz(live_server: LiveServer, seed: int, report: Path) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "--config-file", str(CONFIG), "--no-color", "run", f"{live_server.url}/schema/openapi.json",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful", "--seed", str(seed),
        "--max-examples", str(EXAMPLES_PER_OPERATION), "--workers", "2", "--request-timeout", "30",
        "--report", "json", "--report-json-path", str(report),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    return done.returncode, json.loads(report.read_text()), done.stdout[-6000:] + done.stderr[-2000:]


def test_the_read_api_answers_every_generated_request_as_its_schema_says(
        live_server: LiveServer, tmp_path: Path) -> None:
    generated = 0
    for seed in (FIXED_SEED, random.SystemRandom().randrange(1, 2**31)):
        code, report, output = _fuzz(live_server, seed, tmp_path / f"report-{seed}.json")
        assert code == 0, f"schemathesis found failures with seed {seed} (replay: st run --seed {seed}):\n{output}"
        operations = report["operations"]
        assert operations["tested"] == operations["total"] >= 11 and operations["errored"] == 0, output
        assert report["test_cases"]["with_failures"] == 0 and report["test_cases"]["errored"] == 0, output
        assert all(phase["status"] in {"success", "skip"} for phase in report["phases"].values()), output
        assert report["phases"]["fuzzing"]["status"] == "success", output
        generated += report["test_cases"]["generated"]
    assert generated >= AT_LEAST, f"only {generated} requests were generated"


HOSTILE_VALUES = ("99999999999999999999999999", "-1", "0", "x", "", "%00", "2026-13-45", "９", "[]")
QUERY_NAMES = ("page", "per_page", "department", "category", "area", "phase", "sort", "status", "type", "q",
               "from", "to", "date", "month", "field_id", "seed", "next", "lang", "kind")


def _page_paths(tmp_path: Path) -> list[str]:
    """Every GET route of the app (pages, feeds, API), an id of 1 in each path parameter."""
    from litestar.handlers import HTTPRouteHandler

    from cocreate.app import create_app
    from cocreate.settings import Settings

    app = create_app(Settings(env="test", data_dir=tmp_path, secret_key="x" * 40))
    paths = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and "GET" in handler.http_methods:
                paths.add(re.sub(r"\{[^}]+\}", "1", route.path))
    return sorted(paths)


def test_every_page_answers_hostile_query_values_without_a_server_error(
        live_server: LiveServer, tmp_path: Path) -> None:
    """The pages are not in the API schema, so schemathesis does not reach them: every GET route, signed
    out, with each usual query parameter set to a value too big for any column, negative, empty, not a
    number, a NUL byte, an impossible date or a full-width digit, answers below 500."""
    paths = _page_paths(tmp_path)
    assert len(paths) > 60 and "/challenges" in paths and "/api/v1/challenges/1" in paths
    failures, sent = [], 0
    for path in paths:
        for name in QUERY_NAMES:
            for value in HOSTILE_VALUES:
                url = f"{live_server.url}{path}?{name}={urllib.parse.quote(value, safe='%')}"
                sent += 1
                try:
                    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own server)
                        status = response.status
                except urllib.error.HTTPError as refused:
                    status = refused.code
                if status >= 500:
                    failures.append((url, status))
    assert sent > 10_000 and not failures, failures[:20]
