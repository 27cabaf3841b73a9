"""Dependency audit of the lock file: pip-audit over every locked package, failing on a known
vulnerability unless the allow-list names it with a reason.

    .venv/bin/python scripts/audit_deps.py            (scripts/test runs it)

pip-audit asks a vulnerability service (PyPI's JSON API, or OSV with ``--service osv``) about each
pinned version. Where neither is reachable (a closed network, a mirror without the per-version JSON),
every package comes back "could not be audited": the run then says loudly that nothing was checked and
passes, unless ``COCREATE_REQUIRE_DEP_AUDIT=1`` makes that a failure (set it where the network allows).

The allow-list, ``security/dependency-allowlist.txt``, has one vulnerability id per line followed by the
reason it does not apply or cannot be fixed yet; an entry without a reason fails the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "security" / "dependency-allowlist.txt"


@dataclass
class Verdict:
    ok: bool
    audited: int
    unaudited: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_allowlist(text: str) -> tuple[dict[str, str], list[str]]:
    """Vulnerability id → reason, and the lines that are not valid entries."""
    allowed: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ident, _, reason = line.partition(" ")
        if not reason.strip():
            problems.append(f"allow-list line {number}: {ident} has no reason")
            continue
        allowed[ident] = reason.strip()
    return allowed, problems


def judge(report: dict, allowed: dict[str, str], *, require_service: bool) -> Verdict:
    """Reads pip-audit's JSON report (``-f json``) against the allow-list."""
    deps = report.get("dependencies", [])
    verdict = Verdict(ok=True, audited=0)
    for dep in deps:
        label = f"{dep['name']} {dep.get('version', '?')}"
        if "skip_reason" in dep:
            verdict.unaudited.append(label)
            continue
        verdict.audited += 1
        for vuln in dep.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
            entry = f"{label}: {vuln['id']} (fixed in {fixed})"
            if any(i in allowed for i in ids):
                verdict.allowed.append(entry)
            else:
                verdict.found.append(entry)
    if verdict.found:
        verdict.ok = False
    if deps and not verdict.audited and require_service:
        verdict.ok = False
        verdict.problems.append("no package could be audited: no vulnerability service answered")
    return verdict


def run_pip_audit() -> dict:
    venv_bin = Path(sys.executable).parent
    uv = ROOT / ".cache" / "uv-venv" / "bin" / "uv"
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp) / "requirements.txt"
        subprocess.run(
            [str(uv), "export", "--frozen", "--quiet", "--format", "requirements-txt",
             "--no-hashes", "--no-emit-project", "--output-file", str(requirements)],
            cwd=ROOT, check=True, env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        out = subprocess.run(
            [str(venv_bin / "pip-audit"), "--requirement", str(requirements), "--no-deps",
             "--disable-pip", "--progress-spinner", "off", "--format", "json", "--timeout", "10",
             *(["--vulnerability-service", os.environ["COCREATE_DEP_AUDIT_SERVICE"]]
               if os.environ.get("COCREATE_DEP_AUDIT_SERVICE") else [])],
            cwd=ROOT, capture_output=True, text=True,
        )
    if not out.stdout.strip():
        # pip-audit could not even start its report (e.g. OSV's host does not resolve).
        return {"dependencies": [], "error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(out.stdout)


def main() -> int:
    require = os.environ.get("COCREATE_REQUIRE_DEP_AUDIT") == "1"
    allowed, problems = read_allowlist(ALLOWLIST.read_text(encoding="utf-8"))
    report = run_pip_audit()
    verdict = judge(report, allowed, require_service=require)
    verdict.problems[:0] = problems
    if report.get("error"):
        verdict.problems.append(f"pip-audit failed: {report['error']}")
        verdict.ok = verdict.ok and not require
    for line in verdict.found:
        print(f"[audit] VULNERABLE {line}")
    for line in verdict.allowed:
        print(f"[audit] allowed    {line}")
    for line in verdict.problems:
        print(f"[audit] {line}")
    if problems:
        verdict.ok = False
    if verdict.audited:
        print(f"[audit] {verdict.audited} locked packages audited, {len(verdict.unaudited)} not "
              f"found by the service, {len(verdict.found)} with unlisted vulnerabilities")
    else:
        print("[audit] NOT CHECKED: no vulnerability service answered for any locked package "
              "(set COCREATE_REQUIRE_DEP_AUDIT=1 to make this a failure)")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
