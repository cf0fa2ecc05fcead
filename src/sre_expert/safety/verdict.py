"""What the guard says about a command line: its class, whether it prints Secret values, and why.

Order of the classes, highest first: destructive > mutating > unknown > read-only. A compound command
takes the highest class of its parts. Unknown ranks *below* mutating because a known write is the more
specific, more useful statement ("this deletes pod x" tells the operator more than "something here is
not understood"); both need confirmation, and the reasons of unknown parts are always kept in the
verdict so the operator still sees what the guard did not understand. Unknown ranks above read-only.
A label informs the person who confirms; it never grants execution: what runs without asking is decided
by the allow-list in `gate.py` alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

READ_ONLY = "read-only"
UNKNOWN = "unknown"
MUTATING = "mutating"
DESTRUCTIVE = "destructive"
CLASSES = (READ_ONLY, UNKNOWN, MUTATING, DESTRUCTIVE)
RANK = {c: i for i, c in enumerate(CLASSES)}


def rank(cls: str) -> int:
    return RANK[cls]


def highest(classes: Iterable[str]) -> str:
    return max(classes, key=rank, default=READ_ONLY)


@dataclass(slots=True, frozen=True)
class Part:
    """One finding about one piece of a command line (a simple command, a redirection, a wrapper)."""

    cls: str
    reason: str
    exposes: bool = False
    target: str | None = None  # the object or file the part acts on, for the confirmation token
    interactive: bool = False  # needs a terminal (a shell, an editor) or runs until interrupted


@dataclass(frozen=True)
class Verdict:
    """The guard's answer. `to_json()` is the stable contract of `sre-expert guard classify -o json`."""

    cls: str
    exposes_secrets: bool
    reasons: list[str] = field(default_factory=list)
    targets: tuple[str, ...] = ()  # names acted on by the parts of the highest class
    interactive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"class": self.cls, "exposesSecrets": self.exposes_secrets, "reasons": list(self.reasons)}

    @property
    def needs_confirmation(self) -> bool:
        """Anything not proven read-only, and anything that prints Secret values, is confirmed first."""
        return self.cls != READ_ONLY or self.exposes_secrets


def verdict_of(parts: Iterable[Part]) -> Verdict:
    """Merge parts: the highest class wins; keep the reasons that explain it, unknown parts and exposures."""
    parts = list(parts)
    if not parts:
        return Verdict(READ_ONLY, False, ["empty command: nothing runs"])
    cls = highest(p.cls for p in parts)
    exposes = any(p.exposes for p in parts)
    reasons: list[str] = []
    for p in parts:
        if p.cls == cls or p.cls == UNKNOWN or p.exposes:
            if p.reason not in reasons:
                reasons.append(p.reason)
    # a name only known at run time ($POD) cannot be typed back as a confirmation
    targets = tuple(dict.fromkeys(p.target for p in parts if p.cls == cls and p.target
                                  and "$" not in p.target and "`" not in p.target))
    # A single named target is only meaningful when every part of the highest class names it.
    if any(p.cls == cls and (not p.target or "$" in p.target or "`" in p.target) for p in parts) and cls != READ_ONLY:
        targets = ()
    return Verdict(cls, exposes, reasons, targets, any(p.interactive for p in parts))
