"""Falco rules files (infrastructure/security/falco/rules/*.yaml): the structure Falco needs to load them.

Falco refuses to start when a rules file is malformed, which switches runtime security off for the
whole cluster: a rule without condition/output/priority, an unknown priority, a list without items,
or two custom rules with the same name (the second silently replaces the first).
"""

from __future__ import annotations

from typing import Any

from sre_expert.lint.codes import file_ref, lint_finding
from sre_expert.lint.context import LintContext
from sre_expert.lint.repo import Doc

PRIORITIES = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "INFO", "DEBUG"}
REQUIRED = {"rule": ("desc", "condition", "output", "priority"), "macro": ("condition",), "list": ("items",)}


def is_falco_rules(doc: Doc) -> bool:
    d = doc.data
    return isinstance(d, list) and bool(d) and all(isinstance(i, dict) for i in d) and any(
        ("rule" in i or "macro" in i or "list" in i) for i in d) and not doc.is_object


def check_falco(ctx: LintContext) -> None:
    seen: dict[str, str] = {}
    for doc in ctx.repo.docs:
        if not is_falco_rules(doc):
            continue
        for i, item in enumerate(doc.data):
            with ctx.guard("falco rules", doc):
                _item(ctx, doc, i, item, seen)


def _item(ctx: LintContext, doc: Doc, i: int, item: dict[str, Any], seen: dict[str, str]) -> None:
    kinds = [k for k in REQUIRED if k in item]
    if "required_engine_version" in item or "required_plugin_versions" in item:
        return
    if len(kinds) != 1:
        _say(ctx, doc, (i,), f"item {i + 1} is " + ("none" if not kinds else " and ".join(kinds))
             + " of rule/macro/list", [f"keys: {', '.join(map(str, item))}"])
        return
    kind = kinds[0]
    name = str(item[kind])
    appending = bool(item.get("append")) or "override" in item
    if not appending:
        for field in REQUIRED[kind]:
            if item.get(field) in (None, "", []):
                _say(ctx, doc, (i, kind), f"{kind} {name!r} has no {field}", [f"{kind}: {name}"])
    prio = item.get("priority")
    if kind == "rule" and prio is not None and str(prio).upper() not in PRIORITIES:
        _say(ctx, doc, (i, "priority"), f"rule {name!r} has priority {prio!r}, which Falco does not know",
             ["priorities: " + ", ".join(sorted(PRIORITIES))])
    if kind == "rule" and not appending:
        where = f"{doc.file}:{doc.line(i, kind)}"
        if name in seen:
            _say(ctx, doc, (i, kind), f"rule {name!r} is defined twice (the later one replaces {seen[name]})",
                 [f"first: {seen[name]}", f"again: {where}"])
        else:
            seen[name] = where


def _say(ctx: LintContext, doc: Doc, path: tuple[Any, ...], title: str, evidence: list[str]) -> None:
    ctx.add(lint_finding("LINT-FALCO-RULE", file_ref(doc.file), doc.file, doc.line(*path),
                         f"{doc.file}: {title}", evidence=evidence))
