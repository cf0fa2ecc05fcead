"""The deterministic tools over one source, shared by the LLM agent (`ask`) and the MCP server (`mcp`).

Each tool is a plain method returning a JSON-serializable dict built by the same functions as the CLI
(diagnosis, trace, component status, DR status, runbooks, the guard, the redactor), so a model sees what
an operator sees. Three promises hold for every result, whatever the tool:

- redacted: every string passes `safety.redact` (one placeholder table per result), Secret data never
  leaves the snapshot;
- bounded: at most MAX_TOOL_CHARS characters of JSON (`cap`), with a note telling the caller how to
  narrow the query, because a model's context is the scarce resource;
- no exceptions: a bad argument or a failing source becomes `{"error": "..."}` (also redacted), which a
  model can read and act on, where a traceback would end its turn.

The snapshot is loaded on the first call that needs it (an MCP server starts before anyone asks
anything) and kept with its diagnosis until `refresh()`.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from sre_expert.core.snapshot import Snapshot
    from sre_expert.diagnosis.engine import Report

MAX_TOOL_CHARS = 20_000
EVIDENCE_SHOWN = 5
EVENTS_SHOWN = 20
MAX_TAIL = 5_000
NOTE = "output cut at {limit} chars; narrow the query (namespace=, component=, tail=)"

# kubectl's short names and the plural forms people type, for `describe`
_SHORT_NAMES = {
    "po": "Pod", "svc": "Service", "deploy": "Deployment", "sts": "StatefulSet", "ds": "DaemonSet",
    "rs": "ReplicaSet", "cm": "ConfigMap", "ns": "Namespace", "no": "Node", "pvc": "PersistentVolumeClaim",
    "pv": "PersistentVolume", "ing": "Ingress", "sa": "ServiceAccount", "cj": "CronJob", "ep": "Endpoints",
    "ev": "Event", "es": "ExternalSecret", "netpol": "NetworkPolicy", "hpa": "HorizontalPodAutoscaler",
    "sc": "StorageClass", "crd": "CustomResourceDefinition", "pdb": "PodDisruptionBudget", "quota": "ResourceQuota",
    "cert": "Certificate", "certs": "Certificate", "cr": "CertificateRequest", "gtw": "Gateway",
    "app": "Application", "apps": "Application", "bsl": "BackupStorageLocation", "pc": "PriorityClass",
    "css": "ClusterSecretStore", "cpol": "ClusterPolicy", "polr": "PolicyReport", "smon": "ServiceMonitor",
}


# ---------------------------------------------------------------------------------------------- cap


def _size(obj: Any) -> int:
    return len(orjson.dumps(obj).decode())


def cap(payload: dict, limit: int = MAX_TOOL_CHARS) -> dict:
    """`payload` cut to at most `limit` characters of JSON, trimming the biggest list or string first.

    Lists lose their tail (every tool puts the most important items first: root causes, the broken hop),
    strings their end; a big mapping with nothing else left to trim (a CRD's schema) loses its last keys.
    A cut result says so: `truncated: true` and a `note` on how to ask for less. The input is not changed."""
    if _size(payload) <= limit:
        return payload
    out = orjson.loads(orjson.dumps(payload))
    out["truncated"] = True
    out["note"] = NOTE.format(limit=limit)
    cuts: dict[str, tuple[int, int]] = {}
    budget = limit - 300  # room for the note listing what was cut
    for _ in range(500):
        total, best, best_map = _measure(out)
        excess = total - budget
        if excess <= 0:
            break
        # a mapping is cut only when no list or string could free a quarter of the excess
        pick = best if best is not None and (best_map is None or best[0] * 4 >= excess) else best_map
        if pick is None:
            break
        _, parent, key, value, path = pick
        if isinstance(value, str):
            keep = max(40, len(value) - excess - 40)
            parent[key] = value[:keep] + f" …[cut {len(value) - keep} chars]"
            continue
        items = list(value.items()) if isinstance(value, dict) else value
        keep, freed = len(items), 0
        while keep > 1 and freed < excess:  # drop just enough items from the end
            keep -= 1
            freed += _size(items[keep]) + 1
        parent[key] = dict(items[:keep]) if isinstance(value, dict) else items[:keep]
        cuts[path] = (cuts.get(path, (len(items), 0))[0], keep)
    if cuts:
        shown = ", ".join(f"{p} {a}→{b}" for p, (a, b) in list(cuts.items())[:5])
        out["note"] += f"; cut: {shown}"
    if _size(out) > limit:  # nothing left to trim: a flat text cut, still valid JSON
        text = orjson.dumps(payload).decode()
        return {"truncated": True, "note": NOTE.format(limit=limit), "text": text[: max(0, limit - 300)] + " …"}
    return out


Candidate = tuple[int, Any, Any, Any, str]  # (size, parent, key, value, path)


def _measure(root: dict) -> tuple[int, Candidate | None, Candidate | None]:
    """Size of `root`'s compact JSON, in one pass, with the biggest trimmable list (2+ items) or string
    (over 80 chars, not cut yet), and the biggest wide mapping below the top level."""
    best: list[Candidate | None] = [None, None]

    def offer(slot: int, c: Candidate) -> None:
        cur = best[slot]
        if cur is None or c[0] > cur[0]:
            best[slot] = c

    def walk(parent: Any, key: Any, value: Any, path: str, depth: int) -> int:
        if isinstance(value, dict):
            size, widest = 1 + len(value), 0  # braces and separators
            for k, v in value.items():
                if depth == 0 and k in ("truncated", "note"):
                    size += _size(k) + 1 + _size(v)
                    continue
                child = _size(k) + 1 + walk(value, k, v, f"{path}.{k}" if path else str(k), depth + 1)
                size += child
                widest = max(widest, child)
            # a wide mapping (no entry holds half of it, e.g. a schema's properties) is cut; a tall one
            # (one entry holds most of it) is cut inside that entry instead
            if depth > 1 and len(value) > 1 and widest * 2 < size:
                offer(1, (size, parent, key, value, path))
            return size
        if isinstance(value, list):
            size = 1 + max(1, len(value))
            for i, v in enumerate(value):
                size += walk(value, i, v, f"{path}[]", depth + 1)
            if depth > 0 and len(value) > 1:
                offer(0, (size, parent, key, value, path))
            return size
        size = _size(value)
        if isinstance(value, str) and len(value) > 80 and depth > 0 and not value.endswith(" chars]"):
            offer(0, (len(value), parent, key, value, path))
        return size

    total = walk(None, None, root, "", 0)
    return total, best[0], best[1]


# ---------------------------------------------------------------------------------------- redaction


_PLACEHOLDER = re.compile(r"<redacted:([a-z0-9-]+)#(\d+)>")


def _redacted(payload: Any) -> Any:
    """Every string of `payload` through the redactor, with one placeholder table for the whole result.

    Parts already redacted upstream (the report's evidence) keep their placeholders; the table starts
    numbering after them, so one placeholder never names two values."""
    from sre_expert.safety.redact import PlaceholderTable, redact_obj

    table = PlaceholderTable()
    highest: dict[str, int] = {}
    for fam, n in _PLACEHOLDER.findall(orjson.dumps(payload).decode()):
        highest[fam] = max(highest.get(fam, 0), int(n))
    for fam, n in highest.items():  # continue each family's numbering
        for i in range(1, n + 1):
            table.placeholder(fam, f"\0already-used-{fam}-{i}")
    return redact_obj(payload, table=table)


def _tool(fn: Callable[..., dict]) -> Callable[..., dict]:
    """Make a method a tool: errors become results, everything is redacted, then capped."""

    @functools.wraps(fn)
    def wrapper(self: Toolbox, *args: Any, **kwargs: Any) -> dict:
        try:
            result = fn(self, *args, **kwargs)
        except Exception as e:  # a tool answers; it never raises into the agent or the protocol
            result = {"error": _error_text(e)}
        try:
            return cap(_redacted(result))
        except Exception as e:  # never fall back to the unredacted result
            return {"error": f"{fn.__name__}: result could not be redacted ({type(e).__name__})"}

    return wrapper


def _error_text(e: Exception) -> str:
    from sre_expert.sources.bundle_reader import BundleError

    if isinstance(e, (BundleError, ValueError, KeyError, LookupError)) and str(e):
        return str(e).strip("'\"")
    return f"{type(e).__name__}: {e}"


def _close(word: str, options: list[str], n: int = 5) -> list[str]:
    return difflib.get_close_matches(word, options, n=n, cutoff=0.5)


def _iso(t: Any) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


# ---------------------------------------------------------------------------------------------- tools


class Toolbox:
    """Deterministic tools over one source. Every result is JSON-serializable, redacted, size-capped."""

    def __init__(self, load: Callable[[], Snapshot], *, repo: Path | None = None):
        self._load = load
        self.repo = repo  # a GitOps checkout, for tools that read it (none yet)
        self._snap: Snapshot | None = None
        self._report: Report | None = None
        self._lock = threading.RLock()

    # --- source --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Forget the snapshot and its diagnosis: the next tool call reads the source again."""
        with self._lock:
            self._snap = None
            self._report = None

    def snapshot(self) -> Snapshot:
        with self._lock:
            if self._snap is None:
                self._snap = self._load()
            return self._snap

    def report(self) -> Report:
        """The full diagnosis of the snapshot, computed once (every check, linked and ranked)."""
        with self._lock:
            if self._report is None:
                from sre_expert.diagnosis.engine import diagnose

                self._report = diagnose(self.snapshot())
            return self._report

    def _source(self) -> dict[str, Any]:
        info = self.snapshot().info
        return {"capturedAt": _iso(info.captured_at), "cluster": info.cluster, "source": info.source}

    # --- check ---------------------------------------------------------------------------------
    @_tool
    def check(self, namespace: str | None = None, component: str | None = None,
              min_severity: str = "warning") -> dict:
        """Findings of the whole sweep, root causes first, optionally narrowed (root causes are kept)."""
        from sre_expert.core.model import SEVERITIES
        from sre_expert.diagnosis.engine import filter_report
        from sre_expert.knowledge.catalogue import catalogue
        from sre_expert.render.json_report import report_dict

        if min_severity not in SEVERITIES:
            return {"error": f"min_severity must be one of {', '.join(SEVERITIES)}, not {min_severity!r}"}
        if component:
            known = sorted({s.component for s in catalogue().values()})
            if component not in known:
                return {"error": f"unknown component {component!r}", "known": known}
        if namespace:
            names = self.snapshot().namespaces()
            if namespace not in names:
                return {"error": f"no namespace {namespace!r} in the snapshot", "suggestions": _close(namespace, names)}
        report = filter_report(self.report(), [namespace] if namespace else (), [component] if component else (),
                               min_severity)
        doc = report_dict(report)
        caused_by = {f.id: f.caused_by for f in report.findings}
        findings = [_compact(f, EVIDENCE_SHOWN, caused_by.get(f["id"])) for f in doc["findings"]]
        summary = {**doc["summary"], "rootCauses": sum(1 for f in findings if f["rootCause"]),
                   "shown": len(findings), "hidden": report.hidden}
        out: dict[str, Any] = {
            "capturedAt": doc["capturedAt"], "cluster": doc["cluster"], "source": doc["source"],
            "summary": summary, "findings": findings, "notChecked": doc["notChecked"],
        }
        if doc["collectionErrors"]:
            out["collectionErrors"] = doc["collectionErrors"]
        if doc["warnings"]:
            out["warnings"] = doc["warnings"]
        out["truncated"] = False
        return out

    # --- trace ---------------------------------------------------------------------------------
    @_tool
    def trace(self, target: str) -> dict:
        """Outside-in path of a request (host | route/NS/NAME | svc/NS/NAME | pod/NS/NAME), first broken hop."""
        from sre_expert.diagnosis.trace import trace
        from sre_expert.render.trace_view import trace_dict

        snap = self.snapshot()
        result = trace(snap, target.strip())
        doc = trace_dict(snap, result)
        if not result.resolved:
            doc["error"] = f"cannot resolve {target!r}: {result.message}"
        return doc

    # --- component -----------------------------------------------------------------------------
    @_tool
    def component(self, name: str | None = None) -> dict:
        """Every platform component's state, or one component in detail (controllers, findings, commands)."""
        from sre_expert.knowledge.platform_components import load_components, resolve, status_of
        from sre_expert.render.component_view import summary_json

        snap, report = self.snapshot(), self.report()
        comps = load_components()
        if not name:
            return {**self._source(),
                    "components": [summary_json(status_of(snap, c, report.findings)) for c in comps.values()]}
        matched = resolve(name, comps)
        if not matched:
            return {"error": f"unknown component {name!r}", "known": sorted(comps)}
        docs = []
        for c in matched:
            doc = status_of(snap, c, report.findings).to_json()
            doc["findings"] = [_compact(f, 3) for f in doc["findings"]]
            docs.append(doc)
        return docs[0] if len(docs) == 1 else {"components": docs}

    # --- runbook -------------------------------------------------------------------------------
    @_tool
    def runbook(self, name: str | None = None) -> dict:
        """The runbooks (id, title, when to use), or one runbook's parameters and steps."""
        from sre_expert.runbooks.library import load_runbooks, runbook_json

        books = load_runbooks()
        if not name:
            return {"runbooks": [{"id": rb.id, "title": rb.title, "when": list(rb.when), "steps": len(rb.steps)}
                                 for rb in books.values()]}
        rb = books.get(name.strip())
        if rb is None:
            return {"error": f"unknown runbook {name!r}", "known": list(books)}
        return {
            **runbook_json(rb),
            "run": f"sre-expert runbook run {rb.id}  (a human runs it: read-only steps run alone, changes ask first)",
        }

    # --- dr ------------------------------------------------------------------------------------
    @_tool
    def dr_status(self) -> dict:
        """Per namespace: covering Velero schedules, newest good backup, its age against the RPO, verdict."""
        from sre_expert.domain.recovery import (
            VeleroState,
            dr_cluster_archive,
            dr_status,
            format_duration,
            objectives,
        )
        from sre_expert.render.dr_view import NOT_INSTALLED, status_summary, velero_absent

        snap = self.snapshot()
        st = VeleroState(snap)
        if velero_absent(snap, st):
            return {**self._source(), "grace": format_duration(objectives().grace), "veleroInstalled": False,
                    "summary": status_summary([]), "namespaces": [], "clusterArchive": None,
                    "notChecked": [NOT_INSTALLED]}
        rows = dr_status(snap, st)
        archive = dr_cluster_archive(snap, st) if st.installed else None
        return {
            **self._source(), "grace": format_duration(objectives().grace), "veleroInstalled": st.installed,
            "summary": status_summary(rows),
            "namespaces": [r.to_json() for r in rows],
            "clusterArchive": archive.to_json() if archive else None,
        }

    # --- logs ----------------------------------------------------------------------------------
    @_tool
    def pod_logs(self, namespace: str, pod: str, container: str | None = None, previous: bool = False,
                 tail: int = 200) -> dict:
        """The last `tail` lines of a container's log as captured in the snapshot, redacted."""
        from sre_expert.safety.redact import PlaceholderTable, redact

        snap = self.snapshot()
        obj = snap.get("Pod", namespace, pod)
        if obj is None:
            names = [p["metadata"]["name"] for p in snap.list("Pod", namespace)]
            where = f"in namespace {namespace!r}" if names else f"(no pods in namespace {namespace!r})"
            return {"error": f"no pod {pod!r} {where}", "suggestions": _close(pod, names)}
        spec = obj.get("spec") or {}
        names = [c.get("name") for c in spec.get("containers") or ()]
        init = [c.get("name") for c in spec.get("initContainers") or ()]
        note = None
        if container is None:
            default = ((obj["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container"))
            container = default if default in names else (names[0] if names else "")
            if len(names) > 1:
                note = f"defaulted to container {container!r} of {names}"
        elif container not in names + init:
            return {"error": f"pod {namespace}/{pod} has no container {container!r}", "containers": names + init}
        tail = max(1, min(int(tail), MAX_TAIL))
        text = snap.logs(namespace, pod, container or "", previous)  # "" only for a nameless container
        base = {"namespace": namespace, "pod": pod, "container": container, "previous": previous,
                "containers": names + init}
        if text is None:
            what = "previous (crashed) instance's log" if previous else "log"
            why = ("live sweeps fetch the logs of unhealthy containers only" if snap.info.source == "live"
                   else "the bundle holds no such log file")
            return {**base, "error": f"no {what} of {namespace}/{pod}/{container} in the snapshot ({why}); "
                                     f"read it live with: kubectl logs -n {namespace} {pod} -c {container}"
                                     + (" --previous" if previous else "")}
        lines = redact(text, table=PlaceholderTable()).splitlines()
        shown = lines[-tail:]
        budget = MAX_TOOL_CHARS - 1_500
        while len(shown) > 1 and _size(shown) > budget:  # keep the newest lines: the crash is at the end
            shown = shown[len(shown) // 4 or 1:]
        out = {**base, "totalLines": len(lines), "shown": len(shown), "lines": shown}
        if note:
            out["note"] = note
        if len(shown) < min(tail, len(lines)):
            out["truncated"] = True
            out["note"] = ((note + "; ") if note else "") + (
                f"only the newest {len(shown)} of {min(tail, len(lines))} lines fit; ask for a smaller tail=")
        return out

    # --- guard / redact ------------------------------------------------------------------------
    @_tool
    def guard_classify(self, command: str) -> dict:
        """The guard's class of a command line (read-only, mutating, destructive, unknown) and why, and whether
        the execution gate would run it without confirmation (`needsConfirmation`, `gate`)."""
        from sre_expert.safety.execute import auto_run, may_auto_run, why_asked

        admission, v = auto_run(command)
        auto = may_auto_run(admission, v)
        return {"command": command, **v.to_json(), "needsConfirmation": not auto,
                "gate": admission.reason if auto else why_asked(admission, v)}

    @_tool
    def redact(self, text: str) -> dict:
        """`text` with secrets and personal data replaced by placeholders."""
        from sre_expert.safety.redact import PlaceholderTable, redact

        table = PlaceholderTable()
        out = redact(text, table=table)
        return {"text": out, "hidden": [{"family": fam, "values": n} for fam, n in table.counts().items()]}

    # --- describe ------------------------------------------------------------------------------
    @_tool
    def describe(self, kind: str, namespace: str | None, name: str) -> dict:
        """One object as captured (managedFields dropped, Secret values never) with its events."""
        from sre_expert.core.snapshot import event_time

        snap = self.snapshot()
        real = _kind(kind, snap.kinds())
        if real is None:
            return {"error": f"no objects of kind {kind!r} in the snapshot", "kinds": snap.kinds()}
        obj = snap.get(real, namespace or None, name)
        if obj is None and namespace:  # a cluster-scoped kind asked with a namespace
            obj = snap.get(real, None, name)
        if obj is None:
            names = [o["metadata"].get("name", "") for o in snap.list(real, namespace or None)]
            where = f" in namespace {namespace!r}" if namespace else ""
            return {"error": f"no {real} {name!r}{where}", "suggestions": _close(name, names)}
        shown = _strip(obj)
        events = []
        for ev in snap.events_for(obj)[-EVENTS_SHOWN:]:
            src = ev.get("source") or {}
            events.append({
                "type": ev.get("type"), "reason": ev.get("reason"),
                "message": ev.get("message") or ev.get("note"), "count": ev.get("count") or 1,
                "last": _iso(event_time(ev)),
                "from": src.get("component") or ev.get("reportingController") or ev.get("reportingComponent"),
            })
        return {"object": shown, "events": events}


# ---------------------------------------------------------------------------------------------- helpers


def _compact(f: dict[str, Any], evidence: int, caused_by: list[str] | None = None) -> dict[str, Any]:
    """A finding as a model needs it: no long catalogue detail, the first few evidence lines. A symptom
    gets less (two evidence lines, its first fix, the ids of its causes): fixing its cause fixes it."""
    o = f["object"]
    ev = f.get("evidence") or []
    fixes = f.get("remediation") or []
    if not f["rootCause"]:
        evidence, fixes = min(evidence, 2), fixes[:1]
    out = {
        "id": f["id"], "code": f["code"], "severity": f["severity"], "component": f.get("component"),
        "object": f"{o['kind']} {o['namespace'] + '/' if o.get('namespace') else ''}{o['name']}",
        "title": f["title"], "rootCause": f["rootCause"], "causes": f.get("causes") or [],
        "evidence": ev[:evidence],
        "remediation": fixes,
        "runbook": f.get("runbook"),
    }
    if caused_by:
        out["causedBy"] = list(caused_by)
    if len(ev) > evidence:
        out["moreEvidence"] = len(ev) - evidence
    return out


def _kind(kind: str, kinds: list[str]) -> str | None:
    """The snapshot's kind for what a user types: Pod, pod, pods, po, certificates.cert-manager.io,
    nodes.longhorn.io (the Snapshot's "Node.longhorn.io", never the core Node)."""
    from sre_expert.core.model import kind_name

    typed, _, group = kind.strip().partition(".")
    by_base: dict[str, list[str]] = {}
    for x in kinds:
        by_base.setdefault(x.split(".", 1)[0].lower(), []).append(x)
    base = _plain_kind(typed.lower(), by_base)
    if base is None:
        return None
    names = by_base[base]
    if group:
        wanted = kind_name(names[0].split(".", 1)[0], group)
        return wanted if wanted in names else None
    plain = [x for x in names if "." not in x]
    return plain[0] if plain else (names[0] if len(names) == 1 else None)


def _plain_kind(k: str, by_base: dict[str, list[str]]) -> str | None:
    if k in by_base:
        return k
    short = _SHORT_NAMES.get(k)
    if short and short.lower() in by_base:
        return short.lower()
    for suffix in ("es", "s"):
        if k.endswith(suffix) and k[: -len(suffix)] in by_base:
            return k[: -len(suffix)]
    if k.endswith("ies") and k[:-3] + "y" in by_base:
        return k[:-3] + "y"
    return None


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without managedFields; a Secret keeps only its keys (values never leave)."""
    md = dict(obj.get("metadata") or {})
    md.pop("managedFields", None)
    out = {**obj, "metadata": md}
    if obj.get("kind") == "Secret":
        ann = dict(md.get("annotations") or {})
        ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)
        md["annotations"] = ann
        for field in ("data", "stringData"):
            if field in out:
                out[field] = {k: "<value withheld>" for k in (out[field] or {})}
    return out
