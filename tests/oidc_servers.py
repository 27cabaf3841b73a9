"""A real OpenID Connect provider for the tests: npm ``oidc-provider`` run by node (tests/oidc_provider).

``scripts/setup --test`` installs its packages (``npm ci``); if they are missing, they are installed
here. Without node the tests skip, or fail when ``COCREATE_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers import ROOT, free_port, unavailable, wait_until

PROVIDER_DIR = ROOT / "tests" / "oidc_provider"


@dataclass(frozen=True)
class OidcClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class ProviderSpec:
    """One provider to start: its static clients, and whether claims stay out of the ID token."""

    clients: tuple[OidcClient, ...]
    claims_in_id_token: bool = False


@dataclass
class OidcProviderServer:
    """The node process and the issuer URL of each provider it serves (in the order asked)."""

    process: subprocess.Popen[bytes]
    issuers: list[str]
    log_path: Path
    work_dir: Path
    _stopped: bool = field(default=False, repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if not self._stopped and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stopped = True
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _ensure_packages(npm: str | None) -> None:
    if (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    if npm is None:
        unavailable("npm is not installed, and tests/oidc_provider/node_modules is missing")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR, capture_output=True,
                            text=True, timeout=300, check=False)
    if result.returncode != 0:
        unavailable(f"npm ci in tests/oidc_provider failed:\n{result.stdout}\n{result.stderr}")


def start_oidc_provider(specs: Sequence[ProviderSpec]) -> OidcProviderServer:
    """Start one node process serving a provider per spec on 127.0.0.1; wait for every discovery document."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (Node.js 20 or newer runs the test OpenID Connect provider)")
    _ensure_packages(shutil.which("npm"))
    work_dir = Path(tempfile.mkdtemp(prefix="cocreate-oidc-"))
    ports = [free_port() for _spec in specs]
    config = {"providers": [
        {"port": port, "conformIdTokenClaims": not spec.claims_in_id_token,
         "clients": [{"client_id": c.client_id, "client_secret": c.client_secret,
                      "redirect_uris": list(c.redirect_uris)} for c in spec.clients]}
        for port, spec in zip(ports, specs, strict=True)
    ]}
    (work_dir / "config.json").write_text(json.dumps(config))
    log_path = work_dir / "provider.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([node, "server.mjs", str(work_dir / "config.json")], cwd=PROVIDER_DIR,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    server = OidcProviderServer(process=process, issuers=[f"http://127.0.0.1:{port}" for port in ports],
                                log_path=log_path, work_dir=work_dir)

    def ready() -> bool:
        if process.poll() is not None:
            return True
        try:
            return all(httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200
                       for issuer in server.issuers)
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, 180, "the OpenID Connect provider's discovery document")  # slow on a loaded CI machine
    except AssertionError:
        log = server.log()
        server.stop()
        raise AssertionError(f"oidc-provider did not start:\n{log}") from None
    if process.poll() is not None:
        log = server.log()
        server.stop()
        raise AssertionError(f"oidc-provider exited with {process.returncode}:\n{log}")
    return server
