"""The agent over HTTP (`sre-expert serve`): ask a question, approve or decline its commands, read the answer.

    POST /api/v1/ask                      {"question": "...", "maxTurns": 30?}  → 202 {"id", "status": "running"}
    GET  /api/v1/ask/{id}                 → {"id", "status", "question", "answer", "approvals", "turns", …}
    POST /api/v1/ask/{id}/approvals       {"decisions": {"<approval id>": true|false}} → 202 (resumes)

status: running | needs_approval | done | failed. A command that needs approval pauses the run
(pydantic-ai deferred tools); the approvals list shows each pending command with its guard class, and the
run continues when every one is decided (an id left out is declined). Declines and approved runs go to the
audit log like the CLI's; bundle and demo sources point the agent's kubectl at a local read-only API.

State is kept IN MEMORY, per server process: conversations are lost on restart, and at most
MAX_CONVERSATIONS are kept (the oldest finished ones are dropped first). The bearer-token middleware of the
app protects these routes like every other API route. The model comes from the same settings as
`sre-expert ask` (environment / config file); without one, POST answers 503 with how to configure it.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

MAX_CONVERSATIONS = 100
MAX_QUESTION_CHARS = 4_000
RUNNERS = 2

router = APIRouter()


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    maxTurns: int | None = Field(default=None, ge=1, le=200)  # noqa: N815 (the API's JSON field name)


class ApprovalsBody(BaseModel):
    decisions: dict[str, bool]


class _Conversation:
    def __init__(self, question: str, session: Any) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.question = question
        self.session = session
        self.status = "running"
        self.answer: str | None = None
        self.error: str | None = None
        self.step: Any = None
        self.created = time.time()
        self.lock = threading.Lock()

    def to_json(self) -> dict[str, Any]:
        step = self.step
        return {
            "id": self.id, "status": self.status, "question": self.session.question or self.question,
            "answer": self.answer, "error": self.error,
            "approvals": [a.to_json() for a in (step.approvals if step and self.status == "needs_approval" else [])],
            "turns": step.turns if step else 0, "limitReached": bool(step and step.limit_reached),
            "inputTokens": step.input_tokens if step else 0, "outputTokens": step.output_tokens if step else 0,
        }


class _Registry:
    """The app's conversations, the model, the tools' sandbox; created on first use."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.items: dict[str, _Conversation] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(RUNNERS, thread_name_prefix="agent")
        self.sandbox: Any = None
        self.model: Any = None
        self.settings: Any = None

    # -- building a session --------------------------------------------------------------------------------
    def _model(self) -> Any:
        override = getattr(self.app.state, "agent_model", None)  # tests inject a scripted model here
        if override is not None:
            return override
        if self.model is None:
            from sre_expert.edges.agent.definition import load_definition
            from sre_expert.edges.agent.models import build_model, load_config, resolve_settings

            self.settings = resolve_settings(definition_model=load_definition().model, config=load_config(None))
            self.model = build_model(self.settings)
        return self.model

    def new_session(self, max_turns: int | None) -> Any:
        from sre_expert.edges.agent.boundary import Boundary, Transcript
        from sre_expert.edges.agent.definition import load_definition
        from sre_expert.edges.agent.loop import AgentSession, findings_summary
        from sre_expert.edges.agent.tools import AgentTools, live_shell_env
        from sre_expert.edges.apiserver.sandbox import KubectlSandbox
        from sre_expert.edges.toolbox import Toolbox
        from sre_expert.safety.audit import AuditLog

        srv = self.app.state.server
        config = srv.config
        model = self._model()

        def load() -> Any:
            return srv.source.get()[0]

        toolbox = Toolbox(load)
        context = config.context
        if config.live:
            bash_env = live_shell_env(config.kubeconfig)
            extra = f"Bash: a live cluster; pass --context {context} to kubectl." if context else ""
        else:
            with self.lock:
                if self.sandbox is None:
                    self.sandbox = KubectlSandbox.start(load())
            bash_env = self.sandbox.env
            context = "sre-expert-bundle"
            extra = "Bash: kubectl reads a captured snapshot through a local read-only API."
        boundary = Boundary()
        tools = AgentTools(toolbox, boundary, AuditLog(None), bash_env=bash_env, kube_context=context)
        extra += ("\nCommands that change anything are sent to an operator for approval through the API; "
                  "no configuration repository is available.")
        return AgentSession(load_definition(), model, tools, max_turns=max_turns, transcript=Transcript(None, boundary),
                            fallback=lambda: findings_summary(toolbox.report()), extra_instructions=extra.strip())

    # -- running -------------------------------------------------------------------------------------------
    def add(self, conv: _Conversation) -> bool:
        """Keep `conv`, dropping the oldest finished conversations, then the oldest still waiting for an
        approval, to stay within MAX_CONVERSATIONS. False (nothing kept) when every slot holds a running one:
        otherwise callers could queue model runs and hold memory without bound."""
        with self.lock:
            if len(self.items) >= MAX_CONVERSATIONS:
                idle = sorted((c for c in self.items.values() if c.status in ("done", "failed", "needs_approval")),
                              key=lambda c: (c.status == "needs_approval", c.created))
                for c in idle[: len(self.items) - MAX_CONVERSATIONS + 1]:
                    del self.items[c.id]
            if len(self.items) >= MAX_CONVERSATIONS:
                return False
            self.items[conv.id] = conv
            return True

    def submit(self, conv: _Conversation, work: Any) -> None:
        def run() -> None:
            with conv.lock:
                try:
                    step = work()
                except Exception as e:  # the conversation fails; the server keeps serving
                    from sre_expert.edges.agent.models import explain_model_error
                    from sre_expert.safety.redact import redact

                    conv.status = "failed"
                    # an exception can quote what the run held (a tool result, a provider's echo): redacted
                    conv.error = redact(explain_model_error(e, self.settings) or f"{type(e).__name__}: {e}")[:2000]
                    return
                conv.step = step
                conv.status = step.status
                conv.answer = step.answer

        self.pool.submit(run)


