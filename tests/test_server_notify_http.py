"""notify.post_json against a real local HTTP receiver: what is sent, what a refusal, a redirect and an
unreachable receiver become in the notification's error text (never the URL)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from sre_expert.edges.webhook.notify import SendRefused, _error_text, post_json, without_url

pytestmark = pytest.mark.unit

SECRET_PATH = "/services/T0123/B0456/xoxb-secret-path-0123456789"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[str, str, dict[str, str], bytes]]] = []
    answer: ClassVar[int] = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.got.append(("POST", self.path, dict(self.headers), body))
        self._reply()

    def do_GET(self) -> None:
        self.got.append(("GET", self.path, dict(self.headers), b""))
        self._reply(200)

    def _reply(self, code: int | None = None) -> None:
        code = code or self.answer
        self.send_response(code)
        if code in (301, 302, 303, 307, 308):
            self.send_header("Location", "/elsewhere")
        payload = b"x" * 200_000 if code == 200 else b"no"
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:  # the client stopped reading at its limit
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.got = []
    _Receiver.answer = 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_posts_json_with_the_idempotency_key(receiver: str) -> None:
    post_json(receiver + SECRET_PATH, {"text": "root cause"}, {"Idempotency-Key": "n-42"}, timeout=5)
    ((method, path, headers, body),) = _Receiver.got
    assert (method, path, json.loads(body)) == ("POST", SECRET_PATH, {"text": "root cause"})
    assert headers["Idempotency-Key"] == "n-42" and headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "sre-expert"


@pytest.mark.parametrize("code, text", [(500, "HTTP 500 Internal Server Error"), (404, "HTTP 404 Not Found"),
                                        (302, "HTTP 302 Found"), (307, "HTTP 307 Temporary Redirect")])
def test_a_refusal_or_a_redirect_fails_the_send(receiver: str, code: int, text: str) -> None:
    """A redirect is not followed (the message would reach another address, as a GET without its body)."""
    _Receiver.answer = code
    with pytest.raises(SendRefused) as e:
        post_json(receiver + SECRET_PATH, {"text": "x"}, timeout=5)
    assert e.value.status == code and _error_text(e.value) == text
    assert [m for m, *_ in _Receiver.got] == ["POST"]


def test_unreachable_and_unusable_urls_say_why_without_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused
        url = f"http://127.0.0.1:{port}{SECRET_PATH}"
        with pytest.raises(Exception) as e:
            post_json(url, {"text": "x"}, timeout=5)
    assert without_url(_error_text(e.value), url) == "unreachable: Connection refused"
    bad = "hooks.example.org" + SECRET_PATH
    with pytest.raises(Exception) as e:
        post_json(bad, {"text": "x"}, timeout=5)
    text = without_url(_error_text(e.value), bad)
    assert text.startswith("not a usable URL:") and "secret-path" not in text
