"""`sre-expert mcp`: serve the deterministic tools to an MCP client over stdio.

Top level imports typer and the standard library only; the MCP SDK (~0.5 s) is imported when the command
runs. stdout carries the protocol alone: messages and logs go to stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Optional

import typer

BundleOpt = Annotated[Optional[str], typer.Option("--bundle", "-b", help="Bundle directory or .tar.gz to diagnose.")]
DemoOpt = Annotated[bool, typer.Option("--demo", help="Use the demo platform shipped with sre-expert.")]
ContextOpt = Annotated[Optional[str], typer.Option("--context", help="Read this kube context live (read-only LISTs).")]
KubeconfigOpt = Annotated[Optional[str], typer.Option("--kubeconfig", help="Kubeconfig file for a live read.")]
NamespaceOpt = Annotated[Optional[list[str]], typer.Option(
    "--namespace", "-n", help="Live: list only these namespaces (repeatable; a namespaced Role is then enough).")]
AuditOpt = Annotated[Optional[str], typer.Option(
    "--audit-log", help="Audit log for run_command (default $SRE_EXPERT_AUDIT_LOG or ~/.local/state/sre-expert/audit.log).")]
TimeoutOpt = Annotated[float, typer.Option("--command-timeout", min=1.0, help="Seconds before run_command kills a command.")]


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: NamespaceOpt = None,
    audit_log: AuditOpt = None,
    command_timeout: TimeoutOpt = 60.0,
) -> None:
    """Serve sre-expert's tools to an MCP client (Claude Desktop, an IDE, an agent) over stdio.

    Tools: check, trace, component, runbook, dr_status, pod_logs, describe, guard_classify, redact (all read-only, redacted, capped at ~20k characters) and run_command, which runs a command only when the guard proves it read-only and refuses everything else.

    The source is read on the first tool call. With --bundle or --demo, run_command's kubectl reads the snapshot through a local read-only API.

    Client configuration: [bold]{"command": "sre-expert", "args": ["mcp", "--demo"]}[/]
    """

    from sre_expert.edges.cli.main import _err
    from sre_expert.edges.extras import missing_extra
    from sre_expert.sources.resolve import source_problem

    if lacking := missing_extra("mcp", "sre-expert mcp"):
        _err(lacking)
        raise typer.Exit(2)
    problem = source_problem(bundle, demo, context, kubeconfig)
    if problem:
        _err(problem)
        raise typer.Exit(2)

    from sre_expert.edges.mcp_server import serve_stdio
    from sre_expert.sources.resolve import open_source
    from sre_expert.edges.toolbox import Toolbox

    live = not (bundle or demo)

    def load() -> Any:
        return open_source(bundle, demo, context, kubeconfig, namespaces=namespace or (), progress=False)

    import threading

    toolbox = Toolbox(load)
    sandboxes: list[Any] = []
    started = threading.Lock()  # tools run in worker threads: two first commands must start one API
    if live:
        from sre_expert.edges.agent.tools import live_shell_env

        # our environment minus the model keys and the serve token: commands need cloud credentials, not those
        command_env: Any = live_shell_env(kubeconfig)
        source = "a live cluster" + (f" (context {context}: pass --context {context} to every kubectl command)"
                                     if context else "")
    else:
        def command_env() -> dict[str, str]:
            """kubectl against the snapshot: a loopback read-only API, started on the first command."""
            with started:
                if not sandboxes:
                    from sre_expert.edges.apiserver.sandbox import KubectlSandbox

                    sandboxes.append(KubectlSandbox.start(toolbox.snapshot()))
                return sandboxes[0].env

        source = ("the demo platform" if demo else f"the bundle {bundle}") + (
            "; run_command's kubectl reads this snapshot through a local read-only API")
    if sys.stdin.isatty():
        sys.stderr.write("sre-expert mcp speaks the Model Context Protocol on stdin/stdout: start it from an MCP "
                         "client, e.g. {\"command\": \"sre-expert\", \"args\": [\"mcp\", \"--demo\"]}. "
                         "Ctrl-C to stop.\n")
    try:
        serve_stdio(toolbox, command_env=command_env, audit_path=audit_log, command_timeout=command_timeout,
                    source=source)
    except KeyboardInterrupt:
        pass
    finally:
        for s in sandboxes:
            s.close()
    sys.stderr.flush()
