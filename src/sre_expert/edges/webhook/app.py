"""The HTTP server of `sre-expert serve`: Alertmanager webhook, investigations API, pages, health, metrics.

Import this module only inside `serve` (fastapi is heavy). Contract: the README, "Alerts: rules, the
Alertmanager webhook and its pages". Everything but /healthz and /readyz needs the bearer token; the pages also
accept the `sre_expert_session` cookie that POST /login sets after checking the token (a random session id,
never the token; GET only: a cookie never authorises a state-changing request, so a cross-site form cannot
post alerts). POST /logout ends the session.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from sre_expert.edges.webhook.auth import COOKIE, LoginThrottle, Sessions, bearer, loopback_host, token_ok
from sre_expert.edges.webhook.body_limit import TRIPPED, BodyLimit, too_large_message
from sre_expert.edges.webhook.clusters import Clusters, UnknownCluster, route
from sre_expert.edges.webhook.config import ServeConfig, create_private
from sre_expert.edges.webhook.notify import Notifier
from sre_expert.edges.webhook.payload import parse_webhook, redacted
from sre_expert.edges.webhook.service_metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from sre_expert.edges.webhook.service_metrics import Metrics
from sre_expert.edges.webhook.store import STATUSES, StoreBase, open_store
from sre_expert.edges.webhook.worker import LIVE_RETRY_FAILED, SourceCache, WorkerPool
from sre_expert.render import pages

log = logging.getLogger("sre_expert.edges.webhook")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})
HTML_PATHS = ("/", "/investigations/")
MAX_LIMIT = 500
MAX_NAME_CHARS = 253  # a Kubernetes name; a manual check's namespace and component are names


class ApiError(Exception):
    def __init__(self, status: int, message: str, detail: Any = None, headers: dict[str, str] | None = None):
        self.status, self.message, self.detail, self.headers = status, message, detail, headers


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error(status: int, message: str, detail: Any = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return _json(status, body, headers)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) past `limit` bytes whether or not Content-Length is sent. Every
    route is already capped at --max-body by `BodyLimit`; this is for routes that want less (/login)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, too_large_message(limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, too_large_message(limit))
        chunks.append(chunk)
    return b"".join(chunks)


class Server:
    """What the endpoints share: config, store, source cache, workers, notifier, metrics."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.metrics = Metrics()
        self.store: StoreBase | None = None
        sources = config.cluster_sources()
        self.clusters = Clusters(sources, {c.name: SourceCache(c.make_loader(), config.ttl(c.live),
                                                               retry_failed=LIVE_RETRY_FAILED if c.live else 0.0)
                                           for c in sources}, config.cluster_label)
        self.source = self.clusters.default  # the first cluster's (the only one, unless several are configured)
        self.pool: WorkerPool | None = None
        self.notifier: Notifier | None = None
        self.ingest_slots = asyncio.Semaphore(max(1, config.max_concurrent_ingest))
        self.sessions = Sessions()

    def start(self) -> None:
        create_private(self.config.db_path)
        self.store = open_store(self.config.db_path, lease=self.config.lease_seconds)
        targets = self.config.targets()

        self.notifier = Notifier(self.store, external_url=self.config.external_url,
                                 base_delay=self.config.notify_base_delay,
                                 max_attempts=self.config.notify_max_attempts, on_result=self.metrics.notified)
        def on_finished(inv_id: str, status: str) -> None:
            self.metrics.finished(status)
            log_finished(self.store, inv_id, status)

        self.pool = WorkerPool(self.store, self.clusters, self.config.workers, notify=targets,
                               on_finished=on_finished)
        self.pool.start()
        self.notifier.start()

    def stop(self) -> None:
        if self.pool:
            self.pool.stop()
        if self.notifier:
            self.notifier.stop()
        if self.store:
            try:  # a job still running past the pool's stop timeout: handed back, not left to its lease
                self.store.release_claims()
            except Exception as e:
                log.error("releasing claims at stop failed: %s", e)
            counts = self.store.counts()
            self.store.close()
            if self.config.announce:
                left = counts["queued"] + counts["running"]
                where = "on the next start" if self.store.exclusive else "on another replica or the next start"
                self.config.announce(f"stopped; {left} investigation(s) queued or running will resume {where}")

    def cluster_rows(self) -> list[dict[str, Any]]:
        """One row per configured cluster for the API and the index: name, source kind, loaded, last load
        error (redacted), investigations per status."""
        from sre_expert.safety.redact import redact

        assert self.store is not None
        rows = []
        single = len(self.clusters.names) == 1  # it takes every investigation, whatever its label says
        for c in self.clusters.sources:
            cache = self.clusters.caches[c.name]
            rows.append({"name": c.name, "source": c.kind, "loaded": cache.loaded,
                         "sourceError": redact(cache.last_error) if cache.last_error else None,
                         "counts": self.store.counts() if single else self.store.counts(cluster=c.name)})
        return rows

    def authorised(self, request: Request, *, allow_cookie: bool) -> bool:
        presented = bearer(request.headers.get("authorization"))
        if presented is None and allow_cookie and self.sessions.valid(request.cookies.get(COOKIE)):
            return True
        return token_ok(self.config.token, presented)


