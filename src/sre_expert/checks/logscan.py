"""Reading container logs for diagnosis: the telling lines, and the Services a failing app cannot reach.

Not a check (registers nothing): helpers the pod and workload checks call for the few unhealthy
containers whose log is worth reading. Only the tail of a log is scanned, so a huge log costs little.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sre_expert.core.selectors import matches_map
from sre_expert.core.wording import shorten

if TYPE_CHECKING:
    from sre_expert.core.snapshot import Snapshot

TAIL_BYTES = 64 * 1024
MAX_LINES = 5
LINE_WIDTH = 240

# A line worth showing: what an operator would grep a crash log for.
TELLING = re.compile(
    r"error|fatal|panic|exception|refused|traceback|failed|failure|denied|unable|cannot|can't|could not|"
    r"couldn't|timed out|timeout|no such host|enotfound|econnrefused|eai_again|unreachable|killed|"
    r"out of memory|oom|segmentation|invalid|missing|not found|exit",
    re.IGNORECASE,
)
# A line that says a connection to another host failed (DNS or TCP).
CONNECT_ERROR = re.compile(
    r"connection refused|econnrefused|no such host|enotfound|eai_again|getaddrinfo|could not translate host name|"
    r"name or service not known|temporary failure in name resolution|nodename nor servname|i/o timeout|"
    r"etimedout|ehostunreach|no route to host|network is unreachable|connection timed out|connect timed out|"
    r"failed to connect|could not connect|unable to connect|cannot connect|can't connect|connection reset|"
    r"server ?selection ?(?:error|timeout|timed out)|mongonetworkerror|connect: |dial tcp|unknown host|"
    r"unknownhostexception|connectexception|host is unreachable|is the server running",
    re.IGNORECASE,
)
# re's IGNORECASE walks these long alternations ten times slower than a case-sensitive search, and a sweep
# scans every line of every unhealthy container's log tail. On an ASCII line, case-insensitive matching of
# these all-lowercase, escape-free patterns is exactly a plain match on the lowercased line.
_TELLING_LOWER = re.compile(TELLING.pattern)
_CONNECT_ERROR_LOWER = re.compile(CONNECT_ERROR.pattern)


def _telling(line: str) -> bool:
    """TELLING.search(line), fast on ASCII lines (see above)."""
    if line.isascii():
        return _TELLING_LOWER.search(line.lower()) is not None
    return TELLING.search(line) is not None


def _connect_error(line: str) -> bool:
    """CONNECT_ERROR.search(line), fast on ASCII lines (see above)."""
    if line.isascii():
        return _CONNECT_ERROR_LOWER.search(line.lower()) is not None
    return CONNECT_ERROR.search(line) is not None


# Go resolver errors name the DNS server too ("lookup redis on 10.96.0.10:53: no such host"): drop it.
_DNS_SERVER = re.compile(r"\bon \[?[0-9a-fA-F.:]+\]?:53\b")
_HOST_PATTERNS = (
    re.compile(r"\blookup ([A-Za-z0-9][A-Za-z0-9.-]*)", re.IGNORECASE),
    re.compile(r"\b(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH)\s+([A-Za-z0-9][A-Za-z0-9.-]*)"),
    re.compile(r"(?:host name|server at|host|hostname|server)\s+\"([A-Za-z0-9][A-Za-z0-9.-]*)\"", re.IGNORECASE),
    re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^@/\s\"']+@)?([A-Za-z0-9][A-Za-z0-9.-]*)", re.IGNORECASE),
    re.compile(r"(?<![\w.@/-])([A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})\b"),
    re.compile(r"\b(?:UnknownHostException|unknown host):?\s+([A-Za-z0-9][A-Za-z0-9.-]*)", re.IGNORECASE),
    re.compile(r"\bhost=([A-Za-z0-9][A-Za-z0-9.-]*)", re.IGNORECASE),
    # busybox/netcat and many clients: "postgresql (10.96.1.2:5432): Connection refused"
    re.compile(r"\b([A-Za-z][A-Za-z0-9.-]*) \(\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\)"),
)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_SKIP_HOSTS = {"localhost", "tcp", "udp", "http", "https", "dial", "lookup", "read", "write", "connect", "error",
               "get", "post", "put", "127.0.0.1", "0.0.0.0"}


def tail(text: str, limit: int = TAIL_BYTES) -> list[str]:
    """Last lines of a log, at most `limit` characters of it (the first partial line dropped)."""
    if len(text) > limit:
        text = text[-limit:]
        nl = text.find("\n")
        text = text[nl + 1 :] if nl >= 0 else text
    return [ln.rstrip() for ln in text.splitlines() if ln.strip()]


def clip_log_line(line: str, width: int = LINE_WIDTH) -> str:
    """A log line stripped and cut at a word boundary before `width` (inner spacing kept: logs align columns)."""
    return shorten(line.strip(), width)


def telling_lines(lines: list[str], limit: int = MAX_LINES, fallback: bool = True) -> list[str]:
    """The last few error/fatal/panic/exception/refused lines; with `fallback`, the last lines when none
    match (a crashed process's last words), else nothing (a running process's routine output)."""
    hits = [ln for ln in lines if _telling(ln)]
    picked = hits[-limit:] if hits else (lines[-min(limit, 3):] if fallback else [])
    out: list[str] = []
    for ln in picked:
        c = clip_log_line(ln)
        if c not in out:
            out.append(c)
    return out


def hosts_in(line: str) -> list[str]:
    """Host names and IPs a connection-error line names, most specific pattern first."""
    line = _DNS_SERVER.sub("", line)
    out: list[str] = []
    for pat in _HOST_PATTERNS:
        for m in pat.finditer(line):
            h = m.group(1).strip(".").lower()
            if h and h not in out and h not in _SKIP_HOSTS and not h.isdigit():
                out.append(h)
    return out


class ServiceResolver:
    """Maps a host name or IP from a log line to a Service of the snapshot (cluster DNS rules)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self._by_ip: dict[str, dict[str, Any]] | None = None

    def _ips(self) -> dict[str, dict[str, Any]]:
        if self._by_ip is None:
            m: dict[str, dict[str, Any]] = {}
            for svc in self.snap.list("Service"):
                spec = svc.get("spec") or {}
                for ip in [spec.get("clusterIP"), *(spec.get("clusterIPs") or ())]:
                    if ip and ip != "None":
                        m.setdefault(ip, svc)
            self._by_ip = m
        return self._by_ip

    def resolve(self, host: str, namespace: str) -> dict[str, Any] | None:
        if _IPV4.match(host):
            return self._ips().get(host)
        parts = host.lower().rstrip(".").split(".")
        get = self.snap.get
        if "svc" in parts:
            i = parts.index("svc")
            if i >= 2:
                return get("Service", parts[i - 1], parts[i - 2])
            return None
        if len(parts) == 1:
            return get("Service", namespace, parts[0])
        if len(parts) == 2:  # service.namespace, or pod.headless-service in the same namespace
            return get("Service", parts[1], parts[0]) or get("Service", namespace, parts[1])
        if len(parts) == 3:  # pod.service.namespace
            return get("Service", parts[2], parts[1])
        return None


