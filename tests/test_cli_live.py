"""`check` against a live API (here `bundle serve`): the CLI path a user with a kubeconfig takes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from test_cli import EXE, SCHEMA

from sre_expert.edges.apiserver import start_server
from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.e2e


def test_check_live_scoped_to_one_namespace_lists_only_inside_it(tmp_path: Path) -> None:
    with start_server(demo_path()) as server:
        kc = write_kubeconfig(tmp_path / "kubeconfig", server.url)
        r = subprocess.run([EXE, "check", "--kubeconfig", str(kc), "-n", "mycure-production", "-o", "json"],
                           capture_output=True, text=True, timeout=180, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
        log = list(server.request_log)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["source"] == "live"
    assert any(f["code"] == "POD-STORAGE-CORRUPTION" and f["rootCause"] for f in doc["findings"])
    assert any(f["code"] == "POD-OOMKILLED" and not f["rootCause"] for f in doc["findings"])
    pod_lists = [p for m, p, _ in log if m == "GET" and "/pods" in p and "/log" not in p]
    assert pod_lists and all("/namespaces/mycure-production/pods" in p for p in pod_lists), pod_lists
