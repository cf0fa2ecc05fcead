"""Argo CD (v2.13): Applications that cannot render, sync or become healthy, and ApplicationSets in error.

Application conditions carry no status field: a condition that is present is active; types ending in
"Error" are errors, types ending in "Warning" are warnings. One finding per problem of an Application:
- rendering/spec errors (ComparisonError, InvalidSpecError) come first and absorb the Unknown sync and
  health they cause;
- a failed sync operation (operationState.phase Failed/Error, or a SyncError condition) lists the
  resources whose sync failed and depends on them;
- OutOfSync / Unknown sync without either of the above;
- health Degraded depends on every child in status.resources[] whose health is Degraded or Missing, so
  the workload, ExternalSecret or Certificate finding that says why is the root cause, and the app is
  its symptom. Missing and Unknown health are folded into a sync finding when there is one.

Argo CD's own workloads are linked, not re-diagnosed: repository errors depend on the repo-server
Deployment, stale reconciliation on the application-controller StatefulSet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sre_expert.checks.registry import ANY_KIND, check, finding
from sre_expert.core.model import Finding, Key, ObjectRef
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.wording import quote

Obj = dict[str, Any]

MAX_LISTED = 8
RUNNING_LIMIT = timedelta(minutes=30)
RECONCILE_STALE = timedelta(minutes=20)  # default reconciliation is every 3m (+ jitter)
FAILED_OP_PHASES = ("Failed", "Error")
BAD_CHILD_HEALTH = ("Degraded", "Missing")
# A ComparisonError whose gRPC call to the repo-server itself failed (as opposed to a rendering error
# the repo-server returned, which also starts with "rpc error: code = Unknown").
REPO_SERVER_HINTS = ("code = Unavailable", "code = DeadlineExceeded", "connection refused", "transport: Error while dialing",
                     "connection error")



def _short(text: Any, n: int = 300) -> str:
    """The whole message, white space folded (JSON and Markdown carry full text; only the terminal
    shortens). `n` is kept for the callers' intent but no longer cuts."""
    return quote(text)


def _res_key(r: Obj) -> Key:
    """Key of a status.resources[] / syncResult entry (Argo CD sets namespace on every namespaced one)."""
    return (r.get("kind") or "", r.get("namespace") or "", r.get("name") or "")


def _res_name(r: Obj) -> str:
    ns = r.get("namespace")
    return f"{r.get('kind')} {ns + '/' if ns else ''}{r.get('name')}"


def _source(app: Obj) -> Obj:
    spec = app.get("spec") or {}
    if spec.get("source"):
        source: Obj = spec["source"]
        return source
    sources = spec.get("sources") or []
    return next((s for s in sources if s.get("path") or s.get("chart")), sources[0] if sources else {})


def _params(app: Obj) -> dict[str, str]:
    src = _source(app)
    spec = app.get("spec") or {}
    dest = spec.get("destination") or {}
    helm = src.get("helm") or {}
    values = " ".join(f"-f {v}" for v in helm.get("valueFiles") or ())
    chart = src.get("path") or src.get("chart") or "."
    return {
        "repo": src.get("repoURL", ""),
        "path": chart,
        "revision": src.get("targetRevision") or "HEAD",
        "values_flags": values,
        "dest_namespace": dest.get("namespace") or "",
        "project": spec.get("project") or "default",
    }


def _source_line(app: Obj) -> str:
    p = _params(app)
    return (f"source: {p['repo']} path {p['path']} @ {p['revision']}"
            + (f" ({p['values_flags']})" if p["values_flags"] else "")
            + f"; destination namespace {p['dest_namespace'] or '-'}")


def _conditions(app: Obj) -> list[Obj]:
    return list((app.get("status") or {}).get("conditions") or ())


def _cond_line(c: Obj) -> str:
    when = f" (since {c['lastTransitionTime']})" if c.get("lastTransitionTime") else ""
    return f"status.conditions[{c.get('type')}]: {_short(c.get('message'), 600)}{when}"


