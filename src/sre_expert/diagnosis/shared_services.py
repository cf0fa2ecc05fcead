"""The platform's shared services as causes: cluster DNS, admission webhooks, aggregated APIs (the metrics
API among them), the CNI and CSI drivers.

One broken shared service shows up in many places at once: every workload whose resolver times out, every
ExternalSecret and Argo CD Application that cannot reach its remote, every controller whose creates the
API server refuses because it cannot call a webhook. Each of those findings names the service in its own
evidence (the resolver error, `failed calling webhook "…"`, `(get pods.metrics.k8s.io)`, `plugin type=
"calico" failed`, `driver name … not found`). Here each shared service becomes a subject key that

- the findings about the objects that run it speak for (its Service, pods, controllers, configuration), and
- the findings whose title or evidence names its failure depend on,

so the linker puts every symptom under the one finding about the service. A finding that itself speaks for
the service never depends on it (no self-made cycles). When the service is healthy nothing speaks for its
key and the symptoms stay what they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sre_expert.core.model import Finding, Key, key_of
from sre_expert.core.snapshot import Snapshot
from sre_expert.domain.admission import webhook_service

Obj = dict[str, Any]

SERVICE_KIND = "PlatformService"
"""Kind of the keys that stand for a shared service (not a Kubernetes kind: only findings use them)."""

DNS_FAILURE = re.compile(
    r"EAI_AGAIN|getaddrinfo|name resolver|Temporary failure in name resolution|no such host|"
    r"lookup \S+(?: on \S+)?: (?:read udp \S+: )?i/o timeout|lookup \S+ on \S+: server misbehaving|"
    r"could not translate host name|hostname resolving error",
    re.I,
)
DNS_WORDS = ("eai_again", "getaddrinfo", "resolv", "no such host", "lookup ", "translate host name")
"""Cheap substrings one of which every DNS_FAILURE match contains (most findings have none)."""
WEBHOOK_FAILURE = re.compile(r'failed calling webhook "([^"]+)"')
NO_ENDPOINTS = re.compile(r'no endpoints available for service "([a-z0-9-]+)"')
AGGREGATED_API = re.compile(
    r"the server is currently unable to handle the request \(get [a-z0-9-]+\.([a-z0-9.-]+)\)|"
    r"unable to fetch metrics from (resource|custom|external) metrics API|"
    r"no metrics returned from (resource) metrics API"
)
METRICS_GROUPS = {"resource": "metrics.k8s.io", "custom": "custom.metrics.k8s.io",
                  "external": "external.metrics.k8s.io"}
CNI_FAILURE = re.compile(
    r"failed to setup network for sandbox|failed to set up sandbox container .* network|"
    r"NetworkPluginNotReady|"
    r"cni plugin not initialized|network plugin is not ready",
    re.I,
)
CSI_FAILURE = re.compile(r"driver name ([A-Za-z0-9.-]+) not found in the list of registered CSI drivers")
CSI_REGISTRATION = re.compile(r"--kubelet-registration-path=/var/lib/kubelet/plugins/([^/\s]+)/")
CNI_DAEMONS = ("calico-node", "cilium", "kube-flannel", "aws-node", "weave-net", "kube-router",
               "antrea-agent", "canal", "kindnet", "azure-cns")


def service_key(name: str) -> Key:
    return (SERVICE_KIND, "", name)


@dataclass(slots=True)
class Services:
    """Per shared service (its key): the keys of the objects that run it."""

    backing: dict[Key, set[Key]] = field(default_factory=dict)

    def add(self, service: Key, keys: Iterable[Key]) -> None:
        self.backing.setdefault(service, set()).update(keys)


def add_shared_service_links(snap: Snapshot, findings: list[Finding]) -> None:
    """In place, before linking: findings about a shared service's objects speak for it; findings whose
    evidence names its failure depend on it."""
    services = Services()
    named = [failing_services(snap, _text(f)) for f in findings]
    for svcs in named:
        for svc in svcs:
            if svc not in services.backing:
                services.add(svc, backing_objects(snap, svc))
    if not services.backing:
        return
    for f in findings:
        own = set(f.subjects)
        for svc, keys in services.backing.items():
            # a Service already has findings of its own that chain down to its pods
            if svc[0] != "Service" and own & keys and svc not in f.subjects:
                f.subjects.append(svc)
    for f, svcs in zip(findings, named):
        for svc in svcs:
            if svc in f.subjects or svc in f.depends_on:
                continue
            f.depends_on.append(svc)


def _text(f: Finding, width: int = 2000) -> str:
    """The finding's own words: title and evidence lines (each cut to `width`, enough for any error)."""
    return "\n".join([f.title[:width], *(e[:width] for e in f.evidence)])


