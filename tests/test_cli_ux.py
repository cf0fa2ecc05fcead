"""What an engineer expects from a CLI (issue 15): --version, completion, a config file, the environment
documented, and error messages that say what happened in one sentence, run as a user runs them."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


def run(*args: str, env: dict[str, str] | None = None, stdin: str = "", cwd: Path | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run([EXE, *args], capture_output=True, text=True, input=stdin, env=full, cwd=cwd,
                          timeout=timeout)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kubeconfig(tmp_path: Path, port: int, current: str = "prod") -> Path:
    """A kubeconfig with two contexts whose servers refuse connections (the shape kubectl writes)."""
    kc = tmp_path / "kubeconfig"
    kc.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: prod-cluster
  cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
- name: staging-cluster
  cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
contexts:
- name: prod
  context: {{cluster: prod-cluster, user: admin}}
- name: staging
  context: {{cluster: staging-cluster, user: admin, namespace: lfh-staging}}
current-context: {current}
users:
- name: admin
  user: {{token: not-a-real-token}}
preferences: {{}}
""")
    return kc


def no_traceback(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr


# -- 1. version, completion, checks CODE, config file, environment ---------------------------------------

def test_version_flag_prints_the_version() -> None:
    from sre_expert import __version__

    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"sre-expert {__version__}"


def test_shell_completion_is_offered_and_prints_a_script() -> None:
    r = run("--help", env={"COLUMNS": "200"})
    assert "--install-completion" in r.stdout and "--show-completion" in r.stdout
    # --show-completion prints the script of the shell it runs under, found among its parent processes: run
    # it from bash (`; true` keeps bash from exec-ing it), not from whatever started the test run (init, make)
    r = subprocess.run(["bash", "-c", f"'{EXE}' --show-completion; true"], capture_output=True, text=True,
                       timeout=60)
    assert "complete" in r.stdout and "_SRE_EXPERT_COMPLETE" in r.stdout, r.stderr


def test_checks_code_is_case_insensitive_and_suggests_a_close_code() -> None:
    r = run("checks", "pod-crashloop")
    assert r.returncode == 0 and r.stdout.startswith("POD-CRASHLOOP")
    r = run("checks", "pod-crashlop")
    assert r.returncode == 2 and "did you mean POD-CRASHLOOP?" in r.stderr
    no_traceback(r)


def test_config_file_gives_live_defaults_and_flags_win(tmp_path: Path) -> None:
    refused = closed_port()
    kc = kubeconfig(tmp_path, refused)
    other = tmp_path / "other"
    other.mkdir()
    kubeconfig(other, refused)
    xdg = tmp_path / "xdg"
    (xdg / "sre-expert").mkdir(parents=True)
    (xdg / "sre-expert" / "config.yaml").write_text(f"context: nope\nkubeconfig: {kc}\nnamespace: [lfh-staging]\n")
    env = {"XDG_CONFIG_HOME": str(xdg), "KUBECONFIG": ""}
    # the file's context and kubeconfig are used: its unknown context is reported against its kubeconfig
    r = run("check", env=env)
    assert r.returncode == 2 and "--context nope" in r.stderr and str(kc) in r.stderr, r.stderr
    # a flag wins over the file
    r = run("check", "--context", "staging", env=env)
    assert r.returncode == 2 and "connection refused" in r.stderr and "--context" not in r.stderr, r.stderr
    # another --kubeconfig means other clusters: the file's context is not forced on it
    r = run("check", "--kubeconfig", str(other / "kubeconfig"), env=env)
    assert "--context nope" not in r.stderr and "connection refused" in r.stderr, r.stderr
    # the file describes a live cluster: the demo ignores it (no namespace filter either)
    demo = run("check", "--demo", "-o", "json", env=env)
    plain = run("check", "--demo", "-o", "json", env={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert demo.stdout == plain.stdout and demo.returncode == plain.returncode == 1


def test_config_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    from sre_expert.edges.cli.user_config import ConfigError, Defaults, apply, parse_defaults

    xdg = tmp_path / "xdg"
    (xdg / "sre-expert").mkdir(parents=True)
    cfg = xdg / "sre-expert" / "config.yaml"
    cfg.write_text("contxt: prod\n")
    r = run("check", env={"XDG_CONFIG_HOME": str(xdg)})
    assert r.returncode == 2 and str(cfg) in r.stderr and "unknown key contxt" in r.stderr
    no_traceback(r)
    with pytest.raises(ConfigError, match="'namespace' must be"):
        parse_defaults({"namespace": 3}, "f")
    with pytest.raises(ConfigError, match="http"):
        parse_defaults({"prometheus": "prometheus:9090"}, "f")
    d = parse_defaults({"context": "prod", "namespace": "a, b", "prometheus": "http://p:9090", "model": "sonnet"}, "f")
    assert d == Defaults("prod", None, "http://p:9090", ("a", "b"), "f")
    got = apply(d, bundle=None, demo=False, context=None, kubeconfig=None, prometheus=None, namespaces=None)
    assert (got.context, got.prometheus, got.namespaces) == ("prod", "http://p:9090", ("a", "b"))
    got = apply(d, bundle="snap.tar.gz", demo=False, context=None, kubeconfig=None, prometheus=None, namespaces=None)
    assert (got.context, got.prometheus, got.namespaces) == (None, None, ())


def test_help_says_where_the_config_file_is_read_from() -> None:
    r = run("--help", env={"COLUMNS": "200"})
    text = re.sub(r"\s+", " ", r.stdout)
    assert "$XDG_CONFIG_HOME/sre-expert/config.yaml" in text and "flags win" in text


def _env_reads() -> set[str]:
    """Every environment variable a module of src/ reads by name."""
    pattern = re.compile(r"""(?:environ|env)(?:\.get\(|\[)["']([A-Z][A-Z0-9_]+)["']|getenv\(["']([A-Z][A-Z0-9_]+)["']""")
    names: set[str] = set()
    for p in (ROOT / "src").rglob("*.py"):
        for a, b in pattern.findall(p.read_text(encoding="utf-8")):
            names.add(a or b)
    return names


def test_every_environment_variable_read_is_documented_in_readme_and_help() -> None:
    from sre_expert.edges.cli.main import ENVIRONMENT

    read = _env_reads()
    assert {"KUBECONFIG", "SRE_EXPERT_TOKEN", "SRE_EXPERT_AUDIT_LOG", "XDG_CONFIG_HOME"} <= read  # the grep works
    documented = {name for name, _ in ENVIRONMENT}
    assert read <= documented, f"not documented: {sorted(read - documented)}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Environment and configuration", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{name}`" in section for name in documented), [n for n in documented if f"`{n}`" not in section]
    text = re.sub(r"\s+", " ", run("--help", env={"COLUMNS": "200"}).stdout)
    assert all(name in text for name in documented)


# -- 2. error messages --------------------------------------------------------------------------------------

def test_a_refused_connection_is_reported_as_refused(tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path, closed_port())
    r = run("check", "--kubeconfig", str(kc), env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert r.returncode == 2 and "connection refused" in r.stderr and "timed out" not in r.stderr, r.stderr
    no_traceback(r)


def test_connect_error_names_refusal_and_dns() -> None:
    import urllib3

    from sre_expert.sources.live_http import connect_error

    for url, want in ((f"http://127.0.0.1:{closed_port()}/", "connection refused"),
                      ("http://no-such-host.invalid/", "host name not resolved")):
        with pytest.raises(urllib3.exceptions.HTTPError) as e:
            urllib3.PoolManager(retries=False).request("GET", url, timeout=5)
        assert connect_error(e.value) == want


def test_unknown_context_lists_the_kubeconfig_contexts(tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path, closed_port())
    r = run("check", "--kubeconfig", str(kc), "--context", "prd", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert r.returncode == 2
    assert "--context prd" in r.stderr and "did you mean prod?" in r.stderr and "prod, staging" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Expected object" not in r.stderr


def test_a_kubeconfig_without_current_context_works_with_context_and_says_so_without(tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path, closed_port())
    kc.write_text("\n".join(ln for ln in kc.read_text().splitlines() if not ln.startswith("current-context")))
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    r = run("check", "--kubeconfig", str(kc), "--context", "staging", env=env)  # as kubectl --context does
    assert r.returncode == 2 and "connection refused" in r.stderr, r.stderr
    r = run("check", "--kubeconfig", str(kc), env=env)
    assert r.returncode == 2 and "no current-context: pass --context (its contexts: prod, staging)" in r.stderr
    r = run("check", "--kubeconfig", str(kc), "--context", "stagin", env=env)
    assert "did you mean staging?" in r.stderr


@pytest.mark.parametrize("content, reason", [
    (b"this is not an archive at all" * 4, "not a gzip file"),
    (b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"garbage-after-a-gzip-header", "zlib error"),
])
def test_a_corrupt_tar_gz_is_one_sentence(tmp_path: Path, content: bytes, reason: str) -> None:
    f = tmp_path / "snap.tar.gz"
    f.write_bytes(content)
    r = run("check", "--bundle", str(f))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "not a readable gzip-compressed tar archive" in r.stderr and reason in r.stderr
    assert "method bz2" not in r.stderr
    no_traceback(r)


def test_lint_crds_that_do_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    r = run("lint", str(ROOT / "examples" / "platform-repo"), "--crds", str(tmp_path / "nonexistent"))
    assert r.returncode == 2 and "--crds" in r.stderr and "no such directory" in r.stderr
    no_traceback(r)


def test_serve_port_out_of_range_is_one_sentence() -> None:
    r = run("serve", "--demo", "--insecure-no-auth", "--port", "99999")
    assert r.returncode == 2 and "--port" in r.stderr and "65535" in r.stderr
    no_traceback(r)


def test_bundle_collect_refuses_an_unknown_extension(tmp_path: Path) -> None:
    r = run("bundle", "collect", "-o", str(tmp_path / "out.zip"), "--kubeconfig", str(kubeconfig(tmp_path, 1)))
    assert r.returncode == 2 and ".zip" in r.stderr and ".tar.gz" in r.stderr
    assert not (tmp_path / "out.zip").exists()
    no_traceback(r)


def test_bundle_collect_keeps_an_existing_archive_without_force(tmp_path: Path) -> None:
    existing = tmp_path / "prod.tar.gz"
    with tarfile.open(existing, "w:gz"):
        pass
    before = existing.read_bytes()
    kc = kubeconfig(tmp_path, closed_port())
    r = run("bundle", "collect", "-o", str(existing), "--kubeconfig", str(kc))
    assert r.returncode == 2 and "--force" in r.stderr and existing.read_bytes() == before
    # with --force it goes on to read the cluster (which refuses here): the check passed
    r = run("bundle", "collect", "-o", str(existing), "--kubeconfig", str(kc), "--force")
    assert r.returncode == 2 and "connection refused" in r.stderr and existing.read_bytes() == before


def test_bundle_collect_asks_on_a_terminal_before_overwriting(tmp_path: Path) -> None:
    """On a terminal the question is asked; "n" keeps the file and reads nothing (exit 1)."""
    import select

    existing = tmp_path / "prod.tar.gz"
    with tarfile.open(existing, "w:gz"):
        pass
    before = existing.read_bytes()
    master, slave = os.openpty()
    proc = subprocess.Popen([EXE, "bundle", "collect", "-o", str(existing), "--kubeconfig",
                             str(kubeconfig(tmp_path, closed_port()))],
                            stdin=slave, stderr=slave, stdout=subprocess.PIPE, env={**os.environ, "COLUMNS": "200"})
    os.close(slave)
    seen = b""
    try:
        while b"Overwrite it?" not in seen:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, f"no question asked: {seen!r}"
            seen += os.read(master, 4096)
        os.write(master, b"n\n")
        assert proc.wait(timeout=60) == 1
        while select.select([master], [], [], 0.5)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert b"was kept" in seen and existing.read_bytes() == before
