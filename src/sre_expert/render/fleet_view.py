"""`sre-expert check` over several clusters: `--context a --context b` (or `--bundle x --bundle y`).

Each member is read and diagnosed on its own, so one that cannot be read (an unknown context, an API
server that is down, a bundle that holds nothing) becomes an "unreadable" entry with its error and never
stops the others. Live members are read concurrently (threads: the time goes to the network); bundles one
after the other (the time goes to the CPU, and holding several large bundles at once only costs memory).

The exit status is the worst member's: 2 when one is unreadable, else 1 when one reaches --fail-on.

JSON output (`--output json` with several members; a single member keeps the one-report contract;
schema: docs/fleet.schema.json):

    {
      "failOn": "warning",
      "exitCode": 1,                        # the process's exit status: the worst member's
      "clusters": {                         # one entry per member, in command-line order
        "prod": {
          "readable": true,
          "exitCode": 1,                    # what `check` alone would exit with for this member
          "rootCauses": {"critical": 1, "warning": 2, "info": 0},
          "error": null,                    # why it could not be read (then "report" is null)
          "report": {…}                     # one cluster's report (docs/findings.schema.json), unchanged
        }
      }
    }
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, diagnose, exit_status, filter_report

SEVERITIES = ("critical", "warning", "info")
UNREADABLE_EXIT = 2  # the contract's "unreadable input"
MAX_THREADS = 8


@dataclass(frozen=True, slots=True)
class Member:
    """One cluster of the fleet, named as the command line named it (the context, or the bundle path)."""

    name: str
    bundle: str | None = None
    context: str | None = None


@dataclass(slots=True)
class Outcome:
    """What `check` concluded about one member: its report, or why it could not be read."""

    member: Member
    report: Report | None = None
    error: str | None = None
    exit_code: int = UNREADABLE_EXIT
    namespaces: frozenset[str] = field(default_factory=frozenset)  # those it holds, for the -n check
    judged_namespaces: bool = False  # whether it can tell an empty namespace from a missing one

    @property
    def readable(self) -> bool:
        return self.report is not None


def shown(text: str) -> str:
    """`text` for a person (terminal, Markdown, JUnit): secrets redacted, control characters spelled out.
    A member is named after a context or a path, and its error may quote what an API server answered."""
    from sre_expert.safety.controls import visible_controls
    from sre_expert.safety.redact import redact

    return visible_controls(redact(text))


class NamedLines:
    """A text stream that writes each complete line to `out` as `NAME: line`, one line at a time: the
    live reads of several clusters report at once on one stderr. Never a terminal, so no progress bar."""

    _lock = threading.Lock()

    def __init__(self, name: str, out: IO[str]):
        self.name, self.out, self._partial = shown(name), out, ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        if lines:
            with self._lock:
                self.out.write("".join(f"{self.name}: {shown(line)}\n" for line in lines))
                self.out.flush()
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def root_counts(report: Report) -> dict[str, int]:
    """Root causes by severity: what needs fixing, as the summary line counts it."""
    out = dict.fromkeys(SEVERITIES, 0)
    for f in report.findings:
        if f.root_cause:
            out[f.severity] += 1
    return out


def fleet_exit(outcomes: Iterable[Outcome]) -> int:
    """The worst member's exit status (2 unreadable > 1 reaches --fail-on > 0); 0 for no members."""
    return max((o.exit_code for o in outcomes), default=0)


def _error_text(e: BaseException) -> str:
    from sre_expert.sources.bundle_reader import BundleError

    # a BundleError's message is written for people; anything else also says what it was
    text = str(e) if isinstance(e, BundleError) else f"{type(e).__name__}: {e}"
    return text.strip() or type(e).__name__


