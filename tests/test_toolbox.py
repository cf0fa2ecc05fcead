"""The shared tool layer (`sre_expert.edges.toolbox`): the facts each tool returns on the demo and on a synth
platform written as a bundle, redaction of everything returned, the size cap, and errors as results."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import orjson
import pytest
from test_demo import INCIDENTS

from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import diagnose
from sre_expert.domain.recovery import VeleroState, dr_status
from sre_expert.edges.toolbox import MAX_TOOL_CHARS, Toolbox, cap
from sre_expert.runbooks.library import load_runbooks
from sre_expert.sources.bundle_reader import BundleError, load_bundle
from sre_expert.sources.resolve import demo_path
from synth import faults
from synth.builder import PlatformBuilder
from synth.bundle_writer import write_bundle
from synth.platform import healthy_platform

pytestmark = pytest.mark.scenario

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
TENANT = "mycure-production"
# planted in a crash log: a bearer token, a DB URI password and a patient's e-mail
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhcGkiLCJpYXQiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXNlY3JldC14eXo"
PASSWORD = "S3cr3t-Pa55w0rd-99"
EMAIL = "maria.santos@example.ph"
CRASH_LOG = (
    "starting api\n"
    f"connecting to mongodb://api:{PASSWORD}@mongodb.mycure-production.svc:27017/mycure\n"
    f"auth header Authorization: Bearer {TOKEN}\n"
    f"failed to send receipt to {EMAIL}\n"
    "MongoServerSelectionError: connect ECONNREFUSED\n"
    "exiting\n"
)


@pytest.fixture(scope="module")
def demo() -> Toolbox:
    return Toolbox(lambda: load_bundle(demo_path()))


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Toolbox, str]:
    """The synth platform with one crash-looping api pod whose previous log holds secrets, as a bundle.
    Its Secrets carry values (the loader drops them; the snapshot given to the toolbox here keeps them)."""
    b = healthy_platform(PlatformBuilder(NOW))
    pod = b.workload("Deployment", TENANT, "api").pods[0]
    faults.crashloop(b, pod, previous_log=CRASH_LOG, restarts=7)
    path = write_bundle(b, tmp_path_factory.mktemp("bundle") / "snap")
    secrets = [o for o in b.objects if o["kind"] == "Secret"]

    def load():  # the bundle, plus Secrets with their values as a live read would return them
        snap = load_bundle(path)
        return Snapshot([*(o for k in snap.kinds() if k != "Secret" for o in snap.list(k)), *secrets],
                        snap.info, snap.logs)

    return Toolbox(load), pod["metadata"]["name"]


def size(result: dict) -> int:
    return len(orjson.dumps(result).decode())


# ------------------------------------------------------------------------------------------------ check


def test_check_finds_every_demo_root_cause_first(demo: Toolbox) -> None:
    r = demo.check()
    roots = [f for f in r["findings"] if f["rootCause"]]
    for code, kind, ns, name in INCIDENTS:
        prefix = f"{kind} {ns + '/' if ns else ''}{name}"
        assert [f for f in roots if f["code"] == code and f["object"].startswith(prefix)], (code, prefix)
    assert len(roots) == len(INCIDENTS) == r["summary"]["rootCauses"]
    assert all(f["rootCause"] for f in r["findings"][: len(roots)])  # root causes lead the list
    full = diagnose(demo.snapshot()).summary()
    assert {k: r["summary"][k] for k in full} == full
    root = roots[0]
    assert root["evidence"] and len(root["evidence"]) <= 5 and root["remediation"]
    assert set(root) >= {"id", "code", "severity", "object", "title", "rootCause", "causes", "evidence", "remediation"}
    # 64 findings do not fit: the cut is said, and how to narrow it
    assert r["truncated"] is True and "namespace=" in r["note"] and size(r) <= MAX_TOOL_CHARS


def test_check_narrowed_to_a_namespace_keeps_the_root_causes(demo: Toolbox) -> None:
    r = demo.check(namespace="lfh-staging")
    assert r["truncated"] is False and r["summary"]["hidden"] > 0
    ids = {f["id"] for f in r["findings"]}
    causes = {c for f in r["findings"] for c in f.get("causedBy", [])}
    assert causes <= ids  # every cause of a kept finding is kept
    for f in r["findings"]:  # the namespace's findings, and the causes behind them (a gateway-system cert)
        assert f["object"].split(" ", 1)[1].startswith("lfh-staging/") or f["id"] in causes, f
    codes = {f["code"] for f in r["findings"] if f["rootCause"]}
    assert {"ESO-REMOTE-KEY-MISSING", "CRONJOB-FAILED"} <= codes


def test_check_filters_by_component_and_severity(demo: Toolbox) -> None:
    r = demo.check(component="velero", min_severity="info")
    assert "VELERO-BSL-UNAVAILABLE" in {f["code"] for f in r["findings"] if f["rootCause"]}
    causes = {c for f in r["findings"] for c in f.get("causedBy", [])}
    assert all(f["component"] == "velero" or f["id"] in causes for f in r["findings"])  # + what explains them
    crit = demo.check(min_severity="critical")
    assert crit["summary"]["warning"] <= demo.check()["summary"]["warning"]
    assert all(f["severity"] == "critical" or f["rootCause"] for f in crit["findings"])


def test_check_bad_arguments_are_errors_with_choices(demo: Toolbox) -> None:
    assert "known" in demo.check(component="nosuch") and "error" in demo.check(component="nosuch")
    assert "min_severity" in demo.check(min_severity="fatal")["error"]
    r = demo.check(namespace="lfh-stagin")
    assert "lfh-stagin" in r["error"] and "lfh-staging" in r["suggestions"]


# ------------------------------------------------------------------------------------------------ trace


def test_trace_stops_at_the_broken_hop_of_each_demo_host(demo: Toolbox) -> None:
    r = demo.trace("api.mycure.md")  # the api pods crash because mongodb is OOMKilled
    assert r["resolved"] and not r["ok"] and r["brokenHop"] == "pods"
    assert [h["status"] for h in r["hops"][:4]] == ["passed"] * 4
    lfh = demo.trace("https://api.stg.localfirsthealth.com/health")  # the wildcard certificate is not issued
    assert lfh["brokenHop"] == "listener"
    assert demo.trace("grafana.mycureapp.com")["ok"] is True


def test_trace_of_an_unknown_target_is_an_error_with_suggestions(demo: Toolbox) -> None:
    r = demo.trace("api.mycureapp.com")
    assert r["resolved"] is False and "404" in r["error"] and "api.mycure.md" in r["suggestions"]
    assert "no Service" in demo.trace("svc/mycure-production/nosuch")["error"]


# ------------------------------------------------------------------------------------ component / runbook / dr


def test_component_lists_every_component_and_details_one(demo: Toolbox) -> None:
    states = {c["name"]: c["state"] for c in demo.component()["components"]}
    assert states["velero"] == "failing" and states["argocd"] == "down"
    v = demo.component("velero")
    assert v["installed"] and v["controllers"] and v["commands"]
    assert any(f["code"] == "VELERO-BSL-UNAVAILABLE" and f["rootCause"] for f in v["findings"])
    bad = demo.component("nosuch")
    assert "velero" in bad["known"] and "nosuch" in bad["error"]


def test_runbook_lists_and_shows(demo: Toolbox) -> None:
    books = load_runbooks()
    listed = demo.runbook()["runbooks"]
    assert [b["id"] for b in listed] == list(books) and all(b["when"] for b in listed)
    one = demo.runbook("pod-not-starting")
    assert [s["id"] for s in one["steps"]] == [s.id for s in books["pod-not-starting"].steps]
    assert all(s["safety"] in ("read-only", "mutating", "destructive", None) for s in one["steps"])
    assert "pod-not-starting" in demo.runbook("nosuch")["known"]


def test_dr_status_matches_the_dr_module(demo: Toolbox) -> None:
    r = demo.dr_status()
    snap = demo.snapshot()
    rows = dr_status(snap, VeleroState(snap))
    assert [n["namespace"] for n in r["namespaces"]] == [x.namespace for x in rows]
    assert r["veleroInstalled"] and r["summary"]["missed"] == sum(1 for x in rows if x.required and x.status == "missed")
    assert r["summary"]["missed"] > 0  # the backup location is unavailable: backups fail


# ------------------------------------------------------------------------------------------------ logs


def test_pod_logs_of_a_demo_crash(demo: Toolbox) -> None:
    pod = next(p["metadata"]["name"] for p in demo.snapshot().list("Pod", TENANT) if p["metadata"]["name"].startswith("api-"))
    r = demo.pod_logs(TENANT, pod, previous=True)
    assert r["container"] == "api" and r["previous"] is True
    assert any("ECONNREFUSED" in line for line in r["lines"])
    assert r["shown"] == len(r["lines"]) == r["totalLines"]
    one = demo.pod_logs(TENANT, pod, previous=True, tail=1)
    assert one["lines"] == r["lines"][-1:]


def test_pod_logs_are_redacted(synth: tuple[Toolbox, str]) -> None:
    tb, pod = synth
    r = tb.pod_logs(TENANT, pod, previous=True)
    text = "\n".join(r["lines"])
    assert "ECONNREFUSED" in text and "mongodb.mycure-production.svc" in text
    for secret in (TOKEN, PASSWORD, EMAIL, "maria.santos"):
        assert secret not in json.dumps(r)
    assert "<redacted:" in text


def test_pod_logs_errors(synth: tuple[Toolbox, str]) -> None:
    tb, pod = synth
    miss = tb.pod_logs(TENANT, pod[:-1])
    assert pod in miss["suggestions"]
    assert "api" in tb.pod_logs(TENANT, pod, container="sidecar")["containers"]
    snap = tb.snapshot()
    other = next(p["metadata"]["name"] for p in snap.list("Pod", TENANT)
                 if snap.logs(TENANT, p["metadata"]["name"], p["spec"]["containers"][0]["name"], True) is None)
    none = tb.pod_logs(TENANT, other, previous=True)  # never restarted: no previous log captured
    assert f"kubectl logs -n mycure-production {other}" in none["error"] and "--previous" in none["error"]
    assert "no pods in namespace" in tb.pod_logs("nosuch-ns", "x")["error"]


# ------------------------------------------------------------------------------------------- guard / redact


def test_guard_classify(demo: Toolbox) -> None:
    d = demo.guard_classify("kubectl delete pod x")
    assert d["class"] == "destructive" and d["reasons"] and d["needsConfirmation"] is True
    assert demo.guard_classify("kubectl get pods -A")["class"] == "read-only"
    # whether it would run unasked is the execution gate's answer, not the label's
    assert demo.guard_classify("kubectl get pods -A")["needsConfirmation"] is False
    awk = demo.guard_classify("kubectl get pods -A | awk '{print $1}'")
    assert awk["class"] == "read-only" and awk["needsConfirmation"] is True and "'awk'" in awk["gate"]
    assert demo.guard_classify("kubectl scale deploy/api --replicas=0 -n x")["class"] in ("mutating", "destructive")
    sec = demo.guard_classify("kubectl get secret api-secrets -o yaml")
    assert sec["exposesSecrets"] is True and sec["needsConfirmation"] is True
    # the command itself is echoed redacted
    assert PASSWORD not in json.dumps(demo.guard_classify(f"psql postgres://u:{PASSWORD}@db/x -c 'select 1'"))


def test_redact_tool(demo: Toolbox) -> None:
    r = demo.redact(f"password={PASSWORD} mail {EMAIL}")
    assert PASSWORD not in r["text"] and EMAIL not in r["text"] and r["text"].startswith("password=<redacted:")
    assert {h["family"] for h in r["hidden"]} >= {"email"}


# ------------------------------------------------------------------------------------------------ describe


def test_describe_a_secret_never_shows_its_values(synth: tuple[Toolbox, str]) -> None:
    tb, _ = synth
    raw = tb.snapshot().get("Secret", TENANT, "api-secrets")
    assert raw["data"]["JWT_SECRET"]
    r = tb.describe("secret", TENANT, "api-secrets")
    assert sorted(r["object"]["data"]) == sorted(raw["data"]) == ["JWT_SECRET", "MONGO_URI"]
    dumped = json.dumps(r)
    for value in raw["data"].values():
        assert len(value) > 8 and value not in dumped


def test_describe_finds_kinds_as_people_type_them(demo: Toolbox) -> None:
    node = demo.describe("no", None, "k8s-worker-2")
    assert node["object"]["kind"] == "Node" and any(e["reason"] == "NodeNotReady" for e in node["events"])
    for kind in ("Pod", "pods", "po"):
        pod = demo.describe(kind, TENANT, "mongodb-0")
        assert pod["object"]["metadata"]["name"] == "mongodb-0" and "managedFields" not in pod["object"]["metadata"]
    cert = demo.describe("certificates.cert-manager.io", "gateway-system", "stg-localfirsthealth-wildcard")
    assert cert["object"]["kind"] == "Certificate"
    assert "stg-localfirsthealth-wildcard" in demo.describe(
        "certificate", "gateway-system", "stg-localfirsthealth")["suggestions"]
    assert "kinds" in demo.describe("widget", None, "x")


# ------------------------------------------------------------------------------------------------ cap


def test_cap_leaves_small_results_alone() -> None:
    small = {"a": [1, 2, 3], "b": "text"}
    assert cap(small) is small


def test_cap_trims_the_biggest_list_from_its_tail() -> None:
    big = {"summary": {"n": 500}, "items": [{"i": i, "text": "x" * 100} for i in range(500)]}
    out = cap(big, 5_000)
    assert size(out) <= 5_000 and out["truncated"] is True
    assert "narrow the query" in out["note"] and "items 500→" in out["note"]
    assert [x["i"] for x in out["items"]] == list(range(len(out["items"]))) and len(out["items"]) > 10
    assert out["summary"] == {"n": 500} and len(big["items"]) == 500  # the input is not changed


def test_cap_cuts_inside_a_single_huge_item() -> None:
    out = cap({"objects": [{"text": "y" * 50_000}], "name": "n"}, 2_000)
    assert size(out) <= 2_000 and out["objects"][0]["text"].endswith("chars]") and out["name"] == "n"


def test_cap_cuts_a_wide_mapping_inside_a_tall_one() -> None:
    """A CRD-like object: one huge schema of many properties under a few small fields."""
    props = {f"field{i:04}": {"type": "string", "description": "d" * 60} for i in range(1000)}
    obj = {"kind": "CustomResourceDefinition", "metadata": {"name": "x"},
           "spec": {"group": "g", "schema": {"type": "object", "properties": props}}}
    out = cap({"object": obj, "events": []}, 10_000)
    kept = out["object"]["spec"]["schema"]["properties"]
    assert size(out) <= 10_000 and 50 < len(kept) < 1000 and list(kept) == list(props)[: len(kept)]
    assert out["object"]["metadata"] == {"name": "x"} and out["object"]["spec"]["group"] == "g"
    assert "object.spec.schema.properties 1000→" in out["note"]


def test_every_tool_result_is_json_capped_and_redacted(demo: Toolbox) -> None:
    results = [demo.check(min_severity="info"), demo.component(), demo.component("kube-prometheus"), demo.runbook(),
               demo.runbook("complete-outage"), demo.dr_status(), demo.trace("api.mycure.md"),
               demo.describe("Deployment", "argocd", "argocd-server")]
    for r in results:
        assert json.loads(json.dumps(r)) == r and size(r) <= MAX_TOOL_CHARS


# ------------------------------------------------------------------------------------------------ errors


def test_source_errors_become_results_and_are_redacted() -> None:
    def broken():
        raise BundleError(f"cannot read s3://bucket/snap?X-Amz-Credential=x&token={TOKEN}: access denied")

    tb = Toolbox(broken)
    for r in (tb.check(), tb.trace("x"), tb.pod_logs("a", "b"), tb.describe("Pod", "a", "b"), tb.dr_status()):
        assert "access denied" in r["error"] and TOKEN not in r["error"]
    assert tb.guard_classify("kubectl get pods")["class"] == "read-only"  # needs no source


def test_the_source_is_read_once_until_refresh() -> None:
    loads = []

    def load():
        loads.append(1)
        return load_bundle(demo_path())

    tb = Toolbox(load)
    assert loads == []  # nothing is read before a tool needs it
    tb.check()
    tb.trace("api.mycure.md")
    assert len(loads) == 1
    tb.refresh()
    tb.component()
    assert len(loads) == 2
