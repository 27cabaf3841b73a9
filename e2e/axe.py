"""Accessibility checks with axe-core (bundled by axe-playwright-python).

axe is injected with ``page.evaluate``, a DevTools-protocol evaluation, which the app's strict
Content-Security-Policy (``script-src 'self'``) does not block; so the pages are tested with their real
CSP in force and no ``bypass_csp`` is needed.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: WCAG 2.0, 2.1 and 2.2 at levels A and AA, plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
MAX_TARGETS = 5

_axe = Axe()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The violations axe finds on the page as it is now."""
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = _axe.run(page, options=options)
    return results.response["violations"]


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        nodes = violation.get("nodes", [])
        targets = [" ".join(map(str, node.get("target", []))) for node in nodes[:MAX_TARGETS]]
        more = f" (+{len(nodes) - MAX_TARGETS} more)" if len(nodes) > MAX_TARGETS else ""
        lines.append(
            f"- {violation['id']} [{violation.get('impact')}]: {violation.get('help')}\n"
            f"    {violation.get('helpUrl', '')}\n"
            f"    targets: {', '.join(targets)}{more}"
        )
    return "\n".join(lines)


def assert_no_axe_violations(page: Page, context_label: str) -> None:
    """Fail, listing every rule broken, if axe finds any WCAG 2.x A/AA or best-practice violation."""
    violations = axe_violations(page)
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {context_label} ({page.url}):\n"
            + format_violations(violations)
        )
