"""The terminal as an on-call engineer meets it: 80 and 200 columns on a TTY, and piped into grep."""

from __future__ import annotations

import io
import os
import re
import subprocess

import pytest
from rich.console import Console
from test_cli import EXE

from sre_expert.diagnosis.engine import diagnose
from sre_expert.render.terminal import render_terminal, shorten
from sre_expert.sources.bundle_reader import load_bundle
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report():
    return diagnose(load_bundle(demo_path()))


def tty(report, width: int, **kw) -> str:
    """What a terminal of `width` columns shows (no colour codes, so the text can be measured)."""
    buf = io.StringIO()
    render_terminal(report, Console(file=buf, width=width, force_terminal=True, color_system=None,
                                    highlight=False), **kw)
    return buf.getvalue()


def piped(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, env=env)


def commands(report) -> list[str]:
    return [r.command for f in report.findings if f.root_cause for r in f.remediation[:3] if r.command]


@pytest.mark.parametrize("width", [80, 200])
def test_first_page_is_one_line_per_root_cause(report, width: int) -> None:
    out = tty(report, width).splitlines()
    roots = [f for f in report.findings if f.root_cause]
    assert out[1].startswith(f"{len(roots)} root causes (4 critical, 3 warning) · {len(report.findings)} findings in all")
    page = out[3:3 + len(roots)]
    for n, (line, f) in enumerate(zip(page, roots), 1):
        assert line.startswith(f"{n:>2} {f.severity.upper():<9}") and len(line) <= width, line
        assert f.object.name[:12] in line  # the object, on that line
    assert out[3 + len(roots)] == ""  # the page ends; the details follow
    assert 3 + len(roots) < 24  # and it fits an 80x24 screen


@pytest.mark.parametrize("width", [80, 200])
def test_lines_fit_and_continuations_are_indented_under_the_text(report, width: int) -> None:
    out = tty(report, width)
    cmds = set(commands(report))
    for line in out.splitlines():
        if line.strip() in cmds:
            continue  # commands are whole, however long
        assert len(line) <= width, line
    # a wrapped title: its second line starts under the title's first character, never at column 0
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if i > 12 and ln.startswith(" 2 CRITICAL "))
    assert lines[start + 1].startswith(" " * 12) and lines[start + 1].strip()
    assert not any(ln and not ln.startswith(" ") and ln[0].islower() for ln in lines[3:]), "text at column 0"


@pytest.mark.parametrize("width", [80, 200])
def test_fix_commands_are_printed_whole_on_their_own_line(report, width: int) -> None:
    lines = [ln.strip() for ln in tty(report, width).splitlines()]
    cmds = commands(report)
    assert any(len(c) > width - 14 for c in cmds) or width == 200  # the 80-column case does test long ones
    for cmd in cmds:
        assert cmd in lines, cmd


def test_brief_prints_just_the_page_and_full_lifts_the_limits(report) -> None:
    brief = tty(report, 80, brief=True)
    assert "evidence" not in brief and "fix " not in brief and "without --brief" in brief
    normal, full = tty(report, 200), tty(report, 200, full=True)
    assert re.search(r"… \d+ more symptoms \(--full shows all\)", normal)
    assert "more symptoms" not in full and len(full) > len(normal)
    node = next(f for f in report.findings if f.code == "NODE-NOT-READY")
    assert all(g.title in full for g in report.findings if g.id in node.causes)


def test_pluralised_counts() -> None:
    from sre_expert.diagnosis.engine import Report
    from sre_expert.render.terminal import plural, roots_line

    one = diagnose(load_bundle(demo_path()))
    single = Report(one.info, [next(f for f in one.findings if f.code == "CRONJOB-FAILED")], [])
    assert roots_line(single).plain == "1 root cause (1 warning) · 1 finding in all"
    assert plural(2, "symptom") == "2 symptoms"


def test_shorten_cuts_at_a_word_boundary() -> None:
    text = "field error list: spec.containers[0].securityContext.allowPrivilegeEscalation is forbidden"
    out = shorten(text, 60)
    assert out.endswith("…") and len(out) <= 60
    assert text.startswith(out[:-1]) and text[len(out) - 1] in " :"
    assert out == "field error list…"  # the next word would not fit whole: it is left out, not cut
    assert shorten("short", 60) == "short"


