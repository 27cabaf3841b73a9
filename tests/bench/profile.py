"""``scripts/bench --profile DIR``: py-spy recordings of the web processes during the measurements at the
budget's number of connections, and where their time goes.

py-spy is not a dependency of the project: install it apart (``python3 -m venv /tmp/benchtools &&
/tmp/benchtools/bin/pip install py-spy``) and put it on PATH or name it with ``PY_SPY=/path/to/py-spy``.
Each uvicorn worker is recorded in py-spy's raw format (one line per stack and its count), so the files
can be read again or turned into flame graphs (``flamegraph.pl`` reads them as they are).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from tests.bench import cpu

RATE = 50
PROJECT = re.compile(r"\((?:.*/)?(?:cocreate|proposals|labs)/[^)]*\)|\.html:\d+\)|\.html\)")
FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    return os.environ.get("PY_SPY") or shutil.which("py-spy")


class Recorder:
    """Records every process below ``root`` for ``seconds`` (started before a measurement, awaited after)."""

    def __init__(self, binary: str, root: int, folder: Path, name: str, seconds: float, idle: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        for pid in sorted(cpu.tree(root)):
            if pid == root:
                continue  # the uvicorn supervisor only watches its workers
            path = folder / f"{name}-{pid}.txt"
            self.files.append(path)
            command = [binary, "record", "--pid", str(pid), "--rate", str(RATE), "--duration", str(max(1, int(seconds))),
                       "--format", "raw", "--output", str(path), "--nonblocking", *(["--idle"] if idle else [])]
            self.processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def wait(self) -> list[Path]:
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        return [path for path in self.files if path.exists() and path.stat().st_size]


def _key(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    function, where = match.groups()
    where = where.split("site-packages/")[-1]
    where = re.sub(r"^.*?/(cocreate|proposals|labs|templates)/", r"\1/", where)
    return f"{function} ({where})"


def summary(files: list[Path], top: int = 25) -> str:
    """The project's functions and templates by share of samples (inclusive), and the leaves (self)."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = stack.split(";")
            for key in {_key(frame) for frame in frames if PROJECT.search(frame)}:
                inclusive[key] += samples
            leaves[_key(frames[-1])] += samples
    if not total:
        return "(no samples)"
    lines = [f"{total} samples; project code by share of samples (inclusive):"]
    lines += [f"  {100 * n / total:5.1f} %  {key}" for key, n in inclusive.most_common(top)]
    lines.append("where the time is spent (self):")
    lines += [f"  {100 * n / total:5.1f} %  {key}" for key, n in leaves.most_common(10)]
    return "\n".join(lines)
