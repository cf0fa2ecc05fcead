"""One request-body cap for every route of `sre-expert serve` (`--max-body`), as a pure ASGI middleware.

Why here and not in each endpoint: routes that let FastAPI parse a pydantic body (the agent's /api/v1/ask)
read the whole body before any code of ours runs, and a chunked upload declares no length. Counting the
bytes as they come out of `receive` caps every route, with or without Content-Length:

- a declared Content-Length above the cap is answered 413 before the app runs (nothing is read);
- a body that grows past the cap while being read makes `receive` raise `BodyTooLarge` (later calls get
  `http.disconnect`); whatever the app then answers (its own 413, a 400 from the body parser) is discarded
  and the client gets the same 413, with `Connection: close` since the rest of the body was not read.

The 413 is JSON ({"error": ...}) like every other error of the API.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TRIPPED = "sre_expert.body_too_large"  # set in the scope when the cap was hit: the error is expected, not a bug


def too_large_message(limit: int) -> str:
    return f"request body larger than {limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised from `receive` past the cap. An HTTPException, so FastAPI's body parser re-raises it untouched
    and the app's handler answers 413 (which the middleware then replaces by its own, identical answer)."""

    def __init__(self, limit: int):
        super().__init__(413, too_large_message(limit))


class BodyLimit:
    """ASGI middleware: at most `limit` bytes of request body on any HTTP route."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        size = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal size, over
            if over:  # asked again after being told (a disconnect listener): the request is over for us
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.limit:
                    over = True
                    scope[TRIPPED] = True
                    raise BodyTooLarge(self.limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a body we cut off: replaced by the 413 below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps({"error": too_large_message(self.limit)})
        headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json"),
                                              (b"content-length", str(len(body)).encode()),
                                              (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared length; None when absent or not a number (then only the counting applies)."""
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            text: Any = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
