"""`sre-expert ask` and `sre-expert chat`: the optional LLM agent over the same tools as the CLI.

Top level imports typer and the standard library only; pydantic-ai (~1.6 s) is imported when a command runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from sre_expert.edges.cli.options import (
    BundleOpt,
    ContextOpt,
    DemoOpt,
    KubeconfigOpt,
    LiveNamespacesOpt,
    load_snapshot,
    print_error,
    stdout_console,
)

# Test seam: tests set these (monkeypatch) to inject a scripted model / an approver; production leaves them
# None. Deliberately not reachable from the environment or the command line.
_TEST_MODEL: Any = None
_TEST_APPROVER: Any = None

AgentOpt = Annotated[str | None, typer.Option(
    "--agent", help="Agent definition file (front matter + instructions); default: the one shipped.")]
ModelOpt = Annotated[str | None, typer.Option(
    "--model", "-m", help="Model: sonnet, opus, haiku, a model id, or provider:model (openai:gpt-…, ollama:llama3.1).")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="Config file (default ~/.config/sre-expert/config.yaml).")]
RepoOpt = Annotated[str | None, typer.Option(
    "--repo", help="Configuration repository the agent may Read/Grep/Glob (nothing outside it).")]
ReadOnlyOpt = Annotated[bool, typer.Option(
    "--read-only", help="Refuse every command that is not read-only (no approval prompt).")]
MaxTurnsOpt = Annotated[int | None, typer.Option(
    "--max-turns", min=1, max=200, help="Model requests per question (default: the definition's maxTurns, 30).")]
TranscriptOpt = Annotated[str | None, typer.Option(
    "--transcript",
    help="Where to save the redacted transcript (JSON lines); default ~/.local/state/sre-expert/transcripts/.")]
AuditOpt = Annotated[str | None, typer.Option("--audit-log", help="Audit log for commands the agent runs or is refused.")]


@dataclass
class _Opts:
    agent: str | None
    model: str | None
    config: str | None
    repo: str | None
    read_only: bool
    max_turns: int | None
    transcript: str | None
    audit_log: str | None
    bundle: str | None
    demo: bool
    context: str | None
    kubeconfig: str | None
    namespace: list[str] | None


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("chat")(chat)


def _fail(msg: str) -> typer.Exit:
    print_error(msg)
    return typer.Exit(2)


def _open(o: _Opts, stack: ExitStack) -> tuple[Any, Any]:
    """Definition → model → source → tools → session. Every setup problem exits 2 with a message."""
    from pathlib import Path

    from sre_expert.edges.extras import missing_extra

    if lacking := missing_extra("agent", "sre-expert ask and chat"):
        raise _fail(lacking)
    from sre_expert.edges.agent.definition import DefinitionError, load_definition
    from sre_expert.edges.agent.models import ModelConfigError, build_model, load_config, resolve_settings

    try:
        definition = load_definition(o.agent)
    except DefinitionError as e:
        raise _fail(str(e)) from None
    settings = None
    if _TEST_MODEL is not None:
        model = _TEST_MODEL
    else:
        try:
            settings = resolve_settings(cli_model=o.model, definition_model=definition.model,
                                        config=load_config(o.config))
            model = build_model(settings)
        except ModelConfigError as e:
            raise _fail(str(e)) from None
    repo = None
    if o.repo:
        repo = Path(o.repo).expanduser()
        if not repo.is_dir():
            raise _fail(f"--repo {o.repo}: not a directory")
    if not (o.bundle or o.demo or o.context or o.kubeconfig):
        from sre_expert.sources.resolve import live_configured

        if not live_configured():
            raise _fail("no source: give --demo, --bundle PATH, or --context/--kubeconfig for a live cluster")

    from sre_expert.edges.agent.boundary import Boundary, Transcript
    from sre_expert.edges.agent.loop import AgentSession, findings_summary
    from sre_expert.edges.agent.tools import AgentTools
    from sre_expert.edges.apiserver.sandbox import KubectlSandbox
    from sre_expert.edges.toolbox import Toolbox
    from sre_expert.safety.audit import AuditLog

    live = not (o.bundle or o.demo)
    extra = ""
    if live:
        def load() -> Any:
            return load_snapshot(None, False, o.context, o.kubeconfig, namespaces=o.namespace)

        toolbox = Toolbox(load, repo=repo)
        toolbox.snapshot()  # read once now: a bad context fails here, with the CLI's message
        from sre_expert.edges.agent.tools import live_shell_env

        bash_env = live_shell_env(o.kubeconfig, drop=(settings_key_env(o.config),))
        if o.context:
            extra = f"Bash: this is a live cluster; pass --context {o.context} to every kubectl command."
    else:
        snap = load_snapshot(o.bundle, o.demo)
        toolbox = Toolbox(lambda: snap, repo=repo)
        sandbox = KubectlSandbox.start(snap)
        stack.callback(sandbox.close)
        bash_env = sandbox.env
        extra = ("Bash: kubectl reads a captured snapshot of the cluster through a local read-only API "
                 f"(captured at {snap.info.captured_at}); changes cannot take effect there.")
    if repo is None:
        extra += "\nNo configuration repository was given (--repo), so Read/Grep/Glob are not available."
    boundary = Boundary()
    transcript = Transcript(o.transcript, boundary)
    tools = AgentTools(toolbox, boundary, AuditLog(o.audit_log), repo=repo, read_only=o.read_only,
                       bash_env=bash_env, kube_context=o.context or (None if live else "sre-expert-bundle"))
    if o.read_only:
        extra += "\nThis session is read-only: commands that change anything are refused."
    session = AgentSession(definition, model, tools, max_turns=o.max_turns, transcript=transcript,
                           fallback=lambda: findings_summary(toolbox.report()), extra_instructions=extra.strip())
    return session, settings


def settings_key_env(config: str | None) -> str:
    """The variable the config file names for the model key (api_key_env), to keep it from the shell."""
    from sre_expert.edges.agent.models import ModelConfigError, load_config

    try:
        return str(load_config(config).get("api_key_env") or "")
    except ModelConfigError:
        return ""


def _approver() -> Any:
    from sre_expert.edges.agent.loop import DenyingApprover, TerminalApprover

    if _TEST_APPROVER is not None:
        return _TEST_APPROVER
    try:
        tty = sys.stdin.isatty()
    except (AttributeError, ValueError):
        tty = False
    return TerminalApprover() if tty else DenyingApprover()


def _ask_once(session: Any, settings: Any, question: str, approver: Any) -> Any:
    """One question; provider failures become a clear message (exit 2), never a traceback."""
    from pydantic_ai.exceptions import AgentRunError, UserError

    from sre_expert.edges.agent.models import explain_model_error

    try:
        return session.ask(question, approver)
    except (AgentRunError, UserError) as e:
        msg = explain_model_error(e, settings) or f"the agent run failed: {type(e).__name__}: {e}"
        raise _fail(msg) from None
    except OSError as e:  # e.g. the audit log or transcript cannot be written
        raise _fail(f"{e}") from None


def _print_answer(step: Any, session: Any) -> None:
    from rich.markdown import Markdown

    stdout_console().print(Markdown(step.answer or "(no answer)"))
    tokens = f", {step.input_tokens}+{step.output_tokens} tokens" if step.input_tokens or step.output_tokens else ""
    where = f"; transcript: {session.transcript.path}" if session.transcript else ""
    sys.stderr.write(f"[{step.turns} turn(s){tokens}{where}]\n")


def _run(o: _Opts, body: Callable[[Any, Any], int]) -> None:
    with ExitStack() as stack:
        session, settings = _open(o, stack)
        try:
            code = body(session, settings)
        except KeyboardInterrupt:
            sys.stderr.write("\ninterrupted\n")
            code = 130
    raise typer.Exit(code)


def ask(
    question: Annotated[str, typer.Argument(help="What to investigate, e.g. 'why is api.mycureapp.com down?'")],
    agent: AgentOpt = None, model: ModelOpt = None, config: ConfigOpt = None, repo: RepoOpt = None,
    read_only: ReadOnlyOpt = False, max_turns: MaxTurnsOpt = None, transcript: TranscriptOpt = None,
    audit_log: AuditOpt = None, bundle: BundleOpt = None, demo: DemoOpt = False, context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None, namespace: LiveNamespacesOpt = None,
) -> None:
    """Ask the SRE agent one question; it investigates with the product's tools and answers with evidence.

    Examples: [bold]sre-expert ask --demo 'why is api.mycureapp.com returning 503?'[/] ·
    [bold]sre-expert ask -b ./snapshot --repo ./gitops --read-only 'why do secrets not sync in lfh-staging?'[/]

    Commands that change anything run only after you approve them on the terminal (typing the object's
    name); without a terminal, or with --read-only, they are refused. Every tool result is redacted before
    the model sees it; the transcript is saved redacted. With --bundle or --demo, the agent's kubectl reads
    the snapshot through a local read-only API.

    Needs a model: ANTHROPIC_API_KEY, or OPENAI_API_KEY, or SRE_EXPERT_BASE_URL + SRE_EXPERT_MODEL for an
    OpenAI-compatible server (Ollama, vLLM). `check` and `trace` need none.

    Exit status: 0 answered; 1 the turn limit cut the investigation short (best-effort answer); 2 bad usage,
    no model configured, or the provider failed.
    """
    o = _Opts(agent, model, config, repo, read_only, max_turns, transcript, audit_log, bundle, demo, context,
              kubeconfig, namespace)

    def body(session: Any, settings: Any) -> int:
        step = _ask_once(session, settings, question, _approver())
        _print_answer(step, session)
        return 1 if step.limit_reached else 0

    _run(o, body)


def chat(
    agent: AgentOpt = None, model: ModelOpt = None, config: ConfigOpt = None, repo: RepoOpt = None,
    read_only: ReadOnlyOpt = False, max_turns: MaxTurnsOpt = None, transcript: TranscriptOpt = None,
    audit_log: AuditOpt = None, bundle: BundleOpt = None, demo: DemoOpt = False, context: ContextOpt = None,
    kubeconfig: KubeconfigOpt = None, namespace: LiveNamespacesOpt = None,
) -> None:
    """An interactive conversation with the SRE agent (follow-up questions keep the context). /exit ends it.

    Same options and safety as `ask`; --max-turns applies to each question.
    """
    o = _Opts(agent, model, config, repo, read_only, max_turns, transcript, audit_log, bundle, demo, context,
              kubeconfig, namespace)

    def body(session: Any, settings: Any) -> int:
        approver = _approver()
        sys.stderr.write(f"sre-expert chat ({session.definition.name}); /exit to end\n")
        while True:
            sys.stderr.write("you> ")
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                sys.stderr.write("\n")
                return 0
            question = line.strip()
            if not question:
                continue
            if question in ("/exit", "/quit", "exit", "quit"):
                return 0
            step = _ask_once(session, settings, question, approver)
            _print_answer(step, session)

    _run(o, body)
