"""Read a live cluster into a Snapshot: one paginated LIST per kind, concurrent, never fatal per kind.

How: the kubeconfig (`--kubeconfig`, `--context`, else $KUBECONFIG or ~/.kube/config) or the pod's
service account is loaded by the official `kubernetes` client; `/version` and discovery say which of
the kinds in `kinds.COLLECTED_KINDS` the cluster serves; each served kind is listed with `limit` and
`continue` (per namespace when namespaces are given, so a Role in those namespaces is enough), at most
`workers` requests at a time; then the logs of unhealthy containers (`logselect`) are tailed. A kind
that is forbidden, not installed or keeps failing is recorded in `collection_errors`, and the checks
that read it report "not checked". `captured_at` is the clock when the sweep starts.

The result is the same Snapshot the bundle loader builds: raw API JSON with managedFields and Secret
values dropped (keys kept) as each page is parsed.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sre_expert.core.kinds import COLLECTED_KINDS, LOG_RESOURCE, KindSpec
from sre_expert.core.model import kind_name
from sre_expert.core.snapshot import Snapshot, SnapshotInfo
from sre_expert.sources.api_discovery import Served, discover
from sre_expert.sources.bundle_reader import BundleError, clean_object
from sre_expert.sources.live_http import FORBIDDEN, NOT_INSTALLED, UNAUTHORIZED, HttpClient, RequestFailed
from sre_expert.sources.logselect import log_targets

SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
USER_AGENT = "sre-expert (read-only sweep)"


class LiveSourceError(BundleError):
    """The cluster cannot be read at all: no usable kubeconfig, unreachable, credentials refused.

    A BundleError so every command's existing handling turns it into a message and exit status 2."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LiveOptions:
    context: str | None = None
    kubeconfig: str | None = None
    namespaces: tuple[str, ...] = ()  # empty: cluster-wide lists
    workers: int = 8  # concurrent requests
    page_size: int = 500
    timeout: float = 30.0  # seconds per request, headers and body
    retries: int = 4  # retries after the first attempt (429, 5xx, resets, timeouts, truncated bodies)
    backoff: float = 0.5  # first backoff in seconds, doubled per retry, with jitter
    max_backoff: float = 8.0
    max_retry_after: float = 30.0  # cap on a server's Retry-After
    logs: bool = True
    log_lines: int = 500
    log_bytes: int = 1 << 20
    kinds: tuple[KindSpec, ...] = COLLECTED_KINDS
    clock: Callable[[], datetime] = _utcnow


class Progress(Protocol):
    def add_tasks(self, n: int) -> None: ...

    def task_done(self, label: str, objects: int) -> None: ...


class _NoProgress:
    def add_tasks(self, n: int) -> None:
        pass

    def task_done(self, label: str, objects: int) -> None:
        pass


@dataclass
class Sweep:
    """Everything one sweep read, before it becomes a Snapshot (collect.py writes it as a bundle)."""

    captured_at: datetime
    cluster: str
    kubernetes_version: str
    location: str
    namespaces: tuple[str, ...]
    lists: list[tuple[Served, list[dict[str, Any]]]] = field(default_factory=list)
    not_installed: list[KindSpec] = field(default_factory=list)
    logs: dict[tuple[str, str, str, bool], str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    retried: int = 0
    pages: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def object_count(self) -> int:
        return sum(len(items) for _, items in self.lists)

    def kinds_read(self) -> list[str]:
        """Index names of the kinds this sweep listed (in at least one namespace, even with no objects) or
        that discovery found not installed: for those, finding none means there is none."""
        specs = [s.spec for s, _ in self.lists] + list(self.not_installed)
        return list(dict.fromkeys(kind_name(s.kind, s.group) for s in specs))

    def snapshot(self) -> Snapshot:
        objects = [o for _, items in self.lists for o in items]
        info = SnapshotInfo(
            captured_at=self.captured_at, cluster=self.cluster, kubernetes_version=self.kubernetes_version,
            source="live", location=self.location, collection_errors=list(self.errors), warnings=list(self.warnings),
            namespaces=tuple(self.namespaces), collected_kinds=frozenset(self.kinds_read()),
        )
        logs = self.logs
        enabled = gc.isenabled()
        gc.disable()
        try:
            snap = Snapshot(objects, info, lambda ns, pod, c, prev: logs.get((ns, pod, c, prev)))
            gc.freeze()  # as the bundle loader: these objects live for the run, stop rescanning them
        finally:
            if enabled:
                gc.enable()
        return snap


# --------------------------------------------------------------------------------------------- configuration
def default_kubeconfig() -> str | None:
    """$KUBECONFIG (a path list, as kubectl reads it) when any of it exists, else ~/.kube/config if present."""
    env = os.environ.get("KUBECONFIG")
    if env:
        paths = [p for p in env.split(os.pathsep) if p]
        return env if any(Path(p).expanduser().is_file() for p in paths) else None
    home = Path("~/.kube/config").expanduser()
    return str(home) if home.is_file() else None


def in_cluster_available() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT")
                and Path(SA_TOKEN).is_file())


