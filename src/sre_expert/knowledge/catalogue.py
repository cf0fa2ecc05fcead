"""The check catalogue: stable codes with severity, component, explanation and fix templates.

The catalogue is data (knowledge/checks/*.yaml), so explanations and fixes can be read and reviewed
without reading code, and a test can prove every code a check emits is documented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sre_expert.core.model import SAFETY_CLASSES, SEVERITIES


@dataclass(slots=True, frozen=True)
class RemediationTemplate:
    description: str
    command: str | None
    safety: str
    when: str | None = None
    """"gitops": only for objects an Argo CD Application manages (a fix in Git, a sync); "no-gitops": the
    generic fix shown instead on clusters where nothing manages the object; None: always."""


REMEDIATION_WHEN = ("gitops", "no-gitops")


@dataclass(slots=True, frozen=True)
class CheckSpec:
    code: str
    component: str
    severity: str
    title: str
    explanation: str
    remediation: tuple[RemediationTemplate, ...] = field(default_factory=tuple)
    runbook: str | None = None
    generic: str | None = None
    """The explanation for another implementation's object, when `explanation` speaks of the reference
    platform's one (Envoy Gateway for the Gateway API codes)."""


class CatalogueError(ValueError):
    """A catalogue file is malformed: a packaging bug, reported with the file and code."""


def _parse(source: str, doc: dict[str, Any]) -> dict[str, CheckSpec]:
    component = doc.get("component")
    if not isinstance(component, str):
        raise CatalogueError(f"{source}: missing 'component'")
    specs: dict[str, CheckSpec] = {}
    for code, raw in (doc.get("checks") or {}).items():
        where = f"{source}: {code}"
        sev = raw.get("severity")
        if sev not in SEVERITIES:
            raise CatalogueError(f"{where}: severity must be one of {SEVERITIES}, got {sev!r}")
        for k in ("title", "explanation"):
            if not isinstance(raw.get(k), str) or not raw[k].strip():
                raise CatalogueError(f"{where}: '{k}' is required")
        fixes = []
        for r in raw.get("remediation") or []:
            safety = r.get("safety", "read-only")
            if safety not in SAFETY_CLASSES:
                raise CatalogueError(f"{where}: remediation safety {safety!r} not in {SAFETY_CLASSES}")
            when = r.get("when")
            if when is not None and when not in REMEDIATION_WHEN:
                raise CatalogueError(f"{where}: remediation when {when!r} not in {REMEDIATION_WHEN}")
            fixes.append(RemediationTemplate(r["description"], r.get("command"), safety, when))
        specs[code] = CheckSpec(
            code=code,
            component=raw.get("component", component),
            severity=sev,
            title=raw["title"].strip(),
            explanation=" ".join(raw["explanation"].split()),
            remediation=tuple(fixes),
            runbook=raw.get("runbook"),
            generic=" ".join(raw["generic"].split()) if isinstance(raw.get("generic"), str) else None,
        )
    return specs


_FOLDER = ("knowledge", "checks")
_CODE_LINE = re.compile(r"^  ([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+):[ \t]*$", re.MULTILINE)


@cache
def _texts() -> dict[str, str]:
    """Each catalogue file's text, by file name, in name order."""
    folder = resources.files("sre_expert").joinpath(*_FOLDER)
    return {e.name: e.read_text(encoding="utf-8")
            for e in sorted(folder.iterdir(), key=lambda p: p.name) if e.name.endswith(".yaml")}


@cache
def _file_specs(name: str) -> dict[str, CheckSpec]:
    return _parse(name, yaml.load(_texts()[name], Loader=yaml.CSafeLoader) or {})


@cache
def _code_files() -> dict[str, str]:
    """Code → the file that documents it, read off the files' code lines (`  POD-CRASHLOOP:` under
    `checks:`) without parsing them: a run that finds a handful of codes parses only their files."""
    return {code: name for name, text in _texts().items() for code in _CODE_LINE.findall(text)}


@cache
def catalogue() -> dict[str, CheckSpec]:
    """All documented codes, loaded once from the package's knowledge/checks directory."""
    specs: dict[str, CheckSpec] = {}
    for name in _texts():
        for code, spec in _file_specs(name).items():
            if code in specs:
                raise CatalogueError(f"{name}: code {code} is also defined elsewhere")
            specs[code] = spec
    return specs


def find(code: str) -> CheckSpec | None:
    """One code's entry, parsing only the file that holds it."""
    name = _code_files().get(code)
    found = _file_specs(name).get(code) if name else None
    return found if found is not None else catalogue().get(code)  # a code line the scan missed: read all


def spec(code: str) -> CheckSpec:
    found = find(code)
    if found is None:
        raise CatalogueError(f"finding code {code} is not documented in knowledge/checks/*.yaml")
    return found
