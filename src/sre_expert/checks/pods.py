"""Pod health: why containers do not start, crash, get killed, or pods are not scheduled, keyed on the
status fields and event reasons the kubelet and scheduler write.

One cheap pass reads phase and containerStatuses of every pod; only unhealthy pods get a deeper look
(their events through snap.events_for, their logs). Pods of one controller collapse into one finding
per code on the top controller (Pod → ReplicaSet → Deployment), whose subjects are all the pods.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sre_expert.checks import logscan
from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, daemon_node, pod_ready
from sre_expert.core.model import DATA_FILES_KIND, TOP_CONTROLLER_KINDS, Finding, Key, Remediation, key_of
from sre_expert.core.selectors import describe
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.units import parse_quantity
from sre_expert.core.wording import quote
from sre_expert.domain.event_text import fmt_event

Obj = dict[str, Any]

# How long a state must last before it is a problem rather than a step of a normal start.
PENDING_GRACE = timedelta(minutes=2)  # Unschedulable: the autoscaler may still add a node
UNSCHEDULED_GRACE = timedelta(minutes=5)  # Pending with no scheduling decision at all
CREATING_GRACE = timedelta(minutes=1)  # ContainerCreating with FailedMount events
CREATING_STUCK = timedelta(minutes=5)  # ContainerCreating without an explaining event
NOT_READY_GRACE = timedelta(minutes=5)  # running but not Ready
PROBE_GRACE = timedelta(minutes=2)  # running, not Ready, readiness probe failing
INIT_STUCK = timedelta(minutes=10)  # an init container still running
TERMINATING_GRACE = timedelta(minutes=5)  # past deletionTimestamp (which already includes the grace period)
FLAPPING_WINDOW = timedelta(minutes=10)  # a restart this recent means the container is still crashing
RECENT_OOM = timedelta(hours=1)
RESTART_INFO_WINDOW = timedelta(hours=24)
RECENT_FAILURE = timedelta(hours=1)

MAX_LISTED_PODS = 5
MAX_LOG_PODS = 3

IMAGE_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable",
                 "SignatureValidationFailed"}
START_WAIT_REASONS = {"CreateContainerError", "RunContainerError", "PreStartHookError", "PostStartHookError",
                      "PreCreateHookError"}
START_TERM_REASONS = {"ContainerCannotRun", "StartError"}
AVAILABILITY_CODES = {"POD-CRASHLOOP", "POD-OOMKILLED", "POD-IMAGE-PULL", "POD-CONFIG-ERROR", "POD-START-ERROR",
                      "POD-VOLUME-MOUNT", "POD-STUCK-CREATING", "POD-INIT-FAILING", "POD-INIT-STUCK",
                      "POD-PROBE-FAILING", "POD-NOT-READY", "POD-UNSCHEDULABLE", "POD-PENDING", "POD-NODE-LOST"}
BATCH_KINDS = {"Job", "CronJob"}
RESTARTABLE_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}
NODE_CONDITION_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
                         "node.kubernetes.io/memory-pressure", "node.kubernetes.io/disk-pressure",
                         "node.kubernetes.io/pid-pressure", "node.kubernetes.io/network-unavailable",
                         "node.kubernetes.io/unschedulable", "node.kubernetes.io/out-of-service")

EXIT_MEANING = {
    0: "the process exited 0: it ends instead of staying in the foreground, and restartPolicy Always restarts it",
    1: "application error",
    2: "invalid usage or arguments",
    126: "command found but not executable",
    127: "command not found in the image",
    128: "the runtime could not start the process",
    130: "SIGINT",
    134: "SIGABRT: the process aborted",
    137: "SIGKILL: killed (out of memory, failed liveness probe, or an external kill)",
    139: "SIGSEGV: segmentation fault",
    143: "SIGTERM: terminated on request",
}



# --------------------------------------------------------------------------------------------- helpers


def _t(value: Any) -> datetime | None:
    return parse_time(value) if value else None


# Linux has 64 signals: 128+N means "killed by signal N" only up to 128+64. Above that the process chose
# the code itself; 255 is what exit(-1) becomes (and what ssh returns when the connection fails).
MAX_SIGNAL = 64


def exit_meaning(code: Any) -> str:
    """What a container exit code usually means, '' when it carries no conventional meaning."""
    if not isinstance(code, int) or isinstance(code, bool):
        return ""
    meaning = EXIT_MEANING.get(code)
    if meaning is None and 128 < code <= 128 + MAX_SIGNAL:
        meaning = f"killed by signal {code - 128}"
    elif meaning is None and code == 255:
        meaning = "the process exited with -1 (255): a generic failure it reported itself, not a signal"
    return meaning or ""


def _exit_text(code: Any) -> str:
    meaning = exit_meaning(code)
    return f" ({meaning})" if meaning else ""


def fmt_mem(n: float) -> str:
    mi = n / 2**20
    if mi >= 1024 and (mi / 1024) == int(mi / 1024):
        return f"{int(mi / 1024)}Gi"
    return f"{int(round(mi))}Mi"


def _container_specs(pod: Obj) -> dict[str, Obj]:
    spec = pod.get("spec") or {}
    out = {c.get("name"): c for c in spec.get("initContainers") or ()}
    out.update({c.get("name"): c for c in spec.get("containers") or ()})
    return out


def _first_event(evs: list[Obj], *reasons: str, contains: str | None = None) -> Obj | None:
    """Newest event with one of the reasons (and text), or None."""
    for ev in reversed(evs):
        if ev.get("reason") in reasons and (contains is None or contains in (ev.get("message") or "")):
            return ev
    return None


def _container_events(evs: list[Obj], container: str, *reasons: str) -> list[Obj]:
    fp = f"{{{container}}}"
    out = []
    for ev in evs:
        if reasons and ev.get("reason") not in reasons:
            continue
        path = ((ev.get("involvedObject") or ev.get("regarding") or {}).get("fieldPath")) or ""
        msg = ev.get("message") or ""
        if not path or fp in path or f" {container} " in f" {msg} ":
            out.append(ev)
    return out


# --------------------------------------------------------------------------------------------- model


@dataclass(slots=True)
class Issue:
    code: str
    pod: Obj
    summary: str  # one phrase: what is wrong with this pod
    evidence: list[str]
    container: str = ""
    severity: str = "critical"
    depends: list[Key] = field(default_factory=list)
    log_previous: bool | None = None  # read this container's log: previous instance (True) or current (False)
    params: dict[str, str] = field(default_factory=dict)


class Ctx:
    """Per-run caches; built lazily, never shared between runs."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.now = snap.now
        self.nodes_collected = snap.collected("Node") and snap.count("Node") > 0
        self.bad_nodes: dict[str, str] = {}
        self.removing: set[str] = set()
        for n in snap.list("Node"):
            name = n["metadata"]["name"]
            ready = condition(n, "Ready")
            if ready is None or ready.get("status") != "True":
                st = ready.get("status") if ready else "missing"
                why = f"{ready.get('reason')}: {quote(ready.get('message'))}" if ready else "no Ready condition"
                self.bad_nodes[name] = f"Node {name} Ready={st} ({why})"
            spec = n.get("spec") or {}
            if n["metadata"].get("deletionTimestamp") or spec.get("unschedulable") or any(
                t.get("key") == "ToBeDeletedByClusterAutoscaler" for t in spec.get("taints") or ()
            ):
                self.removing.add(name)
        self._taint_nodes: dict[str, list[str]] = {}
        self.resolver = logscan.ServiceResolver(snap)

    def has_kind(self, kind: str) -> bool:
        """Whether absence from the snapshot means absence from the cluster: the kind was collected
        (some objects of it are present and no collection error was recorded)."""
        return self.snap.count(kind) > 0 and self.snap.collected(kind)

    def nodes_with_taint(self, key: str) -> list[str]:
        if key not in self._taint_nodes:
            self._taint_nodes[key] = sorted(
                n["metadata"]["name"] for n in self.snap.list("Node")
                if any(t.get("key") == key for t in (n.get("spec") or {}).get("taints") or ())
            )
        return self._taint_nodes[key]

    def node_gone(self, name: str) -> bool:
        return name in self.removing or (self.nodes_collected and self.snap.get("Node", "", name) is None)

    def ago(self, when: datetime | None) -> str:
        return human(self.now - when) + " ago" if when else "at an unknown time"


