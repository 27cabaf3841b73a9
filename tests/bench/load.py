"""Load generators: wrk when installed, else an equivalent in Python; and the vote loop.

Both page generators keep ``connections`` HTTP/1.1 keep-alive connections busy for ``duration`` seconds,
each sending the next request as soon as the previous answer is in (a closed loop, like wrk), and
report requests per second, latency percentiles, socket errors and timeouts, and answers that are not
2xx. The Python one speaks raw HTTP/1.1 over asyncio protocols (uvloop when available), so the client
costs little CPU next to the server it measures on the same cores.

The vote loop signs in one account per voter, then every voter posts votes for its own list of
proposals (each voter votes on each proposal at most once) on its own keep-alive connection, and
counts the accepted answers per proposal.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.live import Browser, request

TIMEOUT = 10.0
"""Seconds a request may take before it counts as a timeout (wrk's --timeout)."""


@dataclass
class Result:
    """One route at one number of connections."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    """Socket errors (connect, read, write) and timeouts."""
    timeouts: int
    non_2xx: int
    tool: str
    client_cpu_s: float = 0.0
    """CPU seconds the load generator itself used."""
    server_cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds the servers used meanwhile ("web" processes, "db" for PostgreSQL), set by the caller."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"requests": self.requests, "seconds": round(self.seconds, 3), "rps": round(self.rps, 1),
                "p50_ms": round(self.p50_ms, 2), "p99_ms": round(self.p99_ms, 2), "errors": self.errors,
                "timeouts": self.timeouts, "non_2xx": self.non_2xx, "tool": self.tool,
                "client_cpu_s": round(self.client_cpu_s, 2),
                **{f"{name}_cpu_ms": round(1000 * seconds / self.requests, 2) if self.requests else None
                   for name, seconds in self.server_cpu_s.items()}}


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def request_status(base_url: str, path: str) -> int:
    """The status of one plain GET (a route must answer 200 before it is measured)."""
    return request(base_url, "GET", path, headers={"Accept-Language": "ja"}, timeout=60).status


# --- wrk ------------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.headers["Accept-Language"] = "ja"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n@@{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, connections: int, duration: float, timeout: float = TIMEOUT,
            headers: dict[str, str] | None = None) -> Result:
    """``wrk`` with one thread per core (at most one per connection). wrk counts status >= 400 as
    errors.status: reported as non-2xx (no measured page redirects; ``check_route`` makes sure)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        threads = max(1, min(2, connections))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", f"--timeout={timeout:g}s",
             *[arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")],
             "-s", script.name, url], capture_output=True, text=True, check=False, timeout=duration + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        Path(script.name).unlink(missing_ok=True)
    client_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    line = next((line[2:] for line in completed.stdout.splitlines() if line.startswith("@@")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stdout}\n{completed.stderr}")
    data = json.loads(line)
    return Result(requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
                  p99_ms=data["p99_us"] / 1000, errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
                  timeouts=data["timeout"], non_2xx=data["status"], tool="wrk", client_cpu_s=client_cpu)


# --- the Python equivalent ------------------------------------------------------------------------


class HttpError(Exception):
    """The connection failed or closed before a whole answer came."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 keep-alive connection: send a request, await its whole answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(str(exc or "connection closed")))

    def _complete(self) -> None:
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end])
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if b"content-length" in headers:
            stop = start + int(headers[b"content-length"])
            if len(self.buffer) < stop:
                return
            body = bytes(self.buffer[start:stop])
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parsed = _dechunk(self.buffer, start)
            if parsed is None:
                return
            body, stop = parsed
        else:
            stop, body = start, b""
        del self.buffer[:stop]
        self.waiter.set_result((status, head, body))

    async def request(self, data: bytes, timeout: float) -> tuple[int, bytes, bytes]:
        if self.closed or self.transport is None:
            raise HttpError("connection closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        self._complete()
        return await asyncio.wait_for(self.waiter, timeout)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    body = bytearray()
    position = start
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
        chunk_start = line_end + 2
        if len(buffer) < chunk_start + size + 2:
            return None
        if size == 0:
            trailer_end = buffer.find(b"\r\n", chunk_start)
            return (bytes(body), trailer_end + 2) if trailer_end >= 0 else None
        body += buffer[chunk_start:chunk_start + size]
        position = chunk_start + size + 2


async def _connect(host: str, port: int, timeout: float) -> _Connection:
    loop = asyncio.get_running_loop()
    _transport, protocol = await asyncio.wait_for(loop.create_connection(_Connection, host, port), timeout)
    return protocol


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.new_event_loop()


def run_python(url: str, connections: int, duration: float, timeout: float = TIMEOUT,
               headers: dict[str, str] | None = None) -> Result:
    """The same measurement as :func:`run_wrk`, in Python (one process, asyncio)."""
    loop = _event_loop()
    try:
        return loop.run_until_complete(_run_python(url, connections, duration, timeout, headers or {}))
    finally:
        loop.close()


async def _run_python(url: str, connections: int, duration: float, timeout: float,
                      headers: dict[str, str]) -> Result:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = (f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept-Language: ja\r\n"
               f"User-Agent: cocreate-bench\r\n{extra}\r\n").encode()
    latencies: list[float] = []
    counts = Counter[str]()
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        connection: _Connection | None = None
        while time.perf_counter() < deadline:
            try:
                if connection is None or connection.closed:
                    connection = await _connect(host, port, timeout)
                started = time.perf_counter()
                status, _head, _body = await connection.request(request, timeout)
                latencies.append(time.perf_counter() - started)
                counts["ok" if 200 <= status < 300 else "non_2xx"] += 1
            except TimeoutError:
                counts["timeout"] += 1
                connection = _drop(connection)
            except (OSError, HttpError, ValueError, IndexError):
                counts["error"] += 1
                connection = _drop(connection)
                await asyncio.sleep(0.01)
        _drop(connection)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Result(requests=counts["ok"] + counts["non_2xx"], seconds=seconds,
                  p50_ms=percentile(latencies, 0.50) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
                  errors=counts["error"] + counts["timeout"], timeouts=counts["timeout"], non_2xx=counts["non_2xx"],
                  tool="python", client_cpu_s=cpu)


def _drop(connection: _Connection | None) -> None:
    if connection is not None:
        connection.close()


def measure(url: str, connections: int, duration: float, *, tool: str = "auto", timeout: float = TIMEOUT,
            headers: dict[str, str] | None = None) -> Result:
    if tool == "wrk" or (tool == "auto" and wrk_available()):
        return run_wrk(url, connections, duration, timeout, headers)
    return run_python(url, connections, duration, timeout, headers)


# --- the vote loop --------------------------------------------------------------------------------


@dataclass
class Voter:
    email: str
    cookies: dict[str, str]
    proposals: list[int]
    """Proposal ids to vote on, in this order."""


@dataclass
class VoteResult:
    voters: int
    seconds: float
    attempted: int
    accepted: Counter[int] = field(default_factory=Counter)
    """Accepted answers (2xx, or 303 for a plain form) per proposal id."""
    refused: int = 0
    """Of the accepted answers, those whose flash message was an error (the vote was not counted)."""
    non_2xx: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    """Every answer's status."""
    errors: int = 0
    timeouts: int = 0
    latencies: list[float] = field(default_factory=list)
    exhausted: int = 0
    """Voters who voted on every proposal of their list before the time was up."""
    server_cpu_s: dict[str, float] = field(default_factory=dict)

    @property
    def accepted_total(self) -> int:
        return sum(self.accepted.values())

    @property
    def rate(self) -> float:
        return self.accepted_total / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"voters": self.voters, "seconds": round(self.seconds, 3), "attempted": self.attempted,
                "accepted": self.accepted_total, "rate": round(self.rate, 1), "refused": self.refused,
                "non_2xx": self.non_2xx, "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "errors": self.errors, "timeouts": self.timeouts,
                "p50_ms": round(percentile(self.latencies, 0.5) * 1000, 2),
                "p99_ms": round(percentile(self.latencies, 0.99) * 1000, 2), "exhausted": self.exhausted,
                **{f"{name}_cpu_ms": round(1000 * seconds / self.attempted, 2) if self.attempted else None
                   for name, seconds in self.server_cpu_s.items()}}


def sign_in_voters(base_url: str, emails: Sequence[str], password: str, proposals: Sequence[int],
                   threads: int = 8) -> list[Voter]:
    """Sign every voter in through the real form (in parallel); voter n starts its list at proposal 3n."""

    def sign_in(number: int, email: str) -> Voter:
        browser = Browser(base_url, timeout=60)
        browser.sign_in(email, password)
        start = (3 * number) % len(proposals)
        return Voter(email=email, cookies=dict(browser.cookies), proposals=[*proposals[start:], *proposals[:start]])

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(sign_in, range(len(emails)), emails))


