"""Attacks on what the operator's terminal receives: an event message or a container's termination message is
written by whoever runs in the cluster, and escape sequences in it (OSC 52 writes the clipboard, CSI 2J clears
the screen, CR overwrites a line, U+202E reverses it) must reach the terminal report, the Markdown report and
`guard run` as visible text, never as control characters."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from sre_expert.diagnosis.engine import diagnose
from sre_expert.edges.cli.main import app
from sre_expert.render.markdown import render_markdown
from sre_expert.render.terminal import render_terminal
from sre_expert.safety.controls import visible_controls
from sre_expert.sources.bundle_reader import load_bundle

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
HOSTILE = "boom \x1b]52;c;ZWNobyBwd25lZA==\x07 \x1b[2J\x1b[8mhidden\x1b[0m\rALL CLEAR \u202eevil"
BAD = ("\x1b", "\x07", "\r", "\u202e")


def _bundle(tmp_path: Path) -> Path:
    pod = json.loads((DATA / "pod-crashloop.json").read_text())
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    term = copy.deepcopy(pod)
    term["status"]["containerStatuses"][0].setdefault("lastState", {}).setdefault("terminated", {})["message"] = HOSTILE
    event = {"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": f"{name}.17f3a2b1c0d4e5f6", "namespace": ns, "uid": "0f4e3d2c-1b0a-4998-8776-655443322110",
                          "creationTimestamp": "2026-11-26T02:59:00Z", "resourceVersion": "48213"},
             "involvedObject": {"kind": "Pod", "name": name, "namespace": ns, "uid": pod["metadata"].get("uid", ""),
                                "apiVersion": "v1", "fieldPath": "spec.containers{api}"},
             "reason": "BackOff", "message": "Back-off restarting failed container " + HOSTILE, "type": "Warning",
             "count": 5, "firstTimestamp": "2026-11-26T02:50:00Z", "lastTimestamp": "2026-11-26T02:59:00Z",
             "source": {"component": "kubelet", "host": "node-1"}, "reportingComponent": "kubelet"}
    root = tmp_path / "bundle"
    (root / "b").mkdir(parents=True)
    (root / "b" / "pod.json").write_text(json.dumps(term))
    (root / "b" / "event.json").write_text(json.dumps(event))
    return root


def test_visible_controls_keeps_text_and_shows_the_rest() -> None:
    assert visible_controls("a\tb\nc") == "a\tb\nc"
    out = visible_controls(HOSTILE)
    assert not any(c in out for c in BAD)
    assert "\\x1b]52" in out and "\\u202e" in out


def test_markdown_report_carries_no_control_characters(tmp_path: Path) -> None:
    md = render_markdown(diagnose(load_bundle(_bundle(tmp_path))))
    assert "ZWNobyBwd25lZA" in md  # the text is still there, visibly
    assert not any(c in md for c in BAD)


def test_terminal_report_carries_only_its_own_styling(tmp_path: Path) -> None:
    buf = io.StringIO()
    render_terminal(diagnose(load_bundle(_bundle(tmp_path))), Console(file=buf, force_terminal=False, width=200))
    out = buf.getvalue()
    assert "ZWNobyBwd25lZA" in out
    assert not any(c in out for c in BAD)


@pytest.mark.e2e
def test_guard_run_output_carries_no_control_characters(tmp_path: Path) -> None:
    """The output of a confirmed command (here printf standing in for `kubectl logs` of a hostile pod)."""
    res = CliRunner().invoke(app, ["guard", "run", "--audit-log", str(tmp_path / "audit.jsonl"), "--yes-i-understand",
                                   "--confirm", "read-only", "--", "printf",
                                   "\\033]52;c;ZWNobyBwd25lZA==\\007 \\033[2J\\r\\342\\200\\256x\\n"])
    assert "ZWNobyBwd25lZA" in res.stdout, res.output
    assert not any(c in res.stdout for c in BAD), repr(res.stdout)
