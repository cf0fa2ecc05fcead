"""Rows for built-in kinds, column for column as the API server's table printers
(kubernetes pkg/printers/internalversion, v1.32) compute them, so `kubectl get` looks as it does on a
cluster. The server always prints the wide form; kubectl hides priority-1 columns unless `-o wide`.

Each printer is a pure function (object, now) → cells. Ages are relative to the bundle's capturedAt.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sre_expert.core.timeutil import parse_time

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, format
Printer = Callable[[Obj, datetime], list[Any]]


# ------------------------------------------------------------------ shared formatting
def human_duration(seconds: float) -> str:
    """apimachinery duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(ts: str | None, now: datetime) -> str:
    """translateTimestampSince: '<unknown>' for a missing time."""
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration((now - t).total_seconds())


def _md(o: Obj) -> Obj:
    return o.get("metadata") or {}


def _spec(o: Obj) -> Obj:
    return o.get("spec") or {}


def _status(o: Obj) -> Obj:
    return o.get("status") or {}


def age(o: Obj, now: datetime) -> str:
    return since(_md(o).get("creationTimestamp"), now)


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: sorted k=v, '<none>' when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(sel: Obj | None) -> str:
    """metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key."""
    if sel is None:
        return ""
    reqs: list[tuple[str, str]] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append((k, f"{k}={v}"))
    for e in sel.get("matchExpressions") or ():
        key, op, vals = e.get("key", ""), e.get("operator"), sorted(e.get("values") or ())
        text = {"In": f"{key} in ({','.join(vals)})", "NotIn": f"{key} notin ({','.join(vals)})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key)
        reqs.append((key, text))
    return ",".join(t for _, t in sorted(reqs, key=lambda r: r[0]))


def _containers(template_spec: Obj) -> tuple[str, str]:
    cs = template_spec.get("containers") or ()
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _template_spec(o: Obj) -> Obj:
    return ((_spec(o).get("template") or {}).get("spec")) or {}


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def _cond_true(conds: list[Obj] | None, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in conds or ())


NAME: Column = ("Name", "string", 0, "name")


def _c(name: str, type_: str = "string", priority: int = 0) -> Column:
    return (name, type_, priority, "")


WORKLOAD_WIDE = [_c("Containers", priority=1), _c("Images", priority=1), _c("Selector", priority=1)]


# ------------------------------------------------------------------ pods
def _restartable_init(c: Obj | None) -> bool:
    return c is not None and bool(c) and c.get("restartPolicy") == "Always"


def pod_row(pod: Obj, now: datetime) -> list[Any]:
    spec, st, md = _spec(pod), _status(pod), _md(pod)
    restarts = 0
    restartable_restarts = 0
    total = len(spec.get("containers") or ())
    ready = 0
    last_restart = ""
    last_restartable_restart = ""
    phase = st.get("phase") or ""
    reason = st.get("reason") or phase
    for cond in st.get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    inits = {c.get("name"): c for c in spec.get("initContainers") or ()}
    total += sum(1 for c in inits.values() if _restartable_init(c))

    initializing = False
    init_statuses = st.get("initContainerStatuses") or ()
    for i, cs in enumerate(init_statuses):
        restarts += _int(cs.get("restartCount"))
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or ""
        if finished > last_restart:
            last_restart = finished
        restartable = _restartable_init(inits.get(cs.get("name")))
        if restartable:
            restartable_restarts += _int(cs.get("restartCount"))
            if finished > last_restartable_restart:
                last_restartable_restart = finished
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and _int(term.get("exitCode")) == 0:
            continue
        if restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if term is not None:
            if not term.get("reason"):
                reason = f"Init:Signal:{term['signal']}" if term.get("signal") else f"Init:ExitCode:{_int(term.get('exitCode'))}"
            else:
                reason = "Init:" + term["reason"]
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or ())}"
        initializing = True
        break

    if not initializing or _cond_true(st.get("conditions"), "Initialized"):
        restarts = restartable_restarts
        last_restart = last_restartable_restart
        has_running = False
        for cs in reversed(st.get("containerStatuses") or ()):
            restarts += _int(cs.get("restartCount"))
            finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or ""
            if finished > last_restart:
                last_restart = finished
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{_int(term.get('exitCode'))}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if any(c.get("type") == "Ready" for c in st.get("conditions") or ()) else "NotReady"

    if md.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif md.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart:
        restarts_text = f"{restarts} ({since(last_restart, now)} ago)"

    ips = st.get("podIPs") or ()
    ip = (ips[0].get("ip") if ips else "") or st.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or ()
    gates_text = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or ()}
        gates_text = f"{sum(1 for g in gates if conds.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    return [md.get("name"), f"{ready}/{total}", reason, restarts_text, age(pod, now), ip,
            spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>", gates_text]


