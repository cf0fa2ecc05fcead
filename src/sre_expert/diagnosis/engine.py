"""Run every registered check against a snapshot, link and rank the findings, apply filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sre_expert.checks.registry import AUDIT, GITOPS, NOT_CHECKED, Check, all_checks
from sre_expert.core.kinds import resource_name
from sre_expert.core.model import SEVERITY_RANK, Finding
from sre_expert.core.snapshot import Snapshot, SnapshotInfo, unseen_notes
from sre_expert.diagnosis.links import link, rank
from sre_expert.diagnosis.placeholders import fill_applications
from sre_expert.diagnosis.shared_services import add_shared_service_links
from sre_expert.knowledge.platform_components import argocd_manages


@dataclass(slots=True)
class Report:
    info: SnapshotInfo
    findings: list[Finding]
    not_checked: list[str] = field(default_factory=list)
    hidden: int = 0
    matched: int | None = None  # after a filter: how many findings it selected (the rest are kept causes)

    def summary(self) -> dict[str, int]:
        out = {"critical": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity] += 1
        return out


def diagnose(snap: Snapshot) -> Report:
    """All findings of all checks, linked and ranked. A failing check is reported, never fatal."""
    findings: list[Finding] = []
    not_checked: list[str] = []
    post = []
    for chk in all_checks():
        if chk.post:
            post.append(chk)
            continue
        _run(chk, snap, findings, not_checked, None)
    for chk in post:
        _run(chk, snap, findings, not_checked, list(findings))
    if snap.metrics is not None:  # metric facts that could not be judged: no source, absent metric, failed query
        not_checked.extend(snap.metrics.not_checked())
    not_checked.extend(uncollected_lines(snap))
    add_shared_service_links(snap, findings)
    link(findings)
    fill_applications(snap, findings)
    return Report(snap.info, rank(findings), not_checked)


def _run(chk: Check, snap: Snapshot, findings: list[Finding], not_checked: list[str],
         prior: list[Finding] | None) -> None:
    missing = [k for k in chk.reads if not snap.collected(k)]
    if missing:
        why = {e.get("kind"): e.get("error") or "unreadable" for e in snap.info.collection_errors}
        failed = [k for k in missing if k in why]  # the others are not in the capture: uncollected_lines
        if failed:
            detail = "; ".join(f"{k}: {why[k]}" for k in failed)
            hint = " (grant list on them)" if any("forbidden" in str(why[k]).lower() for k in failed) else ""
            not_checked.append(f"{chk.name}: could not read {detail}{hint}")
        if failed or not chk.any_read or len(missing) == len(chk.reads):
            return
    notes: list[str] = []
    token = NOT_CHECKED.set(notes)
    gitops = GITOPS.set(snap.memo("gitops.managed", argocd_manages))
    with unseen_notes() as unseen:
        try:
            produced = list(chk.fn(snap) if prior is None else chk.fn(snap, prior))
        except Exception as e:  # a broken check must not hide the others' findings
            not_checked.append(f"{chk.name}: check failed with {type(e).__name__}: {e}")
            return
        finally:
            NOT_CHECKED.reset(token)
            GITOPS.reset(gitops)
    not_checked.extend(f"{chk.name}: {n}; not checked" for n in notes[:20])
    if len(notes) > 20:
        not_checked.append(f"{chk.name}: … {len(notes) - 20} more not checked")
    if snap.info.namespaces:
        produced = _in_scope(snap, produced, unseen)
    if unseen:
        not_checked.append(unseen_line(chk.name, unseen, snap.info))
    audit = AUDIT.get()
    if audit is not None:
        audit(chk, produced)
    undeclared = {f.code for f in produced} - set(chk.codes)
    if undeclared:
        not_checked.append(f"{chk.name}: emitted undeclared codes {sorted(undeclared)} (a bug; findings kept)")
    findings.extend(produced)


def _in_scope(snap: Snapshot, produced: list[Finding], unseen: list[str]) -> list[Finding]:
    """Backstop for a scoped sweep: a finding about an object in a namespace that was not listed can only
    come from reading absence as "missing", so it becomes a not-checked note instead. A Namespace stands
    for what is inside it (its backups, its alerts), so it counts as that namespace."""
    kept = []
    for f in produced:
        ref = f.object
        is_ns = ref.kind == "Namespace" and not ref.namespace
        if snap.sees(ref.name if is_ns else ref.namespace):
            kept.append(f)
            continue
        what = f"Namespace {ref.name}" if is_ns else f"{ref.kind} {ref.namespace}/{ref.name}"
        if what not in unseen:
            unseen.append(what)
    return kept


def uncollected_lines(snap: Snapshot, limit: int = 0) -> list[str]:
    """The kinds a full sweep reads that the capture does not hold, and how to add them: nothing was
    concluded about them (no check that needs one ran; lookups of them answer "not checked")."""
    kinds = snap.uncollected()
    if not kinds:
        return []
    shown = kinds if not limit or len(kinds) <= limit else [*kinds[:limit], f"and {len(kinds) - limit} more"]
    where = "the bundle" if snap.info.source == "bundle" else "the sweep"
    lines = [f"not in {where}, so nothing was concluded about them (not checked, never \"missing\"): "
             f"{', '.join(shown)}"]
    if snap.info.source == "bundle":
        resources = " ".join(resource_name(k) for k in kinds)
        lines.append("to add them, capture the cluster with `sre-expert bundle collect -o bundle.tar.gz`, or run from "
                     f"the bundle's folder: for r in {resources}; do kubectl get $r -A -o json > $r.json; done (a kind "
                     "whose CRD is not installed fails there: keep `kubectl get crd -o json > crds.json` and such kinds "
                     "count as not installed)")
    return lines


def unseen_line(name: str, unseen: list[str], info: SnapshotInfo, limit: int = 4) -> str:
    """One not-checked line per check: what it could not see, e.g. "gateway.routes: parent Gateway
    gateway-system/shared-gateway is outside the swept namespaces (-n lfh-staging); not checked"."""
    shown = ", ".join(unseen[:limit]) + (f" and {len(unseen) - limit} more" if len(unseen) > limit else "")
    verb = "is" if len(unseen) == 1 else "are"
    return f"{name}: {shown} {verb} outside the swept namespaces ({info.scope_text()}); not checked"


