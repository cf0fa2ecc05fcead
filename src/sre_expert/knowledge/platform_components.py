"""Platform components as data: what each is, how to tell it is installed, and how healthy it is.

Every `knowledge/components/<name>.yaml` describes one component (namespaces, expected version, how to
detect it, its controller workloads, what its healthy state looks like, commands to debug it). This
module loads and validates those files strictly, and answers three questions about a Snapshot:

- `detect(snap, comp)`: is the component installed (its kinds, CRDs, GatewayClass controllerName or
  controller workloads exist, or its own namespaces run workloads)?
- `locate_controllers(snap, comp)`: where each controller role runs and how available it is. The
  reference platform's kind/namespace/name is only the first guess: a role is also recognised by the
  names other installs give it, its image repository and its `app.kubernetes.io/*` labels, so upstream
  Helm charts, Bitnami, operators, jsonnet manifests and old versions are all found.
- `component_status(snap, name, findings)`: everything `sre-expert component NAME` shows.

A role that is not found is a problem only when something depends on it (its `needed_by` kinds have
objects: Certificates and no cert-manager controller), or when the component is installed the reference
platform's way (a required role runs under its reference name) and a sibling is gone. Otherwise the
difference is an info note, never a "missing" finding.

Pure functions of the Snapshot, like checks: no I/O beyond reading the packaged data files once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from sre_expert.core.model import COMPONENT_KIND, SAFETY_CLASSES, Finding, Key
from sre_expert.core.snapshot import Snapshot

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
WORKLOAD_API = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1"}

# Findings carry the catalogue's component name, which is not always the data file's name.
DEFAULT_FINDING_COMPONENT = {
    "envoy-gateway": "gateway",
    "kube-prometheus": "monitoring",
    "kyverno": "policy",
    "falco": "policy",
}

COMPONENT_CODES = ("COMPONENT-CONTROLLER-MISSING", "COMPONENT-CONTROLLER-UNAVAILABLE", "COMPONENT-NOT-INSTALLED",
                   "COMPONENT-DIFFERS-FROM-REFERENCE")

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*(\.[a-z0-9-]+(\.[a-z0-9-]+)*)?$")
_CONTROLLER_NAME = re.compile(r"^[a-z0-9.-]+/[A-Za-z0-9_./-]+$")
_LABEL = re.compile(r"^([a-z0-9.-]+/)?[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]*$")
_CONTROLLER_KEYS = {"kind", "namespace", "name", "names", "images", "labels", "needed_by", "optional"}
_CRD = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


class ComponentDataError(ValueError):
    """A components data file is malformed: a packaging bug, reported with the file and the field."""


# ---------------------------------------------------------------------------------------- data model


@dataclass(slots=True, frozen=True)
class ControllerRef:
    """One controller role: the reference platform's workload and how other installs name it."""

    kind: str
    namespace: str
    name: str
    names: tuple[str, ...] = ()
    """Other workload names for the same role (upstream chart, jsonnet, older versions: `restic`)."""
    images: tuple[str, ...] = ()
    """Image repositories (path suffixes) only this role's workload runs."""
    labels: tuple[tuple[tuple[str, str], ...], ...] = ()
    """Label sets (all pairs of one set must match) that identify the role's workload."""
    needed_by: tuple[str, ...] = ()
    """Kinds (`Kind` or `Kind.group`) whose objects cannot work without this role."""
    optional: bool = False
    """Upstream installs often leave it out (exporters, Grafana, ApplicationSets): absence is a note."""

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
    """`Kind` or `Kind.group` (say `Backup.velero.io`) when other API groups use the same kind name."""
    namespaces: tuple[str, ...] = ()
    gateway_controllers: tuple[str, ...] = ()
    """GatewayClass spec.controllerName values this component implements."""


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
            hint = (" (a ': ' inside an unquoted item makes YAML read it as a mapping; quote the item)"
                    if isinstance(x, dict) else "")
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
    bad = sorted(set(det) - {"crds", "kinds", "namespaces", "gateway_controllers"})
    if bad:
        raise ComponentDataError(f"{where}: detect has unknown keys {bad}; allowed: crds, kinds, namespaces, gateway_controllers")
    detect = Detect(
        crds=_str_list(det.get("crds"), f"{where}: detect.crds", _CRD),
        kinds=_str_list(det.get("kinds"), f"{where}: detect.kinds", _KIND),
        namespaces=_str_list(det.get("namespaces"), f"{where}: detect.namespaces", _NAME),
        gateway_controllers=_str_list(det.get("gateway_controllers"), f"{where}: detect.gateway_controllers", _CONTROLLER_NAME),
    )
    if not (detect.crds or detect.kinds or detect.namespaces or detect.gateway_controllers):
        raise ComponentDataError(f"{where}: detect needs at least one of crds, kinds, namespaces, gateway_controllers")

    ctrls = doc["controllers"]
    if not isinstance(ctrls, list):
        raise ComponentDataError(f"{where}: 'controllers' must be a list of {{kind, namespace, name}}")
    controllers: list[ControllerRef] = []
    for i, c in enumerate(ctrls):
        cw = f"{where}: controllers[{i}]"
        if not isinstance(c, dict) or not {"kind", "namespace", "name"} <= set(c) or set(c) - _CONTROLLER_KEYS:
            raise ComponentDataError(f"{cw}: must have the keys kind, namespace, name (and optionally "
                                     f"{', '.join(sorted(_CONTROLLER_KEYS - {'kind', 'namespace', 'name'}))}); got {c!r}")
        if c["kind"] not in WORKLOAD_KINDS:
            raise ComponentDataError(f"{cw}: kind must be one of {WORKLOAD_KINDS}, got {c['kind']!r}")
        for k in ("namespace", "name"):
            if not isinstance(c[k], str) or not _NAME.match(c[k]):
                raise ComponentDataError(f"{cw}: {k} {c[k]!r} is not a valid Kubernetes name")
        if not isinstance(c.get("optional", False), bool):
            raise ComponentDataError(f"{cw}: optional must be true or false, got {c['optional']!r}")
        label_sets = []
        for j, sel in enumerate(_str_list(c.get("labels"), f"{cw}: labels")):
            pairs = [p.strip() for p in sel.split(",")]
            if not all(_LABEL.match(p) for p in pairs):
                raise ComponentDataError(f"{cw}: labels[{j}] {sel!r} must be key=value pairs separated by commas")
            label_sets.append(tuple(tuple(p.split("=", 1)) for p in pairs))
        ref = ControllerRef(
            c["kind"], c["namespace"], c["name"],
            names=_str_list(c.get("names"), f"{cw}: names", _NAME),
            images=_str_list(c.get("images"), f"{cw}: images", re.compile(r"^[a-z0-9][a-z0-9._/-]*$")),
            labels=tuple(label_sets),  # type: ignore[arg-type]
            needed_by=_str_list(c.get("needed_by"), f"{cw}: needed_by", _KIND),
            optional=bool(c.get("optional", False)),
        )
        if any(r.key == ref.key for r in controllers):
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


