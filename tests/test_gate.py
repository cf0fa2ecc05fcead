"""The execution gate (`safety.gate`): what may run without the operator's confirmation.

Tables of admitted and refused lines cover every attack class of issue 12 (shell features the guard's parser
does not model, program options that execute or write, environment that loads code, secret printers), the
flag spellings the programs themselves accept (kubectl's `_`, GNU long-option prefixes, pflag short
clusters and `=`), the preview rule, the environment the product builds, and the pipeline runner. A
hypothesis property checks that whatever the gate admits is argv of allow-listed programs and flags only."""

from __future__ import annotations

import os
import random
import shlex
import stat
import tempfile
from pathlib import Path

import programs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from sre_expert.runbooks.library import fill, load_runbooks
from sre_expert.safety import gate
from sre_expert.safety.audit import AuditLog
from sre_expert.safety.confirm import ScriptedConfirmer
from sre_expert.safety.execute import _run_stages, run_guarded
from sre_expert.safety.gate import (
    FILTERS,
    READ_VERBS,
    ExecPolicy,
    GnuSpec,
    NotAdmitted,
    admit,
    confirmed_env,
    parse_gnu,
    parse_kubectl,
    preview_argv,
    resolve_long,
    split_words,
)

pytestmark = pytest.mark.unit

set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "sre-expert-hypothesis"))


ADMITTED = [
    "kubectl get pods -n mycure-production -o wide",
    "kubectl -n mycure-production get pods",
    "kubectl get pods -A -o json | jq -r '.items[].metadata.name' | sort | uniq -c | sort -rn | head -5",
    "kubectl get pods --all_namespaces",  # kubectl normalises _ to - in flag names
    "kubectl get po -Ao wide",  # pflag short cluster: -A, then -o with the rest of the word
    "kubectl get po -nprod",
    "kubectl get po -n=prod",
    "kubectl get secrets -n x",  # the table: name, type, number of keys
    "kubectl get secret db -n x -o name",
    "kubectl get externalsecret,secret -n cert-manager",
    "kubectl describe secret db -n x",  # describe prints sizes, not values
    "kubectl get deploy/api -n x -o yaml",
    "kubectl get backups.velero.io -n velero --sort-by=.status.startTimestamp -o json",
    "kubectl get pod p -n x -o jsonpath='{range .spec.containers[*]}{.name}{\"\\t\"}{.image}{\"\\n\"}{end}'",
    "kubectl get events -n x --field-selector involvedObject.name=p --sort-by=.lastTimestamp",
    "kubectl logs p -n x --previous --all-containers=true --tail=100",
    "kubectl logs deployment/api -n x --since=1h | grep -iE 'error|fatal' | tail -n 20",
    "kubectl top pods -A --containers",
    "kubectl get pods -A --field-selector=status.phase!=Running,status.phase!=Succeeded",
    "kubectl explain deployment.spec.strategy --recursive",
    "kubectl api-resources -o wide",
    "kubectl version -o json | jq .serverVersion",
    "kubectl cluster-info",
    "kubectl events -n x --for pod/p",
    "kubectl auth can-i delete pods -n x",
    "kubectl get pods | grep -v Running | wc -l",
    "kubectl get pods | sort --rev",  # an unambiguous prefix of --reverse
    "kubectl get pods | cut -d ' ' -f 1 | tr -s ' '",
    "kubectl get pods -o json | jq --arg ns x '.items[] | select(.metadata.namespace == $ns) | .metadata.name'",
    "kubectl get pods -o json | jq '.items[].spec.containers[].env'",  # a field, not jq's env builtin
    "echo hello",
]

