"""Command line: `sre-expert check` and friends. Heavy work is imported inside each command."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated, Any, Optional

import typer

# Every environment variable sre-expert reads (tests/test_cli_ux.py greps src/ to keep this list whole).
ENVIRONMENT = (
    ("KUBECONFIG", "kubeconfig file(s) for a live read when --kubeconfig is not given (else ~/.kube/config)"),
    ("KUBERNETES_SERVICE_HOST", "with KUBERNETES_SERVICE_PORT: inside a pod, read the cluster with its service account"),
    ("KUBERNETES_SERVICE_PORT", "see KUBERNETES_SERVICE_HOST"),
    ("XDG_CONFIG_HOME", "the config file is $XDG_CONFIG_HOME/sre-expert/config.yaml (default ~/.config)"),
    ("XDG_STATE_HOME", "audit log and agent transcripts live under $XDG_STATE_HOME/sre-expert (default ~/.local/state)"),
    ("HOME", "the base of the defaults above, and the HOME of commands a runbook or the gate runs"),
    ("SRE_EXPERT_AUDIT_LOG", "the audit log file (guard run, runbook run, agent, mcp run_command)"),
    ("SRE_EXPERT_TOKEN", "serve: the bearer token every client sends (16+ characters)"),
    ("SRE_EXPERT_DB", "serve: the database when --db is not given, e.g. postgresql://… for replicas (keeps the password out of ps)"),
    ("SRE_EXPERT_MODEL", "ask/chat: the model (else --model, the config file, the agent definition)"),
    ("SRE_EXPERT_PROVIDER", "ask/chat: anthropic, openai or openai-compatible"),
    ("SRE_EXPERT_BASE_URL", "ask/chat: an OpenAI-compatible server, e.g. http://localhost:11434/v1"),
    ("ANTHROPIC_API_KEY", "ask/chat: the Anthropic key (never passed to commands sre-expert runs)"),
    ("OPENAI_API_KEY", "ask/chat: the OpenAI key (never passed to commands sre-expert runs)"),
    ("SRE_EXPERT_MCP_LOG", "mcp: log level on stderr (default WARNING)"),
    ("SHELL", "bundle serve --shell: the shell it opens"),
    ("PATH", "where runbook steps and confirmed commands find their programs (allow-listed reads: a fixed PATH)"),
    ("LANG", "passed to the kubectl of bundle sandboxes"),
)

ENVIRONMENT_HELP = (
    "[bold]Config file[/]: $XDG_CONFIG_HOME/sre-expert/config.yaml (default ~/.config/sre-expert/config.yaml) "
    "sets defaults for live reads: context, kubeconfig, prometheus, namespace; flags win, and it is ignored "
    "with --bundle or --demo.\n\n"
    "[bold]Environment[/]: " + " · ".join(name for name, _ in ENVIRONMENT) + " (README: Environment and configuration)."
)

app = typer.Typer(
    name="sre-expert",
    help=(
        "Find what is broken on a Kubernetes platform, why, with proof, and the fix.\n\n"
        "Start with: sre-expert check --demo   (the bundled demo platform)\n\n"
        "or:         sre-expert check --bundle ./snapshot   (kubectl get -o json output, or a support bundle)"
    ),
    epilog=ENVIRONMENT_HELP,
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from sre_expert import __version__

        print(f"sre-expert {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Options that belong to the program rather than to one command."""


class Output(str, Enum):
    terminal = "terminal"
    json = "json"
    markdown = "markdown"


class ReportOutput(str, Enum):
    """check and lint: the three outputs of every command, plus the two CI systems read."""

    terminal = "terminal"
    json = "json"
    markdown = "markdown"
    junit = "junit"
    sarif = "sarif"


class Severity(str, Enum):
    critical = "critical"
    warning = "warning"
    info = "info"


class FailOn(str, Enum):
    critical = "critical"
    warning = "warning"
    info = "info"
    never = "never"


