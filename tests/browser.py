"""A small headless Chromium driver for tests, over the Chrome DevTools Protocol (CDP) on a websocket.

Why not a browser-automation library: the project only needs "open this page, tell me everything that went
wrong, read the DOM, take a screenshot", and `websocket-client` is already installed (kubernetes needs it).

    with Chromium() as browser:
        page = browser.new_page()
        page.set_cookie("sre_expert_session", session_id, url)
        page.navigate(url)
        assert not page.problems()
        page.evaluate("document.title")
        page.screenshot(path)

One websocket to the browser; each page is a target attached in flat mode, so its events arrive on the same
socket tagged with its sessionId. Reading is synchronous: a command waits for its reply and buffers the events
that arrive meanwhile. Every wait has a deadline, so a hung browser fails the test instead of hanging it.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import programs
import websocket

CHROMIUM = programs.path("chromium")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"data", "about", "file", "blob", "chrome", "devtools"}
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--no-default-browser-check",
         "--hide-scrollbars", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1")


class BrowserError(RuntimeError):
    pass


def external(url: str) -> bool:
    """True for a request that leaves this machine: any scheme with a host other than loopback."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    return (parts.hostname or "") not in LOOPBACK


@dataclass
class Problems:
    """What went wrong on a page, as lists of one-line descriptions."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(getattr(self, f) for f in self.__dataclass_fields__)

    def lines(self) -> list[str]:
        return [f"{f}: {x}" for f in self.__dataclass_fields__ for x in getattr(self, f)]


class Chromium:
    """A headless Chromium process with a fresh profile; `close()` kills its whole process group."""

    def __init__(self, *, width: int = 1280, height: int = 900, binary: str = CHROMIUM,
                 start_timeout: float = 30.0) -> None:
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise BrowserError(f"{binary} not found: install the Debian package chromium")
        self.width, self.height = width, height
        self.profile = Path(tempfile.mkdtemp(prefix="sre-expert-chromium-"))
        self.log_path = self.profile / "chromium.log"
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        self.ws: websocket.WebSocket | None = None
        self._log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [binary, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            port, path = self._devtools_address(start_timeout)
            self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=start_timeout,
                                                  suppress_origin=True, enable_multithread=False)
        except BaseException:
            self.close()
            raise

    # -- lifecycle

    def _devtools_address(self, timeout: float) -> tuple[int, str]:
        marker = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserError(f"chromium exited with {self.proc.returncode}: {self._tail()}")
            try:
                lines = marker.read_text().split("\n")
                if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].strip():
                    return int(lines[0]), lines[1].strip()
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise BrowserError(f"chromium wrote no DevToolsActivePort in {timeout:.0f}s: {self._tail()}")

    def _tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self) -> None:
        """Ask the browser to quit (it then reaps its own helpers), close the socket, end whatever is left of
        the process group (SIGTERM, then SIGKILL), delete the profile."""
        if self.ws is not None:
            try:
                self.send("Browser.close", timeout=5)
            except Exception:
                pass
            try:
                self.ws.close()
            except Exception:
                pass
            self.ws = None
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if proc is not None:
            try:  # the group may outlive its leader (zygote, renderers)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 30.0) -> dict[str, Any]:
        """Send one command and return its result; events read meanwhile are kept for `wait_event`."""
        assert self.ws is not None, "browser closed"
        msg_id = next(self._ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, f"reply to {method}")
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result") or {}
            if "method" in reply:
                self._keep(reply)

    def _read(self, deadline: float, what: str) -> dict[str, Any]:
        assert self.ws is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise BrowserError(f"timed out waiting for {what}")
        self.ws.settimeout(left)
        try:
            return json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise BrowserError(f"timed out waiting for {what}") from None

    def _keep(self, event: dict[str, Any]) -> None:
        """Buffer an event. A JS dialog (alert, confirm) blocks its page until answered, so it is dismissed at
        once; the event stays buffered and the page reports it as a problem."""
        self._events.append(event)
        if event["method"] == "Page.javascriptDialogOpening":
            self.send("Page.handleJavaScriptDialog", {"accept": False}, session=event.get("sessionId"))

    def wait_event(self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 30.0,
                   what: str = "event") -> dict[str, Any]:
        """The first buffered or incoming event matching `predicate` (removed from the buffer)."""
        for i, ev in enumerate(self._events):
            if predicate(ev):
                return self._events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(deadline, what)
            if "method" not in msg:
                continue
            self._keep(msg)
            if predicate(msg):
                self._events.remove(msg)
                return msg

    def take_events(self, session: str) -> list[dict[str, Any]]:
        """Buffered events of one session, removed from the buffer."""
        mine = [e for e in self._events if e.get("sessionId") == session]
        self._events = [e for e in self._events if e.get("sessionId") != session]
        return mine

    def drain(self, seconds: float = 0.0) -> None:
        """Read whatever arrives for `seconds` (late console messages, failed requests)."""
        assert self.ws is not None
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            self.ws.settimeout(max(left, 0.001))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return
            if "method" in msg:
                self._keep(msg)
            if left <= 0:
                return

    def new_page(self, *, width: int | None = None, height: int | None = None) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        page.enable()
        page.set_viewport(width or self.width, height or self.height)
        return page


class Page:
    """One tab. Events of its session are folded into `problems()` and `console`."""

    def __init__(self, browser: Chromium, target: str, session: str) -> None:
        self.browser, self.target, self.session = browser, target, session
        self.console: list[tuple[str, str]] = []
        self.requests: dict[str, str] = {}  # requestId -> url
        self.responses: list[tuple[str, int, str]] = []  # (url, status, resource type)
        self._problems = Problems()

    def send(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30.0) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def enable(self) -> None:
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.send(f"{domain}.enable")

    def set_viewport(self, width: int, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def color_scheme(self, scheme: str) -> None:
        """Emulate prefers-color-scheme: 'light' or 'dark'."""
        self.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def set_headers(self, headers: dict[str, str]) -> None:
        self.send("Network.setExtraHTTPHeaders", {"headers": headers})

    def set_cookie(self, name: str, value: str, url: str, **extra: Any) -> None:
        ok = self.send("Network.setCookie", {"name": name, "value": value, "url": url, **extra})
        if ok.get("success") is False:
            raise BrowserError(f"cookie {name} refused for {url}")

    def cookies(self, url: str) -> list[dict[str, Any]]:
        return self.send("Network.getCookies", {"urls": [url]})["cookies"]

    def navigate(self, url: str, *, timeout: float = 30.0) -> None:
        """Open `url` and wait for its load event."""
        self._fold()
        result = self.send("Page.navigate", {"url": url}, timeout=timeout)
        if result.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {result['errorText']}")
        self.wait_load(timeout=timeout)

    def wait_load(self, *, timeout: float = 30.0) -> None:
        self.browser.wait_event(lambda e: e.get("sessionId") == self.session and e["method"] == "Page.loadEventFired",
                                timeout=timeout, what="Page.loadEventFired")

    def clear(self) -> None:
        """Forget the problems and responses seen so far (problems() otherwise covers the page's whole life)."""
        self._fold()
        self._problems = Problems()
        self.responses.clear()

    def document_status(self) -> int | None:
        """HTTP status of the last document loaded in this page (after redirects), None before any."""
        self._fold()
        docs = [s for _, s, t in self.responses if t == "Document"]
        return docs[-1] if docs else None

    def evaluate(self, expression: str, *, timeout: float = 30.0) -> Any:
        """The value of a JS expression in the page (JSON-serialisable results only)."""
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                        timeout=timeout)
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise BrowserError(f"evaluate failed: {d.get('exception', {}).get('description') or d.get('text')}")
        return res.get("result", {}).get("value")

    def count(self, selector: str) -> int:
        return int(self.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))

    def text(self, selector: str = "body") -> str:
        return str(self.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''"))

    def title(self) -> str:
        return str(self.evaluate("document.title"))

    def screenshot(self, path: Path, *, full_page: bool = True, max_height: int = 8000) -> Path:
        """A PNG of the page (the whole scrollable height, capped) written to `path`."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], max_height),
                              "scale": 1}
        data = base64.b64decode(self.send("Page.captureScreenshot", params, timeout=60)["data"])
        path.write_bytes(data)
        return path

    def problems(self, *, settle: float = 0.2, allow_status: Callable[[str, int], bool] | None = None) -> Problems:
        """Everything that went wrong since the page was opened: console errors, uncaught exceptions, error
        log entries (CSP violations, blocked loads), failed requests, HTTP errors (unless `allow_status`
        accepts them), requests to a host other than loopback, and JS dialogs (alert/confirm) opened."""
        self.browser.drain(settle)
        self._fold()
        p = self._problems
        allowed = allow_status or (lambda url, status: False)
        p.http_errors = [f"{s} {u}" for u, s, _ in self.responses if s >= 400 and not allowed(u, s)]
        return p

    def _fold(self) -> None:
        for ev in self.browser.take_events(self.session):
            m, params = ev["method"], ev.get("params") or {}
            if m == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                self.console.append((params.get("type", ""), text))
                if params.get("type") in ("error", "assert"):
                    self._problems.console_errors.append(text)
            elif m == "Runtime.exceptionThrown":
                d = params.get("exceptionDetails") or {}
                self._problems.exceptions.append(str(d.get("exception", {}).get("description") or d.get("text")))
            elif m == "Log.entryAdded":
                entry = params.get("entry") or {}
                if entry.get("level") == "error":
                    self._problems.log_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
            elif m == "Network.requestWillBeSent":
                url = params.get("request", {}).get("url", "")
                self.requests[params.get("requestId", "")] = url
                if external(url):
                    self._problems.external_requests.append(url)
            elif m == "Network.responseReceived":
                r = params.get("response") or {}
                self.responses.append((r.get("url", ""), int(r.get("status", 0)), params.get("type", "")))
            elif m == "Page.javascriptDialogOpening":
                self._problems.dialogs.append(f"{params.get('type')}: {params.get('message')}")
            elif m == "Network.loadingFailed":
                if params.get("canceled") and params.get("type") == "Document":
                    continue  # a navigation replaced by the next one (form post, refresh)
                url = self.requests.get(params.get("requestId", ""), "?")
                why = params.get("blockedReason") or params.get("errorText")
                self._problems.failed_requests.append(f"{url}: {why}")
