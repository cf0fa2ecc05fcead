"""`sre-expert trace TARGET`: follow a request outside-in. Top level imports typer, the standard library
and the shared options only; the trace loads when the command runs."""

from __future__ import annotations

from typing import Annotated

import typer

from sre_expert.edges.cli.options import (
    BundleOpt,
    ContextOpt,
    DemoOpt,
    KubeconfigOpt,
    Output,
    OutputOpt,
    PrometheusOpt,
    load_snapshot,
    stdout_console,
)


def register(app: typer.Typer) -> None:
    """Add `trace` to the main CLI."""
    app.command("trace")(trace)


def trace(
    target: Annotated[str, typer.Argument(
        help="HOST (api.mycureapp.com), or an object as kubectl names it: route/NS/NAME, svc/NS/NAME, pod/NS/NAME, "
             "deploy/NS/NAME (also sts, ds), or KIND/NAME with -n NS.", metavar="TARGET")],
    namespace: Annotated[str | None, typer.Option(
        "--namespace", "-n", metavar="NS", help="Namespace of a KIND/NAME target (default: default).")] = None,
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

    snap = load_snapshot(bundle, demo, context, kubeconfig, prometheus=prometheus)
    raise typer.Exit(run_trace(snap, target, output.value, stdout_console(), namespace=namespace))
