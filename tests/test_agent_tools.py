"""Read / Grep / Glob stay inside --repo (no `..`, no absolute paths, no symlinks out, no binaries, capped),
and through the agent every answer is wrapped as untrusted data and redacted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic_ai import models

from sre_expert.edges.agent.boundary import Boundary
from sre_expert.edges.agent.definition import load_definition
from sre_expert.edges.agent.loop import AgentSession, ScriptedApprover
from sre_expert.edges.agent.scripted import Script, call, last_tool_result
from sre_expert.edges.agent.tools import (
    GLOB_MAX_ENTRIES,
    GREP_MAX_LINE_CHARS,
    GREP_MAX_MATCHES,
    GREP_MAX_PATTERN_CHARS,
    AgentTools,
    ToolInputError,
    glob_files,
    grep_files,
    inside,
    read_file,
)
from sre_expert.safety.audit import AuditLog

pytestmark = pytest.mark.unit

VALUES = """\
tls:
  certManager:
    clusterIssuer: letsencrypt-mycure-cloudflare-prod
mongodb:
  auth:
    rootPassword: Zq8!vK2#pL9@wX4m
contact: oncall.lead@example.org
"""


@pytest.fixture(autouse=True)
def no_model_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "gitops"
    (root / "values" / "infrastructure").mkdir(parents=True)
    (root / "values" / "infrastructure" / "main.yaml").write_text(VALUES)
    (root / "values" / "deployments").mkdir()
    for i in range(3):
        (root / "values" / "deployments" / f"tenant-{i}.yaml").write_text(f"name: tenant-{i}\nreplicas: {i + 1}\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0IHDR")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("replicas: outside-the-repo\n")
    (root / "escape.txt").symlink_to(outside / "secret.txt")
    (root / "escape-dir").symlink_to(outside, target_is_directory=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("replicas: in-git-dir\n")
    return root


def test_read_with_line_numbers_and_paging(repo: Path) -> None:
    out = read_file(repo, "values/infrastructure/main.yaml", offset=2, limit=2)
    assert out.splitlines()[0] == "values/infrastructure/main.yaml (lines 2-3 of 7)"
    assert "     3\t    clusterIssuer: letsencrypt-mycure-cloudflare-prod" in out
    assert "Read again with offset=4" in out


@pytest.mark.parametrize("path", ["../outside/secret.txt", "escape.txt", "escape-dir/secret.txt", "/etc/passwd",
                                  "values/../../outside/secret.txt"])
def test_paths_leaving_the_repository_are_refused(repo: Path, path: str) -> None:
    with pytest.raises(ToolInputError, match="outside the repository"):
        read_file(repo, path)
    with pytest.raises(ToolInputError, match="outside the repository"):
        inside(repo, path)


def test_binary_and_missing_files(repo: Path) -> None:
    with pytest.raises(ToolInputError, match="binary file"):
        read_file(repo, "logo.png")
    with pytest.raises(ToolInputError, match="not a file"):
        read_file(repo, "values")


@pytest.mark.e2e
def test_read_and_grep_never_open_a_fifo(repo: Path) -> None:
    """A FIFO named like a manifest blocks any reader until something writes to it (issue 12): Read refuses
    it and Grep passes over it, and neither waits (a hang would end in Grep's 10 s deadline message)."""
    fifo = repo / "values" / "pipe.yaml"
    os.mkfifo(fifo)
    (repo / "values" / "link-to-pipe.yaml").symlink_to(fifo)
    for name in ("values/pipe.yaml", "values/link-to-pipe.yaml"):
        with pytest.raises(ToolInputError, match="not a file"):
            read_file(repo, name)
    out = grep_files(repo, r"replicas:", timeout=30)
    assert "values/deployments/tenant-0.yaml:2: replicas: 1" in out and "pipe" not in out
    assert grep_files(repo, r"replicas:", path="values/pipe.yaml") == "no match for 'replicas:'"


@pytest.mark.e2e
def test_grep_skips_symlinks_out_binaries_and_git(repo: Path) -> None:
    out = grep_files(repo, r"replicas:")
    assert "values/deployments/tenant-0.yaml:2: replicas: 1" in out
    assert "outside-the-repo" not in out and "in-git-dir" not in out
    assert "clusterIssuer" in grep_files(repo, "CLUSTERISSUER", ignore_case=True)
    assert grep_files(repo, "replicas", glob="*.md") == "no match for 'replicas'"
    with pytest.raises(ToolInputError, match="invalid regular expression"):
        grep_files(repo, "([")


@pytest.mark.e2e
def test_grep_and_glob_are_capped(repo: Path) -> None:
    many = repo / "many"
    many.mkdir()
    for i in range(GLOB_MAX_ENTRIES + 5):
        (many / f"f{i:04}.yaml").write_text("x: 1\n" * 2)
    g = glob_files(repo, "many/*.yaml")
    assert len(g.splitlines()) == GLOB_MAX_ENTRIES + 1 and "stopped at" in g
    m = grep_files(repo, "x: 1", path="many")
    assert len(m.splitlines()) == GREP_MAX_MATCHES + 1 and "narrow the pattern" in m


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*b", r"(?:\w+\s?)+$", r"(x|a{1,3})+!"])
def test_grep_refuses_nested_repetition_at_once(repo: Path, pattern: str) -> None:
    """The classic catastrophic shape is refused before anything is searched (the line would take forever)."""
    (repo / "aaa.txt").write_text("a" * 5_000 + "!\n")
    with pytest.raises(ToolInputError, match="a repetition inside a repetition"):
        grep_files(repo, pattern)


@pytest.mark.e2e
def test_grep_refuses_a_long_pattern(repo: Path) -> None:
    with pytest.raises(ToolInputError, match=f"longer than {GREP_MAX_PATTERN_CHARS} characters"):
        grep_files(repo, "x" * (GREP_MAX_PATTERN_CHARS + 1))
    assert grep_files(repo, "x" * GREP_MAX_PATTERN_CHARS) == f"no match for {'x' * GREP_MAX_PATTERN_CHARS!r}"


@pytest.mark.e2e
def test_grep_stops_an_exponential_search_at_its_deadline(repo: Path) -> None:
    """`(a|aa)*c` has no nested repetition yet backtracks exponentially: the child search is killed at the
    deadline and the model is told to simplify (what is asserted is the message, not a duration)."""
    (repo / "aaa.txt").write_text("a" * 80 + "\n")
    with pytest.raises(ToolInputError, match=r"stopped: searching for '\(a\|aa\)\*c' took longer than 0.5 s"):
        grep_files(repo, "(a|aa)*c", timeout=0.5)
    assert "aaa.txt:1: aaaa" in grep_files(repo, "(a|aa)+$", timeout=30)  # the same file, a cheap pattern


@pytest.mark.e2e
def test_grep_searches_the_start_of_long_lines_only(repo: Path) -> None:
    (repo / "long.txt").write_text("head " + "x" * (GREP_MAX_LINE_CHARS + 100) + " tail\n")
    out = grep_files(repo, "head")
    assert out.startswith("long.txt:1: head xxx") and len(out) < 400  # the line shown is cut too
    assert grep_files(repo, "tail") == "no match for 'tail'"


def test_a_refused_grep_reaches_the_model_as_an_error(repo: Path, tmp_path: Path) -> None:
    tools = AgentTools(toolbox=None, boundary=Boundary(), audit=AuditLog(tmp_path / "audit.log"), repo=repo)
    script = Script([call("Grep", pattern="(a+)+$"), "done"])
    AgentSession(load_definition(), script.model(), tools).ask("find it", ScriptedApprover([]))
    result = last_tool_result(script.received[1])
    assert "error: refused '(a+)+$': a repetition inside a repetition" in result


def test_glob_lists_inside_only(repo: Path) -> None:
    out = glob_files(repo, "**/*.yaml")
    assert "values/infrastructure/main.yaml" in out
    assert "secret" not in out and ".git" not in out
    with pytest.raises(ToolInputError):
        glob_files(repo, "../*")


@pytest.mark.e2e
def test_file_tools_through_the_agent_are_redacted_and_wrapped(repo: Path, tmp_path: Path) -> None:
    tools = AgentTools(toolbox=None, boundary=Boundary(), audit=AuditLog(tmp_path / "audit.log"), repo=repo)
    script = Script([call("Read", path="values/infrastructure/main.yaml"),
                     call("Read", path="../outside/secret.txt"),
                     call("Grep", pattern="rootPassword"),
                     "done"])
    AgentSession(load_definition(), script.model(), tools).ask("where is the issuer set?", ScriptedApprover([]))
    read, escape, grep = (last_tool_result(m) for m in script.received[1:4])
    assert read.startswith('<tool_result tool="Read" trust="untrusted">') and "letsencrypt-mycure-cloudflare-prod" in read
    assert "Zq8!vK2#pL9@wX4m" not in script.sent_text() and "oncall.lead@example.org" not in script.sent_text()
    assert "outside the repository" in escape and "outside-the-repo" not in escape
    assert "rootPassword" in grep


def test_file_tools_are_not_offered_without_a_repository(tmp_path: Path) -> None:
    tools = AgentTools(toolbox=None, boundary=Boundary(), audit=AuditLog(tmp_path / "audit.log"))
    script = Script(["nothing to read"])
    AgentSession(load_definition(), script.model(), tools).ask("q", ScriptedApprover([]))
    offered = script.tools_seen[0]
    assert "Bash" in offered and "check" in offered
    assert not {"Read", "Grep", "Glob"} & set(offered)


def test_live_shell_env_keeps_cloud_credentials_but_not_the_model_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from sre_expert.edges.agent.tools import live_shell_env

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-oa-1")
    monkeypatch.setenv("MY_LLM_KEY", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws")  # kubectl's EKS exec plugin needs it
    env = live_shell_env("~/kc", drop=("MY_LLM_KEY",))
    assert "ANTHROPIC_API_KEY" not in env and "OPENAI_API_KEY" not in env and "MY_LLM_KEY" not in env
    assert env["AWS_SECRET_ACCESS_KEY"] == "aws" and env["KUBECONFIG"].endswith("/kc")
