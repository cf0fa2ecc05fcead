"""The MCP server of `sre-expert mcp`: the toolbox's deterministic tools over the Model Context Protocol.

An MCP client (Claude Desktop, an IDE, an agent) gets the same facts as the CLI: the sweep's findings,
the outside-in trace, component health, DR standing, runbooks, captured logs and objects, the guard and
the redactor. Every tool is read-only and every result passes the toolbox's redaction and size cap.

`run_command` is the one door to a live system: it runs a command only when the execution gate
(`safety.gate`) admits it (kubectl reads and text filters, as argv without a shell) and the guard labels it
read-only without Secret output; anything else is refused with the reason and handed back for a human.
Runs and refusals go to the audit log, output is redacted and capped.

This module imports the MCP SDK at load; `cli_mcp` imports it only when `sre-expert mcp` runs.
"""

# No `from __future__ import annotations`: the SDK reads the tool signatures at runtime.

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from sre_expert import __version__
from sre_expert.edges.toolbox import MAX_TOOL_CHARS, Toolbox, cap

log = logging.getLogger("sre_expert.mcp")

COMMAND_TIMEOUT = 60.0
INSTRUCTIONS = """\
sre-expert diagnoses a Kubernetes platform from one snapshot (a bundle, the demo, or a live read).
Start with `check` (root causes first, each with evidence and fixes), then narrow: `trace` a host or
route, `component` for one controller stack, `describe` an object, `pod_logs` for a crash, `dr_status`
for backups, `runbook` for the procedure. Results are redacted (<redacted:…> placeholders) and capped at
~20k characters: when `truncated` is true, narrow the query (namespace=, component=, tail=).
Nothing here changes the cluster. `run_command` runs read-only commands only; for any change, show the
command to the user and let them run it (e.g. `sre-expert guard run '…'`, which asks for confirmation)."""

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False, idempotent_hint=True)


def tool_result(payload: dict[str, Any]) -> CallToolResult:
    """A tool's dict as MCP content: compact JSON text for the model, the same dict as structured
    content for programs; a result carrying `error` is flagged so the model can correct its call."""
    text = orjson.dumps(payload).decode()
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=payload,
                          is_error="error" in payload)


CommandEnv = Mapping[str, str] | Callable[[], Mapping[str, str] | None] | None


class _RefuseAll:
    """The confirmer of an MCP session: nobody is at a terminal to type a confirmation token."""

    def confirm(self, proposal: Any) -> Any:
        from sre_expert.safety.confirm import Decision

        return Decision(False, "refused", "sre-expert mcp runs read-only commands only")


def run_read_only(command: str, *, env: CommandEnv = None, audit_path: str | Path | None = None,
                  timeout: float = COMMAND_TIMEOUT) -> dict[str, Any]:
    """Run `command` when the execution gate admits it (and the guard labels it read-only); otherwise
    refuse, say why, and hand it back.

    `env`: the command's environment (None: inherit), or a callable giving it, called only when the
    command is allowed to run. Redaction and the cap are applied here: no snapshot is involved."""
    from sre_expert.safety.audit import AuditError, AuditLog, current_kube_context
    from sre_expert.safety.execute import auto_run, may_auto_run, run_guarded, why_asked
    from sre_expert.safety.kubectl_rules import command_context, command_kubeconfig
    from sre_expert.safety.redact import PlaceholderTable, redact, redact_command_output, redact_obj

    table = PlaceholderTable()
    command = command.strip()
    if not command:
        return {"error": "empty command"}
    admission, verdict = auto_run(command)
    shown = redact(command, table=table)
    base = {"command": shown, "class": verdict.cls, "reasons": [redact(r, table=table) for r in verdict.reasons]}
    why = None
    if verdict.interactive:
        why = "it is interactive (a shell, an editor, port-forward or a follow) and needs a terminal"
    elif not may_auto_run(admission, verdict):
        why = redact(why_asked(admission, verdict), table=table)
    audit = AuditLog(audit_path)
    if why is not None:
        try:
            ctx = command_context(command) or current_kube_context(None, command_kubeconfig(command))
            audit.decision(command=command, cls=verdict.cls, exposes=verdict.exposes_secrets, decision="refused",
                           context=ctx, note=f"mcp run_command: {why}")
        except AuditError as e:
            log.warning("audit log: %s", e)
        return {**base, "ran": False,
                "error": f"refused: {why}. sre-expert mcp runs read-only commands only. Show the command to the "
                         f"user and let them run it themselves, e.g. `sre-expert guard run '<command>'`, which "
                         f"previews and asks for confirmation."}
    if callable(env):
        env = env()
    try:
        result = run_guarded(command, confirm=_RefuseAll(), audit=audit, env=env, timeout=timeout,
                             dry_run_first=False)
    except AuditError as e:
        return {**base, "ran": False, "error": f"{e}; nothing was run"}
    if not result.ran:
        return {**base, "ran": False, "error": f"not run ({result.decision}): {result.message}"}
    out = {
        **base, "ran": True, "exitCode": result.exit_code, "durationSeconds": round(result.duration, 3),
        # Output is read after its command line: a bare password printed by `… | base64 -d` is hidden too.
        "stdout": redact_command_output(command, result.stdout.decode("utf-8", errors="replace"), table=table),
        "stderr": redact_command_output(command, result.stderr.decode("utf-8", errors="replace"), table=table),
    }
    if result.exit_code is None:
        out["error"] = result.message or "the command did not finish"
    return cap(redact_obj(out, table=table), MAX_TOOL_CHARS)


