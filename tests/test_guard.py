"""The command guard: a labelled corpus, the check catalogue, component and DR plan commands, the parser, the
kubectl flag table and dry-run forms against the real kubectl, and `sre-expert guard classify`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import programs
import pytest
import yaml

from sre_expert.safety.guard import classify, fill_placeholders, program_names
from sre_expert.safety.kubectl_flags import ALL_FLAGS, VALUE_FLAGS
from sre_expert.safety.kubectl_rules import command_context, dry_run_plan
from sre_expert.safety.shell import Group, ParseError, parse
from sre_expert.safety.verdict import CLASSES, DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, rank

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "guard_corpus.tsv"
KUBECTL = programs.path("kubectl")
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


def load_corpus() -> list[tuple[str, bool, str]]:
    rows = []
    for n, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cls, secrets, command = line.split("\t", 2)
        assert cls in CLASSES and secrets in ("yes", "no"), f"{CORPUS.name}:{n}: bad label {line!r}"
        rows.append((cls, secrets == "yes", command.replace("⏎", "\n")))
    return rows


CORPUS_ROWS = load_corpus()


# -- the corpus ----------------------------------------------------------------------------------------------

def test_corpus_is_large_distinct_and_covers_every_class() -> None:
    commands = [c for _, _, c in CORPUS_ROWS]
    assert len(commands) >= 300
    assert len(set(commands)) == len(commands), "duplicate commands in the corpus"
    counts = Counter(cls for cls, _, _ in CORPUS_ROWS)
    assert all(counts[c] >= 20 for c in CLASSES), counts
    assert sum(1 for _, s, _ in CORPUS_ROWS if s) >= 20


def test_every_corpus_command_gets_its_label(capsys: pytest.CaptureFixture[str]) -> None:
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    wrong = []
    for cls, secrets, command in CORPUS_ROWS:
        v = classify(command)
        total[cls] += 1
        if v.cls == cls and v.exposes_secrets == secrets:
            right[cls] += 1
        else:
            wrong.append(f"{command!r}: want {cls}/secrets={secrets}, got {v.cls}/secrets={v.exposes_secrets} "
                         f"{v.reasons}")
    with capsys.disabled():
        print("\nguard accuracy per class: " + ", ".join(f"{c} {right[c]}/{total[c]}" for c in CLASSES))
    assert not wrong, "\n".join(wrong)


def test_no_destructive_command_is_classified_read_only() -> None:
    lowered = [c for cls, _, c in CORPUS_ROWS if cls == DESTRUCTIVE and classify(c).cls == READ_ONLY]
    assert lowered == []


def test_labels_never_understate() -> None:
    """Issue 12: no mutating or destructive command is labelled read-only, no destructive one only mutating
    (or unknown), and every command that prints Secret values is flagged: the operator reads this label before
    typing the confirmation."""
    read_only = [c for cls, _, c in CORPUS_ROWS if cls in (MUTATING, DESTRUCTIVE) and classify(c).cls == READ_ONLY]
    only_mutating = [c for cls, _, c in CORPUS_ROWS if cls == DESTRUCTIVE and classify(c).cls != DESTRUCTIVE]
    unflagged = [c for _, secrets, c in CORPUS_ROWS if secrets and not classify(c).exposes_secrets]
    assert (read_only, only_mutating, unflagged) == ([], [], [])


def _section(title: str) -> list[tuple[str, bool, str]]:
    """The labelled rows under one `# == title` heading of the corpus."""
    rows, inside = [], False
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.startswith("# =="):
            inside = title in line
        elif inside and line.strip() and not line.startswith("#"):
            cls, secrets, command = line.split("\t", 2)
            rows.append((cls, secrets == "yes", command.replace("⏎", "\n")))
    return rows


@pytest.mark.parametrize("title,least", [
    ("shell features the parser models only partly", 30), ("program options that execute or write", 60),
    ("environment that loads code", 12), ("destructive where the effect is an outage", 40),
    ("secret printers", 30)])
def test_issue_12_classes_are_in_the_corpus(title: str, least: int) -> None:
    rows = _section(title)
    assert len(rows) >= least, (title, len(rows))
    # each section holds the dangerous forms and some look-alikes that must stay as they are
    assert any(cls != READ_ONLY for cls, _, _ in rows) and any(cls == READ_ONLY for cls, _, _ in rows)


def test_brace_expansion_is_computed_like_bash() -> None:
    words = parse("echo x{a,}y {1..3} {a..c} {01..03} a{b,c{d,e}}f '{q,r}' {} {x} ${p,q}").pipelines[0].commands[0].words
    assert [w.braces for w in words[1:]] == [["xay", "xy"], ["1", "2", "3"], ["a", "b", "c"], ["01", "02", "03"],
                                             ["abf", "acdf", "acef"], None, None, None, None]
    assert parse("echo {a,}").pipelines[0].commands[0].words[1].braces == ["a"]  # the empty word is removed
    v = classify("kubectl delete ns prod --dry-run=server {--dry-run=none,}")
    assert v.cls == DESTRUCTIVE and v.targets == ("prod",)
    big = classify("echo {1..100000}")
    assert big.cls == UNKNOWN and "brace expansion" in big.reasons[0]


def test_run_time_evaluation_is_recorded_and_unknown() -> None:
    cases = {"echo $((x))": "arithmetic", "echo ${x@P}": "prompt", "echo ${!x}": "another variable",
             "echo ${a[$i]}": "subscript", "echo ${s:$n}": "offset", "a[$i]=1 ls": "subscript"}
    for command, why in cases.items():
        v = classify(command)
        assert v.cls == UNKNOWN and any(why in r for r in v.reasons), (command, v)
    for literal in ("echo $((1 + 2))", "echo ${a[2]}", "echo ${s:1:2}", "echo ${!p*}", "a[3]=1 ls"):
        assert classify(literal).cls == READ_ONLY, literal


def test_case_is_parsed_and_every_branch_classified() -> None:
    script = parse("case $1 in\n a|b) ls ;;\n (c) kubectl delete pod x\n ;;\n *) echo hi;;&\nesac > out")
    group = script.pipelines[0].commands[0]
    assert isinstance(group, Group) and len(group.body.pipelines) == 4 and group.redirects[0].op == ">"
    assert classify("case x in x) rm -rf /data;; esac").cls == DESTRUCTIVE
    with pytest.raises(ParseError):
        parse("case x in a) ls")


# -- the check catalogue, component commands, DR plans -------------------------------------------------------

# Values for the catalogue's template fields; {retry} and {fix} are whole commands the Velero check builds.
TEMPLATE_VALUES = {
    "ns_flag": " -n tenant", "issuer_ns_flag": " -n tenant", "store_ns_flag": " -n tenant", "labels": "team=a",
    "ns_labels": "team=a", "taint": "dedicated=db:NoSchedule", "selector": "app=api", "suggested_limit": "512Mi",
    "resource": "deployment", "okind": "Pod", "values_flags": "-f values.yaml", "proxy_kind": "deployment",
    "issuer_kind": "clusterissuer", "store_kind": "clustersecretstore", "creator_kind": "deployment",
    "target_kind": "deployment", "retry": "velero backup create --from-schedule infrastructure-daily --wait",
    "fix": "kubectl edit schedule infrastructure-daily -n velero",
}


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return "x-" + key.replace("_", "-")


# Every safety label in the catalogue and the component data must equal the guard's class.
CATALOGUE_DISAGREEMENTS: dict = {}
COMPONENT_DISAGREEMENTS: dict = {}


def test_catalogue_remediation_commands_match_their_safety_label() -> None:
    from sre_expert.knowledge.catalogue import catalogue

    seen = 0
    disagreements = {}
    for code, spec in sorted(catalogue().items()):
        for fix in spec.remediation:
            if not fix.command:
                continue
            seen += 1
            command = fix.command.format_map(_Fill(TEMPLATE_VALUES))
            got = classify(command, placeholders=True).cls
            if got != fix.safety:
                disagreements[(code, fix.command)] = (fix.safety, got)
    assert seen > 300
    assert disagreements == CATALOGUE_DISAGREEMENTS


def test_remediation_commands_rendered_on_the_demo_match_their_label() -> None:
    from sre_expert.diagnosis.engine import diagnose
    from sre_expert.sources.resolve import open_source

    report = diagnose(open_source(None, True))
    pairs = [(f.code, r.command, r.safety) for f in report.findings for r in f.remediation if r.command]
    assert len(pairs) > 50
    wrong = [(code, cmd, safety, classify(cmd, placeholders=True).cls) for code, cmd, safety in pairs
             if classify(cmd, placeholders=True).cls != safety and not cmd.startswith("kubectl get prometheusrule")]
    assert wrong == []


def test_component_debugging_commands_match_their_label() -> None:
    folder = ROOT / "src" / "sre_expert" / "knowledge" / "components"
    disagreements = {}
    n = 0
    for path in sorted(folder.glob("*.yaml")):
        for c in yaml.safe_load(path.read_text(encoding="utf-8")).get("commands") or []:
            n += 1
            want = c.get("safety", "read-only")
            got = classify(c["command"], placeholders=True).cls
            if got != want:
                disagreements[c["command"]] = (want, got)
    assert n > 50
    assert disagreements == COMPONENT_DISAGREEMENTS


def test_dr_plan_commands_match_their_label() -> None:
    from sre_expert.domain.recovery import dr_plan, objectives
    from sre_expert.sources.resolve import open_source

    snap = open_source(None, True)
    steps = []
    for scenario in objectives().scenarios:
        plan = dr_plan(snap, scenario.id, "mycure-production")
        steps.extend(s for s in plan.steps if s.command)
    assert len(steps) > 20
    assert [(s.command, s.safety, classify(s.command, placeholders=True).cls) for s in steps
            if classify(s.command, placeholders=True).cls != s.safety] == []


def test_placeholders_are_words_only_when_asked() -> None:
    assert fill_placeholders("argocd app sync <application>") == "argocd app sync application"
    as_bash = classify("argocd app sync <application>")  # bash reads a redirection without a target
    assert "cannot parse" in as_bash.reasons[0] and rank(as_bash.cls) >= rank(UNKNOWN)
    assert classify("argocd app sync <application>", placeholders=True).cls == MUTATING
    assert classify("sort < in.txt", placeholders=True).cls == READ_ONLY  # a real redirection stays one


# -- verdict and parser ----------------------------------------------------------------------------------------

def test_verdict_json_contract() -> None:
    v = classify("kubectl get secret db -n prod -o yaml")
    assert v.to_json() == {"class": "read-only", "exposesSecrets": True, "reasons": v.reasons}
    assert set(v.to_json()) == {"class", "exposesSecrets", "reasons"} and v.reasons


def test_class_order_is_destructive_mutating_unknown_read_only() -> None:
    assert [c for c in sorted(CLASSES, key=rank, reverse=True)] == [DESTRUCTIVE, MUTATING, UNKNOWN, READ_ONLY]
    # a compound keeps the unknown part's reason even when a known write outranks it
    v = classify("kubectl scale deploy api --replicas=2 && frobnicate --all")
    assert v.cls == MUTATING and any("frobnicate" in r for r in v.reasons)


def test_parser_reads_heredocs_substitutions_and_redirections() -> None:
    script = parse("A=1 kubectl apply -f - <<'EOF' 2>/dev/null | tee out\nkind: $(not run)\nEOF\necho $(date) `id`")
    first, second = script.pipelines
    apply, tee = first.commands
    assert [w.text for w in apply.assigns] == ["A=1"]
    assert [w.text for w in apply.words] == ["kubectl", "apply", "-f", "-"]
    heredoc = apply.redirects[0]
    assert heredoc.op == "<<" and heredoc.body == "kind: $(not run)\n" and not heredoc.body_expands
    assert (apply.redirects[1].op, apply.redirects[1].fd, apply.redirects[1].target.text) == (">", "2", "/dev/null")
    assert [w.text for w in tee.words] == ["tee", "out"]
    echo = second.commands[0]
    assert [len(w.subs) for w in echo.words] == [0, 1, 1]
    assert [[w.text for w in c.words] for c in script.simple_commands()][-2:] == [["date"], ["id"]]


def test_heredoc_without_body_reads_empty_like_bash() -> None:
    # the last line opens a heredoc and input ends: bash reads an empty body; the parser used to raise
    # AttributeError on its pending (redirect, delimiter, strip) tuple instead (found by mypy)
    script = parse("kubectl apply -f - <<EOF")
    heredoc = script.pipelines[0].commands[0].redirects[0]
    assert heredoc.op == "<<" and heredoc.body == ""
    assert classify("kubectl apply -f - <<EOF").cls == MUTATING


def test_parser_subshells_and_quotes() -> None:
    script = parse("( cd /tmp && rm -rf x ) | cat; echo 'a;b' \"c $HOME\" $'d\\ne'")
    group = script.pipelines[0].commands[0]
    assert isinstance(group, Group) and len(group.body.pipelines) == 2
    echo = script.pipelines[1].commands[0]
    assert [w.text for w in echo.words] == ["echo", "a;b", "c $HOME", "d\ne"]
    assert echo.words[2].dynamic and echo.words[2].vars == ["HOME"]


@pytest.mark.parametrize("line", ["echo 'open", 'echo "open', "kubectl get pods |", "kubectl get pods &&", "( ls",
                                  "ls )", "echo $(ls", "cat <", "f() ls"])
def test_lines_bash_would_reject_are_parse_errors_and_unknown(line: str) -> None:
    with pytest.raises(ParseError):
        parse(line)
    v = classify(line)
    assert v.cls == UNKNOWN and "cannot parse" in v.reasons[0]


def test_deep_nesting_is_unknown_not_a_crash() -> None:
    deep = "echo " + "$(" * 400 + "ls" + ")" * 400
    assert classify(deep).cls in (UNKNOWN, READ_ONLY)
    assert classify("eval " * 8 + "kubectl delete pod x").cls == DESTRUCTIVE
    assert classify("eval " * 30 + "kubectl delete pod x").cls == UNKNOWN  # deeper than the guard follows


def test_every_rule_returns_a_class_for_bare_and_odd_arguments() -> None:
    for name in program_names():
        for args in ("", " --help", " -x", " -- --", " ''", " $X", " list", " delete x"):
            v = classify(name + args)
            assert v.cls in CLASSES and v.reasons


# -- confirmation targets, context, dry-run forms -----------------------------------------------------------

@pytest.mark.parametrize("command,targets", [
    ("kubectl delete pod mongodb-0 -n mycure-production", ("mongodb-0",)),
    ("kubectl rollout restart deployment/envoy-gateway -n envoy-gateway-system", ("envoy-gateway",)),
    ("kubectl rollout restart deployment -n envoy-gateway-system", ("envoy-gateway-system",)),
    ("kubectl exec pg-0 -- psql -c 'DROP TABLE t'", ("pg-0",)),
    ("velero restore create --from-backup daily-1 --wait", ("daily-1",)),
    ("helm uninstall api -n prod", ("api",)),
    ("kubectl delete pod a b", ()),
    ("kubectl get pods -o name | xargs kubectl delete", ()),
    ("mise run resize-storage", ("resize-storage",)),
])
def test_targets_name_what_the_command_acts_on(command: str, targets: tuple[str, ...]) -> None:
    assert classify(command).targets == targets


def test_command_context() -> None:
    assert command_context("kubectl --context prod -n x delete pod y") == "prod"
    assert command_context("helm --kube-context=stg list") == "stg"
    assert command_context("kubectl get pods | grep x") is None


def test_dry_run_plan_forms() -> None:
    p = dry_run_plan("KUBECONFIG=/tmp/kc k -n prod delete pod api-0")
    assert p is not None and p.argv == ("kubectl", "-n", "prod", "delete", "pod", "api-0", "--dry-run=server")
    assert p.env == (("KUBECONFIG", "/tmp/kc"),)
    p = dry_run_plan("kubectl patch pvc data -n db -p '{\"spec\":{}}'")
    assert p is not None and p.argv[-3:] == ("--dry-run=server", "-o", "yaml")
    p = dry_run_plan("kubectl run t --image=busybox -- sh -c 'echo hi'")
    assert p is not None and p.argv.index("--dry-run=server") < p.argv.index("--")
    p = dry_run_plan("kubectl apply -f - <<EOF\nkind: Namespace\nEOF")
    assert p is not None and p.stdin == "kind: Namespace\n"
    for none in ("kubectl get pods", "kubectl delete pod x --dry-run=client", "kubectl rollout restart deploy/x",
                 "kubectl exec x -- ls", "kubectl delete pod $POD", "kubectl delete pod x | cat",
                 "kubectl delete pod x > out", "sudo kubectl delete pod x", "kubectl create token sa",
                 "kubectl edit deploy x"):
        assert dry_run_plan(none) is None, none
    # the dry-run form is read-only for the guard, so it can run without confirmation
    for cmd in ("kubectl delete pod x", "kubectl scale deploy x --replicas=0", "kubectl drain n1",
                "kubectl rollout undo deploy/x", "kubectl apply -f x.yaml --prune -l a=b"):
        plan = dry_run_plan(cmd)
        assert plan is not None and classify(plan.command).cls == READ_ONLY, cmd


@pytest.mark.e2e
@pytest.mark.needs("kubectl")
@pytest.mark.parametrize("command", [
    "kubectl delete pod x -n y", "kubectl scale deploy api --replicas=3 -n y", "kubectl drain node-1 --ignore-daemonsets",
    "kubectl cordon node-1", "kubectl rollout undo deployment/api -n y", "kubectl label ns y a=b",
    "kubectl patch deploy api -n y -p '{\"spec\":{}}'", "kubectl set image deploy/api api=x:1 -n y",
    "kubectl create ns t", "kubectl run t --image=busybox -- sh -c 'echo hi'", "kubectl taint nodes n1 k=v:NoSchedule",
])
def test_real_kubectl_accepts_the_dry_run_flags(command: str, tmp_path: Path) -> None:
    """kubectl parses the dry-run argv (a bad flag fails before any connection); the server is unreachable."""
    plan = dry_run_plan(command)
    assert plan is not None
    kc = tmp_path / "kubeconfig"
    kc.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}]}))
    argv = [plan.argv[0], f"--kubeconfig={kc}", "--request-timeout=5s", f"--cache-dir={tmp_path / 'cache'}",
            *plan.argv[1:]]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, input="")
    assert r.returncode != 0
    assert "unknown flag" not in r.stderr and "unknown shorthand" not in r.stderr, r.stderr
    assert "127.0.0.1:1" in r.stderr or "connection refused" in r.stderr, r.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("program", ["grep", "head", "tail", "cut", "ls", "wc"])
def test_gnu_option_table_matches_the_installed_tools(program: str) -> None:
    """The long options `PROG --help` lists are in gnu_flags (an option outside it labels the command unknown)."""
    from sre_expert.safety.gnu_flags import OPTIONS

    path = shutil.which(program)
    text = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30).stdout if path else ""
    if "GNU" not in text and "gnu.org" not in text:
        pytest.skip(f"{program} is not the GNU tool")
    listed = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][\w-]*)", text, re.M))
    assert listed and listed <= OPTIONS[program]


@pytest.mark.e2e
@pytest.mark.needs("kubectl")
@pytest.mark.parametrize("verb", ["get", "delete", "scale", "exec", "kustomize", "create", "taint"])
def test_flag_table_matches_real_kubectl(verb: str) -> None:
    """Every flag `kubectl <verb> --help` lists is in the table (a flag outside it labels the command unknown)."""
    text = subprocess.run([KUBECTL, verb, "--help"], capture_output=True, text=True, timeout=30).stdout
    options = text.split("Options:", 1)[1].split("Usage:", 1)[0] if "Options:" in text else ""
    listed = {f for s, l in re.findall(r"^    (?:-(\w), )?--([a-zA-Z0-9-]+)", options, re.M)
              for f in ("--" + l, "-" + s if s else "--" + l)}
    assert listed and listed <= ALL_FLAGS[verb]


@pytest.mark.e2e
@pytest.mark.needs("kubectl")
@pytest.mark.parametrize("verb", sorted(VALUE_FLAGS))
def test_value_flag_table_matches_real_kubectl(verb: str) -> None:
    """The table of flags that take a value is what `kubectl <verb> --help` says (ours may list subcommands' too)."""
    text = subprocess.run([KUBECTL, verb, "--help"], capture_output=True, text=True, timeout=30).stdout
    options = text.split("Options:", 1)[1].split("Usage:", 1)[0] if "Options:" in text else ""
    value_flags = set()
    for short, long, default in re.findall(r"^    (?:-(\w), )?--([a-z0-9-]+)=(.*):$", options, re.M):
        if default not in ("true", "false") and long not in ("dry-run", "validate", "cascade"):
            value_flags.add("--" + long)
            if short:
                value_flags.add("-" + short)
    assert value_flags <= VALUE_FLAGS[verb]


# -- the CLI ---------------------------------------------------------------------------------------------------

def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, input=stdin, timeout=60)


