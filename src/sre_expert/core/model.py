"""The data a check produces: findings about objects, with evidence and a fix.

Plain dataclasses with slots: thousands of findings on a large cluster must stay cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sre_expert.core.kinds import KIND_GROUPS

SEVERITIES = ("critical", "warning", "info")
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
SAFETY_CLASSES = ("read-only", "mutating", "destructive")

Key = tuple[str, str, str]
"""(kind name, namespace or "", name): how findings name the objects they are about or depend on. The kind
name is `index_kind(kind, apiVersion)`: the plain kind for the group the checks mean, "Kind.group" otherwise."""

TOP_CONTROLLER_KINDS = ("CronJob", "DaemonSet", "Deployment", "Job", "ReplicaSet", "StatefulSet")
"""What Snapshot.top_controller returns for a pod of a built-in controller: the outermost owner that was
collected (a ReplicaSet or Job when its Deployment or CronJob was not). Checks keyed on it declare all of them."""

# Synthetic key kinds: keys for what is not an API object, shared by the checks that link through them (and
# named in their @check speaks_for / depends_on).
LISTENER_KIND = "Listener"
"""(LISTENER_KIND, gateway namespace, "gateway/listener"): one listener of a Gateway."""
COMPONENT_KIND = "Component"
"""(COMPONENT_KIND, "", component name): a platform component (knowledge/components/*.yaml) as a whole."""
DATA_FILES_KIND = "DataFiles"
"""(DATA_FILES_KIND, namespace, claim or pod name): the data a volume holds, which a full disk corrupts."""


_VERSION = re.compile(r"v\d+(?:(?:alpha|beta)\d+)?")


def group_of(api_version: str | None) -> str | None:
    """The API group of an apiVersion ("apps/v1" → "apps", "v1" → ""); None when there is no apiVersion.
    Old event recorders wrote a bare group ("extensions") in involvedObject.apiVersion: that is the group."""
    if not api_version:
        return None
    i = api_version.find("/")
    if i >= 0:
        return api_version[:i]
    return "" if _VERSION.fullmatch(api_version) else api_version


@lru_cache(maxsize=4096)
def kind_name(kind: str, group: str | None) -> str:
    """The name the Snapshot indexes a kind of a group under, so a kind name never collides across groups.

    A kind of the group the kinds table gives it (or of an unknown group: an object without apiVersion,
    as troubleshoot writes list items) keeps its plain name, so `snap.list("Node")` means core Nodes;
    the same kind name in another group becomes "Kind.group" (Longhorn's "Node.longhorn.io", Istio's
    "Gateway.networking.istio.io"), which no check asks for unless it means to. A kind the table does not
    know is qualified by any non-core group: two CRDs named `Cluster` stay apart."""
    if group is None:
        return kind
    known = KIND_GROUPS.get(kind)
    if known is None:
        return f"{kind}.{group}" if group else kind
    if group in known:
        return kind
    return f"{kind}.{group or 'core'}"


_INDEX: dict[str | None, dict[str, str]] = {}  # apiVersion → kind → index name: this runs once per object


def index_kind(kind: str, api_version: str | None) -> str:
    """`kind_name` of an object's kind and apiVersion."""
    by_kind = _INDEX.get(api_version)
    if by_kind is None:
        by_kind = _INDEX[api_version] = {}
    name = by_kind.get(kind)
    if name is None:
        name = by_kind[kind] = kind_name(kind, group_of(api_version))
    return name


def key_of(obj: dict[str, Any]) -> Key:
    """Key of a Kubernetes object as findings and the snapshot index name it."""
    md = obj.get("metadata") or {}
    kind = obj.get("kind") or ""
    name = _INDEX.get(obj.get("apiVersion"), {}).get(kind) or index_kind(kind, obj.get("apiVersion"))
    return (name, md.get("namespace") or "", md.get("name") or "")


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
        kind = _INDEX.get(self.api_version, {}).get(self.kind) or index_kind(self.kind, self.api_version)
        return (kind, self.namespace or "", self.name)

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
