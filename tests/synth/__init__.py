"""Synthetic Kubernetes clusters exactly as the API server returns them, for tests, demo and benchmarks.

    from synth import PlatformBuilder, healthy_platform, faults, write_bundle
    b = healthy_platform(PlatformBuilder(now))
    faults.crashloop(b, b.workload("Deployment", "mycure-production", "api").pods[0])
    write_bundle(b, "out/bundle")

Pure dict builders, deterministic (hash-derived ids, counter-allocated IPs); only write_bundle does I/O.

Modules: meta (ids, times, metadata, quantities) · pods · workloads · networking · nodes · config ·
storage · events · logs · cron · gateway · certmanager · eso · velero · monitoring · kyverno · argocd ·
builder (+ builder_pods, builder_workloads, builder_jobs, workload) · platform (+ platform_spec,
platform_system, platform_addons, platform_ops, platform_tenants) · faults (+ fault_helpers,
faults_nodes, faults_platform) · bundle_writer.
"""

from synth import faults
from synth.builder import EVENT_TTL, PlatformBuilder, Workload
from synth.bundle_writer import bundle_files, write_bundle
from synth.platform import Tenant, healthy_platform, tenant_for

__all__ = [
    "EVENT_TTL",
    "PlatformBuilder",
    "Tenant",
    "Workload",
    "bundle_files",
    "faults",
    "healthy_platform",
    "tenant_for",
    "write_bundle",
]
