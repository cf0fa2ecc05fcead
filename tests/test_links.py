"""Cause → symptom linking and ranking on hand-made findings (the mechanism, independent of checks)."""

from __future__ import annotations

import pytest

from sre_expert.core.model import Finding, ObjectRef
from sre_expert.diagnosis.links import link, rank

pytestmark = pytest.mark.unit


def f(code: str, kind: str, ns: str, name: str, sev: str = "critical", subjects=(), depends_on=()) -> Finding:
    return Finding(code=code, severity=sev, component="workloads", object=ObjectRef("v1", kind, ns, name),
                   title=f"{code} {name}", subjects=[(kind, ns, name), *subjects], depends_on=list(depends_on))


def test_chain_store_to_pods() -> None:
    store = f("ESO-STORE", "ClusterSecretStore", "", "gcp", subjects=[("ClusterSecretStore", "", "gcp")])
    es = f("ESO-SYNC", "ExternalSecret", "t", "db", subjects=[("Secret", "t", "db")],
           depends_on=[("ClusterSecretStore", "", "gcp")])
    pods = f("POD-CONFIG", "Deployment", "t", "api", subjects=[("Pod", "t", "api-1")], depends_on=[("Secret", "t", "db")])
    svc = f("SVC-NOEP", "Service", "t", "api", sev="warning", depends_on=[("Pod", "t", "api-1")])
    findings = [svc, pods, es, store]
    link(findings)
    assert [x.root_cause for x in (store, es, pods, svc)] == [True, False, False, False]
    assert store.causes == [es.id] and es.causes == [pods.id] and pods.causes == [svc.id]
    ranked = rank(findings)
    assert ranked[0] is store


def test_cycle_keeps_one_root() -> None:
    a = f("A", "Service", "t", "a", sev="warning", depends_on=[("Service", "t", "b")])
    b = f("B", "Service", "t", "b", sev="critical", depends_on=[("Service", "t", "a")])
    link([a, b])
    assert b.root_cause and not a.root_cause


def test_ids_unique_and_ranking_puts_roots_first() -> None:
    x = f("X", "Pod", "t", "p", sev="info")
    y = f("X", "Pod", "t", "p", sev="critical")
    link([x, y])
    assert x.id != y.id
    assert rank([x, y])[0] is y


def test_an_info_note_never_explains_an_outage() -> None:
    note = f("EVENT-WARNING", "ClusterPolicy", "", "pod-security", sev="info")
    denied = f("WORKLOAD-ADMISSION-DENIED", "Deployment", "t", "api", depends_on=[("ClusterPolicy", "", "pod-security")])
    link([note, denied])
    assert denied.root_cause and note.causes == []
