"""The platform's alert catalogue (knowledge/alerts.yaml) and its renderings.

One data file feeds `sre-expert rules` (PrometheusRule or plain rule file), the Alertmanager webhook
(alert name → runbook, component, the object the alert names) and `lint` (a repo's rules against it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

SEVERITIES = ("critical", "warning")


@dataclass(frozen=True, slots=True)
class ScopeLabel:
    """An alert label that names an object of `kind` (e.g. `persistentvolumeclaim` → PersistentVolumeClaim)."""

    label: str
    kind: str


@dataclass(frozen=True, slots=True)
class AlertRule:
    group: str
    alert: str
    severity: str
    for_: str
    expr: str
    threshold: dict[str, Any]
    summary: str
    description: str
    runbook: str
    component: str
    scope: tuple[ScopeLabel, ...]

    @property
    def threshold_text(self) -> str:
        """The comparison in words for tables and prose, e.g. `> 85 percent`, `< 7 days`."""
        t = self.threshold
        value = t["value"]
        return f"{t['op']} {int(value) if float(value).is_integer() else value} {t['unit']}"

    def prometheus_rule(self) -> dict[str, Any]:
        """This rule as Prometheus writes it in a rule group."""
        return {
            "alert": self.alert,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, "component": self.component},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook": self.runbook,
            },
        }


@cache
def load_alert_rules() -> tuple[AlertRule, ...]:
    """Every rule of the six groups, in file order."""
    text = (resources.files("sre_expert") / "knowledge" / "alerts.yaml").read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: list[AlertRule] = []
    for group in doc["groups"]:
        for r in group["rules"]:
            out.append(
                AlertRule(
                    group=group["name"],
                    alert=r["alert"],
                    severity=r["severity"],
                    for_=r["for"],
                    expr=r["expr"],
                    threshold=dict(r["threshold"]),
                    summary=r["summary"],
                    description=r["description"],
                    runbook=r["runbook"],
                    component=r["component"],
                    scope=tuple(ScopeLabel(s["label"], s["kind"]) for s in r.get("scope") or ()),
                )
            )
    return tuple(out)


def alert_rule(name: str) -> AlertRule | None:
    """The catalogue entry of an alert name, or None for alerts this platform does not define."""
    for r in load_alert_rules():
        if r.alert == name:
            return r
    return None


def group_names() -> list[str]:
    seen: dict[str, None] = {}
    for r in load_alert_rules():
        seen.setdefault(r.group, None)
    return list(seen)


def rule_groups() -> list[dict[str, Any]]:
    """The `groups:` list shared by both renderings."""
    return [
        {"name": g, "rules": [r.prometheus_rule() for r in load_alert_rules() if r.group == g]}
        for g in group_names()
    ]


def rule_file() -> dict[str, Any]:
    """A plain Prometheus rule file (`rule_files:` / `promtool check rules`)."""
    return {"groups": rule_groups()}


def prometheus_rule(name: str = "platform-alerts", namespace: str = "monitoring",
                    labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The same groups as a prometheus-operator PrometheusRule (monitoring.coreos.com/v1)."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": dict(labels or {"app.kubernetes.io/part-of": "kube-prometheus", "release": "kube-prometheus"}),
        },
        "spec": {"groups": rule_groups()},
    }


GITOPS_PATH = "infrastructure/monitoring/prometheus-rules.yaml"
"""Where the platform's GitOps repository keeps these rules."""


def render_yaml(doc: dict[str, Any], header: str = "") -> str:
    """`doc` as block YAML in the order Prometheus documents it (no key sorting, no line folding, so
    PromQL and templates stay on one line each), after `header` written as `#` comment lines."""
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100_000, allow_unicode=True)
    lines = [f"# {ln}".rstrip() for ln in header.splitlines()]
    return ("\n".join(lines) + "\n" if lines else "") + body
