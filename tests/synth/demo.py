"""The demo platform: the reference platform at 3 AM with seven incidents across layers.

The demo is data. This module writes it (`PYTHONPATH=tests python -m synth.demo DIR`); the package ships the
result under sre_expert/demo/platform, and `sre-expert check --demo` reads it like any other bundle. Every
incident is built with the same fault injectors the scenario tests use, so the demo shows only what a real
cluster in that state would show.

Incidents (each must surface as a root cause):
1. mycure-production: MongoDB is OOMKilled at its memory limit; the API crash-loops on
   ECONNREFUSED to the mongodb Service (a chain across workloads, found through the API's logs).
2. lfh-staging: a rollout adds SMTP_PASSWORD from GCP Secret Manager under a remote key that does not
   exist; the ExternalSecret stops syncing and the new pods cannot start (missing key).
3. gateway-system: the Cloudflare API token is refused, the *.stg.localfirsthealth.com certificate cannot
   be issued, the https-lfh-stg listener loses its TLS Secret and the lfh-staging route goes down.
4. A worker node stops reporting (kubelet down): its pods are lost and rescheduled.
5. velero: the backup bucket refuses the service account; nightly backups fail and namespaces miss RPO.
6. mycure-production: a new report-worker Deployment runs as root and Kyverno's pod-security denies it.
7. lfh-staging: the nightly session-cleanup job ran out of its backoff limit.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from synth import faults
from synth.builder import PlatformBuilder
from synth.bundle_writer import write_bundle
from synth.logs import crash_log
from synth.platform import healthy_platform

CAPTURED_AT = datetime(2026, 11, 26, 3, 7, 12, tzinfo=UTC)
TENANTS = ("mycure-production", "lfh-staging")


def build_demo(now: datetime = CAPTURED_AT) -> PlatformBuilder:
    b = healthy_platform(PlatformBuilder(now, cluster="monobase-prod"), TENANTS, workers=4)
    _lost_node(b)
    _mongodb_oom(b)
    _missing_remote_key(b)
    _stg_certificate(b)
    _backup_bucket_denied(b)
    _worker_denied(b)
    _cleanup_job_failed(b)
    b.refresh()
    return b


def _lost_node(b: PlatformBuilder) -> None:
    """Pick the worker that hosts no database and no gateway proxy, so the other stories stay separate."""
    busy = {p["spec"].get("nodeName") for p in b.list("Pod")
            if p["metadata"]["name"] in ("mongodb-0", "postgresql-0")
            or p["metadata"]["labels"].get("gateway.envoyproxy.io/owning-gateway-name")}
    node = next(n for n in reversed(b.node_names(schedulable_only=True)) if n not in busy)
    faults.node_not_ready(b, b.require("Node", None, node), since=timedelta(minutes=26))


def _mongodb_oom(b: PlatformBuilder) -> None:
    ns = "mycure-production"
    db = b.workload("StatefulSet", ns, "mongodb")
    faults.oomkilled(b, db.pods[0], restarts=6, since=timedelta(minutes=34))
    api = b.workload("Deployment", ns, "api")
    for pod in [p for p in api.pods if b.get("Pod", ns, p["metadata"]["name"]) is p]:
        started = b.now - timedelta(minutes=2)
        log = crash_log(pod["spec"]["containers"][0]["image"], started, detail=(
            "MongoServerSelectionError: connect ECONNREFUSED mongodb.mycure-production.svc.cluster.local:27017"))
        faults.crashloop(b, pod, previous_log=log, restarts=9, since=timedelta(minutes=31))


def _missing_remote_key(b: PlatformBuilder) -> None:
    ns = "lfh-staging"
    es = b.require("ExternalSecret", ns, "api-secrets")
    es["spec"]["data"].append({"secretKey": "SMTP_PASSWORD", "remoteRef": {"key": f"{ns}-smtp-password"}})
    es["metadata"]["generation"] += 1
    key = f"{ns}-smtp-password"
    faults.external_secret_failed(b, es, since=timedelta(minutes=52), error=(
        f"error retrieving secret at .data[2], key: {key}, err: rpc error: code = NotFound desc = Secret "
        f"[projects/417233581022/secrets/{key}] not found or has no versions."))

    def add_smtp(template: dict[str, Any]) -> None:
        env = template["spec"]["containers"][0].setdefault("env", [])
        env.append({"name": "SMTP_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "api-secrets", "key": "SMTP_PASSWORD"}}})

    api = b.workload("Deployment", ns, "api")
    for pod in faults.rollout(b, api, add_smtp, since=timedelta(minutes=49)):
        faults.create_container_config_error(b, pod, secret="api-secrets", key="SMTP_PASSWORD", missing="key",
                                             since=timedelta(minutes=49), remove=False)


def _stg_certificate(b: PlatformBuilder) -> None:
    cert = next(c for c in b.list("Certificate", "gateway-system")
                if "*.stg.localfirsthealth.com" in c["spec"]["dnsNames"])
    faults.listener_certificate_lost(b, cert, "https-lfh-stg", since=timedelta(minutes=47))


def _backup_bucket_denied(b: PlatformBuilder) -> None:
    faults.bsl_outage(b, since=timedelta(hours=50))


def _worker_denied(b: PlatformBuilder) -> None:
    ns = "mycure-production"
    w = b.add_deployment(ns, "report-worker", "ghcr.io/monobaselabs/report-worker:1.4.0", replicas=1,
                         requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "500m", "memory": "512Mi"},
                         service=False, created=b.now - timedelta(minutes=22), instance=ns, part_of="monobase")
    faults.webhook_denied(b, w, policy="pod-security", rule="restricted")


def _cleanup_job_failed(b: PlatformBuilder) -> None:
    cj = b.workload("CronJob", "lfh-staging", "session-cleanup")
    faults.job_failed(b, cj, exit_code=1)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m synth.demo OUTPUT_DIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    write_bundle(build_demo(), out)
    print(f"demo platform written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
