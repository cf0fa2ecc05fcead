"""Velero Schedules (cron, retention per tier, daily coverage, location) and BackupStorageLocations.

Tiers follow the reference platform: hourly 72h, daily 30 days, weekly 90 days. A schedule's tier is
its `backup.monobase.io/tier` label, else the word hourly/daily/weekly in its name.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sre_expert.core.cron import CronError, parse
from sre_expert.core.units import go_duration
from sre_expert.lint.codes import lint_finding
from sre_expert.lint.context import LintContext, obj_ref
from sre_expert.lint.repo import RepoObject

TIER_TTL = {"hourly": timedelta(hours=72), "daily": timedelta(hours=720), "weekly": timedelta(hours=2160)}
TIER_LABEL = "backup.monobase.io/tier"
VELERO_DEFAULT_TTL = timedelta(hours=720)
INFRA_DAILY_NAMESPACES = ("cert-manager", "envoy-gateway-system", "external-secrets-system", "longhorn-system",
                          "velero", "monitoring", "kube-system", "argocd")
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")


def tier_of(ro: RepoObject) -> str | None:
    label = ((ro.obj.get("metadata") or {}).get("labels") or {}).get(TIER_LABEL)
    if label in TIER_TTL:
        return label
    for t in TIER_TTL:
        if t in ro.name:
            return t
    return None


def _hours(td: timedelta) -> str:
    h = td.total_seconds() / 3600
    return f"{int(h)}h" if h == int(h) else f"{h:g}h"


def check_schedules(ctx: LintContext) -> None:
    bsls = ctx.repo.objects("BackupStorageLocation")
    for ro in ctx.repo.objects("Schedule"):
        with ctx.guard("velero schedules", ro):
            if not ro.obj.get("apiVersion", "").startswith("velero.io/"):
                continue
            spec = ro.obj.get("spec") or {}
            tmpl = spec.get("template") or {}
            cron = spec.get("schedule")
            try:
                parse(str(cron or ""))
            except CronError as e:
                ctx.add(lint_finding("LINT-VELERO-CRON-INVALID", obj_ref(ro), ro.file, ro.line("spec", "schedule"),
                                     f"Schedule {ro.name}: {cron!r} is not a valid cron expression ({e})",
                                     evidence=[f"spec.schedule: {cron!r}", str(e)]))
            tier = tier_of(ro)
            if tier:
                _ttl(ctx, ro, tier, tmpl)
            if tier == "daily":
                _daily_namespaces(ctx, ro, tmpl)
            _location(ctx, ro, tmpl, bsls)


def _ttl(ctx: LintContext, ro: RepoObject, tier: str, tmpl: dict) -> None:
    raw = tmpl.get("ttl")
    want = TIER_TTL[tier]
    got = go_duration(str(raw)) if raw not in (None, "") else VELERO_DEFAULT_TTL
    if got == want:
        return
    shown = f"{raw!r} ({_hours(got)})" if got is not None and raw else (f"{raw!r}" if raw else "unset (Velero default 720h)")
    ctx.add(lint_finding(
        "LINT-VELERO-TTL-TIER", obj_ref(ro), ro.file, ro.line("spec", "template", "ttl") if raw else ro.line("spec", "template"),
        f"Schedule {ro.name} ({tier} tier) keeps backups {shown}; the {tier} tier keeps {_hours(want)}",
        evidence=[f"spec.template.ttl: {raw!r}", f"{tier} tier retention: {_hours(want)}"],
    ))


def _daily_namespaces(ctx: LintContext, ro: RepoObject, tmpl: dict) -> None:
    included = [str(n) for n in tmpl.get("includedNamespaces") or []]
    excluded = {str(n) for n in tmpl.get("excludedNamespaces") or []}
    everything = not included or "*" in included
    missing = [n for n in INFRA_DAILY_NAMESPACES if (not everything and n not in included) or n in excluded]
    if not missing:
        return
    ctx.add(lint_finding(
        "LINT-VELERO-DAILY-NAMESPACES", obj_ref(ro), ro.file,
        ro.line("spec", "template", "includedNamespaces"),
        f"Daily schedule {ro.name} does not back up " + ", ".join(missing),
        evidence=[f"includedNamespaces: {included}"] + ([f"excludedNamespaces: {sorted(excluded)}"] if excluded else [])
        + ["infrastructure namespaces: " + ", ".join(INFRA_DAILY_NAMESPACES)],
    ))


def _location(ctx: LintContext, ro: RepoObject, tmpl: dict, bsls: list[RepoObject]) -> None:
    if not ctx.trusts_absence("velero storage locations", "BackupStorageLocation"):
        return
    ns = ro.namespace or "velero"
    here = [b for b in bsls if (b.namespace or "velero") == ns]
    loc = tmpl.get("storageLocation")
    if loc:
        if any(b.name == loc for b in here):
            return
        title = f"Schedule {ro.name} stores backups in {loc!r}, which no BackupStorageLocation defines"
        line = ro.line("spec", "template", "storageLocation")
    else:
        if any((b.obj.get("spec") or {}).get("default") for b in here):
            return
        title = f"Schedule {ro.name} sets no storageLocation and no BackupStorageLocation is default"
        line = ro.line("spec", "template")
    ctx.add(lint_finding("LINT-VELERO-LOCATION-MISSING", obj_ref(ro), ro.file, line, title,
                         evidence=["backup locations in the repository: " + (", ".join(b.name for b in here) or "none")]))


def check_locations(ctx: LintContext) -> None:
    bsls = [ro for ro in ctx.repo.objects("BackupStorageLocation") if ro.obj.get("apiVersion", "").startswith("velero.io/")]
    for ro in bsls:
        with ctx.guard("velero backup locations", ro):
            spec = ro.obj.get("spec") or {}
            provider = provider_of(ro)
            config = spec.get("config") or {}
            storage = spec.get("objectStorage") or {}
            for what, path in required_missing(provider, config, storage):
                ctx.add(lint_finding(
                    "LINT-VELERO-BSL-FIELD", obj_ref(ro), ro.file, ro.line(*path),
                    f"BackupStorageLocation {ro.name} ({provider or 'no provider'}) lacks {what}",
                    evidence=[f"provider: {spec.get('provider')!r}", f"objectStorage: {storage}", f"config: {config}"],
                ))
            s3_url = str(config.get("s3Url") or "")
            s3_compatible = provider == "aws" and (bool(s3_url) and "amazonaws.com" not in s3_url)
            if s3_compatible and not (spec.get("credential") or {}).get("name"):
                others = sorted({p for b in bsls if (p := provider_of(b)) and p != provider})
                ctx.add(lint_finding(
                    "LINT-VELERO-BSL-CREDENTIALS", obj_ref(ro), ro.file, ro.line("spec"),
                    f"BackupStorageLocation {ro.name} ({s3_url}) names no credential Secret: Velero's default "
                    "credentials are used" + (f", but the other locations use {', '.join(others)}" if others else ""),
                    evidence=[f"config.s3Url: {s3_url}", "spec.credential: unset (optional upstream)"]
                    + ([f"other providers in the repository: {', '.join(others)}"] if others else
                       ["not checked: that the default credentials Secret holds keys for this store"]),
                    severity=None if others else "info",
                ))


def provider_of(ro: RepoObject) -> str:
    return str((ro.obj.get("spec") or {}).get("provider") or "").removeprefix("velero.io/")


def required_missing(provider: str, config: dict, storage: dict) -> list[tuple[str, tuple]]:
    """Fields the provider's plugin documents as required and the location lacks (what, path to point at).
    Optional fields (prefix, caCert, credential, the region of virtual-hosted AWS S3) are not listed."""
    missing: list[tuple[str, tuple]] = []
    if not storage.get("bucket"):
        missing.append(("objectStorage.bucket", ("spec", "objectStorage")))
    if provider == "aws":
        region = str(config.get("region") or "")
        s3_url = str(config.get("s3Url") or "")
        path_style = str(config.get("s3ForcePathStyle") or "").lower() == "true"
        if not region and path_style:
            missing.append(("config.region (required with s3ForcePathStyle: \"true\")", ("spec", "config")))
        elif region and not s3_url and not _AWS_REGION.match(region):
            missing.append((f"config.s3Url (region {region!r} is not an AWS region: S3-compatible store)",
                            ("spec", "config", "region")))
    elif provider == "azure":
        if not config.get("storageAccount"):
            missing.append(("config.storageAccount", ("spec", "config")))
        if not config.get("resourceGroup") and not config.get("storageAccountURI"):
            missing.append(("config.resourceGroup (or config.storageAccountURI)", ("spec", "config")))
    return missing