def kind_objects(snap: Snapshot, spec: str) -> list[dict[str, Any]]:
    """Objects of `Kind` or of `Kind.group` (only that API group: velero's Backup, not CloudNativePG's)."""
    kind, _, group = spec.partition(".")
    objs = snap.list(kind)
    if not group:
        return objs
    return [o for o in objs if (o.get("apiVersion") or "").split("/", 1)[0] == group]


def gateway_classes_of(snap: Snapshot, comp: Component) -> list[dict[str, Any]]:
    """GatewayClasses whose controllerName is this component's."""
    if not comp.detect.gateway_controllers:
        return []
    return [gc for gc in snap.list("GatewayClass")
            if ((gc.get("spec") or {}).get("controllerName") or "") in comp.detect.gateway_controllers]


def detect(snap: Snapshot, comp: Component) -> bool:
    """Installed when one of its kinds has objects, one of its CRDs exists, a GatewayClass names its
    controller, one of its required controllers runs, or one of its own namespaces runs workloads."""
    return bool(detection_evidence(snap, comp))


def detection_evidence(snap: Snapshot, comp: Component, located: list[ControllerStatus] | None = None) -> list[str]:
    """Why the component counts as installed; [] when it does not."""
    found: list[str] = []
    for kind in comp.detect.kinds:
        n = len(kind_objects(snap, kind))
        if n:
            found.append(f"{n} {kind.split('.', 1)[0]} object(s)")
    for crd in comp.detect.crds:
        if snap.get("CustomResourceDefinition", None, crd) is not None:
            found.append(f"CRD {crd}")
    for gc in gateway_classes_of(snap, comp):
        found.append(f"GatewayClass {gc['metadata'].get('name')} (controllerName {gc['spec'].get('controllerName')})")
    located = locate_controllers(snap, comp) if located is None else located
    for cs in located:
        if cs.found and not cs.ref.optional:
            found.append(cs.display())
            break
    for ns in comp.detect.namespaces:
        n = sum(len(snap.list(k, ns)) for k in (*WORKLOAD_KINDS, "Pod"))
        if n:
            found.append(f"{n} workload object(s) in namespace {ns}")
    return found


