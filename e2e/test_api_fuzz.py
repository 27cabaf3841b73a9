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
import subprocess
import sys
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