def vote_loop(base_url: str, voters: Sequence[Voter], duration: float, *, htmx: bool = True,
              timeout: float = TIMEOUT) -> VoteResult:
    loop = _event_loop()
    try:
        return loop.run_until_complete(_vote_loop(base_url, voters, duration, htmx, timeout))
    finally:
        loop.close()


async def _vote_loop(base_url: str, voters: Sequence[Voter], duration: float, htmx: bool,
                     timeout: float) -> VoteResult:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    result = VoteResult(voters=len(voters), seconds=0.0, attempted=0)
    deadline = time.perf_counter() + duration

    def request_for(voter: Voter, proposal_id: int) -> bytes:
        csrf = voter.cookies.get("cocreate_csrf", "")
        body = urlencode({"_csrf_token": csrf}).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in voter.cookies.items())
        extra = "HX-Request: true\r\n" if htmx else ""
        return (f"POST /proposals/{proposal_id}/vote HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept-Language: ja\r\n"
                f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n{extra}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    async def voter_task(voter: Voter) -> None:
        connection: _Connection | None = None
        for proposal_id in voter.proposals:
            if time.perf_counter() >= deadline:
                return
            result.attempted += 1
            try:
                if connection is None or connection.closed:
                    connection = await _connect(host, port, timeout)
                started = time.perf_counter()
                status, head, _body = await connection.request(request_for(voter, proposal_id), timeout)
                result.latencies.append(time.perf_counter() - started)
                result.statuses[status] += 1
            except TimeoutError:
                result.timeouts += 1
                result.errors += 1
                connection = _drop(connection)
                continue
            except (OSError, HttpError, ValueError, IndexError):
                result.errors += 1
                connection = _drop(connection)
                continue
            if 200 <= status < 300 or status == 303:
                result.accepted[proposal_id] += 1
                if b'"category":"error"' in head.replace(b" ", b"") or b"%22error%22" in head:
                    result.refused += 1
            else:
                result.non_2xx += 1
        result.exhausted += 1
        _drop(connection)

    started = time.perf_counter()
    await asyncio.gather(*(voter_task(voter) for voter in voters))
    result.seconds = time.perf_counter() - started
    return result
