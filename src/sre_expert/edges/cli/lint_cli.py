"""`sre-expert lint PATH`: check a GitOps repository before Argo CD applies it, and (with
--against-cluster) compare it with what the cluster runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sre_expert.edges.cli.options import (
    BundleOpt,
    ContextOpt,
    DemoOpt,
    FailOn,
    FailOnOpt,
    KubeconfigOpt,
    ReportOutput,
    ReportOutputOpt,
    Severity,
    SeverityOpt,
    load_snapshot,
    print_error,
    stdout_console,
)


def register(app: typer.Typer) -> None:
    """Add `lint` to the main CLI."""
    app.command("lint")(lint_cmd)


def lint_cmd(
    path: Annotated[str, typer.Argument(help="The repository checkout (values/, infrastructure/, argocd/ …).")],
    crds: Annotated[list[str] | None, typer.Option(
        "--crds", help="Directory of CRD YAML files to validate custom resources against (repeatable).")] = None,
    repo_url: Annotated[str | None, typer.Option(
        "--repo-url", help="The repository URL of this checkout (default: its git remote origin); Argo CD "
        "paths are checked here only for sources naming it.")] = None,
    against_cluster: Annotated[bool, typer.Option(
        "--against-cluster", help="Also report drift against a cluster: live (kube context), --bundle or --demo.")] = False,
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    output: ReportOutputOpt = ReportOutput.terminal,
    severity: SeverityOpt = Severity.info,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Print every finding; by default the terminal folds repeated ones (same code and message "
        "shape) into one group. JSON always lists every finding.")] = False,
    fail_on: FailOnOpt = FailOn.warning,
) -> None:
    """Lint a GitOps repository: alert rules vs the catalogue (and promtool), Velero tiers and locations,
    routes vs gateway listeners and certificates, registries vs the Kyverno allow-list, secret key names,
    Argo CD paths, CRD schemas. Each finding names its file and line.

    Examples: [bold]sre-expert lint ./monobase-infra[/] ·
    [bold]sre-expert lint . --crds ./crds -o json[/] ·
    [bold]sre-expert lint . --against-cluster --context prod[/] ·
    [bold]sre-expert lint . --against-cluster --bundle snap.tar.gz --fail-on critical[/]

    Exit status: 0 nothing reaches --fail-on, 1 something does, 2 bad usage or unreadable input.
    """
    from sre_expert.diagnosis.engine import exit_status, filter_report
    from sre_expert.lint.repo import load_repo
    from sre_expert.lint.runner import lint, order, report

    if (bundle or demo or context or kubeconfig) and not against_cluster:
        print_error("--bundle/--demo/--context/--kubeconfig name the cluster to compare with: add --against-cluster")
        raise typer.Exit(2)
    for d in crds or ():
        if not Path(d).expanduser().is_dir():
            print_error(f"--crds {d}: {'not a directory' if Path(d).expanduser().exists() else 'no such directory'}")
            raise typer.Exit(2)
    try:
        repo = load_repo(path, repo_url=repo_url)
    except (FileNotFoundError, NotADirectoryError, PermissionError) as e:
        print_error(str(e))
        raise typer.Exit(2) from None
    result = lint(repo, crd_dirs=tuple(crds or ()))
    snap = None
    if against_cluster:
        from sre_expert.lint.drift import drift

        snap = load_snapshot(bundle, demo, context, kubeconfig)
        found, skipped = drift(repo, snap)
        result.findings = order(result.findings + found)
        result.not_checked += skipped
    rep = report(result, repo.root, snap.info if snap is not None else None)
    if severity is not Severity.info:
        rep = filter_report(rep, (), (), severity.value)
    header = f"sre-expert lint · {repo.root.name} · {len(repo.docs)} YAML documents in {len(repo.files)} files"
    if snap is not None:
        header += f" · against {snap.info.source} {snap.info.cluster or ''}".rstrip()
    if output is ReportOutput.json:
        from sre_expert.render.json_report import render_json

        sys.stdout.buffer.write(render_json(rep))
    elif output in (ReportOutput.junit, ReportOutput.sarif):
        from sre_expert.render.ci_formats import render_ci

        sys.stdout.buffer.write(render_ci(rep, output.value, suite="sre-expert lint", fail_on=fail_on.value))
    elif output is ReportOutput.markdown:
        from sre_expert.render.lint_report import render_markdown

        sys.stdout.write(render_markdown(rep, header))
    else:
        from sre_expert.render.lint_report import render_terminal

        render_terminal(rep, stdout_console(), header, show_all=show_all)
    raise typer.Exit(exit_status(rep, fail_on.value))