def connect(opts: LiveOptions) -> tuple[Any, str, str]:
    """(ApiClient, cluster name, location) from the kubeconfig or the in-cluster service account."""
    from kubernetes import client, config

    cfg = client.Configuration()
    path = opts.kubeconfig or default_kubeconfig()
    if opts.kubeconfig:
        paths = [str(Path(p).expanduser()) for p in opts.kubeconfig.split(os.pathsep) if p]
        if not any(Path(p).is_file() for p in paths):
            raise LiveSourceError(f"--kubeconfig {opts.kubeconfig}: no such file")
        path = os.pathsep.join(paths)
    if path or opts.context:
        if not path:
            raise LiveSourceError(f"--context {opts.context}: no kubeconfig found ($KUBECONFIG or ~/.kube/config)")
        try:
            contexts, current = config.list_kube_config_contexts(path)
        except Exception as e:  # ConfigException, YAML and file errors: all mean "this kubeconfig is unusable"
            contexts, current = _contexts_in(path), None
            if contexts and not opts.context and "current-context" in str(e):
                names = ", ".join(sorted(str(c["name"]) for c in contexts))
                raise LiveSourceError(f"kubeconfig {path} has no current-context: pass --context "
                                      f"(its contexts: {names})") from None
            if not contexts or not opts.context:  # with --context the client needs no current one
                raise LiveSourceError(f"kubeconfig {path}: {_first_line(e)}") from None
        if opts.context and not any(c.get("name") == opts.context for c in contexts or ()):
            raise LiveSourceError(unknown_context_message(opts.context, [str(c.get("name")) for c in contexts or ()], path))
        try:
            config.load_kube_config(config_file=path, context=opts.context, client_configuration=cfg,
                                    persist_config=False)
        except Exception as e:
            raise LiveSourceError(f"kubeconfig {path}: {_first_line(e)}") from None
        name = opts.context or (current or {}).get("name") or ""
        ctx = next((c for c in contexts or () if c.get("name") == name), current or {})
        cluster = str(((ctx or {}).get("context") or {}).get("cluster") or name)
        location = f"context {name}" if name else path
    elif in_cluster_available():
        try:
            config.load_incluster_config(client_configuration=cfg)
        except Exception as e:
            raise LiveSourceError(f"in-cluster configuration: {_first_line(e)}") from None
        cluster, location = "", "in-cluster service account"
    else:
        raise LiveSourceError("no kubeconfig ($KUBECONFIG, ~/.kube/config) and not running in a pod")
    cfg.retries = False  # the sweep retries itself (HttpClient), so timeouts and counts stay honest
    cfg.connection_pool_maxsize = max(4, opts.workers)
    api = client.ApiClient(cfg)
    api.user_agent = USER_AGENT
    return api, cluster, location


def _contexts_in(path: str) -> list[dict[str, Any]]:
    """The `contexts:` entries of the kubeconfig file(s), read directly ([] when unreadable)."""
    import yaml

    out: list[dict[str, Any]] = []
    for p in path.split(os.pathsep):
        try:
            doc = yaml.safe_load(Path(p).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("contexts"), list):
            out += [c for c in doc["contexts"] if isinstance(c, dict) and isinstance(c.get("name"), str)]
    return out


