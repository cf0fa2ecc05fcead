"""Kyverno 1.12 ClusterPolicies (with the autogen status Kyverno writes) and per-resource PolicyReports."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from synth.meta import condition, new_object

KYVERNO_API = "kyverno.io/v1"
REPORT_API = "wgpolicyk8s.io/v1alpha2"
POD_CONTROLLERS = ["DaemonSet", "Deployment", "Job", "ReplicaSet", "ReplicationController", "StatefulSet"]
SYSTEM_NAMESPACES = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "kyverno",
    "falco",
    "longhorn-system",
    "monitoring",
    "velero",
    "envoy-gateway-system",
    "cert-manager",
    "external-secrets-system",
    "argocd",
]


def _wrap(pattern: Any, prefix: Sequence[str]) -> Any:
    out = pattern
    for key in reversed(prefix):
        out = {key: out}
    return out


def _autogen(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The controller and CronJob variants Kyverno derives from a Pod rule (pod-policies autogen)."""
    out = []
    for name, kinds, prefix in (
        (f"autogen-{rule['name']}", POD_CONTROLLERS, ["spec", "template"]),
        (f"autogen-cronjob-{rule['name']}", ["CronJob"], ["spec", "jobTemplate", "spec", "template"]),
    ):
        r = copy.deepcopy(rule)
        r["name"] = name
        for clause in r["match"].get("any", []):
            clause["resources"]["kinds"] = list(kinds)
        v = r.get("validate", {})
        if "pattern" in v:
            v["pattern"] = _wrap(v["pattern"], prefix)
        out.append(r)
    return out


def rule(
    name: str,
    *,
    validate: Mapping[str, Any],
    kinds: Sequence[str] = ("Pod",),
    exclude_namespaces: Sequence[str] = SYSTEM_NAMESPACES,
) -> dict[str, Any]:
    r: dict[str, Any] = {
        "match": {"any": [{"resources": {"kinds": list(kinds)}}]},
        "name": name,
        "skipBackgroundRequests": True,
        "validate": dict(validate),
    }
    if exclude_namespaces:
        r["exclude"] = {"any": [{"resources": {"namespaces": list(exclude_namespaces)}}]}
    return r


