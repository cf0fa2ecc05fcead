"""Progress of a live sweep on stderr: a rich bar on a terminal, one summary line otherwise.

Stdout stays clean for `-o json`; CI logs get one line instead of a redrawn bar.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sre_expert.sources.live import Sweep


class _Bar:
    def __init__(self, progress: Any, task: Any):
        self._p, self._t = progress, task
        self._lock = threading.Lock()
        self.objects = 0

    def add_tasks(self, n: int) -> None:
        with self._lock:
            total = (self._p.tasks[0].total or 0) + n
            self._p.update(self._t, total=total)

    def task_done(self, label: str, objects: int) -> None:
        with self._lock:
            self.objects += objects
            self._p.update(self._t, advance=1, description=f"{label:<32.32}", objects=f"{self.objects:,} objects")


class _Silent:
    def add_tasks(self, n: int) -> None:
        pass

    def task_done(self, label: str, objects: int) -> None:
        pass


@contextmanager
def sweep_progress(stream: IO[str] | None = None) -> Iterator[Any]:
    """A Progress for `live.sweep`: a transient bar when `stream` (stderr) is a terminal."""
    stream = stream or sys.stderr
    if not getattr(stream, "isatty", lambda: False)():
        yield _Silent()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[objects]}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=stream), transient=True) as p:
        task = p.add_task("discovery", total=0, objects="")
        yield _Bar(p, task)


def summary_line(sweep: Sweep) -> str:
    """One line: what was read, from where, at what cost, and what could not be read."""
    kinds = len({s.spec.key for s, _ in sweep.lists})
    line = (f"read {sweep.object_count:,} objects of {kinds} kinds and {len(sweep.logs)} container logs from "
            f"{sweep.location} in {sweep.seconds:.1f}s ({sweep.requests} requests")
    line += f", {sweep.retried} retried)" if sweep.retried else ")"
    if sweep.errors:
        shown = "; ".join(f"{e['kind']}{' in ' + e['namespace'] if e['namespace'] else ''}: {e['error']}"
                          for e in sweep.errors[:4])
        more = f"; … {len(sweep.errors) - 4} more" if len(sweep.errors) > 4 else ""
        line += f"; not read: {shown}{more}"
    return line
