"""Small text helpers every renderer shares: counts with the right noun, values in words (never a Python
repr), and shortening at a word boundary (only the terminal shortens; JSON and Markdown carry full text)."""

from __future__ import annotations

import json
from typing import Any


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 root cause`, `2 root causes`: a count with its noun in the right number."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def human_value(value: Any) -> str:
    """A field value as a person reads it: a list of scalars comma-separated, a map of scalars as
    `key=value` pairs (kubectl's selector syntax), anything nested as compact JSON."""
    scalar = (str, int, float, bool)
    if isinstance(value, (list, tuple)) and all(isinstance(v, scalar) for v in value):
        return ", ".join(str(v) for v in value) if value else "(empty)"
    if isinstance(value, dict) and all(isinstance(v, scalar) for v in value.values()):
        return ",".join(f"{k}={v}" for k, v in value.items()) if value else "(empty)"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def shorten(text: str, limit: int) -> str:
    """`text` cut at the last word boundary before `limit` characters, ending in "…" (never mid-word)."""
    if limit <= 1 or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not text[limit - 1].isspace():  # the cut falls inside a word: drop that word
        space = cut.rfind(" ")
        if space > 0:
            cut = cut[:space]
    return cut.rstrip(" ,;:.(") + "…"


QUOTE_LIMIT = 2000  # a status message longer than this is an error dump, not a message


def quote(text: Any, limit: int = QUOTE_LIMIT) -> str:
    """A message quoted as evidence or in a title: white space folded to single spaces, whole (cut at a
    word boundary only past `limit`, so one error dump cannot flood a report). '' for None."""
    return shorten(" ".join(str(text or "").split()), limit)


AREAS = {
    "argocd": "Argo CD", "certmanager": "cert-manager", "externalsecrets": "External Secrets",
    "gateway": "Gateway API", "velero": "Velero", "monitoring": "Prometheus Operator", "policy": "policy",
    "metrics": "metrics", "events": "events", "quota": "quota", "autoscaling": "autoscaling",
    "components": "platform", "disruption": "disruption", "storage": "storage", "netpol": "network",
    "nodes": "nodes", "pods": "pods", "services": "Services", "workloads": "workloads",
}


def check_words(name: str) -> str:
    """A check's registered name in words: `certmanager.issuers` → `cert-manager issuers`."""
    area, _, what = name.partition(".")
    if area not in AREAS or not what:
        return name
    words = what.replace("_", " ")
    head = AREAS[area]
    return words if words.lower().startswith(head.lower()) else f"{head} {words}"


def not_checked_words(line: str) -> str:
    """A not-checked line for people: its leading check name (`certmanager.issuers: …`) in words. JSON keeps
    the name, which tools match on."""
    name, sep, rest = line.partition(": ")
    if sep and "." in name and " " not in name:
        return f"{check_words(name)}: {rest}"
    return line
