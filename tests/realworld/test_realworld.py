"""The product on data other projects captured from real clusters (see SOURCES.md for every data set).

Each case says what a careful engineer concludes from the data: the real problems present (`problems`,
every one must be reported), the warning/critical findings that are true but not required (`allowed`),
and the findings judged false today (`false`, none may appear). Any warning or critical finding outside
`problems` and `allowed` is false as well. Where the product is wrong today the case carries a strict
xfail for that aspect, so a fix that makes it pass fails the run until the marker goes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from sre_expert.core.model import Finding
from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.sources.bundle_reader import BundleError, load_bundle

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SCHEMA = json.loads((ROOT / "docs" / "findings.schema.json").read_text())
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"
ANY = "*"


@dataclass(frozen=True)
class Expect:
    """A finding pattern: code (one, several, or None for any), kind (None: any), namespace, name prefix."""

    code: str | tuple[str, ...] | None
    kind: str | None = None
    namespace: str | None = ANY
    name: str = ""
    why: str = ""

    def matches(self, f: Finding) -> bool:
        codes = (self.code,) if isinstance(self.code, str) else self.code
        return ((codes is None or f.code in codes) and (self.kind is None or f.object.kind == self.kind)
                and (self.namespace == ANY or f.object.namespace == self.namespace)
                and f.object.name.startswith(self.name))

    def __str__(self) -> str:
        return f"{self.code or 'any code'} on {self.kind or 'any kind'} {self.namespace}/{self.name}*"


@dataclass(frozen=True)
class Case:
    folder: str
    target: str = ""  # a file inside the folder (an archive, or one labelled object); "" = the folder
    problems: tuple[Expect, ...] = ()
    allowed: tuple[Expect, ...] = ()
    false: tuple[Expect, ...] = ()
    window: tuple[str, str] | None = None  # when the data was captured, read from its event/status times
    wrong_text: tuple[str, ...] = ()  # phrases no finding may contain (wrong explanations)
    xfail: dict[str, str] = field(default_factory=dict)  # aspect -> "issue 13: <class> — <one line>"

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.target}" if self.target else self.folder

    @property
    def path(self) -> Path:
        return HERE / self.folder / self.target if self.target else HERE / self.folder


def X(cls: str, line: str) -> str:
    return f"issue 13: {cls} — {line}"


# Reasons shared by many cases.
COMPONENT_MISSING = Expect("COMPONENT-CONTROLLER-MISSING", why="the bundle holds no controller kinds")

# ---------------------------------------------------------------- bundles and kubectl dumps
BUNDLES = [
    Case(
        "sbctl-kurl-longhorn",
        problems=(Expect("POD-CRASHLOOP", None, "velero", "velero",
                         why="velero container in CrashLoopBackOff: unknown command \"server-junk\" "
                             "(previous log)"),),
        allowed=(Expect("VELERO-CLUSTER-RPO-MISSED"), Expect("VELERO-NAMESPACE-UNPROTECTED"),
                 Expect(("POD-RESTARTS", "POD-NOT-READY"))),
        false=(Expect("COMPONENT-CONTROLLER-MISSING", "DaemonSet", "velero", "node-agent",
                      why="DaemonSets were not collected, and Velero 1.7 calls it restic"),
               Expect("VELERO-BSL-VALIDATION-STALE",
                      why="validated 2022-04-12T00:59:13Z, minutes before capture; the 676 days come from a "
                          "wrong capture time")),
        window=("2022-04-12T00:59:13Z", "2022-04-13T01:00:00Z"),
    ),
    Case("troubleshoot-k3s-archive", "support-bundle.tar.gz", allowed=(Expect("POD-RESTARTS"),),
         window=("2022-12-21T16:43:09Z", "2022-12-22T16:44:00Z")),
    Case(
        "troubleshoot-k3s-baseline",
        window=("2025-12-10T17:26:28Z", "2025-12-11T17:27:00Z"),
    ),
    Case(
        "troubleshoot-analyzer-fixture",
        problems=(Expect("JOB-FAILED", "Job", "test", "post-install-job",
                         why="Failed=True BackoffLimitExceeded"),
                  Expect(None, None, "rook-ceph", "rook-ceph-mds-rook-shared-fs-b",
                         why="ReplicaSet wants 1 replica, 0 ready/available")),
        false=(Expect("COMPONENT-CONTROLLER-MISSING", None, "monitoring",
                      why="kube-prometheus is installed as prometheus-operator, prometheus-k8s, "
                          "alertmanager-prometheus-alertmanager, kube-state-metrics (kURL add-on names)"),),
        window=("2021-12-17T18:42:47Z", "2021-12-18T18:43:00Z"),
    ),
    Case(
        "sonobuoy-aws-v0.8-archive", "results-0.8.tar.gz",
        window=("2017-10-11T21:23:21Z", "2017-10-12T21:24:00Z"),
    ),
    Case(
        "sonobuoy-aws-v0.9",
        problems=(Expect("POD-EVICTED", "Pod", "default", "myapp-9",
                         why="Evicted: the node was low on nodefs"),),
        allowed=(Expect("POD-RESTARTS"),),
        window=("2017-12-21T16:14:53Z", "2017-12-22T16:15:00Z"),
    ),
    Case(
        "sonobuoy-aws-v0.10",
        allowed=(Expect("POD-RESTARTS"),),
        window=("2017-12-13T17:07:23Z", "2017-12-14T17:08:00Z"),
    ),
    Case(
        "sonobuoy-kind-plugins",
        problems=(Expect("POD-CRASHLOOP", None, "heptio-sonobuoy", "sonobuoy-singlefileds-daemon-set"),
                  Expect("POD-CRASHLOOP", None, "heptio-sonobuoy", "sonobuoy-tarresultsds-daemon-set")),
        allowed=(Expect(("POD-RESTARTS", "POD-NOT-READY")),),
        window=("2019-07-31T20:56:34Z", "2019-08-01T20:57:00Z"),
    ),
    Case(
        "sonobuoy-kind-e2e-failures",
        problems=(Expect("POD-FAILED", "Pod", "sonobuoy", "sonobuoy-e2e-job-3b678d2b23b24b4c",
                         why="the e2e container exited 1: four conformance tests failed"),),
        allowed=(Expect("POD-UNSCHEDULABLE", "Pod", "resourcequota-9871", "terminating-pod"),
                 Expect(("SVC-NO-MATCHING-PODS", "SVC-TARGETPORT-UNDECLARED"), "Service", "services-4744"),
                 Expect("POD-RESTARTS")),
        window=("2021-08-17T17:43:45Z", "2021-08-18T17:44:00Z"),
    ),
    Case(
        "sonobuoy-kind-healthsummary",
        problems=(Expect("NODE-NOT-READY", "Node", None, "kind-worker",
                         why="CNI not initialised on kind-worker"),
                  Expect(("POD-UNSCHEDULABLE", "POD-PENDING"), None, "kube-system", "coredns",
                         why="4 coredns pods Pending, PodScheduled=False Unschedulable since 2022-01-27")),
        allowed=(Expect("POD-NODE-LOST"), Expect("POD-TERMINATING-STUCK"), Expect("POD-RESTARTS")),
        window=("2022-02-03T19:02:54Z", "2022-02-04T19:03:00Z"),
    ),
    Case("holmesgpt-eks-runner", window=("2024-11-04T09:29:18Z", "2024-11-05T09:30:00Z")),
    Case("holmesgpt-kind-throttled", window=("2025-05-29T08:46:31Z", "2025-05-30T08:47:00Z")),
    Case(
        "holmesgpt-aks-crashloop",
        problems=(Expect("POD-CRASHLOOP", "Pod", "default", "frontend-service"),),
        wrong_text=("signal 127",),
    ),
    Case(
        "holmesgpt-deployment-stuck",
        problems=(Expect("WORKLOAD-PROGRESS-DEADLINE", "Deployment", "default", "user-profile-resources"),),
        window=("2025-06-03T11:40:31Z", "2025-06-04T11:41:00Z"),
    ),
]


# ---------------------------------------------------------------- labelled objects, one bundle per file
def labelled(folder: str, target: str, kind: str, ns: str | None, name: str, *, label: str,
             problem: str | tuple[str, ...] | None = None, false: tuple[Expect, ...] = (),
             xfail: dict[str, str] | None = None, wrong_text: tuple[str, ...] = ()) -> Case:
    """A one-object bundle. Degraded: a finding on the object is required. Progressing: findings on the
    object are allowed. Healthy: none. Always false: a component called missing when no controller kind
    was collected."""
    own = Expect(problem, kind, ns, name)
    return Case(
        folder, target,
        problems=(own,) if label == "degraded" else (),
        allowed=(Expect(None, kind, ns, name),) if label == "progressing" else (),
        false=(COMPONENT_MISSING, *false),
        wrong_text=wrong_text,
        xfail=xfail or {},
    )


GE = "gitops-engine-health"
TARGET_MISSING = Expect("HPA-TARGET-MISSING", why="Deployments were not collected")
NO_PODS = Expect("SVC-NO-MATCHING-PODS", why="Pods were not collected")
LABELLED = [
    labelled(GE, "pod-crashloop.yaml", "Pod", "argocd", "my-pod", label="degraded", problem="POD-CRASHLOOP"),
    labelled(GE, "pod-error.yaml", "Pod", "argocd", "my-pod", label="degraded",
             problem=("POD-CRASHLOOP", "POD-FAILED")),
    labelled(GE, "pod-failed.yaml", "Pod", "argocd", "my-pod", label="degraded", problem="POD-FAILED"),
    labelled(GE, "pod-imagepullbackoff.yaml", "Pod", "default", "guestbook-ui-errimagepullbackoff",
             label="degraded", problem="POD-IMAGE-PULL"),
    labelled(GE, "pod-pending.yaml", "Pod", "argocd", "", label="progressing"),
    labelled(GE, "pod-running-not-ready.yaml", "Pod", "argocd", "never-ready", label="progressing"),
    labelled(GE, "pod-running-restart-always.yaml", "Pod", "argocd", "", label="healthy"),
    labelled(GE, "pod-succeeded.yaml", "Pod", "argocd", "", label="healthy"),
    labelled(GE, "deployment-degraded.yaml", "Deployment", "default", "guestbook-ui", label="degraded",
             problem="WORKLOAD-PROGRESS-DEADLINE"),
    labelled(GE, "deployment-progressing.yaml", "Deployment", "default", "guestbook-ui", label="progressing"),
    labelled(GE, "statefulset.yaml", "StatefulSet", ANY, "", label="healthy"),
    labelled(GE, "daemonset-ondelete.yaml", "DaemonSet", ANY, "", label="healthy"),
    labelled(GE, "job-failed.yaml", "Job", "argoci-workflows", "fail", label="degraded",
             problem="JOB-FAILED"),
    labelled(GE, "job-succeeded.yaml", "Job", ANY, "", label="healthy"),
    labelled(GE, "pvc-bound.yaml", "PersistentVolumeClaim", ANY, "", label="healthy"),
    labelled(GE, "pvc-pending.yaml", "PersistentVolumeClaim", "argocd", "testpvc-2", label="progressing"),
    labelled(GE, "hpa-v1-degraded.yaml", "HorizontalPodAutoscaler", "argocd", "sample", label="degraded",
             problem=("HPA-UNABLE-TO-SCALE", "HPA-METRICS-UNAVAILABLE"), false=(TARGET_MISSING,)),
    # Argo CD calls this one healthy (its check stops at AbleToScale=SucceededRescale), but its annotation also
    # holds ScalingActive=False (FailedGetResourceMetric), as in hpa-v1-degraded: the metrics API is down and
    # nothing is autoscaled. A careful engineer reports that.
    labelled(GE, "hpa-v1-healthy.yaml", "HorizontalPodAutoscaler", "argocd", "sample", label="degraded",
             problem="HPA-METRICS-UNAVAILABLE", false=(TARGET_MISSING,)),
    labelled(GE, "hpa-v2-degraded.yaml", "HorizontalPodAutoscaler", None, "sample", label="degraded",
             problem=("HPA-UNABLE-TO-SCALE", "HPA-TARGET-MISSING")),
    labelled(GE, "hpa-v2-healthy.yaml", "HorizontalPodAutoscaler", None, "sample", label="healthy",
             false=(TARGET_MISSING,)),
    labelled(GE, "svc-clusterip.yaml", "Service", "argocd", "argocd-metrics", label="healthy",
             false=(NO_PODS,)),
    labelled(GE, "svc-loadbalancer-unassigned.yaml", "Service", "argo", "argo-artifacts", label="progressing",
             false=(NO_PODS,)),
    labelled(GE, "apiservice-v1-true.yaml", "APIService", None, "", label="healthy"),
    labelled(GE, "apiservice-v1-false.yaml", "APIService", None, "", label="degraded",
             problem="APISERVICE-UNAVAILABLE"),
]

CM = "argocd-cert-manager"
LABELLED += [
    labelled(CM, "cert-manager.io-Certificate-degraded_configError.yaml", "Certificate", "argocd",
             "test-cert", label="degraded", problem="CERT-NOT-READY"),
    labelled(CM, "cert-manager.io-Certificate-healthy_issued.yaml", "Certificate", ANY, "", label="healthy"),
    labelled(CM, "cert-manager.io-Certificate-healthy_renewed.yaml", "Certificate", ANY, "", label="healthy"),
    labelled(CM, "cert-manager.io-Certificate-progressing_issuing.yaml", "Certificate", ANY, "",
             label="progressing"),
    labelled(CM, "cert-manager.io-ClusterIssuer-degraded_acmeFailed.yaml", "ClusterIssuer", None,
             "test-issuer", label="degraded", problem="CERT-ISSUER-NOT-READY"),
    labelled(CM, "cert-manager.io-ClusterIssuer-healthy_registered.yaml", "ClusterIssuer", None, "",
             label="healthy"),
    labelled(CM, "cert-manager.io-Issuer-degraded_acmeFailed.yaml", "Issuer", "argocd", "test-issuer",
             label="degraded", problem="CERT-ISSUER-NOT-READY"),
    labelled(CM, "cert-manager.io-Issuer-healthy_registered.yaml", "Issuer", ANY, "", label="healthy"),
]

ES = "argocd-external-secrets"
LABELLED += [
    labelled(ES, "external-secrets.io-ExternalSecret-degraded.yaml", "ExternalSecret", "argocd",
             "test-degraded", label="degraded", problem="ESO-SYNC-FAILED"),
    labelled(ES, "external-secrets.io-ExternalSecret-healthy.yaml", "ExternalSecret", ANY, "",
             label="healthy"),
    labelled(ES, "external-secrets.io-ExternalSecret-progressing.yaml", "ExternalSecret", ANY, "",
             label="progressing"),
    labelled(ES, "external-secrets.io-ClusterSecretStore-degraded.yaml", "ClusterSecretStore", None, "",
             label="degraded", problem="ESO-STORE-NOT-READY"),
    labelled(ES, "external-secrets.io-ClusterSecretStore-healthy.yaml", "ClusterSecretStore", None, "",
             label="healthy"),
    labelled(ES, "external-secrets.io-SecretStore-degraded.yaml", "SecretStore", ANY, "", label="degraded",
             problem="ESO-STORE-NOT-READY"),
    labelled(ES, "external-secrets.io-SecretStore-healthy.yaml", "SecretStore", ANY, "", label="healthy"),
    labelled(ES, "external-secrets.io-ClusterExternalSecret-notready.yaml", "ClusterExternalSecret", None, "",
             label="degraded"),
    labelled(ES, "external-secrets.io-ClusterExternalSecret-healthy.yaml", "ClusterExternalSecret", None, "",
             label="healthy"),
    labelled(ES, "external-secrets.io-PushSecret-degraded.yaml", "PushSecret", ANY, "", label="degraded"),
    labelled(ES, "external-secrets.io-PushSecret-healthy.yaml", "PushSecret", ANY, "", label="healthy"),
]

GW = "argocd-gateway-api"
NOT_ENVOY = Expect("GATEWAY-NOT-ACCEPTED", why="Accepted=True: the class is example-gateway-class, not Envoy "
                   "Gateway's, and the Gateway's own conditions say accepted")
NO_SVC = Expect("HTTPROUTE-BACKEND-NOT-FOUND",
                why="Services were not collected; status says ResolvedRefs=True")
NOT_RECONCILED = Expect("HTTPROUTE-NOT-RECONCILED", why="status.parents holds the controller's conditions")
LABELLED += [
    labelled(GW, "gateway.networking.k8s.io-Gateway-healthy.yaml", "Gateway", "default", "example-gateway",
             label="healthy", false=(NOT_ENVOY,)),
    labelled(GW, "gateway.networking.k8s.io-Gateway-degraded_accepted.yaml", "Gateway", "default",
             "example-gateway", label="degraded", problem="GATEWAY-NOT-ACCEPTED",
             wrong_text=("Envoy Gateway",)),
    labelled(GW, "gateway.networking.k8s.io-Gateway-degraded_resolved_refs.yaml", "Gateway", "default",
             "example-gateway", label="degraded", false=(NOT_ENVOY,)),
    labelled(GW, "gateway.networking.k8s.io-Gateway-listener_degraded.yaml", "Gateway", "default",
             "example-gateway", label="degraded", false=(NOT_ENVOY,)),
    labelled(GW, "gateway.networking.k8s.io-GatewayClass-healthy.yaml", "GatewayClass", None, "",
             label="healthy"),
    labelled(GW, "gateway.networking.k8s.io-GatewayClass-degraded.yaml", "GatewayClass", None, "",
             label="degraded", problem="GATEWAYCLASS-NOT-ACCEPTED"),
    labelled(GW, "gateway.networking.k8s.io-HTTPRoute-healthy.yaml", "HTTPRoute", "default",
             "example-httproute", label="healthy", false=(NO_SVC, NOT_RECONCILED)),
    labelled(GW, "gateway.networking.k8s.io-HTTPRoute-degraded_accepted.yaml", "HTTPRoute", "default",
             "example-httproute", label="degraded",
             problem=("HTTPROUTE-NOT-ACCEPTED", "HTTPROUTE-NOT-ALLOWED", "HTTPROUTE-NO-MATCHING-PARENT"),
             false=(NO_SVC, NOT_RECONCILED)),
    labelled(GW, "gateway.networking.k8s.io-HTTPRoute-degraded_resolved_refs.yaml", "HTTPRoute", "default",
             "example-httproute", label="degraded",
             problem=("HTTPROUTE-BACKEND-NOT-FOUND", "HTTPROUTE-BACKEND-INVALID"), false=(NOT_RECONCILED,)),
    # GRPCRoutes are read now, so their backends meet the same uncollected-Services gap as HTTPRoutes'
    labelled(GW, "gateway.networking.k8s.io-GRPCRoute-healthy.yaml", "GRPCRoute", ANY, "", label="healthy",
             false=(NO_SVC,)),
    labelled(GW, "gateway.networking.k8s.io-GRPCRoute-degraded_resolved_refs.yaml", "GRPCRoute", ANY, "",
             label="degraded"),
    labelled(GW, "gateway.networking.k8s.io-BackendTLSPolicy-healthy.yaml", "BackendTLSPolicy", ANY, "",
             label="healthy"),
    labelled(GW, "gateway.networking.k8s.io-BackendTLSPolicy-degraded_resolved_refs.yaml", "BackendTLSPolicy",
             ANY, "", label="degraded"),
]

CASES = BUNDLES + LABELLED


# ---------------------------------------------------------------- running the product
@dataclass
class Outcome:
    snap: Snapshot | None
    report: Report | None
    error: str = ""


@cache
def outcome(case_id: str) -> Outcome:
    """Load and diagnose once per case, as `sre-expert check --bundle` does."""
    case = BY_ID[case_id]
    try:
        snap = load_bundle(case.path)
    except BundleError as e:
        return Outcome(None, None, f"BundleError: {e}")
    return Outcome(snap, diagnose(snap))


BY_ID = {c.id: c for c in CASES}


def params(aspect: str, cases: list[Case] | None = None) -> list:
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail[aspect])]
                         if aspect in c.xfail else []) for c in (cases if cases is not None else CASES)]


def ran(case: Case) -> Outcome:
    out = outcome(case.id)
    assert out.report is not None, f"{case.id}: {out.error}"
    return out


def line(f: Finding) -> str:
    ns = f"{f.object.namespace}/" if f.object.namespace else ""
    return f"{f.severity} {f.code} {f.object.kind} {ns}{f.object.name}: {f.title}"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# Warnings that say a file of Kubernetes objects, in the layout its format defines, was not (fully) read.
OBJECT_FILE = re.compile(r"(^|/)(cluster-resources|custom-resources|resources)/\S+: (skipped|\d+ entr)")
MAC_FORK = re.compile(r"(^|/)\._|(^|/)_[^/]*: skipped")
NEGATIVE_AGE = re.compile(r"(?<![\w.:-])-\d+(\.\d+)?[smhd]")


# ---------------------------------------------------------------- tests
@pytest.mark.parametrize("case", params("runs"))
def test_loads_and_every_check_runs(case: Case) -> None:
    """(a) No unreadable-input error and no check dying on the data."""
    out = ran(case)
    failed = [n for n in out.report.not_checked if "check failed" in n]
    assert not failed, f"{case.id}: checks crashed: {failed}"


@pytest.mark.parametrize("case", params("loader"))
def test_every_object_file_is_read(case: Case) -> None:
    """Files of Kubernetes objects in their format's own layout are read; archive junk is ignored quietly."""
    out = ran(case)
    single = case.path.is_file() and not case.target.endswith(".tar.gz")
    bad = [w for w in out.snap.info.warnings
           if OBJECT_FILE.search(w) or MAC_FORK.search(w) or (single and w.startswith(case.target))]
    assert not bad, f"{case.id}: object files not read: {bad[:6]} (+{max(0, len(bad) - 6)} more)"


