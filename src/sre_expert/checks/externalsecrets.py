"""External Secrets Operator (v0.9.11): stores, ExternalSecrets and the Secrets they write.

ESO's status messages are generic ("unable to create client", "could not get secret data from provider"):
the real error is only in a Warning event, whose reason is the condition reason for stores and
`UpdateFailed` for ExternalSecrets. Every finding here quotes that event.

Linking: an ExternalSecret finding speaks for the Secret it writes (so pods blocked on that Secret are
its symptoms) and depends on its store (so a broken store is the one root cause of every ExternalSecret
that fails through it). A missing remote key is its own root cause when the store is healthy.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sre_expert.checks.registry import check, finding
from sre_expert.core.k8s import condition, ns_of
from sre_expert.core.model import Finding, Key, key_of
from sre_expert.core.snapshot import Snapshot
from sre_expert.core.timeutil import human, parse_time
from sre_expert.core.units import go_duration
from sre_expert.core.wording import quote
from sre_expert.domain.event_text import ago, cond_line, event_line
from sre_expert.domain.secret_sync import PLATFORM_NAMESPACES, remote_keys, store_key, store_keys

Obj = dict[str, Any]

ESO_NAMESPACE = "external-secrets-system"
DEFAULT_REFRESH = timedelta(hours=1)
STALE_FACTOR = 2
MAX_LISTED = 5

# Provider errors that mean "the remote secret (or the key in it) does not exist".
_REMOTE_MISSING = re.compile(
    r"code = NotFound|not found or has no versions|ResourceNotFoundException|SecretNotFound|"
    r"secret does not exist|does not exist in secret|key \S+ does not exist|Secrets Manager can't find|"
    r"secret not found|404 Not Found|NoSuchKey",
    re.IGNORECASE,
)
_STORE_NOT_FOUND = re.compile(r'could not get (Cluster)?SecretStore "[^"]*", .*not found', re.IGNORECASE)
_KEY_IN_MESSAGE = re.compile(r"key: ([^,\s)]+)\)?, err:")
_GCP_SECRET = re.compile(r"Secret \[(projects/[^\]]+/secrets/[^\]/]+)\]")


def _name(obj: Obj) -> str:
    name: str = obj["metadata"]["name"]
    return name


def target_name(es: Obj) -> str:
    return ((es.get("spec") or {}).get("target") or {}).get("name") or _name(es)


def creation_policy(es: Obj) -> str:
    return ((es.get("spec") or {}).get("target") or {}).get("creationPolicy") or "Owner"


def auth_secret_refs(store: Obj) -> list[tuple[str, str, str, str | None]]:
    """(field path, namespace, name, key) of the credentials Secrets a store reads.

    A ClusterSecretStore selector without a namespace is resolved in each ExternalSecret's namespace
    (referent authentication), so it names no single Secret and is left out.
    """
    out: list[tuple[str, str, str, str | None]] = []
    own_ns = ns_of(store)

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                p = f"{path}.{k}"
                if k.endswith("ecretRef") and isinstance(v, dict) and isinstance(v.get("name"), str):
                    ns = v.get("namespace") or own_ns
                    if ns:
                        out.append((p, ns, v["name"], v.get("key")))
                elif isinstance(v, (dict, list)):
                    walk(v, p)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk((store.get("spec") or {}).get("provider") or {}, "spec.provider")
    return out


def _provider(store: Obj) -> tuple[str, str]:
    """(provider name, one-line description) of a store."""
    prov = (store.get("spec") or {}).get("provider") or {}
    if not prov:
        return "", ""
    name = next(iter(prov))
    cfg = prov.get(name) or {}
    if name == "gcpsm":
        return name, f"GCP Secret Manager, project {cfg.get('projectID') or '(unset)'}"
    return name, name


def _controller_key(snap: Snapshot) -> Key | None:
    if snap.get("Deployment", ESO_NAMESPACE, "external-secrets") is not None:
        return ("Deployment", ESO_NAMESPACE, "external-secrets")
    for dep in snap.list("Deployment"):
        labels = dep["metadata"].get("labels") or {}
        if labels.get("app.kubernetes.io/name") == "external-secrets" and _name(dep) == labels.get(
                "app.kubernetes.io/instance", _name(dep)):
            return key_of(dep)
    return None


def _secrets_visible(snap: Snapshot) -> bool:
    return snap.collected("Secret") and snap.count("Secret") > 0


def _events(snap: Snapshot, obj: Obj, reason: str | None = None) -> list[Obj]:
    """Warning events of an object. Some recorders write "default" as the involvedObject namespace of a
    cluster-scoped object (where the Event itself lives): look there too for a ClusterSecretStore."""
    evs = snap.events_for(obj, reason=reason, warning_only=True)
    if not evs and obj.get("kind") == "ClusterSecretStore":
        evs = snap.events_for(("ClusterSecretStore", "default", _name(obj)), reason=reason, warning_only=True)
    return evs


def _latest_event(snap: Snapshot, obj: Obj, reason: str) -> Obj | None:
    evs = _events(snap, obj, reason)
    return evs[-1] if evs else None


class ESOIndex:
    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.es_by_store: dict[Key, list[Obj]] = defaultdict(list)
        self._stores_of: dict[int, list[Key]] = {}
        for es in snap.list("ExternalSecret"):
            keys = store_keys(es)
            self._stores_of[id(es)] = keys
            for k in keys:
                self.es_by_store[k].append(es)
        self.controller_key = _controller_key(snap)
        self.secrets_visible = _secrets_visible(snap)
        self.stores_visible = snap.collected("ClusterSecretStore") and snap.collected("SecretStore") and (
            snap.count("ClusterSecretStore") + snap.count("SecretStore")) > 0
        self._tenants: list[str] | None = None

    def tenant_namespaces(self) -> list[str]:
        if self._tenants is None:
            self._tenants = [n for n in self.snap.namespaces() if n not in PLATFORM_NAMESPACES and not n.startswith("kube-")]
        return self._tenants

    def stores_of(self, es: Obj) -> list[Key]:
        keys = self._stores_of.get(id(es))
        return store_keys(es) if keys is None else keys

    def store(self, k: Key) -> Obj | None:
        return self.snap.get(*k)


def _store_disp(k: Key) -> str:
    return f"{k[0]} {k[1] + '/' if k[1] else ''}{k[2]}"


# ------------------------------------------------------------------------------------------- stores


@check(
    codes=("ESO-STORE-NOT-READY", "ESO-STORE-CREDENTIALS-MISSING"),
    reads=("ClusterSecretStore",),
    speaks_for=("ClusterSecretStore", "Secret"),
    depends_on=("Secret",),
)
def cluster_secret_stores(snap: Snapshot) -> Iterator[Finding]:
    idx = ESOIndex(snap)
    for store in snap.list("ClusterSecretStore"):
        yield from _store_findings(snap, idx, store, ("ClusterSecretStore", "", _name(store)))


@check(
    codes=("ESO-STORE-NOT-READY", "ESO-STORE-CREDENTIALS-MISSING"),
    reads=("SecretStore",),
    speaks_for=("Secret", "SecretStore"),
    depends_on=("Secret",),
)
def secret_stores(snap: Snapshot) -> Iterator[Finding]:
    idx = ESOIndex(snap)
    for store in snap.list("SecretStore"):
        yield from _store_findings(snap, idx, store, ("SecretStore", ns_of(store), _name(store)))


def _store_findings(snap: Snapshot, idx: ESOIndex, store: Obj, sk: Key) -> Iterator[Finding]:
    if store["metadata"].get("deletionTimestamp"):
        return
    ready = condition(store, "Ready")
    refs = auth_secret_refs(store)
    ref_lines: list[str] = []
    missing: list[Key] = []
    for path, ns, name, key in refs:
        line = f"{path}: Secret {ns}/{name}" + (f' key "{key}"' if key else "")
        if not snap.sees(ns):
            snap.outside(ns, f"{_store_disp(sk)} credentials Secret {ns}/{name}")
            line += " (outside the swept namespaces: not checked)"
        elif idx.secrets_visible:
            sec = snap.get("Secret", ns, name)
            if sec is None:
                line += " (does not exist)"
                missing.append(("Secret", ns, name))
            elif key and key not in (sec.get("data") or {}):
                line += f' (exists, but has no key "{key}"; keys: {", ".join(sorted(sec.get("data") or {})) or "none"})'
                missing.append(("Secret", ns, name))
            else:
                line += " (present)"
        ref_lines.append(line)
    not_ready = ready is not None and ready.get("status") == "False"
    if not not_ready and not missing:
        return
    if not not_ready and (ready is None or ready.get("status") != "True"):
        return  # never validated (another controller class, or just created): nothing to claim

    users = idx.es_by_store.get(sk, [])
    failing = [es for es in users if (condition(es, "Ready") or {}).get("status") == "False"]
    prov, prov_desc = _provider(store)
    ev: list[str] = []
    if ready is not None:
        ev.append(cond_line(snap, ready))
    if not_ready:
        assert ready is not None  # not_ready reads this condition
        evt = _latest_event(snap, store, ready.get("reason") or "")
        if evt is None:
            evs = _events(snap, store)
            evt = evs[-1] if evs else None
        if evt is not None:
            ev.append(event_line(snap, evt))
    if prov_desc:
        ev.append(f"provider: {prov_desc}")
    ev.extend(ref_lines)
    ev.append(_usage(users, failing))
    cause = _store_cause(snap, store, ready, missing)
    if cause:
        ev.append(cause)
    disp = _store_disp(sk)
    if not_ready:
        code = "ESO-STORE-NOT-READY"
        msg = ""
        if missing:
            msg = f": credentials Secret {missing[0][1]}/{missing[0][2]} is missing"
        elif ready is not None and ready.get("reason"):  # not_ready: never None here
            msg = f" ({ready['reason']})"
        title = f"{disp} is not Ready{msg}; {len(failing)} of {len(users)} ExternalSecret(s) using it fail"
    else:
        code = "ESO-STORE-CREDENTIALS-MISSING"
        title = (f"{disp} reads credentials from Secret {missing[0][1]}/{missing[0][2]}, which is missing; "
                 f"its next validation and every sync through it will fail")
    first = refs[0] if refs else ("", ESO_NAMESPACE, "gcpsm-secret", "secret-access-credentials")
    yield finding(
        code, store, title=title, evidence=ev, subjects=missing, depends_on=missing,
        params={"store_kind": sk[0].lower(), "ns_flag": f" -n {sk[1]}" if sk[1] else "",
                "auth_secret": first[2], "auth_namespace": first[1], "auth_key": first[3] or "secret-access-credentials",
                "eso_namespace": idx.controller_key[1] if idx.controller_key else ESO_NAMESPACE},
    )


def _usage(users: list[Obj], failing: list[Obj]) -> str:
    if not users:
        return "no ExternalSecret uses this store"
    s = f"{len(users)} ExternalSecret(s) use this store, {len(failing)} not Ready"
    if failing:
        s += ": " + ", ".join(f"{ns_of(e)}/{_name(e)}" for e in failing[:MAX_LISTED])
        if len(failing) > MAX_LISTED:
            s += f" … and {len(failing) - MAX_LISTED} more"
    return s


def _store_cause(snap: Snapshot, store: Obj, ready: Obj | None, missing: list[Key]) -> str | None:
    """Turn the provider's error into what to do, for the causes the platform actually meets."""
    evs = _events(snap, store)
    msg = (evs[-1].get("message") or "") if evs else ""
    low = msg.lower()
    if missing:
        return (f"cause: the credentials Secret {missing[0][1]}/{missing[0][2]} is missing, so the provider "
                "client cannot be built")
    if "invalid_grant" in low or "invalid jwt" in low or "account not found" in low or "key was disabled" in low \
            or "unable to get credentials" in low:
        return ("cause: the provider refused the service account key (invalid, disabled, deleted or expired): "
                "rotate the key in the credentials Secret")
    if "permission" in low or "403" in low:
        return "cause: the credentials are valid but lack permission (IAM role) on the secret manager"
    return None


