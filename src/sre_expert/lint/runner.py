"""Run every lint rule over a repository and turn the result into the findings report of `check`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sre_expert.core.model import SEVERITY_RANK
from sre_expert.lint import (
    alert_rules as alerts,
)
from sre_expert.lint import (
    app_paths as argocd,
)
from sre_expert.lint import (
    backup_schedules as velero,
)
from sre_expert.lint import (
    consistency,
    falco,
    helm,
    registries,
    schema,
    secrets,
)
from sre_expert.lint import (
    route_attachment as gateway,
)
from sre_expert.lint.codes import LintFinding, file_ref, lint_finding
from sre_expert.lint.context import LintContext, Rule
from sre_expert.lint.repo import Repo

RULES: tuple[tuple[str, Rule], ...] = (
    ("alert rules", alerts.check_alerts),
    ("velero schedules", velero.check_schedules),
    ("velero backup locations", velero.check_locations),
    ("routes and certificates", gateway.check_routes),
    ("custom resource schemas", schema.check_schemas),
    ("image registries", registries.check_registries),
    ("falco rules", falco.check_falco),
    ("external secret keys", secrets.check_remote_keys),
    ("argo cd paths", argocd.check_argocd),
    ("infrastructure values vs manifests", consistency.check_consistency),
    ("helm charts", helm.check_helm),
)


@dataclass(slots=True)
class LintResult:
    findings: list[LintFinding]
    not_checked: list[str] = field(default_factory=list)


def lint(repo: Repo, *, crd_dirs: tuple[str, ...] = (), promtool: str | None | bool = True,
         helm_bin: str | None | bool = True) -> LintResult:
    """All findings of all rules. `promtool`/`helm_bin`: True = look on PATH, a path, or None/False = absent."""
    ctx = LintContext(
        repo, tuple(crd_dirs),
        shutil.which("promtool") if promtool is True else (promtool or None),
        shutil.which("helm") if helm_bin is True else (helm_bin or None),
    )
    for err in repo.broken:
        ctx.add(lint_finding("LINT-YAML-INVALID", file_ref(err.file), err.file, err.line,
                             f"{err.file} does not parse: {err.message}", evidence=[f"line {err.line}: {err.message}"]))
    if repo.skipped:
        ctx.skip(skipped_note(repo))
    if repo.fixture_dirs:
        n = sum(1 for f in repo.files if repo.is_fixture(f) and f.endswith((".yaml", ".yml")))
        ctx.skip(f"test resources: {n} YAML files in {len(repo.fixture_dirs)} test directories (testdata/, "
                 ".kyverno-test/, .chainsaw-test/, or next to kyverno-test.yaml or chainsaw-test.yaml) are test "
                 "inputs, not deployed: not linted")
    for name, rule in RULES:
        try:
            rule(ctx)
        except Exception as e:  # one broken rule must not hide the others' findings
            ctx.skip(f"{name}: rule failed with {type(e).__name__}: {e}")
    return LintResult(order(ctx.findings), list(dict.fromkeys(ctx.not_checked)))


def skipped_note(repo: Repo, shown: int = 5) -> str:
    """One line for every file skipped as not Kubernetes YAML (it does not parse, names no apiVersion)."""
    notes = []
    for what, errs in (("template{s} with placeholders a tool fills in ({{{{ }}}}, ${{VAR}}, {{VAR}})",
                        [e for e in repo.skipped if e.template]),
                       ("not Kubernetes object{s}, values or rule files (no apiVersion/kind)",
                        [e for e in repo.skipped if not e.template])):
        if errs:
            files = [e.file for e in errs]
            more = f" and {len(files) - shown} more" if len(files) > shown else ""
            many = len(files) != 1
            notes.append(f"{len(files)} YAML file{'s' if many else ''} that do{'' if many else 'es'} not parse, "
                         f"{what.format(s='s' if many else '')}, skipped: {', '.join(files[:shown])}{more}")
    return "; ".join(notes)


def order(findings: list[LintFinding]) -> list[LintFinding]:
    """Most severe first, then by file and line; ids L1, L2… in that order."""
    out = sorted(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.file or "~", f.line or 0, f.code, f.title))
    for i, f in enumerate(out, 1):
        f.id = f"L{i}"
    return out


def report(result: LintResult, root: Path, cluster_info=None):
    """A diagnosis Report, so `--output json|markdown|terminal` and `--fail-on` work as for `check`.

    Against a cluster the report carries the cluster's info (capture time, source, collection errors);
    a repository alone is reported with source "repo", read now."""
    from sre_expert.core.snapshot import SnapshotInfo
    from sre_expert.diagnosis.engine import Report

    info = cluster_info or SnapshotInfo(captured_at=datetime.now(UTC).replace(microsecond=0), cluster=root.name,
                                        source="repo", location=str(root))
    return Report(info, list(result.findings), list(result.not_checked))