def test_piped_check_is_one_line_per_item_never_wrapped_or_padded(report) -> None:
    r = piped("check", "--demo", columns=80)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert not [ln for ln in lines if ln != ln.rstrip()], "trailing blanks"
    assert "\x1b[" not in r.stdout
    for f in report.findings:
        if f.root_cause:
            assert any(f.title in ln for ln in lines), f.title  # whole, on one line
    for cmd in commands(report):
        assert cmd in [ln.strip() for ln in lines]


def test_piped_checks_catalogue_keeps_each_code_on_its_line() -> None:
    r = piped("checks", columns=80)
    assert r.returncode == 0
    hits = [ln for ln in r.stdout.splitlines() if "ARGOCD-APP-SYNC-FAILED" in ln]
    assert len(hits) == 1 and "argocd" in hits[0]
    assert "cert-manager" in r.stdout and not [ln for ln in r.stdout.splitlines() if ln != ln.rstrip()]


@pytest.mark.parametrize("args,message", [
    (("-n", "doesnotexist"), "namespace doesnotexist is not in the snapshot"),
    (("-n", "lfh-stagin"), "did you mean lfh-staging?"),
    (("-c", "nonsense"), "component nonsense is not in the catalogue"),
    (("-n", ""), "empty namespace name"),
])
def test_a_filter_that_names_nothing_is_an_error(args, message: str) -> None:
    r = piped("check", "--demo", *args)
    assert r.returncode == 2 and message in r.stderr and "No problems found" not in r.stdout, r.stderr


def test_comma_form_of_namespace_filter() -> None:
    one = piped("check", "--demo", "-o", "json", "-n", "lfh-staging,mycure-production")
    two = piped("check", "--demo", "-o", "json", "-n", "lfh-staging", "-n", "mycure-production")
    assert one.returncode == 1 and one.stdout == two.stdout and '"mycure-production"' in one.stdout


# ------------------------------------------------------------------------------- full text, no reprs


def test_json_carries_full_text_titles_never_end_in_an_ellipsis() -> None:
    import json

    doc = json.loads(piped("check", "--demo", "-o", "json").stdout)
    assert not [f["title"] for f in doc["findings"] if f["title"].endswith("…")]
    kyverno = next(f for f in doc["findings"] if f["code"] == "KYVERNO-ADMISSION-DENIED")
    rule = next(e for e in kyverno["evidence"] if e.startswith("rule restricted:"))
    # both violations the user must fix, not "forbidden v"
    assert "forbidden values found: nil" in rule and "capabilities" in rule
    bsl = next(f for f in doc["findings"] if f["code"] == "VELERO-BSL-UNAVAILABLE")
    assert "does not have storage.objects.list access" in bsl["title"]


def test_no_python_reprs_in_check_or_trace_output() -> None:
    import json

    leak = re.compile(r"\{'|\['|': '")
    check = piped("check", "--demo", "-o", "json").stdout
    assert not leak.findall(check.replace("\\\"", "")), leak.findall(check)[:3]
    routes = [f"route/{r['namespace']}/{r['name']}" for r in
              (f["object"] for f in json.loads(check)["findings"]) if r["kind"] == "HTTPRoute"]
    for target in ["api.mycure.md", "svc/mycure-production/mongodb", "argocd.mycureapp.com", *routes[:2]]:
        out = piped("trace", target, "--demo").stdout
        assert not re.search(r"selector \{|hosts \[|hostnames \[", out), (target, out)


def test_argocd_placeholder_filled_when_the_application_is_known(report) -> None:
    f = next(f for f in report.findings if f.code == "KYVERNO-ADMISSION-DENIED")
    cmds = [r.command for r in f.remediation if r.command and r.command.startswith("argocd app sync")]
    # the blocked Deployment mycure-production/report-worker is deployed by Application mycure-production
    assert cmds == ["argocd app sync mycure-production --app-namespace argocd"]


def test_not_checked_lines_name_checks_in_words(report) -> None:
    from sre_expert.diagnosis.engine import Report

    r = Report(report.info, [], ["certmanager.issuers: could not read ClusterIssuer: forbidden (grant list on them)"])
    out = tty(r, 80)
    assert "cert-manager issuers: could not read ClusterIssuer" in out and "certmanager.issuers" not in out


