"""Status conditions and pod readiness, read the same way by every area.

Pure functions of one object dict as the API server returns it; nothing here needs a Snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Obj = dict[str, Any]


def find_condition(conditions: Iterable[Obj] | None, type_: str) -> Obj | None:
    """The condition of this type in a conditions list (an object's, a listener's, a route parent's), else None."""
    for c in conditions or ():
        if c.get("type") == type_:
            return c
    return None


def condition(obj: Obj, type_: str) -> Obj | None:
    """The status condition of this type of an object, else None."""
    conditions: list[Obj] = (obj.get("status") or {}).get("conditions") or []
    return find_condition(conditions, type_)


def pod_ready(pod: Obj) -> bool:
    """The pod's Ready condition is True."""
    c = condition(pod, "Ready")
    return c is not None and c.get("status") == "True"