# ------------------------------------------------------------------------------------------- ExternalSecrets


@check(
    codes=("ESO-SYNC-FAILED", "ESO-REMOTE-KEY-MISSING", "ESO-STORE-NOT-FOUND", "ESO-TARGET-SECRET-MISSING",
        "ESO-REFRESH-STALE", "ESO-NAMING-CONVENTION"),
    reads=("ExternalSecret",),
    speaks_for=("ExternalSecret", "Secret"),
    depends_on=("ClusterSecretStore", "Deployment", "SecretStore"),
)
def external_secrets(snap: Snapshot) -> Iterator[Finding]:
    idx = ESOIndex(snap)
    for es in snap.list("ExternalSecret"):
        if es["metadata"].get("deletionTimestamp"):
            continue
        f = _external_secret_finding(snap, idx, es)
        if f is not None:
            yield f
        n = _naming_finding(snap, idx, es)
        if n is not None:
            yield n


def _external_secret_finding(snap: Snapshot, idx: ESOIndex, es: Obj) -> Finding | None:
    ns, name = ns_of(es), _name(es)
    spec, st = es.get("spec") or {}, es.get("status") or {}
    target = target_name(es)
    policy = creation_policy(es)
    stores = idx.stores_of(es)
    sk = stores[0] if stores else None
    store = idx.store(sk) if sk else None
    store_ready = condition(store, "Ready") if store is not None else None
    ready = condition(es, "Ready")
    secret = snap.get("Secret", ns, target) if idx.secrets_visible else None
    target_missing = idx.secrets_visible and secret is None
    evt = _latest_event(snap, es, "UpdateFailed")
    evt_msg = (evt.get("message") or "") if evt is not None else ""
    interval = go_duration(spec.get("refreshInterval")) if spec.get("refreshInterval") is not None else DEFAULT_REFRESH
    refreshed = parse_time(st.get("refreshTime"))
    since_refresh = snap.now - refreshed if refreshed else None
    stale = (bool(interval) and interval is not None and since_refresh is not None
             and since_refresh > STALE_FACTOR * interval)

    missing_stores = [k for k in stores if idx.store(k) is None]
    store_not_found = bool(missing_stores) and (idx.stores_visible or bool(_STORE_NOT_FOUND.search(evt_msg)))
    ready_false = ready is not None and ready.get("status") == "False"
    ready_true = ready is not None and ready.get("status") == "True"

    code: str | None = None
    if store_not_found:
        code = "ESO-STORE-NOT-FOUND"
    elif ready_false:
        store_bad = store_ready is not None and store_ready.get("status") != "True"
        if not store_bad and _REMOTE_MISSING.search(evt_msg) and not _STORE_NOT_FOUND.search(evt_msg):
            code = "ESO-REMOTE-KEY-MISSING"
        else:
            code = "ESO-SYNC-FAILED"
    elif ready_true and target_missing and policy != "None":
        code = "ESO-TARGET-SECRET-MISSING"
    elif ready_true and stale:
        code = "ESO-REFRESH-STALE"
    if code is None:
        return None

    # --- evidence: the proof first, context after ----------------------------------------------
    keys = remote_keys(es)
    remote_key = ""
    m = _KEY_IN_MESSAGE.search(evt_msg)
    if m:
        remote_key = m.group(1)
    elif keys:
        remote_key = next((k for k in keys if k in evt_msg), keys[0])
    store_healthy = store_ready is not None and store_ready.get("status") == "True"

    ev: list[str] = []
    if ready is not None:
        ev.append(cond_line(snap, ready))
    if evt is not None and code != "ESO-TARGET-SECRET-MISSING" and (code != "ESO-REFRESH-STALE" or ready_false):
        ev.append(event_line(snap, evt))
    elif code in ("ESO-SYNC-FAILED", "ESO-REMOTE-KEY-MISSING"):
        ev.append("no UpdateFailed event in the capture (events expire after an hour): read the controller log")
    if code == "ESO-REMOTE-KEY-MISSING":
        g = _GCP_SECRET.search(evt_msg)
        ev.append(f"remote secret {g.group(1) if g else remote_key} does not exist in the provider (or has no enabled "
                  f"version)" + (f"; store {_store_disp(sk)} is healthy" if store_healthy and sk else ""))
    if idx.secrets_visible:
        if secret is None:
            ev.append(f"target Secret {ns}/{target} does not exist (creationPolicy {policy})")
        else:
            ev.append(f"target Secret {ns}/{target} exists (created {ago(snap, secret['metadata'].get('creationTimestamp'))}); "
                      "it keeps the last synced values")
    if sk is not None:
        line = f"spec.secretStoreRef: {_store_disp(sk)}"
        if store is None and not snap.collected(sk[0]):
            line += f" (not checked: {sk[0]} was not collected)"
        elif store is None:
            line += " (does not exist" + _store_suggestion(snap, sk) + ")"
        elif store_ready is not None:
            line += f" — Ready={store_ready.get('status')}" + (f" ({store_ready['reason']})" if store_ready.get("reason") else "")
        ev.append(line)
    if store is None and sk is not None and sk[0] == "SecretStore" and snap.get("ClusterSecretStore", None, sk[2]) is not None:
        ev.append(f"a ClusterSecretStore named {sk[2]} exists: the reference needs kind: ClusterSecretStore "
                  "(kind defaults to SecretStore when omitted)")
    if code in ("ESO-TARGET-SECRET-MISSING", "ESO-REFRESH-STALE") and idx.controller_key is not None:
        ev.append(_controller_line(snap, idx.controller_key))
    for extra in stores[1:]:
        if idx.store(extra) is None and snap.collected(extra[0]):
            ev.append(f"sourceRef.storeRef: {_store_disp(extra)} does not exist")
    if refreshed is not None and since_refresh is not None:  # one is set exactly when the other is
        ev.append(f"status.refreshTime: {st.get('refreshTime')} ({human(since_refresh)} ago; refreshInterval "
                  f"{spec.get('refreshInterval') or '1h'})")
    elif ready_false:
        ev.append("status.refreshTime is unset: the Secret has never been synced")
    if keys:
        ev.append("remote keys: " + ", ".join(keys[:MAX_LISTED]) + (" …" if len(keys) > MAX_LISTED else ""))

    # --- title, severity ----------------------------------------------------------------------
    disp = f"ExternalSecret {ns}/{name}"
    blocked = " (target Secret missing)" if target_missing else ""
    if code == "ESO-STORE-NOT-FOUND":
        title = f"{disp} uses {_store_disp(missing_stores[0])}, which does not exist{blocked}"
    elif code == "ESO-REMOTE-KEY-MISSING":
        title = f"{disp} cannot sync: remote key {remote_key or '?'} does not exist{blocked}"
    elif code == "ESO-SYNC-FAILED":
        why = _short_cause(evt_msg, sk, store_ready)
        title = f"{disp} is not syncing{blocked}" + (f": {why}" if why else "")
    elif code == "ESO-TARGET-SECRET-MISSING":
        title = f"{disp} reports Ready but its target Secret {target} does not exist"
    else:
        assert since_refresh is not None  # ESO-REFRESH-STALE is chosen only for a stale refreshTime
        title = f"{disp} last synced {human(since_refresh)} ago (refreshInterval {spec.get('refreshInterval') or '1h'})"
    if code == "ESO-REFRESH-STALE":
        severity = "warning"
    else:
        severity = "critical" if target_missing else "warning"

    deps: list[Key] = list(stores)
    if code in ("ESO-TARGET-SECRET-MISSING", "ESO-REFRESH-STALE") and idx.controller_key:
        deps.append(idx.controller_key)
    prov_cfg = (((store or {}).get("spec") or {}).get("provider") or {}).get("gcpsm") or {}
    return finding(
        code, es, title=title, evidence=ev, severity=severity,
        subjects=[("Secret", ns, target)], depends_on=deps,
        params={"target": target, "store": sk[2] if sk else "", "store_kind": (sk[0] if sk else "ClusterSecretStore").lower(),
                "store_ns_flag": f" -n {sk[1]}" if sk and sk[1] else "", "remote_key": remote_key or (keys[0] if keys else name),
                "project": prov_cfg.get("projectID") or "<gcp-project>",
                "eso_namespace": idx.controller_key[1] if idx.controller_key else ESO_NAMESPACE},
    )


