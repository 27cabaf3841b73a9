"""A real cocreate site in subprocesses: ``cocreate web`` (uvicorn, several processes) and, when asked,
``cocreate worker``, on a free port of 127.0.0.1 with its own data folder, exactly as an operator runs
them. Used by the load and fault tests, which need the real servers, their processes and their pools.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.servers import ROOT, free_port, wait_until

STARTUP_TIMEOUT = 90.0  # a loaded 2-core machine can take 20 s to import and start


def cocreate(*args: str, env: dict[str, str], log_path: Path, check: bool = True) -> subprocess.CompletedProcess:
    with log_path.open("ab") as log:
        log.write(f"$ cocreate {' '.join(args)}\n".encode())
        log.flush()
        result = subprocess.run(
            [sys.executable, "-m", "cocreate.cli", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    if check and result.returncode != 0:
        raise AssertionError(f"`cocreate {' '.join(args)}` exited with {result.returncode}:\n{log_path.read_text()}")
    return result


@dataclass
class LiveSite:
    data_dir: Path
    env: dict[str, str]
    port: int
    log_path: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _spawn(self, name: str, *args: str) -> None:
        log = self.log_path.open("ab")
        log.write(f"$ cocreate {' '.join(args)}\n".encode())
        log.flush()
        # Own process group: kill() reaches uvicorn's children too, as a machine crash would.
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "cocreate.cli", *args],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_web(self, processes: int = 2, *, port: int | None = None, name: str = "web") -> None:
        """``cocreate web`` on the site's port, or on another (a second server on the same data folder)."""
        port = port or self.port
        self._spawn(name, "web", "--host", "127.0.0.1", "--port", str(port), "--workers", str(processes))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.healthy(f"http://127.0.0.1:{port}"):
            web = self.processes[name]
            if web.poll() is not None:
                raise AssertionError(f"cocreate web exited with {web.returncode}:\n{self.log()[-5000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"cocreate web did not answer within {STARTUP_TIMEOUT:.0f} s:\n{self.log()[-5000:]}")
            time.sleep(0.1)

    def start_worker(self) -> None:
        before = self.log().count("ready.")  # a restarted worker: wait for its own "ready.", not the last one's
        self._spawn("worker", "worker")
        wait_until(lambda: self.log().count("ready.") > before or self.processes["worker"].poll() is not None, 60,
                   "worker start")
        if self.processes["worker"].poll() is not None:
            raise AssertionError(f"worker exited:\n{self.log()[-5000:]}")

    def healthy(self, url: str | None = None) -> bool:
        try:
            return request(url or self.url, "GET", "/healthz", timeout=2).status == 200
        except OSError:
            return False

    def kill(self, name: str) -> None:
        """SIGKILL the process and all its children: no clean-up, no goodbye, as in a crash."""
        process = self.processes.pop(name, None)
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for name, process in list(self.processes.items()):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.kill(name)
            self.processes.pop(name, None)


def prepare_site(data_dir: Path, *, demo: bool = True, **env_overrides: str) -> LiveSite:
    """A migrated data folder (with demo content unless told otherwise) and the environment to serve it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("COCREATE_")}
    env = {
        **inherited,
        "COCREATE_DATA_DIR": str(data_dir),
        "COCREATE_ENV": "test",
        "COCREATE_BASE_URL": f"http://127.0.0.1:{port}",
        "COCREATE_PASSWORD_HASHING": "fast-for-tests",  # sign-ins cost microseconds, not a fifth of a second
        "PYTHONUNBUFFERED": "1",
        **env_overrides,
    }
    site = LiveSite(data_dir=data_dir, env=env, port=port, log_path=data_dir / "site.log")
    cocreate("db", "upgrade", env=env, log_path=site.log_path)
    if demo:
        cocreate("demo", env=env, log_path=site.log_path)
    return site


# --- a small HTTP client with a cookie jar (one per simulated person) -----------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def request(base_url: str, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: bytes | None = None, timeout: float = 30) -> Answer:
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        merged: dict[str, str] = {}
        for key, value in response.getheaders():
            key = key.lower()
            merged[key] = f"{merged[key]}\n{value}" if key in merged else value
        return Answer(response.status, merged, data)
    finally:
        connection.close()


@dataclass
class Browser:
    """Cookies and the CSRF token of one person, over plain HTTP (no JavaScript, as a basic phone)."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30

    def _remember(self, answer: Answer) -> None:
        for line in answer.headers.get("set-cookie", "").split("\n"):
            if not line:
                continue
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value in ("", "null"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept-Language": "ja"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        answer = request(self.base_url, "GET", path, headers=self._headers(headers), timeout=self.timeout)
        self._remember(answer)
        return answer

    def post(self, path: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
        if "cocreate_csrf" not in self.cookies:
            self.get("/")
        form = {"_csrf_token": self.cookies["cocreate_csrf"], **data}
        answer = request(
            self.base_url,
            "POST",
            path,
            headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"} | (headers or {})),
            body=urlencode(form).encode(),
            timeout=self.timeout,
        )
        self._remember(answer)
        return answer

    def sign_in(self, email: str, password: str) -> None:
        answer = self.post("/account/sign-in", {"email": email, "password": password})
        assert answer.status == 303, f"sign-in answered {answer.status}: {answer.text[:500]}"
        assert "cocreate_session" in self.cookies

    def json(self, path: str) -> object:
        answer = self.get(path, {"Accept": "application/json"})
        assert answer.status == 200, (path, answer.status)
        return json.loads(answer.body)