BundleOpt = Annotated[
    Optional[str],
    typer.Option("--bundle", "-b", metavar="PATH", help="Bundle directory or .tar.gz (kubectl JSON/YAML, or a troubleshoot.sh support bundle)."),
]
DemoOpt = Annotated[bool, typer.Option("--demo", metavar="", help="Use the demo platform shipped with sre-expert.")]
ContextOpt = Annotated[Optional[str], typer.Option("--context", metavar="NAME", help="Read this kube context live (read-only LISTs).")]
KubeconfigOpt = Annotated[Optional[str], typer.Option("--kubeconfig", metavar="FILE", help="Kubeconfig file for a live read.")]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="terminal, json (the stable contract) or markdown.")]
ReportOutputOpt = Annotated[ReportOutput, typer.Option(
    "--output", "-o", help="terminal, json (the stable contract), markdown, junit (JUnit XML: a testcase per finding, "
                           "failures from --fail-on) or sarif (SARIF 2.1.0 for code scanning).")]
PrometheusOpt = Annotated[
    Optional[str],
    typer.Option("--prometheus", metavar="URL", help="Prometheus URL (http://host:9090) for metric checks, queried at the snapshot's time. "
                 "Live without it: the cluster's Prometheus through the API server proxy."),
]


def _err(msg: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(msg)}", highlight=False)


def _load(bundle: str | None, demo: bool, context: str | None = None, kubeconfig: str | None = None,
          namespaces: list[str] | None = None, prometheus: str | None = None):
    """The snapshot for the source options; a live sweep given namespaces lists only inside them (a
    namespaced Role is then enough)."""
    from sre_expert.sources.bundle_reader import BundleError
    from sre_expert.sources.resolve import open_source

    src = _live_defaults(bundle, demo, context, kubeconfig, prometheus, namespaces)
    try:
        return open_source(bundle, demo, src.context, src.kubeconfig, namespaces=src.namespaces,
                           prometheus=src.prometheus)
    except BundleError as e:
        _err(str(e))
        raise typer.Exit(2) from None


def _live_defaults(bundle: str | None, demo: bool, context: str | None, kubeconfig: str | None,
                   prometheus: str | None, namespaces: list[str] | tuple[str, ...] | None):
    """The source options with the config file's defaults filled in (flags win; live reads only).
    A config file that cannot be used is a usage error, exit 2."""
    from sre_expert.edges.cli.user_config import ConfigError, apply, load_defaults

    try:
        defaults = load_defaults()
    except ConfigError as e:
        _err(str(e))
        raise typer.Exit(2) from None
    return apply(defaults, bundle=bundle, demo=demo, context=context, kubeconfig=kubeconfig,
                 prometheus=prometheus, namespaces=namespaces)


class _RedactingStdout:
    """stdout for rich: every chunk it prints passes the redactor (trace, component, dr quote the cluster).

    Piped, trailing blanks are dropped from every line (a table pads its cells), so lines stay greppable."""

    def __init__(self) -> None:
        from sre_expert.safety.redact import PlaceholderTable

        self._table = PlaceholderTable()
        self._plain = not sys.stdout.isatty()
        self._pending = ""  # blanks at the end of the last chunk: written only if more text follows on the line

    def write(self, text: str) -> int:
        from sre_expert.safety.redact import redact

        out = redact(text, table=self._table)
        if self._plain:
            out = _strip_line_ends(self._pending + out)
            stripped = out.rstrip(" ")
            self._pending, out = out[len(stripped):], stripped
        return sys.stdout.write(out)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()


def _strip_line_ends(text: str) -> str:
    """`text` without the blanks before each newline."""
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def _console():
    """rich Console on stdout. Piped, text is never wrapped (soft wrap); tables use print_fitted."""
    from rich.console import Console

    out = _RedactingStdout()
    return Console(highlight=False, file=out, soft_wrap=not out.isatty())


FleetBundleOpt = Annotated[
    Optional[list[str]],
    typer.Option("--bundle", "-b", metavar="PATH", help="Bundle directory or .tar.gz (kubectl JSON/YAML, or a troubleshoot.sh "
                 "support bundle). Repeat it to check several: one report each, then a fleet summary."),
]
FleetContextOpt = Annotated[Optional[list[str]], typer.Option(
    "--context", metavar="NAME", help="Read this kube context live (read-only LISTs). Repeat it to check several "
                                      "clusters at once (read concurrently): one report each, then a fleet summary.")]


