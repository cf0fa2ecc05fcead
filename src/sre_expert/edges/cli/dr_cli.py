"""`sre-expert dr status|plan`: disaster recovery from the snapshot's backups. Top level imports typer, the
standard library and the shared options only; the DR model loads when a command runs."""

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

dr_app = typer.Typer(help="Disaster recovery: RPO compliance per namespace and recovery plans from real backups.",
                     no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `dr` group to the main CLI."""
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

    snap = load_snapshot(bundle, demo, context, kubeconfig)
    raise typer.Exit(run_dr_status(snap, output.value, stdout_console()))


@dr_app.command("plan")
def dr_plan_cmd(
    scenario: Annotated[str, typer.Argument(help="A scenario of the RTO/RPO table, e.g. namespace-deletion.")],
    namespace: Annotated[str | None, typer.Option(
        "--namespace", "-n", metavar="NS", help="Namespace to recover.")] = None,
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

    snap = load_snapshot(bundle, demo, context, kubeconfig)
    raise typer.Exit(run_dr_plan(snap, scenario, namespace, output.value, stdout_console()))
