"""Plausible container log text for healthy components and for the failures faults inject.

Each flavour imitates the real program's format (Node.js JSON, MongoDB structured JSON, Go klog,
logfmt...) because log-reading checks match on those shapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta

from synth.meta import number


def _t(dt: datetime, ms: bool = True) -> str:
    return (
        dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
        if ms
        else dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _klog(dt: datetime, level: str, src: str, msg: str) -> str:
    return f"{level}{dt.strftime('%m%d %H:%M:%S.%f')}       1 {src}] {msg}"


def _mongo(dt: datetime, c: str, id_: int, ctx: str, msg: str, attr: dict | None = None) -> str:
    d = {
        "t": {"$date": dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+00:00"},
        "s": "I",
        "c": c,
        "id": id_,
        "ctx": ctx,
        "msg": msg,
    }
    if attr:
        d["attr"] = attr
    return json.dumps(d, separators=(",", ":"))


def _api(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
    def j(dt: datetime, level: int, msg: str, **kw: object) -> str:
        return json.dumps(
            {"level": level, "time": int(dt.timestamp() * 1000), "pid": 1, "hostname": key, "msg": msg, **kw},
            separators=(",", ":"),
        )

    lines = [
        j(start, 30, "Loading configuration", env=ns.split("-")[-1]),
        j(start + timedelta(milliseconds=420), 30, "Connected to database", db="mongodb"),
        j(start + timedelta(milliseconds=610), 30, "Server listening at http://0.0.0.0:8080"),
    ]
    for i in range(5):
        dt = now - timedelta(seconds=(5 - i) * 37 + number("api", key, i, hi=20))
        if dt <= start:
            continue
        path = ["/health", "/api/v1/patients", "/api/v1/appointments", "/health", "/api/v1/auth/session"][i]
        lines.append(
            j(
                dt,
                30,
                "request completed",
                req={"method": "GET", "url": path},
                res={"statusCode": 200},
                responseTime=round(2 + number("rt", key, i, hi=180) / 10, 1),
            )
        )
    return lines


def _mongodb(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
    return [
        (
            f" \x1b[38;5;6mmongodb \x1b[38;5;5m{start.strftime('%H:%M:%S.%f')[:12]} \x1b[0m\x1b[38;5;2mINFO \x1b[0m ==> "
            "** Starting MongoDB setup **"
        ),
        _mongo(
            start + timedelta(seconds=2),
            "CONTROL",
            23285,
            "main",
            "Automatically disabling TLS 1.0, to force-enable TLS 1.0 specify --sslDisabledProtocols 'none'",
        ),
        _mongo(
            start + timedelta(seconds=3),
            "NETWORK",
            23016,
            "listener",
            "Waiting for connections",
            {"port": 27017, "ssl": "off"},
        ),
        _mongo(
            now - timedelta(seconds=61),
            "NETWORK",
            22943,
            "listener",
            "Connection accepted",
            {"remote": "10.244.2.14:51234", "connectionCount": 12},
        ),
        _mongo(
            now - timedelta(seconds=12),
            "WTCHKPT",
            22430,
            "Checkpointer",
            "WiredTiger message",
            {
                "message": {
                    "ts_sec": int(now.timestamp()) - 12,
                    "category": "WT_VERB_CHECKPOINT_PROGRESS",
                    "verbose_level": "DEBUG_1",
                    "msg": "saving checkpoint snapshot min: 812",
                }
            },
        ),
    ]


def _postgres(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
    f = "%Y-%m-%d %H:%M:%S.%f"
    return [
        f"{start.strftime(f)[:-3]} GMT [1] LOG:  starting PostgreSQL 16.4 on x86_64-pc-linux-gnu",
        f'{start.strftime(f)[:-3]} GMT [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
        f"{(start + timedelta(seconds=1)).strftime(f)[:-3]} GMT [1] LOG:  database system is ready to accept connections",
        f"{(now - timedelta(minutes=4)).strftime(f)[:-3]} GMT [64] LOG:  checkpoint complete: wrote 42 buffers (0.3%)",
    ]


def _timeline(
    messages: list[str], start: datetime, now: datetime, step: int, offset: int = 0
) -> Iterator[tuple[int, datetime, str]]:
    """(index, time, message): the first two just after start-up, the rest `step` seconds apart up to now."""
    for i, msg in enumerate(messages):
        if i < 2:
            yield i, start + timedelta(seconds=offset + i), msg
        else:
            yield i, now - timedelta(seconds=(len(messages) - i) * step), msg


def _klog_component(name: str, messages: list[str]):
    def gen(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
        out = [_klog(start, "I", "main.go:74", f"starting {name}")]
        for i, dt, msg in _timeline(messages, start, now, 45, offset=1):
            out.append(_klog(dt, "I", f"{name.split('-')[0]}.go:{100 + 17 * i}", msg))
        return out

    return gen


def _logfmt(component: str, messages: list[str]):
    def gen(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
        out = []
        for i, dt, msg in _timeline(messages, start, now, 53):
            out.append(
                f'time="{_t(dt, False)}" level=info msg="{msg}" logSource="pkg/{component}.go:{60 + i}"'
            )
        return out

    return gen


def _json_ctrl(logger: str, messages: list[str]):
    def gen(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
        out = []
        for _i, dt, msg in _timeline(messages, start, now, 41):
            out.append(
                json.dumps(
                    {"level": "info", "ts": round(dt.timestamp(), 6), "logger": logger, "msg": msg},
                    separators=(",", ":"),
                )
            )
        return out

    return gen


def _envoy(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
    lines = [
        (
            f"[{start.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}][1][info][main] [source/server/server.cc:432] "
            "initializing epoch 0 (base id=0, hot restart version=11.104)"
        ),
        (
            f"[{(start + timedelta(seconds=1)).strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}][1][info][upstream] "
            "[source/common/upstream/cluster_manager_impl.cc:222] cm init: all clusters initialized"
        ),
    ]
    for i, host in enumerate(["api.mycureapp.com", "app.localfirsthealth.com", "grafana.mycureapp.com"]):
        dt = now - timedelta(seconds=30 * (3 - i))
        lines.append(
            json.dumps(
                {
                    "start_time": _t(dt),
                    "method": "GET",
                    "x-envoy-origin-path": "/health",
                    "protocol": "HTTP/2",
                    "response_code": 200,
                    "response_flags": "-",
                    "bytes_received": 0,
                    "bytes_sent": 15,
                    "duration": 3 + i,
                    ":authority": host,
                    "upstream_host": f"10.244.{1 + i}.{20 + i}:8080",
                },
                separators=(",", ":"),
            )
        )
    return lines


def _generic(start: datetime, now: datetime, key: str, ns: str) -> list[str]:
    return [
        f"{_t(start)} INFO starting",
        f"{_t(start + timedelta(seconds=1))} INFO ready",
        f"{_t(now - timedelta(seconds=30))} INFO healthy",
    ]


FLAVORS = {
    "api": _api,
    "mongodb": _mongodb,
    "postgresql": _postgres,
    "envoy": _envoy,
    "envoy-gateway": _json_ctrl(
        "gateway-api",
        [
            "Starting Envoy Gateway",
            "Starting controller",
            "reconciling gateways",
            "successfully processed gateway",
            "received an update",
        ],
    ),
    "cert-manager": _klog_component(
        "cert-manager",
        [
            "starting controller",
            "acquired lease kube-system/cert-manager-controller",
            "certificate is up to date",
            "certificate does not need renewal",
        ],
    ),
    "external-secrets": _json_ctrl(
        "controllers.ExternalSecret",
        ["Starting EventSource", "Starting workers", "reconciled secret", "reconciled secret"],
    ),
    "velero": _logfmt(
        "controller/backup_storage_location_controller",
        [
            "Starting Velero server v1.15.2",
            "Checking existence of namespace.",
            "Validating BackupStorageLocation",
            "BackupStorageLocations is valid, marking as available",
        ],
    ),
    "prometheus": _logfmt(
        "prometheus",
        [
            "Starting Prometheus Server",
            "TSDB started",
            "Server is ready to receive web requests.",
            "Completed loading of configuration file",
        ],
    ),
    "kyverno": _json_ctrl(
        "setup",
        [
            "setup controllers...",
            "starting controller",
            "webhook configuration is up to date",
            "policy cache synced",
        ],
    ),
    "falco": _generic,
    "argocd": _logfmt(
        "controller/appcontroller",
        ["Starting", "Processing all cluster shards", "Reconciliation completed", "Update successful"],
    ),
    "coredns": lambda s, n, k, ns: [
        ".:53",
        "[INFO] plugin/reload: Running configuration SHA512 = "
        "591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908",
        "CoreDNS-1.11.3",
        "linux/amd64, go1.21.11, a6338e9",
    ],
    "generic": _generic,
}

IMAGE_FLAVORS = [
    ("monobaselabs", "api"),
    ("mongodb", "mongodb"),
    ("postgresql", "postgresql"),
    ("envoyproxy/envoy", "envoy"),
    ("envoyproxy/gateway", "envoy-gateway"),
    ("jetstack/cert-manager", "cert-manager"),
    ("external-secrets", "external-secrets"),
    ("velero/velero", "velero"),
    ("prometheus", "prometheus"),
    ("kyverno", "kyverno"),
    ("falco", "falco"),
    ("argocd", "argocd"),
    ("coredns", "coredns"),
]


def flavor_for(image: str) -> str:
    for needle, flavor in IMAGE_FLAVORS:
        if needle in image:
            return flavor
    return "generic"


def healthy_log(
    image: str, start: datetime, now: datetime, key: str, namespace: str, flavor: str | None = None
) -> str:
    gen = FLAVORS.get(flavor or flavor_for(image), _generic)
    return "\n".join(gen(start, now, key, namespace)) + "\n"


def crash_log(image: str, start: datetime, kind: str = "error", detail: str | None = None) -> str:
    """Last words of a container that exited: what `kubectl logs --previous` shows.

    Default for the API is a self-contained startup bug (uncaught TypeError); pass `detail`
    (e.g. "MongoServerSelectionError: connect ECONNREFUSED 10.96.1.2:27017") to blame a dependency."""
    flavor = flavor_for(image)
    if flavor == "api":

        def j(dt: datetime, level: int, msg: str, **kw: object) -> str:
            return json.dumps(
                {"level": level, "time": int(dt.timestamp() * 1000), "pid": 1, "msg": msg, **kw},
                separators=(",", ":"),
            )

        if kind == "oom":
            return (
                "\n".join(
                    [
                        j(start, 30, "Server listening at http://0.0.0.0:8080"),
                        j(start + timedelta(seconds=40), 40, "memory usage high", heapUsedMB=1890),
                        "",
                        "<--- Last few GCs --->",
                        "",
                        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                    ]
                )
                + "\n"
            )
        if detail:
            return (
                "\n".join(
                    [
                        j(start, 30, "Loading configuration"),
                        j(
                            start + timedelta(milliseconds=900),
                            60,
                            detail,
                            err={"type": detail.split(":")[0], "message": detail},
                        ),
                        j(start + timedelta(milliseconds=905), 60, "Application failed to start, exiting"),
                    ]
                )
                + "\n"
            )
        return (
            "\n".join(
                [
                    j(start, 30, "Loading configuration"),
                    "/app/dist/config/index.js:42",
                    "    const [host, port] = process.env.CACHE_URL.split(':');",
                    "                                               ^",
                    "",
                    "TypeError: Cannot read properties of undefined (reading 'split')",
                    "    at Object.<anonymous> (/app/dist/config/index.js:42:48)",
                    "    at Module._compile (node:internal/modules/cjs/loader:1554:14)",
                    "    at Object..js (node:internal/modules/cjs/loader:1706:10)",
                    "    at Module.load (node:internal/modules/cjs/loader:1289:32)",
                    "    at Function._load (node:internal/modules/cjs/loader:1108:12)",
                    "    at Module.require (node:internal/modules/cjs/loader:1311:12)",
                    "    at require (node:internal/modules/helpers:136:16)",
                    "    at Object.<anonymous> (/app/dist/server.js:7:16)",
                    "",
                    "Node.js v20.18.1",
                ]
            )
            + "\n"
        )
    if flavor == "mongodb":
        return (
            "\n".join(
                [
                    _mongo(start, "CONTROL", 20698, "main", "***** SERVER RESTARTED *****"),
                    _mongo(
                        start + timedelta(seconds=1),
                        "STORAGE",
                        22316,
                        "initandlisten",
                        detail or "Failed to open WiredTiger; WT_PANIC: WiredTiger library panic",
                    ),
                    _mongo(
                        start + timedelta(seconds=1),
                        "CONTROL",
                        23139,
                        "initandlisten",
                        "Fatal assertion",
                        {
                            "msgid": 28595,
                            "file": "src/mongo/db/storage/wiredtiger/wiredtiger_kv_engine.cpp",
                            "line": 702,
                        },
                    ),
                ]
            )
            + "\n"
        )
    return f"{_t(start)} INFO starting\n{_t(start + timedelta(seconds=2))} FATAL {detail or 'unrecoverable error, exiting'}\n"


def probe_log(image: str, start: datetime, now: datetime, status_code: int = 503) -> str:
    """What the app logs while its health endpoint answers non-2xx (dependency down)."""
    lines = []
    step = max(10, int((now - start).total_seconds() // 6))
    for i in range(6):
        dt = start + timedelta(seconds=i * step)
        if flavor_for(image) == "api":
            lines.append(
                json.dumps(
                    {
                        "level": 50,
                        "time": int(dt.timestamp() * 1000),
                        "pid": 1,
                        "msg": "health check failed: database ping timed out after 2000ms",
                        "req": {"method": "GET", "url": "/health"},
                        "res": {"statusCode": status_code},
                    },
                    separators=(",", ":"),
                )
            )
        else:
            lines.append(
                f"{_t(dt)} WARN readiness check failed: dependency unavailable (status {status_code})"
            )
    return "\n".join(lines) + "\n"