def unknown_context_message(context: str, names: list[str], path: str) -> str:
    """One sentence: the context is not in the kubeconfig, and which ones are (as `kubectl config
    get-contexts` would show), closest first when one looks like a typo."""
    import difflib

    if not names:
        return f"--context {context}: {path} has no contexts"
    close = difflib.get_close_matches(context, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"--context {context}: not in {path}; {hint}its contexts: {', '.join(sorted(names))}"


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


# --------------------------------------------------------------------------------------------- the sweep
def sweep(opts: LiveOptions = LiveOptions(), progress: Progress | None = None, api_client: Any = None,
          cluster: str = "", location: str = "") -> Sweep:
    """Read the cluster once. Raises LiveSourceError only when nothing can be read."""
    progress = progress or _NoProgress()
    captured_at = opts.clock()
    started = time.monotonic()
    if api_client is None:
        api_client, cluster, location = connect(opts)
    http = HttpClient(api_client, timeout=opts.timeout, retries=opts.retries, backoff=opts.backoff,
                      max_backoff=opts.max_backoff, max_retry_after=opts.max_retry_after)
    location = location or http.host
    enabled = gc.isenabled()
    gc.disable()  # bulk JSON parsing: the cyclic collector, not orjson, would dominate
    try:
        with ThreadPoolExecutor(max_workers=max(1, opts.workers), thread_name_prefix="sweep") as pool:
            version = _server_version(http, location)
            try:
                served, missing = discover(http, list(opts.kinds), pool)
            except RequestFailed as e:
                raise LiveSourceError(f"{location}: API discovery failed: {e}") from None
            result = Sweep(captured_at, cluster, version, location, tuple(opts.namespaces), not_installed=missing)
            if opts.namespaces:
                result.warnings.append(
                    f"only namespace{'s' if len(opts.namespaces) > 1 else ''} {', '.join(opts.namespaces)} "
                    f"{'were' if len(opts.namespaces) > 1 else 'was'} read: what they reference elsewhere (Gateways, "
                    "controllers, secret stores, issuers' Secrets) is reported as not checked, never as missing")
            _run(http, pool, opts, served, result, progress)
    finally:
        if enabled:
            gc.enable()
    result.requests, result.retried, result.bytes = http.requests, http.retried, http.bytes
    result.seconds = time.monotonic() - started
    return result


def live_snapshot(opts: LiveOptions = LiveOptions(), progress: Progress | None = None) -> Snapshot:
    return sweep(opts, progress).snapshot()


def _server_version(http: HttpClient, location: str) -> str:
    """`/version`, which every authenticated client may read: the first request proves we can connect.

    Retried once only: an address that refuses connections should fail the command in a second, not
    after the whole backoff ladder."""
    try:
        doc = http.get_json("/version", retries=1)
    except RequestFailed as e:
        if e.error == UNAUTHORIZED:
            raise LiveSourceError(f"{location}: the API server refused the credentials (401 Unauthorized)") from None
        if e.status is None:
            raise LiveSourceError(f"cannot reach the API server at {http.host}: {e}") from None
        return ""  # a server that hides its version can still be listed
    return str((doc or {}).get("gitVersion") or "") if isinstance(doc, dict) else ""


def _run(http: HttpClient, pool: ThreadPoolExecutor, opts: LiveOptions, served: list[Served], result: Sweep,
         progress: Progress) -> None:
    tasks: list[tuple[Served, str | None]] = []
    for s in served:
        if s.namespaced and opts.namespaces:
            tasks.extend((s, ns) for ns in opts.namespaces)
        else:
            tasks.append((s, None))
    progress.add_tasks(len(tasks))
    lists: dict[Future, int] = {pool.submit(list_all, http, s, ns, opts.page_size): i for i, (s, ns) in enumerate(tasks)}
    found: list[list[dict[str, Any]] | None] = [None] * len(tasks)
    logs: dict[Future, tuple[str, str, str, bool]] = {}
    log_errors: list[str] = []
    log_forbidden: set[str] = set()
    errors: list[tuple[int, dict[str, str]]] = []
    pending: set[Future] = set(lists)
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                if f in lists:
                    i = lists[f]
                    s, ns = tasks[i]
                    label = s.spec.kind + (f" in {ns}" if ns else "")
                    try:
                        items, pages = f.result()
                    except RequestFailed as e:
                        errors.append((i, _collection_error(s.spec.kind, ns, e)))
                        progress.task_done(label, 0)
                        continue
                    except Exception as e:  # a surprise answer must cost this kind only, never the sweep
                        errors.append((i, {"kind": s.spec.kind, "namespace": ns or "",
                                           "error": f"failed: {type(e).__name__}: {_first_line(e)}"}))
                        progress.task_done(label, 0)
                        continue
                    found[i] = items
                    result.pages += pages
                    progress.task_done(label, len(items))
                    if s.spec.kind == "Pod" and s.spec.group == "" and opts.logs:
                        targets = [(p["metadata"].get("namespace") or "", p["metadata"].get("name") or "", c, prev)
                                   for p in items for c, prev in log_targets(p, result.captured_at)]
                        targets = [t for t in targets if t[0] and t[1]]
                        progress.add_tasks(len(targets))
                        for key in targets:
                            lf = pool.submit(fetch_log, http, *key, opts.log_lines, opts.log_bytes)
                            logs[lf] = key
                            pending.add(lf)
                else:
                    key = logs[f]
                    where = f"{key[0]}/{key[1]}/{key[2]}{' (previous)' if key[3] else ''}"
                    try:
                        result.logs[key] = f.result()
                    except RequestFailed as e:
                        if e.error == FORBIDDEN:
                            log_forbidden.add(key[0] if opts.namespaces else "")
                        elif e.status not in (400, 404):  # 400: no previous instance / not started; 404: pod gone
                            log_errors.append(f"{where}: {e}")
                    except Exception as e:
                        log_errors.append(f"{where}: {type(e).__name__}: {_first_line(e)}")
                    progress.task_done("logs", 0)
    except BaseException:  # Ctrl-C: drop what has not started instead of waiting for the whole sweep
        for f in pending:
            f.cancel()
        raise
    for i, (s, _) in enumerate(tasks):
        items = found[i]
        if items is not None:
            result.lists.append((s, items))
    result.errors.extend(e for _, e in sorted(errors, key=lambda ie: ie[0]))  # kind order, not finish order
    for ns in sorted(log_forbidden):
        result.errors.append({"kind": LOG_RESOURCE, "namespace": ns, "error": FORBIDDEN})
    if log_errors:
        result.warnings.append(f"logs: {len(log_errors)} of {len(logs)} container logs could not be read "
                               f"(first: {log_errors[0]})")


def _collection_error(kind: str, namespace: str | None, e: RequestFailed) -> dict[str, str]:
    if e.error in (FORBIDDEN, NOT_INSTALLED):
        text = e.error
    else:
        text = f"{e.error}{f': {e.detail}' if e.detail else ''}"
        if e.attempts > 1:
            text += f" (after {e.attempts} attempts)"
    return {"kind": kind, "namespace": namespace or "", "error": text}


def list_all(http: HttpClient, s: Served, namespace: str | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every object of one kind (in one namespace), page by page. Returns (items, pages)."""
    path = s.list_path(namespace)
    items: list[dict[str, Any]] = []
    token: str | None = None
    seen_tokens: set[str] = set()
    pages = 0
    restarted = False
    while True:
        query: list[tuple[str, Any]] = [("limit", limit)]
        if token:
            query.append(("continue", token))
        try:
            doc = http.get_json(path, query)
        except RequestFailed as e:
            if e.status == 410 and token and not restarted:  # continue token expired: start over, once
                items, token, restarted = [], None, True
                seen_tokens.clear()
                continue
            raise
        pages += 1
        if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
            raise RequestFailed("unexpected answer", 200, f"{path} did not return a list")
        _add_items(items, doc["items"], s)
        token = (doc.get("metadata") or {}).get("continue") or None
        if not token:
            return items, pages
        if token in seen_tokens:
            raise RequestFailed("unexpected answer", 200, f"{path} repeated a continue token")
        seen_tokens.add(token)


def _add_items(out: list[dict[str, Any]], raw: Iterable[Any], s: Served) -> None:
    kind, api_version = s.spec.kind, s.group_version
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("metadata"), dict):
            continue
        if "kind" not in item:  # list items of built-in kinds carry neither
            item["kind"] = kind
            item["apiVersion"] = api_version
        clean_object(item)  # Secret values and managedFields go before anything else holds the page
        out.append(item)


def fetch_log(http: HttpClient, namespace: str, pod: str, container: str, previous: bool, lines: int,
              limit_bytes: int) -> str:
    from sre_expert.sources.bundle_writer import redact

    query: list[tuple[str, Any]] = [("container", container), ("tailLines", lines), ("limitBytes", limit_bytes)]
    if previous:
        query.append(("previous", "true"))
    return redact(http.get_text(f"/api/v1/namespaces/{namespace}/pods/{pod}/log", query))


__all__ = ["LiveOptions", "LiveSourceError", "Sweep", "connect", "default_kubeconfig", "in_cluster_available",
           "live_snapshot", "sweep"]