def test_markdown_never_prints_the_local_bundle_path(tmp_path) -> None:
    import shutil

    bundle = tmp_path / "home" / "me" / "snapshot-prod"
    shutil.copytree(demo_path(), bundle)
    md = piped("check", "-b", str(bundle), "-o", "markdown").stdout
    assert str(tmp_path) not in md and "`snapshot-prod`" in md.splitlines()[2]
    assert "7 root causes (4 critical, 3 warning) · 65 findings in all" in md


# ------------------------------------------------------------------------------- trace


def test_trace_follows_checks_links_down_to_the_root_cause() -> None:
    import json

    doc = json.loads(piped("trace", "route/mycure-production/api", "--demo", "-o", "json").stdout)
    assert doc["brokenHop"] == "pods"
    roots = {r["code"]: r for r in doc["rootCauses"]}
    db = roots["POD-STORAGE-CORRUPTION"]  # the api pods crash because the database under them cannot start
    assert db["object"]["name"] == "mongodb" and [v["code"] for v in db["via"]][0] == "POD-CRASHLOOP"
    out = piped("trace", "route/mycure-production/api", "--demo").stdout
    assert "root cause CRITICAL StatefulSet mycure-production/mongodb" in out


@pytest.mark.parametrize("args,kind,title", [
    (("deploy/mycure-production/api",), "workload", "pods of Deployment mycure-production/api"),
    (("deployment/api", "-n", "mycure-production"), "workload", "pods of Deployment mycure-production/api"),
    (("pod/mongodb-0", "-n", "mycure-production"), "pod", "Pod mycure-production/mongodb-0"),
    (("svc/mongodb", "-n", "mycure-production"), "service", "Service mycure-production/mongodb"),
])
def test_trace_takes_kubectl_style_targets(args, kind: str, title: str) -> None:
    import json

    r = piped("trace", *args, "--demo", "-o", "json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["resolved"] and doc["targetKind"] == kind, r.stdout[:300]
    assert doc["hops"][0]["title"] == title


def test_trace_says_when_prometheus_is_unreachable() -> None:
    import json

    doc = json.loads(piped("trace", "svc/mycure-production/mongodb", "--demo", "--prometheus", "http://127.0.0.1:9",
                           "-o", "json").stdout)
    assert any("could not be queried" in t and "127.0.0.1:9" in t for t in doc["notChecked"]), doc["notChecked"]
    out = piped("trace", "svc/mycure-production/mongodb", "--demo", "--prometheus", "http://127.0.0.1:9").stdout
    assert "Not checked" in out and "127.0.0.1:9" in out


@pytest.mark.parametrize("width", [80, 200])
def test_trace_commands_whole_and_lines_fit(width: int) -> None:
    from sre_expert.render.trace_view import run_trace

    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=True, color_system=None, highlight=False)
    run_trace(load_bundle(demo_path()), "route/mycure-production/api", "terminal", con)
    lines = buf.getvalue().splitlines()
    assert "kubectl get endpointslices -n mycure-production -l kubernetes.io/service-name=api" in [ln.strip() for ln in lines]
    long = [ln for ln in lines if len(ln) > width and not ln.strip().startswith(("kubectl ", "argocd ", "velero "))]
    assert not long, long[:2]


# ------------------------------------------------------------------------------- component and dr


def test_piped_component_list_keeps_names_whole() -> None:
    r = piped("component", "--demo", columns=80)
    rows = {ln.split()[0]: ln for ln in r.stdout.splitlines()[2:] if ln.strip() and not ln.startswith("Details")}
    assert "cert-manager" in rows and "external-secrets" in rows and "envoy-gateway-system" in rows["envoy-gateway"]
    assert not [ln for ln in r.stdout.splitlines() if ln != ln.rstrip()]


def test_dr_plan_commands_whole_at_80_columns() -> None:
    from sre_expert.render.dr_view import run_dr_plan

    buf = io.StringIO()
    run_dr_plan(load_bundle(demo_path()), "namespace-deletion", "mycure-production", "terminal",
                Console(file=buf, width=80, force_terminal=True, color_system=None))
    lines = [ln.strip() for ln in buf.getvalue().splitlines()]
    restore = [ln for ln in lines if ln.startswith("velero restore create ")]
    assert len(restore) == 1 and restore[0].endswith("--include-namespaces mycure-production --wait")
