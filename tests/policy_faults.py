"""Kyverno and Falco faults synth does not offer, written as Kyverno 1.12 / Falco 0.38 show them.

Every custom resource touched is validated against its CRD schema; events carry the exact message
formats of the controllers that write them; Falco alerts are the JSON lines `json_output: true` prints.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from schema_validation import validate_object

from synth import faults
from synth.builder import PlatformBuilder, Workload
from synth.meta import bump, condition

Obj = dict[str, Any]
KYVERNO_NS = "kyverno"
FALCO_NS = "falco"


# ---------------------------------------------------------------- Kyverno


def policy_not_ready(b: PlatformBuilder, name: str = "pod-security", message: str = "Not ready yet") -> Obj:
    """The policy was edited and the admission controller has not registered it in its webhooks."""
    pol = b.require("ClusterPolicy", None, name)
    bump(pol, generation=True)
    pol["status"]["conditions"] = [condition("Ready", "False", "Failed", message, b.now - timedelta(minutes=7))]
    pol["status"]["ready"] = False
    validate_object(pol)
    b.refresh()
    return pol


def webhook_unreachable(b: PlatformBuilder, tenant: Workload) -> list[Obj]:
    """Every Kyverno admission controller pod is OOMKilled; a tenant rollout cannot create pods because
    the API server cannot call the fail-closed webhook (no endpoints behind kyverno-svc)."""
    pods = [p for p in b.list("Pod", KYVERNO_NS) if p["metadata"]["name"].startswith("kyverno-admission-controller-")]
    for p in pods:
        faults.oomkilled(b, p, restarts=5)
    faults.rollout(b, tenant, lambda t: t["metadata"].setdefault("annotations", {}).update(
        {"checksum/config": "rotated"}), since=timedelta(minutes=12), new_pods=0)
    rs = tenant.replicaset
    message = ('Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: '
               'Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": no endpoints available for '
               'service "kyverno-svc"')
    faults._replica_failure(b, tenant, rs, message, timedelta(minutes=12), 21)
    b.refresh()
    return pods


def report_result(b: PlatformBuilder, resource: Obj, policy: str, result: str, message: str) -> Obj:
    """Turn one policy's result in the resource's (Kyverno 1.12, per-resource) PolicyReport to `result`."""
    md = resource["metadata"]
    rep = b.require("PolicyReport", md["namespace"], md["uid"])
    for r in rep["results"]:
        if r["policy"] == policy:
            r["result"] = result
            r["message"] = message
    summary = {"error": 0, "fail": 0, "pass": 0, "skip": 0, "warn": 0}
    for r in rep["results"]:
        summary[r["result"]] += 1
    rep["summary"] = summary
    bump(rep)
    validate_object(rep)
    return rep


# ---------------------------------------------------------------- Falco


def falco_pods(b: PlatformBuilder) -> list[Obj]:
    return sorted((p for p in b.list("Pod", FALCO_NS) if p["metadata"]["name"].startswith("falco-")),
                  key=lambda p: p["metadata"]["name"])


def falco_alert(when: datetime, rule: str, priority: str, output: str, fields: dict[str, Any], host: str,
                tags: list[str]) -> str:
    """One alert as Falco 0.38 prints it with json_output: true."""
    nanos = f"{when.strftime('%Y-%m-%dT%H:%M:%S')}.{when.microsecond:06d}123Z"
    return json.dumps({
        "hostname": host,
        "output": f"{when.strftime('%H:%M:%S')}.{when.microsecond:06d}123: {priority} {output}",
        "output_fields": {"evt.time": int(when.timestamp() * 1_000_000_000), **fields},
        "priority": priority, "rule": rule, "source": "syscall", "tags": tags, "time": nanos,
    }, separators=(",", ":"))


def add_falco_alerts(b: PlatformBuilder, pod: Obj, lines: list[str]) -> None:
    key = (pod["metadata"]["namespace"], pod["metadata"]["name"], "falco", False)
    b.logs[key] = (b.logs.get(key) or "") + "\n".join(lines) + "\n"


def shell_in_api(b: PlatformBuilder, tenant_ns: str, count: int = 3) -> tuple[Obj, Obj]:
    """Someone opened a shell in a tenant API pod and read credentials: Falco logs Warning and Critical."""
    api = sorted((p for p in b.list("Pod", tenant_ns) if p["metadata"]["name"].startswith("api-")),
                 key=lambda p: p["metadata"]["name"])[0]
    node = api["spec"]["nodeName"]
    falco = next(p for p in falco_pods(b) if p["spec"]["nodeName"] == node)
    base = {"container.id": "3f1a9c2b7d4e", "container.image.repository": "ghcr.io/monobaselabs/api",
            "k8s.ns.name": tenant_ns, "k8s.pod.name": api["metadata"]["name"], "user.name": "node"}
    lines = []
    for i in range(count):
        when = b.now - timedelta(minutes=30 - i * 4)
        lines.append(falco_alert(
            when, "Terminal shell in container", "Notice",
            "A shell was spawned in a container with an attached terminal (user=node container_id=3f1a9c2b7d4e "
            "image=ghcr.io/monobaselabs/api shell=sh parent=runc cmdline=sh -i)",
            {**base, "proc.cmdline": "sh -i", "proc.name": "sh"}, node, ["container", "shell", "mitre_execution"]))
        lines.append(falco_alert(
            when + timedelta(seconds=20), "Unexpected process in API container", "Warning",
            "Unexpected process in API container (command=curl -H Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6 "
            f"pod={api['metadata']['name']} ns={tenant_ns})",
            {**base, "proc.cmdline": "curl -s -H Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.payload "
                                     "https://10.96.0.1/api/v1/secrets", "proc.name": "curl"},
            node, ["api", "process"]))
    lines.append(falco_alert(
        b.now - timedelta(minutes=9), "Read sensitive file untrusted", "Critical",
        "Sensitive file opened for reading by non-trusted program (file=/etc/shadow "
        f"pod={api['metadata']['name']})",
        {**base, "fd.name": "/etc/shadow", "proc.cmdline": "cat /etc/shadow", "proc.name": "cat"},
        node, ["filesystem", "mitre_credential_access"]))
    # An old alert (two days ago) and a Notice-only rule must not be reported.
    lines.append(falco_alert(
        b.now - timedelta(days=2), "Read sensitive file untrusted", "Critical", "old event",
        {**base, "proc.cmdline": "cat /etc/shadow"}, node, ["filesystem"]))
    add_falco_alerts(b, falco, lines)
    return api, falco