NOT_ADMITTED = [
    # shell features: brace expansion, arithmetic, substitution, parameters, globs, lists, redirections
    ("kubectl delete ns prod --dry-run=server {--dry-run=none,}", "'{'"),
    ("kubectl get pods {--dry-run=none,}", "'{'"),
    ("find /tmp/x {-delete,}", "'{'"),
    ("let 'x[$(touch /tmp/m)]=1'", "program 'let'"),
    ("[[ a -eq 'x[$(touch /tmp/m)]' ]]", "'['"),
    ("printf -v 'x[$(touch /tmp/m)]' 1", "program 'printf'"),
    ("declare -i x='a[$(touch /tmp/m)]'", "program 'declare'"),
    ("echo $((x))", "'$'"),
    ("echo ${x@P}", "'$'"),
    ("echo \"$(touch /tmp/m)\"", "inside double quotes"),
    ("echo `touch /tmp/m`", "'`'"),
    ("echo $'\\x41'", "'$'"),
    ("kubectl get pods; touch /tmp/m", "';'"),
    ("kubectl get pods && touch /tmp/m", "'&'"),
    ("kubectl get pods || touch /tmp/m", "'||'"),
    ("kubectl get pods |& grep x", "'|&'"),
    ("kubectl get pods > /tmp/out", "'>'"),
    ("kubectl get pods < /tmp/in", "'<'"),
    ("kubectl get pods | grep x*", "'*'"),
    ("kubectl get pods ~/x", "'~'"),
    ("kubectl get pods -n !!", "'!'"),
    ("kubectl get pods -n !-1", "'!'"),
    ("kubectl get pods # comment", "'#'"),
    ("(kubectl get pods)", "'('"),
    ("kubectl get pods\ntouch /tmp/m", "control"),
    ("kubectl get pods | ", "empty"),
    ("kubectl get 'pods", "unterminated"),
    ("echo \\x", "'\\\\'"),
    # kubectl: writes in every spelling, and flags that leave the cluster or print credentials
    ("kubectl delete ns prod", "verb 'delete'"),
    ("kubectl get pods --dry_run=none", "--dry-run"),
    ("kubectl scale deploy api --replicas=0", "verb 'scale'"),
    ("kubectl kustomize --helm-command=/tmp/x .", "verb 'kustomize'"),
    ("kubectl get pods --kubeconfig /tmp/kc", "--kubeconfig"),
    ("kubectl --kubeconfig=/tmp/kc get pods", "--kubeconfig"),
    ("kubectl get pods --server https://evil", "--server"),
    ("kubectl get pods -s https://evil", "flag -s"),
    ("kubectl get pods --token abc", "--token"),
    ("kubectl get pods --as system:admin", "--as"),
    ("kubectl get pods --context prod", "--context"),
    ("kubectl get pods -v 9", "flag -v"),
    ("kubectl get pods --v=9", "--v"),
    ("kubectl get pods --cache-dir /tmp/c", "--cache-dir"),
    ("kubectl get pods --profile cpu --profile-output /tmp/p", "--profile"),
    ("kubectl get --raw /api/v1/namespaces/x/secrets", "--raw"),
    ("kubectl get -f /etc/kubernetes/admin.conf", "flag -f"),
    ("kubectl get pods -w", "flag -w"),
    ("kubectl logs -f p", "flag -f"),
    ("kubectl logs p --follow", "--follow"),
    ("kubectl config view --raw", "verb 'config'"),
    ("kubectl config view --flatten", "verb 'config'"),
    ("kubectl create token default", "verb 'create'"),
    ("kubectl create --raw /api/v1/namespaces/x/serviceaccounts/default/token -f -", "verb 'create'"),
    ("kubectl set env deploy/api --list --resolve", "verb 'set'"),
    ("kubectl exec api-0 -- env", "verb 'exec'"),
    ("kubectl cluster-info dump", "cluster-info"),
    ("kubectl auth reconcile -f x", "flag -f"),
    ("kubectl auth reconcile x", "only `auth can-i"),
    ("kubectl frobnicate", "verb 'frobnicate'"),  # kubectl would run the plugin kubectl-frobnicate
    ("kubectl get frobs", "not one sre-expert can resolve"),
    ("kubectl get foos.example.com", "not one sre-expert can resolve"),
    # Secrets printed in every spelling
    ("kubectl get secret db -o yaml", "Secret values"),
    ("kubectl get -o yaml -- secrets", "Secret values"),
    ("kubectl get secrets -oyaml", "Secret values"),
    ("kubectl get secrets -o=json", "Secret values"),
    ("kubectl get secrets --output=jsonpath={.items[0].data}", "'{'"),
    ("kubectl get secrets --output='jsonpath={.items[0].data}'", "Secret values"),
    ("kubectl get Secret.v1. db -o json", "Secret values"),
    ("kubectl get SECRETS -o yaml", "Secret values"),
    ("kubectl get pods,secrets -o yaml", "Secret values"),
    ("kubectl get secret/db -o go-template='{{.data}}'", "Secret values"),
    ("kubectl get secrets -o custom-columns=D:.data", "Secret values"),
    ("kubectl get secrets --template='{{.data}}'", "Secret values"),
    ("kubectl get secrets --sort-by=.data.password", "Secret values"),  # the order would leak the values
    ("kubectl get secret db -o yaml | gzip | zcat", "Secret values"),
    ("kubectl get pods -o jsonpath-file=/etc/shadow", "output format"),
    ("kubectl get pods -o custom-columns-file=/etc/shadow", "output format"),
    # programs that execute or write through their options: not on the list at all
    ("sed -n 1p x", "program 'sed'"),
    ("kubectl get pods | sed e", "'sed' is not an allowed filter"),
    ("kubectl get pods | sed 's/x/touch m/e'", "'sed' is not an allowed filter"),
    ("kubectl get pods | sed --in=x p", "'sed' is not an allowed filter"),
    ("env -S 'touch /tmp/m'", "program 'env'"),
    ("kubectl get pods | env --split-string='touch m'", "'env' is not an allowed filter"),
    ("env", "program 'env'"),
    ("printenv", "program 'printenv'"),
    ("ps e", "program 'ps'"),
    ("ps auxeww", "program 'ps'"),
    ("tar -cf /dev/null x --checkpoint=1 --checkpoint-action=exec=touch", "program 'tar'"),
    ("kubectl get pods | tar --use-compress-program=x -x", "'tar' is not an allowed filter"),
    ("git -c core.fsmonitor='touch m' status", "program 'git'"),
    ("git fetch --upload-pack='touch m' origin", "program 'git'"),
    ("git grep -O'touch m' x", "program 'git'"),
    ("git diff --output=/tmp/x", "program 'git'"),
    ("git reflog expire --all", "program 'git'"),
    ("ssh -o ProxyCommand='touch m' host", "program 'ssh'"),
    ("sqlite3 db .system", "program 'sqlite3'"),
    ("sqlite3 db '.shell touch m'", "program 'sqlite3'"),
    ("psql -c 'select 1' '\\gexec'", "program 'psql'"),
    ("psql -c \"COPY t TO PROGRAM 'touch m'\"", "program 'psql'"),
    ("mysql --init-command='DROP TABLE t'", "program 'mysql'"),
    ("helm template x --post-renderer /tmp/x", "program 'helm'"),
    ("xxd -r x y", "program 'xxd'"),
    ("kubectl get pods | xxd -r", "'xxd' is not an allowed filter"),
    ("iconv -f utf8 -t utf8 -o /tmp/x y", "program 'iconv'"),
    ("python3 -m json.tool in out", "program 'python3'"),
    ("kubectl get pods -o json | python3 -m json.tool", "'python3' is not an allowed filter"),
    ("openssl req -new -keyout /tmp/k", "program 'openssl'"),
    ("cat /etc/kubernetes/admin.conf", "program 'cat'"),
    ("aws eks get-token --cluster-name x", "program 'aws'"),
    ("/usr/bin/kubectl get pods", "program '/usr/bin/kubectl'"),
    ("./kubectl get pods", "program './kubectl'"),
    ("k get pods", "program 'k'"),
    # environment prefixes that load code
    ("HOME=/tmp/x kubectl get pods", "program 'HOME=/tmp/x'"),
    ("PATH=/tmp/x:/usr/bin kubectl get pods", "program 'PATH=/tmp/x:/usr/bin'"),
    ("KUBECONFIG=/tmp/kc kubectl get pods", "program 'KUBECONFIG=/tmp/kc'"),
    ("BASH_ENV=/tmp/x kubectl get pods", "program 'BASH_ENV=/tmp/x'"),
    ("LD_PRELOAD=/tmp/x.so kubectl get pods", "program 'LD_PRELOAD=/tmp/x.so'"),
    ("GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.pager git log", "program 'GIT_CONFIG_COUNT=1'"),
    ("KUBECTL_EXTERNAL_DIFF=/tmp/x kubectl diff -f y", "program 'KUBECTL_EXTERNAL_DIFF=/tmp/x'"),
    ("kubectl get pods | GREP_OPTIONS=x grep y", "'GREP_OPTIONS=x' is not an allowed filter"),
    # filters: options that write, read files or execute, GNU prefixes resolved as getopt_long does
    ("kubectl get pods | sort --outp=/tmp/x", "--output"),
    ("kubectl get pods | sort -o /tmp/x", "-o"),
    ("kubectl get pods | sort --compress-program=x", "--compress-program"),
    ("kubectl get pods | sort --comp=x", "--compress-program"),
    ("kubectl get pods | sort --files0-from=/etc/passwd", "--files0-from"),
    ("kubectl get pods | sort -T /tmp", "-T"),
    ("kubectl get pods | sort --ra", "ambiguous"),  # --random-sort, --random-source
    ("kubectl get pods | grep --co x", "ambiguous"),
    ("kubectl get pods | grep -f /etc/shadow", "-f"),
    ("kubectl get pods | grep --fi=/etc/shadow", "ambiguous"),  # --file, --files-with…, --fixed-…
    ("kubectl get pods | grep -r x /etc", "-r"),
    ("kubectl get pods | grep x /etc/shadow", "files are not read"),
    ("kubectl get pods | grep --exclude-from=/etc/shadow x", "--exclude-from"),
    ("kubectl get pods | tail -f", "-f"),
    ("kubectl get pods | tail --fo", "--follow"),
    ("kubectl get pods | tail --pid=1", "--pid"),
    ("kubectl get pods | head /etc/shadow", "operands"),
    ("kubectl get pods | uniq - /tmp/out", "operands"),
    ("kubectl get pods | wc --files0-from=/etc/passwd", "--files0-from"),
    ("kubectl get pods | jq -n env", "'env'"),
    ("kubectl get pods | jq '$ENV'", "'$ENV' in a jq program"),
    ("kubectl get pods | jq '.[] | env'", "'env' in a jq program"),
    ("kubectl get pods | jq 'input_filename'", "'input_filename' in a jq program"),
    ("kubectl get pods | jq 'include \"x\"; .'", "'include' in a jq program"),
    ("kubectl get pods | jq 'import \"x\" as y; .'", "'import' in a jq program"),
    ("kubectl get pods | jq -L /tmp .", "-L"),
    ("kubectl get pods | jq --rawfile x /etc/shadow .", "--rawfile"),
    ("kubectl get pods | jq --raw-out .", "unknown option"),  # jq matches long options exactly
    ("kubectl get pods | jq . /etc/shadow", "operands"),
    ("kubectl get pods | jq -f /tmp/prog", "-f"),
    ("grep x /etc/shadow", "only kubectl or echo"),
    ("echo -e '\\x41'", "echo: options"),
]


