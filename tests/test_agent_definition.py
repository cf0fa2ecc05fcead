"""Agent definition files: the shipped default, the reference's front matter format, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sre_expert.edges.agent.definition import KNOWN_TOOLS, DefinitionError, load_definition, parse_definition

pytestmark = pytest.mark.unit

REFERENCE_STYLE = """---
name: sre-expert
description: Cluster operations, monitoring, incident response
tools: Read, Grep, Glob, Bash
model: sonnet
maxTurns: 30
---

# SRE Expert Agent

Investigate outside-in.
"""


def test_default_definition_ships_with_every_tool_and_the_safety_rules() -> None:
    d = load_definition()
    assert d.name == "sre-expert" and d.model == "sonnet" and d.max_turns == 30
    assert set(d.tools) == set(KNOWN_TOOLS)
    text = d.instructions
    for fact in ("shared-gateway", "gateway-system", "external-secrets-system", "gcp-secretstore",
                 "letsencrypt-mycure-cloudflare-prod", "v1.2.0", "v1.16.2", "infrastructure-daily",
                 "untrusted", "approve", "check", "outside in"):
        assert fact in text, fact


def test_reference_front_matter_parses(tmp_path: Path) -> None:
    f = tmp_path / "agent.md"
    f.write_text(REFERENCE_STYLE)
    d = load_definition(f)
    assert d.tools == ("Read", "Grep", "Glob", "Bash")
    assert d.instructions.startswith("# SRE Expert Agent")
    assert d.source == str(f)


def test_tools_as_a_yaml_list() -> None:
    d = parse_definition(REFERENCE_STYLE.replace("tools: Read, Grep, Glob, Bash", "tools: [check, trace, Bash]"))
    assert d.tools == ("check", "trace", "Bash")


@pytest.mark.parametrize("change, message", [
    (("tools: Read, Grep, Glob, Bash", "tools: Read, Grpe, Bash"), "field 'tools': unknown tool 'Grpe'"),
    (("tools: Read, Grep, Glob, Bash", "tools: ''"), "field 'tools' is empty"),
    (("tools: Read, Grep, Glob, Bash\n", ""), "field 'tools' is missing"),
    (("name: sre-expert\n", ""), "field 'name' is missing"),
    (("description: Cluster operations, monitoring, incident response", "description: 42"), "field 'description' must be"),
    (("maxTurns: 30", "maxTurns: 0"), "field 'maxTurns' must be a whole number"),
    (("maxTurns: 30", "maxTurns: lots"), "field 'maxTurns' must be a whole number"),
    (("maxTurns: 30", "maxTurns: 30\ntemperature: 2"), "unknown field 'temperature'"),
    (("model: sonnet", "model: [a, b]"), "field 'model' must be a non-empty string"),
    (("# SRE Expert Agent\n\nInvestigate outside-in.\n", ""), "no instructions"),
    (("---\n\n# SRE", "\n# SRE"), "not closed"),
    (("maxTurns: 30", "maxTurns: [30"), "not valid YAML"),
])
def test_errors_name_the_file_and_the_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    f = tmp_path / "broken.md"
    old, new = change
    assert old in REFERENCE_STYLE
    f.write_text(REFERENCE_STYLE.replace(old, new, 1))
    with pytest.raises(DefinitionError) as e:
        load_definition(f)
    assert str(e.value).startswith(f"{f}: ")
    assert message in str(e.value)


def test_missing_front_matter_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="no front matter"):
        parse_definition("# just markdown\n", "x.md")
    with pytest.raises(DefinitionError, match="cannot read"):
        load_definition(tmp_path / "absent.md")