def pod_conditions(pod: Obj) -> list[Obj] | None:
    phase = _status(pod).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


POD_COLUMNS = [NAME, _c("Ready"), _c("Status"), _c("Restarts"), _c("Age"), _c("IP", priority=1),
               _c("Node", priority=1), _c("Nominated Node", priority=1), _c("Readiness Gates", priority=1)]


# ------------------------------------------------------------------ workloads
def deployment_row(o: Obj, now: datetime) -> list[Any]:
    spec, st = _spec(o), _status(o)
    names, images = _containers(_template_spec(o))
    desired = spec.get("replicas", 1)
    return [_md(o).get("name"), f"{_int(st.get('readyReplicas'))}/{_int(desired)}", _int(st.get("updatedReplicas")),
            _int(st.get("availableReplicas")), age(o, now), names, images, selector_string(spec.get("selector"))]


DEPLOYMENT_COLUMNS = [NAME, _c("Ready"), _c("Up-to-date", "integer"), _c("Available", "integer"), _c("Age"),
                      *WORKLOAD_WIDE]


def replicaset_row(o: Obj, now: datetime) -> list[Any]:
    spec, st = _spec(o), _status(o)
    names, images = _containers(_template_spec(o))
    return [_md(o).get("name"), _int(spec.get("replicas", 1)), _int(st.get("replicas")), _int(st.get("readyReplicas")),
            age(o, now), names, images, selector_string(spec.get("selector"))]


REPLICASET_COLUMNS = [NAME, _c("Desired", "integer"), _c("Current", "integer"), _c("Ready", "integer"), _c("Age"),
                      *WORKLOAD_WIDE]


def statefulset_row(o: Obj, now: datetime) -> list[Any]:
    spec, st = _spec(o), _status(o)
    names, images = _containers(_template_spec(o))
    return [_md(o).get("name"), f"{_int(st.get('readyReplicas'))}/{_int(spec.get('replicas', 1))}", age(o, now), names, images]


STATEFULSET_COLUMNS = [NAME, _c("Ready"), _c("Age"), _c("Containers", priority=1), _c("Images", priority=1)]


def daemonset_row(o: Obj, now: datetime) -> list[Any]:
    spec, st = _spec(o), _status(o)
    names, images = _containers(_template_spec(o))
    return [_md(o).get("name"), _int(st.get("desiredNumberScheduled")), _int(st.get("currentNumberScheduled")),
            _int(st.get("numberReady")), _int(st.get("updatedNumberScheduled")), _int(st.get("numberAvailable")),
            format_labels(_template_spec(o).get("nodeSelector")), age(o, now), names, images,
            selector_string(spec.get("selector"))]


DAEMONSET_COLUMNS = [NAME, _c("Desired", "integer"), _c("Current", "integer"), _c("Ready", "integer"),
                     _c("Up-to-date", "integer"), _c("Available", "integer"), _c("Node Selector"), _c("Age"),
                     *WORKLOAD_WIDE]


def job_row(o: Obj, now: datetime) -> list[Any]:
    spec, st, md = _spec(o), _status(o), _md(o)
    succeeded = _int(st.get("succeeded"))
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{_int(spec['completions'])}"
    else:
        par = _int(spec.get("parallelism"))
        completions = f"{succeeded}/1 of {par}" if par > 1 else f"{succeeded}/1"
    start, done = parse_time(st.get("startTime")), parse_time(st.get("completionTime"))
    duration = ""
    if start and not done:
        duration = human_duration((now - start).total_seconds())
    elif start and done:
        duration = human_duration((done - start).total_seconds())
    conds = st.get("conditions")
    if _cond_true(conds, "Complete"):
        state = "Complete"
    elif _cond_true(conds, "Failed"):
        state = "Failed"
    elif md.get("deletionTimestamp"):
        state = "Terminating"
    elif _cond_true(conds, "Suspended"):
        state = "Suspended"
    elif _cond_true(conds, "FailureTarget"):
        state = "FailureTarget"
    elif _cond_true(conds, "SuccessCriteriaMet"):
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    names, images = _containers(_template_spec(o))
    return [md.get("name"), state, completions, duration, age(o, now), names, images,
            selector_string(spec.get("selector"))]