@pytest.mark.parametrize("line", ADMITTED)
def test_admitted(line: str) -> None:
    a = admit(line)
    assert a.admitted, a.reason
    assert [list(s) for s in a.stages] == _shlex_stages(line)


@pytest.mark.parametrize("line,why", NOT_ADMITTED)
def test_not_admitted(line: str, why: str) -> None:
    a = admit(line)
    assert not a.admitted and a.stages == ()
    assert why.lower() in a.reason.lower(), a.reason


def _shlex_stages(line: str) -> list[list[str]]:
    """An independent split (shlex, POSIX rules) of an admitted line: it must agree with the gate's."""
    lex = shlex.shlex(line, posix=True, punctuation_chars="|")
    lex.whitespace_split = True
    stages: list[list[str]] = [[]]
    for tok in lex:
        if tok == "|":
            stages.append([])
        else:
            stages[-1].append(tok)
    return stages


def test_read_only_runbook_steps_are_admitted() -> None:
    """Every read-only kubectl step of the shipped runbooks runs unasked (as before the gate)."""
    values = {"namespace": "ns", "pod": "p-0", "route": "r", "service": "s", "app": "a", "certificate": "c",
              "name": "n", "backup": "b", "date": "20260101", "now": "1", "chart": "c", "values_file": "v",
              "size": "10Gi"}
    seen = 0
    for rb in load_runbooks().values():
        for step in rb.steps:
            if step.command and step.safety == "read-only" and step.command.startswith("kubectl "):
                line = fill(step.command, values)
                a = admit(line)
                assert a.admitted, (rb.id, step.id, line, a.reason)
                seen += 1
    assert seen > 40