# --------------------------------------------------------------------------------------------- container analysis


def _config_error(ctx: Ctx, pod: Obj, name: str, msg: str) -> tuple[str, list[str], list[Key]]:
    """Decode CreateContainerConfigError: which Secret/ConfigMap (or key) is missing."""
    ns = pod["metadata"].get("namespace") or ""
    snap = ctx.snap
    ev: list[str] = []
    deps: list[Key] = []
    m = re.search(r"couldn't find key (\S+) in (Secret|ConfigMap) ([^/\s]+)/([^\s,;]+)", msg)
    if m:
        key, kind, kns, kname = m.groups()
        deps.append((kind, kns, kname))
        obj = snap.get(kind, kns, kname)
        if obj is not None:
            keys = sorted((obj.get("data") or {}).keys() | (obj.get("binaryData") or {}).keys())
            ev.append(f"{kind} {kns}/{kname} exists with keys [{', '.join(keys)}], no key {key}")
        return f"{kind} {kname} has no key {key}", ev, deps
    m = re.search(r"(secret|configmap) \"([^\"]+)\" not found", msg, re.IGNORECASE)
    if m:
        kind = "Secret" if m.group(1).lower() == "secret" else "ConfigMap"
        kname = m.group(2)
        deps.append((kind, ns, kname))
        if ctx.has_kind(kind) and snap.get(kind, ns, kname) is None:
            ev.append(f"{kind} {ns}/{kname} does not exist in the snapshot")
        if kind == "Secret":
            es = snap.get("ExternalSecret", ns, kname)
            if es is not None:
                ev.append(f"ExternalSecret {ns}/{kname} is meant to create it")
        return f"{kind} {kname} not found", ev, deps
    if "runAsNonRoot" in msg:
        return "runAsNonRoot is set but the image runs as root (or a non-numeric user)", ev, deps
    return quote(msg) or "container configuration cannot be built", ev, deps


def _image_cause(msg: str) -> str:
    low = msg.lower()
    if "invalid reference format" in low or "couldn't parse image" in low or "invalidimagename" in low:
        return "the image reference is malformed"
    if "toomanyrequests" in low or "rate limit" in low or "429 too many" in low:
        return "the registry rate-limits pulls (toomanyrequests)"
    if "repository does not exist or may require authorization" in low:
        return "the repository does not exist or needs credentials"
    if any(s in low for s in ("unauthorized", "authentication required", "no basic auth credentials", "401",
                              "403 forbidden", "denied", "insufficient_scope", "authorization failed")):
        return "the registry refused the credentials (unauthorized)"
    if any(s in low for s in ("not found", "manifest unknown", "notfound", "name unknown", "does not exist")):
        return "the image or tag does not exist in the registry"
    if any(s in low for s in ("no such host", "i/o timeout", "connection refused", "network is unreachable",
                              "tls handshake timeout", "x509", "context deadline exceeded", "connection reset",
                              "dial tcp", "no route to host")):
        return "the registry is unreachable from the node"
    if "errimageneverpull" in low or "neverpull" in low:
        return "imagePullPolicy is Never and the image is not on the node"
    return ""


def _image_issue(ctx: Ctx, pod: Obj, cs: Obj, waiting: Obj, evs: list[Obj], init: bool) -> Issue:
    name = cs.get("name") or ""
    spec_c = _container_specs(pod).get(name) or {}
    image = spec_c.get("image") or cs.get("image") or "?"
    reason = waiting.get("reason")
    evidence = [f"{'init ' if init else ''}container {name}: state.waiting.reason={reason}"
                + (f" message={quote(waiting.get('message'))}" if waiting.get("message") else ""),
                f"image: {image}"]
    failed = None
    pull_msg = ""
    for ev in reversed(_container_events(evs, name, "Failed", "InspectFailed", "ErrImageNeverPull")):
        m = ev.get("message") or ""
        if m.startswith("Failed to pull image") or ev.get("reason") != "Failed" or "reference" in m:
            failed, pull_msg = ev, m
            break
    if failed is not None:
        evidence.append(fmt_event(failed))
    backoff = _first_event(_container_events(evs, name, "BackOff"), "BackOff")
    if backoff is not None and "pull" in (backoff.get("message") or "").lower():
        evidence.append(fmt_event(backoff))
    cause = _image_cause(pull_msg or waiting.get("message") or reason or "")
    deps: list[Key] = []
    ns = pod["metadata"].get("namespace") or ""
    pull_secrets = [s.get("name") for s in (pod.get("spec") or {}).get("imagePullSecrets") or () if s.get("name")]
    if "credential" in cause or "unauthorized" in cause:
        if pull_secrets:
            evidence.append(f"imagePullSecrets: {', '.join(pull_secrets)}")
            for s in pull_secrets:
                deps.append(("Secret", ns, s))
                if ctx.has_kind("Secret") and ctx.snap.get("Secret", ns, s) is None:
                    evidence.append(f"imagePullSecret {ns}/{s} does not exist")
        else:
            evidence.append("the pod has no imagePullSecrets")
    if cause:
        evidence.append(f"cause: {cause}")
    summary = f"cannot pull image {image}" + (f": {cause}" if cause else f" ({reason})")
    return Issue("POD-IMAGE-PULL", pod, summary, evidence, container=name, depends=deps,
                 params={"image": image})


_RUNTIME_CAUSE = re.compile(r"(?:unable to start container process|error during container init|"
                            r"failed to create task for container|failed to start container \"[^\"]+\"): (.*)")


def runtime_cause(msg: Any) -> str:
    """The specific end of a container runtime error ('exec: "x": executable file not found in $PATH')."""
    s = " ".join(str(msg or "").split())
    m = _RUNTIME_CAUSE.search(s)
    if m:
        s = m.group(1)
    s = re.sub(r":\s*unknown$", "", s)
    return quote(s)


def _restart_evidence(cs: Obj, last: Obj | None) -> list[str]:
    ev = [f"restartCount={cs.get('restartCount', 0)}"]
    if last:
        ev.append(f"lastState.terminated.exitCode={last.get('exitCode')} reason={last.get('reason')}"
                  + _exit_text(last.get("exitCode"))
                  + (f" finishedAt={last.get('finishedAt')}" if last.get("finishedAt") else ""))
        if last.get("message"):
            ev.append(f"lastState.terminated.message: {quote(last.get('message'))}")
    return ev


def _probe_kills(evs: list[Obj], name: str) -> list[Obj]:
    out = []
    for ev in _container_events(evs, name, "Killing", "Unhealthy"):
        msg = ev.get("message") or ""
        if ("liveness probe" in msg.lower() or "startup probe" in msg.lower()) and (
            ev.get("reason") == "Unhealthy" or "will be restarted" in msg
        ):
            out.append(ev)
    return out


def _oom_issue(ctx: Ctx, pod: Obj, name: str, cs: Obj, term: Obj, where: str, init: bool,
               severity: str = "critical") -> Issue:
    spec_c = _container_specs(pod).get(name) or {}
    res = spec_c.get("resources") or {}
    limit = (res.get("limits") or {}).get("memory")
    request = (res.get("requests") or {}).get("memory")
    evidence = [f"{'init ' if init else ''}container {name}: {where}.exitCode={term.get('exitCode')} "
                f"reason=OOMKilled" + (f" finishedAt={term.get('finishedAt')}" if term.get("finishedAt") else ""),
                f"restartCount={cs.get('restartCount', 0)}"]
    waiting = (cs.get("state") or {}).get("waiting")
    if waiting:
        evidence.insert(0, f"container {name}: state.waiting.reason={waiting.get('reason')}")
    params = {}
    if limit:
        evidence.append(f"resources.limits.memory={limit}" + (f" requests.memory={request}" if request else ""))
        b = parse_quantity(limit)
        if b:
            params["suggested_limit"] = fmt_mem(b * 2)
        summary = f"container {name} is OOMKilled at its {limit} memory limit"
    else:
        evidence.append("no memory limit set: the kernel OOM killer chose this container under node memory pressure")
        summary = f"container {name} is OOMKilled (no memory limit; node out of memory)"
    params.setdefault("suggested_limit", "<limit>")
    params["limit"] = limit or "none"
    deps: list[Key] = []
    if not limit and (pod.get("spec") or {}).get("nodeName"):
        deps.append(("Node", "", pod["spec"]["nodeName"]))
    return Issue("POD-OOMKILLED", pod, summary, evidence, container=name, severity=severity, depends=deps,
                 log_previous=True if cs.get("restartCount") else False, params=params)


