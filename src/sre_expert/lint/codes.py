"""Lint codes as data (knowledge/lint.yaml) and the finding type that carries a file and a line."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sre_expert.core.model import Finding, ObjectRef, Remediation


@dataclass(frozen=True, slots=True)
class LintCode:
    code: str
    severity: str
    component: str
    title: str
    explanation: str
    fix: str


@cache
def lint_codes() -> dict[str, LintCode]:
    text = (resources.files("sre_expert") / "knowledge" / "lint.yaml").read_text(encoding="utf-8")
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {c["code"]: LintCode(c["code"], c["severity"], c["component"], c["title"], " ".join(c["explanation"].split()),
                                c["fix"]) for c in doc["codes"]}


@dataclass(slots=True)
class LintFinding(Finding):
    """A Finding located in the repository: the JSON report adds `location: {file, line}`."""

    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        doc = Finding.to_json(self)
        if self.file is not None:
            doc["location"] = {"file": self.file, "line": self.line or 1}
        return doc

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else self.object.display()


def file_ref(file: str) -> ObjectRef:
    """The object of a finding about a file as a whole (unparsable YAML, a missing rule file)."""
    return ObjectRef("", "File", None, file)


def lint_finding(code: str, obj: ObjectRef, file: str | None, line: int | None, title: str,
                 evidence: list[str] | None = None, command: str | None = None,
                 severity: str | None = None) -> LintFinding:
    spec = lint_codes()[code]
    fix = Remediation(spec.fix, command, "read-only") if command else Remediation(spec.fix)
    return LintFinding(
        code=code, severity=severity or spec.severity, component=spec.component, object=obj, title=title,
        detail=spec.explanation, evidence=list(evidence or []), remediation=[fix], file=file, line=line,
    )