JOB_COLUMNS = [NAME, _c("Status"), _c("Completions"), _c("Duration"), _c("Age"), *WORKLOAD_WIDE]


def _bool_ptr(v: Any) -> str:
    if v is None:
        return "<unset>"
    return "True" if v else "False"


def cronjob_row(o: Obj, now: datetime) -> list[Any]:
    spec, st = _spec(o), _status(o)
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = _containers(((job_spec.get("template") or {}).get("spec")) or {})
    last = st.get("lastScheduleTime")
    return [_md(o).get("name"), spec.get("schedule", ""), spec.get("timeZone") or "<none>", _bool_ptr(spec.get("suspend")),
            len(st.get("active") or ()), since(last, now) if last else "<none>", age(o, now), names, images,
            selector_string(job_spec.get("selector"))]


CRONJOB_COLUMNS = [NAME, _c("Schedule"), _c("Timezone"), _c("Suspend", "boolean"), _c("Active", "integer"),
                   _c("Last Schedule"), _c("Age"), *WORKLOAD_WIDE]


# ------------------------------------------------------------------ services, endpoints
def _ports(ports: list[Obj] | None) -> str:
    out = []
    for p in ports or ():
        proto = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            out.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            out.append(f"{p.get('port')}/{proto}")
    return ",".join(out)


def _lb_ingress(st: Obj) -> list[str]:
    out = []
    for ing in ((st.get("loadBalancer") or {}).get("ingress")) or ():
        if ing.get("ip"):
            out.append(ing["ip"])
        elif ing.get("hostname"):
            out.append(ing["hostname"])
    return out


def _external_ip(svc: Obj) -> str:
    spec = _spec(svc)
    kind = spec.get("type") or "ClusterIP"
    ext = spec.get("externalIPs") or []
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(ext) if ext else "<none>"
    if kind == "LoadBalancer":
        lb = _lb_ingress(_status(svc))
        if ext:
            return ",".join(lb + ext)
        return ",".join(lb) if lb else "<pending>"
    if kind == "ExternalName":
        return spec.get("externalName") or ""
    return "<unknown>"


def service_row(o: Obj, now: datetime) -> list[Any]:
    spec = _spec(o)
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [_md(o).get("name"), spec.get("type") or "ClusterIP", ips[0] if ips else "<none>", _external_ip(o),
            _ports(spec.get("ports")) or "<none>", age(o, now), format_labels(spec.get("selector"))]


SERVICE_COLUMNS = [NAME, _c("Type"), _c("Cluster-IP"), _c("External-IP"), _c("Port(s)"), _c("Age"),
                   _c("Selector", priority=1)]


def _join_host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def endpoints_row(o: Obj, now: datetime) -> list[Any]:
    subsets = o.get("subsets") or ()
    if not subsets:
        text = "<none>"
    else:
        shown: list[str] = []
        count, limit = 0, 3
        for ss in subsets:
            addrs = ss.get("addresses") or ()
            ports = ss.get("ports") or ()
            if not ports:
                count += len(addrs)
                shown.extend(a.get("ip", "") for a in addrs)
            for p in ports:
                count += len(addrs)
                shown.extend(_join_host_port(a.get("ip", ""), p.get("port")) for a in addrs)
        text = ",".join(shown[:limit])
        if count > limit:
            text += f" + {count - limit} more..."
    return [_md(o).get("name"), text, age(o, now)]


ENDPOINTS_COLUMNS = [NAME, _c("Endpoints"), _c("Age")]


def _more(items: list[str], limit: int = 3) -> str:
    if not items:
        return "<unset>"
    text = ",".join(items[:limit])
    return text + (f" + {len(items) - limit} more..." if len(items) > limit else "")


def endpointslice_row(o: Obj, now: datetime) -> list[Any]:
    ports = [str(p["port"]) if p.get("port") is not None else (p.get("name") or "*") for p in o.get("ports") or ()]
    addrs = [a for ep in o.get("endpoints") or () for a in ep.get("addresses") or ()]
    return [_md(o).get("name"), o.get("addressType", ""), _more(ports), _more(addrs), age(o, now)]