def check_member(member: Member, load: Callable[[Member], Snapshot], *, namespaces: Sequence[str],
                 components: Sequence[str], severity: str, fail_on: str) -> Outcome:
    """Read and diagnose one member; any failure to read it is its outcome, never an exception."""
    try:
        snap = load(member)
    except Exception as e:  # one unreadable cluster must not hide the others
        return Outcome(member, error=_error_text(e))
    report = diagnose(snap)
    if namespaces or components or severity != "info":
        report = filter_report(report, namespaces, components, severity)
    judged = snap.info.source != "live" or snap.collected("Namespace")
    return Outcome(member, report, None, exit_status(report, fail_on),
                   frozenset(n for n in snap.namespaces() if n), judged)


def check_fleet(fleet: Sequence[Member], load: Callable[[Member], Snapshot], *, namespaces: Sequence[str] = (),
                components: Sequence[str] = (), severity: str = "info", fail_on: str = "warning") -> list[Outcome]:
    """Every member's outcome, in the order given. Live members are read in threads."""
    def one(m: Member) -> Outcome:
        return check_member(m, load, namespaces=namespaces, components=components, severity=severity,
                            fail_on=fail_on)

    threads = min(MAX_THREADS, len(fleet)) if any(m.context is not None for m in fleet) else 1
    if threads <= 1:
        return [one(m) for m in fleet]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sre-expert-fleet") as pool:
        return list(pool.map(one, fleet))


def unmatched_namespaces(outcomes: Sequence[Outcome], wanted: Sequence[str]) -> list[str] | None:
    """The -n names no readable member holds, or None when no member can judge (all unreadable, or live
    reads without the right to list Namespaces): a name missing from only some clusters is normal."""
    judges = [o for o in outcomes if o.readable and o.judged_namespaces]
    if not wanted or not judges:
        return None
    known = set().union(*(o.namespaces for o in judges))
    return [n for n in wanted if n not in known]


# ------------------------------------------------------------------------------------------- JSON


def fleet_dict(outcomes: Sequence[Outcome], fail_on: str) -> dict[str, Any]:
    """The fleet document (module docstring); each report is the contract's, redacted as it is alone."""
    from sre_expert.render.json_report import report_dict
    from sre_expert.safety.redact import redact

    clusters: dict[str, Any] = {}
    for o in outcomes:
        clusters[o.member.name] = {
            "readable": o.readable,
            "exitCode": o.exit_code,
            "rootCauses": root_counts(o.report) if o.report is not None else None,
            "error": redact(o.error) if o.error else None,
            "report": report_dict(o.report) if o.report is not None else None,
        }
    return {"failOn": fail_on, "exitCode": fleet_exit(outcomes), "clusters": clusters}


def render_fleet_json(outcomes: Sequence[Outcome], fail_on: str) -> bytes:
    import orjson

    return orjson.dumps(fleet_dict(outcomes, fail_on), option=orjson.OPT_INDENT_2) + b"\n"


# ------------------------------------------------------------------------------------------- text


def roots_words(outcome: Outcome) -> str:
    """`2 root causes (1 critical, 1 warning)`, or `unreadable: why`, for the summary."""
    from sre_expert.core.wording import plural

    if outcome.report is None:
        return f"unreadable: {shown(outcome.error or '')}"
    counts = root_counts(outcome.report)
    parts = [f"{counts[s]} {s}" for s in SEVERITIES if counts[s]]
    return plural(sum(counts.values()), "root cause") + (f" ({', '.join(parts)})" if parts else "")


def summary_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """One line per member: name, root causes by severity (or why unreadable), its exit status."""
    names = [shown(o.member.name) for o in outcomes]
    width = max((len(n) for n in names), default=0)
    return [f"{n:<{width}}  exit {o.exit_code}  {roots_words(o)}" for n, o in zip(names, outcomes)]