def _waiting_issue(ctx: Ctx, pod: Obj, cs: Obj, evs_fn: Callable[[], list[Obj]], init: bool) -> Issue | None:
    """A container in state.waiting with a failure reason."""
    state = cs.get("state") or {}
    waiting = state.get("waiting") or {}
    reason = waiting.get("reason") or ""
    name = cs.get("name") or ""
    last = (cs.get("lastState") or {}).get("terminated")
    label = "init container" if init else "container"
    if reason == "CrashLoopBackOff":
        evs = evs_fn()
        if last and last.get("reason") == "OOMKilled":
            return _oom_issue(ctx, pod, name, cs, last, "lastState.terminated", init)
        evidence = [f"{label} {name}: state.waiting.reason=CrashLoopBackOff"
                    + (f" message={quote(waiting.get('message'))}" if waiting.get("message") else "")]
        evidence += _restart_evidence(cs, last)
        backoff = _first_event(_container_events(evs, name, "BackOff"), "BackOff")
        if backoff is not None:
            evidence.append(fmt_event(backoff))
        if last and last.get("reason") in START_TERM_REASONS:
            return Issue("POD-START-ERROR", pod, f"{label} {name} cannot start: {last.get('reason')}: "
                         f"{runtime_cause(last.get('message'))}", evidence, container=name)
        kills = _probe_kills(evs, name)
        if kills and not init:
            evidence += [fmt_event(e) for e in kills[-2:]]
            kind = "startup" if "startup probe" in (kills[-1].get("message") or "").lower() else "liveness"
            return Issue("POD-PROBE-FAILING", pod, f"container {name} is restarted by its failing {kind} probe "
                         f"({cs.get('restartCount', 0)} restarts)", evidence, container=name, log_previous=True,
                         params={"probe": kind})
        exit_code = last.get("exitCode") if last else None
        code = "POD-INIT-FAILING" if init else "POD-CRASHLOOP"
        what = (f"exits with code {exit_code}" + (f" ({last.get('reason')})" if last.get("reason") else "")
                if last else "keeps crashing")
        return Issue(code, pod, f"{label} {name} is crash-looping: {what}, {cs.get('restartCount', 0)} restarts",
                     evidence, container=name, log_previous=True)
    if reason in IMAGE_REASONS:
        return _image_issue(ctx, pod, cs, waiting, evs_fn(), init)
    if reason == "CreateContainerConfigError":
        msg = waiting.get("message") or ""
        what, extra, deps = _config_error(ctx, pod, name, msg)
        evidence = [f"{label} {name}: state.waiting.reason=CreateContainerConfigError message={quote(msg)}", *extra]
        failed = _first_event(_container_events(evs_fn(), name, "Failed"), "Failed")
        if failed is not None and failed.get("message") != f"Error: {msg}":
            evidence.append(fmt_event(failed))
        return Issue("POD-CONFIG-ERROR", pod, f"{label} {name} cannot be created: {what}", evidence,
                     container=name, depends=deps)
    if reason in START_WAIT_REASONS:
        msg = waiting.get("message") or ""
        evidence = [f"{label} {name}: state.waiting.reason={reason} message={quote(msg)}"]
        if last:
            evidence += _restart_evidence(cs, last)
        failed = _first_event(_container_events(evs_fn(), name, "Failed"), "Failed")
        if failed is not None:
            evidence.append(fmt_event(failed))
        return Issue("POD-START-ERROR", pod, f"{label} {name} cannot start: {reason}: {runtime_cause(msg)}",
                     evidence, container=name)
    return None


# --------------------------------------------------------------------------------------------- pod analysis


def _pod_volumes_missing(ctx: Ctx, pod: Obj) -> tuple[list[str], list[Key]]:
    """Secrets/ConfigMaps/PVCs the pod's volumes reference that the snapshot does not hold."""
    snap = ctx.snap
    ns = pod["metadata"].get("namespace") or ""
    ev: list[str] = []
    deps: list[Key] = []
    for v in (pod.get("spec") or {}).get("volumes") or ():
        if "secret" in v:
            src = v["secret"] or {}
            n = src.get("secretName")
            if n and not src.get("optional") and ctx.has_kind("Secret") and snap.get("Secret", ns, n) is None:
                ev.append(f"volume {v.get('name')}: Secret {ns}/{n} does not exist")
                deps.append(("Secret", ns, n))
        elif "configMap" in v:
            src = v["configMap"] or {}
            n = src.get("name")
            if n and n != "kube-root-ca.crt" and not src.get("optional") and ctx.has_kind("ConfigMap") and \
                    snap.get("ConfigMap", ns, n) is None:
                ev.append(f"volume {v.get('name')}: ConfigMap {ns}/{n} does not exist")
                deps.append(("ConfigMap", ns, n))
        elif "persistentVolumeClaim" in v:
            n = (v["persistentVolumeClaim"] or {}).get("claimName")
            if not n:
                continue
            pvc = snap.get("PersistentVolumeClaim", ns, n)
            if pvc is None:
                if ctx.has_kind("PersistentVolumeClaim"):
                    ev.append(f"volume {v.get('name')}: PersistentVolumeClaim {ns}/{n} does not exist")
                    deps.append(("PersistentVolumeClaim", ns, n))
            elif (pvc.get("status") or {}).get("phase") != "Bound":
                ev.append(f"volume {v.get('name')}: PersistentVolumeClaim {ns}/{n} "
                          f"status.phase={(pvc.get('status') or {}).get('phase')}")
                deps.append(("PersistentVolumeClaim", ns, n))
    return ev, deps


_MOUNT_REF = re.compile(r"(secret|configmap|persistentvolumeclaim) \"([^\"]+)\" not found", re.IGNORECASE)
_MOUNT_VOLUME = re.compile(r"for volume \"([^\"]+)\"")
_KIND_OF = {"secret": "Secret", "configmap": "ConfigMap", "persistentvolumeclaim": "PersistentVolumeClaim"}


def _projected_volumes(pod: Obj) -> set[str]:
    return {v.get("name") for v in (pod.get("spec") or {}).get("volumes") or () if "projected" in v}


def _creating_issue(ctx: Ctx, pod: Obj, evs: list[Obj], age: timedelta, container: str) -> Issue | None:
    """Containers stuck in ContainerCreating / PodInitializing: volume mount or sandbox failures."""
    ns = pod["metadata"].get("namespace") or ""
    projected = _projected_volumes(pod)
    mount_evs = []
    for ev in evs:
        if ev.get("reason") not in ("FailedMount", "FailedAttachVolume") or ev.get("type") != "Warning":
            continue
        msg = ev.get("message") or ""
        vm = _MOUNT_VOLUME.search(msg)
        if (vm and vm.group(1) in projected) or "kube-root-ca.crt" in msg:
            continue  # the token volume and kube-root-ca.crt are never missing; kubelet cache noise
        if "unmounted volumes=" in msg:
            vols = re.search(r"unmounted volumes=\[([^\]]*)\]", msg)
            names = set((vols.group(1) if vols else "").split())
            if names and names <= projected:
                continue
        mount_evs.append(ev)
    static_ev, static_deps = _pod_volumes_missing(ctx, pod)
    deps: list[Key] = list(static_deps)
    if mount_evs and age >= CREATING_GRACE or (static_deps and age >= CREATING_GRACE):
        evidence = [f"container {container}: state.waiting.reason=ContainerCreating for {human(age)}"]
        named: list[str] = []
        for ev in mount_evs:
            for m in _MOUNT_REF.finditer(ev.get("message") or ""):
                k = (_KIND_OF[m.group(1).lower()], ns, m.group(2))
                if k not in deps:
                    deps.append(k)
                if f"{k[0]} {k[2]}" not in named:
                    named.append(f"{k[0]} {k[2]}")
        evidence += [fmt_event(e) for e in mount_evs[-3:]]
        evidence += static_ev
        for k in static_deps:
            if f"{k[0]} {k[2]}" not in named:
                named.append(f"{k[0]} {k[2]}")
        if named:
            what = f"volume source missing: {', '.join(named)}"
        else:
            last = mount_evs[-1].get("message") or "" if mount_evs else ""
            if "Multi-Attach" in last:
                what = "volume is still attached to another node (Multi-Attach error)"
            elif mount_evs and mount_evs[-1].get("reason") == "FailedAttachVolume":
                what = "volume cannot be attached"
            else:
                what = "volumes cannot be mounted"
        for claim in _claims_named(ctx, pod, mount_evs):
            k = ("PersistentVolumeClaim", ns, claim)
            if k not in deps:
                deps.append(k)
        return Issue("POD-VOLUME-MOUNT", pod, f"stuck in ContainerCreating: {what}", evidence, depends=deps)
    if age >= CREATING_STUCK:
        warn = [e for e in evs if e.get("type") == "Warning"]
        evidence = [f"container {container}: state.waiting.reason=ContainerCreating for {human(age)}"]
        evidence += [fmt_event(e) for e in warn[-3:]] or ["no Warning events explain it (expired, or the "
                                                               "kubelet/runtime on the node is not reporting)"]
        sandbox = _first_event(warn, "FailedCreatePodSandBox")
        what = "pod sandbox cannot be created (CNI/runtime)" if sandbox else f"no container started after {human(age)}"
        node = (pod.get("spec") or {}).get("nodeName")
        return Issue("POD-STUCK-CREATING", pod, f"stuck in ContainerCreating: {what}", evidence,
                     depends=[("Node", "", node)] if node else [])
    return None


