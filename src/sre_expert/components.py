"""Platform components as data: what each is, how to tell it is installed, and how healthy it is.

Every `knowledge/components/<name>.yaml` describes one component (namespaces, expected version, how to
detect it, its controller workloads, what its healthy state looks like, commands to debug it). This
module loads and validates those files strictly, and answers three questions about a Snapshot:

- `detect(snap, comp)`: is the component installed (its kinds or CRDs exist, or its namespaces run
  workloads)?
- `controller_status(snap, ref)`: is one controller workload present and fully available?
- `component_status(snap, name, findings)`: everything `sre-expert component NAME` shows.

Pure functions of the Snapshot, like checks: no I/O beyond reading the packaged data files once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from .model import SAFETY_CLASSES, Finding, Key
from .snapshot import Snapshot

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
WORKLOAD_API = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1"}

# Findings carry the catalogue's component name, which is not always the data file's name.
DEFAULT_FINDING_COMPONENT = {
    "envoy-gateway": "gateway",
    "kube-prometheus": "monitoring",
    "kyverno": "policy",
    "falco": "policy",
}

COMPONENT_CODES = ("COMPONENT-CONTROLLER-MISSING", "COMPONENT-CONTROLLER-UNAVAILABLE", "COMPONENT-NOT-INSTALLED")

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CRD = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


class ComponentDataError(ValueError):
    """A components data file is malformed: a packaging bug, reported with the file and the field."""


# ---------------------------------------------------------------------------------------- data model


@dataclass(slots=True, frozen=True)
class ControllerRef:
    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> Key:
        return (self.kind, self.namespace, self.name)

    def display(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(slots=True, frozen=True)
class Command:
    description: str
    command: str
    safety: str = "read-only"


@dataclass(slots=True, frozen=True)
class Detect:
    crds: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Component:
    name: str
    title: str
    version: str
    namespaces: tuple[str, ...]
    detect: Detect
    controllers: tuple[ControllerRef, ...]
    healthy: tuple[str, ...]
    commands: tuple[Command, ...]
    component: str
    """The `component` of this component's findings in the check catalogue (e.g. kyverno → policy)."""
    aliases: tuple[str, ...] = ()
    image: tuple[str, ...] = ()
    """Image repositories (path suffixes such as "prometheus-operator" or "kyverno/kyverno") whose tag
    carries the component's version; when empty, every controller image counts."""
    codes: tuple[str, ...] = ()
    """Finding code prefixes that belong to this component when several share a catalogue component."""
    not_checked: tuple[str, ...] = ()
    """Parts of the healthy state an offline snapshot cannot show (metrics, external systems)."""
    source: str = ""


_REQUIRED = ("name", "title", "version", "namespaces", "detect", "controllers", "healthy", "commands")
_OPTIONAL = ("component", "aliases", "image", "codes", "not_checked", "description")


def _str(doc: dict[str, Any], key: str, where: str) -> str:
    v = doc.get(key)
    if not isinstance(v, str) or not v.strip():
        raise ComponentDataError(f"{where}: '{key}' must be a non-empty string, got {v!r}")
    return v.strip()


def _str_list(v: Any, where: str, pattern: re.Pattern[str] | None = None, allow_empty: bool = True) -> tuple[str, ...]:
    if v is None and allow_empty:
        return ()
    if not isinstance(v, list):
        raise ComponentDataError(f"{where}: must be a list of strings, got {type(v).__name__} {v!r}")
    for i, x in enumerate(v):
        if not isinstance(x, str) or not x.strip():
            hint = " (a ': ' inside an unquoted item makes YAML read it as a mapping; quote the item)" if isinstance(x, dict) else ""
            raise ComponentDataError(f"{where}[{i}]: must be a non-empty string, got {x!r}{hint}")
    if not v and not allow_empty:
        raise ComponentDataError(f"{where}: must not be empty")
    if pattern is not None:
        for x in v:
            if not pattern.match(x):
                raise ComponentDataError(f"{where}: {x!r} is not a valid value (expected {pattern.pattern})")
    return tuple(x.strip() for x in v)