def absence_evidence(snap: Snapshot, comp: Component) -> list[str]:
    """What was looked for and not found, saying which kinds could not be read at all."""
    out = []
    for spec in comp.detect.kinds:
        kind = spec.split(".", 1)[0]
        out.append(f"no {kind} objects" + ("" if snap.collected(kind) else f" ({kind} could not be read)"))
    if comp.detect.crds:
        crd_note = "" if snap.collected("CustomResourceDefinition") and snap.count("CustomResourceDefinition") else (
            " (CustomResourceDefinitions were not collected)")
        out.append(f"no CRD {', '.join(comp.detect.crds)}{crd_note}")
    if comp.detect.gateway_controllers:
        out.append(f"no GatewayClass with controllerName {', '.join(comp.detect.gateway_controllers)}")
    if comp.controllers:
        out.append("no controller workload by name, image or labels (" + ", ".join(
            r.display() for r in comp.controllers if not r.optional) + ")")
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
    actual: Key | None = None
    """Where the role's workload really runs (may differ from the reference name and namespace)."""
    how: str = ""
    """How it was recognised: reference, name, image or labels."""
    required: bool = True
    """Whether its absence is a problem (something depends on it, or this is the reference layout)."""
    dependents: list[str] = field(default_factory=list)
    """Objects that need this role, as "3 Certificate object(s)"."""
    collected: bool = True  # False: its kind was not in the snapshot at all, so "not found" proves nothing

    @property
    def key(self) -> Key:
        return self.actual or self.ref.key

    @property
    def healthy(self) -> bool:
        return self.found and self.desired > 0 and self.available >= self.desired

    @property
    def differs(self) -> bool:
        """Found under another name or namespace than the reference platform's."""
        return self.found and self.actual != self.ref.key

    def display(self) -> str:
        kind, ns, name = self.key
        return f"{kind} {ns}/{name}"

    def summary(self) -> str:
        if not self.visible:
            return "not checked (namespace not swept)"
        if not self.collected:
            return f"not checked ({self.ref.kind}s were not collected)"
        if not self.found:
            return "missing" if self.required else "not installed"
        return f"{self.available}/{self.desired} available"

    def to_json(self) -> dict[str, Any]:
        kind, ns, name = self.key
        return {
            "kind": kind, "namespace": ns, "name": name, "found": self.found, "desired": self.desired,
            "ready": self.ready, "available": self.available, "healthy": self.healthy, "images": self.images,
            "visible": self.visible, "collected": self.collected, "required": self.required,
            "recognisedBy": self.how or None,
            "reference": {"namespace": self.ref.namespace, "name": self.ref.name},
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


def _repo_suffixes(image: str) -> list[str]:
    """`quay.io/prometheus-operator/prometheus-operator:v0.60.1` → every path suffix of its repository:
    prometheus-operator, prometheus-operator/prometheus-operator, quay.io/prometheus-operator/prometheus-operator."""
    parts = image_repository(image).split("/")
    return ["/".join(parts[i:]) for i in range(len(parts) - 1, -1, -1)]


class WorkloadIndex:
    """Deployments, StatefulSets and DaemonSets by (kind, name), image repository suffix and label, built
    once per snapshot so locating every component's roles costs dict lookups."""

    def __init__(self, snap: Snapshot):
        self.by_name: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.by_image: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.by_label: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for kind in WORKLOAD_KINDS:
            for obj in snap.list(kind):
                md = obj.get("metadata") or {}
                self.by_name[(kind, md.get("name") or "")].append(obj)
                for k, v in (md.get("labels") or {}).items():
                    self.by_label[(kind, k, str(v))].append(obj)
                seen: set[str] = set()
                for img in template_images(obj):
                    for suffix in _repo_suffixes(img):
                        if suffix not in seen:
                            seen.add(suffix)
                            self.by_image[(kind, suffix)].append(obj)

    def candidates(self, ref: ControllerRef) -> list[tuple[str, dict[str, Any]]]:
        """(how, workload) that could be this role, best evidence first."""
        out: list[tuple[str, dict[str, Any]]] = []
        for n in (ref.name, *ref.names):
            out += [("name", o) for o in self.by_name.get((ref.kind, n), ())]
        for img in ref.images:
            out += [("image", o) for o in self.by_image.get((ref.kind, img), ())]
        for sel in ref.labels:
            first, *rest = sel
            for o in self.by_label.get((ref.kind, *first), ()):
                labels = (o.get("metadata") or {}).get("labels") or {}
                if all(str(labels.get(k)) == v for k, v in rest):
                    out.append(("labels", o))
        return out


def _pick(cands: list[tuple[str, dict[str, Any]]], homes: tuple[str, ...], taken: set[int]) -> tuple[str, dict[str, Any]] | None:
    """The best free candidate: the strongest evidence, then one in the component's own namespaces."""
    rank = {"name": 0, "image": 1, "labels": 2}
    free = [(how, o) for how, o in cands if id(o) not in taken]
    if not free:
        return None
    return min(free, key=lambda c: (rank[c[0]], (c[1]["metadata"].get("namespace") or "") not in homes,
                                    c[1]["metadata"].get("namespace") or "", c[1]["metadata"].get("name") or ""))


def needed_by(snap: Snapshot, comp: Component, ref: ControllerRef) -> list[str]:
    """What depends on a role, as "3 Certificate object(s)"; [] when nothing in the snapshot does."""
    out = []
    for spec in ref.needed_by:
        n = len(kind_objects(snap, spec))
        if n:
            out.append(f"{n} {spec.split('.', 1)[0]} object(s)")
    if ref is next((r for r in comp.controllers if not r.optional), None):
        for gc in gateway_classes_of(snap, comp):
            users = [g for g in snap.list("Gateway")
                     if (g.get("spec") or {}).get("gatewayClassName") == gc["metadata"].get("name")]
            if users:
                out.append(f"GatewayClass {gc['metadata'].get('name')} with {len(users)} Gateway(s)")
    return out


def _controller_status(snap: Snapshot, ref: ControllerRef, how: str, obj: dict[str, Any] | None) -> ControllerStatus:
    if obj is None:
        return ControllerStatus(ref, found=False, visible=snap.sees(ref.namespace), collected=snap.collected(ref.kind))
    desired, ready, available, ev = workload_counts(obj)
    pods = [("Pod", p["metadata"].get("namespace") or "", p["metadata"]["name"]) for p in snap.pods_of(obj)]
    md = obj["metadata"]
    return ControllerStatus(ref, True, desired, ready, available, template_images(obj), ev, pods,
                            actual=(ref.kind, md.get("namespace") or "", md.get("name") or ""), how=how)


def locate_controllers(snap: Snapshot, comp: Component) -> list[ControllerStatus]:
    """Each role of the component with the workload that plays it, wherever and however it was installed.

    The reference name and namespace win; then the names other installs use, then the image, then the
    labels, each workload taken by one role only (External Secrets runs one image in three roles)."""
    idx: WorkloadIndex = snap.memo("components.workloads", WorkloadIndex)
    homes = comp.namespaces
    taken: set[int] = set()
    chosen: dict[int, tuple[str, dict[str, Any]]] = {}
    for i, ref in enumerate(comp.controllers):
        obj = snap.get(ref.kind, ref.namespace, ref.name)
        if obj is not None:
            chosen[i] = ("reference", obj)
            taken.add(id(obj))
    for i, ref in enumerate(comp.controllers):
        if i in chosen:
            continue
        pick = _pick(idx.candidates(ref), homes, taken)
        if pick is not None:
            chosen[i] = pick
            taken.add(id(pick[1]))
    out = [_controller_status(snap, ref, *chosen.get(i, ("", None))) for i, ref in enumerate(comp.controllers)]
    reference_layout = any(cs.how == "reference" and not cs.ref.optional for cs in out)
    for cs in out:
        cs.dependents = needed_by(snap, comp, cs.ref)
        cs.required = bool(cs.dependents) or (reference_layout and not cs.ref.optional)
    return out


def controller_status(snap: Snapshot, ref: ControllerRef) -> ControllerStatus:
    """One role's workload at its reference name only (see `locate_controllers` for the full search)."""
    obj = snap.get(ref.kind, ref.namespace, ref.name)
    return _controller_status(snap, ref, "reference" if obj is not None else "", obj)


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


# ---------------------------------------------------------------------------------------- GitOps


def argocd_manages(snap: Snapshot) -> Callable[[Key], bool]:
    """Whether an Argo CD Application manages an object: one lists it in status.resources or deploys into its
    namespace (spec.destination), or the object carries Argo CD's tracking annotation or instance label.
    Objects Argo CD creates indirectly (pods, ReplicaSets) share the namespace of what it manages."""
    namespaces: set[str] = set()
    objects: set[tuple[str, str, str]] = set()
    for app in kind_objects(snap, "Application.argoproj.io"):
        spec = app.get("spec") or {}
        dest = (spec.get("destination") or {}).get("namespace")
        if dest:
            namespaces.add(dest)
        for r in (app.get("status") or {}).get("resources") or ():
            if r.get("namespace"):
                namespaces.add(r["namespace"])
            objects.add((r.get("kind") or "", r.get("namespace") or "", r.get("name") or ""))

    def tracked(key: Key) -> bool:
        """Argo CD's own marks on the object (annotation tracking, or its legacy instance label)."""
        obj = snap.get(key[0], key[1] or None, key[2])
        md = (obj or {}).get("metadata") or {}
        return "argocd.argoproj.io/tracking-id" in (md.get("annotations") or {}) or \
            "argocd.argoproj.io/instance" in (md.get("labels") or {})

    def managed(key: Key) -> bool:
        return key in objects or (bool(key[1]) and key[1] in namespaces) or tracked(key)

    return managed


# ---------------------------------------------------------------------------------------- status


def belongs(f: Finding, comp: Component) -> bool:
    """Whether a finding is about this component."""
    if f.code in COMPONENT_CODES:
        return (COMPONENT_KIND, "", comp.name) in f.subjects
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
    def differences(self) -> list[str]:
        """How this install differs from the reference platform (names, namespaces, version, roles left out)."""
        out = []
        seen_install = any(cs.found for cs in self.controllers)  # else absent roles may just be unread
        for cs in self.controllers:
            if cs.differs:
                out.append(f"{cs.display()} plays {cs.ref.display()} (recognised by {cs.how})")
            elif not cs.found and not cs.required and cs.visible and cs.collected and seen_install:
                out.append(f"no {cs.ref.kind} like {cs.ref.namespace}/{cs.ref.name}: not part of this install")
        if self.version_ok is False:
            out.append(f"version {', '.join(self.versions_seen)} (reference platform: {self.component.version})")
        return out

    @property
    def state(self) -> str:
        """not-installed | not-checked (a namespace-scoped sweep or a bundle without those kinds could not
        see its controllers, or none of them was found and nothing needs them) | down (a required controller
        is missing or has nothing available) | failing (critical findings) | degraded (warnings, or a
        controller short of replicas) | healthy."""
        seen = [cs for cs in self.controllers if cs.visible and cs.collected]
        if not self.installed:
            return "not-installed" if len(seen) == len(self.controllers) else "not-checked"
        if any((not cs.found and cs.required) or (cs.found and cs.available == 0) for cs in seen):
            return "down"
        if self.controllers and not any(cs.found for cs in self.controllers):
            return "not-checked"  # installed (its objects or namespace are there) but no controller was seen
        if any(f.severity == "critical" for f in self.findings):
            return "failing"
        if self.problems or any(cs.found and not cs.healthy for cs in seen):
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
            "differsFromReference": self.differences,
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
    controllers = locate_controllers(snap, comp)
    detected_by = detection_evidence(snap, comp, controllers)
    mine = [f for f in findings if belongs(f, comp)]  # the report's ranking: root causes first
    return ComponentStatus(comp, bool(detected_by), detected_by, controllers, seen_versions(comp, controllers), mine)