def render_fleet_terminal(outcomes: Sequence[Outcome], console: Any, *, brief: bool = False,
                          full: bool = False) -> None:
    """Each member's report under a heading with its name, then the fleet summary."""
    from rich.text import Text

    from sre_expert.core.wording import plural
    from sre_expert.render.terminal import emit, render_terminal

    for i, o in enumerate(outcomes):
        if i:
            console.print()
        emit(console, Text(f"━━ cluster {shown(o.member.name)} ━━", style="bold"))
        if o.report is None:
            emit(console, Text.assemble(("unreadable", "bold red"), f": {shown(o.error or '')}"))
            continue
        render_terminal(o.report, console, brief=brief, full=full)
    console.print()
    worst = fleet_exit(outcomes)
    emit(console, Text(f"Fleet: {plural(len(outcomes), 'cluster')}, exit {worst}", style="bold"))
    for o, line in zip(outcomes, summary_lines(outcomes)):
        style = "red" if o.report is None else ("yellow" if o.exit_code else "green")
        emit(console, Text(line, style=style), 4, Text("  "))


def render_fleet_markdown(outcomes: Sequence[Outcome]) -> str:
    """Each member's Markdown report under `# Cluster NAME`, then the summary table."""
    from sre_expert.render.markdown import render_markdown

    parts: list[str] = []
    for o in outcomes:
        parts.append(f"# Cluster `{shown(o.member.name)}`\n\n")
        if o.report is None:
            parts.append(f"**Unreadable**: {shown(o.error or '')}\n\n")
        else:
            parts.append(render_markdown(o.report).rstrip("\n") + "\n\n")
    parts.append(f"# Fleet summary\n\nExit status {fleet_exit(outcomes)} (the worst cluster's).\n\n"
                 "| cluster | exit | root causes |\n|---|---|---|\n")
    for o in outcomes:
        words = roots_words(o).replace("|", "\\|")
        parts.append(f"| `{shown(o.member.name)}` | {o.exit_code} | {words} |\n")
    return "".join(parts)


# ------------------------------------------------------------------------------------------- CI


def render_fleet_ci(outcomes: Sequence[Outcome], fmt: str, *, fail_on: str) -> bytes:
    """JUnit: one <testsuite> per member in one <testsuites>, an unreadable member one <error> testcase.
    SARIF: one run per member (`properties.fleetMember`), an unreadable member a run that did not
    execute successfully, with the error as its notification."""
    import xml.etree.ElementTree as ET

    import orjson

    from sre_expert import __version__
    from sre_expert.knowledge.catalogue import catalogue
    from sre_expert.render.ci_formats import SARIF_SCHEMA, junit, sarif
    from sre_expert.render.json_report import report_dict
    from sre_expert.safety.redact import redact

    if fmt == "sarif":
        runs = []
        for o in outcomes:
            if o.report is None:
                runs.append({
                    "tool": {"driver": {"name": "sre-expert", "version": __version__, "semanticVersion": __version__}},
                    "invocations": [{"executionSuccessful": False, "toolExecutionNotifications": [
                        {"level": "error", "message": {"text": f"unreadable: {redact(o.error or '')}"}}]}],
                    "results": [],
                    "properties": {"fleetMember": o.member.name},
                })
                continue
            run = sarif(report_dict(o.report), version=__version__, catalogue=dict(catalogue()))["runs"][0]
            run["properties"]["fleetMember"] = o.member.name
            runs.append(run)
        doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    root = ET.Element("testsuites", {"name": "sre-expert check"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for o in outcomes:
        suite_name = f"sre-expert check {shown(o.member.name)}"  # XML 1.0 holds no control characters
        if o.report is None:
            ts = ET.SubElement(root, "testsuite", {"name": suite_name, "tests": "1", "failures": "0",
                                                   "errors": "1", "skipped": "0", "time": "0"})
            case = ET.SubElement(ts, "testcase", {"classname": suite_name, "name": "read the cluster", "time": "0"})
            ET.SubElement(case, "error", {"message": f"unreadable: {shown(o.error or '')}", "type": "unreadable"})
            totals["tests"] += 1
            totals["errors"] += 1
            continue
        suite = junit(report_dict(o.report), suite=suite_name, fail_on=fail_on).find("testsuite")
        assert suite is not None
        root.append(suite)
        totals["tests"] += int(suite.get("tests", "0"))
        totals["failures"] += int(suite.get("failures", "0"))
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
