"""External Secrets Operator faults on the healthy synthetic platform, as ESO v0.9.11 writes them
(its controller sources).

synth.faults already offers a failing ExternalSecret and an invalid store; the helpers here add what it
does not: the store's credentials Secret deleted, a store that does not exist, a stale refresh, a
controller that is down, a missing target Secret, and the pods that the missing Secrets block.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from certmanager_faults import NOW

from synth import eso, faults
from synth.builder import PlatformBuilder
from synth.meta import bump, condition, number, set_condition, ts

Obj = dict[str, Any]

ESO_NS = "external-secrets-system"
STORE = "gcp-secretstore"
AUTH_SECRET = "gcpsm-secret"
TENANT = "mycure-production"
PROJECT_NUMBER = 418732651234

INVALID_KEY = ('unable to get credentials: oauth2: cannot fetch token: 400 Bad Request\nResponse: '
               '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}')
AUTH_SECRET_GONE = (f'failed to create GCP secretmanager client: could not fetch SecretAccessKey secret: '
                    f'secrets "{AUTH_SECRET}" not found')


def store_not_ready_message(store: str = STORE) -> str:
    return f"the desired SecretStore {store} is not ready"


def remote_not_found(key: str, index: int = 0) -> str:
    """The UpdateFailed message when GCP Secret Manager has no such secret (or no enabled version)."""
    return (f"error retrieving secret at .data[{index}], key: {key}, err: unable to access Secret from SecretManager "
            f"Client: rpc error: code = NotFound desc = Secret [projects/{PROJECT_NUMBER}/secrets/{key}] not found "
            f"or has no versions.")


def es(b: PlatformBuilder, ns: str, name: str) -> Obj:
    return b.require("ExternalSecret", ns, name)


def store(b: PlatformBuilder, name: str = STORE) -> Obj:
    return b.require("ClusterSecretStore", "", name)


def break_store(b: PlatformBuilder, message: str = INVALID_KEY, *, reason: str = "InvalidProviderConfig",
                since: timedelta = timedelta(hours=3), delete_credentials: bool = False) -> Obj:
    """The ClusterSecretStore fails validation; every ExternalSecret on it then fails its next sync with
    "the desired SecretStore ... is not ready" and keeps its last refreshTime."""
    s = store(b)
    first = NOW - since
    generic = "unable to create client" if reason == "InvalidProviderConfig" else "unable to validate store"
    set_condition(s, condition("Ready", "False", reason, generic, first))
    s["status"].pop("capabilities", None)
    bump(s)
    b.add_event(s, reason, message, "Warning", int(since.total_seconds() // 300) + 1, first=first,
                last=NOW - timedelta(minutes=2), component="external-secrets")
    if delete_credentials:
        b.remove(b.require("Secret", ESO_NS, AUTH_SECRET))
    for x in b.list("ExternalSecret"):
        if x["spec"]["secretStoreRef"]["name"] == s["metadata"]["name"]:
            key = x["spec"]["data"][0]["remoteRef"]["key"]
            # each one fails at its first refresh after the store broke (within its 1h interval)
            fail_at = since - timedelta(minutes=number("esfail", x["metadata"]["uid"], lo=1, hi=55))
            faults.external_secret_failed(
                b, x, since=fail_at,
                error=f"error retrieving secret at .data[0], key: {key}, err: {store_not_ready_message(s['metadata']['name'])}")
    return s


def delete_credentials_only(b: PlatformBuilder) -> Obj:
    """gcpsm-secret deleted a minute ago: the store still shows its last validation (Ready=True)."""
    b.remove(b.require("Secret", ESO_NS, AUTH_SECRET))
    return store(b)


def block_pods_on(b: PlatformBuilder, ns: str, kind: str, name: str, secret: str) -> list[Obj]:
    """The Secret is gone and the workload's pods were recreated: CreateContainerConfigError on each."""
    w = b.workload(kind, ns, name)
    pods = [p for p in w.pods if b.get("Pod", ns, p["metadata"]["name"]) is p]
    for p in pods:
        faults.create_container_config_error(b, p, secret=secret, missing="secret", since=timedelta(minutes=40))
    return pods


