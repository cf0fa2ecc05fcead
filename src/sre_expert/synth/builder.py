"""PlatformBuilder: assembles a consistent synthetic cluster object by object.

It owns what must agree across objects — node and IP allocation, owner references, pods and the
endpoints and statuses derived from them, events and logs — so callers only say *what* runs where.
Every `add_*` returns the objects it created; callers mutate them (or use `faults`) and call
`refresh()` to re-derive controller statuses, endpoints, quota usage and platform CR status.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping, Sequence

from . import config, networking, nodes, pods as podlib, storage, workloads
from .cron import fire_times_before
from .events import event, scheduler_event
from .logs import healthy_log
from .meta import (app_labels, fmt_bytes, fmt_cpu, hex_id, new_object, number, owner_reference, parse_quantity,
                   parse_ts, safe_suffix, ts)

EVENT_TTL = timedelta(hours=1)
"""kube-apiserver --event-ttl default: older events are gone from a real cluster."""

LogKey = tuple[str, str, str, bool]


@dataclass
class Workload:
    """Everything one controller owns or fronts. `.controller` is the Deployment/StatefulSet/DaemonSet/Job/CronJob."""

    kind: str
    controller: dict[str, Any]
    pods: list[dict[str, Any]] = field(default_factory=list)
    replicaset: dict[str, Any] | None = None
    old_replicasets: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    endpointslices: list[dict[str, Any]] = field(default_factory=list)
    endpoints_list: list[dict[str, Any]] = field(default_factory=list)
    pvcs: list[dict[str, Any]] = field(default_factory=list)
    pvs: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    service_account: dict[str, Any] | None = None
    hpa: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.controller["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.controller["metadata"]["namespace"]

    def _kind(self, kind: str) -> dict[str, Any]:
        if self.kind != kind:
            raise AttributeError(f"{self.kind} workload {self.namespace}/{self.name} has no {kind.lower()}")
        return self.controller

    @property
    def deployment(self) -> dict[str, Any]:
        return self._kind("Deployment")

    @property
    def statefulset(self) -> dict[str, Any]:
        return self._kind("StatefulSet")

    @property
    def daemonset(self) -> dict[str, Any]:
        return self._kind("DaemonSet")

    @property
    def job(self) -> dict[str, Any]:
        return self._kind("Job")

    @property
    def cronjob(self) -> dict[str, Any]:
        return self._kind("CronJob")

    @property
    def service(self) -> dict[str, Any] | None:
        """The client Service (first non-headless one, else the first)."""
        for s in self.services:
            if s["spec"].get("clusterIP") != "None":
                return s
        return self.services[0] if self.services else None

    @property
    def headless_service(self) -> dict[str, Any] | None:
        return next((s for s in self.services if s["spec"].get("clusterIP") == "None"), None)

    @property
    def endpointslice(self) -> dict[str, Any] | None:
        svc = self.service
        return next((e for e in self.endpointslices if svc and
                     e["metadata"]["labels"]["kubernetes.io/service-name"] == svc["metadata"]["name"]), None)

    @property
    def endpoints(self) -> dict[str, Any] | None:
        svc = self.service
        return next((e for e in self.endpoints_list if svc and e["metadata"]["name"] == svc["metadata"]["name"]), None)

    @property
    def container_name(self) -> str:
        return self.template["spec"]["containers"][0]["name"]

    @property
    def template(self) -> dict[str, Any]:
        if self.kind == "CronJob":
            return self.controller["spec"]["jobTemplate"]["spec"]["template"]
        return self.controller["spec"]["template"]


class PlatformBuilder:
    """Builds a cluster as `kubectl get -o json` would return it at `now`."""

    def __init__(self, now: datetime, *, cluster: str = "monobase-prod", kubernetes_version: str = nodes.KUBELET_VERSION):
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
        doomed = [e for e in self.list("Event") if e["involvedObject"].get("uid") == uid_
                  and (reason is None or e["reason"] == reason)]
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

    def add_node(self, name: str, *, control_plane: bool = False, cpu: int = 8, memory: str = "32Gi",
                 labels: Mapping[str, str] | None = None, taints: list[dict[str, Any]] | None = None,
                 created: datetime | None = None) -> dict[str, Any]:
        index = len(self._node_order)
        created = created or (self.cluster_created + timedelta(minutes=3 + 4 * index))
        obj = nodes.node(name, index, created=created, now=self.now, control_plane=control_plane, cpu=cpu,
                         memory=memory, labels=dict(labels or {}), taints=taints)
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
            if schedulable_only and any(t["effect"] in ("NoSchedule", "NoExecute") for t in node["spec"].get("taints", [])):
                continue
            out.append(n)
        return out

    def add_namespace(self, name: str, *, labels: Mapping[str, str] | None = None,
                      annotations: Mapping[str, str] | None = None, created: datetime | None = None) -> dict[str, Any]:
        """Namespace plus what the control plane creates in it: the default ServiceAccount and kube-root-ca.crt."""
        created = created or (self.cluster_created + timedelta(hours=2, minutes=number("ns", name, hi=600)))
        ns = self.add(config.namespace(name, created, labels, annotations))
        self.add(config.service_account(name, "default", created))
        self.add(config.root_ca_config_map(name, created))
        return ns

    def add_service_account(self, namespace: str, name: str, *, labels: Mapping[str, str] | None = None,
                            annotations: Mapping[str, str] | None = None,
                            created: datetime | None = None) -> dict[str, Any]:
        existing = self.get("ServiceAccount", namespace, name)
        if existing:
            return existing
        return self.add(config.service_account(namespace, name, created or self._ns_created(namespace), labels,
                                               annotations))

    def add_configmap(self, namespace: str, name: str, data: Mapping[str, str], *,
                      labels: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None,
                      created: datetime | None = None) -> dict[str, Any]:
        return self.add(config.config_map(namespace, name, data, created or self._ns_created(namespace),
                                          labels=labels, annotations=annotations))

    def add_secret(self, namespace: str, name: str, keys: Mapping[str, str | None] | Sequence[str], *,
                   type_: str = "Opaque", labels: Mapping[str, str] | None = None,
                   annotations: Mapping[str, str] | None = None, owners: list[dict[str, Any]] | None = None,
                   created: datetime | None = None) -> dict[str, Any]:
        keys = list(keys) if not isinstance(keys, Mapping) else keys
        return self.add(config.secret(namespace, name, keys, created or self._ns_created(namespace), type_=type_,
                                      labels=labels, annotations=annotations, owners=owners))

    def add_pvc(self, namespace: str, name: str, size: str = "10Gi", *, storage_class: str | None = "longhorn",
                bound: bool = True, labels: Mapping[str, str] | None = None,
                created: datetime | None = None) -> dict[str, Any]:
        """A PVC, bound to a freshly provisioned PV when `bound` (the PV is registered too)."""
        claim = self.add(storage.pvc(namespace, name, size, created or self._ns_created(namespace),
                                     storage_class_name=storage_class, labels=labels))
        if bound:
            self.add(storage.bind(claim))
        return claim

    def add_resource_quota(self, namespace: str, name: str, hard: Mapping[str, str], *,
                           created: datetime | None = None) -> dict[str, Any]:
        """ResourceQuota; status.used is recomputed from the namespace's pods and PVCs on refresh()."""
        return self.add(config.resource_quota(namespace, name, hard, {k: "0" for k in hard},
                                              created or self._ns_created(namespace)))

    def add_event(self, obj: dict[str, Any], reason: str, message: str, type_: str = "Normal", count: int = 1, *,
                  first: datetime | None = None, last: datetime | None = None, component: str | None = None,
                  host: str | None = None, field_path: str | None = None,
                  reporting_instance: str | None = None) -> dict[str, Any]:
        """A core/v1 Event about obj. Defaults: kubelet events for pods (host = the pod's node)."""
        if last is None:
            last = first if (first is not None and count == 1) else \
                self.now - timedelta(seconds=number("evl", obj["metadata"]["uid"], reason, lo=5, hi=90))
        if first is None:
            first = last if count == 1 else last - timedelta(minutes=min(55, 2 * count))
        if component is None:
            component = "kubelet" if obj["kind"] == "Pod" else _CONTROLLER_COMPONENT.get(obj["kind"], "unknown")
        if host is None and component == "kubelet":
            host = obj.get("spec", {}).get("nodeName") or (obj["metadata"]["name"] if obj["kind"] == "Node" else None)
        if component == "default-scheduler":
            ev = scheduler_event(obj, reason, message, first=first, last=last, type_=type_, count=count,
                                 scheduler_host=self._scheduler_host())
        else:
            ev = event(obj, reason, message, type_=type_, count=count, first=first, last=last, component=component,
                       host=host, field_path=field_path, reporting_instance=reporting_instance,
                       salt=str(len(self.objects)))
        return self.add(ev)

    def add_log(self, pod: dict[str, Any], container: str, text: str, previous: bool = False) -> None:
        self.logs[(pod["metadata"]["namespace"], pod["metadata"]["name"], container, previous)] = text

    # ------------------------------------------------------------ allocation helpers

    def _ns_created(self, namespace: str) -> datetime:
        ns = self.get("Namespace", None, namespace)
        if ns is None:
            raise KeyError(f"namespace {namespace!r} must be added (add_namespace) before objects in it")
        return parse_ts(ns["metadata"]["creationTimestamp"]) + timedelta(minutes=1 + number("nsobj", namespace, hi=30))

    def _scheduler_host(self) -> str:
        cp = [n for n in self._node_order
              if "node-role.kubernetes.io/control-plane" in self.require("Node", None, n)["metadata"]["labels"]]
        return cp[0] if cp else (self._node_order[0] if self._node_order else "control-plane")

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
            if taint["effect"] in ("NoSchedule", "NoExecute") and not workloads.tolerates(spec.get("tolerations", []), taint):
                return False
        labels = node_obj["metadata"].get("labels", {})
        return all(labels.get(k) == v for k, v in (spec.get("nodeSelector") or {}).items())

    # ------------------------------------------------------------ pods

    def _pod_created(self, controller_created: datetime, pod_age: timedelta | None, key: str) -> datetime:
        if pod_age is not None:
            return self.now - pod_age
        days = number("podage", key, lo=2, hi=26)
        created = self.now - timedelta(days=days, minutes=number("podmin", key, hi=1400))
        return max(created, controller_created + timedelta(seconds=5))

    def _make_pod(self, *, name: str, namespace: str, template: dict[str, Any], owner: dict[str, Any],
                  node_name: str, created: datetime, extra_labels: Mapping[str, str] | None = None,
                  daemon: bool = False, hostname: str | None = None, subdomain: str | None = None,
                  generate_name: str | None = None, log_flavor: str | None = None,
                  emit_events: bool = True, phase: str = "Running",
                  runtime: timedelta = timedelta(seconds=20)) -> dict[str, Any]:
        labels = {**template["metadata"].get("labels", {}), **(extra_labels or {})}
        pod = new_object("Pod", name, namespace, created, labels=labels,
                         annotations=template["metadata"].get("annotations"), owners=[owner_reference(owner)],
                         generate_name=generate_name)
        spec = podlib.pod_spec_for(template["spec"], name, namespace, node_name, daemon_node=node_name if daemon else None)
        if hostname:
            spec["hostname"] = hostname
        if subdomain:
            spec["subdomain"] = subdomain
        pod["spec"] = spec
        node_obj = self.require("Node", None, node_name)
        host_ip = nodes.node_ip(node_obj)
        pod_ip = host_ip if spec.get("hostNetwork") else self._pod_ip(node_name)
        recent = self.now - created < EVENT_TTL
        already = {n for img in node_obj["status"].get("images", []) for n in img["names"]}
        if phase == "Succeeded":
            pod["status"] = podlib.succeeded_status(pod, host_ip, pod_ip, runtime)
        else:
            pod["status"] = podlib.running_status(pod, host_ip, pod_ip)
        for c in spec.get("initContainers", []) + spec["containers"]:
            nodes.add_node_image(node_obj, [podlib.image_id(c["image"]), podlib.normalize_image(c["image"])],
                                 podlib.image_size(c["image"]))
        for v in spec.get("volumes", []):
            claim = v.get("persistentVolumeClaim", {}).get("claimName")
            pvc_obj = self.get("PersistentVolumeClaim", namespace, claim) if claim else None
            if pvc_obj and pvc_obj["spec"].get("volumeName"):
                nodes.add_attached_volume(node_obj, pvc_obj["spec"]["volumeName"])
        self.add(pod)
        if phase == "Running":
            for c in spec["containers"]:
                cs = podlib.container_status(pod, c["name"])
                started = parse_ts(cs["state"]["running"]["startedAt"])
                self.add_log(pod, c["name"], healthy_log(c["image"], started, self.now, name, namespace, log_flavor))
        if recent and emit_events:
            self._pod_start_events(pod, already)
        return pod

    def _pod_start_events(self, pod: dict[str, Any], already_present: set[str]) -> None:
        md, spec = pod["metadata"], pod["spec"]
        t = podlib.pod_times(parse_ts(md["creationTimestamp"]), md["uid"])
        node_name = spec["nodeName"]
        self.add_event(pod, "Scheduled", f"Successfully assigned {md['namespace']}/{md['name']} to {node_name}",
                       component="default-scheduler", first=t["scheduled"])
        statuses = {cs["name"]: cs for cs in pod["status"].get("containerStatuses", []) +
                    pod["status"].get("initContainerStatuses", [])}
        for kind, containers in (("initContainers", spec.get("initContainers", [])), ("containers", spec["containers"])):
            for c in containers:
                fp = f"spec.{kind}{{{c['name']}}}"
                cs = statuses.get(c["name"], {})
                state = cs.get("state", {})
                started = parse_ts((state.get("running") or state.get("terminated") or {}).get(
                    "startedAt", ts(t["started"])))
                if podlib.normalize_image(c["image"]) in already_present:
                    self.add_event(pod, "Pulled", f'Container image "{c["image"]}" already present on machine',
                                   first=started - timedelta(seconds=1), field_path=fp)
                else:
                    secs = (number("pull", md["uid"], c["name"], lo=800, hi=9000)) / 1000
                    self.add_event(pod, "Pulling", f'Pulling image "{c["image"]}"', first=t["sandbox"], field_path=fp)
                    self.add_event(pod, "Pulled",
                                   f'Successfully pulled image "{c["image"]}" in {secs:.3f}s ({secs:.3f}s including '
                                   f'waiting). Image size: {podlib.image_size(c["image"])} bytes.',
                                   first=started - timedelta(seconds=1), field_path=fp)
                self.add_event(pod, "Created", f"Created container: {c['name']}", first=started, field_path=fp)
                self.add_event(pod, "Started", f"Started container {c['name']}", first=started, field_path=fp)

    def _register(self, w: Workload) -> Workload:
        self.workloads.append(w)
        for p in w.pods:
            self._pod_workload[p["metadata"]["uid"]] = w
        return w

    def _ensure_sa(self, namespace: str, sa: str | None, labels: Mapping[str, str]) -> dict[str, Any] | None:
        if not sa or sa == "default":
            return None
        return self.add_service_account(namespace, sa, labels=labels)

    # ------------------------------------------------------------ services

    def add_service(self, namespace: str, name: str, selector: Mapping[str, str] | None,
                    ports: Sequence[networking.ServicePort], *, type_: str = "ClusterIP",
                    labels: Mapping[str, str] | None = None, annotations: Mapping[str, str] | None = None,
                    headless: bool = False, publish_not_ready: bool = False, cluster_ip: str | None = None,
                    load_balancer_ip: str | None = None, external_traffic_policy: str = "Cluster",
                    created: datetime | None = None,
                    owners: list[dict[str, Any]] | None = None) -> tuple[dict, dict | None, dict | None]:
        """Service plus, for selector services, its EndpointSlice and Endpoints (filled on refresh)."""
        created = created or self._ns_created(namespace)
        node_ports = [self.next_node_port() for _ in ports] if type_ in ("LoadBalancer", "NodePort") else []
        hc = self.next_node_port() if type_ == "LoadBalancer" and external_traffic_policy == "Local" else None
        svc = self.add(networking.service(
            namespace, name, selector, ports, created, cluster_ip=None if headless else (cluster_ip or self.cluster_ip()),
            type_=type_, labels=labels, annotations=annotations, headless=headless,
            publish_not_ready=publish_not_ready, load_balancer_ip=load_balancer_ip,
            external_traffic_policy=external_traffic_policy, node_ports=node_ports, health_check_node_port=hc,
            owners=owners))
        if not selector:
            return svc, None, None
        matching = self._pods_matching(namespace, selector)
        changed = max([created] + [parse_ts(p["metadata"]["creationTimestamp"]) + timedelta(seconds=30)
                                   for p in matching])
        eps = self.add(networking.endpoint_slice(svc, matching, changed))
        ep = self.add(networking.endpoints(svc, matching, changed))
        return svc, eps, ep

    def _pods_matching(self, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
        return [p for p in self.list("Pod", namespace)
                if all(p["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]

    def _attach_services(self, w: Workload, namespace: str, service_specs: Sequence[dict[str, Any]]) -> None:
        for spec in service_specs:
            svc, eps, ep = self.add_service(namespace, **spec)
            w.services.append(svc)
            if eps:
                w.endpointslices.append(eps)
            if ep:
                w.endpoints_list.append(ep)

    # ------------------------------------------------------------ workloads

    def _labels(self, name: str, instance: str | None, component: str | None, part_of: str | None,
                labels: Mapping[str, str] | None, chart: str | None, version: str | None,
                managed_by: str | None, selector: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
        """(object labels, selector labels) the way Helm charts render them."""
        if labels is not None:
            full = dict(labels)
        else:
            full = app_labels(name, instance or name, component=component, part_of=part_of, managed_by=managed_by,
                              version=version, chart=chart)
        if selector is not None:
            return full, dict(selector)
        chosen = {k: full[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                                       "app.kubernetes.io/component") if k in full}
        return full, chosen or dict(full)

    def _containers(self, name: str, image: str | None, containers: list[dict[str, Any]] | None,
                    ports: Sequence[podlib.Port], env: Mapping[str, str] | None,
                    env_secrets: Mapping[str, tuple[str, str]] | None,
                    env_configmaps: Mapping[str, tuple[str, str]] | None, requests: Mapping[str, str] | None,
                    limits: Mapping[str, str] | None, probe_path: str | None,
                    volume_mounts: Sequence[Mapping[str, Any]], security_context: Mapping[str, Any] | None,
                    args: Sequence[str] | None) -> list[dict[str, Any]]:
        if containers is not None:
            return containers
        if image is None:
            raise ValueError("give either image or containers")
        port_list = list(ports)
        first_port: int | str | None = None
        if port_list:
            p0 = port_list[0]
            first_port = p0 if isinstance(p0, int) else (p0.get("name") or p0["containerPort"]) \
                if isinstance(p0, Mapping) else p0[0]
        readiness = liveness = None
        if probe_path and first_port is not None:
            readiness = podlib.http_probe(probe_path, first_port, initial_delay=5, period=10)
            liveness = podlib.http_probe(probe_path, first_port, initial_delay=15, period=20)
        elif first_port is not None and probe_path is None:
            readiness = podlib.tcp_probe(first_port, initial_delay=5)
            liveness = podlib.tcp_probe(first_port, initial_delay=15, period=20)
        return [podlib.container(name, image, ports=port_list, env=env, env_secrets=env_secrets,
                                 env_configmaps=env_configmaps, requests=requests or {"cpu": "100m", "memory": "128Mi"},
                                 limits=limits or {"memory": "256Mi"}, readiness=readiness, liveness=liveness,
                                 volume_mounts=volume_mounts, security_context=security_context, args=args)]

    def add_deployment(
        self,
        namespace: str,
        name: str,
        image: str | None = None,
        replicas: int = 2,
        *,
        containers: list[dict[str, Any]] | None = None,
        init_containers: list[dict[str, Any]] | None = None,
        ports: Sequence[podlib.Port] = (("http", 8080),),
        env: Mapping[str, str] | None = None,
        env_secrets: Mapping[str, tuple[str, str]] | None = None,
        env_configmaps: Mapping[str, tuple[str, str]] | None = None,
        requests: Mapping[str, str] | None = None,
        limits: Mapping[str, str] | None = None,
        probe_path: str | None = "/health",
        volumes: list[dict[str, Any]] | None = None,
        volume_mounts: Sequence[Mapping[str, Any]] = (),
        args: Sequence[str] | None = None,
        security_context: Mapping[str, Any] | None = None,
        pod_security_context: Mapping[str, Any] | None = None,
        node: str | Sequence[str] | None = None,
        selector: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        instance: str | None = None,
        component: str | None = None,
        part_of: str | None = None,
        chart: str | None = None,
        version: str | None = None,
        managed_by: str | None = "Helm",
        pod_annotations: Mapping[str, str] | None = None,
        service: bool | Sequence[dict[str, Any]] = True,
        service_type: str = "ClusterIP",
        service_ports: Sequence[networking.ServicePort] | None = None,
        service_account: str | None = None,
        priority_class: str | None = None,
        tolerations: list[dict[str, Any]] | None = None,
        node_selector: Mapping[str, str] | None = None,
        host_network: bool = False,
        created: datetime | None = None,
        pod_age: timedelta | None = None,
        revision: int = 1,
        log_flavor: str | None = None,
        annotations: Mapping[str, str] | None = None,
        strategy: dict[str, Any] | None = None,
    ) -> Workload:
        """Deployment + current ReplicaSet (+ scaled-down old ones for revision>1) + Running, Ready pods
        + optional Service/EndpointSlice/Endpoints named like the Deployment.

        service: True = one Service `name` on the container ports; False = none; or a list of
        add_service keyword dicts. Pods go round-robin over schedulable nodes unless `node` (a name or a
        list cycled over the replicas) is given.
        """
        created = created or self._ns_created(namespace) + timedelta(minutes=number("dep", namespace, name, hi=90))
        full, selector = self._labels(name, instance, component, part_of, labels, chart, version, managed_by,
                                     selector)
        pod_labels = {**full, **selector}
        ctrs = self._containers(name, image, containers, ports, env, env_secrets, env_configmaps, requests, limits,
                                probe_path, volume_mounts, security_context, args)
        sa = service_account if service_account is not None else name
        sa_obj = self._ensure_sa(namespace, sa, full)
        tmpl_annotations = {"checksum/config": hex_id("cfg", namespace, name, revision), **(pod_annotations or {})}
        template = podlib.pod_template(pod_labels, ctrs, annotations=tmpl_annotations, volumes=volumes,
                                       init_containers=init_containers, service_account=sa,
                                       security_context=pod_security_context, priority_class=priority_class,
                                       tolerations=tolerations, node_selector=node_selector, host_network=host_network)
        dep = self.add(workloads.deployment(namespace, name, template, replicas, created, selector=selector,
                                            labels=full, revision=revision, annotations=annotations,
                                            strategy=strategy))
        pod_created_first = self._pod_created(created, pod_age, f"{namespace}/{name}")
        rs_created = pod_created_first - timedelta(seconds=1) if revision > 1 or pod_age else created + timedelta(seconds=1)
        rs_created = max(rs_created, created)
        olds = []
        for r in range(max(1, revision - 2), revision):
            old_tmpl = copy.deepcopy(template)
            old_tmpl["metadata"]["annotations"]["checksum/config"] = hex_id("cfg", namespace, name, r)
            old_created = created + (rs_created - created) * (r - 1) / max(1, revision - 1)
            old = workloads.replicaset(dep, r, old_created, 0, old_tmpl)
            old["status"] = {"observedGeneration": old["metadata"]["generation"], "replicas": 0}
            olds.append(old)
        rs = self.add(workloads.replicaset(dep, revision, rs_created, replicas))
        for old in reversed(olds):
            self.add(old)
        w = Workload("Deployment", dep, replicaset=rs, old_replicasets=list(reversed(olds)), service_account=sa_obj)
        placement = [node] if isinstance(node, str) else list(node or [])
        for i in range(replicas):
            suffix = safe_suffix("pod", namespace, rs["metadata"]["name"], i)
            pod_name = f"{rs['metadata']['name']}-{suffix}"
            spec_for_fit = podlib.pod_spec_for(rs["spec"]["template"]["spec"], pod_name, namespace, None)
            node_name = self._pick_node(spec_for_fit, placement[i % len(placement)] if placement else None)
            created_i = pod_created_first + timedelta(seconds=i * number("stagger", pod_name, lo=0, hi=4))
            w.pods.append(self._make_pod(name=pod_name, namespace=namespace, template=rs["spec"]["template"], owner=rs,
                                         node_name=node_name, created=created_i,
                                         generate_name=f"{rs['metadata']['name']}-", log_flavor=log_flavor))
        if service:
            specs = service if not isinstance(service, bool) else [dict(
                name=name, selector=selector, labels=full, type_=service_type,
                ports=service_ports or _service_ports(ctrs))]
            self._attach_services(w, namespace, specs)
        self._register(w)
        rs_ready_at = max([parse_ts(c["lastTransitionTime"]) for p in w.pods
                           for c in p["status"]["conditions"] if c["type"] == "Ready"] or [rs_created])
        dep["status"]["conditions"] = [workloads.progressing_condition(rs["metadata"]["name"], created + timedelta(seconds=1),
                                                                       rs_ready_at)]
        self._refresh_workload(w)
        if self.now - rs_created < EVENT_TTL:
            prev = 0
            for r in olds[-1:]:
                self.add_event(r, "SuccessfulDelete", f"Deleted pod: {r['metadata']['name']}-{safe_suffix('old', r['metadata']['name'])}",
                               component="replicaset-controller", first=rs_created + timedelta(seconds=20))
            self.add_event(dep, "ScalingReplicaSet", f"Scaled up replica set {rs['metadata']['name']} from {prev} to {replicas}",
                           component="deployment-controller", first=rs_created)
            if olds:
                self.add_event(dep, "ScalingReplicaSet",
                               f"Scaled down replica set {olds[-1]['metadata']['name']} from {replicas} to 0",
                               component="deployment-controller", first=rs_created + timedelta(seconds=19))
            for p in w.pods:
                self.add_event(rs, "SuccessfulCreate", f"Created pod: {p['metadata']['name']}",
                               component="replicaset-controller", first=parse_ts(p["metadata"]["creationTimestamp"]))
        return w

    def add_statefulset(
        self,
        namespace: str,
        name: str,
        image: str | None = None,
        replicas: int = 1,
        *,
        containers: list[dict[str, Any]] | None = None,
        init_containers: list[dict[str, Any]] | None = None,
        ports: Sequence[podlib.Port] = (("http", 8080),),
        env: Mapping[str, str] | None = None,
        env_secrets: Mapping[str, tuple[str, str]] | None = None,
        requests: Mapping[str, str] | None = None,
        limits: Mapping[str, str] | None = None,
        probe_path: str | None = None,
        volumes: list[dict[str, Any]] | None = None,
        volume_mounts: Sequence[Mapping[str, Any]] = (),
        volume_claims: Mapping[str, str] | None = None,
        storage_class: str | None = "longhorn",
        security_context: Mapping[str, Any] | None = None,
        pod_security_context: Mapping[str, Any] | None = None,
        node: str | None = None,
        selector: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        instance: str | None = None,
        component: str | None = None,
        part_of: str | None = None,
        chart: str | None = None,
        version: str | None = None,
        managed_by: str | None = "Helm",
        service_name: str | None = None,
        service: bool | Sequence[dict[str, Any]] = True,
        service_ports: Sequence[networking.ServicePort] | None = None,
        service_account: str | None = None,
        pod_management: str = "OrderedReady",
        owner: dict[str, Any] | None = None,
        pod_annotations: Mapping[str, str] | None = None,
        created: datetime | None = None,
        pod_age: timedelta | None = None,
        log_flavor: str | None = None,
    ) -> Workload:
        """StatefulSet with ordinal pods, a governing headless Service `<service_name>` (default
        `<name>-headless`) plus a client Service `<name>`, and one bound PVC per claim template per pod
        (`<claim>-<name>-<ordinal>`). volume_claims: claim template name -> size."""
        created = created or self._ns_created(namespace) + timedelta(minutes=number("sts", namespace, name, hi=90))
        full, selector = self._labels(name, instance, component, part_of, labels, chart, version, managed_by,
                                     selector)
        ctrs = self._containers(name, image, containers, ports, env, env_secrets, None, requests, limits, probe_path,
                                volume_mounts, security_context, None)
        sa = service_account if service_account is not None else name
        sa_obj = self._ensure_sa(namespace, sa, full)
        template = podlib.pod_template({**full, **selector}, ctrs, volumes=volumes, init_containers=init_containers,
                                       service_account=sa, security_context=pod_security_context,
                                       annotations=pod_annotations)
        governing = service_name or f"{name}-headless"
        vcts = [workloads.volume_claim_template(c, size, storage_class, labels=selector)
                for c, size in (volume_claims or {}).items()]
        sts = self.add(workloads.statefulset(namespace, name, template, replicas, created, selector=selector,
                                             service_name=governing, labels=full, volume_claim_templates=vcts,
                                             pod_management=pod_management,
                                             owners=[owner_reference(owner)] if owner else None))
        revision = sts["status"]["updateRevision"]
        w = Workload("StatefulSet", sts, service_account=sa_obj)
        first = self._pod_created(created, pod_age, f"{namespace}/{name}")
        for i in range(replicas):
            pod_name = f"{name}-{i}"
            created_i = first + timedelta(seconds=i * 45)
            for vct in vcts:
                claim_name = f"{vct['metadata']['name']}-{pod_name}"
                claim = self.add(storage.pvc(namespace, claim_name, vct["spec"]["resources"]["requests"]["storage"],
                                             min(created_i, created + timedelta(seconds=2 + i * 45)),
                                             storage_class_name=storage_class, labels=selector))
                w.pvcs.append(claim)
                w.pvs.append(self.add(storage.bind(claim)))
            pod_tmpl = copy.deepcopy(template)
            for vct in vcts:
                pod_tmpl["spec"].setdefault("volumes", []).insert(
                    0, podlib.pvc_volume(vct["metadata"]["name"], f"{vct['metadata']['name']}-{pod_name}"))
            spec_for_fit = podlib.pod_spec_for(pod_tmpl["spec"], pod_name, namespace, None)
            node_name = self._pick_node(spec_for_fit, node)
            w.pods.append(self._make_pod(
                name=pod_name, namespace=namespace, template=pod_tmpl, owner=sts, node_name=node_name,
                created=created_i, hostname=pod_name, subdomain=governing, log_flavor=log_flavor,
                extra_labels={"apps.kubernetes.io/pod-index": str(i), "controller-revision-hash": revision,
                              "statefulset.kubernetes.io/pod-name": pod_name}))
        if service:
            if isinstance(service, bool):
                sp = service_ports or _service_ports(ctrs)
                specs = [dict(name=governing, selector=selector, labels=full, ports=sp, headless=True,
                              publish_not_ready=True),
                         dict(name=name, selector=selector, labels=full, ports=sp)]
            else:
                specs = list(service)
            self._attach_services(w, namespace, specs)
        self._register(w)
        self._refresh_workload(w)
        for p in w.pods:
            if self.now - parse_ts(p["metadata"]["creationTimestamp"]) < EVENT_TTL:
                for claim in w.pvcs:
                    if claim["metadata"]["name"].endswith(p["metadata"]["name"]):
                        self.add_event(sts, "SuccessfulCreate",
                                       f"create Claim {claim['metadata']['name']} Pod {p['metadata']['name']} in "
                                       f"StatefulSet {name} success", component="statefulset-controller",
                                       first=parse_ts(p["metadata"]["creationTimestamp"]))
                self.add_event(sts, "SuccessfulCreate", f"create Pod {p['metadata']['name']} in StatefulSet {name} successful",
                               component="statefulset-controller", first=parse_ts(p["metadata"]["creationTimestamp"]))
        return w

    def add_daemonset(
        self,
        namespace: str,
        name: str,
        image: str | None = None,
        *,
        containers: list[dict[str, Any]] | None = None,
        init_containers: list[dict[str, Any]] | None = None,
        ports: Sequence[podlib.Port] = (),
        env: Mapping[str, str] | None = None,
        requests: Mapping[str, str] | None = None,
        limits: Mapping[str, str] | None = None,
        probe_path: str | None = None,
        volumes: list[dict[str, Any]] | None = None,
        volume_mounts: Sequence[Mapping[str, Any]] = (),
        security_context: Mapping[str, Any] | None = None,
        selector: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        instance: str | None = None,
        component: str | None = None,
        part_of: str | None = None,
        chart: str | None = None,
        version: str | None = None,
        managed_by: str | None = "Helm",
        tolerations: list[dict[str, Any]] | None = None,
        node_selector: Mapping[str, str] | None = None,
        host_network: bool = False,
        priority_class: str | None = None,
        service: bool | Sequence[dict[str, Any]] = False,
        service_account: str | None = None,
        created: datetime | None = None,
        pod_age: timedelta | None = None,
        log_flavor: str | None = None,
    ) -> Workload:
        """DaemonSet with one Running pod on every node whose taints it tolerates (`<name>-<5 chars>`)."""
        created = created or self._ns_created(namespace) + timedelta(minutes=number("ds", namespace, name, hi=90))
        full, selector = self._labels(name, instance, component, part_of, labels, chart, version, managed_by,
                                     selector)
        ctrs = self._containers(name, image, containers, ports, env, None, None, requests, limits, probe_path,
                                volume_mounts, security_context, None)
        sa = service_account if service_account is not None else name
        sa_obj = self._ensure_sa(namespace, sa, full)
        template = podlib.pod_template({**full, **selector}, ctrs, volumes=volumes, init_containers=init_containers,
                                       service_account=sa, tolerations=tolerations, node_selector=node_selector,
                                       host_network=host_network, priority_class=priority_class)
        ds = self.add(workloads.daemonset(namespace, name, template, created, selector=selector, labels=full))
        h = workloads.template_hash(template, f"{namespace}/{name}")
        w = Workload("DaemonSet", ds, service_account=sa_obj)
        for node_name in self.daemon_nodes(ds):
            pod_name = f"{name}-{safe_suffix('ds', namespace, name, node_name)}"
            created_i = self._pod_created(created, pod_age, f"{namespace}/{name}/{node_name}")
            w.pods.append(self._make_pod(
                name=pod_name, namespace=namespace, template=template, owner=ds, node_name=node_name, created=created_i,
                daemon=True, generate_name=f"{name}-", log_flavor=log_flavor,
                extra_labels={"controller-revision-hash": h, "pod-template-generation": "1"}))
        if service:
            specs = service if not isinstance(service, bool) else [dict(name=name, selector=selector, labels=full,
                                                                        ports=_service_ports(ctrs))]
            self._attach_services(w, namespace, specs)
        self._register(w)
        self._refresh_workload(w)
        for p in w.pods:
            if self.now - parse_ts(p["metadata"]["creationTimestamp"]) < EVENT_TTL:
                self.add_event(ds, "SuccessfulCreate", f"Created pod: {p['metadata']['name']}",
                               component="daemonset-controller", first=parse_ts(p["metadata"]["creationTimestamp"]))
        return w

    def daemon_nodes(self, ds: dict[str, Any]) -> list[str]:
        """Nodes a DaemonSet should run on: its tolerations plus the controller's defaults decide."""
        spec = copy.deepcopy(ds["spec"]["template"]["spec"])
        spec["tolerations"] = spec.get("tolerations", []) + podlib.DAEMONSET_TOLERATIONS
        return [n for n in self._node_order if self._fits(spec, self.require("Node", None, n))]

    def add_job(
        self,
        namespace: str,
        name: str,
        image: str | None = None,
        *,
        containers: list[dict[str, Any]] | None = None,
        args: Sequence[str] | None = None,
        env_secrets: Mapping[str, tuple[str, str]] | None = None,
        requests: Mapping[str, str] | None = None,
        limits: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        instance: str | None = None,
        owner: dict[str, Any] | None = None,
        template: dict[str, Any] | None = None,
        created: datetime | None = None,
        runtime: timedelta = timedelta(seconds=25),
        node: str | None = None,
        backoff_limit: int = 6,
        service_account: str | None = None,
        restart_policy: str = "Never",
    ) -> Workload:
        """A Job that ran one pod to completion (Succeeded), as most history looks."""
        created = created or self.now - timedelta(hours=2)
        full, selector = self._labels(name, instance, None, None, labels, None, None, "Helm")
        if template is None:
            ctrs = containers or [podlib.container(name, image or "busybox:1.36", args=args, env_secrets=env_secrets,
                                                   requests=requests or {"cpu": "50m", "memory": "64Mi"},
                                                   limits=limits or {"memory": "128Mi"})]
            template = podlib.pod_template(selector, ctrs, restart_policy=restart_policy,
                                           service_account=service_account)
        j = self.add(workloads.job(namespace, name, template, created, labels=None if owner else full,
                                   owners=[owner_reference(owner)] if owner else None, backoff_limit=backoff_limit))
        w = Workload("Job", j)
        pod_name = f"{name}-{safe_suffix('job', namespace, name)}"
        spec_for_fit = podlib.pod_spec_for(j["spec"]["template"]["spec"], pod_name, namespace, None)
        pod = self._make_pod(name=pod_name, namespace=namespace, template=j["spec"]["template"], owner=j,
                             node_name=self._pick_node(spec_for_fit, node), created=created + timedelta(seconds=1),
                             generate_name=f"{name}-", phase="Succeeded", runtime=runtime)
        w.pods.append(pod)
        cs = pod["status"]["containerStatuses"][0]["state"]["terminated"]
        finished = parse_ts(cs["finishedAt"]) + timedelta(seconds=1)
        self.add_log(pod, pod["spec"]["containers"][0]["name"],
                     f"{cs['startedAt']} INFO job {name} started\n{cs['finishedAt']} INFO job {name} finished successfully\n")
        workloads.complete_job(j, finished)
        self._register(w)
        if self.now - created < EVENT_TTL:
            self.add_event(j, "SuccessfulCreate", f"Created pod: {pod_name}", component="job-controller",
                           first=created + timedelta(seconds=1))
            self.add_event(j, "Completed", "Job completed", component="job-controller", first=finished)
        return w

    def add_cronjob(
        self,
        namespace: str,
        name: str,
        image: str,
        schedule: str,
        *,
        args: Sequence[str] | None = None,
        env_secrets: Mapping[str, tuple[str, str]] | None = None,
        history: int = 3,
        labels: Mapping[str, str] | None = None,
        instance: str | None = None,
        part_of: str | None = None,
        requests: Mapping[str, str] | None = None,
        limits: Mapping[str, str] | None = None,
        service_account: str | None = None,
        security_context: Mapping[str, Any] | None = None,
        pod_security_context: Mapping[str, Any] | None = None,
        created: datetime | None = None,
        runtime: timedelta = timedelta(seconds=25),
    ) -> Workload:
        """CronJob plus its last `history` successful Jobs (`<name>-<minutes since epoch>`) and their pods."""
        created = created or self._ns_created(namespace) + timedelta(minutes=number("cj", namespace, name, hi=90))
        full, selector = self._labels(name, instance, None, part_of, labels, None, None, "Helm")
        ctr = podlib.container(name, image, args=args, env_secrets=env_secrets,
                               requests=requests or {"cpu": "50m", "memory": "64Mi"},
                               limits=limits or {"memory": "128Mi"}, security_context=security_context)
        sa = service_account or "default"
        template = podlib.pod_template(selector, [ctr], restart_policy="OnFailure",
                                       service_account=sa if sa != "default" else None,
                                       security_context=pod_security_context)
        self._ensure_sa(namespace, sa, full)
        cj = self.add(workloads.cronjob(namespace, name, schedule, workloads.job_template_spec(template), created,
                                        labels=full))
        w = Workload("CronJob", cj)
        fires = [f for f in fire_times_before(schedule, self.now, history) if f > created]
        for fire in reversed(fires):
            jw = self.add_job(namespace, workloads.cron_job_name(name, fire), owner=cj,
                              template=copy.deepcopy(template), created=fire + timedelta(seconds=0), runtime=runtime)
            w.jobs.append(jw.job)
            w.pods.extend(jw.pods)
            for p in jw.pods:
                self._pod_workload[p["metadata"]["uid"]] = jw
            if self.now - fire < EVENT_TTL:
                self.add_event(cj, "SuccessfulCreate", f"Created job {jw.name}", component="cronjob-controller",
                               first=fire)
                done = parse_ts(jw.job["status"]["completionTime"])
                self.add_event(cj, "SawCompletedJob", f"Saw completed job: {jw.name}, condition: Complete",
                               component="cronjob-controller", first=done + timedelta(seconds=1))
        if fires:
            last = fires[0]
            cj["status"] = {"lastScheduleTime": ts(last),
                            "lastSuccessfulTime": w.jobs[-1]["status"]["completionTime"]}
        self._register(w)
        return w

    def add_hpa(self, w: Workload, *, min_replicas: int | None = None, max_replicas: int = 6,
                cpu_target: int = 70, memory_target: int | None = 80, cpu_current: int = 48,
                memory_current: int = 55) -> dict[str, Any]:
        """autoscaling/v2 HPA on a Deployment/StatefulSet workload, healthy metrics by default."""
        ctrl = w.controller
        created = parse_ts(ctrl["metadata"]["creationTimestamp"]) + timedelta(seconds=3)
        hpa = self.add(workloads.hpa(w.namespace, w.name, ctrl, created,
                                     min_replicas=min_replicas or ctrl["spec"]["replicas"], max_replicas=max_replicas,
                                     cpu_target=cpu_target, memory_target=memory_target, cpu_current=cpu_current,
                                     memory_current=memory_current, labels=ctrl["metadata"].get("labels")))
        w.hpa = hpa
        return hpa

    def add_pdb(self, w: Workload, *, min_available: int | str | None = 1,
                max_unavailable: int | str | None = None) -> dict[str, Any]:
        """PodDisruptionBudget over a workload's pods; status follows pod readiness on refresh()."""
        ctrl = w.controller
        pdb = self.add(workloads.pod_disruption_budget(
            w.namespace, w.name, ctrl["spec"]["selector"]["matchLabels"],
            parse_ts(ctrl["metadata"]["creationTimestamp"]) + timedelta(seconds=1), min_available=min_available,
            max_unavailable=max_unavailable, labels=ctrl["metadata"].get("labels")))
        workloads.refresh_pdb(pdb, self._pods_matching(w.namespace, pdb["spec"]["selector"]["matchLabels"]), self.now)
        return pdb

    def add_static_pod(self, node_name: str, component: str, image: str, *, command: Sequence[str],
                       requests: Mapping[str, str] | None = None, probe_port: int | None = None,
                       probe_path: str = "/livez", probe_scheme: str = "HTTPS") -> dict[str, Any]:
        """Mirror pod of a kubelet static pod (control plane): owned by its Node, named <component>-<node>."""
        node_obj = self.require("Node", None, node_name)
        name = f"{component}-{node_name}"
        probe = None
        if probe_port:
            probe = podlib.http_probe(probe_path, probe_port, initial_delay=10, period=10, timeout=15, failure=8,
                                      scheme=probe_scheme)
            probe["httpGet"] = {"host": "127.0.0.1", **probe["httpGet"]}
        ctr = podlib.container(component, image, command=command, requests=requests or {"cpu": "100m"},
                               liveness=probe, startup=dict(probe, failureThreshold=24) if probe else None)
        ctr["resources"].pop("limits", None)
        template = podlib.pod_template({"component": component, "tier": "control-plane"}, [ctr], host_network=True,
                                       priority_class="system-node-critical", automount_token=False,
                                       tolerations=[{"effect": "NoExecute", "operator": "Exists"}],
                                       security_context={"seccompProfile": {"type": "RuntimeDefault"}})
        template["spec"]["dnsPolicy"] = "ClusterFirst"
        config_hash = hex_id("cfghash", name, n=32)
        template["metadata"]["annotations"] = {"kubernetes.io/config.hash": config_hash,
                                               "kubernetes.io/config.mirror": config_hash,
                                               "kubernetes.io/config.seen": ts(self.now - timedelta(days=30)) or "",
                                               "kubernetes.io/config.source": "file"}
        boot = parse_ts(next(c["lastTransitionTime"] for c in node_obj["status"]["conditions"] if c["type"] == "Ready"))
        pod = self._make_pod(name=name, namespace="kube-system", template=template, owner=node_obj, node_name=node_name,
                             created=boot - timedelta(seconds=15))
        pod["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "controller": True, "kind": "Node",
                                               "name": node_name, "uid": node_obj["metadata"]["uid"]}]
        pod["spec"].pop("serviceAccount", None)
        pod["spec"].pop("serviceAccountName", None)
        return pod

    # ------------------------------------------------------------ derived state

    def _refresh_workload(self, w: Workload) -> None:
        if w.kind == "Deployment":
            rss = [w.replicaset] + w.old_replicasets if w.replicaset else list(w.old_replicasets)
            for rs in rss:
                workloads.refresh_replicaset(rs, [p for p in w.pods if p["metadata"]["ownerReferences"][0]["uid"]
                                                  == rs["metadata"]["uid"] and self.get("Pod", w.namespace, p["metadata"]["name"]) is p])
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
            svc = self.get("Service", eps["metadata"]["namespace"], eps["metadata"]["labels"]["kubernetes.io/service-name"])
            if svc and svc["spec"].get("selector"):
                networking.fill_endpoint_slice(eps, svc, self._pods_matching(svc["metadata"]["namespace"],
                                                                             svc["spec"]["selector"]), changed)
        for ep in self.list("Endpoints"):
            svc = self.get("Service", ep["metadata"]["namespace"], ep["metadata"]["name"])
            if svc and svc["spec"].get("selector"):
                networking.fill_endpoints(ep, svc, self._pods_matching(svc["metadata"]["namespace"],
                                                                       svc["spec"]["selector"]), changed)

    def namespace_usage(self, namespace: str) -> dict[str, float]:
        """What quota admission counts: non-terminal pods' requests/limits, PVC count and storage."""
        usage = {"requests.cpu": 0.0, "requests.memory": 0.0, "limits.cpu": 0.0, "limits.memory": 0.0,
                 "pods": 0.0, "persistentvolumeclaims": 0.0, "requests.storage": 0.0, "services": 0.0}
        for p in self.list("Pod", namespace):
            if podlib.is_terminal(p):
                continue
            usage["pods"] += 1
            for c in p["spec"]["containers"]:
                res = c.get("resources", {})
                for kind in ("requests", "limits"):
                    for r in ("cpu", "memory"):
                        if r in res.get(kind, {}):
                            usage[f"{kind}.{r}"] += parse_quantity(res[kind][r])
        for claim in self.list("PersistentVolumeClaim", namespace):
            usage["persistentvolumeclaims"] += 1
            usage["requests.storage"] += parse_quantity(claim["spec"]["resources"]["requests"]["storage"])
        usage["services"] = float(len(self.list("Service", namespace)))
        return usage

    def refresh_quotas(self) -> None:
        for q in self.list("ResourceQuota"):
            usage = self.namespace_usage(q["metadata"]["namespace"])
            used = {}
            for key in q["spec"]["hard"]:
                v = usage.get(key, 0.0)
                used[key] = fmt_cpu(v) if key.endswith(".cpu") else (
                    fmt_bytes(v) if key.endswith("memory") or key.endswith("storage") else str(int(v)))
            q["status"] = {"hard": dict(q["spec"]["hard"]), "used": used}

    def refresh(self) -> None:
        """Re-derive every computed status after objects were added or mutated (faults call this)."""
        for w in self.workloads:
            self._refresh_workload(w)
        self.refresh_endpoints()
        self.refresh_quotas()
        for pdb in self.list("PodDisruptionBudget"):
            workloads.refresh_pdb(pdb, self._pods_matching(pdb["metadata"]["namespace"],
                                                           pdb["spec"]["selector"]["matchLabels"]), self.now)
        for fn in self.refreshers:
            fn(self)


_CONTROLLER_COMPONENT = {
    "Deployment": "deployment-controller", "ReplicaSet": "replicaset-controller",
    "StatefulSet": "statefulset-controller", "DaemonSet": "daemonset-controller", "Job": "job-controller",
    "CronJob": "cronjob-controller", "PersistentVolumeClaim": "persistentvolume-controller",
    "HorizontalPodAutoscaler": "horizontal-pod-autoscaler", "Node": "node-controller",
    "Service": "service-controller", "EndpointSlice": "endpointslice-controller",
    "ExternalSecret": "external-secrets", "ClusterSecretStore": "external-secrets",
    "Certificate": "cert-manager-certificates-issuing", "CertificateRequest": "cert-manager-certificaterequests-issuer-acme",
    "Challenge": "cert-manager-challenges", "Order": "cert-manager-orders",
    "PrometheusRule": "prometheus-controller", "Application": "argocd-application-controller",
}


def _service_ports(containers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in containers:
        for p in c.get("ports", []):
            name = p.get("name") or f"port-{p['containerPort']}"
            out.append({"name": name, "port": p["containerPort"], "protocol": p.get("protocol", "TCP"),
                        "targetPort": p.get("name") or p["containerPort"]})
    return out