def _listing(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return lines[:MAX_LISTED] + [f"... and {len(lines) - MAX_LISTED} more"]


def _controller_ns(app: Obj) -> str:
    return (app.get("status") or {}).get("controllerNamespace") or app["metadata"].get("namespace") or "argocd"


def _app_findings(snap: Snapshot, app: Obj) -> Iterator[Finding]:
    md = app["metadata"]
    name = md["name"]
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    sync_status = sync.get("status") or ""
    health_status = health.get("status") or ""
    op = status.get("operationState") or {}
    conds = _conditions(app)
    resources = list(status.get("resources") or ())
    params = _params(app)
    src_line = _source_line(app)
    revision = sync.get("revision") or ", ".join(sync.get("revisions") or []) or "-"
    sync_line = f"status.sync.status: {sync_status or '(not set)'} at revision {revision}"
    health_line = f"status.health.status: {health_status or '(not set)'}" + (
        f" ({_short(health.get('message'))})" if health.get("message") else "")
    repo_server: Key = ("Deployment", _controller_ns(app), "argocd-repo-server")
    handled_sync = False

    # 1. Rendering and spec errors.
    for c in conds:
        ctype = c.get("type") or ""
        if ctype not in ("ComparisonError", "InvalidSpecError"):
            continue
        msg = c.get("message") or ""
        deps: list[Key] = []
        if ctype == "ComparisonError" and any(h in msg for h in REPO_SERVER_HINTS):
            deps.append(repo_server)
        code = "ARGOCD-APP-COMPARISON-ERROR" if ctype == "ComparisonError" else "ARGOCD-APP-INVALID-SPEC"
        what = "cannot render or compare its manifests" if ctype == "ComparisonError" else "has an invalid spec"
        yield finding(
            code, app,
            title=f"Application {name} {what}: {_short(msg, 140)}",
            evidence=[_cond_line(c), sync_line, health_line, src_line],
            params=params, depends_on=deps,
        )
        handled_sync = True

    # 2. Failed sync operations.
    sync_errors = [c for c in conds if c.get("type") == "SyncError"]
    op_phase = op.get("phase") or ""
    if op_phase in FAILED_OP_PHASES or sync_errors:
        results = ((op.get("syncResult") or {}).get("resources")) or []
        failed = [r for r in results if r.get("status") == "SyncFailed" or r.get("hookPhase") in FAILED_OP_PHASES]
        ev: list[str] = []
        if op_phase:
            ev.append(f"status.operationState.phase: {op_phase}")
            if op.get("message"):
                ev.append(f"status.operationState.message: {_short(op['message'], 600)}")
            when = op.get("finishedAt") or op.get("startedAt")
            if when:
                t = parse_time(when)
                ev.append(f"operation finished {when}" + (f" ({human(snap.now - t)} ago)" if t else "")
                          + (f", retry {op.get('retryCount')}" if op.get("retryCount") else ""))
        ev += _listing([
            f"syncResult: {_res_name(r)}: {r.get('status') or r.get('hookPhase')}"
            + (f" ({r['hookType']} hook)" if r.get("hookType") else "")
            + (f": {_short(r.get('message'), 300)}" if r.get("message") else "")
            for r in failed
        ])
        ev += [_cond_line(c) for c in sync_errors]
        ev += [sync_line, health_line, src_line]
        # A failed operation that is not the app's current state (synced and healthy since) is history.
        settled = sync_status == "Synced" and health_status == "Healthy" and not sync_errors
        yield finding(
            "ARGOCD-APP-SYNC-FAILED", app,
            title=f"Application {name} sync {op_phase or 'failed'}: "
                  f"{_short(op.get('message') or (sync_errors[0].get('message') if sync_errors else ''), 140)}",
            evidence=ev, params=params,
            depends_on=[_res_key(r) for r in failed],
            severity="info" if settled else None,
        )
        handled_sync = handled_sync or not settled
    elif op_phase in ("Running", "Terminating"):
        started = parse_time(op.get("startedAt"))
        if started is not None and snap.now - started > RUNNING_LIMIT:
            waiting = [r for r in resources if (r.get("health") or {}).get("status") in ("Progressing", *BAD_CHILD_HEALTH)]
            hooks = [r for r in ((op.get("syncResult") or {}).get("resources") or ())
                     if r.get("hookType") and r.get("hookPhase") in ("Running", "Pending", "")]
            yield finding(
                "ARGOCD-APP-SYNC-RUNNING", app,
                title=f"Application {name} sync has been {op_phase} for {human(snap.now - started)}",
                evidence=[f"status.operationState.phase: {op_phase} since {op.get('startedAt')}",
                          f"status.operationState.message: {_short(op.get('message'), 400) or '-'}"]
                + _listing([f"{_res_name(r)}: health {(r.get('health') or {}).get('status')}"
                            + (f" ({_short((r.get('health') or {}).get('message'), 200)})"
                               if (r.get("health") or {}).get("message") else "")
                            for r in waiting])
                + _listing([f"{r.get('hookType')} hook {_res_name(r)}: {r.get('hookPhase') or 'Pending'}"
                            + (f" ({_short(r.get('message'), 200)})" if r.get("message") else "") for r in hooks])
                + [sync_line, health_line],
                params=params,
                depends_on=[_res_key(r) for r in waiting + hooks],
            )

    # 3. Drift without an error that explains it.
    if not handled_sync and sync_status in ("OutOfSync", "Unknown"):
        drift = [r for r in resources if r.get("status") == "OutOfSync"]
        missing = [r for r in resources if (r.get("health") or {}).get("status") == "Missing"]
        auto = ((app.get("spec") or {}).get("syncPolicy") or {}).get("automated")
        ev = [sync_line, health_line]
        ev += _listing([f"{_res_name(r)}: OutOfSync" + (", health Missing" if r in missing else "")
                        + (", requires pruning" if r.get("requiresPruning") else "") for r in drift])
        ev.append("sync policy: " + ("automated" + (" with selfHeal" if (auto or {}).get("selfHeal") else "")
                                     if auto is not None else "manual"))
        ev.append(src_line)
        if sync_status == "OutOfSync":
            yield finding(
                "ARGOCD-APP-OUT-OF-SYNC", app,
                title=f"Application {name} is OutOfSync ({len(drift)} resource(s) differ from Git"
                + (f", {len(missing)} missing" if missing else "") + ")",
                evidence=ev, params=params,
            )
        else:
            yield finding(
                "ARGOCD-APP-SYNC-UNKNOWN", app,
                title=f"Application {name} sync status is Unknown",
                evidence=ev, params=params, depends_on=[repo_server],
            )
        handled_sync = True

    # 4. Health.
    bad_children = [r for r in resources if (r.get("health") or {}).get("status") in BAD_CHILD_HEALTH]
    child_lines = _listing([
        f"{_res_name(r)}: health {(r.get('health') or {}).get('status')}"
        + (f" ({_short((r.get('health') or {}).get('message'), 300)})" if (r.get("health") or {}).get("message") else "")
        for r in bad_children
    ])
    if health_status == "Degraded":
        yield finding(
            "ARGOCD-APP-DEGRADED", app,
            title=f"Application {name} is Degraded"
            + (f": {len(bad_children)} resource(s) Degraded or Missing" if bad_children else ""),
            evidence=[health_line, *child_lines, sync_line, src_line],
            params=params,
            depends_on=[_res_key(r) for r in bad_children],
        )
    elif health_status == "Missing" and not handled_sync:
        yield finding(
            "ARGOCD-APP-MISSING", app,
            title=f"Application {name} is Missing: its resources do not exist in the cluster",
            evidence=[health_line, *child_lines, sync_line, src_line],
            params=params,
        )
    elif health_status == "Unknown" and not handled_sync:
        yield finding(
            "ARGOCD-APP-HEALTH-UNKNOWN", app,
            title=f"Application {name} health is Unknown (its health check failed)",
            evidence=[health_line, sync_line, src_line],
            params=params,
        )

    # 5. Other conditions.
    for c in conds:
        ctype = c.get("type") or ""
        if ctype in ("ComparisonError", "InvalidSpecError", "SyncError"):
            continue
        if ctype.endswith("Error"):
            yield finding(
                "ARGOCD-APP-ERROR-CONDITION", app,
                title=f"Application {name} has condition {ctype}: {_short(c.get('message'), 140)}",
                evidence=[_cond_line(c), sync_line, health_line],
                params={**params, "condition": ctype},
            )
        elif ctype.endswith("Warning"):
            yield finding(
                "ARGOCD-APP-WARNING", app,
                title=f"Application {name} warns {ctype}: {_short(c.get('message'), 140)}",
                evidence=[_cond_line(c)],
                params={**params, "condition": ctype},
            )


@check(
    codes=("ARGOCD-APP-COMPARISON-ERROR", "ARGOCD-APP-INVALID-SPEC", "ARGOCD-APP-SYNC-FAILED", "ARGOCD-APP-OUT-OF-SYNC",
        "ARGOCD-APP-SYNC-UNKNOWN", "ARGOCD-APP-DEGRADED", "ARGOCD-APP-MISSING", "ARGOCD-APP-HEALTH-UNKNOWN",
        "ARGOCD-APP-SYNC-RUNNING", "ARGOCD-APP-ERROR-CONDITION", "ARGOCD-APP-WARNING"),
    reads=("Application",),
    speaks_for=("Application",),
    depends_on=(ANY_KIND,),
)
def applications(snap: Snapshot) -> Iterator[Finding]:
    for app in snap.list("Application"):
        if not (app.get("apiVersion") or "").startswith("argoproj.io/"):
            continue
        if app["metadata"].get("deletionTimestamp") and not _conditions(app):
            continue  # being deleted cleanly
        yield from _app_findings(snap, app)


# The conditions that say an ApplicationSet is failing, most telling first. The controller sets all three
# together (ErrorOccurred=True, ParametersGenerated=False when generation failed, ResourcesUpToDate=False),
# but versions and partial status updates leave only some of them: any one is enough.
_APPSET_FAILING = (("ErrorOccurred", "True"), ("ResourcesUpToDate", "False"), ("ParametersGenerated", "False"))


def _appset_error(conds: Any) -> Obj | None:
    for type_, bad in _APPSET_FAILING:
        c = next((c for c in conds if isinstance(c, dict) and c.get("type") == type_ and c.get("status") == bad), None)
        if c is not None:
            return c
    return None


@check(
    codes=("ARGOCD-APPSET-ERROR",),
    reads=("ApplicationSet",),
    speaks_for=("ApplicationSet",),
    depends_on=("Deployment",),
)
def application_sets(snap: Snapshot) -> Iterator[Finding]:
    for aset in snap.list("ApplicationSet"):
        if not (aset.get("apiVersion") or "").startswith("argoproj.io/"):
            continue
        conds = (aset.get("status") or {}).get("conditions") or ()
        err = _appset_error(conds)
        if err is None:
            continue
        name = aset["metadata"]["name"]
        ev = [f"status.conditions[{err.get('type')}]: {err.get('status')} ({err.get('reason')}) "
              f"\"{_short(err.get('message'), 600)}\""
              + (f" since {err['lastTransitionTime']}" if err.get("lastTransitionTime") else "")]
        for c in conds:
            if c is not err and c.get("type") in ("ResourcesUpToDate", "ParametersGenerated") and c.get("status") != "True":
                ev.append(f"status.conditions[{c.get('type')}]: {c.get('status')} ({c.get('reason')})")
        gens = [next(iter(g), "?") for g in ((aset.get("spec") or {}).get("generators") or ())]
        if gens:
            ev.append("generators: " + ", ".join(gens))
        ev.append(f"generated applications listed: {len((aset.get('status') or {}).get('resources') or ())}")
        ns = aset["metadata"].get("namespace") or "argocd"
        yield finding(
            "ARGOCD-APPSET-ERROR", aset,
            title=f"ApplicationSet {name} failed: {err.get('reason')}: {_short(err.get('message'), 140)}",
            evidence=ev,
            depends_on=([("Deployment", ns, "argocd-applicationset-controller")]
                        if "rpc error" in (err.get("message") or "") else []),
        )


@check(codes=("ARGOCD-RECONCILIATION-STALE",), reads=("Application",), speaks_for=(), depends_on=("StatefulSet",))
def reconciliation(snap: Snapshot) -> Iterator[Finding]:
    """When no Application has been reconciled for a long time, the application controller is not working."""
    apps = [a for a in snap.list("Application") if (a.get("apiVersion") or "").startswith("argoproj.io/")]
    parsed = [(parse_time((a.get("status") or {}).get("reconciledAt")), a) for a in apps]
    times = [(t, a) for t, a in parsed if t is not None]
    if not times:
        return
    newest, app = max(times, key=lambda x: x[0])
    if snap.now - newest <= RECONCILE_STALE:
        return
    ns = _controller_ns(app)
    controller = ObjectRef("apps/v1", "StatefulSet", ns, "argocd-application-controller")
    f = finding(
        "ARGOCD-RECONCILIATION-STALE", controller,
        title=f"No Argo CD Application reconciled for {human(snap.now - newest)}",
        evidence=[
            (f"newest status.reconciledAt among {len(apps)} Application(s): {newest.isoformat().replace('+00:00', 'Z')} "
             f"({human(snap.now - newest)} ago) on {app['metadata']['name']}"),
            "the application controller refreshes every Application at least every 3 minutes by default",
        ],
        depends_on=[controller.key],
    )
    # Reported on the controller (that is what to look at) but it is the controller's symptom: it must not
    # speak for the StatefulSet, or the workload and component findings about it would become its symptoms.
    f.subjects = [k for k in f.subjects if k != controller.key]
    yield f
