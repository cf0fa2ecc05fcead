"""The real kubectl (v1.32) against `bundle serve`: what a user types, what it prints, what it sends.

Every kubectl runs with a throwaway HOME and KUBECONFIG (nothing touches the user's config or discovery
cache), a --request-timeout, and a subprocess timeout.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import programs
import pytest
from test_serve_api import CRASH_LOG, TENANT, build_bundle, crashing_pod

from sre_expert.edges.apiserver import start_server
from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig
from sre_expert.edges.cli.bundle_cli import is_loopback
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path

pytestmark = [pytest.mark.e2e, pytest.mark.needs("kubectl")]

KUBECTL = programs.path("kubectl")
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


class Kubectl:
    def __init__(self, url: str, home: Path):
        home.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = write_kubeconfig(home / "kubeconfig", url)
        self.env = {"HOME": str(home), "KUBECONFIG": str(self.kubeconfig), "PATH": os.environ.get("PATH", "/usr/bin")}

    def __call__(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KUBECTL, "--request-timeout=20s", *shlex.split(command)], env=self.env,
                              capture_output=True, text=True, timeout=60)


def rows(out: str) -> list[list[str]]:
    """Table output split on runs of 2+ spaces (cells themselves contain single spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory.mktemp("kubectl") / "bundle")


@pytest.fixture(scope="module")
def snap(bundle: Path) -> Any:
    return load_bundle(bundle)


@pytest.fixture(scope="module")
def server(snap: Any) -> Iterator[Any]:
    with start_server(snap) as h:
        yield h


@pytest.fixture(scope="module")
def kubectl(server: Any, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return Kubectl(server.url, tmp_path_factory.mktemp("home"))


def requests_since(server: Any, n: int) -> list[tuple[str, str, int]]:
    return server.request_log[n:]


def test_get_pods_all_namespaces(kubectl: Kubectl, snap: Any) -> None:
    r = kubectl("get pods -A")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(table) - 1 == len(snap.list("Pod"))
    pod = crashing_pod(snap)
    row = next(t for t in table if t[1] == pod["metadata"]["name"])
    assert row[0] == TENANT and row[2:4] == ["0/1", "CrashLoopBackOff"] and row[4].startswith("7 (")


def test_get_po_wide_in_a_namespace(kubectl: Kubectl, snap: Any) -> None:
    r = kubectl(f"get po -n {TENANT} -o wide")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    for pod in snap.list("Pod", TENANT):
        row = next(t for t in table if t[0] == pod["metadata"]["name"])
        assert row[5:7] == [pod["status"].get("podIP", "<none>"), pod["spec"].get("nodeName", "<none>")]


def test_get_httproutes_uses_the_crd_columns(kubectl: Kubectl, snap: Any) -> None:
    r = kubectl("get httproute -A")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAMESPACE", "NAME", "HOSTNAMES", "AGE"]
    for route in snap.list("HTTPRoute"):
        row = next(t for t in table if t[:2] == [route["metadata"]["namespace"], route["metadata"]["name"]])
        assert row[2] == "[" + " ".join(route["spec"]["hostnames"]) + "]"


def test_describe_crashlooping_pod_shows_its_events(kubectl: Kubectl, server: Any, snap: Any) -> None:
    pod = crashing_pod(snap)
    n = len(server.request_log)
    r = kubectl(f"describe pod {pod['metadata']['name']} -n {TENANT}")
    assert r.returncode == 0, r.stderr
    assert "CrashLoopBackOff" in r.stdout and re.search(r"Last State:\s+Terminated", r.stdout)
    events = r.stdout.split("\nEvents:\n", 1)[1]
    assert re.search(r"Warning\s+BackOff\s+.*Back-off restarting failed container", events)
    assert re.search(r"Normal\s+Pulled\s+", events)
    sent = [p for _, p, code in requests_since(server, n) if "/events?" in p and code == 200]
    assert sent and "involvedObject.name%3D" + pod["metadata"]["name"] in sent[0]


def test_logs_previous_container_and_tail(kubectl: Kubectl, snap: Any) -> None:
    pod = crashing_pod(snap)
    name, cname = pod["metadata"]["name"], pod["spec"]["containers"][0]["name"]
    r = kubectl(f"logs {name} -n {TENANT} --previous")
    assert r.returncode == 0 and r.stdout == CRASH_LOG, r.stderr
    r = kubectl(f"logs {name} -n {TENANT} -c {cname} --tail=1")
    assert r.returncode == 0 and r.stdout == "exiting\n", r.stderr
    r = kubectl(f"logs {name} -n {TENANT} -c nope")
    assert r.returncode != 0 and "container nope is not valid" in r.stderr


def test_logs_previous_of_a_container_that_never_restarted_is_the_servers_error(kubectl: Kubectl, snap: Any) -> None:
    pod = next(p for p in snap.list("Pod", "kube-system") if len(p["spec"]["containers"]) == 1
               and p["status"]["containerStatuses"][0]["restartCount"] == 0)
    r = kubectl(f"logs {pod['metadata']['name']} -n kube-system --previous")
    assert r.returncode != 0 and "Error from server (BadRequest): previous terminated container" in r.stderr


def test_events_sorted_by_last_timestamp(kubectl: Kubectl, snap: Any) -> None:
    r = kubectl("get events -A --sort-by=.lastTimestamp -o wide")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0][:5] == ["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT"] and table[0][-1] == "NAME"
    by_name = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in snap.list("Event")}
    # scheduler events carry only eventTime: kubectl sorts a missing field first
    printed = [by_name[(t[0], t[-1])].get("lastTimestamp") or "" for t in table[1:]]
    assert len(printed) == len(by_name) and printed == sorted(printed)
    r = kubectl("get events -A")
    assert r.returncode == 0 and rows(r.stdout)[0] == ["NAMESPACE", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]


