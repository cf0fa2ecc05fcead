"""Shared scenario harness for the check tests: build the healthy platform at a given time, break it,
snapshot and diagnose it, then pick findings and follow how they link.

A test module binds one `Scenario` to its own NOW and the check areas it owns, and re-exports the bound
methods under the names its tests use (`platform`, `run`, `serious`, `one`, ...). The free
functions below need no binding.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from schema_validation import validation_errors

from sre_expert.core.model import SEVERITY_RANK, Finding
from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.sources.memory import snapshot_from_objects
from synth.builder import PlatformBuilder
from synth.platform import healthy_platform

Obj = dict[str, Any]

TENANT = "mycure-production"
WARNING = SEVERITY_RANK["warning"]

ANY: Any = object()  # a `name` / `namespace` filter that matches every finding


# ------------------------------------------------------------------------------------------- building


def platform(now: datetime, *args: Any, **kwargs: Any) -> PlatformBuilder:
    """The synth reference platform, healthy, at `now` (extra arguments go to `healthy_platform`)."""
    return healthy_platform(PlatformBuilder(now), *args, **kwargs)


def snapshot(b: PlatformBuilder, now: datetime | None = None) -> Snapshot:
    """A snapshot of a copy of `b` (the builder stays mutable), captured at `now` (default: the builder's)."""
    return snapshot_from_objects(copy.deepcopy(b.objects), now or b.now, logs=dict(b.logs))


def snapshot_without(b: PlatformBuilder, kind: str, now: datetime | None = None) -> Snapshot:
    """A snapshot of `b` taken by an identity that may not list `kind` (a collection error, no such objects)."""
    objs = [o for o in b.objects if o["kind"] != kind]
    return snapshot_from_objects(copy.deepcopy(objs), now or b.now, collection_errors=[{"kind": kind, "error": "forbidden"}])


def live_pods(b: PlatformBuilder, kind: str, name: str, namespace: str = TENANT) -> list[Obj]:
    """The pods of a workload that are still in the cluster (not replaced or removed)."""
    return [p for p in b.workload(kind, namespace, name).pods if b.get("Pod", namespace, p["metadata"]["name"]) is p]


# ------------------------------------------------------------------------------------------- validation


def validated(*objs: Obj) -> None:
    """Every object matches its schema (AssertionError listing the violations otherwise)."""
    errors = [e for o in objs for e in validation_errors(o)]
    assert not errors, "\n".join(errors[:20])


def validate_custom_resources(b: PlatformBuilder, *, kinds: Iterable[str] = (), groups: Iterable[str] = ()) -> None:
    """Every object of `kinds`, or whose API group ends with one of `groups`, matches its CRD schema."""
    kinds, groups = frozenset(kinds), tuple(groups)
    validated(*(o for o in b.objects
                if o["kind"] in kinds or (groups and o["apiVersion"].split("/")[0].endswith(groups))))


# ------------------------------------------------------------------------------------------- findings


def is_serious(f: Finding) -> bool:
    """Severity warning or above."""
    return SEVERITY_RANK[f.severity] <= WARNING


def by_code(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.code == code]


def pick(report: Report, code: str, name: str | None = None, namespace: str | None = ANY) -> list[Finding]:
    """Findings of `code` on the object `name` (None: any) in `namespace` (ANY: any; None: cluster-scoped)."""
    return [f for f in by_code(report, code)
            if (name is None or f.object.name == name) and (namespace is ANY or f.object.namespace == namespace)]


def has(evidence: Iterable[str], *texts: str) -> bool:
    """One evidence line contains every one of `texts`."""
    return any(all(t in e for t in texts) for e in evidence)


def descendants(report: Report, root: Finding) -> set[str]:
    """Ids of every finding `root` explains, transitively."""
    by_id = {f.id: f for f in report.findings}
    out: set[str] = set()
    stack = list(root.causes)
    while stack:
        fid = stack.pop()
        if fid not in out:
            out.add(fid)
            stack.extend(by_id[fid].causes)
    return out


def explained(report: Report, expected: Iterable[Finding]) -> set[str]:
    """Ids of `expected` and of everything they explain."""
    out: set[str] = set()
    for f in expected:
        out.add(f.id)
        out |= descendants(report, f)
    return out


def no_placeholders(f: Finding) -> None:
    """Every remediation step of `f` has its {placeholders} filled (command and description)."""
    for r in f.remediation:
        assert not re.search(r"\{[a-z_]+\}", (r.command or "") + r.description), (f.code, r)


def dump(findings: Iterable[Finding]) -> str:
    """One line a finding, for assertion messages."""
    return "\n".join(f"{f.severity} {f.id} root={f.root_cause} causes={f.causes} :: {f.title}" for f in findings)


# ------------------------------------------------------------------------------------------- a module's harness


class Scenario:
    """The harness of one test module.

    now:      when the platform is built and the snapshot captured (methods take another `now` where a test needs it)
    areas:    check areas (the first part of a `not_checked` entry) that must have run in every report
    build:    builds the untouched platform at a time (default: the synth healthy platform)
    refresh:  refresh the builder's derived state before a snapshot
    kinds, groups: custom resources validated against their CRDs before every snapshot
    namespace: the default `namespace` filter of `one` (ANY: no filter)
    """

    def __init__(self, now: datetime, *, areas: Sequence[str] = (), build: Callable[[datetime], PlatformBuilder] = platform,
                 refresh: bool = True, kinds: Iterable[str] = (), groups: Iterable[str] = (),
                 namespace: str | None = ANY) -> None:
        self.now = now
        self.areas = tuple(areas)
        self.build = build
        self.refresh = refresh
        self.kinds, self.groups = tuple(kinds), tuple(groups)
        self.namespace = namespace
        self._silent: set[datetime] = set()

    def platform(self, now: datetime | None = None) -> PlatformBuilder:
        return self.build(now or self.now)

    def snapshot(self, b: PlatformBuilder) -> Snapshot:
        if self.kinds or self.groups:
            validate_custom_resources(b, kinds=self.kinds, groups=self.groups)
        return snapshot(b)

    def run(self, b: PlatformBuilder) -> Report:
        """Snapshot and diagnose `b`; every check of this module's areas ran."""
        if self.refresh:
            b.refresh()
        report = diagnose(self.snapshot(b))
        skipped = [n for n in report.not_checked if n.split(".")[0] in self.areas]
        assert not skipped, skipped
        return report

    def healthy_is_silent(self, now: datetime | None = None) -> None:
        """The untouched platform at `now` has no finding at all, so every finding of a broken one is the
        fault's (checked once per time; test_healthy_platform checks the same at its own time)."""
        now = now or self.now
        if now not in self._silent:
            report = self.run(self.platform(now))
            assert not report.findings, "the healthy platform is not silent:\n" + dump(report.findings)
            self._silent.add(now)

    def serious(self, report: Report, now: datetime | None = None) -> list[Finding]:
        """The findings of severity warning or above (all the fault's: the healthy platform is silent)."""
        self.healthy_is_silent(now)
        return [f for f in report.findings if is_serious(f)]

    def serious_roots(self, report: Report, now: datetime | None = None) -> list[Finding]:
        return [f for f in self.serious(report, now) if f.root_cause]

    def dump(self, report: Report) -> str:
        return dump(report.findings)

    def one(self, report: Report, code: str, name: str | None = None, namespace: str | None = ANY) -> Finding:
        """The single finding of `code` on `name` (None: any), in `namespace` (default: the module's)."""
        found = pick(report, code, name, self.namespace if namespace is ANY else namespace)
        assert len(found) == 1, f"expected one {code} {name or ''}, got {len(found)}\n{self.dump(report)}"
        return found[0]

    def only_serious(self, report: Report, *expected: Finding) -> None:
        """Every new warning-or-worse finding is one of `expected` or is explained by them (transitively)."""
        allowed = explained(report, expected)
        stray = [f.id for f in self.serious(report) if f.id not in allowed]
        assert not stray, f"unexpected: {stray}\n{self.dump(report)}"

    def only_root(self, report: Report, code: str, kind: str, name: str, namespace: str | None = ANY, *,
                  allow: Iterable[tuple[str, str]] = (), strays: bool = True) -> Finding:
        """The single new warning-or-worse root cause (`allow`: (code, name) of independent consequences left
        out); with `strays`, every other new warning-or-worse finding descends from it."""
        allow = set(allow)
        roots = [f for f in self.serious_roots(report) if (f.code, f.object.name) not in allow]
        want = (code, kind, name) if namespace is ANY else (code, kind, name, namespace)
        got = [(f.code, f.object.kind, f.object.name) + (() if namespace is ANY else (f.object.namespace,))
               for f in roots]
        assert got == [want], self.dump(report)
        root = roots[0]
        if strays:
            below = descendants(report, root)
            stray = [f.id for f in self.serious(report)
                     if f is not root and f.id not in below and (f.code, f.object.name) not in allow]
            assert not stray, self.dump(report)
        return root

    def filled_templates(self, component: str, faults: Iterable[Callable[[PlatformBuilder], object]]) -> set[str]:
        """Apply each fault to its own platform: every finding of `component` fills its remediation
        templates (no_placeholders); the codes seen."""
        seen = set()
        for fault in faults:
            b = self.platform()
            fault(b)
            for f in self.run(b).findings:
                if f.component == component:
                    no_placeholders(f)
                    seen.add(f.code)
        return seen
