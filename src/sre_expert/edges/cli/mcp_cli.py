"""`sre-expert mcp`: serve the deterministic tools to an MCP client over stdio.

Top level imports typer and the standard library only; the MCP SDK (~0.5 s) is imported when the command
runs. stdout carries the protocol alone: messages and logs go to stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from sre_expert.edges.cli.options import (
    BundleOpt,
    ContextOpt,
    DemoOpt,
    KubeconfigOpt,
    LiveNamespacesOpt,
    print_error,
    usage_error,
)

AuditOpt = Annotated[str | None, typer.Option(
    "--audit-log", help="Audit log for run_command (default $SRE_EXPERT_AUDIT_LOG or ~/.local/state/sre-expert/audit.log).")]
TimeoutOpt = Annotated[float, typer.Option("--command-timeout", min=1.0, help="Seconds before run_command kills a command.")]


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)


def mcp(
    bundle: BundleOpt = None,
    demo: DemoOpt = False,
    context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None,
    namespace: LiveNamespacesOpt = None,
    audit_log: AuditOpt = None,
    command_timeout: TimeoutOpt = 60.0,
) -> None:
    """Serve sre-expert's tools to an MCP client (Claude Desktop, an IDE, an agent) over stdio.

    Tools: check, trace, component, runbook, dr_status, pod_logs, describe, guard_classify, redact (all read-only, \
redacted, capped at ~20k characters) and run_command, which runs a command only when the guard proves it read-only \
and refuses everything else.

    The source is read on the first tool call. With --bundle or --demo, run_command's kubectl reads the snapshot \
through a local read-only API.

    Client configuration: [bold]{"command": "sre-expert", "args": ["mcp", "--demo"]}[/]
    """

    from sre_expert.edges.extras import missing_extra
    from sre_expert.sources.resolve import source_problem

    if lacking := missing_extra("mcp", "sre-expert mcp"):
        raise usage_error(lacking)
    problem = source_problem(bundle, demo, context, kubeconfig)
    if problem:
        print_error(problem)
        raise typer.Exit(2)

    from sre_expert.edges.mcp_server import serve_stdio
    from sre_expert.edges.toolbox import Toolbox
    from sre_expert.sources.resolve import open_source

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
