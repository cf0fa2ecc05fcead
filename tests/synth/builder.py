"""PlatformBuilder: assembles a consistent synthetic cluster object by object.

It owns what must agree across objects — node and IP allocation, owner references, pods and the
endpoints and statuses derived from them, events and logs — so callers only say *what* runs where.
Every `add_*` returns the objects it created; callers mutate them (or use `faults`) and call
`refresh()` to re-derive controller statuses, endpoints, quota usage and platform CR status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sre_expert.core.units import quantity
from synth import config, networking, nodes, storage, workloads
from synth import pods as podlib
from synth.builder_jobs import JobAdders
from synth.builder_pods import EVENT_TTL, PodMaker
from synth.builder_workloads import WorkloadAdders
from synth.events import event, scheduler_event
from synth.meta import fmt_bytes, fmt_cpu, number, parse_ts, safe_suffix
from synth.workload import Workload

__all__ = ["EVENT_TTL", "LogKey", "PlatformBuilder", "Workload"]

LogKey = tuple[str, str, str, bool]


class PlatformBuilder(WorkloadAdders, JobAdders, PodMaker):
    """Builds a cluster as `kubectl get -o json` would return it at `now`."""

    def __init__(
        self,
        now: datetime,
        *,
        cluster: str = "monobase-prod",
        kubernetes_version: str = nodes.KUBELET_VERSION,
    ):
        self.now = now.replace(microsecond=0)
        self.cluster = cluster
        self.kubernetes_version = kubernetes_version
        self.cluster_created = self.now - timedelta(days=214, hours=5)
        self.objects: list[dict[str, Any]] = []
        self.logs: dict[LogKey, str] = {}
        self.workloads: list[Workload] = []
        self._index: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._by_kind: dict[str, list[dict[str, Any]]] = {}
        self._pod_workload: dict[str, Workload] = {}
        self._node_order: list[str] = []
        self._node_index: dict[str, int] = {}
        self._pod_ip_next: dict[str, int] = {}
        self._svc_ip_next = 0
        self._rr = 0
        self._node_port_next = 30080
        self.refreshers: list[Callable[[PlatformBuilder], None]] = []
        self.state: dict[str, Any] = {}
        """Inputs of derived platform status (e.g. Argo CD last-sync times), keyed by module."""

    # ------------------------------------------------------------ registry

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Register one object; a second object with the same kind/namespace/name is a bug."""
        md = obj["metadata"]
        key = (obj["kind"], md.get("namespace") or "", md["name"])
        if key in self._index:
            raise ValueError(f"duplicate object {key}")
        self._index[key] = obj
        self.objects.append(obj)
        self._by_kind.setdefault(obj["kind"], []).append(obj)
        return obj

    def pod_name(self, namespace: str, base: str, *parts: object) -> str:
        """`base-xxxxx` as a controller names a pod; on a clash with an existing pod another suffix, as the
        controller retries (5 letters collide once some thousand pods share a base: a DaemonSet on 2,500 nodes)."""
        name = f"{base}-{safe_suffix(*parts)}"
        retry = 0
        while ("Pod", namespace, name) in self._index:
            retry += 1
            name = f"{base}-{safe_suffix(*parts, retry)}"
        return name

    def remove(self, obj: dict[str, Any]) -> None:
        md = obj["metadata"]
        key = (obj["kind"], md.get("namespace") or "", md["name"])
        if self._index.get(key) is obj:
            del self._index[key]
            self.objects.remove(obj)
            self._by_kind[obj["kind"]].remove(obj)

    def remove_events(self, about: dict[str, Any], reason: str | None = None) -> int:
        """Drop events whose involvedObject is `about` (optionally only one reason). Returns how many."""
        uid_ = about["metadata"]["uid"]
        doomed = [
            e
            for e in self.list("Event")
            if e["involvedObject"].get("uid") == uid_ and (reason is None or e["reason"] == reason)
        ]
        for e in doomed:
            self.remove(e)
        return len(doomed)

    def delete(self, obj: dict[str, Any]) -> None:
        """Remove an object as if deleted from the cluster: with its events, logs and workload membership."""
        self.remove(obj)
        self.remove_events(obj)
        if obj["kind"] == "Pod":
            ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
            for key in [k for k in self.logs if k[0] == ns and k[1] == name]:
                del self.logs[key]
            w = self._pod_workload.pop(obj["metadata"]["uid"], None)
            for wl in self.workloads:
                if wl is w or obj in wl.pods:
                    wl.pods = [p for p in wl.pods if p is not obj]

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self._index.get((kind, namespace or "", name))

    def require(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.get(kind, namespace, name)
        if obj is None:
            raise KeyError(f"no {kind} {namespace or ''}/{name} in the builder")
        return obj

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        objs = self._by_kind.get(kind, [])
        if namespace is None:
            return list(objs)
        return [o for o in objs if o["metadata"].get("namespace") == namespace]

    def workload_of(self, pod: dict[str, Any]) -> Workload | None:
        return self._pod_workload.get(pod["metadata"]["uid"])

    def workload(self, kind: str, namespace: str, name: str) -> Workload:
        for w in self.workloads:
            if w.kind == kind and w.namespace == namespace and w.name == name:
                return w
        raise KeyError(f"no {kind} workload {namespace}/{name}")

    def ago(self, **kw: float) -> datetime:
        return self.now - timedelta(**kw)

    # ------------------------------------------------------------ cluster scaffolding

    def add_node(
        self,
        name: str,
        *,
        control_plane: bool = False,
        cpu: int = 8,
        memory: str = "32Gi",
        labels: Mapping[str, str] | None = None,
        taints: list[dict[str, Any]] | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        index = len(self._node_order)
        created = created or (self.cluster_created + timedelta(minutes=3 + 4 * index))
        obj = nodes.node(
            name,
            index,
            created=created,
            now=self.now,
            control_plane=control_plane,
            cpu=cpu,
            memory=memory,
            labels=dict(labels or {}),
            taints=taints,
        )
        self.add(obj)
        self._node_order.append(name)
        self._node_index[name] = index
        self._pod_ip_next[name] = 2 + number("ipstart", name, hi=8)
        self.add(nodes.node_lease(obj, self.now - timedelta(seconds=number("lease", name, lo=1, hi=9))))
        return obj

    def node_names(self, schedulable_only: bool = False) -> list[str]:
        out = []
        for n in self._node_order:
            node = self.require("Node", None, n)
            if schedulable_only and any(
                t["effect"] in ("NoSchedule", "NoExecute") for t in node["spec"].get("taints", [])
            ):
                continue
            out.append(n)
        return out

    def add_namespace(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        """Namespace plus what the control plane creates in it: the default ServiceAccount and kube-root-ca.crt."""
        created = created or (self.cluster_created + timedelta(hours=2, minutes=number("ns", name, hi=600)))
        ns = self.add(config.namespace(name, created, labels, annotations))
        self.add(config.service_account(name, "default", created))
        self.add(config.root_ca_config_map(name, created))
        return ns

    def add_service_account(
        self,
        namespace: str,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        existing = self.get("ServiceAccount", namespace, name)
        if existing:
            return existing
        return self.add(
            config.service_account(
                namespace, name, created or self._ns_created(namespace), labels, annotations
            )
        )

    def add_configmap(
        self,
        namespace: str,
        name: str,
        data: Mapping[str, str],
        *,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        return self.add(
            config.config_map(
                namespace,
                name,
                data,
                created or self._ns_created(namespace),
                labels=labels,
                annotations=annotations,
            )
        )

    def add_secret(
        self,
        namespace: str,
        name: str,
        keys: Mapping[str, str | None] | Sequence[str],
        *,
        type_: str = "Opaque",
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        owners: list[dict[str, Any]] | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        keys = list(keys) if not isinstance(keys, Mapping) else keys
        return self.add(
            config.secret(
                namespace,
                name,
                keys,
                created or self._ns_created(namespace),
                type_=type_,
                labels=labels,
                annotations=annotations,
                owners=owners,
            )
        )

    def add_pvc(
        self,
        namespace: str,
        name: str,
        size: str = "10Gi",
        *,
        storage_class: str | None = "longhorn",
        bound: bool = True,
        labels: Mapping[str, str] | None = None,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        """A PVC, bound to a freshly provisioned PV when `bound` (the PV is registered too)."""
        claim = self.add(
            storage.pvc(
                namespace,
                name,
                size,
                created or self._ns_created(namespace),
                storage_class_name=storage_class,
                labels=labels,
            )
        )
        if bound:
            self.add(storage.bind(claim))
        return claim

    def add_resource_quota(
        self, namespace: str, name: str, hard: Mapping[str, str], *, created: datetime | None = None
    ) -> dict[str, Any]:
        """ResourceQuota; status.used is recomputed from the namespace's pods and PVCs on refresh()."""
        return self.add(
            config.resource_quota(
                namespace, name, hard, {k: "0" for k in hard}, created or self._ns_created(namespace)
            )
        )

    def add_event(
        self,
        obj: dict[str, Any],
        reason: str,
        message: str,
        type_: str = "Normal",
        count: int = 1,
        *,
        first: datetime | None = None,
        last: datetime | None = None,
        component: str | None = None,
        host: str | None = None,
        field_path: str | None = None,
        reporting_instance: str | None = None,
    ) -> dict[str, Any]:
        """A core/v1 Event about obj. Defaults: kubelet events for pods (host = the pod's node)."""
        if last is None:
            last = (
                first
                if (first is not None and count == 1)
                else self.now - timedelta(seconds=number("evl", obj["metadata"]["uid"], reason, lo=5, hi=90))
            )
        if first is None:
            first = last if count == 1 else last - timedelta(minutes=min(55, 2 * count))
        if component is None:
            component = (
                "kubelet" if obj["kind"] == "Pod" else _CONTROLLER_COMPONENT.get(obj["kind"], "unknown")
            )
        if host is None and component == "kubelet":
            host = obj.get("spec", {}).get("nodeName") or (
                obj["metadata"]["name"] if obj["kind"] == "Node" else None
            )
        if component == "default-scheduler":
            ev = scheduler_event(
                obj,
                reason,
                message,
                first=first,
                last=last,
                type_=type_,
                count=count,
                scheduler_host=self._scheduler_host(),
            )
        else:
            ev = event(
                obj,
                reason,
                message,
                type_=type_,
                count=count,
                first=first,
                last=last,
                component=component,
                host=host,
                field_path=field_path,
                reporting_instance=reporting_instance,
                salt=str(len(self.objects)),
            )
        return self.add(ev)

    def add_log(self, pod: dict[str, Any], container: str, text: str, previous: bool = False) -> None:
        self.logs[(pod["metadata"]["namespace"], pod["metadata"]["name"], container, previous)] = text

    # ------------------------------------------------------------ allocation helpers

    def _ns_created(self, namespace: str) -> datetime:
        ns = self.get("Namespace", None, namespace)
        if ns is None:
            raise KeyError(f"namespace {namespace!r} must be added (add_namespace) before objects in it")
        return parse_ts(ns["metadata"]["creationTimestamp"]) + timedelta(
            minutes=1 + number("nsobj", namespace, hi=30)
        )

    def _scheduler_host(self) -> str:
        """The first control-plane node (found at the front of the list: this runs for every scheduler event)."""
        cp = next((n for n in self._node_order
                   if "node-role.kubernetes.io/control-plane" in self.require("Node", None, n)["metadata"]["labels"]),
                  None)
        return cp or (self._node_order[0] if self._node_order else "control-plane")

    def cluster_ip(self) -> str:
        self._svc_ip_next += 1
        n = 100 + self._svc_ip_next * 7
        return f"10.96.{n // 250}.{n % 250 + 2}"

    def _pod_ip(self, node_name: str) -> str:
        idx = self._node_index[node_name]
        n = self._pod_ip_next[node_name]
        self._pod_ip_next[node_name] = n + 1 + number("ipgap", node_name, n, hi=3)
        return f"10.244.{idx}.{n % 250 + 2}"

    def next_node_port(self) -> int:
        self._node_port_next += 1 + number("np", self._node_port_next, hi=600)
        return self._node_port_next

    def _pick_node(self, template_spec: dict[str, Any], node: str | None) -> str:
        if node:
            self.require("Node", None, node)
            return node
        candidates = [n for n in self._node_order if self._fits(template_spec, self.require("Node", None, n))]
        if not candidates:
            raise ValueError("no node can run this pod (add nodes first, or tolerate their taints)")
        name = candidates[self._rr % len(candidates)]
        self._rr += 1
        return name

    @staticmethod
    def _fits(spec: dict[str, Any], node_obj: dict[str, Any]) -> bool:
        for taint in node_obj["spec"].get("taints", []):
            if taint["effect"] in ("NoSchedule", "NoExecute") and not workloads.tolerates(
                spec.get("tolerations", []), taint
            ):
                return False
        labels = node_obj["metadata"].get("labels", {})
        return all(labels.get(k) == v for k, v in (spec.get("nodeSelector") or {}).items())

    # ------------------------------------------------------------ services

    def add_service(
        self,
        namespace: str,
        name: str,
        selector: Mapping[str, str] | None,
        ports: Sequence[networking.ServicePort],
        *,
        type_: str = "ClusterIP",
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        headless: bool = False,
        publish_not_ready: bool = False,
        cluster_ip: str | None = None,
        load_balancer_ip: str | None = None,
        external_traffic_policy: str = "Cluster",
        created: datetime | None = None,
        owners: list[dict[str, Any]] | None = None,
    ) -> tuple[dict, dict | None, dict | None]:
        """Service plus, for selector services, its EndpointSlice and Endpoints (filled on refresh)."""
        created = created or self._ns_created(namespace)
        node_ports = [self.next_node_port() for _ in ports] if type_ in ("LoadBalancer", "NodePort") else []
        hc = self.next_node_port() if type_ == "LoadBalancer" and external_traffic_policy == "Local" else None
        svc = self.add(
            networking.service(
                namespace,
                name,
                selector,
                ports,
                created,
                cluster_ip=None if headless else (cluster_ip or self.cluster_ip()),
                type_=type_,
                labels=labels,
                annotations=annotations,
                headless=headless,
                publish_not_ready=publish_not_ready,
                load_balancer_ip=load_balancer_ip,
                external_traffic_policy=external_traffic_policy,
                node_ports=node_ports,
                health_check_node_port=hc,
                owners=owners,
            )
        )
        if not selector:
            return svc, None, None
        matching = self._pods_matching(namespace, selector)
        changed = max(
            [created]
            + [parse_ts(p["metadata"]["creationTimestamp"]) + timedelta(seconds=30) for p in matching]
        )
        eps = self.add(networking.endpoint_slice(svc, matching, changed))
        ep = self.add(networking.endpoints(svc, matching, changed))
        return svc, eps, ep

    def _pods_matching(self, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
        return [
            p
            for p in self.list("Pod", namespace)
            if all(p["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
        ]

    def _attach_services(self, w: Workload, namespace: str, service_specs: Sequence[dict[str, Any]]) -> None:
        for spec in service_specs:
            svc, eps, ep = self.add_service(namespace, **spec)
            w.services.append(svc)
            if eps:
                w.endpointslices.append(eps)
            if ep:
                w.endpoints_list.append(ep)

    # ------------------------------------------------------------ derived state

    def _refresh_workload(self, w: Workload) -> None:
        if w.kind == "Deployment":
            rss = [w.replicaset] + w.old_replicasets if w.replicaset else list(w.old_replicasets)
            for rs in rss:
                workloads.refresh_replicaset(
                    rs,
                    [
                        p
                        for p in w.pods
                        if p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
                        and self.get("Pod", w.namespace, p["metadata"]["name"]) is p
                    ],
                )
            workloads.refresh_deployment(w.controller, rss, self.now)
        elif w.kind == "StatefulSet":
            workloads.refresh_statefulset(w.controller, self._live(w))
        elif w.kind == "DaemonSet":
            workloads.refresh_daemonset(w.controller, self._live(w), len(self.daemon_nodes(w.controller)))

    def _live(self, w: Workload) -> list[dict[str, Any]]:
        return [p for p in w.pods if self.get("Pod", w.namespace, p["metadata"]["name"]) is p]

    def refresh_endpoints(self) -> None:
        changed = self.now - timedelta(seconds=3)
        for eps in self.list("EndpointSlice"):
            svc = self.get(
                "Service",
                eps["metadata"]["namespace"],
                eps["metadata"]["labels"]["kubernetes.io/service-name"],
            )
            if svc and svc["spec"].get("selector"):
                networking.fill_endpoint_slice(
                    eps,
                    svc,
                    self._pods_matching(svc["metadata"]["namespace"], svc["spec"]["selector"]),
                    changed,
                )
        for ep in self.list("Endpoints"):
            svc = self.get("Service", ep["metadata"]["namespace"], ep["metadata"]["name"])
            if svc and svc["spec"].get("selector"):
                networking.fill_endpoints(
                    ep,
                    svc,
                    self._pods_matching(svc["metadata"]["namespace"], svc["spec"]["selector"]),
                    changed,
                )

    def namespace_usage(self, namespace: str) -> dict[str, float]:
        """What quota admission counts: non-terminal pods' requests/limits, PVC count and storage."""
        usage = {
            "requests.cpu": 0.0,
            "requests.memory": 0.0,
            "limits.cpu": 0.0,
            "limits.memory": 0.0,
            "pods": 0.0,
            "persistentvolumeclaims": 0.0,
            "requests.storage": 0.0,
            "services": 0.0,
        }
        for p in self.list("Pod", namespace):
            if podlib.is_terminal(p):
                continue
            usage["pods"] += 1
            for c in p["spec"]["containers"]:
                res = c.get("resources", {})
                for kind in ("requests", "limits"):
                    for r in ("cpu", "memory"):
                        if r in res.get(kind, {}):
                            usage[f"{kind}.{r}"] += quantity(res[kind][r])
        for claim in self.list("PersistentVolumeClaim", namespace):
            usage["persistentvolumeclaims"] += 1
            usage["requests.storage"] += quantity(claim["spec"]["resources"]["requests"]["storage"])
        usage["services"] = float(len(self.list("Service", namespace)))
        return usage

    def refresh_quotas(self) -> None:
        for q in self.list("ResourceQuota"):
            usage = self.namespace_usage(q["metadata"]["namespace"])
            used = {}
            for key in q["spec"]["hard"]:
                v = usage.get(key, 0.0)
                used[key] = (
                    fmt_cpu(v)
                    if key.endswith(".cpu")
                    else (fmt_bytes(v) if key.endswith(("memory", "storage")) else str(int(v)))
                )
            q["status"] = {"hard": dict(q["spec"]["hard"]), "used": used}

    def refresh(self) -> None:
        """Re-derive every computed status after objects were added or mutated (faults call this)."""
        for w in self.workloads:
            self._refresh_workload(w)
        self.refresh_endpoints()
        self.refresh_quotas()
        for pdb in self.list("PodDisruptionBudget"):
            workloads.refresh_pdb(
                pdb,
                self._pods_matching(pdb["metadata"]["namespace"], pdb["spec"]["selector"]["matchLabels"]),
                self.now,
            )
        for fn in self.refreshers:
            fn(self)


_CONTROLLER_COMPONENT = {
    "Deployment": "deployment-controller",
    "ReplicaSet": "replicaset-controller",
    "StatefulSet": "statefulset-controller",
    "DaemonSet": "daemonset-controller",
    "Job": "job-controller",
    "CronJob": "cronjob-controller",
    "PersistentVolumeClaim": "persistentvolume-controller",
    "HorizontalPodAutoscaler": "horizontal-pod-autoscaler",
    "Node": "node-controller",
    "Service": "service-controller",
    "EndpointSlice": "endpointslice-controller",
    "ExternalSecret": "external-secrets",
    "ClusterSecretStore": "external-secrets",
    "Certificate": "cert-manager-certificates-issuing",
    "CertificateRequest": "cert-manager-certificaterequests-issuer-acme",
    "Challenge": "cert-manager-challenges",
    "Order": "cert-manager-orders",
    "PrometheusRule": "prometheus-controller",
    "Application": "argocd-application-controller",
}
