"""`sre-expert check` (one cluster, or a fleet of them) and `sre-expert checks` (the catalogue of codes).

Top level imports typer, the standard library and the shared options only; the diagnosis and the renderers
load when a command runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Annotated, cast

import typer

from sre_expert.edges.cli.options import (
    DemoOpt,
    FailOn,
    FailOnOpt,
    FleetBundleOpt,
    FleetContextOpt,
    KubeconfigOpt,
    Output,
    OutputOpt,
    PrometheusOpt,
    ReportOutput,
    ReportOutputOpt,
    Severity,
    SeverityOpt,
    live_defaults,
    load_snapshot,
    print_error,
    stdout_console,
    usage_error,
)

if TYPE_CHECKING:
    from sre_expert.render.fleet_view import Member


def register(app: typer.Typer) -> None:
    """Add `check` and `checks` to the main CLI."""
    app.command("check")(check)
    app.command("checks")(checks_catalogue)


def check(
    bundle: FleetBundleOpt = None,
    demo: DemoOpt = False,
    context: FleetContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: ReportOutputOpt = ReportOutput.terminal,
    namespace: Annotated[list[str] | None, typer.Option(
        "--namespace", "-n", metavar="NS[,NS…]",
        help="Only findings in these namespaces (comma-separated or repeated); their root causes are kept. "
             "Live: list only these namespaces.")] = None,
    component: Annotated[list[str] | None, typer.Option(
        "--component", "-c", metavar="NAME[,NAME…]",
        help="Only findings of these components (comma-separated or repeated), e.g. workloads,gateway.")] = None,
    severity: SeverityOpt = Severity.info,
    fail_on: FailOnOpt = FailOn.warning,
    prometheus: PrometheusOpt = None,
    brief: Annotated[bool, typer.Option(
        "--brief", metavar="", help="Only the first page: one line per root cause.")] = False,
    full: Annotated[bool, typer.Option(
        "--full", metavar="", help="Every evidence line, fix and symptom, nothing shortened.")] = False,
) -> None:
    """Sweep the whole platform: root causes first, each with evidence and a fix.

    Examples: [bold]sre-expert check --demo[/] · [bold]sre-expert check -b ./snapshot -o json[/] ·
    [bold]sre-expert check -b snap.tar.gz -n lfh-staging -o markdown[/] ·
    [bold]sre-expert check -b ./snapshot --fail-on critical[/] (for CI gates)

    Components for -c: workloads, networking, storage, nodes, autoscaling, quota, events, gateway, cert-manager, \
