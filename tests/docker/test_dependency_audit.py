"""The dependency audit of the lock file (scripts/audit_deps.py, run by scripts/test): how it reads
pip-audit's JSON report against the allow-list. The reports below have pip-audit's own shape
(``pip-audit --format json``: a dependency either has ``vulns`` or a ``skip_reason``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
audit_deps = importlib.util.module_from_spec(_spec)
sys.modules["audit_deps"] = audit_deps  # dataclasses look their module up there
_spec.loader.exec_module(audit_deps)

VULN = {
    "id": "PYSEC-2024-1",
    "fix_versions": ["3.1.5"],
    "aliases": ["CVE-2024-0001", "GHSA-aaaa-bbbb-cccc"],
    "description": "template sandbox escape",
}


def report(*deps):
    return {"dependencies": list(deps), "fixes": []}


def test_an_unlisted_vulnerability_fails_the_audit():
    verdict = audit_deps.judge(
        report({"name": "jinja2", "version": "3.1.4", "vulns": [VULN]},
               {"name": "litestar", "version": "2.18.0", "vulns": []}),
        {}, require_service=False)
    assert not verdict.ok
    assert verdict.found == ["jinja2 3.1.4: PYSEC-2024-1 (fixed in 3.1.5)"]
    assert verdict.audited == 2


def test_an_allow_listed_vulnerability_passes_by_its_id_or_any_alias():
    for ident in ("PYSEC-2024-1", "GHSA-aaaa-bbbb-cccc"):
        verdict = audit_deps.judge(
            report({"name": "jinja2", "version": "3.1.4", "vulns": [VULN]}),
            {ident: "only the sandbox is affected; cocreate does not use it"}, require_service=False)
        assert verdict.ok and not verdict.found
        assert verdict.allowed == ["jinja2 3.1.4: PYSEC-2024-1 (fixed in 3.1.5)"]


def test_an_allow_list_entry_needs_a_reason():
    allowed, problems = audit_deps.read_allowlist(
        "# comment\n\nPYSEC-2024-1   not reachable from our code (2026-12-07)\nGHSA-xxxx-yyyy-zzzz\n")
    assert allowed == {"PYSEC-2024-1": "not reachable from our code (2026-12-07)"}
    assert problems == ["allow-list line 4: GHSA-xxxx-yyyy-zzzz has no reason"]


def test_the_committed_allow_list_is_valid():
    _, problems = audit_deps.read_allowlist(audit_deps.ALLOWLIST.read_text(encoding="utf-8"))
    assert problems == []


def test_nothing_audited_is_reported_and_fails_only_where_the_service_is_required():
    unreachable = report(
        {"name": "jinja2", "version": "3.1.4", "skip_reason": "Dependency not found on PyPI"},
        {"name": "litestar", "version": "2.18.0", "skip_reason": "Dependency not found on PyPI"})
    relaxed = audit_deps.judge(unreachable, {}, require_service=False)
    assert relaxed.ok and relaxed.audited == 0 and len(relaxed.unaudited) == 2
    strict = audit_deps.judge(unreachable, {}, require_service=True)
    assert not strict.ok
    assert strict.problems == ["no package could be audited: no vulnerability service answered"]
