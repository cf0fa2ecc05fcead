"""Pod making for PlatformBuilder: names, placement, admission-defaulted specs, start events, logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from synth import nodes
from synth import pods as podlib
from synth.logs import healthy_log
from synth.meta import app_labels, new_object, number, owner_reference, parse_ts, ts
from synth.workload import Workload

EVENT_TTL = timedelta(hours=1)
"""kube-apiserver --event-ttl default: older events are gone from a real cluster."""


class PodMaker:
    """Creates pods the way controllers + scheduler + kubelet would, for every workload adder."""

    # ------------------------------------------------------------ pods

    def _pod_created(self, controller_created: datetime, pod_age: timedelta | None, key: str) -> datetime:
        if pod_age is not None:
            return self.now - pod_age
        days = number("podage", key, lo=2, hi=26)
        created = self.now - timedelta(days=days, minutes=number("podmin", key, hi=1400))
        return max(created, controller_created + timedelta(seconds=5))

    def _make_pod(
        self,
        *,
        name: str,
        namespace: str,
        template: dict[str, Any],
        owner: dict[str, Any],
        node_name: str,
        created: datetime,
        extra_labels: Mapping[str, str] | None = None,
        daemon: bool = False,
        hostname: str | None = None,
        subdomain: str | None = None,
        generate_name: str | None = None,
        log_flavor: str | None = None,
        emit_events: bool = True,
        phase: str = "Running",
        runtime: timedelta = timedelta(seconds=20),
    ) -> dict[str, Any]:
        labels = {**template["metadata"].get("labels", {}), **(extra_labels or {})}
        pod = new_object(
            "Pod",
            name,
            namespace,
            created,
            labels=labels,
            annotations=template["metadata"].get("annotations"),
            owners=[owner_reference(owner)],
            generate_name=generate_name,
        )
        spec = podlib.pod_spec_for(
            template["spec"], name, namespace, node_name, daemon_node=node_name if daemon else None
        )
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
            nodes.add_node_image(
                node_obj,
                [podlib.image_id(c["image"]), podlib.normalize_image(c["image"])],
                podlib.image_size(c["image"]),
            )
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
                self.add_log(
                    pod, c["name"], healthy_log(c["image"], started, self.now, name, namespace, log_flavor)
                )
        if recent and emit_events:
            self._pod_start_events(pod, already)
        return pod

    def _pod_start_events(self, pod: dict[str, Any], already_present: set[str]) -> None:
        md, spec = pod["metadata"], pod["spec"]
        t = podlib.pod_times(parse_ts(md["creationTimestamp"]), md["uid"])
        node_name = spec["nodeName"]
        self.add_event(
            pod,
            "Scheduled",
            f"Successfully assigned {md['namespace']}/{md['name']} to {node_name}",
            component="default-scheduler",
            first=t["scheduled"],
        )
        statuses = {
            cs["name"]: cs
            for cs in pod["status"].get("containerStatuses", [])
            + pod["status"].get("initContainerStatuses", [])
        }
        for kind, containers in (
            ("initContainers", spec.get("initContainers", [])),
            ("containers", spec["containers"]),
        ):
            for c in containers:
                fp = f"spec.{kind}{{{c['name']}}}"
                cs = statuses.get(c["name"], {})
                state = cs.get("state", {})
                started = parse_ts(
                    (state.get("running") or state.get("terminated") or {}).get("startedAt", ts(t["started"]))
                )
                if podlib.normalize_image(c["image"]) in already_present:
                    self.add_event(
                        pod,
                        "Pulled",
                        f'Container image "{c["image"]}" already present on machine',
                        first=started - timedelta(seconds=1),
                        field_path=fp,
                    )
                else:
                    secs = (number("pull", md["uid"], c["name"], lo=800, hi=9000)) / 1000
                    self.add_event(
                        pod, "Pulling", f'Pulling image "{c["image"]}"', first=t["sandbox"], field_path=fp
                    )
                    self.add_event(
                        pod,
                        "Pulled",
                        f'Successfully pulled image "{c["image"]}" in {secs:.3f}s ({secs:.3f}s including '
                        f"waiting). Image size: {podlib.image_size(c['image'])} bytes.",
                        first=started - timedelta(seconds=1),
                        field_path=fp,
                    )
                self.add_event(
                    pod, "Created", f"Created container: {c['name']}", first=started, field_path=fp
                )
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

    # ------------------------------------------------------------ workloads

    def _labels(
        self,
        name: str,
        instance: str | None,
        component: str | None,
        part_of: str | None,
        labels: Mapping[str, str] | None,
        chart: str | None,
        version: str | None,
        managed_by: str | None,
        selector: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, str], dict[str, str]]:
        """(object labels, selector labels) the way Helm charts render them."""
        if labels is not None:
            full = dict(labels)
        else:
            full = app_labels(
                name,
                instance or name,
                component=component,
                part_of=part_of,
                managed_by=managed_by,
                version=version,
                chart=chart,
            )
        if selector is not None:
            return full, dict(selector)
        chosen = {
            k: full[k]
            for k in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component")
            if k in full
        }
        return full, chosen or dict(full)

    def _containers(
        self,
        name: str,
        image: str | None,
        containers: list[dict[str, Any]] | None,
        ports: Sequence[podlib.Port],
        env: Mapping[str, str] | None,
        env_secrets: Mapping[str, tuple[str, str]] | None,
        env_configmaps: Mapping[str, tuple[str, str]] | None,
        requests: Mapping[str, str] | None,
        limits: Mapping[str, str] | None,
        probe_path: str | None,
        volume_mounts: Sequence[Mapping[str, Any]],
        security_context: Mapping[str, Any] | None,
        args: Sequence[str] | None,
    ) -> list[dict[str, Any]]:
        if containers is not None:
            return containers
        if image is None:
            raise ValueError("give either image or containers")
        port_list = list(ports)
        first_port: int | str | None = None
        if port_list:
            p0 = port_list[0]
            first_port = (
                p0
                if isinstance(p0, int)
                else (p0.get("name") or p0["containerPort"])
                if isinstance(p0, Mapping)
                else p0[0]
            )
        readiness = liveness = None
        if probe_path and first_port is not None:
            readiness = podlib.http_probe(probe_path, first_port, initial_delay=5, period=10)
            liveness = podlib.http_probe(probe_path, first_port, initial_delay=15, period=20)
        elif first_port is not None and probe_path is None:
            readiness = podlib.tcp_probe(first_port, initial_delay=5)
            liveness = podlib.tcp_probe(first_port, initial_delay=15, period=20)
        return [
            podlib.container(
                name,
                image,
                ports=port_list,
                env=env,
                env_secrets=env_secrets,
                env_configmaps=env_configmaps,
                requests=requests or {"cpu": "100m", "memory": "128Mi"},
                limits=limits or {"memory": "256Mi"},
                readiness=readiness,
                liveness=liveness,
                volume_mounts=volume_mounts,
                security_context=security_context,
                args=args,
            )
        ]


def _service_ports(containers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for c in containers:
        for p in c.get("ports", []):
            name = p.get("name") or f"port-{p['containerPort']}"
            out.append(
                {
                    "name": name,
                    "port": p["containerPort"],
                    "protocol": p.get("protocol", "TCP"),
                    "targetPort": p.get("name") or p["containerPort"],
                }
            )
    return out