def _controller_line(snap: Snapshot, key: Key) -> str:
    dep = snap.get(*key)
    if dep is None:
        return f"controller Deployment {key[1]}/{key[2]} is not in the capture"
    want = (dep.get("spec") or {}).get("replicas", 1)
    avail = (dep.get("status") or {}).get("availableReplicas") or 0
    return f"controller Deployment {key[1]}/{key[2]}: {avail}/{want} replicas available"


def _short_cause(msg: str, sk: Key | None, store_ready: Obj | None) -> str:
    if "is not ready" in msg and "SecretStore" in msg:
        return f"store {sk[2] if sk else ''} is not ready".replace("  ", " ")
    if store_ready is not None and store_ready.get("status") != "True" and sk:
        return f"store {sk[2]} is not ready"
    if "not allowed from namespace" in msg:
        return "the ClusterSecretStore's spec.conditions do not allow this namespace"
    if msg:
        tail = msg.rsplit("err: ", 1)[-1]
        return quote(tail)
    return ""


def _store_suggestion(snap: Snapshot, sk: Key) -> str:
    names = sorted(_name(s) for s in snap.list(sk[0], sk[1] or None) if sk[0] == "ClusterSecretStore" or ns_of(s) == sk[1])
    return f"; existing: {', '.join(names[:8])}" if names else f"; no {sk[0]} exists"