def service_links(
    lines: list[str], namespace: str, resolver: ServiceResolver, pod: dict[str, Any] | None = None,
    limit: int = 3,
) -> list[tuple[dict[str, Any], str, str]]:
    """(Service, host as logged, log line) for each Service a connection-error line names; the pod's own Services
    (those selecting it) are left out, as an app refusing itself explains nothing."""
    own_labels = ((pod or {}).get("metadata") or {}).get("labels")
    found: dict[tuple[str, str], tuple[dict[str, Any], str, str]] = {}
    for ln in reversed(lines):  # newest first
        if not _connect_error(ln):
            continue
        for h in hosts_in(ln):
            svc = resolver.resolve(h, namespace)
            if svc is None:
                continue
            md = svc["metadata"]
            k = (md.get("namespace") or "", md["name"])
            if k in found:
                continue
            if own_labels and md.get("namespace") == namespace and matches_map(
                (svc.get("spec") or {}).get("selector"), own_labels
            ):
                continue
            found[k] = (svc, h, clip_log_line(ln, 200))
        if len(found) >= limit:
            break
    return list(found.values())


def unresolved_hosts(lines: list[str]) -> list[tuple[str, str]]:
    """(host, line) for DNS failures ('no such host', ENOTFOUND): names that do not resolve at all."""
    out: list[tuple[str, str]] = []
    for ln in reversed(lines):
        low = ln.lower()
        if "no such host" in low or "enotfound" in low or "could not translate host name" in low or (
            "name or service not known" in low
        ) or "unknownhostexception" in low:
            for h in hosts_in(ln)[:1]:
                if all(h != x for x, _ in out):
                    out.append((h, clip_log_line(ln)))
        if len(out) >= 3:
            break
    return out