_VOLUME_NAMES = re.compile(r"volume \"([^\"]+)\"|(?:unmounted|unattached) volumes=\[([^\]]*)\]")


def _claims_named(ctx: Ctx, pod: Obj, evs: list[Obj]) -> list[str]:
    """The pod's PVCs whose pod volume or PersistentVolume a mount/attach event names."""
    ns = pod["metadata"].get("namespace") or ""
    by_volume: dict[str, str] = {}
    for v in (pod.get("spec") or {}).get("volumes") or ():
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            by_volume[v.get("name")] = claim
            pvc = ctx.snap.get("PersistentVolumeClaim", ns, claim)
            pv = ((pvc or {}).get("spec") or {}).get("volumeName")
            if pv:
                by_volume[pv] = claim
    if not by_volume:
        return []
    out: list[str] = []
    for ev in evs:
        for m in _VOLUME_NAMES.finditer(ev.get("message") or ""):
            names = [m.group(1)] if m.group(1) else (m.group(2) or "").split()
            for n in names:
                c = by_volume.get(n)
                if c and c not in out:
                    out.append(c)
    return out


_CLAUSE_SPLIT = re.compile(r",\s+(?=\d+\s)")


def _requests(pod: Obj) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for c in (pod.get("spec") or {}).get("containers") or ():
        for k, v in ((c.get("resources") or {}).get("requests") or {}).items():
            out.setdefault(k, []).append(str(v))
    return {k: "+".join(v) for k, v in out.items()}


def decode_scheduler_message(ctx: Ctx, pod: Obj, msg: str) -> tuple[list[str], list[Key]]:
    """Turn the scheduler's "0/N nodes are available: ..." into plain causes and dependencies."""
    ns = pod["metadata"].get("namespace") or ""
    spec = pod.get("spec") or {}
    causes: list[str] = []
    deps: list[Key] = []
    head = msg.split(" preemption:", 1)[0].strip()
    m = re.search(r"(\d+)/(\d+) nodes are available:?\s*(.*)", head, re.DOTALL)
    body = m.group(3) if m else head
    if m and m.group(2) == "0":
        causes.append("the cluster has no nodes the scheduler can use")
    for clause in _CLAUSE_SPLIT.split(body.rstrip(".")):
        clause = clause.strip().rstrip(".")
        if not clause:
            continue
        cm = re.match(r"(\d+)\s+(.*)", clause)
        n, text = (cm.group(1), cm.group(2)) if cm else ("", clause)
        nodes = f"{n} node(s)" if n else "nodes"
        if text.startswith("node(s) "):
            text_rest = text[len("node(s) "):]
        else:
            text_rest = text
        low = text.lower()
        if text.startswith("Insufficient "):
            res = text[len("Insufficient "):]
            req = _requests(pod).get(res)
            causes.append(f"{nodes} lack free {res} for the pod's requests"
                          + (f" ({res} request {req})" if req else ""))
        elif "didn't match pod's node affinity/selector" in low or "didn't match node selector" in low:
            sel = spec.get("nodeSelector")
            aff = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
                "requiredDuringSchedulingIgnoredDuringExecution")
            what = f"nodeSelector {describe(sel)}" if sel else ("required node affinity" if aff else "node affinity/selector")
            causes.append(f"{nodes} do not match the pod's {what}")
        elif "untolerated taint" in low or "that the pod didn't tolerate" in low:
            tm = re.search(r"\{([^}]*)\}", text)
            taint = tm.group(1) if tm else "?"
            causes.append(f"{nodes} have the taint {{{taint}}} the pod does not tolerate")
            tkey = taint.split(":", 1)[0].strip()
            if tkey in NODE_CONDITION_TAINTS:
                deps += [("Node", "", nn) for nn in ctx.nodes_with_taint(tkey)]
        elif "unbound immediate persistentvolumeclaims" in low or "persistentvolumeclaim" in low and "not found" in low:
            causes.append("the pod's PersistentVolumeClaim is not bound (or does not exist)")
        elif "didn't find available persistent volumes to bind" in low:
            causes.append(f"{nodes} have no PersistentVolume that can bind the claim "
                          "(check the StorageClass/provisioner)")
        elif "volume node affinity conflict" in low:
            causes.append(f"{nodes} are outside the zone/node the pod's PersistentVolume is pinned to")
        elif "too many pods" in low:
            causes.append(f"{nodes} are at their max-pods capacity")
        elif "were unschedulable" in low or "node(s) were unschedulable" in low:
            causes.append(f"{nodes} are cordoned (spec.unschedulable=true)")
        elif "anti-affinity" in low:
            causes.append(f"{nodes} are excluded by pod anti-affinity rules")
        elif "pod affinity" in low:
            causes.append(f"{nodes} do not satisfy the pod affinity rules")
        elif "free ports" in low:
            causes.append(f"{nodes} already use the requested hostPort")
        elif "topology spread" in low:
            causes.append(f"{nodes} would violate the pod's topology spread constraints")
        elif "max volume count" in low:
            causes.append(f"{nodes} reached their attachable volume limit")
        elif "had volume" in low or "volume" in low:
            causes.append(f"{nodes}: {text_rest}")
        else:
            causes.append(f"{nodes}: {text_rest}" if n else text)
    pvc_msg = re.findall(r"persistentvolumeclaim \"([^\"]+)\" not found", msg)
    for claim in pvc_msg:
        deps.append(("PersistentVolumeClaim", ns, claim))
    if "PersistentVolumeClaim" in msg or pvc_msg or "persistent volumes" in msg:
        _, vdeps = _pod_volumes_missing(ctx, pod)
        deps += [d for d in vdeps if d[0] == "PersistentVolumeClaim"]
    deps = list(dict.fromkeys(deps))  # each once, first mention first
    return causes, deps


def _pending_unscheduled(ctx: Ctx, pod: Obj, st: Obj, owner_kind: str) -> Issue | None:
    md = pod["metadata"]
    created = _t(md.get("creationTimestamp"))
    age = ctx.now - created if created else timedelta(0)
    sched = condition(pod, "PodScheduled")
    if owner_kind == "DaemonSet":
        node = daemon_node(pod)
        if node and ctx.node_gone(node):
            return None  # the DaemonSet controller removes this pod with its node
    if sched and sched.get("status") == "False" and sched.get("reason") == "Unschedulable":
        since = _t(sched.get("lastTransitionTime")) or created
        if age < PENDING_GRACE:
            return None
        evs = ctx.snap.events_for(pod)
        msg = sched.get("message") or ""
        fs = _first_event(evs, "FailedScheduling")
        if fs is not None and not msg:
            msg = fs.get("message") or ""
        causes, deps = decode_scheduler_message(ctx, pod, msg)
        evidence = [f"status.phase=Pending, condition PodScheduled=False reason=Unschedulable since "
                    f"{ctx.ago(since)}", f"scheduler: {quote(msg)}"]
        evidence += [f"cause: {c}" for c in causes]
        if fs is not None:
            evidence.append(fmt_event(fs))
        scale = _first_event(evs, "TriggeredScaleUp", "NotTriggerScaleUp")
        if scale is not None:
            evidence.append(fmt_event(scale))
        # the control-plane taint rejects nodes in every cluster: name the telling causes first
        ranked = sorted(causes, key=lambda c: "control-plane" in c or "node-role.kubernetes.io/master" in c)
        short = "; ".join(ranked[:3])
        return Issue("POD-UNSCHEDULABLE", pod, f"cannot be scheduled: {short or quote(msg)}", evidence,
                     depends=deps)
    if age < UNSCHEDULED_GRACE:
        return None
    evidence = [f"status.phase=Pending with no node for {human(age)}"]
    if sched:
        evidence.append(f"condition PodScheduled={sched.get('status')} reason={sched.get('reason')}"
                        + (f" message={quote(sched.get('message'))}" if sched.get("message") else ""))
    gates = (pod.get("spec") or {}).get("schedulingGates")
    scheduler = (pod.get("spec") or {}).get("schedulerName") or "default-scheduler"
    if gates:
        what = f"held by schedulingGates {[g.get('name') for g in gates]}"
    else:
        what = f"no scheduling decision from {scheduler} (is it running?)"
        evidence.append(f"spec.schedulerName={scheduler}")
    return Issue("POD-PENDING", pod, f"Pending for {human(age)}: {what}", evidence, severity="warning")


