"""Long-running workload adders of PlatformBuilder: Deployments, StatefulSets, DaemonSets."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from synth import networking, storage, workloads
from synth import pods as podlib
from synth.builder_pods import EVENT_TTL, _service_ports
from synth.meta import hex_id, number, owner_reference, parse_ts, safe_suffix
from synth.workload import Workload


class WorkloadAdders:
    """add_deployment / add_statefulset / add_daemonset with their pods, PVCs and Services."""

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
        created = created or self._ns_created(namespace) + timedelta(
            minutes=number("dep", namespace, name, hi=90)
        )
        full, selector = self._labels(
            name, instance, component, part_of, labels, chart, version, managed_by, selector
        )
        pod_labels = {**full, **selector}
        ctrs = self._containers(
            name,
            image,
            containers,
            ports,
            env,
            env_secrets,
            env_configmaps,
            requests,
            limits,
            probe_path,
            volume_mounts,
            security_context,
            args,
        )
        sa = service_account if service_account is not None else name
        sa_obj = self._ensure_sa(namespace, sa, full)
        tmpl_annotations = {
            "checksum/config": hex_id("cfg", namespace, name, revision),
            **(pod_annotations or {}),
        }
        template = podlib.pod_template(
            pod_labels,
            ctrs,
            annotations=tmpl_annotations,
            volumes=volumes,
            init_containers=init_containers,
            service_account=sa,
            security_context=pod_security_context,
            priority_class=priority_class,
            tolerations=tolerations,
            node_selector=node_selector,
            host_network=host_network,
        )
        dep = self.add(
            workloads.deployment(
                namespace,
                name,
                template,
                replicas,
                created,
                selector=selector,
                labels=full,
                revision=revision,
                annotations=annotations,
                strategy=strategy,
            )
        )
        pod_created_first = self._pod_created(created, pod_age, f"{namespace}/{name}")
        rs_created = (
            pod_created_first - timedelta(seconds=1)
            if revision > 1 or pod_age
            else created + timedelta(seconds=1)
        )
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
        w = Workload(
            "Deployment", dep, replicaset=rs, old_replicasets=list(reversed(olds)), service_account=sa_obj
        )
        placement = [node] if isinstance(node, str) else list(node or [])
        for i in range(replicas):
            pod_name = self.pod_name(namespace, rs["metadata"]["name"], "pod", namespace, rs["metadata"]["name"], i)
            spec_for_fit = podlib.pod_spec_for(rs["spec"]["template"]["spec"], pod_name, namespace, None)
            node_name = self._pick_node(spec_for_fit, placement[i % len(placement)] if placement else None)
            created_i = pod_created_first + timedelta(seconds=i * number("stagger", pod_name, lo=0, hi=4))
            w.pods.append(
                self._make_pod(
                    name=pod_name,
                    namespace=namespace,
                    template=rs["spec"]["template"],
                    owner=rs,
                    node_name=node_name,
                    created=created_i,
                    generate_name=f"{rs['metadata']['name']}-",
                    log_flavor=log_flavor,
                )
            )
        if service:
            specs = (
                service
                if not isinstance(service, bool)
                else [
                    {
                        "name": name,
                        "selector": selector,
                        "labels": full,
                        "type_": service_type,
                        "ports": service_ports or _service_ports(ctrs),
                    }
                ]
            )
            self._attach_services(w, namespace, specs)
        self._register(w)
        rs_ready_at = max(
            [
                parse_ts(c["lastTransitionTime"])
                for p in w.pods
                for c in p["status"]["conditions"]
                if c["type"] == "Ready"
            ]
            or [rs_created]
        )
        dep["status"]["conditions"] = [
            workloads.progressing_condition(
                rs["metadata"]["name"], created + timedelta(seconds=1), rs_ready_at
            )
        ]
        self._refresh_workload(w)
        if self.now - rs_created < EVENT_TTL:
            prev = 0
            for r in olds[-1:]:
                self.add_event(
                    r,
                    "SuccessfulDelete",
                    f"Deleted pod: {r['metadata']['name']}-{safe_suffix('old', r['metadata']['name'])}",
                    component="replicaset-controller",
                    first=rs_created + timedelta(seconds=20),
                )
            self.add_event(
                dep,
                "ScalingReplicaSet",
                f"Scaled up replica set {rs['metadata']['name']} from {prev} to {replicas}",
                component="deployment-controller",
                first=rs_created,
            )
            if olds:
                self.add_event(
                    dep,
                    "ScalingReplicaSet",
                    f"Scaled down replica set {olds[-1]['metadata']['name']} from {replicas} to 0",
                    component="deployment-controller",
                    first=rs_created + timedelta(seconds=19),
                )
            for p in w.pods:
                self.add_event(
                    rs,
                    "SuccessfulCreate",
                    f"Created pod: {p['metadata']['name']}",
                    component="replicaset-controller",
                    first=parse_ts(p["metadata"]["creationTimestamp"]),
                )
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
        created = created or self._ns_created(namespace) + timedelta(
            minutes=number("sts", namespace, name, hi=90)
        )
        full, selector = self._labels(
            name, instance, component, part_of, labels, chart, version, managed_by, selector
        )
        ctrs = self._containers(
            name,
            image,
            containers,
            ports,
            env,
            env_secrets,
            None,
            requests,
            limits,
            probe_path,
            volume_mounts,
            security_context,
            None,
        )
        sa = service_account if service_account is not None else name
        sa_obj = self._ensure_sa(namespace, sa, full)
        template = podlib.pod_template(
            {**full, **selector},
            ctrs,
            volumes=volumes,
            init_containers=init_containers,
            service_account=sa,
            security_context=pod_security_context,
            annotations=pod_annotations,
        )
        governing = service_name or f"{name}-headless"
        vcts = [
            workloads.volume_claim_template(c, size, storage_class, labels=selector)
            for c, size in (volume_claims or {}).items()
        ]
        sts = self.add(
            workloads.statefulset(
                namespace,
                name,
                template,
                replicas,
                created,
                selector=selector,
                service_name=governing,
                labels=full,
                volume_claim_templates=vcts,
                pod_management=pod_management,
                owners=[owner_reference(owner)] if owner else None,
            )
        )
        revision = sts["status"]["updateRevision"]
        w = Workload("StatefulSet", sts, service_account=sa_obj)
        first = self._pod_created(created, pod_age, f"{namespace}/{name}")
        for i in range(replicas):
            pod_name = f"{name}-{i}"
            created_i = first + timedelta(seconds=i * 45)
            for vct in vcts:
                claim_name = f"{vct['metadata']['name']}-{pod_name}"
                claim = self.add(
                    storage.pvc(
                        namespace,
                        claim_name,
                        vct["spec"]["resources"]["requests"]["storage"],
                        min(created_i, created + timedelta(seconds=2 + i * 45)),
                        storage_class_name=storage_class,
                        labels=selector,
                    )
                )
                w.pvcs.append(claim)
                w.pvs.append(self.add(storage.bind(claim)))
            pod_tmpl = copy.deepcopy(template)
            for vct in vcts:
                pod_tmpl["spec"].setdefault("volumes", []).insert(
                    0, podlib.pvc_volume(vct["metadata"]["name"], f"{vct['metadata']['name']}-{pod_name}")
                )
            spec_for_fit = podlib.pod_spec_for(pod_tmpl["spec"], pod_name, namespace, None)
            node_name = self._pick_node(spec_for_fit, node)
            w.pods.append(
                self._make_pod(
                    name=pod_name,
                    namespace=namespace,
                    template=pod_tmpl,
                    owner=sts,
                    node_name=node_name,
                    created=created_i,
                    hostname=pod_name,
                    subdomain=governing,
                    log_flavor=log_flavor,
                    extra_labels={
                        "apps.kubernetes.io/pod-index": str(i),
                        "controller-revision-hash": revision,
                        "statefulset.kubernetes.io/pod-name": pod_name,
                    },
                )
            )
        if service:
            if isinstance(service, bool):
                sp = service_ports or _service_ports(ctrs)
                specs = [
                    {
                        "name": governing,
                        "selector": selector,
                        "labels": full,
                        "ports": sp,
                        "headless": True,
                        "publish_not_ready": True,
                    },
                    {"name": name, "selector": selector, "labels": full, "ports": sp},
                ]
            else:
                specs = list(service)
            self._attach_services(w, namespace, specs)
        self._register(w)
        self._refresh_workload(w)
        for p in w.pods:
            if self.now - parse_ts(p["metadata"]["creationTimestamp"]) < EVENT_TTL:
                for claim in w.pvcs:
                    if claim["metadata"]["name"].endswith(p["metadata"]["name"]):
                        self.add_event(
                            sts,
                            "SuccessfulCreate",
                            f"create Claim {claim['metadata']['name']} Pod {p['metadata']['name']} in "
                            f"StatefulSet {name} success",
                            component="statefulset-controller",
                            first=parse_ts(p["metadata"]["creationTimestamp"]),
                        )
                self.add_event(
                    sts,
                    "SuccessfulCreate",
                    f"create Pod {p['metadata']['name']} in StatefulSet {name} successful",
                    component="statefulset-controller",
                    first=parse_ts(p["metadata"]["creationTimestamp"]),
                )
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
        created = created or self._ns_created(namespace) + timedelta(
            minutes=number("ds", namespace, name, hi=90)
        )
        full, selector = self._labels(
            name, instance, component, part_of, labels, chart, version, managed_by, selector
        )
        ctrs = self._containers(
            name,
            image,
            containers,
            ports,
            env,
            None,
            None,
            requests,
            limits,
            probe_path,
            volume_mounts,
            security_context,
            None,
        )
        sa = service_account if service_account is not None else name
        sa_obj = self._ensure_sa(namespace, sa, full)
        template = podlib.pod_template(
            {**full, **selector},
            ctrs,
            volumes=volumes,
            init_containers=init_containers,
            service_account=sa,
            tolerations=tolerations,
            node_selector=node_selector,
            host_network=host_network,
            priority_class=priority_class,
        )
        ds = self.add(workloads.daemonset(namespace, name, template, created, selector=selector, labels=full))
        h = workloads.template_hash(template, f"{namespace}/{name}")
        w = Workload("DaemonSet", ds, service_account=sa_obj)
        for node_name in self.daemon_nodes(ds):
            pod_name = self.pod_name(namespace, name, "ds", namespace, name, node_name)
            created_i = self._pod_created(created, pod_age, f"{namespace}/{name}/{node_name}")
            w.pods.append(
                self._make_pod(
                    name=pod_name,
                    namespace=namespace,
                    template=template,
                    owner=ds,
                    node_name=node_name,
                    created=created_i,
                    daemon=True,
                    generate_name=f"{name}-",
                    log_flavor=log_flavor,
                    extra_labels={"controller-revision-hash": h, "pod-template-generation": "1"},
                )
            )
        if service:
            specs = (
                service
                if not isinstance(service, bool)
                else [{"name": name, "selector": selector, "labels": full, "ports": _service_ports(ctrs)}]
            )
            self._attach_services(w, namespace, specs)
        self._register(w)
        self._refresh_workload(w)
        for p in w.pods:
            if self.now - parse_ts(p["metadata"]["creationTimestamp"]) < EVENT_TTL:
                self.add_event(
                    ds,
                    "SuccessfulCreate",
                    f"Created pod: {p['metadata']['name']}",
                    component="daemonset-controller",
                    first=parse_ts(p["metadata"]["creationTimestamp"]),
                )
        return w

    def daemon_nodes(self, ds: dict[str, Any]) -> list[str]:
        """Nodes a DaemonSet should run on: its tolerations plus the controller's defaults decide."""
        spec = copy.deepcopy(ds["spec"]["template"]["spec"])
        spec["tolerations"] = spec.get("tolerations", []) + podlib.DAEMONSET_TOLERATIONS
        return [n for n in self._node_order if self._fits(spec, self.require("Node", None, n))]