def _registry(request: Request) -> _Registry:
    app = request.app
    reg = getattr(app.state, "agent_registry", None)
    if reg is None:
        reg = app.state.agent_registry = _Registry(app)
    return reg


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@router.post("/api/v1/ask")
def ask(body: AskBody, request: Request) -> JSONResponse:
    from sre_expert.edges.extras import missing_extra

    if lacking := missing_extra("agent", "the agent (POST /api/v1/ask)"):
        return _error(503, lacking)
    from sre_expert.edges.agent.models import ModelConfigError

    reg = _registry(request)
    try:
        session = reg.new_session(body.maxTurns)
    except ModelConfigError as e:
        return _error(503, str(e))
    conv = _Conversation(body.question, session)
    if not reg.add(conv):
        return _error(429, f"{MAX_CONVERSATIONS} conversations are running; try again when one has finished")
    reg.submit(conv, lambda: session.start(body.question))
    return JSONResponse({"id": conv.id, "status": "running", "answer": None, "approvals": []}, status_code=202)


@router.get("/api/v1/ask/{conv_id}")
def get_conversation(conv_id: str, request: Request) -> JSONResponse:
    conv = _registry(request).items.get(conv_id)
    if conv is None:
        return _error(404, f"no conversation {conv_id} (conversations are kept in memory only)")
    return JSONResponse(conv.to_json())


@router.post("/api/v1/ask/{conv_id}/approvals")
def approvals(conv_id: str, body: ApprovalsBody, request: Request) -> JSONResponse:
    reg = _registry(request)
    conv = reg.items.get(conv_id)
    if conv is None:
        return _error(404, f"no conversation {conv_id}")
    with conv.lock:
        if conv.status != "needs_approval":
            return _error(409, f"conversation {conv_id} is {conv.status}, not waiting for approval")
        pending = {a.id for a in conv.step.approvals}
        unknown = sorted(set(body.decisions) - pending)
        if unknown:
            return _error(422, f"unknown approval id(s) {unknown}; pending: {sorted(pending)}")
        conv.status = "running"
        decisions = dict(body.decisions)
    reg.submit(conv, lambda: conv.session.resume(decisions))
    return JSONResponse({"id": conv.id, "status": "running", "answer": None, "approvals": []}, status_code=202)