def failing_services(snap: Snapshot, text: str) -> list[Key]:
    """The shared services a finding's own words say failed, as keys (in order of first mention)."""
    out: list[Key] = []
    low = text.lower()
    if any(w in low for w in DNS_WORDS) and DNS_FAILURE.search(text):
        out.append(service_key("cluster-dns"))
    for m in WEBHOOK_FAILURE.finditer(text):
        out.append(("AdmissionWebhook", "", m.group(1)))
        svc = webhook_service(snap, m.group(1), text[m.end():])
        if svc is None:  # neither configuration nor URL: the Service the API server names, when unique
            named = NO_ENDPOINTS.search(text, m.end())
            found = [s for s in snap.list("Service") if named and s["metadata"]["name"] == named.group(1)]
            svc = key_of(found[0]) if len(found) == 1 else None
        if svc is not None:
            out.append(svc)
    aggregated = "metrics api" in low or "unable to handle the request" in low
    for m in AGGREGATED_API.finditer(text) if aggregated else ():
        group = m.group(1) or METRICS_GROUPS[m.group(2) or m.group(3)]
        out.extend(("APIService", "", a["metadata"]["name"]) for a in _api_services(snap, group))
        out.append(service_key(f"api:{group}"))
    if ("network" in low or "cni" in low) and CNI_FAILURE.search(text):
        out.append(service_key("cni"))
    for m in CSI_FAILURE.finditer(text):
        out.append(("CSIDriver", "", m.group(1)))
    return list(dict.fromkeys(out))


def backing_objects(snap: Snapshot, svc: Key) -> set[Key]:
    """The objects that run a shared service: what a finding must be about to speak for it."""
    kind, _, name = svc
    if kind == SERVICE_KIND and name == "cluster-dns":
        return _serving(snap, cluster_dns_services(snap))
    if kind == "AdmissionWebhook":
        keys: set[Key] = set()
        for cfg_kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            for cfg in snap.list(cfg_kind):
                for wh in cfg.get("webhooks") or ():
                    if wh.get("name") == name:
                        keys.add(key_of(cfg))
                        ref = (wh.get("clientConfig") or {}).get("service") or {}
                        s = snap.get("Service", ref.get("namespace") or "", ref.get("name") or "")
                        keys |= _serving(snap, [s] if s else [])
        return keys
    if kind == "Service":
        s = snap.get("Service", svc[1], name)
        return _serving(snap, [s]) if s else {svc}
    if kind == "APIService":
        a = snap.get("APIService", "", name)
        ref = ((a or {}).get("spec") or {}).get("service") or {}
        s = snap.get("Service", ref.get("namespace") or "", ref.get("name") or "")
        return {svc} | (_serving(snap, [s]) if s else set())
    if kind == SERVICE_KIND and name.startswith("api:"):
        keys = set()
        for a in _api_services(snap, name[4:]):
            keys |= backing_objects(snap, key_of(a))
        return keys
    if kind == SERVICE_KIND and name == "cni":
        daemons = [ds for ds in snap.list("DaemonSet") if ds["metadata"]["name"].startswith(CNI_DAEMONS)]
        return _controlled(snap, daemons)
    if kind == "CSIDriver":
        keys = {svc}
        for ds in snap.list("DaemonSet"):
            if any(m.group(1) == name for m in CSI_REGISTRATION.finditer(_args(ds))):
                keys |= _controlled(snap, [ds])
        return keys
    return set()


def cluster_dns_services(snap: Snapshot) -> list[Obj]:
    """The cluster DNS Service(s): labelled k8s-app=kube-dns (CoreDNS and kube-dns both keep that label)."""
    out = [s for s in snap.list("Service", "kube-system")
           if ((s["metadata"].get("labels") or {}).get("k8s-app") == "kube-dns")
           or s["metadata"]["name"] in ("kube-dns", "coredns", "rke2-coredns-rke2-coredns")]
    return out


def _serving(snap: Snapshot, services: list[Obj]) -> set[Key]:
    """Services, the pods they select and those pods' controllers up to the top."""
    keys: set[Key] = set()
    for s in services:
        keys.add(key_of(s))
        for p in snap.service_pods(s):
            keys |= _pod_chain(snap, p)
    return keys


def _controlled(snap: Snapshot, controllers: list[Obj]) -> set[Key]:
    keys: set[Key] = set()
    for c in controllers:
        keys.add(key_of(c))
        for p in snap.pods_of(c):
            keys.add(key_of(p))
    return keys


def _pod_chain(snap: Snapshot, pod: Obj) -> set[Key]:
    keys = {key_of(pod)}
    cur = pod
    for _ in range(4):
        up = snap.controller_of(cur)
        if up is None:
            break
        keys.add(key_of(up))
        cur = up
    return keys


def _api_services(snap: Snapshot, group: str) -> list[Obj]:
    return [a for a in snap.list("APIService") if ((a.get("spec") or {}).get("group") or "") == group
            and (a.get("spec") or {}).get("service")]


def _args(workload: Obj) -> str:
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    return " ".join(str(a) for c in spec.get("containers") or () for a in (c.get("args") or ()))
