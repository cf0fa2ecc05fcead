"""Command line: builds the `sre-expert` app and registers its command groups, one module each
(`*_cli.py`, with their shared options in options.py). Heavy work is imported inside each command."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from sre_expert.edges.cli import (
    agent_cli,
    bundle_cli,
    check_cli,
    component_cli,
    dr_cli,
    guard_cli,
    lint_cli,
    mcp_cli,
    rules_cli,
    runbook_cli,
    serve_cli,
    trace_cli,
)

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
    ("SRE_EXPERT_DB",
     "serve: the database when --db is not given, e.g. postgresql://… for replicas (keeps the password out of ps)"),
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


def version() -> None:
    """Print the version."""
    from sre_expert import __version__

    print(__version__)


def register_groups(app: typer.Typer) -> None:
    """Every command and group, in the order `sre-expert --help` lists them (Typer lists commands first,
    then groups, each in the order they were added)."""
    check_cli.register(app)  # check, checks
    trace_cli.register(app)
    component_cli.register(app)
    dr_cli.register(app)
    app.command("version")(version)
    bundle_cli.register(app)  # bundle serve, bundle collect
    guard_cli.register(app)
    runbook_cli.register(app)  # runbook, redact
    lint_cli.register(app)
    rules_cli.register(app)
    serve_cli.register(app)
    agent_cli.register(app)  # ask, chat
    mcp_cli.register(app)


register_groups(app)


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