def test_context_is_admitted_only_when_the_product_chose_it() -> None:
    assert admit("kubectl --context prod get pods", context="prod").admitted
    assert admit("kubectl get pods --context=prod", context="prod").admitted
    for ctx in (None, "staging"):
        assert not admit("kubectl --context prod get pods", context=ctx).admitted


# ------------------------------------------------------------------------------------------------ parsers

def test_gnu_prefixes_resolve_as_getopt_long() -> None:
    sort = FILTERS["sort"]
    assert resolve_long(sort, "outp") == "output"
    assert resolve_long(sort, "rev") == "reverse"
    assert resolve_long(sort, "reverse") == "reverse"
    for ambiguous in ("r", "ra", "s"):
        with pytest.raises(NotAdmitted, match="ambiguous"):
            resolve_long(sort, ambiguous)
    with pytest.raises(NotAdmitted, match="unknown"):
        resolve_long(sort, "frobnicate")
    with pytest.raises(NotAdmitted, match="unknown"):
        resolve_long(FILTERS["jq"], "raw")  # jq: exact names only


def test_gnu_short_clusters_and_values() -> None:
    opts, operands = parse_gnu(FILTERS["grep"], ["-inm3", "x"])
    assert opts == [("ignore-case", None), ("line-number", None), ("max-count", "3")] and operands == ["x"]
    opts, operands = parse_gnu(FILTERS["grep"], ["-e", "a", "-e", "b"])
    assert operands == [] and [v for _, v in opts] == ["a", "b"]
    opts, _ = parse_gnu(FILTERS["head"], ["-5"])
    assert opts == [("lines", "5")]
    opts, _ = parse_gnu(FILTERS["cut"], ["-d:", "-f1"])
    assert opts == [("delimiter", ":"), ("fields", "1")]
    with pytest.raises(NotAdmitted):
        parse_gnu(FILTERS["grep"], ["-e"])  # a value is missing
    with pytest.raises(NotAdmitted):
        parse_gnu(FILTERS["grep"], ["x", "--", "-f"])  # after --, -f is a file operand


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(set(FILTERS) - {"jq"}))  # jq takes only exact names
def test_gnu_option_tables_know_every_option_of_the_installed_program(name: str) -> None:
    """Prefix resolution is only right if the table holds every long option the program has: compare with
    the installed program's --help (an option missing here would make a prefix look unambiguous)."""
    import re
    import subprocess

    exe = programs.require(name, trusted=True)
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10, check=False).stdout
    listed = set(re.findall(r"--([a-z][a-z0-9-]*)", out))
    assert listed, f"{exe} --help lists no long option: not the GNU program the table describes"
    assert listed <= FILTERS[name].known, (name, sorted(listed - FILTERS[name].known))


def test_kubectl_flag_spellings_resolve_as_pflag() -> None:
    call = parse_kubectl(["-n", "x", "get", "pods", "--all_namespaces", "-oyaml", "--sort-by=.x", "--", "-y"],
                         READ_VERBS)
    assert call.verb == "get" and call.positionals == ["pods", "-y"] and call.dashdash
    assert call.flags == [("namespace", "x"), ("all-namespaces", "true"), ("output", "yaml"), ("sort-by", ".x")]
    call = parse_kubectl(["get", "po", "-A=false", "-n=prod", "--show-labels=true"], READ_VERBS)
    assert call.flags == [("all-namespaces", "false"), ("namespace", "prod"), ("show-labels", "true")]
    with pytest.raises(NotAdmitted, match="before the verb"):
        parse_kubectl(["--", "get", "pods"], READ_VERBS)
    with pytest.raises(NotAdmitted):
        parse_kubectl(["-A", "get", "pods"], READ_VERBS)  # verb flags are not read before the verb


