"""The bundle loader on hostile input: every case ends in one message naming the file, in bounded time and
memory, with the rest of the bundle still read and no traceback anywhere downstream (checks, reports)."""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from sre_expert.diagnosis.engine import diagnose
from sre_expert.render.json_report import render_json
from sre_expert.render.markdown import render_markdown
from sre_expert.sources import bundle_reader as bundle_mod
from sre_expert.sources.bundle_reader import BundleError, load_bundle

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parent / "data"
POD = json.loads((DATA / "pod-crashloop.json").read_text())
NS = "mycure-production"
CAPTURED = json.dumps({"capturedAt": "2026-11-26T03:00:00Z", "cluster": "prod"})


def pod(name: str, ns: str = NS) -> dict[str, Any]:
    p = copy.deepcopy(POD)
    p["metadata"].update(name=name, namespace=ns, uid=f"uid-{ns}-{name}")
    return p


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def pod_list(*pods: dict[str, Any]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(pods)})


def warnings_about(snap: Any, name: str) -> list[str]:
    return [w for w in snap.info.warnings if w.startswith(name)]


def run_checks_and_reports(snap: Any) -> None:
    """What `check` does with a snapshot: every check, then every rendering. Raises on any crash."""
    report = diagnose(snap)
    assert not [n for n in report.not_checked if "crashed" in n or "Error" in n], report.not_checked
    render_json(report)
    render_markdown(report)


