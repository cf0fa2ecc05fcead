#!/usr/bin/env python3
"""Generate a large, realistic platform bundle for benchmarks with synth.

    python benchmarks/generate.py --out /tmp/big [--pods 10000] [--namespaces 500] [--events 30000] [--seed 1]

What it builds (defaults), all with synth's builders so every object is what an API server returns:
- the reference platform (`synth.healthy_platform`: Envoy Gateway, cert-manager, ESO, Velero,
  kube-prometheus, Kyverno + Falco, Argo CD, Longhorn) with 4 real tenants;
- ~100 nodes (daemon sets run on all of them);
- tenant namespaces up to --namespaces, each one a full synth tenant (database StatefulSet + PVC,
  api Deployment + HPA + PDB, CronJob, ExternalSecrets, NetworkPolicies, ResourceQuota, ServiceMonitor)
  plus an HTTPRoute and 1-4 extra apps (Deployments, some with Services and a NetworkPolicy, a frequent
  CronJob) sized so the cluster holds about --pods pods;
- recent rollouts (pods younger than the 1 h event TTL) chosen so the bundle holds about --events events;
- faults from `synth.faults` on ~4% of the tenant workloads (crash loops with previous logs,
  OOMKilled, image pull errors, missing secrets, pending PVCs, failing probes, unschedulable pods,
  failed jobs) and two NotReady nodes;
and writes it with `synth.write_bundle` (kubectl's JSON: sorted keys, indent 4).

Scaling note: PlatformBuilder.list() is a linear scan and every fault ends with refresh(), which is
fine for test-sized clusters but quadratic here. `ScaledBuilder` below only indexes list() by kind and
namespace and defers refresh() to one final call; the objects built are the same.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# synth, the platform builder, is test support (tests/synth), not part of the installed package
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from synth import PlatformBuilder, Tenant, faults, healthy_platform, networking, write_bundle
from synth import gateway as gw
from synth import platform as plat
from synth import pods as podlib
from synth.meta import app_labels, fmt_bytes, fmt_cpu

try:  # the platform's own tenant builders (public since synth split platform.py)
    from synth.platform_tenants import add_policy_reports, add_tenant
except ImportError:  # earlier layout
    add_tenant, add_policy_reports = plat._tenant, plat._policy_reports  # type: ignore[attr-defined]

NOW = datetime(2025, 6, 3, 9, 30, 0, tzinfo=UTC)
BASE_TENANTS = ("mycure-production", "lfh-staging", "lfh-production", "mycure-staging")
PODS_PER_NODE = 90  # kubelet max is 110: keep headroom for daemon pods and NotReady-node replacements
EVENTS_PER_RECENT_POD = 6.5  # Scheduled, Pulling/Pulled, Created, Started + the ReplicaSet's SuccessfulCreate

ORGS = [
    "stlukes", "makati-med", "asian-hospital", "cardinal", "medical-city", "chong-hua", "perpetual", "fatima",
    "unihealth", "metro-north", "capitol", "manila-doctors", "hi-precision", "healthway", "maxicare", "qualimed",
    "victory", "riverside", "amosup", "doctors-hospital", "mary-johnston", "world-citi", "de-los-santos",
    "fe-del-mundo", "allied-care", "bethany", "calamba", "lipa", "batangas", "cebu-doctors", "davao-doctors",
    "iloilo", "bacolod", "baguio", "dagupan", "tarlac", "pampanga", "cavite", "laguna", "quezon", "naga",
    "legazpi", "tacloban", "zamboanga", "cagayan", "general-santos", "butuan", "tagum", "ormoc", "dumaguete",
]
ENVS = ["production", "staging", "uat", "demo", "sandbox", "training", "dr", "qa", "preview", "pilot"]

# Extra tenant apps: (name, image, port or None, requests cpu, requests memory, memory limit).
# Each tenant gets one front app with a Service (or, sometimes, a small redis StatefulSet) and 1-2
# backend apps without one, so the cluster has about 4 Services per tenant namespace.
FRONT_APPS = [
    ("web", "ghcr.io/monobaselabs/web:v3.4.1", 3000, "50m", "96Mi", "256Mi"),
    ("notifications", "ghcr.io/monobaselabs/notifications:v1.9.0", 8080, "50m", "128Mi", "256Mi"),
    ("pdf-renderer", "ghcr.io/monobaselabs/pdf-renderer:v1.3.2", 8080, "100m", "256Mi", "768Mi"),
    ("sync-gateway", "ghcr.io/monobaselabs/sync-gateway:v0.18.4", 8090, "50m", "128Mi", "256Mi"),
]
REDIS = ("redis", "docker.io/bitnami/redis:7.2.5", 6379, "50m", "64Mi", "256Mi")
BACKEND_APPS = [
    ("worker", "ghcr.io/monobaselabs/api:v2.14.3", None, "100m", "256Mi", "512Mi"),
    ("scheduler", "ghcr.io/monobaselabs/api:v2.14.3", None, "50m", "128Mi", "256Mi"),
    ("queue-consumer", "ghcr.io/monobaselabs/api:v2.14.3", None, "50m", "128Mi", "384Mi"),
    ("report-builder", "ghcr.io/monobaselabs/report-builder:v1.1.7", None, "100m", "192Mi", "512Mi"),
]


class ScaledBuilder(PlatformBuilder):
    """PlatformBuilder with list() indexed by (kind, namespace) and refresh() deferrable.

    Also adds `extra_workers` worker nodes right after the platform's own nodes (before the first
    namespace, so every DaemonSet covers them), and keeps those in `tenant_nodes` for placement.
    """

    def __init__(self, now: datetime, *, extra_workers: int = 0, **kw: Any):
        self._bench_by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._bench_by_kind_ns: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        super().__init__(now, **kw)
        self._extra_workers = extra_workers
        self._nodes_extended = False
        self.tenant_nodes: list[str] = []
        self.defer_refresh = False
        self.refresh_calls = 0

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        super().add(obj)
        self._bench_by_kind[obj["kind"]].append(obj)
        self._bench_by_kind_ns[(obj["kind"], obj["metadata"].get("namespace") or "")].append(obj)
        return obj

    def remove(self, obj: dict[str, Any]) -> None:
        md = obj["metadata"]
        key = (obj["kind"], md.get("namespace") or "", md["name"])
        if self._index.get(key) is not obj:
            return
        super().remove(obj)
        for lst in (self._bench_by_kind[obj["kind"]], self._bench_by_kind_ns[(obj["kind"], md.get("namespace") or "")]):
            for i, o in enumerate(lst):
                if o is obj:
                    del lst[i]
                    break

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        if namespace is None:
            return list(self._bench_by_kind.get(kind, ()))
        return list(self._bench_by_kind_ns.get((kind, namespace), ()))

    def refresh(self) -> None:
        self.refresh_calls += 1
        if not self.defer_refresh:
            super().refresh()

    def add_namespace(self, name: str, **kw: Any) -> dict[str, Any]:
        if not self._nodes_extended:
            self._nodes_extended = True
            first = len(self._node_order)
            for i in range(self._extra_workers):
                n = f"k8s-worker-{first + i}"
                zone = "abc"[i % 3]
                self.add_node(n, cpu=32, memory="128Gi", labels={
                    "node.kubernetes.io/instance-type": "n2-standard-32",
                    "topology.kubernetes.io/region": "asia-southeast1",
                    "topology.kubernetes.io/zone": f"asia-southeast1-{zone}",
                    "monobase.io/pool": "tenants"})
                self.tenant_nodes.append(n)
        return super().add_namespace(name, **kw)


def tenant_names(count: int, rng: random.Random, taken: set[str]) -> list[str]:
    out: list[str] = []
    combos = [(o, e) for e in ENVS for o in ORGS]
    rng.shuffle(combos)
    i = 0
    while len(out) < count:
        org, env = combos[i % len(combos)]
        brand = ("mycure", "lfh", "mycure", "mb")[(i * 7 + len(org)) % 4]
        name = f"{brand}-{org}-{env}" if i < len(combos) else f"{brand}-{org}-{env}-{i // len(combos)}"
        i += 1
        if name in taken or len(name) > 63:
            continue
        taken.add(name)
        out.append(name)
    return out


def tenant_spec(name: str) -> Tenant:
    if name.startswith("lfh-"):
        listener = "-lfh-stg" if any(name.endswith(s) for s in ("staging", "uat", "qa", "preview")) else "-lfh"
        return Tenant(name, "postgresql", listener)
    if name.startswith("mycure-"):
        return Tenant(name, "mongodb", "-mycure")
    return Tenant(name, "mongodb", "")


class NodeCycle:
    def __init__(self, names: list[str]):
        self.names = names
        self.i = 0

    def take(self, n: int) -> list[str]:
        out = [self.names[(self.i + k) % len(self.names)] for k in range(n)]
        self.i += n
        return out


def _quota(b: PlatformBuilder, ns: str) -> None:
    """Re-size the tenant's compute-quota to the apps added after it (the platform's own headroom rule)."""
    q = b.get("ResourceQuota", ns, "compute-quota")
    if q is None:
        return
    usage = b.namespace_usage(ns)

    def headroom(v: float, unit: float) -> float:
        return max(unit, ((v * 2) // unit + 1) * unit)

    hard = dict(q["spec"]["hard"])
    hard.update({
        "limits.cpu": fmt_cpu(headroom(usage["limits.cpu"], 1)),
        "limits.memory": fmt_bytes(headroom(usage["limits.memory"], 2**30)),
        "requests.cpu": fmt_cpu(headroom(usage["requests.cpu"], 1)),
        "requests.memory": fmt_bytes(headroom(usage["requests.memory"], 2**30)),
        "pods": str(max(30, int(math.ceil(usage["pods"] * 1.6 / 10)) * 10)),
    })
    q["spec"]["hard"] = hard


def add_extra_apps(b: ScaledBuilder, ns: str, pod_budget: int, recent: float, rng: random.Random,
                   nodes: NodeCycle, created: datetime) -> dict[str, list]:
    """1-4 extra apps in a tenant namespace using about `pod_budget` pods; `recent` = chance a Deployment
    was rolled out within the event TTL."""
    c_sc, p_sc = dict(podlib.RESTRICTED_CONTAINER_SC), podlib.restricted_pod_sc(1001)
    out: dict[str, list] = {"deployments": [], "statefulsets": [], "cronjobs": []}
    front = REDIS if rng.random() < 0.1 else rng.choice(FRONT_APPS)
    apps = [front] + rng.sample(BACKEND_APPS, k=1 if pod_budget < 8 else 2)
    left = pod_budget
    for idx, (name, image, port, cpu, mem, mem_lim) in enumerate(apps):
        if left <= 0:
            break
        share = left if idx == len(apps) - 1 else max(1, min(left, round(pod_budget / len(apps) * rng.uniform(0.6, 1.4))))
        left -= share
        labels = app_labels(name, ns, component=name, part_of="monobase", chart=f"{name}-1.2.0",
                            version=image.rsplit(":", 1)[-1])
        when = created + timedelta(minutes=10 + idx)
        if name == "redis":
            w = b.add_statefulset(
                ns, name, image=image, replicas=min(share, 3), ports=[("redis", 6379)], probe_path=None,
                requests={"cpu": cpu, "memory": mem}, limits={"memory": mem_lim}, security_context=c_sc,
                pod_security_context=p_sc, labels=labels, volume_claims={"redis-data": "8Gi"},
                volume_mounts=[{"mountPath": "/bitnami/redis/data", "name": "redis-data"}],
                node=nodes.take(1)[0], created=when, log_flavor=None)
            out["statefulsets"].append(w)
            left += share - min(share, 3)
            continue
        is_recent = rng.random() < recent
        ports = [("http", port)] if port else []
        w = b.add_deployment(
            ns, name, image, replicas=share, ports=ports, probe_path="/healthz" if port else None,
            env={"NODE_ENV": "production", "LOG_LEVEL": "info"},
            env_secrets={"JWT_SECRET": ("api-secrets", "JWT_SECRET")},
            requests={"cpu": cpu, "memory": mem}, limits={"memory": mem_lim}, security_context=c_sc,
            pod_security_context=p_sc, labels=labels, service=bool(port), node=nodes.take(share), created=when,
            revision=rng.randint(2, 9) if is_recent else rng.randint(1, 6),
            pod_age=timedelta(minutes=rng.randint(4, 55)) if is_recent else None)
        out["deployments"].append(w)
        if port:
            b.add(networking.network_policy(ns, f"allow-{name}", when,
                                            labels=app_labels("network-policies", ns, part_of="monobase"),
                                            pod_selector={"matchLabels": {"app.kubernetes.io/name": name}},
                                            ingress=[{"from": [{"podSelector": {}}, networking.ns_selector(plat.EG_NS)],
                                                      "ports": networking.np_ports(port)}]))
    return out


def choose_faults(n: int, rng: random.Random) -> list[str]:
    """Fault mix, weights summing to 1."""
    mix = [("crashloop", 0.28), ("oomkilled", 0.17), ("image_pull", 0.17), ("missing_secret", 0.10),
           ("pvc_pending", 0.08), ("probe_failure", 0.08), ("unschedulable", 0.05), ("job_failed", 0.04),
           ("missing_key", 0.03)]
    out: list[str] = []
    for kind, w in mix:
        out += [kind] * max(1, round(n * w))
    rng.shuffle(out)
    return out[:n]


def inject_faults(b: ScaledBuilder, tenants: list[str], rate: float, rng: random.Random,
                  not_ready_nodes: int) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    b.defer_refresh = True
    # a NotReady node or two first: their pods are replaced elsewhere, so pod faults avoid them
    bad_nodes = set(rng.sample(b.tenant_nodes, k=min(not_ready_nodes, len(b.tenant_nodes))))
    for n in sorted(bad_nodes):
        faults.node_not_ready(b, b.require("Node", None, n), since=timedelta(minutes=rng.randint(8, 40)))
        counts["node_not_ready"] += 1

    tenant_set = set(tenants)
    candidates = [w for w in b.workloads if w.namespace in tenant_set and w.kind in ("Deployment", "StatefulSet", "CronJob")]
    n_faults = round(len(candidates) * rate)
    plan = choose_faults(n_faults, rng) if n_faults > 0 else []
    rng.shuffle(candidates)
    used: set[int] = set()

    def healthy_pod(w) -> dict[str, Any] | None:
        live = [p for p in w.pods if b.get("Pod", w.namespace, p["metadata"]["name"]) is p
                and p["status"].get("phase") == "Running" and p["spec"].get("nodeName") not in bad_nodes
                and not p["metadata"].get("deletionTimestamp")
                and all(cs.get("ready") for cs in p["status"].get("containerStatuses", []))]
        return live[0] if live else None

    def pick(pred):
        for i, w in enumerate(candidates):
            if i not in used and pred(w):
                used.add(i)
                return w
        return None

    def has_secret_env(w) -> bool:
        return any("secretKeyRef" in (e.get("valueFrom") or {}) for c in w.template["spec"]["containers"]
                   for e in c.get("env", []))

    for kind in plan:
        try:
            if kind in ("crashloop", "oomkilled", "probe_failure"):
                w = pick(lambda w, kind=kind: w.kind in ("Deployment", "StatefulSet") and healthy_pod(w) is not None
                         and (kind != "probe_failure" or "readinessProbe" in w.template["spec"]["containers"][0]))
                if w is None:
                    continue
                pod = healthy_pod(w)
                if kind == "crashloop":
                    faults.crashloop(b, pod, restarts=rng.randint(4, 40), since=timedelta(minutes=rng.randint(10, 300)))
                elif kind == "oomkilled":
                    faults.oomkilled(b, pod, restarts=rng.randint(2, 12))
                else:
                    faults.probe_failure(b, pod)
            elif kind in ("image_pull", "unschedulable"):
                w = pick(lambda w: w.kind == "Deployment")
                if w is None:
                    continue
                if kind == "image_pull":
                    faults.image_pull_backoff(b, w, since=timedelta(minutes=rng.randint(5, 120)))
                else:
                    faults.unschedulable(b, w)
            elif kind in ("missing_secret", "missing_key"):
                w = pick(lambda w: w.kind == "Deployment" and has_secret_env(w) and healthy_pod(w) is not None)
                if w is None:
                    continue
                faults.create_container_config_error(b, healthy_pod(w), missing="secret" if kind == "missing_secret" else "key")
            elif kind == "pvc_pending":
                w = pick(lambda w: w.kind == "StatefulSet" and bool(w.pvcs))
                if w is None:
                    continue
                faults.pvc_pending(b, w, storage_class="longhorn-ssd")
            elif kind == "job_failed":
                w = pick(lambda w: w.kind == "CronJob")
                if w is None:
                    continue
                faults.job_failed(b, w)
            counts[kind] += 1
        except (ValueError, KeyError, IndexError) as e:  # a fault that does not fit its target is skipped
            counts[f"skipped:{kind}:{type(e).__name__}"] += 1
    b.defer_refresh = False
    return dict(counts)


def build(pods: int = 10_000, namespaces: int = 500, events: int = 30_000, seed: int = 1,
          fault_rate: float = 0.04, not_ready_nodes: int = 2, nodes: int | None = None,
          progress=lambda m: None) -> ScaledBuilder:
    rng = random.Random(seed)
    pods_goal, events_goal = math.ceil(pods * 1.01), math.ceil(events * 1.02)  # land at or above the asked sizes
    workers = max(0, (nodes if nodes else math.ceil(pods / PODS_PER_NODE)) - 3)  # besides the platform's 3
    b = ScaledBuilder(NOW, extra_workers=workers, cluster="monobase-prod")
    t0 = time.perf_counter()
    healthy_platform(b, tenants=[plat.tenant_for(t) for t in BASE_TENANTS])
    progress(f"  platform: {len(b.objects):,} objects, {len(b.list('Pod')):,} pods, "
             f"{len(b.list('Node'))} nodes ({time.perf_counter() - t0:.1f} s)")

    b.defer_refresh = True
    existing = {o["metadata"]["name"] for o in b.list("Namespace")}
    extra = max(0, namespaces - len(existing))
    names = tenant_names(extra, rng, set(existing))
    nodes = NodeCycle(b.tenant_nodes or b.node_names(schedulable_only=True))
    pods_now = len(b.list("Pod"))
    per_tenant_core = 6  # database, 2 api replicas, 3 session-cleanup job pods
    # NotReady nodes' evicted pods are replaced elsewhere (both stay listed): leave room for them
    replaced = not_ready_nodes * (pods // max(1, len(b.node_names())))
    budget_total = max(0, pods_goal - pods_now - per_tenant_core * extra - replaced)
    ev_start = len(b.list("Event"))
    fault_events = 12 * fault_rate * extra * 5 + not_ready_nodes * PODS_PER_NODE * 2  # rough: faults add these
    tenants_done: list[str] = []
    for i, ns in enumerate(names):
        t = tenant_spec(ns)
        add_tenant(b, t, 1 + i % 3)  # the platform's own tenant builder; index only sets its age (90/60/30 days)
        created = b._ns_created(ns)
        # route per tenant on the shared gateway, under the tenant's wildcard domain
        domain = next(h for s, h, _ in plat.DOMAINS if s == t.listener)[2:]
        b.add(gw.httproute(ns, "api", [f"{ns}.{domain}"],
                           [gw.parent_ref(plat.GATEWAY_NS, plat.GATEWAY_NAME, s)
                            for s in (f"https{t.listener}", f"http{t.listener}")],
                           [gw.backend_ref("api", 8080)], created + timedelta(minutes=6),
                           labels=app_labels("api", ns, part_of="monobase")))
        # pods left spread evenly over the namespaces left, with some variation
        remaining_ns = extra - i
        budget = max(0, round(budget_total / max(1, remaining_ns) * rng.uniform(0.5, 1.5))) if remaining_ns > 1 else budget_total
        budget = min(budget, budget_total)
        # events: keep on the line from where we are to the target, via the share of recent rollouts
        want = ev_start + (events_goal - ev_start - fault_events) * (i + 1) / max(1, extra)
        have = len(b.list("Event"))
        recent = min(1.0, max(0.0, (want - have) / max(1.0, budget * EVENTS_PER_RECENT_POD)))
        before = len(b.list("Pod"))
        add_extra_apps(b, ns, budget, recent, rng, nodes, created)
        budget_total -= len(b.list("Pod")) - before
        _quota(b, ns)
        tenants_done.append(ns)
        if (i + 1) % 50 == 0:
            progress(f"  tenants {i + 1}/{extra}: {len(b.objects):,} objects, {len(b.list('Pod')):,} pods, "
                     f"{len(b.list('Event')):,} events ({time.perf_counter() - t0:.1f} s)")
    # Kyverno background scans report on every tenant object, as for the platform's own tenants
    add_policy_reports(b, [Tenant(ns) for ns in tenants_done])
    # Velero's tenant schedule backs up every tenant namespace (Backups copy the schedule's template)
    sched = b.get("Schedule", "velero", "tenant-databases-daily")
    if sched is not None:
        lists = [sched["spec"]["template"]["includedNamespaces"]]
        lists += [bk["spec"]["includedNamespaces"] for bk in b.list("Backup", "velero")
                  if bk["metadata"]["labels"].get("velero.io/schedule-name") == "tenant-databases-daily"]
        for lst in {id(x): x for x in lists}.values():
            lst.extend(ns for ns in tenants_done if ns not in lst)
    progress(f"  tenants done: {len(b.objects):,} objects ({time.perf_counter() - t0:.1f} s)")
    b.defer_refresh = False

    counts = inject_faults(b, tenants_done, fault_rate, rng, not_ready_nodes)
    b.fault_counts = counts  # type: ignore[attr-defined]
    progress(f"  faults: {counts} ({time.perf_counter() - t0:.1f} s)")
    b.refresh()
    for ns in tenants_done:
        _quota(b, ns)
    b.refresh_quotas()
    progress(f"  refreshed ({time.perf_counter() - t0:.1f} s)")
    return b


def dir_size(path: Path) -> tuple[int, int, int]:
    """(bytes of all files, files, bytes in allocated blocks as `du` counts them)."""
    total = files = blocks = 0
    for root, _, names in os.walk(path):
        for n in names:
            st = os.stat(os.path.join(root, n))
            total += st.st_size
            blocks += st.st_blocks * 512
            files += 1
    return total, files, blocks


def generate(out: str | Path, pods: int = 10_000, namespaces: int = 500, events: int = 30_000, seed: int = 1,
             progress=lambda m: None, **kw: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    b = build(pods, namespaces, events, seed, progress=progress, **kw)
    t_build = time.perf_counter() - t0
    write_bundle(b, out)
    t_write = time.perf_counter() - t0 - t_build
    out_path = Path(out)
    if out_path.is_dir():
        size, files, blocks = dir_size(out_path)
    else:
        st = out_path.stat()
        size, files, blocks = st.st_size, 1, st.st_blocks * 512
    kinds: dict[str, int] = defaultdict(int)
    for o in b.objects:
        kinds[o["kind"]] += 1
    return {"path": str(out), "bytes": size, "disk_bytes": blocks, "files": files, "objects": len(b.objects), "logs": len(b.logs),
            "kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])), "faults": getattr(b, "fault_counts", {}),
            "build_seconds": t_build, "write_seconds": t_write}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="bundle directory to create (or .tar.gz)")
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=500)
    ap.add_argument("--events", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fault-rate", type=float, default=0.04, help="share of tenant workloads given a fault")
    ap.add_argument("--not-ready-nodes", type=int, default=2)
    ap.add_argument("--nodes", type=int, help=f"nodes in all (default: one per {PODS_PER_NODE} pods; the Kubernetes "
                    "scalability envelope is 150,000 pods on 5,000 nodes)")
    args = ap.parse_args(argv)

    def progress(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    info = generate(args.out, args.pods, args.namespaces, args.events, args.seed, progress=progress,
                    fault_rate=args.fault_rate, not_ready_nodes=args.not_ready_nodes, nodes=args.nodes)
    k = info["kinds"]
    print(f"bundle: {info['path']}")
    print(f"  size on disk: {info['bytes'] / 1e6:,.1f} MB in {info['files']:,} files "
          f"({info['disk_bytes'] / 1e6:,.1f} MB allocated, as du counts) "
          f"({info['objects']:,} objects, {info['logs']:,} container logs)")
    print(f"  pods {k.get('Pod', 0):,}, namespaces {k.get('Namespace', 0):,}, events {k.get('Event', 0):,}, "
          f"nodes {k.get('Node', 0)}, services {k.get('Service', 0):,}, endpointslices {k.get('EndpointSlice', 0):,}, "
          f"deployments {k.get('Deployment', 0):,}, replicasets {k.get('ReplicaSet', 0):,}, "
          f"statefulsets {k.get('StatefulSet', 0):,}, pvcs {k.get('PersistentVolumeClaim', 0):,}, "
          f"hpas {k.get('HorizontalPodAutoscaler', 0):,}, quotas {k.get('ResourceQuota', 0):,}, "
          f"networkpolicies {k.get('NetworkPolicy', 0):,}")
    print(f"  faults: {info['faults']}")
    print(f"  built in {info['build_seconds']:.1f} s, written in {info['write_seconds']:.1f} s")
    short = [f"{what} {have:,} < {want:,}" for what, have, want in (
        ("pods", k.get("Pod", 0), args.pods), ("events", k.get("Event", 0), args.events),
        ("namespaces", k.get("Namespace", 0), args.namespaces)) if have < want]
    if short:
        print(f"  warning: below the asked size: {', '.join(short)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