@pytest.mark.e2e
def test_cli_classify_json_and_exit_status() -> None:
    r = _run("guard", "classify", "-o", "json", "--", "kubectl", "exec", "pg-0", "--", "psql", "-c", "DROP TABLE t")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["class"] == "destructive" and doc["exposesSecrets"] is False and doc["reasons"]
    # JSON is the default, as the README shows; people ask for the coloured text with -o terminal
    r = _run("guard", "classify", "--", "kubectl", "-n", "prod", "delete", "pod", "api-1")
    assert r.returncode == 0 and json.loads(r.stdout)["class"] == "destructive"
    r = _run("guard", "classify", "-o", "terminal", "kubectl get pods | grep x")
    assert r.returncode == 0 and r.stdout.startswith("read-only")
    r = _run("guard", "classify", "-o", "tsv", "kubectl get pods | grep x")
    assert r.stdout == "read-only\tfalse\tkubectl get pods | grep x\n"


@pytest.mark.e2e
def test_cli_classify_batch_tsv_and_json_lines(tmp_path: Path) -> None:
    f = tmp_path / "cmds.txt"
    f.write_text("kubectl get pods\n# a comment\n\nkubectl get secret x -o yaml\nhelm uninstall \\\n  api\n")
    r = _run("guard", "classify", "--batch", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["read-only\tfalse\tkubectl get pods",
                                     "read-only\ttrue\tkubectl get secret x -o yaml",
                                     "destructive\tfalse\thelm uninstall api"]
    r = _run("guard", "classify", "--batch", "-", "-o", "json", stdin="kubectl delete ns x\n")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert rows == [{"class": "destructive", "exposesSecrets": False, "reasons": rows[0]["reasons"],
                     "command": "kubectl delete ns x"}]


@pytest.mark.e2e
def test_cli_classify_bad_usage_exits_2_without_traceback(tmp_path: Path) -> None:
    for args in (("guard", "classify"), ("guard", "classify", "--batch", str(tmp_path / "missing.txt")),
                 ("guard", "classify", "--batch", "-", "kubectl get pods")):
        r = _run(*args, stdin="")
        assert r.returncode == 2 and "Traceback" not in r.stderr and "error" in r.stderr.lower(), args
