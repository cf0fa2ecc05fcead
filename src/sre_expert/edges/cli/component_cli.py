"""`sre-expert component [NAME]`: one platform component, or the list of them. Top level imports typer,
the standard library and the shared options only; the diagnosis loads when the command runs."""

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
    load_snapshot,
    stdout_console,
)


def register(app: typer.Typer) -> None:
    """Add `component` to the main CLI."""
    app.command("component")(component)


def component(
    name: Annotated[str | None, typer.Argument(help="Component name, e.g. cert-manager, velero; omit for all.")] = None,
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: OutputOpt = Output.terminal,
) -> None:
    """One platform component: installed?, version, controllers, what is unhealthy, and how to debug it."""
    from sre_expert.diagnosis.engine import diagnose
    from sre_expert.render.component_view import run_component, run_components_list

    snap = load_snapshot(bundle, demo, context, kubeconfig)
    report = diagnose(snap)
    if name is None:
        raise typer.Exit(run_components_list(snap, report, output.value, stdout_console()))
    raise typer.Exit(run_component(snap, report, name, output.value, stdout_console()))