def filter_report(
    report: Report,
    namespaces: Iterable[str] = (),
    components: Iterable[str] = (),
    min_severity: str = "info",
) -> Report:
    """Keep matching findings plus the root causes that explain them, so a filter never hides a cause."""
    ns, comps = set(namespaces), set(components)
    limit = SEVERITY_RANK[min_severity]
    by_id = {f.id: f for f in report.findings}

    def selected(f: Finding) -> bool:
        return (
            (not ns or (f.object.namespace in ns))
            and (not comps or f.component in comps)
            and SEVERITY_RANK[f.severity] <= limit
        )

    keep: set[str] = set()
    matched = 0
    for f in report.findings:
        if selected(f):
            matched += 1
            keep.add(f.id)
            stack = list(f.caused_by)
            while stack:
                cid = stack.pop()
                if cid not in keep:
                    keep.add(cid)
                    stack.extend(by_id[cid].caused_by)
    kept = [f for f in report.findings if f.id in keep]
    return Report(report.info, kept, report.not_checked, hidden=len(report.findings) - len(kept), matched=matched)


def exit_status(report: Report, fail_on: str) -> int:
    """0 when nothing reaches --fail-on, 1 otherwise ('never' always gives 0)."""
    if fail_on == "never":
        return 0
    limit = SEVERITY_RANK[fail_on]
    return 1 if any(SEVERITY_RANK[f.severity] <= limit for f in report.findings) else 0