def parse_component(source: str, doc: Any) -> Component:
    """Validate one data file's content and build the Component; every problem names file and field."""
    if not isinstance(doc, dict):
        raise ComponentDataError(f"{source}: the file must hold one mapping, got {type(doc).__name__}")
    unknown = sorted(set(doc) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ComponentDataError(f"{source}: unknown keys {unknown}; allowed: {list(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise ComponentDataError(f"{source}: missing required keys {missing}")
    name = _str(doc, "name", source)
    if not _NAME.match(name):
        raise ComponentDataError(f"{source}: name {name!r} must be lower-case letters, digits and '-'")
    where = f"{source} ({name})"
    title = _str(doc, "title", where)
    version = doc.get("version")
    if isinstance(version, (int, float)):
        raise ComponentDataError(f"{where}: 'version' must be quoted as a string, got the number {version!r}")
    version = _str(doc, "version", where)
    namespaces = _str_list(doc["namespaces"], f"{where}: namespaces", _NAME, allow_empty=False)

    det = doc["detect"]
    if not isinstance(det, dict):
        raise ComponentDataError(f"{where}: 'detect' must be a mapping with crds/kinds/namespaces")
    bad = sorted(set(det) - {"crds", "kinds", "namespaces"})
    if bad:
        raise ComponentDataError(f"{where}: detect has unknown keys {bad}; allowed: crds, kinds, namespaces")
    detect = Detect(
        crds=_str_list(det.get("crds"), f"{where}: detect.crds", _CRD),
        kinds=_str_list(det.get("kinds"), f"{where}: detect.kinds", _KIND),
        namespaces=_str_list(det.get("namespaces"), f"{where}: detect.namespaces", _NAME),
    )
    if not (detect.crds or detect.kinds or detect.namespaces):
        raise ComponentDataError(f"{where}: detect needs at least one of crds, kinds, namespaces")

    ctrls = doc["controllers"]
    if not isinstance(ctrls, list):
        raise ComponentDataError(f"{where}: 'controllers' must be a list of {{kind, namespace, name}}")
    controllers = []
    for i, c in enumerate(ctrls):
        cw = f"{where}: controllers[{i}]"
        if not isinstance(c, dict) or set(c) != {"kind", "namespace", "name"}:
            raise ComponentDataError(f"{cw}: must have exactly the keys kind, namespace, name; got {c!r}")
        if c["kind"] not in WORKLOAD_KINDS:
            raise ComponentDataError(f"{cw}: kind must be one of {WORKLOAD_KINDS}, got {c['kind']!r}")
        for k in ("namespace", "name"):
            if not isinstance(c[k], str) or not _NAME.match(c[k]):
                raise ComponentDataError(f"{cw}: {k} {c[k]!r} is not a valid Kubernetes name")
        ref = ControllerRef(c["kind"], c["namespace"], c["name"])
        if ref in controllers:
            raise ComponentDataError(f"{cw}: {ref.display()} is listed twice")
        controllers.append(ref)

    healthy = _str_list(doc["healthy"], f"{where}: healthy", allow_empty=False)

    cmds = doc["commands"]
    if not isinstance(cmds, list) or not cmds:
        raise ComponentDataError(f"{where}: 'commands' must be a non-empty list of {{description, command}}")
    commands = []
    for i, c in enumerate(cmds):
        cw = f"{where}: commands[{i}]"
        if not isinstance(c, dict) or not {"description", "command"} <= set(c) or set(c) - {"description", "command", "safety"}:
            raise ComponentDataError(f"{cw}: must have the keys description and command (and optionally safety); got {c!r}")
        if not isinstance(c["description"], str) or not c["description"].strip():
            raise ComponentDataError(f"{cw}: description must be a non-empty string")
        if not isinstance(c["command"], str) or not c["command"].strip():
            raise ComponentDataError(f"{cw}: command must be a non-empty string")
        safety = c.get("safety", "read-only")
        if safety not in SAFETY_CLASSES:
            raise ComponentDataError(f"{cw}: safety {safety!r} not in {SAFETY_CLASSES}")
        commands.append(Command(c["description"].strip(), c["command"].strip(), safety))

    component = doc.get("component", DEFAULT_FINDING_COMPONENT.get(name, name))
    if not isinstance(component, str) or not _NAME.match(component):
        raise ComponentDataError(f"{where}: 'component' must be a catalogue component name, got {component!r}")
    image = doc.get("image")
    images = _str_list([image] if isinstance(image, str) else image, f"{where}: image",
                       re.compile(r"^[a-z0-9][a-z0-9._/-]*$"))
    if "description" in doc and not isinstance(doc["description"], str):
        raise ComponentDataError(f"{where}: 'description' must be a string")
    return Component(
        name=name,
        title=title,
        version=version,
        namespaces=namespaces,
        detect=detect,
        controllers=tuple(controllers),
        healthy=healthy,
        commands=tuple(commands),
        component=component,
        aliases=_str_list(doc.get("aliases"), f"{where}: aliases", _NAME),
        image=images,
        codes=_str_list(doc.get("codes"), f"{where}: codes", re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*-?$")),
        not_checked=_str_list(doc.get("not_checked"), f"{where}: not_checked"),
        source=source,
    )


def parse_components(files: Iterable[tuple[str, str]]) -> dict[str, Component]:
    """(file name, text) pairs → components by name, checking names and aliases are unambiguous."""
    out: dict[str, Component] = {}
    for fname, text in files:
        try:
            doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as e:
            raise ComponentDataError(f"{fname}: not valid YAML: {e}") from None
        comp = parse_component(fname, doc)
        stem = fname.rsplit("/", 1)[-1].removesuffix(".yaml")
        if stem != comp.name:
            raise ComponentDataError(f"{fname}: the file must be named after its component ({comp.name}.yaml)")
        if comp.name in out:
            raise ComponentDataError(f"{fname}: component {comp.name} is defined twice")
        out[comp.name] = comp
    names: dict[str, str] = {n: n for n in out}
    for comp in out.values():
        for a in comp.aliases:
            if a in names and names[a] != comp.name:
                raise ComponentDataError(f"{comp.source}: alias {a!r} already names component {names[a]}")
            names[a] = comp.name
    return out


@cache
def load_components() -> dict[str, Component]:
    """Every packaged component, by name, loaded once."""
    folder = resources.files("sre_expert") / "knowledge" / "components"
    if not folder.is_dir():
        return {}
    files = [(e.name, e.read_text(encoding="utf-8")) for e in sorted(folder.iterdir(), key=lambda p: p.name)
             if e.name.endswith(".yaml")]
    return parse_components(files)


def resolve(name: str, comps: dict[str, Component] | None = None) -> list[Component]:
    """Components a user's NAME means: the name itself, an alias, or a catalogue component such as
    `policy` (which can be several). [] when nothing matches."""
    comps = load_components() if comps is None else comps
    n = name.strip().lower()
    if n in comps:
        return [comps[n]]
    for c in comps.values():
        if n in c.aliases:
            return [c]
    return [c for c in comps.values() if c.component == n]


# ---------------------------------------------------------------------------------------- detection


def detect(snap: Snapshot, comp: Component) -> bool:
    """Installed when one of its kinds has objects, one of its CRDs exists, one of its controllers
    exists, or one of its detect namespaces runs workloads."""
    return bool(detection_evidence(snap, comp))


def detection_evidence(snap: Snapshot, comp: Component) -> list[str]:
    """Why the component counts as installed; [] when it does not."""
    found: list[str] = []
    for kind in comp.detect.kinds:
        n = snap.count(kind)
        if n:
            found.append(f"{n} {kind} object(s)")
    for crd in comp.detect.crds:
        if snap.get("CustomResourceDefinition", None, crd) is not None:
            found.append(f"CRD {crd}")
    for ref in comp.controllers:
        if snap.get(ref.kind, ref.namespace, ref.name) is not None:
            found.append(ref.display())
            break
    for ns in comp.detect.namespaces:
        n = sum(len(snap.list(k, ns)) for k in (*WORKLOAD_KINDS, "Pod"))
        if n:
            found.append(f"{n} workload object(s) in namespace {ns}")
    return found


def absence_evidence(snap: Snapshot, comp: Component) -> list[str]:
    """What was looked for and not found, saying which kinds could not be read at all."""
    out = []
    for kind in comp.detect.kinds:
        out.append(f"no {kind} objects" + ("" if snap.collected(kind) else f" ({kind} could not be read)"))
    if comp.detect.crds:
        crd_note = "" if snap.collected("CustomResourceDefinition") and snap.count("CustomResourceDefinition") else (
            " (CustomResourceDefinitions were not collected)")
        out.append(f"no CRD {', '.join(comp.detect.crds)}{crd_note}")
    if comp.controllers:
        out.append("none of " + ", ".join(r.display() for r in comp.controllers))
    for ns in comp.detect.namespaces:
        out.append(f"no Deployments, StatefulSets, DaemonSets or Pods in namespace {ns}")
    return out


# ---------------------------------------------------------------------------------------- controllers


@dataclass(slots=True)
class ControllerStatus:
    ref: ControllerRef
    found: bool
    desired: int = 0
    ready: int = 0
    available: int = 0
    images: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    pods: list[Key] = field(default_factory=list)
    visible: bool = True  # False: its namespace was outside the sweep (-n), so "not found" proves nothing
    unseen_why: str = "namespace not swept"

    @property
    def healthy(self) -> bool:
        return self.found and self.desired > 0 and self.available >= self.desired

    def summary(self) -> str:
        if not self.visible:
            return f"not checked ({self.unseen_why})"
        if not self.found:
            return "missing"
        return f"{self.available}/{self.desired} available"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.ref.kind, "namespace": self.ref.namespace, "name": self.ref.name,
            "found": self.found, "desired": self.desired, "ready": self.ready, "available": self.available,
            "healthy": self.healthy, "images": self.images, "visible": self.visible,
        }


def _cond(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c
    return None


def workload_counts(obj: dict[str, Any]) -> tuple[int, int, int, list[str]]:
    """(desired, ready, available, evidence) of a Deployment, StatefulSet or DaemonSet, from the fields
    its controller writes (zero counts are omitted from status, so a missing field means 0)."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    st = obj.get("status") or {}
    ev: list[str] = []
    if kind == "DaemonSet":
        desired = int(st.get("desiredNumberScheduled") or 0)
        ready = int(st.get("numberReady") or 0)
        available = int(st.get("numberAvailable") or 0)
        ev.append(
            f"status.desiredNumberScheduled={desired}, numberReady={ready}, numberAvailable={available}, "
            f"numberUnavailable={int(st.get('numberUnavailable') or 0)}"
        )
        miss = int(st.get("numberMisscheduled") or 0)
        if miss:
            ev.append(f"status.numberMisscheduled={miss}")
    else:
        desired = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        ready = int(st.get("readyReplicas") or 0)
        if kind == "StatefulSet" and "availableReplicas" not in st:
            available = ready
        else:
            available = int(st.get("availableReplicas") or 0)
        ev.append(
            f"spec.replicas={desired}, status.readyReplicas={ready}, status.availableReplicas={available}"
            + (f", status.unavailableReplicas={st['unavailableReplicas']}" if st.get("unavailableReplicas") else "")
        )
        for ctype in ("Available", "Progressing", "ReplicaFailure"):
            c = _cond(obj, ctype)
            if c is None:
                continue
            bad = (ctype == "Available" and c.get("status") != "True") or (
                ctype == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded") or (
                ctype == "ReplicaFailure" and c.get("status") == "True")
            if bad:
                ev.append(f"condition {ctype}={c.get('status')} reason={c.get('reason')}: {c.get('message', '')}".rstrip(": "))
    gen = (obj.get("metadata") or {}).get("generation")
    ogen = st.get("observedGeneration")
    if gen is not None and ogen is not None and ogen < gen:
        ev.append(f"status.observedGeneration={ogen} < metadata.generation={gen}: the controller has not caught up yet")
    return desired, ready, available, ev


def template_images(obj: dict[str, Any]) -> list[str]:
    spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [c.get("image") or "" for c in spec.get("containers") or () if c.get("image")]


def controller_status(snap: Snapshot, ref: ControllerRef) -> ControllerStatus:
    obj = snap.get(ref.kind, ref.namespace, ref.name)
    if obj is None:
        if not snap.collected(ref.kind):  # not in the capture: "not found" proves nothing either
            return ControllerStatus(ref, found=False, visible=False, unseen_why=f"{ref.kind} not collected")
        return ControllerStatus(ref, found=False, visible=snap.sees(ref.namespace))
    desired, ready, available, ev = workload_counts(obj)
    pods = [("Pod", p["metadata"].get("namespace") or "", p["metadata"]["name"]) for p in snap.pods_of(obj)]
    return ControllerStatus(ref, True, desired, ready, available, template_images(obj), ev, pods)


# ---------------------------------------------------------------------------------------- versions


def image_repository(image: str) -> str:
    """The repository part of an image reference: registry/path without tag or digest."""
    ref = image.split("@", 1)[0]
    head, _, last = ref.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def image_tag(image: str) -> str | None:
    """The tag of an image reference (registry ports and digests handled); None when untagged."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return last.rsplit(":", 1)[1] or None


def _norm(v: str) -> str:
    return v.strip().lower().removeprefix("v")


def version_matches(tag: str, expected: str) -> bool:
    """"v1.12.7" matches tags v1.12.7, 1.12.7 and vendor builds such as 1.12.7-debian-12-r3."""
    t, e = _norm(tag), _norm(expected)
    return t == e or t.startswith(e + "-") or t.startswith(e + "_")


def seen_versions(comp: Component, controllers: list[ControllerStatus]) -> list[str]:
    """Tags of the controllers' images that carry the component's version (its `image` fragment, else all)."""
    out: list[str] = []
    for cs in controllers:
        for img in cs.images:
            if comp.image and not any(image_repository(img) == r or image_repository(img).endswith("/" + r)
                                      for r in comp.image):
                continue
            tag = image_tag(img)
            if tag and tag not in out:
                out.append(tag)
    return out


# ---------------------------------------------------------------------------------------- status


def belongs(f: Finding, comp: Component) -> bool:
    """Whether a finding is about this component."""
    if f.code in COMPONENT_CODES:
        if f.object.kind == "Component":
            return f.object.name == comp.name
        return any(f.object.key == r.key for r in comp.controllers)
    if f.component != comp.component:
        return False
    return not comp.codes or any(f.code.startswith(p) for p in comp.codes)


@dataclass(slots=True)
class ComponentStatus:
    component: Component
    installed: bool
    detected_by: list[str]
    controllers: list[ControllerStatus]
    versions_seen: list[str]
    findings: list[Finding]

    @property
    def version_ok(self) -> bool | None:
        """True when a controller image carries the expected version, None when no image was seen."""
        if not self.versions_seen:
            return None
        return any(version_matches(t, self.component.version) for t in self.versions_seen)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.severity != "info"]

    @property
    def state(self) -> str:
        """not-installed | not-checked (a namespace-scoped sweep could not see its controllers) | down (a
        controller is missing or has nothing available) | failing (critical findings) | degraded (warnings,
        or a controller short of replicas) | healthy."""
        seen = [cs for cs in self.controllers if cs.visible]
        if not self.installed:
            return "not-installed" if len(seen) == len(self.controllers) else "not-checked"
        if any(not cs.found or cs.available == 0 for cs in seen):
            return "down"
        if any(f.severity == "critical" for f in self.findings):
            return "failing"
        if self.problems or any(not cs.healthy for cs in seen):
            return "degraded"
        return "healthy" if len(seen) == len(self.controllers) else "not-checked"  # never healthy unseen

    def to_json(self) -> dict[str, Any]:
        c = self.component
        return {
            "name": c.name,
            "title": c.title,
            "component": c.component,
            "installed": self.installed,
            "state": self.state,
            "detectedBy": self.detected_by,
            "namespaces": list(c.namespaces),
            "version": {"expected": c.version, "seen": self.versions_seen, "matches": self.version_ok},
            "controllers": [cs.to_json() for cs in self.controllers],
            "findings": [f.to_json() for f in self.findings],
            "healthy": list(c.healthy),
            "notChecked": list(c.not_checked),
            "commands": [{"description": x.description, "command": x.command, "safety": x.safety} for x in c.commands],
        }


def component_status(snap: Snapshot, name: str, findings: Iterable[Finding]) -> ComponentStatus:
    """Status of one component by its exact name (KeyError when unknown; use `resolve` for user input)."""
    comp = load_components()[name]
    return status_of(snap, comp, findings)


def status_of(snap: Snapshot, comp: Component, findings: Iterable[Finding]) -> ComponentStatus:
    detected_by = detection_evidence(snap, comp)
    controllers = [controller_status(snap, r) for r in comp.controllers]
    mine = [f for f in findings if belongs(f, comp)]  # the report's ranking: root causes first
    return ComponentStatus(comp, bool(detected_by), detected_by, controllers, seen_versions(comp, controllers), mine)