def remote_key_missing(b: PlatformBuilder, ns: str = TENANT, name: str = "api-secrets", *,
                       delete_target: bool = False, since: timedelta = timedelta(minutes=50)) -> Obj:
    x = es(b, ns, name)
    key = x["spec"]["data"][0]["remoteRef"]["key"]
    return faults.external_secret_failed(b, x, error=remote_not_found(key), since=since, delete_target=delete_target)


def remote_key_missing_v0911(b: PlatformBuilder, ns: str = TENANT, name: str = "api-secrets") -> Obj:
    """v0.9.11's GCP provider turns NotFound into NoSecretError ("Secret does not exist"); with
    deletionPolicy Retain that is still an error."""
    x = es(b, ns, name)
    key = x["spec"]["data"][0]["remoteRef"]["key"]
    return faults.external_secret_failed(
        b, x, since=timedelta(minutes=50),
        error=f"error retrieving secret at .data[0], key: {key}, err: unable to access Secret from SecretManager "
              f"Client: Secret does not exist")


def new_external_secret(b: PlatformBuilder, ns: str, name: str, data: dict[str, str], *,
                        store_name: str = STORE, store_kind: str | None = "ClusterSecretStore",
                        age: timedelta = timedelta(hours=2), synced: bool = True) -> Obj:
    """An ExternalSecret added `age` ago; synced (with its Secret) or never synced (no Secret)."""
    x = eso.external_secret(ns, name, data, NOW - age, NOW, store=store_name,
                            store_kind=store_kind or "SecretStore")
    if store_kind is None:
        # kind omitted in the manifest: the CRD default (SecretStore) is what the server stores
        x["spec"]["secretStoreRef"] = {"kind": "SecretStore", "name": store_name}
    b.add(x)
    if synced:
        b.add(eso.target_secret(x))
    else:
        x["status"] = {}
    return x


def store_missing(b: PlatformBuilder, ns: str = TENANT, name: str = "smtp-credentials",
                  store_name: str = "gcp-secret-store", store_kind: str | None = "ClusterSecretStore") -> Obj:
    """A new ExternalSecret naming a store that does not exist: it never syncs."""
    x = new_external_secret(b, ns, name, {"password": f"{ns}-smtp-password"}, store_name=store_name,
                            store_kind=store_kind, synced=False)
    kind = x["spec"]["secretStoreRef"]["kind"]
    resource = "clustersecretstores" if kind == "ClusterSecretStore" else "secretstores"
    msg = (f'error retrieving secret at .data[0], key: {ns}-smtp-password, err: could not get {kind} "{store_name}", '
           f'{resource}.external-secrets.io "{store_name}" not found')
    first = NOW - timedelta(hours=2)
    x["status"] = {"conditions": [condition("Ready", "False", "SecretSyncedError", "could not get secret data from provider",
                                            first)]}
    b.add_event(x, "UpdateFailed", msg, "Warning", 40, first=first, component="external-secrets")
    return x


def stale(b: PlatformBuilder, ns: str = TENANT, name: str = "mongodb", last: timedelta = timedelta(hours=5)) -> Obj:
    """Ready=True from the last good sync, refreshTime `last` ago (refreshInterval 1h)."""
    x = es(b, ns, name)
    x["status"]["refreshTime"] = ts(NOW - last)
    return x


def controller_down(b: PlatformBuilder, since: timedelta = timedelta(hours=4)) -> None:
    """The external-secrets controller was scaled to zero `since` ago: nothing refreshes any more."""
    w = b.workload("Deployment", ESO_NS, "external-secrets")
    w.controller["spec"]["replicas"] = 0
    bump(w.controller, generation=True)
    for p in list(w.pods):
        b.remove(p)
    for x in b.list("ExternalSecret"):
        x["status"]["refreshTime"] = ts(NOW - since - timedelta(minutes=number("lastref", x["metadata"]["uid"], lo=1, hi=50)))
    b.refresh()


def target_deleted(b: PlatformBuilder, ns: str = TENANT, name: str = "api-secrets") -> Obj:
    """The Secret was deleted by hand after a successful sync and nothing recreated it."""
    x = es(b, ns, name)
    b.remove(b.require("Secret", ns, x["spec"]["target"]["name"]))
    return x