# ------------------------------------------------------------------------------------------- naming convention


def _naming_finding(snap: Snapshot, idx: ESOIndex, es: Obj) -> Finding | None:
    """Tenant remote keys are named `{namespace}-{secret-name}`; flag only clear departures from it."""
    ns = ns_of(es)
    if ns in PLATFORM_NAMESPACES or ns.startswith("kube-"):
        return None
    stores = idx.stores_of(es)
    store = idx.store(stores[0]) if stores else None
    if store is None or _provider(store)[0] != "gcpsm":
        return None
    keys = remote_keys(es)
    bad = [k for k in keys if not k.startswith(f"{ns}-") and "/" not in k]
    if not bad:
        return None
    other = [k for k in bad if any(k.startswith(f"{o}-") for o in idx.tenant_namespaces() if o != ns)]
    ev = [f"remote key {k!r} does not start with {ns + '-'!r}" for k in bad[:MAX_LISTED]]
    if other:
        ev.append("keys named after another tenant's namespace: " + ", ".join(other[:MAX_LISTED])
                  + " (check this tenant is meant to read them)")
    return finding(
        "ESO-NAMING-CONVENTION", es,
        title=f"ExternalSecret {ns}/{_name(es)} reads remote key(s) outside the {ns}- naming convention: "
              + ", ".join(bad[:3]) + (" …" if len(bad) > 3 else ""),
        evidence=ev, severity="info",
        params={"remote_key": bad[0], "expected": f"{ns}-{bad[0]}"},
    )