def test_label_selectors_equality_and_set_based(kubectl: Kubectl, snap: Any) -> None:
    r = kubectl("get deploy -l app.kubernetes.io/name=api -A")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAMESPACE", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert sorted((t[0], t[1]) for t in table[1:]) == sorted(
        (d["metadata"]["namespace"], d["metadata"]["name"]) for d in snap.list("Deployment")
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "api")
    r = kubectl("get pods -A -l 'app.kubernetes.io/name in (api,mongodb)' -o name")
    assert r.returncode == 0, r.stderr
    want = sorted(f"pod/{p['metadata']['name']}" for p in snap.list("Pod")
                  if p["metadata"].get("labels", {}).get("app.kubernetes.io/name") in ("api", "mongodb"))
    assert want and sorted(r.stdout.split()) == want


def test_chunked_listing_pages_through_continue_tokens(kubectl: Kubectl, server: Any, snap: Any) -> None:
    n = len(server.request_log)
    r = kubectl("get pods -A --chunk-size=5 -o name")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(f"pod/{p['metadata']['name']}" for p in snap.list("Pod"))
    pages = [p for _, p, code in requests_since(server, n) if p.startswith("/api/v1/pods?") and code == 200]
    assert len(pages) == -(-len(snap.list("Pod")) // 5)
    assert all("continue=" in p for p in pages[1:]) and "continue=" not in pages[0]


def test_auth_can_i(kubectl: Kubectl) -> None:
    r = kubectl("auth can-i list pods")
    assert r.returncode == 0 and r.stdout.strip() == "yes", r.stderr
    r = kubectl("auth can-i get deployments -n mycure-production")
    assert r.returncode == 0 and r.stdout.strip() == "yes", r.stderr
    r = kubectl("auth can-i delete pods")
    assert r.returncode == 1 and r.stdout.strip().startswith("no"), r.stderr


def test_delete_is_refused(kubectl: Kubectl, snap: Any) -> None:
    pod = crashing_pod(snap)
    r = kubectl(f"delete pod {pod['metadata']['name']} -n {TENANT}")
    assert r.returncode != 0
    assert "Error from server (MethodNotAllowed)" in r.stderr and "read-only" in r.stderr
    r = kubectl(f"get pod {pod['metadata']['name']} -n {TENANT} -o name")
    assert r.stdout.strip() == f"pod/{pod['metadata']['name']}"


def test_watch_is_a_clean_error(kubectl: Kubectl) -> None:
    r = kubectl(f"get pods -n {TENANT} -w")
    assert r.returncode != 0 and "MethodNotAllowed" in r.stderr and "watch is not supported" in r.stderr


def test_certificates_with_the_crd_columns(kubectl: Kubectl, snap: Any) -> None:
    r = kubectl("get certificates -A")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAMESPACE", "NAME", "READY", "SECRET", "AGE"]
    r = kubectl("get certs -A -o wide")
    assert rows(r.stdout)[0] == ["NAMESPACE", "NAME", "READY", "SECRET", "ISSUER", "STATUS", "AGE"]
    assert len(rows(r.stdout)) - 1 == len(snap.list("Certificate"))


def test_certificates_without_a_crd_print_cert_managers_columns(tmp_path: Path) -> None:
    """The demo holds Certificates but not their CRD; the cluster had cert-manager's, so its columns print."""
    demo = load_bundle(demo_path())
    with start_server(demo) as h:
        r = Kubectl(h.url, tmp_path / "home")("get certificates -A")
    assert r.returncode == 0, r.stderr
    table = rows(r.stdout)
    assert table[0] == ["NAMESPACE", "NAME", "READY", "SECRET", "AGE"] and len(table) - 1 == len(demo.list("Certificate"))


def test_common_kinds_print_their_usual_headers(kubectl: Kubectl) -> None:
    want = {
        "nodes": ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        "ns": ["NAME", "STATUS", "AGE"],
        "svc -A": ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
        "pvc -A": ["NAMESPACE", "NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS",
                   "VOLUMEATTRIBUTESCLASS", "AGE"],
        "jobs -A": ["NAMESPACE", "NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        "cronjobs -A": ["NAMESPACE", "NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"],
        "rs -A": ["NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        "sts -A": ["NAMESPACE", "NAME", "READY", "AGE"],
        "ds -A": ["NAMESPACE", "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"],
    }
    for what, header in want.items():
        r = kubectl(f"get {what}")
        assert r.returncode == 0, (what, r.stderr)
        assert rows(r.stdout)[0] == header, what


def test_ages_are_relative_to_captured_at(kubectl: Kubectl, snap: Any) -> None:
    """kubectl prints the server's ages: capturedAt minus creation, whatever today's date is."""
    ages = {j["metadata"]["name"]: snap.age(j["metadata"]["creationTimestamp"]) for j in snap.list("Job", TENANT)}
    name, age = next((n, a) for n, a in ages.items() if 10 * 60 <= a.total_seconds() < 180 * 60)
    r = kubectl(f"get job {name} -n {TENANT} --no-headers")
    assert r.returncode == 0 and rows(r.stdout)[0][-1] == f"{int(age.total_seconds() // 60)}m", (r.stdout, age)


# ------------------------------------------------------------------ the `bundle serve` command


def _ctrl_c_as_in_a_terminal() -> None:
    """A job started in the background of a script (a CI runner's) inherits SIGINT ignored, and Python then
    never turns Ctrl-C into KeyboardInterrupt: give the server the terminal's default, as a user's shell does."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_cli(*args: str, **kw: Any) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([EXE, "bundle", "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_ctrl_c_as_in_a_terminal, **kw)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout=60)
    if not line:
        proc.kill()
        pytest.fail("bundle serve printed nothing within 60 s")
    return proc, line[0]


def test_cli_serves_prints_the_address_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    proc, banner = _start_cli("--demo", "--port", "0", "--write-kubeconfig", str(kc))
    try:
        m = re.match(r"Serving (.+) \((\d+) objects, (\d+) kinds\) read-only at (http://127\.0\.0\.1:\d+) — "
                     r"kubeconfig: (.+); try: KUBECONFIG=(.+) kubectl get pods -A$", banner.strip())
        assert m, banner
        assert m.group(5) == str(kc) and kc.exists() and m.group(4) in kc.read_text()
        env = {"HOME": str(tmp_path), "KUBECONFIG": str(kc), "PATH": os.environ.get("PATH", "/usr/bin")}
        r = subprocess.run([KUBECTL, "--request-timeout=20s", "get", "pods", "-n", TENANT, "-o", "name"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "pod/mongodb-0" in r.stdout, r.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"GET /api/v1/namespaces/{TENANT}/pods?limit=500" in err and "Traceback" not in err


def test_cli_bind_failure_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([EXE, "bundle", "serve", "--demo", "--port", str(port)], capture_output=True, text=True,
                           timeout=60)
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in r.stderr and "Traceback" not in r.stderr


def test_cli_needs_a_bundle(tmp_path: Path) -> None:
    r = subprocess.run([EXE, "bundle", "serve"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no bundle" in r.stderr
    r = subprocess.run([EXE, "bundle", "serve", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "no such file or directory" in r.stderr and "Traceback" not in r.stderr


def test_cli_shell_runs_with_kubeconfig_set(tmp_path: Path) -> None:
    script = f"echo KC=$KUBECONFIG; {KUBECTL} --request-timeout=20s get ns kube-system -o name; exit\n"
    env = dict(os.environ, SHELL="/bin/sh", HOME=str(tmp_path))
    r = subprocess.run([EXE, "bundle", "serve", "--demo", "--shell", "-q"], input=script, capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert "namespace/kube-system" in r.stdout
    kc = re.search(r"KC=(\S+)", r.stdout)
    assert kc and not Path(kc.group(1)).exists()  # the temporary kubeconfig is removed on exit


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "example.com"))
