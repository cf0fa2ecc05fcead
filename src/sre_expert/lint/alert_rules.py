"""Alert rule files against the platform catalogue (knowledge/alerts.yaml), and through promtool.

A rule file is a PrometheusRule (spec.groups) or a plain Prometheus rule file (groups). The threshold
compared is the number after the expression's last top-level comparison, which is where every
catalogue rule keeps it (`... > 5`, `... < 7`).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

import yaml

from sre_expert.core.model import ObjectRef
from sre_expert.knowledge.alert_catalogue import AlertRule, load_alert_rules
from sre_expert.lint.codes import file_ref, lint_finding
from sre_expert.lint.context import LintContext
from sre_expert.lint.repo import RULE_FILE, Doc

_TRAILING_CMP = re.compile(r"(==|!=|>=|<=|>|<)\s*(?:bool\s+)?(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*\)*\s*$", re.IGNORECASE)
_TMP_PREFIX = re.compile(r"^\S+: \d+:\d+: ")
_PROMTOOL_RULE = re.compile(r'group "([^"]+)", rule (\d+)')


@dataclass(slots=True)
class RuleDoc:
    """One rule file in the repository: where its groups live in the document."""

    doc: Doc
    groups_path: tuple[Any, ...]
    groups: list[Any]

    def ref(self) -> ObjectRef:
        if self.doc.is_object:
            return ObjectRef.of(self.doc.data)
        return file_ref(self.doc.file)


def rule_docs(ctx: LintContext) -> list[RuleDoc]:
    out = []
    for d in ctx.repo.docs:
        if d.is_object and d.kind == "PrometheusRule":
            groups = d.get("spec", "groups")
            out.append(RuleDoc(d, ("spec", "groups"), groups if isinstance(groups, list) else []))
        elif not d.is_object and isinstance(d.data, dict) and isinstance(d.data.get("groups"), list) and all(
            isinstance(g, dict) and "rules" in g for g in d.data["groups"]
        ) and d.data["groups"]:
            out.append(RuleDoc(d, ("groups",), d.data["groups"]))
    return out


def threshold(expr: str) -> tuple[str, float] | None:
    m = _TRAILING_CMP.search(expr.strip())
    if not m:
        return None
    return m.group(1), float(m.group(2))


def _fmt(op: str, value: float) -> str:
    return f"{op} {int(value) if value == int(value) else value}"


def check_alerts(ctx: LintContext) -> None:
    docs = rule_docs(ctx)
    if not docs:
        if ctx.trusts_absence("alert rules", "PrometheusRule", RULE_FILE):
            ctx.skip("alert rules: no PrometheusRule or rule file in the repository "
                     "(expected infrastructure/monitoring/prometheus-rules.yaml)")
        return
    rejected = _promtool(ctx, docs)
    catalogue = load_alert_rules()
    by_name = {r.alert: r for r in catalogue}
    seen_groups: dict[str, tuple[RuleDoc, int]] = {}
    seen_alerts: dict[str, tuple[RuleDoc, int, int]] = {}
    for rd in docs:
        with ctx.guard("alert rules", rd.doc):
            for gi, g in enumerate(rd.groups):
                if not isinstance(g, dict):
                    continue
                seen_groups.setdefault(str(g.get("name")), (rd, gi))
                for ri, r in enumerate(g.get("rules") or []):
                    if isinstance(r, dict) and r.get("alert"):
                        seen_alerts.setdefault(str(r["alert"]), (rd, gi, ri))
    for rd, gi, ri in seen_alerts.values():
        with ctx.guard("alert rules", rd.doc):
            rule = rd.groups[gi]["rules"][ri]
            cat = by_name.get(str(rule["alert"]))
            path = (*rd.groups_path, gi, "rules", ri)
            if cat is None:
                ctx.add(lint_finding(
                    "LINT-ALERT-UNKNOWN", rd.ref(), rd.doc.file, rd.doc.line(*path, "alert"),
                    f"Alert {rule['alert']} (group {rd.groups[gi].get('name')}) is not in the platform catalogue",
                ))
                continue
            _compare(ctx, rd, path, rule, cat, skip_expr=(rd.doc.file, rd.groups[gi].get("name"), ri) in rejected)
    if not ctx.trusts_absence("missing alert groups and alerts", "PrometheusRule", RULE_FILE):
        return  # an unparsable file may hold them
    first = docs[0]
    missing_groups = []
    for gname in dict.fromkeys(r.group for r in catalogue):
        if gname not in seen_groups:
            missing_groups.append(gname)
            ctx.add(lint_finding(
                "LINT-ALERT-GROUP-MISSING", first.ref(), first.doc.file, first.doc.line(*first.groups_path),
                f"Alert group {gname} is missing from the rules",
                evidence=[f"catalogue group {gname}: " + ", ".join(r.alert for r in catalogue if r.group == gname),
                          "groups in the repository: " + ", ".join(seen_groups)],
                command="sre-expert rules",
            ))
    for cat in catalogue:
        if cat.group in missing_groups or cat.alert in seen_alerts:
            continue
        rd, gi = seen_groups[cat.group]
        ctx.add(lint_finding(
            "LINT-ALERT-MISSING", rd.ref(), rd.doc.file, rd.doc.line(*rd.groups_path, gi, "name"),
            f"Alert {cat.alert} ({cat.severity}) is missing from group {cat.group}",
            evidence=[f"catalogue: {cat.alert} expr {cat.expr} for {cat.for_}", f"runbook: {cat.runbook}"],
            command="sre-expert rules",
        ))


def _compare(ctx: LintContext, rd: RuleDoc, path: tuple[Any, ...], rule: dict[str, Any], cat: AlertRule,
             skip_expr: bool) -> None:
    sev = (rule.get("labels") or {}).get("severity")
    if sev != cat.severity:
        ctx.add(lint_finding(
            "LINT-ALERT-SEVERITY", rd.ref(), rd.doc.file, rd.doc.line(*path, "labels", "severity"),
            f"Alert {cat.alert} has severity {sev or '(none)'}; the catalogue says {cat.severity}",
            evidence=[f"labels.severity: {sev!r}", f"catalogue severity: {cat.severity}"],
        ))
    if skip_expr:
        return
    expr = str(rule.get("expr") or "")
    want = (str(cat.threshold["op"]), float(cat.threshold["value"]))
    got = threshold(expr)
    if got != want:
        unit = cat.threshold.get("unit", "")
        ctx.add(lint_finding(
            "LINT-ALERT-THRESHOLD", rd.ref(), rd.doc.file, rd.doc.line(*path, "expr"),
            f"Alert {cat.alert} compares {_fmt(*got) if got else 'with no threshold'}; "
            f"the catalogue says {_fmt(*want)} ({unit})",
            evidence=[f"expr: {expr}", f"catalogue expr: {cat.expr}"],
        ))


def _promtool(ctx: LintContext, docs: list[RuleDoc]) -> set[tuple[str, Any, int]]:
    """Run `promtool check rules` on each rule document; return the (file, group, rule index) it rejects."""
    rejected: set[tuple[str, Any, int]] = set()
    if not ctx.promtool:
        ctx.skip("promtool check rules: promtool not installed")
        return rejected
    with tempfile.TemporaryDirectory(prefix="sre-expert-lint-") as tmp:
        for n, rd in enumerate(docs):
            path = os.path.join(tmp, f"rules-{n}.yaml")
            with open(path, "w", encoding="utf-8") as fh:
                yaml.safe_dump({"groups": rd.groups}, fh, sort_keys=False)
            try:
                proc = subprocess.run([ctx.promtool, "check", "rules", path], capture_output=True, text=True,
                                      timeout=60, check=False)
            except (OSError, subprocess.TimeoutExpired) as e:
                ctx.skip(f"promtool check rules {rd.doc.file}: {e}")
                continue
            if proc.returncode == 0:
                continue
            lines = [ln.strip() for ln in (proc.stderr + proc.stdout).splitlines()]
            # promtool's own "file: line:col:" prefix points into the temporary file: drop it.
            errors = [_TMP_PREFIX.sub("", ln.replace(path, rd.doc.file)) for ln in lines
                      if ln and not ln.startswith("Checking") and "FAILED" not in ln and "SUCCESS" not in ln]
            located = False
            for ln in errors:
                m = _PROMTOOL_RULE.search(ln)
                if not m:
                    continue
                gname, ri = m.group(1), int(m.group(2)) - 1
                gi = next((i for i, g in enumerate(rd.groups) if isinstance(g, dict) and g.get("name") == gname), None)
                field = ("expr",) if "expression" in ln else ()
                line = rd.doc.line(*rd.groups_path, gi, "rules", ri, *field) if gi is not None \
                    else rd.doc.line(*rd.groups_path)
                if gi is not None:
                    rejected.add((rd.doc.file, gname, ri))
                ctx.add(lint_finding("LINT-PROMTOOL", rd.ref(), rd.doc.file, line,
                                     f"promtool rejects rule {ri + 1} of group {gname}", evidence=[ln],
                                     command=f"promtool check rules {rd.doc.file}"))
                located = True
            if not located:
                ctx.add(lint_finding("LINT-PROMTOOL", rd.ref(), rd.doc.file, rd.doc.line(*rd.groups_path),
                                     "promtool rejects the rule file", evidence=errors[:5] or [f"exit {proc.returncode}"],
                                     command=f"promtool check rules {rd.doc.file}"))
                rejected.update((rd.doc.file, g.get("name"), i) for g in rd.groups if isinstance(g, dict)
                                for i in range(len(g.get("rules") or [])))
    return rejected
