"""Agent definition files: YAML front matter (name, description, tools, model, maxTurns) + Markdown instructions.

The format is the one of Claude Code sub-agent files, so a team's existing agent file can be used as is
(`--agent FILE`). Tool names are checked against what sre-expert can actually give the model: a typo must
fail at start-up with the file and field named, not silently leave the agent without its tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

FILE_TOOLS = ("Read", "Grep", "Glob")
SHELL_TOOLS = ("Bash",)
PRODUCT_TOOLS = ("check", "trace", "component", "runbook", "dr_status", "pod_logs", "describe")
KNOWN_TOOLS = FILE_TOOLS + SHELL_TOOLS + PRODUCT_TOOLS
DEFAULT_MAX_TURNS = 30
MAX_TURNS_CEILING = 200
_FIELDS = {"name", "description", "tools", "model", "maxTurns", "color"}  # color: Claude Code UI, ignored


class DefinitionError(ValueError):
    """A definition file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class AgentDefinition:
    name: str
    description: str
    tools: tuple[str, ...]
    model: str | None
    max_turns: int
    instructions: str
    source: str


def _split(text: str, source: str) -> tuple[str, str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise DefinitionError(f"{source}: no front matter: the file must start with a '---' line, then YAML "
                              "(name, description, tools, model, maxTurns), then '---' and the instructions")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1:])
    raise DefinitionError(f"{source}: the front matter is not closed: add a '---' line after it")


def _tools(raw: Any, source: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        names = [t.strip() for t in raw.split(",")]
    elif isinstance(raw, list) and all(isinstance(t, str) for t in raw):
        names = [t.strip() for t in raw]
    else:
        raise DefinitionError(f"{source}: field 'tools' must be a comma-separated string or a list of names")
    names = [n for n in names if n]
    if not names:
        raise DefinitionError(f"{source}: field 'tools' is empty; known tools: {', '.join(KNOWN_TOOLS)}")
    unknown = [n for n in names if n not in KNOWN_TOOLS]
    if unknown:
        raise DefinitionError(f"{source}: field 'tools': unknown tool {', '.join(repr(u) for u in unknown)}; "
                              f"known tools: {', '.join(KNOWN_TOOLS)}")
    return tuple(dict.fromkeys(names))


def _text_field(meta: dict[str, Any], key: str, source: str, required: bool) -> str | None:
    value = meta.get(key)
    if value is None:
        if required:
            raise DefinitionError(f"{source}: field '{key}' is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{source}: field '{key}' must be a non-empty string")
    return value.strip()


def parse_definition(text: str, source: str = "<agent definition>") -> AgentDefinition:
    """Parse and validate a definition; every problem raises DefinitionError naming `source` and the field."""
    front, body = _split(text, source)
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as e:
        raise DefinitionError(f"{source}: the front matter is not valid YAML: {e}") from None
    if not isinstance(meta, dict):
        raise DefinitionError(f"{source}: the front matter must be a YAML mapping (key: value lines)")
    unknown = sorted(str(k) for k in meta if k not in _FIELDS)
    if unknown:
        raise DefinitionError(f"{source}: unknown field {', '.join(repr(u) for u in unknown)}; "
                              f"known fields: name, description, tools, model, maxTurns")
    name = _text_field(meta, "name", source, True)
    description = _text_field(meta, "description", source, True)
    model = _text_field(meta, "model", source, False)
    if "tools" not in meta:
        raise DefinitionError(f"{source}: field 'tools' is missing; known tools: {', '.join(KNOWN_TOOLS)}")
    tools = _tools(meta["tools"], source)
    turns = meta.get("maxTurns", DEFAULT_MAX_TURNS)
    if isinstance(turns, bool) or not isinstance(turns, int) or not 1 <= turns <= MAX_TURNS_CEILING:
        raise DefinitionError(f"{source}: field 'maxTurns' must be a whole number from 1 to {MAX_TURNS_CEILING}")
    instructions = body.strip()
    if not instructions:
        raise DefinitionError(f"{source}: no instructions after the front matter")
    assert name and description
    return AgentDefinition(name, description, tools, model, turns, instructions, source)


def default_definition_text() -> str:
    return resources.files(__package__).joinpath("default.md").read_text(encoding="utf-8")


def load_definition(path: str | Path | None = None) -> AgentDefinition:
    """The definition in `path`, else the one shipped with sre-expert."""
    if path is None:
        return parse_definition(default_definition_text(), "sre_expert/edges/agent/default.md")
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DefinitionError(f"{p}: cannot read the agent definition: {getattr(e, 'strerror', None) or e}") from None
    return parse_definition(text, str(p))