def cluster_policy(
    name: str,
    rules: Sequence[dict[str, Any]],
    created: datetime,
    *,
    action: str = "Enforce",
    category: str,
    severity: str,
    title: str,
    description: str,
    ready: bool = True,
    labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    obj = new_object(
        "ClusterPolicy",
        name,
        None,
        created,
        api_version=KYVERNO_API,
        labels=labels,
        annotations={
            "kyverno.io/kubernetes-version": "1.28-1.32",
            "kyverno.io/kyverno-version": "1.12.0",
            "policies.kyverno.io/category": category,
            "policies.kyverno.io/description": description,
            "policies.kyverno.io/severity": severity,
            "policies.kyverno.io/subject": "Pod",
            "policies.kyverno.io/title": title,
        },
    )
    obj["spec"] = {
        "admission": True,
        "background": True,
        "rules": [dict(r) for r in rules],
        "validationFailureAction": action,
    }
    when = created + timedelta(seconds=6)
    autogen = [a for r in rules if r["match"]["any"][0]["resources"]["kinds"] == ["Pod"] for a in _autogen(r)]
    obj["status"] = {
        "autogen": {"rules": autogen},
        "conditions": [
            condition("Ready", "True", "Succeeded", "Ready", when)
            if ready
            else condition("Ready", "False", "Failed", "Not ready yet", when)
        ],
        "ready": ready,
        "rulecount": {"generate": 0, "mutate": 0, "validate": len(rules), "verifyimages": 0},
        "validatingadmissionpolicy": {"generated": False, "message": ""},
    }
    return obj


def platform_policies(created: datetime, approved_registries: Sequence[str]) -> list[dict[str, Any]]:
    """pod-security (Restricted, Enforce), restrict-registries (Audit), require-labels (Audit)."""
    registries = " | ".join(f"{r}*" for r in approved_registries)
    return [
        cluster_policy(
            "pod-security",
            [
                rule(
                    "restricted",
                    validate={
                        "message": "Pods must meet the Restricted Pod Security Standard.",
                        "podSecurity": {"level": "restricted", "version": "latest"},
                    },
                )
            ],
            created,
            action="Enforce",
            category="Pod Security Standards (Restricted)",
            severity="high",
            title="Pod Security Restricted",
            description="Enforce the Restricted profile: non-root, no privilege escalation, drop ALL, seccomp.",
        ),
        cluster_policy(
            "restrict-registries",
            [
                rule(
                    "validate-registries",
                    validate={
                        "message": "Images must come from an approved registry.",
                        "pattern": {"spec": {"containers": [{"image": registries}]}},
                    },
                )
            ],
            created,
            action="Audit",
            category="Best Practices",
            severity="medium",
            title="Restrict Image Registries",
            description="Only images from approved registries may run.",
        ),
        cluster_policy(
            "require-labels",
            [
                rule(
                    "check-for-labels",
                    validate={
                        "message": "The labels app.kubernetes.io/name and app.kubernetes.io/instance are required.",
                        "pattern": {
                            "metadata": {
                                "labels": {"app.kubernetes.io/instance": "?*", "app.kubernetes.io/name": "?*"}
                            }
                        },
                    },
                )
            ],
            created,
            action="Audit",
            category="Best Practices",
            severity="medium",
            title="Require Labels",
            description="Workloads must carry the standard Kubernetes labels.",
        ),
    ]


def policy_result(
    policy: dict[str, Any], rule_name: str, result: str, when: datetime, message: str
) -> dict[str, Any]:
    ann = policy["metadata"]["annotations"]
    return {
        "category": ann["policies.kyverno.io/category"],
        "message": message,
        "policy": policy["metadata"]["name"],
        "result": result,
        "rule": rule_name,
        "scored": True,
        "severity": ann["policies.kyverno.io/severity"],
        "source": "kyverno",
        "timestamp": {"nanos": 0, "seconds": int(when.timestamp())},
    }


def policy_report(
    resource: dict[str, Any], results: Sequence[dict[str, Any]], created: datetime
) -> dict[str, Any]:
    """One report per resource, named by its uid and owned by it (Kyverno 1.12 layout)."""
    md = resource["metadata"]
    obj = new_object(
        "PolicyReport",
        md["uid"],
        md["namespace"],
        created,
        api_version=REPORT_API,
        labels={"app.kubernetes.io/managed-by": "kyverno"},
        owners=[
            {
                "apiVersion": resource["apiVersion"],
                "kind": resource["kind"],
                "name": md["name"],
                "uid": md["uid"],
            }
        ],
    )
    obj["results"] = list(results)
    obj["scope"] = {
        "apiVersion": resource["apiVersion"],
        "kind": resource["kind"],
        "name": md["name"],
        "namespace": md["namespace"],
        "uid": md["uid"],
    }
    summary = {"error": 0, "fail": 0, "pass": 0, "skip": 0, "warn": 0}
    for r in results:
        summary[r["result"]] += 1
    obj["summary"] = summary
    return obj


def passing_report(
    resource: dict[str, Any], policies: Sequence[dict[str, Any]], when: datetime
) -> dict[str, Any]:
    """Report with a pass for every rule that applies to this resource kind."""
    pod_level = resource["kind"] == "Pod"
    results = []
    for p in policies:
        for r in p["spec"]["rules"]:
            name = (
                r["name"]
                if pod_level
                else (
                    f"autogen-cronjob-{r['name']}"
                    if resource["kind"] == "CronJob"
                    else f"autogen-{r['name']}"
                )
            )
            results.append(policy_result(p, name, "pass", when, f"validation rule '{name}' passed."))
    return policy_report(resource, results, when)