def test_words_follow_bash_quoting() -> None:
    assert split_words("""a 'b c' "d e" f'g'"h" ''""") == ["a", "b c", "d e", "fgh", ""]
    assert split_words("a|b") == ["a", None, "b"]
    assert split_words("a '|' b") == ["a", "|", "b"]  # a quoted bar is a word, never the operator


# ------------------------------------------------------------------------------------------------ previews

@pytest.mark.parametrize("line,argv", [
    ("kubectl delete pod x -n y", ("kubectl", "delete", "pod", "x", "-n", "y", "--dry-run=server")),
    ("kubectl --request-timeout=5s delete pod x -n y",
     ("kubectl", "--request-timeout=5s", "delete", "pod", "x", "-n", "y", "--dry-run=server")),
    ("kubectl scale deploy/api --replicas=0 -n y",
     ("kubectl", "scale", "deploy/api", "--replicas=0", "-n", "y", "--dry-run=server", "-o", "yaml")),
    ("kubectl label pod x a=b --overwrite", ("kubectl", "label", "pod", "x", "a=b", "--overwrite",
                                             "--dry-run=server", "-o", "yaml")),
])
def test_preview_argv(line: str, argv: tuple[str, ...]) -> None:
    assert preview_argv(line) == (argv, "")


@pytest.mark.parametrize("line", [
    "kubectl delete ns prod --dry-run=server {--dry-run=none,}",
    "kubectl delete ns prod --dry_run=none",
    "kubectl delete ns prod --dry-run=none",
    "kubectl delete ns prod --dry-run",
    "HOME=/tmp/x kubectl delete pod x",
    "KUBECONFIG=/tmp/kc kubectl delete pod x",
    "kubectl --kubeconfig /tmp/kc delete pod x",
    "kubectl --context other delete pod x",
    "kubectl delete pod x --",  # the forced flag would land after `--`
    "kubectl delete pod x -- y",
    "kubectl delete pod x -n",  # the forced flag would become -n's value
    "kubectl delete pod x --grace-period",
    "kubectl delete secret db",
    "kubectl delete all --all",
    "kubectl delete -f /tmp/x.yaml",
    "kubectl apply -f -",
    "kubectl create token default",
    "kubectl patch secret db -p '{}'",
    "kubectl delete pod x; touch /tmp/m",
    "kubectl delete pod x | cat",
    "kubectl exec api-0 -- rm -rf /data",
    "kubectl delete pod x -o yaml",
    "kubectl drain node-1",
    "kubectl delete frobs x",
    "sudo kubectl delete pod x",
])
def test_no_preview_outside_the_preview_rule(line: str) -> None:
    argv, why = preview_argv(line)
    assert argv is None and why.startswith("No preview:")


# ------------------------------------------------------------------------------------------------ environment

HOSTILE_ENV = {"PATH": "/tmp/planted:/usr/bin", "HOME": "/home/op", "BASH_ENV": "/tmp/planted/rc",
               "LD_PRELOAD": "/tmp/planted/x.so", "STRIPE_KEY": "sk_live_x", "MYSQL_PWD": "pw",
               "GIT_CONFIG_COUNT": "1", "KUBECTL_EXTERNAL_DIFF": "/tmp/planted/diff", "ANTHROPIC_API_KEY": "k",
               "AWS_PROFILE": "prod", "HTTPS_PROXY": "http://proxy:3128"}


def _kubeconfig(path: Path, exec_command: str | None = None) -> Path:
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": exec_command}} if exec_command \
        else {"token": "t"}
    import yaml

    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": user}]}))
    return path


def test_kubectl_environment_is_built_by_the_product(tmp_path: Path) -> None:
    kc = _kubeconfig(tmp_path / "kc")
    policy = ExecPolicy.from_env({**HOSTILE_ENV, "KUBECONFIG": str(kc)})
    env = policy.env_for("kubectl", "/scratch")
    assert env == {"PATH": gate.TRUSTED_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/scratch",
                   "KUBERC": "off", "KUBECACHEDIR": "/scratch/cache", "KUBECONFIG": str(kc),
                   "HTTPS_PROXY": "http://proxy:3128"}
    assert policy.env_for("grep", "/scratch") == {"PATH": gate.TRUSTED_PATH, "LANG": "C.UTF-8",
                                                  "LC_ALL": "C.UTF-8", "HOME": "/scratch"}


