"""HTTP front of BundleAPI: a ThreadingHTTPServer on loopback, in a background thread.

The standard library is enough: kubectl issues a few dozen small requests per command and a local
bundle answers each from memory, so an async framework would add a dependency and no speed.
HTTP/1.1 keep-alive matters more (kubectl reuses its connection): every answer has a Content-Length.
"""

from __future__ import annotations

import socket
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sre_expert.core.snapshot import Snapshot
from sre_expert.edges.apiserver.api import BundleAPI, Response, json_response
from sre_expert.edges.apiserver.status import status

MAX_BODY = 1 << 20
MAX_LOG = 10_000          # requests the handle remembers: a long `bundle serve` must not grow without end
SOCKET_TIMEOUT = 60.0     # a client that stops sending mid-request (or idles on keep-alive) frees its thread
RequestLogFn = Callable[[str, str, int], None]
Entry = tuple[str, str, int]


class RequestLog:
    """The newest `limit` requests, indexed by their position since the server started.

    len() counts every request ever answered, so `n = len(log); ...; log[n:]` gives what came after,
    as with a list; entries older than the newest `limit` are forgotten (a slice simply omits them)."""

    def __init__(self, limit: int = MAX_LOG):
        self._items: deque[Entry] = deque(maxlen=limit)
        self._total = 0
        self._lock = threading.Lock()

    def append(self, entry: Entry) -> None:
        with self._lock:
            self._items.append(entry)
            self._total += 1

    def __len__(self) -> int:
        return self._total

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            return iter(list(self._items))

    def __getitem__(self, index: slice) -> list[Entry]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("RequestLog supports slices [start:stop] only")
        with self._lock:
            first = self._total - len(self._items)  # position of the oldest kept entry
            start, stop, _ = index.indices(self._total)
            return list(self._items)[max(start - first, 0): max(stop - first, 0)]

    def __delitem__(self, index: slice) -> None:
        """`del log[n:]`, as on a list: later positions move down by the number of entries removed."""
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("RequestLog supports slices [start:stop] only")
        with self._lock:
            first = self._total - len(self._items)
            start, stop, _ = index.indices(self._total)
            if stop <= start:
                return
            kept = list(self._items)
            del kept[max(start - first, 0): max(stop - first, 0)]
            self._items = deque(kept, maxlen=self._items.maxlen)
            self._total -= stop - start


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sre-expert-bundle"
    # Headers and body go out in separate writes; without TCP_NODELAY every keep-alive answer waits for
    # the client's delayed ACK (40 ms per request on Linux, measured).
    disable_nagle_algorithm = True
    timeout = SOCKET_TIMEOUT
    api: BundleAPI
    on_request: RequestLogFn

    def _dispatch(self) -> None:
        method = self.command
        target = self.path
        path, _, query = target.partition("?")
        body = b""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # the body is not read: the connection cannot carry another request
        if length < 0:
            resp = json_response(400, status(400, "invalid Content-Length"))
            self.close_connection = True
        elif length > MAX_BODY:
            resp = json_response(413, status(413, "request body too large", reason="RequestEntityTooLarge"))
            self.close_connection = True
        else:
            if length:
                body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                resp = self.api.handle(method, path, query, headers, body)
            except Exception as e:  # a bug must answer as a server would, not drop the connection
                traceback.print_exc(file=sys.stderr)
                resp = json_response(500, status(500, f"Internal error occurred: {type(e).__name__}: {e}"))
        # Record before answering: a client that exits on the response must find its request in the log.
        self.on_request(method, target, resp.code)
        self._send(resp, head=method == "HEAD")

    def _send(self, resp: Response, head: bool = False) -> None:
        self.send_response(resp.code)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Cache-Control", "no-cache, private")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(resp.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        return  # requests are reported through on_request, once, with their status


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@dataclass
class ServerHandle:
    """A running server. `request_log` holds (method, path with query, status) of the newest answered requests
    (see RequestLog)."""

    url: str
    host: str
    port: int
    api: BundleAPI
    request_log: RequestLog = field(default_factory=RequestLog)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Block until close() or KeyboardInterrupt (the CLI's foreground mode)."""
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_server(snap_or_path: Snapshot | str | Path, host: str = "127.0.0.1", port: int = 0,
                 on_request: RequestLogFn | None = None, *,
                 api_type: Callable[[Snapshot, list[Any] | None], BundleAPI] = BundleAPI,
                 handler_type: type[RequestHandler] = RequestHandler) -> ServerHandle:
    """Serve a Snapshot (or a bundle path, loaded once) read-only; returns once the socket listens.

    api_type and handler_type build the API and the HTTP handler (subclasses may answer differently, e.g. a test
    imitating an unhealthy API server). Raises OSError when the address cannot be bound.
    """
    if isinstance(snap_or_path, Snapshot):
        snap = snap_or_path
    else:
        from sre_expert.sources.bundle_reader import load_bundle

        snap = load_bundle(snap_or_path)
    discovery = None
    if snap.info.source == "bundle" and snap.info.location:
        from sre_expert.edges.apiserver.captured import read_discovery

        discovery = read_discovery(snap.info.location)
    api = api_type(snap, discovery)
    log = RequestLog()

    def record(method: str, path: str, code: int) -> None:
        log.append((method, path, code))
        if on_request is not None:
            on_request(method, path, code)

    handler = type("BundleHandler", (handler_type,), {"api": api, "on_request": staticmethod(record)})
    server_cls = _Server6 if ":" in host else ThreadingHTTPServer
    server = server_cls((host, port), handler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    host_text = str(bound_host)  # an IPv4 or IPv6 address: always str for these families
    url_host = f"[{host_text}]" if ":" in host_text else host_text
    api.server_address = f"{url_host}:{bound_port}"
    thread = threading.Thread(target=server.serve_forever, name=f"bundle-api:{bound_port}", daemon=True)
    thread.start()
    return ServerHandle(url=f"http://{url_host}:{bound_port}", host=str(bound_host), port=int(bound_port), api=api,
                        request_log=log, _server=server, _thread=thread)