def _terminal_time(pod: Obj) -> datetime | None:
    """When a pod ended: its DisruptionTarget (eviction) or Ready transition, else its containers' end."""
    for type_ in ("DisruptionTarget", "Ready"):
        c = condition(pod, type_)
        t = _t(c.get("lastTransitionTime")) if c else None
        if t:
            return t
    best = None
    for cs in (pod.get("status") or {}).get("containerStatuses") or ():
        t = _t(((cs.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if t and (best is None or t > best):
            best = t
    return best


def _failed_pod(ctx: Ctx, pod: Obj, st: Obj, owner_kind: str | None) -> Issue | None:
    reason = st.get("reason") or ""
    message = st.get("message") or ""
    node = (pod.get("spec") or {}).get("nodeName")
    when = _terminal_time(pod)
    recent = when is None or ctx.now - when <= RECENT_FAILURE
    if reason == "Evicted":
        evidence = [f"status.phase=Failed status.reason=Evicted {ctx.ago(when)}",
                    f"status.message: {quote(message)}"]
        if node:
            evidence.append(f"node: {node}")
        m = re.search(r"low on resource: ([\w-]+)", message)
        what = f"evicted by the kubelet: node low on {m.group(1)}" if m else "evicted by the kubelet"
        return Issue("POD-EVICTED", pod, what, evidence, severity="warning" if recent else "info",
                     depends=[("Node", "", node)] if node else [])
    if owner_kind and reason in ("Terminated", "Shutdown", "NodeShutdown"):
        return None  # graceful node shutdown: the controller has replaced it
    containers = [cs for cs in (st.get("containerStatuses") or ()) if (cs.get("state") or {}).get("terminated")]
    for cs in containers:
        term = cs["state"]["terminated"]
        if term.get("reason") == "OOMKilled":
            return _oom_issue(ctx, pod, cs.get("name") or "", cs, term, "state.terminated", False,
                              severity="warning" if owner_kind else "critical")
    evidence = ["status.phase=Failed" + (f" status.reason={reason}" if reason else "") + f" {ctx.ago(when)}"]
    if message:
        evidence.append(f"status.message: {quote(message)}")
    first_bad = None
    for cs in containers:
        term = cs["state"]["terminated"]
        if term.get("exitCode") not in (0, None) or term.get("reason") not in ("Completed", None):
            first_bad = first_bad or cs
            evidence.append(f"container {cs.get('name')}: state.terminated.exitCode={term.get('exitCode')} "
                            f"reason={term.get('reason')}{_exit_text(term.get('exitCode'))}"
                            + (f" message={quote(term.get('message'))}" if term.get("message") else ""))
    if reason == "DeadlineExceeded":
        what = f"killed after spec.activeDeadlineSeconds={(pod.get('spec') or {}).get('activeDeadlineSeconds')}"
    elif reason:
        what = f"rejected or stopped by the kubelet: {reason}"
    elif first_bad is not None:
        term = first_bad["state"]["terminated"]
        what = f"container {first_bad.get('name')} exited with code {term.get('exitCode')} ({term.get('reason')})"
    else:
        what = "pod failed"
    sev = "warning" if recent or not owner_kind else "info"
    return Issue("POD-FAILED", pod, what, evidence, container=(first_bad or {}).get("name") or "",
                 severity=sev, log_previous=False if first_bad is not None else None,
                 depends=[("Node", "", node)] if node and reason and reason != "DeadlineExceeded" else [])


class _PodEvents:
    """The pod's events, read from the snapshot once and only when a finding quotes them."""

    def __init__(self, snap: Snapshot, pod: Obj) -> None:
        self._snap, self._pod = snap, pod
        self._events: list[Obj] | None = None

    def __call__(self) -> list[Obj]:
        if self._events is None:
            self._events = self._snap.events_for(self._pod)
        return self._events


def _analyse(ctx: Ctx, pod: Obj, st: Obj, phase: str, owner_kind: str | None) -> list[Issue]:
    """What is wrong with one pod: its node or its own lifecycle first (lost, stuck Terminating, Failed,
    Unknown, unscheduled), else its containers (the first blocking init container, then the others)."""
    node = (pod.get("spec") or {}).get("nodeName")
    if node and node in ctx.bad_nodes and phase != "Failed":
        return [_node_lost(ctx, pod, node, phase)]
    if pod["metadata"].get("deletionTimestamp"):
        return _terminating(ctx, pod, st, node)
    if phase == "Failed":
        if owner_kind == "Job":
            return []  # the Job check judges its pods
        issue = _failed_pod(ctx, pod, st, owner_kind)
        return [issue] if issue else []
    if phase == "Unknown":
        return [Issue("POD-NODE-LOST", pod, f"status.phase=Unknown: node {node} stopped reporting",
                      [f"pod status.phase=Unknown, status.reason={st.get('reason')}"],
                      depends=[("Node", "", node)] if node else [])]
    if not node:
        issue = _pending_unscheduled(ctx, pod, st, owner_kind or "")
        return [issue] if issue else []
    return _container_issues(ctx, pod, st, phase)


def _node_lost(ctx: Ctx, pod: Obj, node: str, phase: str) -> Issue:
    """A pod on a NotReady node: the node speaks for it."""
    md = pod["metadata"]
    ready = condition(pod, "Ready")
    evidence = [ctx.bad_nodes[node], f"pod status.phase={phase}"
                + (f", condition Ready={ready.get('status')}" if ready else "")
                + (f" reason={ready.get('reason')}" if ready and ready.get("reason") else "")
                + (f" since {ctx.ago(_t(ready.get('lastTransitionTime')))}" if ready else "")]
    if md.get("deletionTimestamp"):
        evidence.append(f"metadata.deletionTimestamp={md['deletionTimestamp']} "
                        "(cannot finish: the kubelet is gone)")
    return Issue("POD-NODE-LOST", pod, f"on node {node}, which is NotReady", evidence,
                 depends=[("Node", "", node)])


def _terminating(ctx: Ctx, pod: Obj, st: Obj, node: str | None) -> list[Issue]:
    """A pod being deleted: an issue only once it is past its grace period (finalizers, running containers)."""
    md = pod["metadata"]
    spec = pod.get("spec") or {}
    now = ctx.now
    dt = _t(md["deletionTimestamp"])
    if not (dt and now - dt > TERMINATING_GRACE):
        return []
    grace = md.get("deletionGracePeriodSeconds", spec.get("terminationGracePeriodSeconds"))
    evidence = [f"metadata.deletionTimestamp={md['deletionTimestamp']} ({human(now - dt)} past the grace "
                f"period of {grace}s)"]
    fin = md.get("finalizers")
    if fin:
        evidence.append(f"metadata.finalizers={fin}")
    running = [cs.get("name") for cs in st.get("containerStatuses") or ()
               if (cs.get("state") or {}).get("running")]
    if running:
        evidence.append(f"containers still running: {', '.join(running)}")
    if node:
        evidence.append(f"node: {node}")
    what = f"stuck Terminating for {human(now - dt)}" + (f" (finalizers {', '.join(fin)})" if fin else "")
    return [Issue("POD-TERMINATING-STUCK", pod, what, evidence, severity="warning",
                  depends=[("Node", "", node)] if node else [])]


def _container_issues(ctx: Ctx, pod: Obj, st: Obj, phase: str) -> list[Issue]:
    """A scheduled pod's containers: init containers run in order and the first one not done blocks the
    pod; only when none blocks are the main containers (and restartable init sidecars) judged."""
    md = pod["metadata"]
    now = ctx.now
    evs = _PodEvents(ctx.snap, pod)
    created = _t(md.get("creationTimestamp"))
    sched = condition(pod, "PodScheduled")
    scheduled_at = _t(sched.get("lastTransitionTime")) if sched else None
    age = now - (scheduled_at or created or now)
    init_specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("initContainers") or ()}
    sidecars = {n for n, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    blocker = _blocking_init(st, sidecars)
    if blocker is not None:
        return _init_issues(ctx, pod, blocker, age, evs)
    return _main_issues(ctx, pod, st, phase, sidecars, age, evs)


def _blocking_init(st: Obj, sidecars: set[Any]) -> Obj | None:
    """The status of the first init container that is not done (a sidecar is done once started)."""
    for cs in st.get("initContainerStatuses") or ():
        name = cs.get("name") or ""
        state = cs.get("state") or {}
        if name in sidecars:
            if state.get("running") or state.get("terminated"):
                continue
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        found: Obj = cs
        return found
    return None


def _init_issues(ctx: Ctx, pod: Obj, cs: Obj, age: timedelta, evs: _PodEvents) -> list[Issue]:
    """Why the blocking init container holds the pod: waiting, failed, or running for too long."""
    name = cs.get("name") or ""
    state = cs.get("state") or {}
    term = state.get("terminated")
    if state.get("waiting"):
        if state["waiting"].get("reason") in ("PodInitializing", "ContainerCreating"):
            issue = _creating_issue(ctx, pod, evs(), age, name)
        else:
            issue = _waiting_issue(ctx, pod, cs, evs, True)
        return [issue] if issue else []
    if term:
        if term.get("reason") == "OOMKilled":
            return [_oom_issue(ctx, pod, name, cs, term, "state.terminated", True)]
        evidence = [f"init container {name}: state.terminated.exitCode={term.get('exitCode')} "
                    f"reason={term.get('reason')}{_exit_text(term.get('exitCode'))}"]
        if term.get("message"):
            evidence.append(f"state.terminated.message: {quote(term.get('message'))}")
        return [Issue("POD-INIT-FAILING", pod, f"init container {name} failed with exit code "
                      f"{term.get('exitCode')} (Init:Error)", evidence, container=name, log_previous=False)]
    running = state.get("running")
    if running:
        started = _t(running.get("startedAt"))
        if started and ctx.now - started > INIT_STUCK:
            evidence = [f"init container {name}: state.running since {running.get('startedAt')} "
                        f"({human(ctx.now - started)})", "main containers: state.waiting.reason=PodInitializing"]
            last = (cs.get("lastState") or {}).get("terminated")
            if last:
                evidence += _restart_evidence(cs, last)[1:]
            return [Issue("POD-INIT-STUCK", pod, f"init container {name} still running after "
                          f"{human(ctx.now - started)}", evidence, container=name, log_previous=False)]
    return []


def _main_issues(ctx: Ctx, pod: Obj, st: Obj, phase: str, sidecars: set[Any], age: timedelta,
                 evs: _PodEvents) -> list[Issue]:
    """One issue per main container (and sidecar) by its state; running-but-unready containers are judged
    together, and only when nothing else is wrong."""
    statuses = list(st.get("containerStatuses") or ())
    statuses += [cs for cs in st.get("initContainerStatuses") or () if cs.get("name") in sidecars]
    issues: list[Issue] = []
    creating_seen = False
    not_ready_running: list[Obj] = []
    for cs in statuses:
        state = cs.get("state") or {}
        issue: Issue | None = None
        if state.get("waiting"):
            if state["waiting"].get("reason") in ("ContainerCreating", "PodInitializing"):
                if creating_seen:
                    continue
                creating_seen = True  # one ContainerCreating issue speaks for the pod's volumes and sandbox
                issue = _creating_issue(ctx, pod, evs(), age, cs.get("name") or "")
            else:
                issue = _waiting_main(ctx, pod, cs, age, evs)
        elif state.get("terminated"):
            issue = _terminated_main(ctx, pod, cs, phase)
        elif state.get("running"):
            issue = _running_main(ctx, pod, cs, evs)
            if issue is None and not cs.get("ready"):
                not_ready_running.append(cs)
        if issue:
            issues.append(issue)
    if not_ready_running and not issues:
        issue = _not_ready(ctx, pod, not_ready_running, evs())
        if issue:
            issues.append(issue)
    return issues


def _waiting_main(ctx: Ctx, pod: Obj, cs: Obj, age: timedelta, evs: _PodEvents) -> Issue | None:
    """A main container in state.waiting: its failure reason, else not ready once past the grace period."""
    issue = _waiting_issue(ctx, pod, cs, evs, False)
    if issue or age <= NOT_READY_GRACE:
        return issue
    name = cs.get("name") or ""
    waiting = cs["state"]["waiting"]
    reason = waiting.get("reason")
    return Issue("POD-NOT-READY", pod, f"container {name} waiting: {reason}",
                 [f"container {name}: state.waiting.reason={reason}"
                  + (f" message={quote(waiting.get('message'))}" if waiting.get("message") else "")],
                 container=name, severity="warning")


def _terminated_main(ctx: Ctx, pod: Obj, cs: Obj, phase: str) -> Issue | None:
    """A main container that exited non-zero in a Running pod (it will be restarted, or not)."""
    name = cs.get("name") or ""
    term = cs["state"]["terminated"]
    if phase != "Running" or (term.get("exitCode") or 0) == 0:
        return None
    if term.get("reason") == "OOMKilled":
        return _oom_issue(ctx, pod, name, cs, term, "state.terminated", False)
    code = "POD-CRASHLOOP" if (pod.get("spec") or {}).get("restartPolicy") == "Always" else "POD-FAILED"
    return Issue(code, pod, f"container {name} exited with code {term.get('exitCode')} ({term.get('reason')})",
                 [f"container {name}: state.terminated.exitCode={term.get('exitCode')} "
                  f"reason={term.get('reason')}{_exit_text(term.get('exitCode'))}"],
                 container=name, log_previous=False)


def _running_main(ctx: Ctx, pod: Obj, cs: Obj, evs: _PodEvents) -> Issue | None:
    """A running main container: still crashing (restarted recently and often), else a recent OOM kill or
    restart worth knowing about once it is Ready again; None for a running container otherwise."""
    name = cs.get("name") or ""
    running = cs["state"]["running"]
    last = (cs.get("lastState") or {}).get("terminated")
    last_end = _t(last.get("finishedAt")) if last else None
    restarts = cs.get("restartCount") or 0
    recent = last_end is not None and ctx.now - last_end <= FLAPPING_WINDOW
    # still crashing: restarted recently and often (a single restart may be a recovery in progress)
    if recent and last and last_end is not None and (restarts >= 3 or (restarts >= 2 and not cs.get("ready"))):
        return _crashing(ctx, pod, cs, running, last, last_end, restarts, evs)  # recent: last and last_end set
    if not cs.get("ready"):
        return None
    if last and last_end and last.get("reason") == "OOMKilled" and ctx.now - last_end <= RECENT_OOM:
        return _oom_issue(ctx, pod, name, cs, last, "lastState.terminated", False, severity="warning")
    if last and last_end and ctx.now - last_end <= RESTART_INFO_WINDOW and restarts:
        return Issue("POD-RESTARTS", pod, f"container {name} restarted {restarts} times, last "
                     f"{ctx.ago(last_end)} (exit code {last.get('exitCode')}, {last.get('reason')}); "
                     f"Ready now", [f"container {name}: state.running, ready=true",
                                    *_restart_evidence(cs, last)], container=name,
                     severity="info")
    return None


def _crashing(ctx: Ctx, pod: Obj, cs: Obj, running: Obj, last: Obj, last_end: datetime, restarts: int,
              evs: _PodEvents) -> Issue:
    """A container in a restart loop: OOM kills, a failing liveness probe (its Killing events), or a crash."""
    name = cs.get("name") or ""
    severity = "critical" if not cs.get("ready") else "warning"
    if last.get("reason") == "OOMKilled":
        return _oom_issue(ctx, pod, name, cs, last, "lastState.terminated", False, severity=severity)
    ev_list = evs()
    kills = _probe_kills(ev_list, name)
    evidence = [f"container {name}: state.running since {running.get('startedAt')}, "
                f"ready={bool(cs.get('ready'))}", *_restart_evidence(cs, last)]
    backoff = _first_event(_container_events(ev_list, name, "BackOff"), "BackOff")
    if backoff is not None:
        evidence.append(fmt_event(backoff))
    if kills:
        evidence += [fmt_event(e) for e in kills[-2:]]
        return Issue("POD-PROBE-FAILING", pod, f"container {name} is restarted by its failing "
                     f"liveness probe ({restarts} restarts)", evidence, container=name,
                     log_previous=True, severity=severity)
    return Issue("POD-CRASHLOOP", pod, f"container {name} keeps crashing: last exit code "
                 f"{last.get('exitCode')} ({last.get('reason')}) {ctx.ago(last_end)}, "
                 f"{restarts} restarts", evidence, container=name, log_previous=True, severity=severity)


def _not_ready(ctx: Ctx, pod: Obj, statuses: list[Obj], evs: list[Obj]) -> Issue | None:
    now = ctx.now
    ready_c = condition(pod, "Ready")
    since = _t(ready_c.get("lastTransitionTime")) if ready_c else None
    not_ready_for = now - since if since else timedelta(0)
    names = [cs.get("name") or "" for cs in statuses]
    probe_evs = [e for e in evs if e.get("reason") == "Unhealthy" and e.get("type") == "Warning"]
    readiness = [e for e in probe_evs if "readiness probe" in (e.get("message") or "").lower()
                 or "startup probe" in (e.get("message") or "").lower()]
    base = [f"container {cs.get('name')}: state.running since "
            f"{((cs.get('state') or {}).get('running') or {}).get('startedAt')}, "
            f"ready=false" + (f", started={cs.get('started')}" if cs.get("started") is not None else "")
            for cs in statuses]
    if ready_c:
        base.append(f"condition Ready=False reason={ready_c.get('reason')} since {ctx.ago(since)}")
    if readiness and not_ready_for >= PROBE_GRACE:
        last = readiness[-1]
        kind = "startup" if "startup probe" in (last.get("message") or "").lower() else "readiness"
        container = names[0]
        for n in names:
            if _container_events(readiness, n):
                container = n
                break
        spec_c = _container_specs(pod).get(container) or {}
        probe = spec_c.get("readinessProbe" if kind == "readiness" else "startupProbe") or {}
        evidence = base + [fmt_event(e) for e in readiness[-2:]]
        if probe:
            evidence.append(f"{kind}Probe: {_describe_probe(probe)}")
        answer = re.sub(r"^\w+ probe failed:\s*", "", " ".join(str(last.get("message") or "").split()))
        return Issue("POD-PROBE-FAILING", pod, f"container {container} {kind} probe failing: "
                     f"{quote(answer)}", evidence, container=container, log_previous=False,
                     params={"probe": kind})
    if not_ready_for >= NOT_READY_GRACE:
        gates = (pod.get("spec") or {}).get("readinessGates")
        evidence = base + ([f"spec.readinessGates={[g.get('conditionType') for g in gates]}"] if gates else [])
        evidence.append("no Unhealthy probe events recorded (expired, or the readiness probe times out silently)")
        return Issue("POD-NOT-READY", pod, f"container {', '.join(names)} running but not Ready for "
                     f"{human(not_ready_for)}", evidence, container=names[0], severity="warning",
                     log_previous=False)
    return None


def _describe_probe(p: Obj) -> str:
    if "httpGet" in p:
        h = p["httpGet"]
        target = f"http-get {h.get('scheme', 'HTTP').lower()}://:{h.get('port')}{h.get('path', '/')}"
    elif "tcpSocket" in p:
        target = f"tcp-socket :{p['tcpSocket'].get('port')}"
    elif "exec" in p:
        target = f"exec {p['exec'].get('command')}"
    elif "grpc" in p:
        target = f"grpc :{p['grpc'].get('port')}"
    else:
        target = "?"
    return (f"{target} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
            f"period={p.get('periodSeconds', 10)}s #failure={p.get('failureThreshold', 3)}")


# --------------------------------------------------------------------------------------------- the check


def _owner_kind(pod: Obj) -> str | None:
    for ref in pod["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            kind: str | None = ref.get("kind")
            return kind
    return None


@check(
    codes=("POD-CRASHLOOP", "POD-OOMKILLED", "POD-IMAGE-PULL", "POD-CONFIG-ERROR", "POD-START-ERROR",
        "POD-VOLUME-MOUNT", "POD-STUCK-CREATING", "POD-INIT-FAILING", "POD-INIT-STUCK", "POD-PROBE-FAILING",
        "POD-NOT-READY", "POD-UNSCHEDULABLE", "POD-PENDING", "POD-NODE-LOST", "POD-TERMINATING-STUCK", "POD-EVICTED",
        "POD-FAILED", "POD-RESTARTS", "POD-STORAGE-CORRUPTION"),
    reads=("Pod",),
    # a group finding is keyed on the pods' top controller: a ReplicaSet or Job when its owner was not
    # collected (a sweep without Deployments or CronJobs), an operator's custom resource for its pods
    speaks_for=("Alertmanager", *TOP_CONTROLLER_KINDS, DATA_FILES_KIND, "Node", "Pod", "Prometheus"),
    depends_on=("ConfigMap", DATA_FILES_KIND, "Node", "PersistentVolumeClaim", "Secret", "Service"),
)
def pod_health(snap: Snapshot) -> Iterator[Finding]:
    ctx = Ctx(snap)
    bad_nodes = ctx.bad_nodes
    groups: dict[tuple[Key, str], list[Issue]] = {}
    tops: dict[Key, Obj] = {}
    for pod in snap.list("Pod"):
        st = pod.get("status") or {}
        phase = st.get("phase")
        if phase == "Succeeded":
            continue
        md = pod["metadata"]
        if phase == "Running" and not md.get("deletionTimestamp"):
            node = (pod.get("spec") or {}).get("nodeName")
            if node not in bad_nodes:
                css = st.get("containerStatuses")
                if css:
                    clean = True
                    for cs in css:
                        if not cs.get("ready") or cs.get("restartCount"):
                            clean = False
                            break
                    if clean and (not st.get("initContainerStatuses") or all(
                            ics.get("ready") or (ics.get("state") or {}).get("terminated", {}).get("exitCode") == 0
                            for ics in st["initContainerStatuses"])):
                        continue
        owner_kind = _owner_kind(pod)
        issues = _analyse(ctx, pod, st, phase or "", owner_kind)
        if not issues:
            continue
        top = snap.top_controller(pod) if owner_kind else pod
        tk = key_of(top)
        tops[tk] = top
        for issue in issues:
            groups.setdefault((tk, issue.code), []).append(issue)
    corrupted: dict[Key, Finding] = {}
    for (tk, code), issues in sorted(groups.items()):
        yield _group_finding(ctx, tops[tk], code, issues, corrupted)
    yield from corrupted.values()


def _group_finding(ctx: Ctx, top: Obj, code: str, issues: list[Issue], corrupted: dict[Key, Finding]) -> Finding:
    """One finding for the issues of one code on one top controller. A log that shows the storage engine
    refusing its data files adds (once per controller, into `corrupted`) the corruption finding that leads."""
    snap = ctx.snap
    issues.sort(key=lambda i: (i.pod["metadata"]["name"], i.container))
    pods = []
    seen_pods: set[str] = set()
    for i in issues:
        n = i.pod["metadata"]["name"]
        if n not in seen_pods:
            seen_pods.add(n)
            pods.append(i.pod)
    rep = issues[0]
    tkind = top.get("kind") or "Pod"
    tmd = top["metadata"]
    ns = tmd.get("namespace") or ""
    standalone = tkind == "Pod"
    where = f"{tkind} {ns}/{tmd['name']}" if ns else f"{tkind} {tmd['name']}"
    rep_pod = rep.pod["metadata"]["name"]

    # severity: the worst instance; an availability problem with healthy siblings is a warning
    sev = min((i.severity for i in issues), key=lambda s: {"critical": 0, "warning": 1, "info": 2}[s])
    ready_siblings = 0
    total = len(pods)
    if not standalone:
        ready_siblings, total = _ready_and_total(snap, top, seen_pods)
        total = max(total, len(pods))
        if code in AVAILABILITY_CODES and sev == "critical" and (ready_siblings or tkind in BATCH_KINDS):
            sev = "warning"

    # title
    if standalone:
        title = f"Pod {ns}/{tmd['name']}: {rep.summary}"
    elif len(pods) == 1:
        title = f"{where}: pod {rep_pod} {rep.summary}"
    else:
        title = f"{where}: {len(pods)}/{total} pods: {rep.summary}"
    if not standalone and code in AVAILABILITY_CODES:
        title += f" ({ready_siblings} ready)" if total else ""

    evidence: list[str] = []
    if not standalone:
        node = (rep.pod.get("spec") or {}).get("nodeName")
        evidence.append(f"pod {rep_pod}" + (f" on node {node}" if node else "") + ":")
    evidence += rep.evidence
    rep_end = len(evidence)  # where a cause read from the log goes: right after the pod's own status lines
    others = [i for i in issues[1:] if i.pod is not rep.pod]
    for i in others[:MAX_LISTED_PODS]:
        evidence.append(f"pod {i.pod['metadata']['name']}: {i.summary}")
    if len(others) > MAX_LISTED_PODS:
        evidence.append(f"… and {len(others) - MAX_LISTED_PODS} more pods")

    depends: list[Key] = []
    for i in issues:
        for d in i.depends:
            if d not in depends:
                depends.append(d)

    # logs: the telling lines of the representative pod, service links from a few pods
    read = 0
    rep_lines_done = False
    causes: list[str] = []
    for i in issues:
        if i.log_previous is None or not i.container or read >= MAX_LOG_PODS:
            continue
        read += 1
        pmd = i.pod["metadata"]
        lines, prev = logscan.read_lines(snap, ns or pmd.get("namespace") or "", pmd["name"], i.container,
                                         i.log_previous)
        if not lines:
            continue
        label = f"log{' (previous instance)' if prev else ''} of {pmd['name']}/{i.container}"
        if any("no space left on device" in ln.lower() for ln in lines):
            for claim in _claims(i.pod):  # a full volume explains the crash (metrics name the claim)
                k = ("PersistentVolumeClaim", pmd.get("namespace") or "", claim)
                if k not in depends:
                    depends.append(k)
        cause = logscan.crash_cause(lines) if prev or code in ("POD-CRASHLOOP", "POD-OOMKILLED") else None
        if cause is not None and cause.kind == "storage-corruption":
            deps = _corruption(top, i, label, cause, code, corrupted)
            depends.extend(d for d in deps if d not in depends)
        if not rep_lines_done:
            rep_lines_done = True
            if cause is not None and cause.kind == "go-panic":
                causes.append(f"cause: the Go program panicked (a Go program exits 2 after an unrecovered panic): "
                              f"{cause.lines[0]}")
                evidence = [ln.replace(_exit_text(2), " (Go panic: see the log below)") for ln in evidence]
            for ln in logscan.telling_lines(lines, fallback=prev or code in ("POD-FAILED", "POD-INIT-FAILING")):
                evidence.append(f"{label}: {ln}")
            for host, _line in logscan.unresolved_hosts(lines):
                if ctx.resolver.resolve(host, pmd.get("namespace") or "") is None and "." not in host:
                    evidence.append(f"log: host {host!r} does not resolve and no Service {host} exists in "
                                    f"{pmd.get('namespace')}")
        for svc, host, ln in logscan.service_links(lines, pmd.get("namespace") or "", ctx.resolver, i.pod):
            smd = svc["metadata"]
            k = ("Service", smd.get("namespace") or "", smd["name"])
            if k not in depends:
                depends.append(k)
                evidence.append(f"{label}: connection to {host} fails, which is Service {k[1]}/{k[2]}: {ln}")

    evidence[rep_end:rep_end] = causes
    params = {"pod": rep_pod, "container": rep.container or _first_container(rep.pod),
              "node": (rep.pod.get("spec") or {}).get("nodeName") or "<node>"}
    params.update(rep.params)
    fixes = []
    if tkind in RESTARTABLE_KINDS and code in ("POD-CRASHLOOP", "POD-CONFIG-ERROR", "POD-PROBE-FAILING",
                                               "POD-VOLUME-MOUNT", "POD-INIT-FAILING", "POD-START-ERROR"):
        fixes.append(Remediation(
            "After fixing the cause, restart the pods (not needed when the fix is a spec change synced by Argo CD)",
            f"kubectl rollout restart {tkind.lower()}/{tmd['name']} -n {ns}", "mutating"))
    return finding(
        code, top, title=title, evidence=evidence, params=params, severity=sev,
        subjects=[key_of(p) for p in pods if p is not top], depends_on=depends, extra_fixes=fixes,
    )


def _corruption(top: Obj, issue: Issue, label: str, cause: logscan.LogCause, code: str,
                corrupted: dict[Key, Finding]) -> list[Key]:
    """The storage-corruption finding for `top` (made once, extended per pod), and the keys the crash or OOM
    finding must depend on so that the corruption leads it. The link goes through a key of the data files
    themselves, not the claim: a claim that is merely filling up explains neither (a full disk says "No space
    left on device", which crash_cause does not call corruption)."""
    pod = issue.pod
    pmd = pod["metadata"]
    ns = pmd.get("namespace") or ""
    claims = _claims(pod)
    volumes: list[Key] = [(DATA_FILES_KIND, ns, c) for c in claims] or [(DATA_FILES_KIND, ns, pmd["name"])]
    tk = key_of(top)
    f = corrupted.get(tk)
    if f is None:
        tkind, tname = top.get("kind") or "Pod", top["metadata"]["name"]
        where = f"{tkind} {ns}/{tname}" if ns else f"{tkind} {tname}"
        ev = [f"{label}: {ln}" for ln in cause.lines]
        ev.append("data volume: " + (f"PersistentVolumeClaim {', '.join(claims)}" if claims else
                                     "no PersistentVolumeClaim (the data lives in an ephemeral volume)"))
        f = finding(
            "POD-STORAGE-CORRUPTION", top,
            title=f"{where}: {cause.summary}; pod {pmd['name']} cannot start until the data is repaired or "
                  "restored",
            evidence=ev, subjects=[key_of(pod), *volumes],
            params={"pod": pmd["name"], "container": issue.container, "claim": claims[0] if claims else "<claim>"},
        )
        corrupted[tk] = f
    else:
        for k in (key_of(pod), *volumes):
            if k not in f.subjects:
                f.subjects.append(k)
    if code == "POD-OOMKILLED" and not any(e.startswith("also OOMKilled") for e in f.evidence):
        f.evidence.append(f"also OOMKilled ({issue.summary}): raising the memory limit alone will not start it "
                          "while the data files cannot be read")
    return volumes


def _ready_and_total(snap: Snapshot, top: Obj, failing: set[str]) -> tuple[int, int]:
    """Ready pods of a controller other than the failing ones, and how many pods it has: from its status
    when it keeps counts (O(1) on a 10,000-pod Deployment), else by looking at its pods."""
    st = top.get("status") or {}
    kind = top.get("kind")
    if kind in ("Deployment", "StatefulSet", "ReplicaSet") and "replicas" in st:
        desired = (top.get("spec") or {}).get("replicas") or 0
        return st.get("readyReplicas") or 0, max(st.get("replicas") or 0, desired)
    if kind == "DaemonSet" and "desiredNumberScheduled" in st:
        return st.get("numberReady") or 0, st.get("desiredNumberScheduled") or 0
    live = [p for p in snap.pods_of(top) if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and not p["metadata"].get("deletionTimestamp")]
    return sum(1 for p in live if p["metadata"]["name"] not in failing and pod_ready(p)), len(live)


def _first_container(pod: Obj) -> str:
    cs = (pod.get("spec") or {}).get("containers") or [{}]
    return cs[0].get("name") or ""


def _claims(pod: Obj) -> list[str]:
    """Names of the PersistentVolumeClaims a pod mounts."""
    return [v["persistentVolumeClaim"]["claimName"] for v in ((pod.get("spec") or {}).get("volumes") or ())
            if (v.get("persistentVolumeClaim") or {}).get("claimName")]