external-secrets, velero, monitoring, policy, argocd, platform.

    [bold]Several clusters[/]: [bold]sre-expert check --context prod --context staging[/] (--kubeconfig applies to
    every context) or [bold]sre-expert check -b prod=prod.tgz -b staging=staging.tgz[/] (NAME= is optional: a
    cluster is named after its context or path otherwise): each cluster's report under its name,
    then a fleet summary, one line per cluster (root causes by severity, its exit status). A cluster that
    cannot be read is reported unreadable and the others are still checked; the exit status is the worst
    cluster's. -o json gives {"failOn", "exitCode", "clusters": {NAME: {"readable", "exitCode", "rootCauses",
    "error", "report"}}} (docs/fleet.schema.json; each report is the one-cluster contract).

    Exit status: 0 nothing reaches --fail-on, 1 something does, 2 bad usage or unreadable input.
    """
    from sre_expert.diagnosis.engine import diagnose, exit_status, filter_report

    namespace, component = split_names(namespace, "namespace"), split_names(component, "component")
    if component:
        from sre_expert.knowledge.catalogue import catalogue

        known_or_exit(component, sorted({s.component for s in catalogue().values()}), "component", "in the catalogue")
    bundles, contexts = list(bundle or ()), list(context or ())
    if len(bundles) > 1 or len(contexts) > 1:
        raise typer.Exit(check_fleet(bundles, contexts, demo, kubeconfig, output, namespace, component, severity,
                                     fail_on, prometheus, brief, full))
    one_bundle, one_context = (bundles[0] if bundles else None), (contexts[0] if contexts else None)
    namespace = list(live_defaults(one_bundle, demo, one_context, kubeconfig, prometheus, namespace).namespaces) or None
    snap = load_snapshot(one_bundle, demo, one_context, kubeconfig, namespaces=namespace, prometheus=prometheus)
    # A live sweep that may not list Namespaces (a tenant's namespaced Role) cannot tell an empty namespace
    # from a missing one: the API answers both with empty lists. Only judge what the snapshot can know.
    if namespace and (snap.info.source != "live" or snap.collected("Namespace")):
        known_or_exit(namespace, [n for n in snap.namespaces() if n], "namespace", "in the snapshot")
    report = diagnose(snap)
    if namespace or component or severity is not Severity.info:
        report = filter_report(report, namespace or (), component or (), severity.value)
    if output is ReportOutput.json:
        from sre_expert.render.json_report import render_json

        sys.stdout.buffer.write(render_json(report))
    elif output in (ReportOutput.junit, ReportOutput.sarif):
        from sre_expert.render.ci_formats import render_ci

        sys.stdout.buffer.write(render_ci(report, output.value, suite="sre-expert check", fail_on=fail_on.value))
    elif output is ReportOutput.markdown:
        from sre_expert.render.markdown import render_markdown

        sys.stdout.write(render_markdown(report))
    else:
        from sre_expert.render.terminal import render_terminal

        render_terminal(report, stdout_console(), brief=brief, full=full)
    raise typer.Exit(exit_status(report, fail_on.value))


def fleet_members(bundles: Sequence[str], contexts: Sequence[str]) -> list[Member]:
    """The members in command-line order, named as `serve` names its clusters; ValueError (a usage error) for
    a name given twice."""
    from sre_expert.edges.webhook.clusters import named_flags
    from sre_expert.render.fleet_view import Member

    return [Member(name, bundle=bundle, context=context) for name, bundle, context in named_flags(bundles, contexts)]


def fleet_problem(demo: bool, bundles: list[str], contexts: list[str], kubeconfig: str | None,
                  prometheus: str | None) -> str | None:
    """Why these options cannot make a fleet, or None."""
    if demo:
        return "--demo is one cluster: give either --demo or several --bundle/--context"
    if bundles and (contexts or kubeconfig):
        return "give either bundles (--bundle) or live clusters (--context/--kubeconfig), not both"
    if prometheus:
        return ("--prometheus names one cluster's Prometheus: with several clusters each is read from the "
                "bundle's own metrics or, live, through its API server")
    return None


def check_fleet(bundles: list[str], contexts: list[str], demo: bool, kubeconfig: str | None, output: ReportOutput,
                namespace: list[str] | None, component: list[str] | None, severity: Severity, fail_on: FailOn,
                prometheus: str | None, brief: bool, full: bool) -> int:
    """`check` over several clusters (render/fleet_view.py); returns the exit status (the worst cluster's)."""
    from sre_expert.core.snapshot import Snapshot
    from sre_expert.render import fleet_view as fleet
    from sre_expert.sources.resolve import open_source

    problem = fleet_problem(demo, bundles, contexts, kubeconfig, prometheus)
    try:
        members = fleet_members(bundles, contexts)
    except ValueError as e:
        problem = problem or str(e)
    if problem:
        print_error(problem)
        return 2
    # the config file's kubeconfig and namespaces apply to live members; its one context and one
    # Prometheus describe a single cluster, so they never apply to a fleet
    kubeconfig_path, namespaces = None, list(namespace or ())
    if contexts:
        src = live_defaults(None, False, contexts[0], kubeconfig, None, namespace)
        kubeconfig_path, namespaces = src.kubeconfig, list(src.namespaces)
    live_ns = tuple(namespaces)

    def load(m: Member) -> Snapshot:
        if m.bundle is not None:
            return open_source(m.bundle, False, progress=False)
        # each live read's summary line on stderr, named (no progress bar: they run at once)
        return open_source(None, False, m.context, kubeconfig_path, namespaces=live_ns,
                           stream=cast(IO[str], fleet.NamedLines(m.name, sys.stderr)))  # write/flush/isatty

    outcomes = fleet.check_fleet(members, load, namespaces=namespaces, components=component or (),
                                 severity=severity.value, fail_on=fail_on.value)
    missing = fleet.unmatched_namespaces(outcomes, namespaces)
    if missing:
        known_or_exit(missing, sorted(set().union(*(o.namespaces for o in outcomes))), "namespace",
                      "in any cluster")
    if output is ReportOutput.json:
        sys.stdout.buffer.write(fleet.render_fleet_json(outcomes, fail_on.value))
    elif output in (ReportOutput.junit, ReportOutput.sarif):
        sys.stdout.buffer.write(fleet.render_fleet_ci(outcomes, output.value, fail_on=fail_on.value))
    elif output is ReportOutput.markdown:
        sys.stdout.write(fleet.render_fleet_markdown(outcomes))
    else:
        fleet.render_fleet_terminal(outcomes, stdout_console(), brief=brief, full=full)
    return fleet.fleet_exit(outcomes)


def split_names(values: list[str] | None, what: str) -> list[str] | None:
    """Repeated and comma-separated values as one list (`-n a,b -n c`); an empty name is a usage error,
    since a filter that names nothing would report a healthy platform."""
    if not values:
        return None
    out = [v.strip() for value in values for v in value.split(",")]
    if any(not v for v in out):
        raise usage_error(f"an empty {what} name selects nothing; give a {what} name (-{what[0]} NAME, or NAME,NAME)")
    return list(dict.fromkeys(out))


def unknown_names(wanted: list[str], known: list[str]) -> list[tuple[str, list[str]]]:
    """Each wanted name that is not known, with up to three close known names (typos, prefixes)."""
    import difflib

    out = []
    for name in wanted:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
            close += [k for k in known if name in k and k not in close][: 3 - len(close)]
            out.append((name, close))
    return out


def known_or_exit(wanted: list[str], known: list[str], what: str, where: str) -> None:
    """Exit 2 naming each filter value that names nothing: kubectl says "No resources found", and a
    filtered report that is empty must not read as a healthy platform."""
    missing = unknown_names(wanted, known)
    if not missing:
        return
    for name, close in missing:
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        print_error(f"{what} {name} is not {where}{hint}")
    if len(known) <= 30:
        print_error(f"{what}s {where}: {', '.join(known)}")
    raise typer.Exit(2)


def checks_catalogue(
    code: Annotated[str | None, typer.Argument(help="Show one code in full (any case: pod-crashloop).")] = None,
    output: OutputOpt = Output.terminal,
) -> None:
    """List every check code with its severity, component and what it means."""
    from sre_expert.knowledge.catalogue import catalogue

    cat = catalogue()
    specs = sorted(cat.values(), key=lambda s: (s.component, s.code))
    if code:
        wanted = code.strip().upper().replace("_", "-")
        if wanted not in cat:
            import difflib

            close = difflib.get_close_matches(wanted, list(cat), n=3)
            raise usage_error(f"unknown code {code}; " + (f"did you mean {', '.join(close)}? " if close else "")
                              + "`sre-expert checks` lists every code")
        specs = [cat[wanted]]
    if output is Output.json:
        import orjson

        rows = [
            {"code": s.code, "component": s.component, "severity": s.severity, "title": s.title,
             "explanation": s.explanation, "runbook": s.runbook,
             "remediation": [{"description": r.description, "command": r.command, "safety": r.safety}
                             for r in s.remediation]}
            for s in specs
        ]
        sys.stdout.buffer.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2) + b"\n")
        return
    if output is Output.markdown:
        sys.stdout.write("| code | component | severity | title |\n|---|---|---|---|\n")
        for s in specs:
            sys.stdout.write(f"| {s.code} | {s.component} | {s.severity} | {s.title} |\n")
        return
    from rich.table import Table
    from rich.text import Text

    from sre_expert.render.terminal import emit, emit_command, print_fitted

    console = stdout_console()
    if code:
        s = specs[0]
        emit(console, Text.assemble((s.code, "bold"), f" · {s.component} · {s.severity}"))
        emit(console, Text(s.title, style="bold"))
        console.print()
        emit(console, s.explanation)
        console.print()
        for r in s.remediation:
            emit(console, Text(r.description + (f"  [{r.safety}]" if r.command else "")), 7, "  fix: ")
            if r.command:
                emit_command(console, Text(r.command, style="bold"), 7)
        return
    table = Table(title=f"{len(specs)} checks", show_lines=False)
    for col in ("code", "component", "severity"):
        table.add_column(col, no_wrap=True)  # a code or name split across lines cannot be found or copied
    table.add_column("title", overflow="fold")
    for s in specs:
        table.add_row(s.code, s.component, s.severity, s.title)
    print_fitted(console, table)