@pytest.mark.parametrize("case", params("time", [c for c in CASES if c.window]))
def test_capture_time_follows_the_data(case: Case) -> None:
    """'Now' lies between the newest event/status time in the data and one day after it."""
    out = ran(case)
    low, high = (parse_time(t) for t in case.window)
    now = out.snap.now
    assert low <= now <= high, f"{case.id}: capture time {now.isoformat()} outside [{low}, {high}]"


@pytest.mark.parametrize("case", params("ages"))
def test_no_negative_age(case: Case) -> None:
    out = ran(case)
    bad = [(f.code, m.group(0), text[:120]) for f in out.report.findings
           for text in (f.title, f.detail, *f.evidence) for m in [NEGATIVE_AGE.search(text)] if m]
    assert not bad, f"{case.id}: negative ages printed: {bad}"


@pytest.mark.parametrize("case", params("false"))
def test_no_false_warning_or_critical(case: Case) -> None:
    """(b) Every warning/critical finding is a labelled problem or an allowed truth; none is judged false."""
    out = ran(case)
    loud = [f for f in out.report.findings if f.severity in ("warning", "critical")]
    judged_false = [f"{line(f)}  [false: {e.why or e}]" for f in loud for e in case.false if e.matches(f)]
    unexpected = [line(f) for f in loud if not any(e.matches(f) for e in (*case.problems, *case.allowed))
                  and not any(e.matches(f) for e in case.false)]
    assert not judged_false and not unexpected, (
        f"{case.id}: findings judged false:\n  " + "\n  ".join(judged_false)
        + "\nunexpected warning/critical findings:\n  " + "\n  ".join(unexpected))