def build_server(toolbox: Toolbox, *, command_env: CommandEnv = None, audit_path: str | Path | None = None,
                 command_timeout: float = COMMAND_TIMEOUT, source: str = "") -> MCPServer:
    """An MCPServer exposing `toolbox`.

    `command_env` is the environment of `run_command`, so commands reach what the snapshot came from:
    None inherits this process's; a callable is called on the first run (to start a local API over a
    bundle only when a command needs one)."""
    from sre_expert.safety.redact import redact as redact_text  # `redact` below is the tool of that name

    instructions = INSTRUCTIONS + (f"\nSource: {redact_text(source)}." if source else "")
    server = MCPServer("sre-expert", version=__version__, instructions=instructions, log_level="WARNING")
    tb = toolbox

    @server.tool(annotations=READ_ONLY, description=(
        "Sweep the whole platform: findings ranked root causes first, each with evidence, its fix commands "
        "(labelled read-only/mutating/destructive) and the ids of the findings it causes. Narrow with "
        "namespace= or component=; the root causes behind kept findings are always kept."))
    def check(
        namespace: Annotated[str | None, Field(description="Only findings in this namespace (and their causes).")] = None,
        component: Annotated[str | None, Field(description=(
            "Only findings of this component: workloads, networking, storage, nodes, autoscaling, quota, events, "
            "gateway, cert-manager, external-secrets, velero, monitoring, policy, argocd, platform."))] = None,
        min_severity: Annotated[Literal["critical", "warning", "info"], Field(
            description="Lowest severity to include.")] = "warning",
    ) -> CallToolResult:
        return tool_result(tb.check(namespace, component, min_severity))

    @server.tool(annotations=READ_ONLY, description=(
        "Follow one request outside-in (Gateway → listener → HTTPRoute → Service → endpoints → Pods) and stop "
        "at the first broken hop, with its evidence, its fix and what else it takes down."))
    def trace(
        target: Annotated[str, Field(description=(
            "A host (api.example.com or https://api.example.com/path), route/NS/NAME, svc/NS/NAME or pod/NS/NAME."))],
    ) -> CallToolResult:
        return tool_result(tb.trace(target))

    @server.tool(annotations=READ_ONLY, description=(
        "Platform components (cert-manager, velero, argocd, envoy-gateway, external-secrets, kyverno, "
        "kube-prometheus, falco): without a name, each one's state; with a name, its controllers, version, "
        "findings, what healthy looks like and the commands to debug it."))
    def component(
        name: Annotated[str | None, Field(description="Component name; omit for all.")] = None,
    ) -> CallToolResult:
        return tool_result(tb.component(name))

    @server.tool(annotations=READ_ONLY, description=(
        "Operational runbooks: without a name, the list (id, title, when to use); with a name, its parameters "
        "and steps with commands and their safety class. A human runs them with `sre-expert runbook run ID`."))
    def runbook(
        name: Annotated[str | None, Field(description="Runbook id, e.g. pod-not-starting; omit for the list.")] = None,
    ) -> CallToolResult:
        return tool_result(tb.runbook(name))

    @server.tool(annotations=READ_ONLY, description=(
        "Disaster recovery standing: per namespace the Velero schedules covering it, its newest completed "
        "backup, that backup's age against the namespace's RPO, and the verdict."))
    def dr_status() -> CallToolResult:
        return tool_result(tb.dr_status())

    @server.tool(annotations=READ_ONLY, description=(
        "The newest lines of a container's log as captured in the snapshot (redacted). Use previous=true "
        "for the instance that crashed."))
    def pod_logs(
        namespace: Annotated[str, Field(description="The pod's namespace.")],
        pod: Annotated[str, Field(description="The pod's name.")],
        container: Annotated[str | None, Field(description="Container name; default: the pod's default container.")] = None,
        previous: Annotated[bool, Field(description="The previous (crashed) instance's log.")] = False,
        tail: Annotated[int, Field(description="How many of the newest lines.", ge=1, le=5000)] = 200,
    ) -> CallToolResult:
        return tool_result(tb.pod_logs(namespace, pod, container, previous, tail))

    @server.tool(annotations=READ_ONLY, description=(
        "One object as captured (managedFields dropped; a Secret shows its keys, never its values) with its "
        "recent events. kind accepts Pod, pods, po, certificates.cert-manager.io …"))
    def describe(
        kind: Annotated[str, Field(description="Kind, plural or short name: Deployment, svc, httproute …")],
        name: Annotated[str, Field(description="The object's name.")],
        namespace: Annotated[str | None, Field(description="Its namespace; omit for cluster-scoped kinds.")] = None,
    ) -> CallToolResult:
        return tool_result(tb.describe(kind, namespace, name))

    @server.tool(annotations=READ_ONLY, description=(
        "Classify a shell command line without running it: read-only, mutating, destructive or unknown, "
        "whether it prints Secret values, and why. Parses pipes, lists, sh -c, sudo, xargs …"))
    def guard_classify(
        command: Annotated[str, Field(description="The command line, as typed in bash.")],
    ) -> CallToolResult:
        return tool_result(tb.guard_classify(command))

    @server.tool(annotations=READ_ONLY, description=(
        "Replace secrets and personal data in a text with <redacted:FAMILY#N> placeholders (tokens, passwords, "
        "keys, connection strings, e-mails, phone numbers …)."))
    def redact(
        text: Annotated[str, Field(description="The text to redact.")],
    ) -> CallToolResult:
        return tool_result(tb.redact(text))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True), description=(
        "Run a command ONLY if it is on the read-only allow-list: kubectl get/describe/logs/top/events/explain/"
        "api-resources/version/auth can-i with plain flags, optionally piped into grep/head/tail/wc/sort/uniq/"
        "cut/tr/jq; no shell syntax ($, backticks, ;, &&, >, globs, braces), no env prefixes, no --kubeconfig/"
        "--context/--server, no Secret data. Anything else is refused with the reason: show such a command to "
        "the user to run themselves. Output is redacted and capped; runs and refusals are audited."))
    def run_command(
        command: Annotated[str, Field(description="The command line, e.g. kubectl get pods -n NS -o wide.")],
    ) -> CallToolResult:
        try:
            payload = run_read_only(command, env=command_env, audit_path=audit_path, timeout=command_timeout)
        except Exception as e:  # never a traceback into the protocol
            from sre_expert.safety.redact import redact as red

            payload = {"error": red(f"{type(e).__name__}: {e}")}
        return tool_result(payload)

    return server


def serve_stdio(toolbox: Toolbox, **kwargs: Any) -> None:
    """Serve over stdin/stdout until the client closes. Only the protocol goes to stdout: logs go to
    stderr, and the SDK points fd 1 at stderr while it serves, so a stray print cannot corrupt it."""
    logging.basicConfig(level=os.environ.get("SRE_EXPERT_MCP_LOG", "WARNING").upper(), format="%(name)s: %(message)s")
    build_server(toolbox, **kwargs).run("stdio")
