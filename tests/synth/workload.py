"""Workload: everything one controller owns or fronts, as handles fault injection mutates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    def endpointslice(self) -> dict[str, Any] | None:
        svc = self.service
        return next(
            (
                e
                for e in self.endpointslices
                if svc and e["metadata"]["labels"]["kubernetes.io/service-name"] == svc["metadata"]["name"]
            ),
            None,
        )

    @property
    def endpoints(self) -> dict[str, Any] | None:
        svc = self.service
        return next(
            (e for e in self.endpoints_list if svc and e["metadata"]["name"] == svc["metadata"]["name"]), None
        )

    @property
    def container_name(self) -> str:
        return self.template["spec"]["containers"][0]["name"]

    @property
    def template(self) -> dict[str, Any]:
        if self.kind == "CronJob":
            return self.controller["spec"]["jobTemplate"]["spec"]["template"]
        return self.controller["spec"]["template"]