# ------------------------------------------------------------------------------------------- ClusterExternalSecret

# ESO before v0.9 wrote NotReady / PartiallyReady conditions with status True instead of Ready=False.
_CES_FAILED_TYPES = ("NotReady", "PartiallyReady")
_CES_CONFLICT = "external secret already exists in namespace"


def _ces_failed(ces: Obj) -> tuple[Obj | None, bool]:
    """(the condition that says it failed, whether one does). A Ready condition decides: an upgraded controller
    writes Ready and may leave an old PartiallyReady behind. Without one, an old NotReady/PartiallyReady
    with status True, or failedNamespaces, say it failed."""
    ready = condition(ces, "Ready")
    if ready is not None:
        return ready, ready.get("status") == "False"
    for t in _CES_FAILED_TYPES:
        c = condition(ces, t)
        if c is not None and c.get("status") == "True":
            return c, True
    return None, bool((ces.get("status") or {}).get("failedNamespaces"))


@check(
    codes=("ESO-CLUSTER-EXTERNAL-SECRET-FAILED",),
    reads=("ClusterExternalSecret",),
    speaks_for=("ClusterExternalSecret", "ExternalSecret", "Secret"),
    depends_on=("ExternalSecret",),
)
def cluster_external_secrets(snap: Snapshot) -> Iterator[Finding]:
    """A ClusterExternalSecret that could not create its ExternalSecret in some namespaces: each failure
    reason is in status.failedNamespaces (ESO keeps only "one or more namespaces failed" in the condition)."""
    for ces in snap.list("ClusterExternalSecret"):
        if ces["metadata"].get("deletionTimestamp"):
            continue
        c, failed = _ces_failed(ces)
        if not failed:
            continue
        st, spec = ces.get("status") or {}, ces.get("spec") or {}
        es_name = st.get("externalSecretName") or spec.get("externalSecretName") or _name(ces)
        target = ((spec.get("externalSecretSpec") or {}).get("target") or {}).get("name") or es_name
        failures = [f for f in st.get("failedNamespaces") or () if isinstance(f, dict) and f.get("namespace")]
        provisioned = st.get("provisionedNamespaces") or []
        ev: list[str] = [cond_line(snap, c)] if c is not None else []
        subjects: list[Key] = []
        depends: list[Key] = []
        for f in failures[:MAX_LISTED]:
            ev.append(f"status.failedNamespaces: {f['namespace']}: {quote(f.get('reason') or '(no reason given)')}")
        if len(failures) > MAX_LISTED:
            ev.append(f"… and {len(failures) - MAX_LISTED} more failed namespaces")
        for f in failures:
            ns = f["namespace"]
            if _CES_CONFLICT in (f.get("reason") or ""):
                # Another ExternalSecret of that name, not created by this one, is in the way: it is the cause.
                depends.append(("ExternalSecret", ns, es_name))
                other = snap.get("ExternalSecret", ns, es_name)
                if other is not None:
                    owner = next((r for r in other["metadata"].get("ownerReferences") or () if r.get("controller")), None)
                    ev.append(f"ExternalSecret {ns}/{es_name} exists and is "
                              + (f"owned by {owner.get('kind')} {owner.get('name')}" if owner else "owned by nothing")
                              + f", not by ClusterExternalSecret {_name(ces)}")
            else:
                subjects += [("ExternalSecret", ns, es_name), ("Secret", ns, target)]
        ev.append(f"status.provisionedNamespaces: {len(provisioned)}"
                  + (f" ({', '.join(provisioned[:MAX_LISTED])}{' …' if len(provisioned) > MAX_LISTED else ''})"
                     if provisioned else ""))
        stores = store_keys({"metadata": {"namespace": ""}, "spec": spec.get("externalSecretSpec") or {}})
        if stores:
            ev.append("spec.externalSecretSpec.secretStoreRef: " + _store_disp(stores[0]))
        first = failures[0] if failures else {}
        where = (f"{len(failures)} namespace(s): " + ", ".join(f["namespace"] for f in failures[:3])
                 + (" …" if len(failures) > 3 else "")) if failures else "its namespaces"
        why = quote(first.get("reason") or (c or {}).get("message") or "")
        yield finding(
            "ESO-CLUSTER-EXTERNAL-SECRET-FAILED", ces,
            title=f"ClusterExternalSecret {_name(ces)} could not create ExternalSecret {es_name} in {where}"
                  + (f": {why}" if why else ""),
            evidence=ev, subjects=subjects, depends_on=depends,
            params={"failed_namespace": first.get("namespace") or "<namespace>", "es_name": es_name},
        )