ENDPOINTSLICE_COLUMNS = [NAME, _c("AddressType"), _c("Ports"), _c("Endpoints"), _c("Age")]


def ingress_row(o: Obj, now: datetime) -> list[Any]:
    spec = _spec(o)
    hosts = [r.get("host") or "*" for r in spec.get("rules") or ()]
    host_text = ",".join(hosts[:4]) + (f" + {len(hosts) - 4} more..." if len(hosts) > 4 else "") if hosts else "*"
    ports = "80, 443" if spec.get("tls") else "80"
    return [_md(o).get("name"), spec.get("ingressClassName") or "<none>", host_text,
            ",".join(_lb_ingress(_status(o))), ports, age(o, now)]


INGRESS_COLUMNS = [NAME, _c("Class"), _c("Hosts"), _c("Address"), _c("Ports"), _c("Age")]


def networkpolicy_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), selector_string(_spec(o).get("podSelector")) or "<none>", age(o, now)]


NETWORKPOLICY_COLUMNS = [NAME, _c("Pod-Selector"), _c("Age")]


# ------------------------------------------------------------------ nodes, namespaces, events
def node_row(o: Obj, now: datetime) -> list[Any]:
    st, md = _status(o), _md(o)
    conds = {c.get("type"): c for c in st.get("conditions") or ()}
    state: list[str] = []
    if "Ready" in conds:
        state.append("Ready" if conds["Ready"].get("status") == "True" else "NotReady")
    if not state:
        state.append("Unknown")
    if _spec(o).get("unschedulable"):
        state.append("SchedulingDisabled")
    roles: set[str] = set()
    for k, v in (md.get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/") and k[len("node-role.kubernetes.io/"):]:
            roles.add(k[len("node-role.kubernetes.io/"):])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    info = st.get("nodeInfo") or {}
    addrs = st.get("addresses") or ()

    def addr(kind: str) -> str:
        return next((a.get("address") for a in addrs if a.get("type") == kind), None) or "<none>"

    return [md.get("name"), ",".join(state), ",".join(sorted(roles)) or "<none>", age(o, now),
            info.get("kubeletVersion", ""), addr("InternalIP"), addr("ExternalIP"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


NODE_COLUMNS = [NAME, _c("Status"), _c("Roles"), _c("Age"), _c("Version"), _c("Internal-IP", priority=1),
                _c("External-IP", priority=1), _c("OS-Image", priority=1), _c("Kernel-Version", priority=1),
                _c("Container-Runtime", priority=1)]


def namespace_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), _status(o).get("phase", ""), age(o, now)]


NAMESPACE_COLUMNS = [NAME, _c("Status"), _c("Age")]


def event_row(ev: Obj, now: datetime) -> list[Any]:
    """Core/v1 shape (the events API converts before printing)."""
    first = since(ev["firstTimestamp"], now) if ev.get("firstTimestamp") else since(ev.get("eventTime"), now)
    last = since(ev["lastTimestamp"], now) if ev.get("lastTimestamp") else first
    count = _int(ev.get("count"))
    series = ev.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = _int(series.get("count"))
    elif count == 0:
        count = 1
    inv = ev.get("involvedObject") or {}
    target = f"{str(inv.get('kind', '')).lower()}/{inv['name']}" if inv.get("name") else str(inv.get("kind", "")).lower()
    src = ev.get("source") or {}
    component = src.get("component") or ev.get("reportingComponent") or ""
    instance = src.get("host") or ev.get("reportingInstance") or ""
    source = f"{component}, {instance}" if instance else component
    return [last, ev.get("type", ""), ev.get("reason", ""), target, inv.get("fieldPath", ""), source,
            str(ev.get("message") or "").strip(), first, count, _md(ev).get("name")]


EVENT_COLUMNS = [_c("Last Seen"), _c("Type"), _c("Reason"), _c("Object"), _c("Subobject", priority=1),
                 _c("Source", priority=1), _c("Message"), _c("First Seen", priority=1), _c("Count", priority=1),
                 ("Name", "string", 1, "name")]


# ------------------------------------------------------------------ storage
_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP"))


def _access_modes(modes: list[str] | None) -> str:
    modes = modes or []
    return ",".join(short for long, short in _MODES if long in modes)


def pvc_row(o: Obj, now: datetime) -> list[Any]:
    spec, st, md = _spec(o), _status(o), _md(o)
    phase = "Terminating" if md.get("deletionTimestamp") else st.get("phase", "")
    capacity, modes = "", ""
    if spec.get("volumeName"):
        modes = _access_modes(st.get("accessModes"))
        capacity = str((st.get("capacity") or {}).get("storage") or "0")
    sc = spec.get("storageClassName")
    if sc is None:
        sc = (md.get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class", "")
    return [md.get("name"), phase, spec.get("volumeName", ""), capacity, modes, sc,
            spec.get("volumeAttributesClassName") or "<unset>", age(o, now), spec.get("volumeMode") or "<unset>"]


PVC_COLUMNS = [NAME, _c("Status"), _c("Volume"), _c("Capacity"), _c("Access Modes"), _c("StorageClass"),
               _c("VolumeAttributesClass"), _c("Age"), _c("VolumeMode", priority=1)]


def pv_row(o: Obj, now: datetime) -> list[Any]:
    spec, st, md = _spec(o), _status(o), _md(o)
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if ref else ""
    phase = "Terminating" if md.get("deletionTimestamp") else st.get("phase", "")
    sc = spec.get("storageClassName")
    if sc is None:
        sc = (md.get("annotations") or {}).get("volume.beta.kubernetes.io/storage-class", "")
    return [md.get("name"), str((spec.get("capacity") or {}).get("storage") or "0"), _access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase, claim, sc,
            spec.get("volumeAttributesClassName") or "<unset>", st.get("reason", ""), age(o, now),
            spec.get("volumeMode") or "<unset>"]


PV_COLUMNS = [NAME, _c("Capacity"), _c("Access Modes"), _c("Reclaim Policy"), _c("Status"), _c("Claim"),
              _c("StorageClass"), _c("VolumeAttributesClass"), _c("Reason"), _c("Age"), _c("VolumeMode", priority=1)]


def storageclass_row(o: Obj, now: datetime) -> list[Any]:
    md = _md(o)
    ann = md.get("annotations") or {}
    name = md.get("name", "")
    if ann.get("storageclass.kubernetes.io/is-default-class") == "true" or \
            ann.get("storageclass.beta.kubernetes.io/is-default-class") == "true":
        name += " (default)"
    return [name, o.get("provisioner", ""), o.get("reclaimPolicy") or "Delete",
            o.get("volumeBindingMode") or "Immediate", bool(o.get("allowVolumeExpansion")), age(o, now)]


STORAGECLASS_COLUMNS = [NAME, _c("Provisioner"), _c("ReclaimPolicy"), _c("VolumeBindingMode"),
                        _c("AllowVolumeExpansion"), _c("Age")]


# ------------------------------------------------------------------ config and policy
def configmap_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o, now)]


