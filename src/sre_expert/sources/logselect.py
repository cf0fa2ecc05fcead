"""Which container logs a live sweep fetches: those of unhealthy containers, plus the few a check reads
from healthy pods (the Falco engine's alerts). Fetching every log of a 10,000-pod cluster would cost
10,000+ requests for text no check looks at.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.kinds import ALWAYS_LOG_IMAGES
from sre_expert.core.timeutil import parse_time

RECENT_RESTART = timedelta(hours=24)
NO_LOG_YET = ("ContainerCreating", "PodInitializing")


def image_repo_name(image: str) -> str:
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def _started(cs: dict[str, Any]) -> bool:
    state = cs.get("state") or {}
    return "running" in state or "terminated" in state or (cs.get("restartCount") or 0) > 0


def _unhealthy(cs: dict[str, Any], init: bool, phase: str, now: datetime) -> bool:
    state = cs.get("state") or {}
    waiting, term = state.get("waiting"), state.get("terminated")
    if waiting and waiting.get("reason") not in NO_LOG_YET:
        return True
    if term and term.get("exitCode") not in (0, None):
        return True
    if not init and phase == "Running" and cs.get("ready") is False and not term:
        return True
    if phase in ("Failed", "Unknown"):
        return True
    if (cs.get("restartCount") or 0) > 0:
        finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        return finished is None or now - finished <= RECENT_RESTART
    return False


def log_targets(pod: dict[str, Any], now: datetime) -> list[tuple[str, bool]]:
    """(container, previous) pairs to fetch for one pod; previous only after a restart."""
    status = pod.get("status") or {}
    phase = status.get("phase") or ""
    out: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for field, init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for cs in status.get(field) or ():
            name = cs.get("name")
            if not name or name in seen or not _started(cs):
                continue
            if _unhealthy(cs, init, phase, now):
                seen.add(name)
                out.append((name, False))
                if (cs.get("restartCount") or 0) > 0:
                    out.append((name, True))
    spec = pod.get("spec") or {}
    running = {cs.get("name") for cs in status.get("containerStatuses") or () if _started(cs)}
    for c in spec.get("containers") or ():
        name = c.get("name")
        if name and name not in seen and name in running and image_repo_name(c.get("image") or "") in ALWAYS_LOG_IMAGES:
            seen.add(name)
            out.append((name, False))
    return out
