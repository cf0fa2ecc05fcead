"""Drift between the repository and a cluster snapshot: what is missing on either side, what differs.

Only fields the repository sets are compared (spec-like top-level fields and labels): defaults the
API server or a controller fills in, status and server metadata never count as drift. Objects a
controller creates (they carry ownerReferences: cert-manager's solver routes, ApplicationSet
children) are not expected in the repository. "Not in the repository" is only said for kinds the
repository holds, in namespaces where it holds that kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sre_expert.core.cron import CronError, parse_go_duration
from sre_expert.core.model import ObjectRef
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.wording import human_value, shorten
from sre_expert.lint.codes import LintFinding, lint_finding
from sre_expert.lint.repo import Repo

SKIP_TOP = {"apiVersion", "kind", "metadata", "status"}
MAX_DIFFS = 6


def _namespaced() -> dict[str, bool]:
    from sre_expert.core.kinds import COLLECTED_KINDS

    return {s.kind: s.namespaced for s in COLLECTED_KINDS}


def drift(repo: Repo, snap: Snapshot) -> tuple[list[LintFinding], list[str]]:
    findings: list[LintFinding] = []
    not_checked: list[str] = []
    scoped = _namespaced()
    repo_objs = [ro for ro in repo.objects() if ro.kind in scoped and ro.kind not in ("Namespace",)]
    kinds = sorted({ro.kind for ro in repo_objs})
    where = _source(snap)
    for kind in kinds:
        if not snap.collected(kind):
            not_checked.append(f"drift {kind}: the cluster source could not read {kind}")
            continue
        if snap.count(kind) == 0 and snap.info.source != "live":
            not_checked.append(f"drift {kind}: the bundle holds no {kind} (not collected?)")
            continue
        mine = [ro for ro in repo_objs if ro.kind == kind]
        seen: set[tuple[str, str]] = set()
        for ro in mine:
            ns = (ro.namespace or "default") if scoped[kind] else ""
            seen.add((ns, ro.name))
            live = snap.get(kind, ns or None, ro.name)
            if live is None:
                findings.append(lint_finding(
                    "LINT-DRIFT-MISSING-IN-CLUSTER", ObjectRef.of(ro.obj), ro.file, ro.line("metadata", "name"),
                    f"{ro.display()} is in the repository but not in the cluster",
                    evidence=[f"repository: {ro.file}:{ro.line('metadata', 'name')}",
                              f"cluster: no {kind} {ns + '/' if ns else ''}{ro.name} in {where}"]))
                continue
            diffs = list(_diff(ro.obj, live))
            if diffs:
                path0 = diffs[0][0]
                line = ro.line(*path0)
                shown = ", ".join(_dotted(p) for p, _, _ in diffs[:3]) + (" …" if len(diffs) > 3 else "")
                findings.append(lint_finding(
                    "LINT-DRIFT-SPEC", ObjectRef.of(live), ro.file, line,
                    f"{ro.display()} differs from the cluster: {shown}",
                    evidence=[f"repository: {ro.file}:{line}", f"cluster: {_cluster_ref(live)} in {where}"]
                    + [f"{_dotted(p)}: repository {_show(a)} ≠ cluster {_show(b)}" for p, a, b in diffs[:MAX_DIFFS]]
                    + ([f"… {len(diffs) - MAX_DIFFS} more fields differ"] if len(diffs) > MAX_DIFFS else [])))
        namespaces = {(ro.namespace or "default") for ro in mine} if scoped[kind] else {""}
        for live in snap.list(kind):
            md = live.get("metadata") or {}
            ns = md.get("namespace") or ""
            if (ns, md.get("name")) in seen or md.get("ownerReferences") or ns not in namespaces:
                continue
            near = next((ro for ro in mine if (ro.namespace or "default") == ns or not scoped[kind]), mine[0])
            findings.append(lint_finding(
                "LINT-DRIFT-NOT-IN-REPO", ObjectRef.of(live), None, None,
                f"{_cluster_ref(live)} is in the cluster but not in the repository",
                evidence=[f"cluster: {_cluster_ref(live)} in {where}",
                          f"repository: no {kind} {ns + '/' if ns else ''}{md.get('name')} "
                          f"(other {kind} objects{' of ' + ns if ns else ''} are in {near.file})"]))
    return findings, not_checked


def _source(snap: Snapshot) -> str:
    info = snap.info
    return f"{info.source} {info.cluster or info.location or ''}".strip()


def _cluster_ref(obj: dict[str, Any]) -> str:
    md = obj.get("metadata") or {}
    ns = f"{md['namespace']}/" if md.get("namespace") else ""
    rv = f" (resourceVersion {md['resourceVersion']})" if md.get("resourceVersion") else ""
    return f"{obj.get('kind')} {ns}{md.get('name')}{rv}"


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _show(v: Any, limit: int = 400) -> str:
    if v is _ABSENT:
        return "(absent)"
    s = repr(v) if isinstance(v, str) else human_value(v)
    return shorten(s, limit)


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _diff(repo_obj: dict[str, Any], live: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    labels = ((repo_obj.get("metadata") or {}).get("labels")) or {}
    live_labels = ((live.get("metadata") or {}).get("labels")) or {}
    for k, v in labels.items():
        if str(live_labels.get(k, _ABSENT)) != str(v):
            yield ("metadata", "labels", k), v, live_labels.get(k, _ABSENT)
    for key, value in repo_obj.items():
        if key in SKIP_TOP:
            continue
        yield from _subset((key,), value, live.get(key, _ABSENT))


def _subset(path: tuple[Any, ...], want: Any, got: Any) -> Iterator[tuple[tuple[Any, ...], Any, Any]]:
    """Where `got` does not carry every field `want` sets (extra fields in `got` are server defaults)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            yield path, want, got
            return
        for k, v in want.items():
            yield from _subset(path + (k,), v, got.get(k, _ABSENT))
        return
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            yield path, want, got
            return
        for i, (a, b) in enumerate(zip(want, got)):
            yield from _subset(path + (i,), a, b)
        return
    if not _same(want, got):
        yield path, want, got


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if b is _ABSENT or a is None or b is None:
        return a is None and b in (None, _ABSENT)
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, str) and isinstance(b, str):
        try:  # Go durations: "72h" and "72h0m0s" are the same TTL
            return parse_go_duration(a) == parse_go_duration(b)
        except CronError:
            return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return str(a) == str(b) if isinstance(a, int) != isinstance(b, int) else False