def secret_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), o.get("type", ""), len(o.get("data") or {}), age(o, now)]


def serviceaccount_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), len(o.get("secrets") or ()), age(o, now)]


def pdb_row(o: Obj, now: datetime) -> list[Any]:
    spec = _spec(o)
    mn, mx = spec.get("minAvailable"), spec.get("maxUnavailable")
    return [_md(o).get("name"), "N/A" if mn is None else str(mn), "N/A" if mx is None else str(mx),
            _int(_status(o).get("disruptionsAllowed")), age(o, now)]


def resourcequota_row(o: Obj, now: datetime) -> list[Any]:
    st = _status(o)
    used, hard = st.get("used") or {}, st.get("hard") or {}
    req: list[str] = []
    lim: list[str] = []
    for res in sorted(_spec(o).get("hard") or {}):
        pair = f"{res}: {used.get(res, '0')}/{hard.get(res, '0')}"
        (lim if res.startswith("limits.") else req).append(pair)
    return [_md(o).get("name"), age(o, now), ", ".join(req), ", ".join(lim)]


def lease_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), _spec(o).get("holderIdentity", ""), age(o, now)]


def hpa_row(o: Obj, now: datetime) -> list[Any]:
    spec, st = _spec(o), _status(o)
    ref = spec.get("scaleTargetRef") or {}
    metrics, current = spec.get("metrics") or [], st.get("currentMetrics") or []
    parts = []
    for i, m in enumerate(metrics):
        cur = current[i] if i < len(current) else {}
        if m.get("type") == "Resource":
            r, cr = m.get("resource") or {}, (cur.get("resource") or {}).get("current") or {}
            tgt = r.get("target") or {}
            if tgt.get("averageValue") is not None:
                parts.append(f"{r.get('name')}: {cr.get('averageValue', '<unknown>')}/{tgt['averageValue']}")
            else:
                cur_text = f"{cr['averageUtilization']}%" if cr.get("averageUtilization") is not None else "<unknown>"
                tgt_text = f"{tgt['averageUtilization']}%" if tgt.get("averageUtilization") is not None else "<auto>"
                parts.append(f"{r.get('name')}: {cur_text}/{tgt_text}")
        else:
            parts.append(f"<unknown>/{m.get('type', '')}")
    targets = ", ".join(parts[:2]) + (f" + {len(parts) - 2} more..." if len(parts) > 2 else "") if parts else "<none>"
    return [_md(o).get("name"), f"{ref.get('kind', '')}/{ref.get('name', '')}", targets,
            spec.get("minReplicas", 1), _int(spec.get("maxReplicas")), _int(st.get("currentReplicas")), age(o, now)]