@app.command()
def check(
    bundle: FleetBundleOpt = None,
    demo: DemoOpt = False,
    context: FleetContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: ReportOutputOpt = ReportOutput.terminal,
    namespace: Annotated[
        Optional[list[str]], typer.Option("--namespace", "-n", metavar="NS[,NS…]", help="Only findings in these namespaces (comma-separated or repeated); their root causes are kept. Live: list only these namespaces.")
    ] = None,
    component: Annotated[
        Optional[list[str]], typer.Option("--component", "-c", metavar="NAME[,NAME…]", help="Only findings of these components (comma-separated or repeated), e.g. workloads,gateway.")
    ] = None,
    severity: Annotated[Severity, typer.Option("--severity", "-s", help="Lowest severity to show.")] = Severity.info,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when a finding reaches this severity.")] = FailOn.warning,
    prometheus: PrometheusOpt = None,
    brief: Annotated[bool, typer.Option("--brief", metavar="", help="Only the first page: one line per root cause.")] = False,
    full: Annotated[bool, typer.Option("--full", metavar="", help="Every evidence line, fix and symptom, nothing shortened.")] = False,
) -> None:
    """Sweep the whole platform: root causes first, each with evidence and a fix.

    Examples: [bold]sre-expert check --demo[/] · [bold]sre-expert check -b ./snapshot -o json[/] ·
    [bold]sre-expert check -b snap.tar.gz -n lfh-staging -o markdown[/] ·
    [bold]sre-expert check -b ./snapshot --fail-on critical[/] (for CI gates)

    Components for -c: workloads, networking, storage, nodes, autoscaling, quota, events, gateway, cert-manager, external-secrets, velero, monitoring, policy, argocd, platform.

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

    namespace, component = _names(namespace, "namespace"), _names(component, "component")
    if component:
        from sre_expert.knowledge.catalogue import catalogue

        _known_or_exit(component, sorted({s.component for s in catalogue().values()}), "component", "in the catalogue")
    bundles, contexts = list(bundle or ()), list(context or ())
    if len(bundles) > 1 or len(contexts) > 1:
        raise typer.Exit(_check_fleet(bundles, contexts, demo, kubeconfig, output, namespace, component, severity,
                                      fail_on, prometheus, brief, full))
    bundle, context = (bundles[0] if bundles else None), (contexts[0] if contexts else None)
    namespace = list(_live_defaults(bundle, demo, context, kubeconfig, prometheus, namespace).namespaces) or None
    snap = _load(bundle, demo, context, kubeconfig, namespaces=namespace, prometheus=prometheus)
    # A live sweep that may not list Namespaces (a tenant's namespaced Role) cannot tell an empty namespace
    # from a missing one: the API answers both with empty lists. Only judge what the snapshot can know.
    if namespace and (snap.info.source != "live" or snap.collected("Namespace")):
        _known_or_exit(namespace, [n for n in snap.namespaces() if n], "namespace", "in the snapshot")
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

        render_terminal(report, _console(), brief=brief, full=full)
    raise typer.Exit(exit_status(report, fail_on.value))


def _check_fleet(bundles: list[str], contexts: list[str], demo: bool, kubeconfig: str | None, output: ReportOutput,
                 namespace: list[str] | None, component: list[str] | None, severity: Severity, fail_on: FailOn,
                 prometheus: str | None, brief: bool, full: bool) -> int:
    """`check` over several clusters (commands/fleet.py); returns the exit status (the worst cluster's)."""
    from sre_expert.render import fleet_view as fleet
    from sre_expert.sources.resolve import open_source

    problem = None
    if demo:
        problem = "--demo is one cluster: give either --demo or several --bundle/--context"
    elif bundles and (contexts or kubeconfig):
        problem = "give either bundles (--bundle) or live clusters (--context/--kubeconfig), not both"
    elif prometheus:
        problem = ("--prometheus names one cluster's Prometheus: with several clusters each is read from the "
                   "bundle's own metrics or, live, through its API server")
    try:
        members = fleet.members(bundles, contexts)
    except ValueError as e:
        problem = problem or str(e)
    if problem:
        _err(problem)
        return 2
    # the config file's kubeconfig and namespaces apply to live members; its one context and one
    # Prometheus describe a single cluster, so they never apply to a fleet
    kubeconfig_path, namespaces = None, list(namespace or ())
    if contexts:
        src = _live_defaults(None, False, contexts[0], kubeconfig, None, namespace)
        kubeconfig_path, namespaces = src.kubeconfig, list(src.namespaces)
    live_ns = tuple(namespaces)

    def load(m: fleet.Member):
        if m.bundle is not None:
            return open_source(m.bundle, False, progress=False)
        # each live read's summary line on stderr, named (no progress bar: they run at once)
        return open_source(None, False, m.context, kubeconfig_path, namespaces=live_ns,
                           stream=fleet.NamedLines(m.name, sys.stderr))

    outcomes = fleet.check_fleet(members, load, namespaces=namespaces, components=component or (),
                                 severity=severity.value, fail_on=fail_on.value)
    missing = fleet.unmatched_namespaces(outcomes, namespaces)
    if missing:
        _known_or_exit(missing, sorted(set().union(*(o.namespaces for o in outcomes))), "namespace",
                       "in any cluster")
    if output is ReportOutput.json:
        sys.stdout.buffer.write(fleet.render_fleet_json(outcomes, fail_on.value))
    elif output in (ReportOutput.junit, ReportOutput.sarif):
        sys.stdout.buffer.write(fleet.render_fleet_ci(outcomes, output.value, fail_on=fail_on.value))
    elif output is ReportOutput.markdown:
        sys.stdout.write(fleet.render_fleet_markdown(outcomes))
    else:
        fleet.render_fleet_terminal(outcomes, _console(), brief=brief, full=full)
    return fleet.fleet_exit(outcomes)


def _names(values: list[str] | None, what: str) -> list[str] | None:
    """Repeated and comma-separated values as one list (`-n a,b -n c`); an empty name is a usage error,
    since a filter that names nothing would report a healthy platform."""
    if not values:
        return None
    out = [v.strip() for value in values for v in value.split(",")]
    if any(not v for v in out):
        _err(f"an empty {what} name selects nothing; give a {what} name (-{what[0]} NAME, or NAME,NAME)")
        raise typer.Exit(2)
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


def _known_or_exit(wanted: list[str], known: list[str], what: str, where: str) -> None:
    """Exit 2 naming each filter value that names nothing: kubectl says "No resources found", and a
    filtered report that is empty must not read as a healthy platform."""
    missing = unknown_names(wanted, known)
    if not missing:
        return
    for name, close in missing:
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        _err(f"{what} {name} is not {where}{hint}")
    if len(known) <= 30:
        _err(f"{what}s {where}: {', '.join(known)}")
    raise typer.Exit(2)


@app.command("checks")
def checks_catalogue(
    code: Annotated[Optional[str], typer.Argument(help="Show one code in full (any case: pod-crashloop).")] = None,
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
            _err(f"unknown code {code}; " + (f"did you mean {', '.join(close)}? " if close else "")
                 + "`sre-expert checks` lists every code")
            raise typer.Exit(2)
        specs = [cat[wanted]]
    if output is Output.json:
        import orjson

        rows = [
            {"code": s.code, "component": s.component, "severity": s.severity, "title": s.title,
             "explanation": s.explanation, "runbook": s.runbook,
             "remediation": [{"description": r.description, "command": r.command, "safety": r.safety} for r in s.remediation]}
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

    from sre_expert.render.terminal import emit, emit_command

    console = _console()
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
    from sre_expert.render.terminal import print_fitted

    table = Table(title=f"{len(specs)} checks", show_lines=False)
    for col in ("code", "component", "severity"):
        table.add_column(col, no_wrap=True)  # a code or name split across lines cannot be found or copied
    table.add_column("title", overflow="fold")
    for s in specs:
        table.add_row(s.code, s.component, s.severity, s.title)
    print_fitted(console, table)


@app.command()
def trace(
    target: Annotated[str, typer.Argument(
        help="HOST (api.mycureapp.com), or an object as kubectl names it: route/NS/NAME, svc/NS/NAME, pod/NS/NAME, "
             "deploy/NS/NAME (also sts, ds), or KIND/NAME with -n NS.", metavar="TARGET")],
    namespace: Annotated[Optional[str], typer.Option("--namespace", "-n", metavar="NS", help="Namespace of a KIND/NAME target (default: default).")] = None,
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: OutputOpt = Output.terminal,
    prometheus: PrometheusOpt = None,
) -> None:
    """Follow a request outside-in and stop at the first broken hop.

    Gateway → listener → HTTPRoute → Service → endpoints → Pods → containers; the broken hop comes with
    its evidence, its fix, and what else it takes down, then the root cause `check` links it to.

    Examples: [bold]sre-expert trace api.mycureapp.com --demo[/] · [bold]sre-expert trace deploy/mycure-production/api --demo[/] ·
    [bold]sre-expert trace pod/mongodb-0 -n mycure-production --demo[/]

    Exit status: 0 every hop passes, 1 a hop is broken, 2 the target cannot be resolved.
    """
    from sre_expert.render.trace_view import run_trace

    snap = _load(bundle, demo, context, kubeconfig, prometheus=prometheus)
    raise typer.Exit(run_trace(snap, target, output.value, _console(), namespace=namespace))


@app.command()
def component(
    name: Annotated[Optional[str], typer.Argument(help="Component name, e.g. cert-manager, velero; omit for all.")] = None,
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: OutputOpt = Output.terminal,
) -> None:
    """One platform component: installed?, version, controllers, what is unhealthy, and how to debug it."""
    from sre_expert.render.component_view import run_component, run_components_list
    from sre_expert.diagnosis.engine import diagnose

    snap = _load(bundle, demo, context, kubeconfig)
    report = diagnose(snap)
    if name is None:
        raise typer.Exit(run_components_list(snap, report, output.value, _console()))
    raise typer.Exit(run_component(snap, report, name, output.value, _console()))


dr_app = typer.Typer(help="Disaster recovery: RPO compliance per namespace and recovery plans from real backups.",
                     no_args_is_help=True)
app.add_typer(dr_app, name="dr")


@dr_app.command("status")
def dr_status_cmd(
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: OutputOpt = Output.terminal,
) -> None:
    """Each namespace: the schedule covering it, its last good backup, its age, and whether the RPO is met.

    Exit status: 0 every RPO met, 1 some RPO missed.
    """
    from sre_expert.render.dr_view import run_dr_status

    snap = _load(bundle, demo, context, kubeconfig)
    raise typer.Exit(run_dr_status(snap, output.value, _console()))


@dr_app.command("plan")
def dr_plan_cmd(
    scenario: Annotated[str, typer.Argument(help="A scenario of the RTO/RPO table, e.g. namespace-deletion.")],
    namespace: Annotated[Optional[str], typer.Option("--namespace", "-n", metavar="NS", help="Namespace to recover.")] = None,
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: OutputOpt = Output.terminal,
) -> None:
    """The recovery procedure for a scenario, with concrete safety-classified commands built from the snapshot.

    Nothing is executed: the plan is printed for a human to follow.
    """
    from sre_expert.render.dr_view import run_dr_plan

    snap = _load(bundle, demo, context, kubeconfig)
    raise typer.Exit(run_dr_plan(snap, scenario, namespace, output.value, _console()))


@app.command()
def version() -> None:
    """Print the version."""
    from sre_expert import __version__

    print(__version__)


# Command groups that live in their own modules (each module stays light at import: typer and the
# standard library only; everything heavy is imported inside its commands).
def _register_command_groups() -> None:
    from sre_expert.edges.cli import (
        agent_cli,
        bundle_cli,
        guard_cli,
        lint_cli,
        mcp_cli,
        rules_cli,
        runbook_cli,
        serve_cli,
    )

    for mod in (bundle_cli, guard_cli, runbook_cli, lint_cli, rules_cli, serve_cli, agent_cli, mcp_cli):
        mod.register(app)


_register_command_groups()


def plain_metavars(cmd: Any) -> None:
    """Help shows what to type, not Python types: an option or argument without its own metavar gets its
    name in capitals (`PATH`, `REPO-URL`) and a flag none, where Typer would print `<str>`, `<list[str]>`
    or `<bool>`. Choices keep Typer's `<a|b|c>`: that already says what to type."""
    for param in getattr(cmd, "params", ()):
        desc = getattr(param, "type_descriptor", None)
        if param.metavar is not None or desc is None or desc.is_choice:
            continue
        param.metavar = "" if getattr(param, "is_flag", False) else (param.name or "value").upper().replace("_", "-")
    for sub in getattr(cmd, "commands", {}).values():
        plain_metavars(sub)


def main() -> None:
    import typer.core
    import typer.main

    # The type column beside an argument's metavar and a flag (`--help` included) says `<str>`/`<bool>`.
    option_type = typer.core.TyperOption.display_type_rich
    typer.core.TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]
    typer.core.TyperOption.display_type_rich = (  # type: ignore[method-assign]
        lambda self, ctx: None if self.is_flag else option_type(self, ctx))
    cmd = typer.main.get_command(app)
    plain_metavars(cmd)
    cmd()


if __name__ == "__main__":
    main()
