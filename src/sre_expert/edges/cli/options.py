"""What every command group of the CLI shares: the option types (one definition and one help text for each
source option) and the helpers every group needs (the error line, the snapshot from the source options, the
redacting console).

Imported by every group module at start-up, so it imports typer, the standard library and user_config.py
(stdlib only at import) only; rich, the sources and the config file load when a helper runs.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import IO, TYPE_CHECKING, Annotated, cast

import typer

from sre_expert.edges.cli.user_config import ConfigError, SourceOptions, apply, load_defaults

if TYPE_CHECKING:
    from rich.console import Console

    from sre_expert.core.snapshot import Snapshot


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


# -- the source options: where the snapshot comes from -------------------------------------------------------

BUNDLE_HELP = "Bundle directory or .tar.gz (kubectl JSON/YAML, or a troubleshoot.sh support bundle)."
CONTEXT_HELP = "Read this kube context live (read-only LISTs)."

BundleOpt = Annotated[str | None, typer.Option("--bundle", "-b", metavar="PATH", help=BUNDLE_HELP)]
DemoOpt = Annotated[bool, typer.Option("--demo", metavar="", help="Use the demo platform shipped with sre-expert.")]
ContextOpt = Annotated[str | None, typer.Option("--context", metavar="NAME", help=CONTEXT_HELP)]
KubeconfigOpt = Annotated[str | None, typer.Option(
    "--kubeconfig", metavar="FILE", help="Kubeconfig file for a live read (default: $KUBECONFIG, else ~/.kube/config; "
                                         "in a pod without either, its service account).")]
LiveNamespacesOpt = Annotated[list[str] | None, typer.Option(
    "--namespace", "-n", metavar="NS",
    help="Live: list only these namespaces (repeatable; a namespaced Role is then enough, see deploy/rbac.yaml).")]
PrometheusOpt = Annotated[str | None, typer.Option(
    "--prometheus", metavar="URL",
    help="Prometheus URL (http://host:9090) for metric checks, queried at the snapshot's time. "
         "Live without it: the cluster's Prometheus through the API server proxy.")]
# `check` over several clusters: the same options, repeatable
FleetBundleOpt = Annotated[list[str] | None, typer.Option(
    "--bundle", "-b", metavar="PATH",
    help=BUNDLE_HELP[:-1] + ". Repeat it to check several: one report each, then a fleet summary.")]
FleetContextOpt = Annotated[list[str] | None, typer.Option(
    "--context", metavar="NAME", help=CONTEXT_HELP + " Repeat it to check several clusters at once (read "
                                                     "concurrently): one report each, then a fleet summary.")]

# -- what a command writes ------------------------------------------------------------------------------------

OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="terminal, json (the stable contract) or markdown.")]
ReportOutputOpt = Annotated[ReportOutput, typer.Option(
    "--output", "-o", help="terminal, json (the stable contract), markdown, junit (JUnit XML: a testcase per finding, "
                           "failures from --fail-on) or sarif (SARIF 2.1.0 for code scanning).")]
SeverityOpt = Annotated[Severity, typer.Option("--severity", "-s", help="Lowest severity to show.")]
FailOnOpt = Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when a finding reaches this severity.")]


# -- helpers ---------------------------------------------------------------------------------------------------

def print_error(msg: str) -> None:
    """`error: MSG` on stderr, the message escaped (it may quote a cluster's text) and never wrapped."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(msg)}", highlight=False)


def usage_error(msg: str) -> typer.Exit:
    """Print `msg` as an error and return the usage-error exit (2) for the caller to raise."""
    print_error(msg)
    return typer.Exit(2)


def live_defaults(bundle: str | None, demo: bool, context: str | None, kubeconfig: str | None,
                  prometheus: str | None, namespaces: list[str] | tuple[str, ...] | None) -> SourceOptions:
    """The source options with the config file's defaults filled in (flags win; live reads only).
    A config file that cannot be used is a usage error, exit 2."""
    try:
        defaults = load_defaults()
    except ConfigError as e:
        raise usage_error(str(e)) from None
    return apply(defaults, bundle=bundle, demo=demo, context=context, kubeconfig=kubeconfig,
                 prometheus=prometheus, namespaces=namespaces)


def load_snapshot(bundle: str | None, demo: bool, context: str | None = None, kubeconfig: str | None = None,
                  namespaces: list[str] | None = None, prometheus: str | None = None) -> Snapshot:
    """The snapshot for the source options; a live sweep given namespaces lists only inside them (a
    namespaced Role is then enough). An unreadable source is a usage error, exit 2."""
    from sre_expert.sources.bundle_reader import BundleError
    from sre_expert.sources.resolve import open_source

    src = live_defaults(bundle, demo, context, kubeconfig, prometheus, namespaces)
    try:
        return open_source(bundle, demo, src.context, src.kubeconfig, namespaces=src.namespaces,
                           prometheus=src.prometheus)
    except BundleError as e:
        raise usage_error(str(e)) from None


class RedactingStdout:
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
            out = strip_line_ends(self._pending + out)
            stripped = out.rstrip(" ")
            self._pending, out = out[len(stripped):], stripped
        return sys.stdout.write(out)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    def fileno(self) -> int:
        return sys.stdout.fileno()


def strip_line_ends(text: str) -> str:
    """`text` without the blanks before each newline."""
    return "\n".join(line.rstrip(" ") for line in text.split("\n"))


def stdout_console() -> Console:
    """rich Console on stdout, redacted. Piped, text is never wrapped (soft wrap); tables use print_fitted."""
    from rich.console import Console

    out = RedactingStdout()  # writes, flushes and answers isatty/fileno: all rich asks of a file
    return Console(highlight=False, file=cast(IO[str], out), soft_wrap=not out.isatty())
