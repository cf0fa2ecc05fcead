"""Batch and auxiliary adders of PlatformBuilder: Jobs, CronJobs, HPAs, PDBs, static pods."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from synth import pods as podlib
from synth import workloads
from synth.builder_pods import EVENT_TTL
from synth.cron import fire_times_before
from synth.meta import hex_id, number, owner_reference, parse_ts, ts
from synth.workload import Workload


class JobAdders:
    """add_job / add_cronjob / add_hpa / add_pdb / add_static_pod."""

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
            ctrs = containers or [
                podlib.container(
                    name,
                    image or "busybox:1.36",
                    args=args,
                    env_secrets=env_secrets,
                    requests=requests or {"cpu": "50m", "memory": "64Mi"},
                    limits=limits or {"memory": "128Mi"},
                )
            ]
            template = podlib.pod_template(
                selector, ctrs, restart_policy=restart_policy, service_account=service_account
            )
        j = self.add(
            workloads.job(
                namespace,
                name,
                template,
                created,
                labels=None if owner else full,
                owners=[owner_reference(owner)] if owner else None,
                backoff_limit=backoff_limit,
            )
        )
        w = Workload("Job", j)
        pod_name = self.pod_name(namespace, name, "job", namespace, name)
        spec_for_fit = podlib.pod_spec_for(j["spec"]["template"]["spec"], pod_name, namespace, None)
        pod = self._make_pod(
            name=pod_name,
            namespace=namespace,
            template=j["spec"]["template"],
            owner=j,
            node_name=self._pick_node(spec_for_fit, node),
            created=created + timedelta(seconds=1),
            generate_name=f"{name}-",
            phase="Succeeded",
            runtime=runtime,
        )
        w.pods.append(pod)
        cs = pod["status"]["containerStatuses"][0]["state"]["terminated"]
        finished = parse_ts(cs["finishedAt"]) + timedelta(seconds=1)
        self.add_log(
            pod,
            pod["spec"]["containers"][0]["name"],
            f"{cs['startedAt']} INFO job {name} started\n{cs['finishedAt']} INFO job {name} finished successfully\n",
        )
        workloads.complete_job(j, finished)
        self._register(w)
        if self.now - created < EVENT_TTL:
            self.add_event(
                j,
                "SuccessfulCreate",
                f"Created pod: {pod_name}",
                component="job-controller",
                first=created + timedelta(seconds=1),
            )
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
        created = created or self._ns_created(namespace) + timedelta(
            minutes=number("cj", namespace, name, hi=90)
        )
        full, selector = self._labels(name, instance, None, part_of, labels, None, None, "Helm")
        ctr = podlib.container(
            name,
            image,
            args=args,
            env_secrets=env_secrets,
            requests=requests or {"cpu": "50m", "memory": "64Mi"},
            limits=limits or {"memory": "128Mi"},
            security_context=security_context,
        )
        sa = service_account or "default"
        template = podlib.pod_template(
            selector,
            [ctr],
            restart_policy="OnFailure",
            service_account=sa if sa != "default" else None,
            security_context=pod_security_context,
        )
        self._ensure_sa(namespace, sa, full)
        cj = self.add(
            workloads.cronjob(
                namespace, name, schedule, workloads.job_template_spec(template), created, labels=full
            )
        )
        w = Workload("CronJob", cj)
        fires = [f for f in fire_times_before(schedule, self.now, history) if f > created]
        for fire in reversed(fires):
            jw = self.add_job(
                namespace,
                workloads.cron_job_name(name, fire),
                owner=cj,
                template=copy.deepcopy(template),
                created=fire + timedelta(seconds=0),
                runtime=runtime,
            )
            w.jobs.append(jw.job)
            w.pods.extend(jw.pods)
            for p in jw.pods:
                self._pod_workload[p["metadata"]["uid"]] = jw
            if self.now - fire < EVENT_TTL:
                self.add_event(
                    cj,
                    "SuccessfulCreate",
                    f"Created job {jw.name}",
                    component="cronjob-controller",
                    first=fire,
                )
                done = parse_ts(jw.job["status"]["completionTime"])
                self.add_event(
                    cj,
                    "SawCompletedJob",
                    f"Saw completed job: {jw.name}, condition: Complete",
                    component="cronjob-controller",
                    first=done + timedelta(seconds=1),
                )
        if fires:
            last = fires[0]
            cj["status"] = {
                "lastScheduleTime": ts(last),
                "lastSuccessfulTime": w.jobs[-1]["status"]["completionTime"],
            }
        self._register(w)
        return w

    def add_hpa(
        self,
        w: Workload,
        *,
        min_replicas: int | None = None,
        max_replicas: int = 6,
        cpu_target: int = 70,
        memory_target: int | None = 80,
        cpu_current: int = 48,
        memory_current: int = 55,
    ) -> dict[str, Any]:
        """autoscaling/v2 HPA on a Deployment/StatefulSet workload, healthy metrics by default."""
        ctrl = w.controller
        created = parse_ts(ctrl["metadata"]["creationTimestamp"]) + timedelta(seconds=3)
        hpa = self.add(
            workloads.hpa(
                w.namespace,
                w.name,
                ctrl,
                created,
                min_replicas=min_replicas or ctrl["spec"]["replicas"],
                max_replicas=max_replicas,
                cpu_target=cpu_target,
                memory_target=memory_target,
                cpu_current=cpu_current,
                memory_current=memory_current,
                labels=ctrl["metadata"].get("labels"),
            )
        )
        w.hpa = hpa
        return hpa

    def add_pdb(
        self, w: Workload, *, min_available: int | str | None = 1, max_unavailable: int | str | None = None
    ) -> dict[str, Any]:
        """PodDisruptionBudget over a workload's pods; status follows pod readiness on refresh()."""
        ctrl = w.controller
        pdb = self.add(
            workloads.pod_disruption_budget(
                w.namespace,
                w.name,
                ctrl["spec"]["selector"]["matchLabels"],
                parse_ts(ctrl["metadata"]["creationTimestamp"]) + timedelta(seconds=1),
                min_available=min_available,
                max_unavailable=max_unavailable,
                labels=ctrl["metadata"].get("labels"),
            )
        )
        workloads.refresh_pdb(
            pdb, self._pods_matching(w.namespace, pdb["spec"]["selector"]["matchLabels"]), self.now
        )
        return pdb

    def add_static_pod(
        self,
        node_name: str,
        component: str,
        image: str,
        *,
        command: Sequence[str],
        requests: Mapping[str, str] | None = None,
        probe_port: int | None = None,
        probe_path: str = "/livez",
        probe_scheme: str = "HTTPS",
    ) -> dict[str, Any]:
        """Mirror pod of a kubelet static pod (control plane): owned by its Node, named <component>-<node>."""
        node_obj = self.require("Node", None, node_name)
        name = f"{component}-{node_name}"
        probe = None
        if probe_port:
            probe = podlib.http_probe(
                probe_path,
                probe_port,
                initial_delay=10,
                period=10,
                timeout=15,
                failure=8,
                scheme=probe_scheme,
            )
            probe["httpGet"] = {"host": "127.0.0.1", **probe["httpGet"]}
        ctr = podlib.container(
            component,
            image,
            command=command,
            requests=requests or {"cpu": "100m"},
            liveness=probe,
            startup=dict(probe, failureThreshold=24) if probe else None,
        )
        ctr["resources"].pop("limits", None)
        template = podlib.pod_template(
            {"component": component, "tier": "control-plane"},
            [ctr],
            host_network=True,
            priority_class="system-node-critical",
            automount_token=False,
            tolerations=[{"effect": "NoExecute", "operator": "Exists"}],
            security_context={"seccompProfile": {"type": "RuntimeDefault"}},
        )
        template["spec"]["dnsPolicy"] = "ClusterFirst"
        config_hash = hex_id("cfghash", name, n=32)
        template["metadata"]["annotations"] = {
            "kubernetes.io/config.hash": config_hash,
            "kubernetes.io/config.mirror": config_hash,
            "kubernetes.io/config.seen": ts(self.now - timedelta(days=30)) or "",
            "kubernetes.io/config.source": "file",
        }
        boot = parse_ts(
            next(c["lastTransitionTime"] for c in node_obj["status"]["conditions"] if c["type"] == "Ready")
        )
        pod = self._make_pod(
            name=name,
            namespace="kube-system",
            template=template,
            owner=node_obj,
            node_name=node_name,
            created=boot - timedelta(seconds=15),
        )
        pod["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "v1",
                "controller": True,
                "kind": "Node",
                "name": node_name,
                "uid": node_obj["metadata"]["uid"],
            }
        ]
        pod["spec"].pop("serviceAccount", None)
        pod["spec"].pop("serviceAccountName", None)
        return pod
