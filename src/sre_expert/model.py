"""The data a check produces: findings about objects, with evidence and a fix.

Plain dataclasses with slots: thousands of findings on a large cluster must stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "warning", "info")
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
SAFETY_CLASSES = ("read-only", "mutating", "destructive")

Key = tuple[str, str, str]
"""(kind, namespace or "", name): how findings name the objects they are about or depend on."""


def key_of(obj: dict[str, Any]) -> Key:
    """Key of a Kubernetes object as findings and the snapshot index name it."""
    md = obj.get("metadata") or {}
    return (obj.get("kind") or "", md.get("namespace") or "", md.get("name") or "")


@dataclass(slots=True, frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        md = obj.get("metadata") or {}
        return cls(obj.get("apiVersion") or "", obj.get("kind") or "", md.get("namespace"), md.get("name") or "")

    @property
    def key(self) -> Key:
        return (self.kind, self.namespace or "", self.name)

    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace, "name": self.name}


@dataclass(slots=True)
class Remediation:
    description: str
    command: str | None = None
    safety: str = "read-only"

    def to_json(self) -> dict[str, Any]:
        return {"description": self.description, "command": self.command, "safety": self.safety}


@dataclass(slots=True)
class Finding:
    """One problem. `subjects` and `depends_on` are what the diagnosis links on.

    subjects: keys of every object this finding speaks for (its own object, the pods it groups, the
      Secret an ExternalSecret should create...). A finding that depends on one of them is its symptom.
    depends_on: keys of objects whose failure would explain this finding.
    """

    code: str
    severity: str
    component: str
    object: ObjectRef
    title: str
    detail: str = ""
    evidence: list[str] = field(default_factory=list)
    remediation: list[Remediation] = field(default_factory=list)
    runbook: str | None = None
    subjects: list[Key] = field(default_factory=list)
    depends_on: list[Key] = field(default_factory=list)
    id: str = ""
    root_cause: bool = True
    causes: list[str] = field(default_factory=list)
    caused_by: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "severity": self.severity,
            "component": self.component,
            "object": self.object.to_json(),
            "title": self.title,
            "detail": self.detail,
            "evidence": self.evidence,
            "rootCause": self.root_cause,
            "causes": self.causes,
            "runbook": self.runbook,
            "remediation": [r.to_json() for r in self.remediation],
        }
