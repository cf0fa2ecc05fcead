"""`bundle collect`: a live sweep (of `bundle serve`) written as a bundle that `check --bundle` reads
with the same findings; kubectl's exact JSON; no Secret value and no logged credential in the files."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import orjson
import programs
import pytest
from live_harness import NOW, fast, faulty_platform, findings, served, write_faulty_bundle

from sre_expert.core.snapshot import Snapshot, SnapshotInfo
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.bundle_writer import bundle_files, kubectl_json, redact, write_bundle
from sre_expert.sources.live import sweep
from sre_expert.sources.resolve import demo_path

pytestmark = [pytest.mark.e2e, pytest.mark.needs("kubectl")]

MASK = "\x00MASK\x00"  # stands for whatever placeholder the redactor writes
EXE = str(Path(sys.executable).parent / "sre-expert")
KUBECTL = programs.path("kubectl")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120)


def archive_text(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tf:
        return {m.name: tf.extractfile(m).read() for m in tf if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def demo():
    return load_bundle(demo_path())


# ---------------------------------------------------------------------------------------- redaction
@pytest.mark.parametrize(
    ("line", "secret", "kept"),
    [
        ('GET /api Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.abcdefghij.klmnopqrst1234', "eyJhbGciOiJSUzI1NiJ9",
         "Authorization: Bearer " + MASK),
        ("curl -H 'authorization: Basic dXNlcjpodW50ZXIy' http://x", "dXNlcjpodW50ZXIy", "authorization: Basic " + MASK),
        ("MongoServerSelectionError: mongodb://api:s3cr3t@mongodb.mycure-production.svc:27017/app", "s3cr3t",
         f"mongodb://api:{MASK}@mongodb.mycure-production.svc:27017/app"),
        ("dsn=postgresql://app:p%40ss@db:5432/x?sslmode=require", "p%40ss", f"postgresql://app:{MASK}@db:5432/x"),
        ("redis error: redis://:hunter2@redis-master:6379/0", "hunter2", f"redis://:{MASK}@redis-master:6379/0"),
        ("mongodb+srv://root:Zx9!q@cluster0.example.net/db", "Zx9!q", f"mongodb+srv://root:{MASK}@cluster0.example.net"),
        ('{"token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}',
         "dozjgNryP4J3jVmNHl0w5N", f'{{"token":"{MASK}"}}'),
    ],
)
def test_redact_masks_credentials_and_keeps_the_evidence(line: str, secret: str, kept: str) -> None:
    out = redact(line)
    assert secret not in out
    assert re.search(re.escape(kept).replace(re.escape(MASK), r"<redacted:[a-z0-9-]+#\d+>"), out), out
    assert redact(out) == out  # idempotent


def test_redact_masks_private_keys_whole() -> None:
    pem = ("loading key\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7b\nQm9yaW5nIGtleQ==\n"
           "-----END RSA PRIVATE KEY-----\nlistening on :8443\n")
    out = redact(pem)
    assert "MIIEowIBAAKCAQEAx7b" not in out and "Qm9yaW5nIGtleQ" not in out
    assert out.startswith("loading key\n") and out.endswith("listening on :8443\n")
    escaped = r'{"msg":"bad key","key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n"}'
    assert "MIIEvQIBADANBgkq" not in redact(escaped)
    cut = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIOab\nAwEHoUQDQgAE"  # the tail started mid-key or ended mid-key
    assert "MHcCAQEEIOab" not in redact(cut) and "AwEHoUQDQgAE" not in redact(cut)


@pytest.mark.parametrize("line", [
    'FATAL: password authentication failed for user "app"',
    'WWW-Authenticate: Bearer realm="kubernetes"',
    "connecting to mongodb://mongodb.mycure-production.svc:27017/app",
    "GET https://api.stg.localfirsthealth.com/v1/users/42 503",
    "-----BEGIN CERTIFICATE-----",
    "E1126 09:58:01.123 reflector.go:158] Failed to watch *v1.Secret: the server has asked for the client to provide credentials",
])
def test_redact_leaves_ordinary_lines_alone(line: str) -> None:
    assert redact(line) == line


# ---------------------------------------------------------------------------------------- file format
def test_files_are_what_kubectl_prints(demo, tmp_path: Path) -> None:
    """Each kind file is byte-for-byte `kubectl get <resource> -A -o json` against the same API."""
    with served(demo_path(), tmp_path) as (h, kc):
        result = sweep(fast(kc, demo.now, logs=False))
        files = dict(bundle_files(result))
        for resource, name in [("pods", "pods.json"), ("deployments.apps", "deployments.apps.json"),
                               ("events", "events.json"), ("nodes", "nodes.json"),
                               ("certificates.cert-manager.io", "certificates.cert-manager.io.json"),
                               ("httproutes.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io.json")]:
            r = subprocess.run([KUBECTL, "--kubeconfig", str(kc), "get", resource, "-A", "-o", "json"],
                               capture_output=True, timeout=60)
            assert r.returncode == 0, r.stderr
            assert files[name] == r.stdout, name


def _reference_kubectl_json(doc: Any) -> bytes:
    """kubectl's spelling by the slow, obvious route: json.dumps with 4-space indent, sorted keys, raw UTF-8
    and Go's escaping of <, > and & (what the synth writer used before it wrote through the product's)."""
    text = json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e") + "\n").encode()


def test_kubectl_json_matches_the_reference_spelling() -> None:
    b = faulty_platform()
    doc = {"apiVersion": "v1", "items": copy.deepcopy(b.objects[:300]), "kind": "List", "metadata": {"resourceVersion": ""}}
    assert kubectl_json(doc) == _reference_kubectl_json(doc)
    tricky = {"a": "<b>&</b>", "z": [], "m": {}, "n": [1, {"y": None, "x": True}], "u": "naïve ✓"}
    assert kubectl_json(tricky) == _reference_kubectl_json(tricky)


# ---------------------------------------------------------------------------------------- round trips
def test_collect_then_check_bundle_gives_the_same_findings(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path) as (h, kc):
        result = sweep(fast(kc, demo.now))
    path, size = write_bundle(result, tmp_path / "demo.tar.gz")
    assert size > 1_000_000 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".demo")] == []  # no temp file left
    reloaded = load_bundle(path)
    assert reloaded.now == demo.now and reloaded.info.cluster == "sre-expert-bundle"
    assert reloaded.info.kubernetes_version == demo.info.kubernetes_version and reloaded.info.warnings == []
    assert findings(reloaded) == findings(demo)
    meta = json.loads(archive_text(path)["demo/bundle.json"])
    assert meta["capturedAt"] == "2026-11-26T03:07:12Z" and meta["collectionErrors"] == [] and meta["source"] == "live"


def test_collect_of_a_faulty_platform_round_trips_and_masks_the_logged_password(tmp_path: Path) -> None:
    bundle = write_faulty_bundle(tmp_path / "src")
    direct = load_bundle(bundle)
    with served(bundle, tmp_path) as (h, kc):
        result = sweep(fast(kc, direct.now))
    out, _ = write_bundle(result, tmp_path / "out")  # a directory this time
    assert (out / "bundle.json").is_file() and (out / "pods.json").is_file()
    assert findings(load_bundle(out)) == findings(direct)
    logs = {p.relative_to(out).as_posix(): p.read_text() for p in (out / "logs").rglob("*.log")}
    assert any(re.search(r"mongodb://api:<redacted:[a-z0-9-]+#\d+>@", t) for t in logs.values())
    assert not any("s3cr3t-pw" in t for t in logs.values())
    assert any(k.endswith(".previous.log") for k in logs)


def test_no_secret_value_is_ever_written(tmp_path: Path) -> None:
    """Served straight from builder objects (values present on the wire): keys kept, values empty."""
    b = faulty_platform()
    values = {v for o in b.objects if o["kind"] == "Secret" for v in (o.get("data") or {}).values() if v}
    assert len(values) > 10
    snap = Snapshot(copy.deepcopy(b.objects), SnapshotInfo(captured_at=NOW, cluster="raw"))
    assert any((s.get("data") or {}).get("tls.key") for s in snap.list("Secret")), "the server does send values"
    with served(snap, tmp_path) as (h, kc):
        result = sweep(fast(kc, NOW))
    path, _ = write_bundle(result, tmp_path / "b.tgz")
    files = archive_text(path)
    blob = b"\n".join(files.values())
    assert not [v for v in values if v.encode() in blob]
    secrets = orjson.loads(files["b/secrets.json"])["items"]
    assert secrets and all(set(s["data"].values()) <= {""} for s in secrets if s.get("data"))
    assert any("tls.key" in (s.get("data") or {}) for s in secrets)


def test_collection_errors_are_written_to_bundle_json(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Certificate": 403}) as (h, kc):
        result = sweep(fast(kc, demo.now))
    path, _ = write_bundle(result, tmp_path / "x.tar.gz")
    files = archive_text(path)
    assert "x/certificates.cert-manager.io.json" not in files
    meta = json.loads(files["x/bundle.json"])
    assert meta["collectionErrors"] == [{"kind": "Certificate", "namespace": "", "error": "forbidden"}]
    assert "Restore.velero.io" in meta["kindsNotInstalled"]


def test_check_on_a_collected_bundle_reports_what_could_not_be_read(demo, tmp_path: Path) -> None:
    with served(demo_path(), tmp_path, faults={"Certificate": 403}) as (h, kc):
        result = sweep(fast(kc, demo.now))
        live_findings = findings(result.snapshot())
    path, _ = write_bundle(result, tmp_path / "x.tar.gz")
    reloaded = load_bundle(path)
    assert reloaded.info.collection_errors == result.errors
    assert findings(reloaded) == live_findings
    r = run("check", "--bundle", str(path), "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["collectionErrors"] == [{"kind": "Certificate", "namespace": "", "error": "forbidden"}]


# ---------------------------------------------------------------------------------------- the command
def test_bundle_collect_command_end_to_end(demo, tmp_path: Path) -> None:
    out = tmp_path / "snap.tar.gz"
    with served(demo_path(), tmp_path) as (h, kc):
        r = run("bundle", "collect", "--kubeconfig", str(kc), "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr and f"wrote {out}" in r.stderr and "objects of" in r.stderr
        live = run("check", "--kubeconfig", str(kc), "-o", "json")
    offline = run("check", "--bundle", str(out), "-o", "json")
    assert offline.returncode == live.returncode == 1

    def keys(text: str) -> list[tuple]:
        doc = json.loads(text)
        return sorted((f["code"], f["object"]["kind"], f["object"]["namespace"] or "", f["object"]["name"], f["rootCause"])
                      for f in doc["findings"])

    assert keys(offline.stdout) == keys(live.stdout) and len(keys(live.stdout)) > 40
    assert json.loads(offline.stdout)["source"] == "bundle"


def test_bundle_collect_refuses_bad_input_without_a_traceback(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "f").write_text("x")
    r = run("bundle", "collect", "-o", str(busy), "--kubeconfig", str(tmp_path / "kc"))
    assert r.returncode == 2 and "exists" in r.stderr and "Traceback" not in r.stderr
    r = run("bundle", "collect", "-o", str(tmp_path / "a.tgz"), "--kubeconfig", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "a.tgz").exists()
    kc = tmp_path / "refused"
    kc.write_text("""apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
""")
    r = run("bundle", "collect", "-o", str(tmp_path / "b.tgz"), "--kubeconfig", str(kc))
    assert r.returncode == 2 and "cannot reach the API server" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "b.tgz").exists()
