"""A scripted stand-in for a language model: plays tool calls and answers from a list, records what it was sent.

Used by the tests and by `evals/run.py --dry-run` to exercise the whole agent (tools, approvals, boundary,
turn limit) with no network. Each step is a `call(name, **args)`, a text answer, or a function of the
messages received so far returning one of those (to answer from what the tools returned).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    tool: str
    args: dict[str, Any]


def call(tool: str, **args: Any) -> Call:
    return Call(tool, args)


Step = Call | str | list[Call] | Callable[[list[Any]], Any]


@dataclass
class Script:
    """`steps` are played one per model request; past the end, `then` decides (default: the last step again)."""

    steps: list[Step]
    then: Callable[[int, list[Any]], Step] | None = None
    received: list[list[Any]] = field(default_factory=list)  # the messages of every request, in order
    tools_seen: list[list[str]] = field(default_factory=list)  # tool names offered at every request

    def model(self) -> Any:
        from pydantic_ai.models.function import FunctionModel

        return FunctionModel(self._respond, model_name="scripted")

    def _respond(self, messages: list[Any], info: Any) -> Any:
        from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart

        n = len(self.received)
        self.received.append(list(messages))
        self.tools_seen.append([t.name for t in info.function_tools])
        if n < len(self.steps):
            step = self.steps[n]
        elif self.then is not None:
            step = self.then(n, messages)
        else:
            step = self.steps[-1]
        if callable(step) and not isinstance(step, Call):
            step = step(messages)
        if isinstance(step, str):
            return ModelResponse(parts=[TextPart(step)])
        calls = step if isinstance(step, list) else [step]
        return ModelResponse(parts=[ToolCallPart(c.tool, dict(c.args)) for c in calls])

    def sent_text(self) -> str:
        """Everything the model was sent (prompts, instructions, tool results), as one string."""
        out: list[str] = []
        for messages in self.received:
            for m in messages:
                if getattr(m, "instructions", None):
                    out.append(str(m.instructions))
                for p in getattr(m, "parts", ()):
                    for attr in ("content", "args"):
                        v = getattr(p, attr, None)
                        if v is not None:
                            out.append(str(v))
        return "\n".join(out)


def last_tool_result(messages: list[Any]) -> str:
    """The content of the most recent tool return in `messages` ('' if none)."""
    from pydantic_ai.messages import ToolReturnPart

    for m in reversed(messages):
        for p in reversed(getattr(m, "parts", ())):
            if isinstance(p, ToolReturnPart):
                return str(p.content)
    return ""