def load_in_subprocess(path: Path, timeout: float = 120) -> dict[str, Any]:
    """Load a bundle in a fresh interpreter with a timeout: a regression that hangs (a FIFO) or balloons (a gzip
    bomb) fails the test instead of the test run. Returns pods, warnings and the child's peak RSS growth."""
    code = f"""
import json, resource, sys
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from sre_expert.sources.bundle_reader import load_bundle
snap = load_bundle({str(path)!r})
logs = {{p["metadata"]["name"]: len(snap.logs(p["metadata"]["namespace"], p["metadata"]["name"], "api", False) or "")
         for p in snap.list("Pod")}}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"pods": sorted(logs), "logs": logs, "warnings": snap.info.warnings, "grew_kib": peak - base}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# ------------------------------------------------------------------------------------------ special files


def test_a_fifo_named_json_is_not_opened(tmp_path: Path) -> None:
    write(tmp_path / "pods.json", pod_list(pod("a")))
    write(tmp_path / "bundle.json", CAPTURED)
    os.mkfifo(tmp_path / "secrets.json")  # nobody ever writes to it: opening it to read would block forever
    (tmp_path / "logs" / NS / "a").mkdir(parents=True)
    os.mkfifo(tmp_path / "logs" / NS / "a" / "api.log")
    got = load_in_subprocess(tmp_path, timeout=60)
    assert got["pods"] == ["a"]
    assert "secrets.json: not a regular file (a FIFO), not read" in got["warnings"]
    assert f"logs/{NS}/a/api.log: not a regular file (a FIFO), not read" in got["warnings"]


def test_a_fifo_or_device_given_as_the_bundle_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "bundle.tar.gz")
    with pytest.raises(BundleError, match=r"bundle.tar.gz: a FIFO, not a bundle"):
        load_bundle(tmp_path / "bundle.tar.gz")
    with pytest.raises(BundleError, match=r"/dev/zero: a device, not a bundle"):
        load_bundle("/dev/zero")


def test_symlinks_out_of_the_bundle_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "home"
    write(outside / "stolen.json", json.dumps(pod("stolen-from-outside", "kube-system")))
    b = tmp_path / "bundle"
    write(b / "pods.json", pod_list(pod("a")))
    write(b / "bundle.json", CAPTURED)
    (b / "extra.json").symlink_to(outside / "stolen.json")
    (b / "zero.json").symlink_to("/dev/zero")
    (b / "up").symlink_to(outside, target_is_directory=True)
    write(b / "real/inner.json", json.dumps(pod("inner")))
    (b / "alias.json").symlink_to(b / "real/inner.json")  # inside the bundle: read
    snap = load_bundle(b)
    assert sorted(p["metadata"]["name"] for p in snap.list("Pod")) == ["a", "inner"]
    assert "extra.json: symbolic link to a file outside the bundle, not followed" in snap.info.warnings
    assert "zero.json: symbolic link to a file outside the bundle, not followed" in snap.info.warnings
    assert b"stolen-from-outside" not in render_json(diagnose(snap))


def test_logs_are_read_only_from_inside_the_bundle(tmp_path: Path) -> None:
    """Logs are found when a check asks, by the pod's namespace and name: names taken from the bundle's own
    objects, so a pod named ".." or a linked folder must not lead the reader out of the bundle."""
    outside = tmp_path / "home"
    write(outside / "api.log", "SECRET from outside\n")
    write(outside / "p/api.log", "SECRET from outside\n")
    write(tmp_path / "api.log", "SECRET from outside\n")  # logs/../../api.log
    b = tmp_path / "bundle"
    write(b / "pods.json", pod_list(pod("a"), pod("..", ".."), pod("p", "linked"), pod("q")))
    write(b / "bundle.json", CAPTURED)
    write(b / f"logs/{NS}/a/api.log", "inside\n")
    (b / "logs/linked").symlink_to(outside, target_is_directory=True)  # a namespace folder that is a link
    (b / f"logs/{NS}/q").mkdir(parents=True)
    (b / f"logs/{NS}/q/api.log").symlink_to(outside / "api.log")
    write(b / f"logs/{NS}/real.log", "a log of the bundle\n")
    (b / f"logs/{NS}/a/api.previous.log").symlink_to(b / f"logs/{NS}/real.log")  # inside: read
    snap = load_bundle(b)
    assert snap.logs(NS, "a", "api") == "inside\n"
    assert snap.logs(NS, "a", "api", previous=True) == "a log of the bundle\n"
    assert snap.logs("..", "..", "api") is None
    assert snap.logs("linked", "p", "api") is None
    assert snap.logs(NS, "q", "api") is None
    assert f"logs/{NS}/q/api.log: symbolic link to a file outside the bundle, not followed" in snap.info.warnings
    assert b"SECRET" not in render_json(diagnose(snap))


def test_tar_members_that_are_not_regular_files_are_skipped(tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, data in (("snap/pods.json", pod_list(pod("a")).encode()), ("snap/bundle.json", CAPTURED.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, kind, target in (("snap/passwd.json", tarfile.SYMTYPE, "/etc/passwd"),
                                   ("snap/hard.json", tarfile.LNKTYPE, "/etc/passwd"),
                                   ("snap/fifo.json", tarfile.FIFOTYPE, ""),
                                   ("snap/dev.json", tarfile.CHRTYPE, "")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tf.addfile(info)
    snap = load_bundle(archive)
    assert [p["metadata"]["name"] for p in snap.list("Pod")] == ["a"]
    assert "snap/fifo.json: a device or FIFO inside the archive, not read" in snap.info.warnings
    assert "snap/dev.json: a device or FIFO inside the archive, not read" in snap.info.warnings


# ------------------------------------------------------------------------------------------ size bounds


class Zeros(io.RawIOBase):
    """`size` zero bytes, produced on demand: a gzip bomb's payload without holding it in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def bomb(path: Path, log_bytes: int, pods: int = 1) -> Path:
    """A tar.gz whose container log decompresses to log_bytes of zeros (a few hundred KB on disk)."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        for name, data in (("pods.json", pod_list(*(pod(f"p{i}") for i in range(pods))).encode()),
                           ("bundle.json", CAPTURED.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(f"logs/{NS}/p0/api.log")
        info.size = log_bytes
        tf.addfile(info, io.BufferedReader(Zeros(log_bytes), 1 << 20))
        tail = b"\nFATAL the real last line\n"
        info = tarfile.TarInfo(f"logs/{NS}/p0/api.previous.log")
        info.size = len(tail)
        tf.addfile(info, io.BytesIO(tail))
    return path


def test_a_log_bomb_in_a_tar_gz_is_read_as_a_bounded_tail(tmp_path: Path) -> None:
    archive = bomb(tmp_path / "bomb.tar.gz", 400 << 20)
    assert archive.stat().st_size < 2 << 20
    got = load_in_subprocess(archive)
    assert got["pods"] == ["p0"]
    assert got["logs"]["p0"] == bundle_mod.MAX_LOG_BYTES  # the tail kept, not the 400 MB
    # reading the whole member into memory (as before) grew the process by its full size; streaming keeps a
    # couple of tail buffers. Generous bound, not a measurement.
    assert got["grew_kib"] < 120 * 1024, got["grew_kib"]


def test_archive_and_per_log_limits_stop_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = bomb(tmp_path / "bomb.tar.gz", 8 << 20)
    monkeypatch.setattr(bundle_mod, "MAX_LOG_SCAN_BYTES", 4 << 20)
    snap = load_bundle(archive)
    assert f"logs/{NS}/p0/api.log: skipped, 8 MB is over the 4 MiB limit per log" in snap.info.warnings
    assert snap.logs(NS, "p0", "api") is None
    assert snap.logs(NS, "p0", "api", previous=True).endswith("FATAL the real last line\n")

    monkeypatch.setattr(bundle_mod, "MAX_LOG_SCAN_BYTES", 1 << 30)
    monkeypatch.setattr(bundle_mod, "MAX_KEPT_LOG_BYTES", 1 << 20)  # the first log's 1 MiB tail fills it
    snap = load_bundle(archive)
    assert len(snap.logs(NS, "p0", "api")) == bundle_mod.MAX_LOG_BYTES
    assert snap.logs(NS, "p0", "api", previous=True) is None
    assert f"logs/{NS}/p0/api.previous.log: not read, nor any later log: the archive's logs already hold 1 MiB " \
           "of tails (the limit per bundle)" in snap.info.warnings

    monkeypatch.setattr(bundle_mod, "MAX_KEPT_LOG_BYTES", 1 << 30)
    monkeypatch.setattr(bundle_mod, "MAX_ARCHIVE_BYTES", 6 << 20)
    snap = load_bundle(archive)
    assert any(w.startswith(f"bomb.tar.gz: stopped reading at logs/{NS}/p0/api.log: the archive holds more than")
               for w in snap.info.warnings), snap.info.warnings
    assert snap.count("Pod") == 1  # what came before the limit is kept


def test_a_file_over_the_size_limit_is_skipped_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_mod, "MAX_FILE_BYTES", 64 << 10)
    write(tmp_path / "pods.json", pod_list(pod("a")))
    write(tmp_path / "huge.json", pod_list(*(pod(f"h{i}") for i in range(40))))
    write(tmp_path / "bundle.json", CAPTURED)
    for snap in (load_bundle(tmp_path), load_bundle(_tar(tmp_path, tmp_path.parent / "huge.tar.gz"))):
        assert [p["metadata"]["name"] for p in snap.list("Pod")] == ["a"]
        assert [w for w in snap.info.warnings if "huge.json: skipped" in w and "over the 0 MiB limit per file" in w]


def _tar(src: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tf:
        tf.add(src, arcname=".")
    return dest


# ------------------------------------------------------------------------------------------ malformed objects


def _bad(field: str, value: Any) -> dict[str, Any]:
    p = pod("bad")
    if field == "name-missing":
        del p["metadata"]["name"]
    elif field == "spec.nodeName":
        p["spec"]["nodeName"] = value
    else:
        p["metadata"][field] = value
    return p


MALFORMED = [
    ("namespace", ["mycure-production"], "metadata.namespace is not a string"),
    ("annotations", ["a", "b"], "metadata.annotations is not a map of strings"),
    ("annotations", {"replicas": 3}, "metadata.annotations is not a map of strings"),
    ("ownerReferences", "ReplicaSet/api", "metadata.ownerReferences is not a list of references"),
    ("ownerReferences", [{"kind": "ReplicaSet", "name": "api", "uid": ["x"]}],
     "metadata.ownerReferences is not a list of references"),
    ("labels", "app=api", "metadata.labels is not a map of strings"),
    ("name", 42, "metadata.name is not a string"),
    ("uid", {"a": 1}, "metadata.uid is not a string"),
    ("spec.nodeName", ["node-a"], "spec.nodeName is not a string"),
]


@pytest.mark.parametrize(("field", "value", "why"), MALFORMED, ids=[f"{m[0]}-{type(m[1]).__name__}" for m in MALFORMED])
def test_wrong_types_in_metadata_skip_that_object_only(tmp_path: Path, field: str, value: Any, why: str) -> None:
    write(tmp_path / "pods.json", pod_list(pod("good"), _bad(field, value)))
    write(tmp_path / "bundle.json", CAPTURED)
    snap = load_bundle(tmp_path)
    assert [p["metadata"]["name"] for p in snap.list("Pod")] == ["good"]
    assert [w for w in warnings_about(snap, "pods.json") if w.startswith("pods.json: skipped Pod ") and w.endswith(why)]
    run_checks_and_reports(snap)


def test_an_event_about_a_string_and_a_nameless_object_are_skipped(tmp_path: Path) -> None:
    ev = {"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "BackOff", "message": "m",
          "metadata": {"name": "a.17b2", "namespace": NS, "uid": "e1", "resourceVersion": "9",
                       "creationTimestamp": "2026-11-26T02:00:00Z"},
          "involvedObject": f"Pod/{NS}/good", "lastTimestamp": "2026-11-26T02:58:00Z"}
    write(tmp_path / "events.json", json.dumps({"kind": "EventList", "apiVersion": "v1", "items": [ev]}))
    write(tmp_path / "pods.json", pod_list(pod("good"), _bad("name-missing", None)))
    write(tmp_path / "bundle.json", CAPTURED)
    snap = load_bundle(tmp_path)
    assert snap.count("Event") == 0 and snap.count("Pod") == 1
    assert f"events.json: skipped Event {NS}/a.17b2: involvedObject is not a mapping" in snap.info.warnings
    assert "pods.json: 1 entry without kind or metadata.name skipped" in snap.info.warnings
    run_checks_and_reports(snap)


# ------------------------------------------------------------------------------------------ YAML bombs, depth


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_alone(tmp_path: Path) -> None:
    doc = yaml.safe_dump(pod("before")) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: x}\ndata:\n"
    doc += "".join("  " + line + "\n" for line in billion_laughs().splitlines()) + "---\n" + yaml.safe_dump(pod("after"))
    assert len(billion_laughs()) < 3000
    write(tmp_path / "stream.yaml", doc)
    write(tmp_path / "bundle.json", CAPTURED)
    snap = load_bundle(tmp_path)
    assert sorted(p["metadata"]["name"] for p in snap.list("Pod")) == ["after", "before"]
    assert snap.count("ConfigMap") == 0
    assert [w for w in snap.info.warnings if w.startswith("stream.yaml: document 2 skipped: it expands to more than")]
    run_checks_and_reports(snap)


def _deep(levels: int) -> dict[str, Any]:
    d: dict[str, Any] = {"leaf": True}
    for _ in range(levels - 1):
        d = {"a": d}
    return d


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_300_deep_object_fails_alone_not_its_list(tmp_path: Path, fmt: str) -> None:
    deep = pod("deep")
    deep["metadata"]["annotations"] = {"note": "x"}
    deep["spec"]["extra"] = _deep(300)
    objs = {"apiVersion": "v1", "kind": "List", "items": [pod("a"), deep, pod("b")]}
    write(tmp_path / f"pods.{fmt}", json.dumps(objs) if fmt == "json" else yaml.safe_dump(objs))
    write(tmp_path / "bundle.json", CAPTURED)
    snap = load_bundle(tmp_path)
    assert [p["metadata"]["name"] for p in snap.list("Pod")] == ["a", "b"]
    assert f"pods.{fmt}: skipped Pod {NS}/deep: nested deeper than {bundle_mod.MAX_DEPTH} levels" in snap.info.warnings
    orjson.dumps({"kind": "PodList", "items": snap.list("Pod")})  # what `bundle serve` answers a GET with
    run_checks_and_reports(snap)


def test_depth_bound_keeps_real_deep_objects(tmp_path: Path) -> None:
    """A CRD's openAPIV3Schema is the deepest thing a real cluster holds: far below the bound, never skipped."""
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "deep.example.com", "uid": "c1", "resourceVersion": "5",
                        "creationTimestamp": "2026-11-01T00:00:00Z"},
           "spec": {"group": "example.com", "names": {"kind": "Deep", "plural": "deeps"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": _deep(bundle_mod.MAX_DEPTH - 8)}}]}}
    write(tmp_path / "crds.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [crd]}))
    write(tmp_path / "bundle.json", CAPTURED)
    snap = load_bundle(tmp_path)
    assert snap.count("CustomResourceDefinition") == 1 and snap.info.warnings == []


def test_json_that_is_not_one_document_is_refused_as_such(tmp_path: Path) -> None:
    """The depth test parses a JSON file inside spare arrays; text that closes them early must not slip through."""
    write(tmp_path / "pods.json", pod_list(pod("a")))
    write(tmp_path / "bundle.json", CAPTURED)
    write(tmp_path / "empty.json", "")
    write(tmp_path / "blank.json", "  \n")
    write(tmp_path / "two.json", json.dumps(pod("b")) + "],[" + json.dumps(pod("c")))
    snap = load_bundle(tmp_path)
    assert [p["metadata"]["name"] for p in snap.list("Pod")] == ["a"]
    for name in ("empty.json", "blank.json", "two.json"):
        assert [w for w in snap.info.warnings if w.startswith(f"{name}: skipped, cannot parse")], snap.info.warnings