def create_app(config: ServeConfig) -> FastAPI:
    srv = Server(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(srv.start)
        # load the snapshots now rather than on the first alert (readyz reports them)
        for cache in srv.clusters.caches.values():
            asyncio.get_running_loop().run_in_executor(None, _preload, cache)
        try:
            yield
        finally:
            await run_in_threadpool(srv.stop)

    app = FastAPI(title="sre-expert", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = srv

    # ------------------------------------------------------------------------------ errors and auth
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 503 and _is_html(request):
            return _page(pages.render_error(503, exc.message), 503)
        return _error(exc.status, exc.message, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        detail = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
        return _error(422, "invalid request", detail)

    def _unexpected(request: Request, exc: Exception) -> Response:
        """A bug or a broken database: a JSON 500 and one redacted log line (a traceback would quote
        whatever the failing code held, unredacted)."""
        from sre_expert.safety.redact import redact

        log.error("unhandled error on %s %s: %s", request.method, request.url.path,
                  redact(f"{type(exc).__name__}: {exc}"))
        return _error(500, "internal error (see the server log)")

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        path = request.url.path
        if config.token is None and not loopback_host(request.headers.get("host")):
            return _error(403, "auth is off (--insecure-no-auth): only requests addressed to localhost are served")
        if path in OPEN_PATHS or path in ("/login", "/logout"):
            return await call_next(request)
        allow_cookie = request.method in ("GET", "HEAD")
        if not srv.authorised(request, allow_cookie=allow_cookie):
            if request.method in ("GET", "HEAD") and _is_html(request):
                return RedirectResponse("/login", status_code=303)
            return _error(401, "missing or wrong bearer token (Authorization: Bearer $SRE_EXPERT_TOKEN)",
                          headers={"WWW-Authenticate": "Bearer"})
        try:
            return await call_next(request)
        except Exception as exc:  # handled errors (ApiError, HTTPException) never get here
            if request.scope.get(TRIPPED):  # the body cap, wrapped on its way by a task group: BodyLimit answers
                return _error(413, too_large_message(config.max_body))
            return _unexpected(request, exc)

    # added last, so outermost: every route's body is counted, pydantic-parsed ones (the agent's) included
    app.add_middleware(BodyLimit, limit=config.max_body)

    # ------------------------------------------------------------------------------ webhook
    @app.post("/api/v1/alerts")
    async def alerts(request: Request) -> Response:
        started = time.perf_counter()
        body = await read_body(request, config.max_body)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            srv.metrics.rejected()
            raise ApiError(400, f"the body is not JSON: {e}") from None
        payload, errors = parse_webhook(doc)
        if payload is None:
            srv.metrics.rejected()
            raise ApiError(422, "invalid Alertmanager webhook payload", errors)
        assert srv.store is not None
        clean = redacted(payload)
        # the store dedups per (cluster, group key): two clusters' Alertmanagers sending the same key never merge
        async with srv.ingest_slots:
            ids = await run_in_threadpool(lambda: srv.store.ingest(  # type: ignore[union-attr]
                clean, cluster_label=config.cluster_label))
        srv.metrics.received(len(payload["alerts"]))
        log_received(clean, ids)
        srv.metrics.observe_webhook(time.perf_counter() - started)
        return _json(200, {"accepted": len(payload["alerts"]), "investigations": ids})

    # ------------------------------------------------------------------------------ investigations
    def _cluster_filter(request: Request) -> str | None:
        """?cluster=NAME: only that cluster's investigations (any name: failed ones keep the unknown name
        their alerts carried)."""
        cluster = request.query_params.get("cluster") or None
        if cluster is not None and len(cluster) > MAX_NAME_CHARS:
            raise ApiError(422, f"cluster must be at most {MAX_NAME_CHARS} characters")
        return cluster

    def _paging(request: Request) -> tuple[str | None, int, int]:
        q = request.query_params
        status = q.get("status") or None
        if status is not None and status not in STATUSES:
            raise ApiError(422, f"status must be one of {', '.join(STATUSES)}")
        try:
            limit = int(q.get("limit", "50"))
            offset = int(q.get("offset", "0"))
        except ValueError:
            raise ApiError(422, "limit and offset must be integers") from None
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise ApiError(422, f"limit must be 1..{MAX_LIMIT} and offset >= 0")
        return status, limit, offset

    @app.get("/api/v1/investigations")
    async def list_investigations(request: Request) -> Response:
        status, limit, offset = _paging(request)
        cluster = _cluster_filter(request)
        items, total = await run_in_threadpool(lambda: srv.store.list(  # type: ignore[union-attr]
            status, limit, offset, cluster=cluster))
        return _json(200, {"items": items, "total": total})

    @app.get("/api/v1/clusters")
    async def list_clusters() -> Response:
        """The clusters this server investigates: name, source, whether its snapshot is loaded, the
        investigations per status; and the label that routes alerts to them."""
        rows = await run_in_threadpool(srv.cluster_rows)
        return _json(200, {"label": config.cluster_label, "items": rows})

    def _alert_paging(request: Request) -> tuple[int | None, int]:
        """?alertsLimit=&alertsOffset= on a record: every alert by default (the contract), a slice on demand."""
        q = request.query_params
        try:
            limit = int(q["alertsLimit"]) if q.get("alertsLimit") else None
            offset = int(q.get("alertsOffset") or "0")
        except ValueError:
            raise ApiError(422, "alertsLimit and alertsOffset must be integers") from None
        if (limit is not None and limit < 0) or offset < 0:
            raise ApiError(422, "alertsLimit and alertsOffset must be >= 0")
        return limit, offset

    @app.get("/api/v1/investigations/{inv_id}")
    async def get_investigation(inv_id: str, request: Request) -> Response:
        alerts_limit, alerts_offset = _alert_paging(request)
        rec = await run_in_threadpool(lambda: srv.store.get(  # type: ignore[union-attr]
            inv_id, alerts_limit=alerts_limit, alerts_offset=alerts_offset))
        if rec is None:
            raise ApiError(404, f"no investigation {inv_id}")
        return _json(200, rec)

    @app.post("/api/v1/check")
    async def check(request: Request) -> Response:
        body = await read_body(request, config.max_body)
        try:
            doc = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError as e:
            raise ApiError(400, f"the body is not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise ApiError(422, 'the body must be {"namespace": str|null, "component": str|null, "cluster": str|null}')
        keys = ("namespace", "component", "cluster")
        bad = [k for k in keys if doc.get(k) is not None and not isinstance(doc.get(k), str)]
        if bad:
            raise ApiError(422, f"{', '.join(bad)} must be a string or null")
        long = [k for k in keys if len(doc.get(k) or "") > MAX_NAME_CHARS]
        if long:
            raise ApiError(422, f"{', '.join(long)} must be at most {MAX_NAME_CHARS} characters")
        from sre_expert.safety.redact import redact

        # stored and shown like every other string: redacted first
        namespace, component = (redact(doc[k]) if doc.get(k) else None for k in ("namespace", "component"))
        wanted = doc.get("cluster") or None
        if wanted is not None and wanted not in srv.clusters.names:
            raise ApiError(422, f"cluster {wanted} is not configured; known clusters: {', '.join(srv.clusters.names)}")
        try:
            routed = route(wanted, srv.clusters.names, config.cluster_label)
            cluster = routed if len(srv.clusters.names) > 1 else wanted  # alone, it needs no name
        except UnknownCluster:
            raise ApiError(422, f"several clusters are configured: name one (\"cluster\": "
                                f"{' or '.join(srv.clusters.names)})") from None
        inv_id = await run_in_threadpool(lambda: srv.store.create_manual(  # type: ignore[union-attr]
            namespace, component, cluster=cluster))
        return _json(202, {"id": inv_id})

    # ------------------------------------------------------------------------------ health, metrics
    @app.get("/healthz")
    async def healthz() -> Response:
        return _json(200, {"status": "ok"})

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        db_ok = False
        try:
            db_ok = srv.store is not None and await run_in_threadpool(srv.store.ping)
        except Exception:
            db_ok = False
        from sre_expert.safety.redact import redact

        authorised = srv.authorised(request, allow_cookie=True)

        def shown(error: str | None) -> str | None:
            if error and not authorised:
                # /readyz is open (probes carry no token): the message names internal addresses and paths
                error = error.split(":", 1)[0] + ": details need the token"
            return redact(error) if error else None

        caches = srv.clusters.caches
        src_ok = srv.source.loaded
        # several clusters: ready once one of them is loaded (a cluster whose API is down must not stop
        # the others' alerts from being received); `source` says whether all are
        ready = db_ok and (src_ok if len(caches) == 1 else any(c.loaded for c in caches.values()))
        body: dict[str, Any] = {"status": "ready" if ready else "not ready", "db": db_ok,
                                "source": all(c.loaded for c in caches.values()),
                                "sourceError": shown(srv.source.last_error)}
        # the names are /api/v1/clusters', behind the token (a context such as an EKS ARN names the account)
        if len(caches) > 1 and authorised:
            body["clusters"] = {name: {"source": c.loaded, "sourceError": shown(c.last_error)}
                                for name, c in caches.items()}
        return _json(200 if ready else 503, body)

    @app.get("/metrics")
    async def metrics() -> Response:
        counts = await run_in_threadpool(srv.store.counts)  # type: ignore[union-attr]
        return PlainTextResponse(srv.metrics.render(counts), media_type=METRICS_CONTENT_TYPE)

    # ------------------------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse)
    async def page_list(request: Request) -> Response:
        status, limit, offset = _paging(request)
        cluster = _cluster_filter(request)

        def load() -> tuple[list[dict[str, Any]], int, list[tuple[str, int]] | None]:
            items, total = srv.store.list(status, limit, offset, cluster=cluster)  # type: ignore[union-attr]
            many = len(srv.clusters.names) > 1
            return items, total, [(r["name"], sum(r["counts"].values())) for r in srv.cluster_rows()] if many else None

        items, total, clusters = await run_in_threadpool(load)
        return _page(pages.render_list(items, total=total, status=status, offset=offset, limit=limit,
                                       cluster=cluster, clusters=clusters))

    @app.get("/investigations/{inv_id}", response_class=HTMLResponse)
    async def page_investigation(inv_id: str) -> Response:
        rec = await run_in_threadpool(lambda: srv.store.get(  # type: ignore[union-attr]
            inv_id, alerts_limit=pages.PAGE_ALERTS))
        if rec is None:
            return _page(pages.render_error(404, f"no investigation {inv_id}"), 404)
        return _page(pages.render_investigation(rec, grafana_url=config.grafana_url))

    @app.get("/login", response_class=HTMLResponse)
    async def login_form() -> Response:
        return _page(pages.render_login(None))

    throttle = LoginThrottle(config.login_attempts, config.login_window)

    @app.post("/login")
    async def login(request: Request) -> Response:
        wait = throttle.attempt(request.client.host if request.client else "?")
        if wait is not None:
            retry = str(math.ceil(wait))
            return HTMLResponse(pages.render_login(f"too many attempts: try again in {retry} s"), status_code=429,
                                headers={**PAGE_HEADERS, "Retry-After": retry})
        body = await read_body(request, 16 * 1024)
        form = parse_qs(body.decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        if config.token is not None and not token_ok(config.token, token):
            return _page(pages.render_login("wrong token"), 401)
        resp = RedirectResponse("/", status_code=303)
        # a new random session id, never the token (cookies end up in profiles, proxies and screenshots)
        resp.set_cookie(COOKIE, srv.sessions.create(), max_age=int(srv.sessions.ttl), httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
        return resp

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        """Ends the session of the cookie (a cross-site post can at worst sign someone out) and clears it."""
        srv.sessions.delete(request.cookies.get(COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
        return resp

    from sre_expert.edges.webhook.agent_routes import (
        router as agent_router,  # the agent's API (pydantic-ai loads only on a question)
    )

    app.include_router(agent_router)
    return app


# Pages hold incident data: no caching, no framing, nothing loaded from elsewhere (a <meta> CSP cannot
# carry frame-ancestors, so the policy travels as a header).
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(body: str, status: int = 200) -> Response:
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _is_html(request: Request) -> bool:
    path = request.url.path
    return path == "/" or path.startswith("/investigations/") or path == "/login"


def _preload(source: SourceCache) -> None:
    try:
        source.get()
    except Exception as e:  # readyz shows it; investigations will fail with the same message
        from sre_expert.safety.redact import redact

        log.error("cannot load the source: %s", redact(f"{type(e).__name__}: {e}"))


def one_line(value: Any, limit: int = 300) -> str:
    """`value` as text that stays on one log line (newlines and other control characters escaped) and at
    most `limit` characters: labels are sender-controlled and must not forge log lines."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_received(payload: dict[str, Any], ids: list[str]) -> None:
    """One INFO line per alert received, from the redacted payload: name, status, where, fingerprint and
    the investigation it joined."""
    inv = ",".join(ids) or "none (resolved, never investigated)"
    for a in payload.get("alerts") or ():
        labels = a.get("labels") or {}
        where = "/".join(str(labels[k]) for k in ("namespace", "pod", "service") if labels.get(k)) or "-"
        log.info("alert received: %s %s %s fingerprint=%s investigation=%s",
                 one_line(labels.get("alertname") or "?"), one_line(a.get("status")), one_line(where),
                 one_line(a.get("fingerprint")), inv)


def log_finished(store: StoreBase | None, inv_id: str, status: str) -> None:
    """One INFO line per investigation diagnosed: its id and summary (stored redacted). A failed one
    already has its ERROR line, with the error, from the worker."""
    if status != "done":
        return
    try:
        rec = store.get(inv_id, with_report=False, alerts_limit=0) if store is not None else None
        summary = str((rec or {}).get("summary") or "")
    except Exception as e:  # the line still says it finished
        summary = f"(record unreadable: {type(e).__name__})"
    log.info("investigation %s done: %s", inv_id, one_line(summary))
