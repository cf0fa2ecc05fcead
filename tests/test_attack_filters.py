"""Attacks on the execution gate's filter stages: a line the gate admits must not make a filter read a file.

Each attack is proven against the real program first (the file's content reaches its output when the line
runs), then shown refused by the gate and by the MCP door that runs admitted lines unasked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sre_expert.edges.mcp_server import run_read_only
from sre_expert.safety.gate import admit

MARK = "ATTACK-MARKER-7f3c"

pytestmark = [pytest.mark.e2e, pytest.mark.needs("jq", trusted=True)]


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    p = tmp_path / "notes.txt"
    p.write_text(MARK + "\n")
    return p


def _jq_file_reads(f: Path) -> list[str]:
    """jq lines that the gate's old argument split saw as `jq PROGRAM` but jq reads `f` as an input file:
    `--indent` takes the `--arg` that the split dropped with its two values, and `--` (after the program in
    jq 1.6, anywhere in 1.7) makes the following `--arg NAME VALUE` plain file names."""
    return [
        f"echo x | jq -R --indent --arg tojson {f} 2 .",
        f"echo x | jq -R . -- --arg a {f}",
        f"echo x | jq -R -- . --arg a {f}",
        f"echo x | jq -R --indent --argjson tojson {f} 2 .",
    ]


def test_jq_reads_the_file_when_run(secret_file: Path) -> None:
    """The attack is real: run by hand (no gate), at least the first spelling leaks the file."""
    line = _jq_file_reads(secret_file)[0]
    out = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30).stdout
    assert MARK in out


@pytest.mark.parametrize("n", range(4))
def test_gate_refuses_jq_lines_that_read_files(secret_file: Path, n: int) -> None:
    line = _jq_file_reads(secret_file)[n]
    a = admit(line)
    assert not a.admitted, line


@pytest.mark.parametrize("n", range(4))
def test_mcp_run_command_does_not_leak_a_file_through_jq(secret_file: Path, tmp_path: Path, n: int) -> None:
    line = _jq_file_reads(secret_file)[n]
    res = run_read_only(line, audit_path=tmp_path / "audit.jsonl", timeout=30)
    assert res["ran"] is False
    assert MARK not in str(res)


def test_jq_dollar_space_env_is_refused() -> None:
    """jq 1.6 reads `$ ENV` (space after `$`) as `$ENV`; the forbidden-word check must see it too."""
    assert not admit("echo x | jq '$ ENV'").admitted
    assert not admit("echo x | jq '$  ENV.HOME'").admitted


def test_jq_ordinary_lines_still_run() -> None:
    for line in ("kubectl get pods -o json | jq --indent 2 .items",
                 "kubectl get pods -o json | jq -r --arg n web '.items[] | select(.metadata.name == $n)'",
                 "kubectl get pods -o json | jq --argjson k 1 '.items[$k]'",
                 "echo x | jq -R '.env'"):
        assert admit(line).admitted, line



# ------------------------------------------------------------------------------------------ unbounded output

FLOOD = "echo x | jq -n -r 'repeat(\"" + "x" * 200 + "\")'"


def test_an_endless_admitted_pipeline_stops_at_the_output_cap(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`jq -n 'repeat(…)'` is admitted and never ends; captured whole, its output grew sre-expert's memory
    by tens of MB a second until the timeout (60 s for MCP, 900 s for guard run). It must be cut at the
    cap, the process group killed, and the cut said."""
    from sre_expert.safety import execute

    assert admit(FLOOD).admitted
    monkeypatch.setattr(execute, "MAX_AUTO_OUTPUT_BYTES", 1 << 20, raising=False)
    res = run_read_only(FLOOD, audit_path=tmp_path / "audit.jsonl", timeout=20)
    assert res["ran"] is True
    assert res["exitCode"] is None
    assert "output limit" in res.get("error", ""), res.get("error")
    audit = (tmp_path / "audit.jsonl").read_text()
    assert "output limit" in audit


def test_a_filter_cannot_take_unbounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`jq -n '[range(N)]'` is admitted and allocates without bound (range(1e9) is ~16 GB on a machine that
    runs other work). Filter stages get an address-space limit; here lowered to 256 MiB so the 560 MB the
    line below needs is refused by the kernel instead of handed out."""
    from sre_expert.safety import execute

    line = "echo x | jq -n '[range(2e7)] | length'"
    assert admit(line).admitted
    monkeypatch.setattr(execute, "MAX_FILTER_MEMORY_BYTES", 256 << 20, raising=False)
    res = run_read_only(line, audit_path=tmp_path / "audit.jsonl", timeout=60)
    assert res["ran"] is True
    assert "20000000" not in res["stdout"]
    assert res["exitCode"] not in (0, None), res


# ------------------------------------------------------------------------------------------ keyless extraction

KEYLESS = [
    """kubectl get pod api-0 -o jsonpath='{.spec.containers[0].env[?(@.name=="DB_PASSWORD")].value}'""",
    "kubectl get configmap app -o jsonpath='{.data.password}'",
    "kubectl get configmap app -o go-template --template='{{.data.apiKey}}'",
    "kubectl get pods -o jsonpath='{.items[*].spec.containers[*].env[*].value}'",
    "kubectl get pods -o json | jq -r '.items[].spec.containers[].env[]?.value'",
    """kubectl get pods -o json | jq -r '.items[].spec.containers[].env[] | select(.name=="DB_PASSWORD") | .value'""",
    "kubectl get pods -o json | jq -r --arg k DB_PASSWORD '.items[].spec.containers[].env[] | select(.name==$k)'",
    "kubectl get pods -o yaml | grep -A1 DB_PASSWORD | tail -n 1 | cut -d: -f2",
]


@pytest.mark.parametrize("line", KEYLESS)
def test_output_that_strips_the_key_of_a_secret_value_is_not_unasked(line: str) -> None:
    """jsonpath, templates, jq and grep|cut print a value without its key; redaction decides by the key, so
    `hunter2hunter2` printed alone reached the model. Such a line is not run without confirmation."""
    from sre_expert.safety.redact import redact_command_output

    assert redact_command_output(line, "hunter2hunter2\n") == "hunter2hunter2\n"  # why: nothing to go by
    assert not admit(line).admitted


def test_everyday_jsonpath_and_jq_still_run() -> None:
    for line in ("kubectl get pods -o jsonpath='{.items[*].metadata.name}'",
                 "kubectl get pods -o json | jq -r '.items[] | .spec.serviceAccountName'",
                 "kubectl get pods -o json | jq '.items[].spec.automountServiceAccountToken'",
                 "kubectl get pods -o json | jq '.items[].spec.containers[].env'",
                 "kubectl get pods -o yaml | grep -n image"):
        assert admit(line).admitted, line