def test_an_exec_plugin_of_the_products_kubeconfig_gets_home_and_cloud_variables(tmp_path: Path) -> None:
    plugin_dir = tmp_path / "bin"
    plugin_dir.mkdir()
    plugin = plugin_dir / "aws"
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    kc = _kubeconfig(tmp_path / "kc", "aws")
    policy = ExecPolicy.from_env({**HOSTILE_ENV, "PATH": f"{plugin_dir}:/usr/bin", "KUBECONFIG": str(kc)})
    env = policy.env_for("kubectl", "/scratch")
    assert env["HOME"] == "/home/op" and env["AWS_PROFILE"] == "prod"
    assert env["PATH"] == f"{gate.TRUSTED_PATH}:{plugin_dir}"
    assert not {"BASH_ENV", "LD_PRELOAD", "STRIPE_KEY", "MYSQL_PWD", "ANTHROPIC_API_KEY"} & set(env)


def test_default_kubeconfig_is_resolved_from_the_operators_home(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    kc = _kubeconfig(tmp_path / ".kube" / "config")
    assert ExecPolicy.from_env({"HOME": str(tmp_path)}).kubeconfig == str(kc)
    assert ExecPolicy.from_env({"HOME": str(tmp_path), "KUBECONFIG": "rel/kc"}).kubeconfig == os.path.abspath("rel/kc")


def test_confirmed_env_drops_startup_hooks_and_model_credentials() -> None:
    env = confirmed_env(HOSTILE_ENV)
    assert "BASH_ENV" not in env and "ANTHROPIC_API_KEY" not in env and env["PATH"] == HOSTILE_ENV["PATH"]


# ------------------------------------------------------------------------------------------------ running

@pytest.fixture()
def trusted_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trusted PATH of its own: real filters linked in, and a `kubectl` that prints its argv and env."""
    d = tmp_path / "trusted"
    d.mkdir()
    for name in ("grep", "head", "sort", "wc", "echo", "jq"):
        real = gate.resolve_program(name)
        if real:
            (d / name).symlink_to(real)
    kubectl = d / "kubectl"
    kubectl.write_text("#!/bin/sh\nprintf 'argv:%s\\n' \"$@\"\n/usr/bin/env\n")
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(gate, "TRUSTED_PATH", str(d))
    return d


@pytest.mark.e2e
def test_admitted_commands_run_as_argv_in_the_products_environment(trusted_bin: Path, tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    r = run_guarded("kubectl get pods -n 'my ns'", confirm=ScriptedConfirmer(), audit=log,
                    env={**HOSTILE_ENV, "KUBECONFIG": str(_kubeconfig(tmp_path / "kc"))})
    assert r.ran and r.decision == "auto-read-only", r
    out = r.text.splitlines()
    assert out[:4] == ["argv:get", "argv:pods", "argv:-n", "argv:my ns"]
    env = dict(line.split("=", 1) for line in out[4:])
    assert env["PATH"] == str(trusted_bin) and env["KUBERC"] == "off" and env["HOME"] != "/home/op"
    for leaked in ("BASH_ENV", "LD_PRELOAD", "STRIPE_KEY", "MYSQL_PWD", "GIT_CONFIG_COUNT", "KUBECTL_EXTERNAL_DIFF",
                   "ANTHROPIC_API_KEY"):
        assert leaked not in env
    start, end = log.records()
    assert start["decision"] == "auto-read-only" and start["note"].startswith(f"gate: kubectl={trusted_bin}")
    assert "BASH_ENV" not in start["note"] and "env " in start["note"]


@pytest.mark.e2e
def test_pipelines_run_without_a_shell(trusted_bin: Path, tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log")
    r = run_guarded("kubectl get pods | grep -c argv", confirm=ScriptedConfirmer(), audit=log, env={})
    assert r.ran and r.exit_code == 0 and r.stdout == b"2\n"
    r = run_guarded("kubectl get pods | grep -c nomatch", confirm=ScriptedConfirmer(), audit=log, env={})
    assert r.ran and r.exit_code == 1 and r.stdout == b"0\n"  # the last stage's status, as bash reports it


@pytest.mark.e2e
def test_a_stage_that_hangs_is_killed_at_the_timeout(trusted_bin: Path, tmp_path: Path) -> None:
    (trusted_bin / "kubectl").write_text("#!/bin/sh\nexec /bin/sleep 30\n")
    policy = ExecPolicy.from_env({})
    code, out, err, note = _run_stages((("kubectl", "get", "pods"), ("wc", "-l")), policy, str(tmp_path), 0.5)
    assert code is None and note and "timeout" in note


def test_a_label_can_take_a_command_off_the_auto_run_path(trusted_bin: Path, tmp_path: Path) -> None:
    """The gate admits the argv; the guard's label is the second key, and it can only add asking."""
    from sre_expert.safety.execute import may_auto_run
    from sre_expert.safety.verdict import Verdict

    a = admit("kubectl get pods")
    assert a.admitted and may_auto_run(a, Verdict("read-only", False))
    for v in (Verdict("mutating", False), Verdict("unknown", False), Verdict("read-only", True),
              Verdict("read-only", False, interactive=True)):
        assert not may_auto_run(a, v)


# ------------------------------------------------------------------------------------------------ property

_PREFIXES = ["", "HOME=/tmp/h ", "PATH=/tmp/p:$PATH ", "BASH_ENV=/tmp/rc ", "LD_PRELOAD=/tmp/x.so ",
             "KUBECONFIG=/tmp/kc ", "env ", "sudo ", "command ", "exec ", "nohup ", "timeout 5 "]
_PROGRAMS = ["kubectl", "echo", "sed", "env", "printenv", "tar", "git", "find", "let", "printf", "declare",
             "grep", "sort", "jq", "bash -c", "sh -c", "eval", "kubectl-foo", "k", "/usr/bin/kubectl"]
_VERBS = ["get", "delete", "describe", "logs", "apply", "scale", "patch", "exec", "top", "config", "create",
          "auth", "events", "kustomize", "cluster-info", "explain", "version", "frobnicate", "cp", "proxy"]
_FLAG_NAMES = ["dry-run", "all-namespaces", "output", "kubeconfig", "server", "token", "context", "namespace",
               "selector", "raw", "watch", "follow", "filename", "v", "as", "template", "cache-dir", "since",
               "previous", "profile-output", "helm-command", "post-renderer", "upload-pack", "split-string",
               "output-directory", "sort-by"]
_VALUES = ["none", "server", "client", "yaml", "json", "wide", "name", "x", "/tmp/m", "jsonpath={.data}",
           "'jsonpath={.data}'", "prod", "9", "true", "false", "$(touch /tmp/m)", "`touch m`", "$((1))", "~/kc"]
_WORDS = ["pods", "po", "secrets", "secret", "Secret.v1.", "secret/db", "pods,secrets", "all", "ns", "prod",
          "{--dry-run=none,}", "{a,b}", "'{a,b}'", "x[$(touch m)]", "$x", "${x@P}", "*", "?", "[a]", "~", "!!",
          "--", "-", ";", "&&", "||", "&", ">", "/tmp/m", "<", "'a;b'", "\"a;b\"", "\"$HOME\"", "$'\\x41'",
          "\\;", "#", "(", ")", "-A", "-Ao", "-oyaml", "-nprod", "-f", "-w", "-it", "-v9", "-s"]
_FILTERS = ["grep x", "grep -f /etc/shadow", "grep --fi=x y", "sort --outp=/tmp/m", "sort -o /tmp/m", "sort --rev",
            "sort --comp=sh", "head -5", "tail -f", "tail --fo", "wc -l", "uniq -c", "uniq - /tmp/m",
            "cut -d: -f1", "jq .", "jq -n env", "jq -r '.items[]'", "sed e", "xargs rm", "tee /tmp/m", "sh",
            "env -S sh", "python3 -m json.tool - /tmp/m", "tr a b", "jq --rawfile x /etc/shadow ."]


_BENIGN_VERBS = ["get", "describe", "logs", "top", "events", "explain", "api-resources", "version", "auth"]
_BENIGN_FLAGS = ["all-namespaces", "output", "namespace", "selector", "sort-by", "since", "previous", "tail",
                 "show-labels", "no-headers", "field-selector", "container", "chunk-size"]
_BENIGN_WORDS = ["pods", "po", "secrets", "secret/db", "deploy/api", "prod", "api-0", "nodes", "svc", "-A", "-Ao",
                 "-oyaml", "-nprod", "-o", "wide", "name", "json"]
_BENIGN_FILTERS = ["grep x", "grep -v Running", "head -5", "sort --rev", "wc -l", "jq .", "uniq -c", "cut -f1",
                   "tail -n 3", "sort -k2", "grep -c x"]


def gen_line(rng: random.Random) -> str:
    """A command line mixing what the gate admits with every hostile ingredient, at about even odds, so
    that both sides of the boundary are exercised: env prefixes, wrappers, programs, verbs, flag spellings
    (`_` for `-`, truncated names, `=` or a space, short forms), brace/arithmetic/substitution words,
    quoting, operators and filters."""
    def pick(benign: list[str], hostile: list[str], p: float = 0.8) -> str:
        return rng.choice(benign if rng.random() < p else hostile)

    def flag() -> str:
        name = pick(_BENIGN_FLAGS, _FLAG_NAMES, 0.6)
        if rng.random() < 0.2:
            name = name.replace("-", "_")
        if rng.random() < 0.15:
            name = name[:rng.randint(1, len(name))]
        value = pick(["wide", "name", "prod", "1h", "app=x", "5"], _VALUES, 0.6)
        return rng.choice([f"--{name}", f"--{name}={value}", f"--{name} {value}", f"-{name[0]}",
                           f"-{name[0]}{value}", f"-{name[0]}={value}"])

    parts = [pick([""], _PREFIXES, 0.85) + pick(["kubectl"], _PROGRAMS, 0.85)]
    if parts[0].endswith("kubectl"):
        parts.append(pick(_BENIGN_VERBS, _VERBS))
    for _ in range(rng.randint(0, 4)):
        parts.append(flag() if rng.random() < 0.4 else pick(_BENIGN_WORDS, _WORDS, 0.85))
    line = " ".join(parts)
    for _ in range(rng.randint(0, 2)):
        line += rng.choice([" | ", "|"]) + pick(_BENIGN_FILTERS, _FILTERS, 0.7)
    return line


def test_the_generator_reaches_both_sides_of_the_boundary() -> None:
    rng = random.Random(12)
    verdicts = [admit(gen_line(rng)).admitted for _ in range(2000)]
    assert 0.05 < sum(verdicts) / len(verdicts) < 0.95


_ALLOWED_FLAG_NAMES = {f.name for flags in READ_VERBS.values() for f in flags.values()} | {"namespace",
                                                                                           "request-timeout"}


@settings(max_examples=3000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_whatever_is_admitted_is_argv_of_allow_listed_programs_and_flags(rng: random.Random) -> None:
    line = gen_line(rng)
    a = admit(line)
    if not a.admitted:
        return
    assert not any(c in line.replace("'", "") for c in "$`;&<>()\n") or _quoted_only(line)
    assert [list(s) for s in a.stages] == _shlex_stages(line)
    first, *rest = a.stages
    assert first[0] in ("kubectl", "echo")
    if first[0] == "kubectl":
        call = parse_kubectl(list(first[1:]), READ_VERBS)
        assert call.verb in READ_VERBS and call.verb != "cluster-info" or not call.positionals
        assert {k for k, _ in call.flags} <= _ALLOWED_FLAG_NAMES
        assert not call.values("context") and "dry-run" not in {k for k, _ in call.flags}
        # the resource types: the first positional (`pods,secrets`), or the TYPE of each TYPE/NAME; a later
        # bare positional is a name (`kubectl get pods secret` is the pod named "secret")
        ps = call.positionals
        types = [p.split("/", 1)[0] for p in ps if "/" in p] if ps and "/" in ps[0] else \
            (ps[0].split(",") if ps else [])
        assert not any(t.lower().startswith("secret") for t in types) or \
            all(v in ("wide", "name") for v in call.values("output"))
    for stage in rest:
        spec: GnuSpec = FILTERS[stage[0]]
        opts, operands = parse_gnu(spec, list(stage[1:]) if stage[0] != "jq" else gate._jq_args(list(stage[1:])))
        assert {k for k, _ in opts} <= set(spec.long) | {v[0] for v in spec.short.values()}
        assert not {"output", "file", "files0-from", "compress-program", "follow", "rawfile"} & {k for k, _ in opts}


def _quoted_only(line: str) -> bool:
    """Shell characters of an admitted line appear only inside single quotes."""
    out, inside = [], False
    for c in line:
        if c == "'":
            inside = not inside
        elif not inside:
            out.append(c)
    return not any(c in "".join(out) for c in "$`;&<>()\n")


@pytest.mark.e2e
def test_the_products_context_is_passed_by_the_product(trusted_bin: Path, tmp_path: Path) -> None:
    """`--context` from the command line is admitted only when it is the product's; the product passes its
    own context to kubectl when the command names none (so a read never lands on the current-context)."""
    log = AuditLog(tmp_path / "audit.log")
    r = run_guarded("kubectl get pods", confirm=ScriptedConfirmer(), audit=log, env={}, context="prod")
    assert r.decision == "auto-read-only" and r.text.splitlines()[:3] == ["argv:--context=prod", "argv:get",
                                                                           "argv:pods"]
    r = run_guarded("kubectl get pods --context prod", confirm=ScriptedConfirmer(), audit=log, env={},
                    context="prod")
    assert r.text.splitlines()[:4] == ["argv:get", "argv:pods", "argv:--context", "argv:prod"]
    r = run_guarded("kubectl get pods --context staging", confirm=ScriptedConfirmer(), audit=log, env={},
                    context="prod")
    assert not r.ran and "--context" in r.gate


@pytest.mark.e2e
def test_kubectl_flag_tables_match_the_installed_kubectl() -> None:
    """A flag the gate thinks is boolean but kubectl reads with a value (or the reverse) would shift the
    positionals (`get --flag pods secrets`); so every flag of the tables must exist in `kubectl VERB --help`
    (or `kubectl options`) with the same shorthand and the same boolean-ness."""
    import re
    import subprocess

    exe = programs.require("kubectl", trusted=True)

    def flags_of(*args: str) -> dict[str, tuple[str | None, bool]]:
        text = subprocess.run([exe, *args], capture_output=True, text=True, timeout=30, check=False).stdout
        out = {}
        for short, name, default in re.findall(r"^\s+(?:-(\w), )?--([\w-]+)=(.*):$", text, re.M):
            out[name] = (short or None, default in ("true", "false"))
        return out

    known_global = flags_of("options")
    for verb, table in {**gate.READ_VERBS, **gate.PREVIEW_VERBS}.items():
        subs = {"auth": [["auth", "can-i"]], "top": [["top", "pod"], ["top", "node"]]}.get(verb, [[verb]])
        real = dict(known_global)
        for sub in subs:
            real.update(flags_of(*sub, "--help"))
        for f in {**table, **gate._GLOBAL}.values():
            assert f.name in real, (verb, f.name)
            assert real[f.name] == (f.short, not f.value), (verb, f.name, real[f.name])
