"""PostgreSQL's own client tools (pg_dump, pg_restore, psql), found by version and given a connection.

pg_dump refuses to dump a server newer than itself, and pg_restore to read an archive written by a newer
pg_dump. Debian installs each client version in ``/usr/lib/postgresql/<major>/bin`` (``/usr/bin/pg_dump``
is a wrapper that picks one of them), so a tool is chosen by major version: the server's own major when
it is there, else the newest one that is recent enough. The password travels in ``PGPASSWORD``, never on
a command line where ``ps`` shows it.
"""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

DEBIAN_CLIENT_DIRS = "/usr/lib/postgresql/*/bin"
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class ClientToolMissing(RuntimeError):
    """No usable pg_dump / pg_restore / psql: the message says which version to install and how."""


@dataclass(frozen=True)
class Tool:
    path: Path
    version: str
    major: int


def tool_version(path: Path) -> Tool | None:
    """The PostgreSQL version a client tool reports, or None when it does not run or says nothing usable."""
    try:
        result = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        return None
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return Tool(path=path, version=version, major=int(match.group(1)))


def default_candidates(name: str) -> list[Path]:
    found = [Path(p) for p in sorted(glob.glob(f"{DEBIAN_CLIENT_DIRS}/{name}"))]
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    return found


def find_tool(name: str, *, minimum: int, preferred: int | None = None,
              candidates: Iterable[Path] | None = None) -> Tool:
    """The ``name`` client tool of major version ``preferred`` if installed, else the newest >= ``minimum``.

    Raises :class:`ClientToolMissing` with what was found and what to install.
    """
    tools = [tool for tool in map(tool_version, default_candidates(name) if candidates is None else candidates)
             if tool is not None]
    usable = [tool for tool in tools if tool.major >= minimum]
    exact = [tool for tool in usable if tool.major == preferred]
    if exact:
        return exact[0]
    if usable:
        return max(usable, key=lambda tool: tool.major)
    wanted = preferred if preferred is not None and preferred >= minimum else minimum
    found = ", ".join(f"{tool.path} ({tool.version})" for tool in tools)
    install = (f"install the PostgreSQL {wanted} client tools (Debian: apt-get install postgresql-client-{wanted}; "
               "versions Debian does not ship come from the PostgreSQL apt repository, apt.postgresql.org)")
    if not tools:
        raise ClientToolMissing(f"{name} was not found (searched PATH and {DEBIAN_CLIENT_DIRS}): {install}")
    raise ClientToolMissing(f"{name} {minimum} or newer is needed, found only {found}: {install}")


def sibling(tool: Tool, name: str) -> Tool:
    """Another client tool from the same installation (psql beside pg_restore), the same version."""
    found = tool_version(tool.path.parent / name)
    if found is None or found.major != tool.major:
        return find_tool(name, minimum=tool.major, preferred=tool.major)
    return found


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the client tools, and the environment that carries the password."""
    parsed = sa.make_url(url)
    keywords: dict[str, str] = {}
    if parsed.host:
        keywords["host"] = parsed.host
    if parsed.port:
        keywords["port"] = str(parsed.port)
    if parsed.username:
        keywords["user"] = parsed.username
    if parsed.database:
        keywords["dbname"] = parsed.database
    for key, value in parsed.query.items():  # sslmode, a socket folder as host, …: libpq keywords as well
        keywords[key] = value if isinstance(value, str) else value[-1]
    env = {"PGPASSWORD": parsed.password} if parsed.password is not None else {}
    return " ".join(f"{key}={_quote(value)}" for key, value in keywords.items()), env
