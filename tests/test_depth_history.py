"""History is not now (issue 17): a Warning event older than the object's latest healthy transition is
history. The object's current status is judged first; the event is mentioned as info at most.

Each scenario is the healthy platform where a controller failed for a while and then recovered, written as
the controllers write it: the condition flips False then True again (lastTransitionTime moves), the Warning
events of the failure stay in the event store for an hour, a Normal event records the recovery.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scenario import Scenario, has

from synth.meta import condition, set_condition, ts

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
T = "mycure-production"

H = Scenario(NOW, areas=("events", "externalsecrets", "autoscaling", "certmanager"))
platform, run, dump = H.platform, H.run, H.dump


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def eso_recovered(b, failed_last: float = 50, ready_since: float = 45):
    """ESO could not reach the provider for a while (UpdateFailed warnings), then synced again."""
    es = next(e for e in b.list("ExternalSecret") if e["metadata"]["namespace"] == T)
    key = es["spec"]["data"][0]["remoteRef"]["key"]
    b.add_event(es, "UpdateFailed",
                f"error processing spec.data[0] (key: {key}), err: rpc error: code = Unavailable desc = "
                "connection error: desc = \"transport: Error while dialing: dial tcp: lookup "
                "secretmanager.googleapis.com: i/o timeout\"",
                "Warning", 5, first=ago(58), last=ago(failed_last), component="external-secrets")
    b.add_event(es, "Updated", "Updated Secret", "Normal", 1, first=ago(ready_since), component="external-secrets")
    set_condition(es, condition("Ready", "True", "SecretSynced", "Secret was synced", ago(ready_since)))
    es["status"]["refreshTime"] = ts(ago(ready_since))
    return es


def hpa_recovered(b):
    """The metrics API was unavailable for a while; the HPA computes replicas again since."""
    hpa = b.list("HorizontalPodAutoscaler", T)[0]
    for reason, msg in (
        ("FailedGetResourceMetric", "failed to get cpu utilization: unable to get metrics for resource cpu: "
         "unable to fetch metrics from resource metrics API: the server is currently unable to handle the "
         "request (get pods.metrics.k8s.io)"),
        ("FailedComputeMetricsReplicas", "invalid metrics (1 invalid out of 2), first error is: failed to get "
         "cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu"),
    ):
        b.add_event(hpa, reason, msg, "Warning", 8, first=ago(58), last=ago(47),
                    component="horizontal-pod-autoscaler")
    set_condition(hpa, condition("ScalingActive", "True", "ValidMetricFound",
                                 "the HPA was able to successfully calculate a replica count from cpu resource "
                                 "utilization (percentage of request)", ago(45)))
    return hpa


def cert_recovered(b):
    """One issuance failed and was retried; the Certificate is Ready again with a new revision."""
    cert = b.list("Certificate")[0]
    b.add_event(cert, "Failed", "The certificate request has failed to complete and will be retried: Failed to "
                "wait for order resource \"gateway-tls-1-2847164190\" to become ready: order is in \"errored\" "
                "state: Failed to finalize Order: 429 urn:ietf:params:acme:error:rateLimited",
                "Warning", 1, first=ago(40), component="cert-manager-certificates-issuing")
    b.add_event(cert, "Issuing", "The certificate has been successfully issued", "Normal", 1, first=ago(30),
                component="cert-manager-certificates-issuing")
    set_condition(cert, condition("Ready", "True", "Ready", "Certificate is up to date and has not expired",
                                  ago(30), observed_generation=1))
    return cert


def test_recovered_objects_get_no_warning_and_their_events_are_history() -> None:
    b = platform()
    es, hpa, cert = eso_recovered(b), hpa_recovered(b), cert_recovered(b)
    report = run(b)
    assert not [f for f in report.findings if f.severity != "info"], dump(report)
    for obj in (es, cert):
        notes = [f for f in report.findings if f.object.name == obj["metadata"]["name"] and f.object.kind == obj["kind"]]
        assert len(notes) == 1 and notes[0].severity == "info", dump(report)
        assert "history" in notes[0].title
        assert has(notes[0].evidence, "status.conditions[Ready]: True", "recovered after")
    # an HPA whose ScalingActive is True again: its metric warnings say nothing about now
    assert not [f for f in report.findings if f.object.name == hpa["metadata"]["name"] and f.severity != "info"]


def test_a_warning_after_the_healthy_transition_is_still_news() -> None:
    """Ready=True since 45 minutes, but the provider failed again 3 minutes ago: not history."""
    b = platform()
    es = eso_recovered(b, failed_last=3, ready_since=45)
    report = run(b)
    f = [x for x in report.findings if x.object.name == es["metadata"]["name"] and x.code == "EVENT-WARNING"]
    assert len(f) == 1 and f[0].severity == "warning" and "history" not in f[0].title, dump(report)


def test_a_still_failing_object_keeps_its_warning() -> None:
    b = platform()
    es = eso_recovered(b)
    set_condition(es, condition("Ready", "False", "SecretSyncedError", "could not get secret data from provider",
                                ago(58)))
    report = run(b)
    assert [f for f in report.findings if f.object.name == es["metadata"]["name"] and f.severity != "info"], dump(report)