# ------------------------------------------------------------------------------------------- PushSecret


_PUSH_WRITE = re.compile(r"could not write remote ref (\S+) to target secretstore (\S+): (.*)")


def push_store_keys(ps: Obj) -> list[Key]:
    """The stores a PushSecret writes to (spec.secretStoreRefs; kind defaults to SecretStore)."""
    ns = ns_of(ps)
    out: list[Key] = []
    for ref in (ps.get("spec") or {}).get("secretStoreRefs") or ():
        k = store_key(ref, ns) if isinstance(ref, dict) else None
        if k and k not in out:
            out.append(k)
    return out


@check(
    codes=("ESO-PUSH-SECRET-FAILED",),
    reads=("PushSecret",),
    speaks_for=("PushSecret",),
    depends_on=("ClusterSecretStore", "Secret", "SecretStore"),
)
def push_secrets(snap: Snapshot) -> Iterator[Finding]:
    """A PushSecret whose Ready condition is False (reason Errored): the Secret is not written to the provider.
    It depends on its source Secret (whatever should create it explains a push of nothing) and its stores."""
    secrets_visible = _secrets_visible(snap)
    for ps in snap.list("PushSecret"):
        if ps["metadata"].get("deletionTimestamp") and not condition(ps, "Ready"):
            continue
        ready = condition(ps, "Ready")
        if ready is None or ready.get("status") != "False":
            continue
        ns, name = ns_of(ps), _name(ps)
        spec, st = ps.get("spec") or {}, ps.get("status") or {}
        ev = [cond_line(snap, ready)]
        evt = _latest_event(snap, ps, ready.get("reason") or "Errored")
        if evt is not None and (evt.get("message") or "") != (ready.get("message") or ""):
            ev.append(event_line(snap, evt))
        source = (((spec.get("selector") or {}).get("secret")) or {}).get("name")
        deps: list[Key] = []
        msg = ready.get("message") or ""
        if source:
            deps.append(("Secret", ns, source))
            line = f"spec.selector.secret.name: {source}"
            if secrets_visible:
                line += " (exists)" if snap.get("Secret", ns, source) is not None else " (does not exist)"
            ev.append(line)
        elif (spec.get("selector") or {}).get("generatorRef"):
            ev.append(f"spec.selector.generatorRef: {(spec['selector']['generatorRef'] or {}).get('kind')} "
                      f"{(spec['selector']['generatorRef'] or {}).get('name')}")
        for k in push_store_keys(ps):
            deps.append(k)
            store = snap.get(*k)
            sr = condition(store, "Ready") if store is not None else None
            line = f"spec.secretStoreRefs: {_store_disp(k)}"
            if store is None and snap.collected(k[0]) and snap.count(k[0]):
                line += " (does not exist)"
            elif sr is not None:
                line += f" — Ready={sr.get('status')}" + (f" ({sr['reason']})" if sr.get("reason") else "")
            ev.append(line)
        wanted = [(((d or {}).get("match") or {}).get("remoteRef") or {}).get("remoteKey")
                  for d in spec.get("data") or ()]
        remote: list[str] = [r for r in wanted if r]
        if remote:
            ev.append("remote keys: " + ", ".join(remote[:MAX_LISTED]) + (" …" if len(remote) > MAX_LISTED else ""))
        if st.get("refreshTime"):
            ev.append(f"status.refreshTime: {st['refreshTime']} ({ago(snap, st['refreshTime'])})")
        w = _PUSH_WRITE.search(msg)
        if w:
            what, why = f"key {w.group(1)} to store {w.group(2)}", w.group(3)
        else:
            what, why = "to its store", msg.split("set secret failed: ", 1)[-1] or (ready.get("reason") or "")
        yield finding(
            "ESO-PUSH-SECRET-FAILED", ps,
            title=f"PushSecret {ns}/{name} cannot push {what}" + (f": {quote(why)}" if why else ""),
            evidence=ev, depends_on=deps,
            params={"source": source or "<secret>",
                    "eso_namespace": (_controller_key(snap) or ("", ESO_NAMESPACE, ""))[1]},
        )