LogFn = Callable[[str, str, str, bool], "str | None"]


def read_lines(snap: Snapshot, namespace: str, pod: str, container: str, previous: bool) -> tuple[list[str], bool]:
    """Tail lines of a container's log; falls back to the current log when no previous one was kept.

    Returns (lines, previous_used)."""
    text = snap.logs(namespace, pod, container, previous)
    if text is None and previous:
        text = snap.logs(namespace, pod, container, False)
        previous = False
    if not text:
        return [], previous
    return tail(text), previous


# --- what a crashed process's last words say about why it died -----------------------------------------

# A Go program that panics prints "panic: <value>" then a "goroutine N [running]:" traceback and exits 2;
# a runtime fatal error ("fatal error: concurrent map writes") prints the same traceback. A timestamp
# prefix (kubectl logs --timestamps, a log shipper) may precede either line.
_GO_PANIC = re.compile(r"^(?:\S+\s+)?(?:panic: |fatal error: )")
_GO_TRACE = re.compile(r"^(?:\S+\s+)?goroutine \d+ \[running\]:?\s*$")
# MongoDB's WiredTiger storage engine refusing its own data files: a panic, a read it cannot complete,
# or the fatal assertion mongod raises after either (its source path names wiredtiger).
_WT_PANIC = re.compile(r"WT_PANIC|WiredTiger library panic|Unable to read from the WiredTiger|"
                       r"WT_ERROR: non-specific WiredTiger error|WiredTiger error.*(?:checksum|corrupt)",
                       re.IGNORECASE)
_FATAL_ASSERTION = re.compile(r"Fatal [Aa]ssertion")


def _around(line: str, pattern: re.Pattern[str], width: int = LINE_WIDTH) -> str:
    """`line` clipped to `width` so that what `pattern` matched stays in view (mongod's JSON lines put the
    telling words at the end of a long line)."""
    line = line.strip()
    m = pattern.search(line)
    if len(line) <= width or m is None or m.end() <= width - 1:
        return clip_log_line(line, width)
    start = max(0, min(m.start() - width // 3, len(line) - (width - 1)))
    return clip_log_line("…" + line[start:], width)


@dataclass(frozen=True, slots=True)
class LogCause:
    """A cause read from a log: `kind` is "go-panic" or "storage-corruption"; `lines` quote the proof."""

    kind: str
    summary: str
    lines: tuple[str, ...]


def crash_cause(lines: list[str]) -> LogCause | None:
    """Why the process died, when its log says so unambiguously: storage corruption first (the process that
    reports it may also panic), then a Go panic. None when the log names no such cause. A storage engine
    that fails because the disk is full is not corruption: the full volume is the cause (see pods.py)."""
    wt = [ln for ln in lines if _WT_PANIC.search(ln)]
    fatal = [ln for ln in lines if _FATAL_ASSERTION.search(ln)]
    full = any("no space left on device" in ln.lower() for ln in lines)
    if not full and (wt or (fatal and any("wiredtiger" in ln.lower() for ln in lines))):
        proof = tuple(dict.fromkeys([_around(ln, _WT_PANIC) for ln in wt[-2:]]
                                    + [_around(ln, _FATAL_ASSERTION) for ln in fatal[-1:]]))
        return LogCause("storage-corruption", "MongoDB's WiredTiger storage engine cannot read its data files",
                        proof)
    panic = next((ln for ln in lines if _GO_PANIC.search(ln)), None)
    trace = next((ln for ln in lines if _GO_TRACE.search(ln)), None)
    # Without the traceback only a bare "panic: " at the start of a line counts: an application may well
    # log "fatal error: …" or "… panic: …" itself.
    if trace is None and not (panic is not None and panic.startswith("panic: ")):
        return None
    return LogCause("go-panic", "the Go program panicked",
                    tuple(dict.fromkeys(clip_log_line(ln) for ln in (panic, trace) if ln)))