@pytest.mark.parametrize("case", params("found", [c for c in CASES if c.problems]))
def test_every_real_problem_found(case: Case) -> None:
    """(c) Each labelled problem is reported on its object, by a finding not itself judged false."""
    out = ran(case)
    trusted = [f for f in out.report.findings if not any(e.matches(f) for e in case.false)]
    missed = [f"{e}  ({e.why})" if e.why else str(e)
              for e in case.problems if not any(e.matches(f) for f in trusted)]
    assert not missed, (f"{case.id}: problems not reported:\n  " + "\n  ".join(missed)
                        + "\nreported:\n  " + "\n  ".join(line(f) for f in out.report.findings))


@pytest.mark.parametrize("case", params("text", [c for c in CASES if c.wrong_text]))
def test_no_wrong_explanation(case: Case) -> None:
    out = ran(case)
    bad = [(f.code, phrase) for f in out.report.findings for phrase in case.wrong_text
           if phrase in " ".join((f.title, f.detail, *f.evidence))]
    assert not bad, f"{case.id}: wrong explanations: {bad}"


CLI_CASES = [BY_ID["sbctl-kurl-longhorn"], BY_ID["troubleshoot-k3s-archive/support-bundle.tar.gz"],
             BY_ID["sonobuoy-kind-e2e-failures"], BY_ID["sonobuoy-aws-v0.9"]]
CLI_X: dict[str, str] = {}


def cli_param(case: Case):
    reason = CLI_X.get(case.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [cli_param(c) for c in CLI_CASES])
def test_cli_check_json(case: Case) -> None:
    """As a user runs it: exit 0 or 1 (never 2), no traceback, valid JSON findings."""
    proc = subprocess.run([EXE, "check", "--bundle", str(case.path), "-o", "json"],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr[-500:]}"
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    want = ran(case).report.findings
    assert [f["code"] for f in doc["findings"]] == [f.code for f in want]


def test_corpus_stays_small() -> None:
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    assert total < 20 * 2**20, f"fixtures take {total / 2**20:.1f} MiB"


def test_every_data_set_is_documented_and_covered() -> None:
    sources = (HERE / "SOURCES.md").read_text()
    folders = sorted(p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    assert [f for f in folders if f"`{f}/`" not in sources] == []
    covered = {c.folder for c in CASES}
    assert [f for f in folders if f not in covered] == []
    labelled_files = {(c.folder, c.target) for c in LABELLED}
    for folder in {c.folder for c in LABELLED}:
        files = sorted(p.name for p in (HERE / folder).iterdir())
        assert files == sorted(t for f, t in labelled_files if f == folder), folder

