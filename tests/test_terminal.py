"""The terminal as an on-call engineer meets it: 80 and 200 columns on a TTY, and piped into grep."""

from __future__ import annotations

import io
import os
import re
import subprocess

import pytest
from rich.console import Console

from sre_expert.diagnosis.engine import diagnose
from sre_expert.report.terminal import render_terminal, shorten
from sre_expert.sources.bundle import load_bundle
from sre_expert.sources.resolve import demo_path

from test_cli import EXE


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
    from sre_expert.report.terminal import plural, roots_line
    from sre_expert.diagnosis.engine import Report

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