def crd_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), _md(o).get("creationTimestamp") or ""]


def name_age_row(o: Obj, now: datetime) -> list[Any]:
    return [_md(o).get("name"), age(o, now)]


NAME_AGE_COLUMNS = [NAME, _c("Age")]

PRINTERS: dict[tuple[str, str], tuple[list[Column], Printer]] = {
    ("", "Pod"): (POD_COLUMNS, pod_row),
    ("apps", "Deployment"): (DEPLOYMENT_COLUMNS, deployment_row),
    ("apps", "ReplicaSet"): (REPLICASET_COLUMNS, replicaset_row),
    ("apps", "StatefulSet"): (STATEFULSET_COLUMNS, statefulset_row),
    ("apps", "DaemonSet"): (DAEMONSET_COLUMNS, daemonset_row),
    ("batch", "Job"): (JOB_COLUMNS, job_row),
    ("batch", "CronJob"): (CRONJOB_COLUMNS, cronjob_row),
    ("", "Service"): (SERVICE_COLUMNS, service_row),
    ("", "Endpoints"): (ENDPOINTS_COLUMNS, endpoints_row),
    ("discovery.k8s.io", "EndpointSlice"): (ENDPOINTSLICE_COLUMNS, endpointslice_row),
    ("networking.k8s.io", "Ingress"): (INGRESS_COLUMNS, ingress_row),
    ("networking.k8s.io", "NetworkPolicy"): (NETWORKPOLICY_COLUMNS, networkpolicy_row),
    ("", "Node"): (NODE_COLUMNS, node_row),
    ("", "Namespace"): (NAMESPACE_COLUMNS, namespace_row),
    ("", "Event"): (EVENT_COLUMNS, event_row),
    ("events.k8s.io", "Event"): (EVENT_COLUMNS, event_row),
    ("", "PersistentVolumeClaim"): (PVC_COLUMNS, pvc_row),
    ("", "PersistentVolume"): (PV_COLUMNS, pv_row),
    ("storage.k8s.io", "StorageClass"): (STORAGECLASS_COLUMNS, storageclass_row),
    ("", "ConfigMap"): ([NAME, _c("Data", "integer"), _c("Age")], configmap_row),
    ("", "Secret"): ([NAME, _c("Type"), _c("Data", "integer"), _c("Age")], secret_row),
    ("", "ServiceAccount"): ([NAME, _c("Secrets", "integer"), _c("Age")], serviceaccount_row),
    ("policy", "PodDisruptionBudget"): ([NAME, _c("Min Available"), _c("Max Unavailable"),
                                         _c("Allowed Disruptions", "integer"), _c("Age")], pdb_row),
    ("", "ResourceQuota"): ([NAME, _c("Age"), _c("Request"), _c("Limit")], resourcequota_row),
    ("coordination.k8s.io", "Lease"): ([NAME, _c("Holder"), _c("Age")], lease_row),
    ("autoscaling", "HorizontalPodAutoscaler"): ([NAME, _c("Reference"), _c("Targets"), _c("MinPods", "integer"),
                                                  _c("MaxPods", "integer"), _c("Replicas", "integer"), _c("Age")], hpa_row),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): ([NAME, _c("Created At", "date")], crd_row),
}
