"""CPU time spent by a process tree during a measurement, from /proc (Linux): what each request costs the
server, independent of how busy the shared machine is with other work."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used by the process itself) or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()  # after the command name, which may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def tree(root: int) -> dict[int, float]:
    """CPU seconds of ``root`` and every process below it, by pid."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                parents[int(entry.name)], used[int(entry.name)] = stat
    members = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                grew = True
    return {pid: used[pid] for pid in members if pid in used}


class Meter:
    """CPU seconds used by process trees between :meth:`start` and :meth:`stop` (processes that start in
    between count in full; processes that end in between are lost)."""

    def __init__(self, roots: dict[str, int | None]) -> None:
        self.roots = {name: pid for name, pid in roots.items() if pid}
        self._before: dict[str, dict[int, float]] = {}

    def start(self) -> None:
        self._before = {name: tree(pid) for name, pid in self.roots.items()}

    def stop(self) -> dict[str, float]:
        result = {}
        for name, pid in self.roots.items():
            before = self._before.get(name, {})
            after = tree(pid)
            result[name] = sum(max(0.0, seconds - before.get(child, 0.0)) for child, seconds in after.items())
        return result


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
