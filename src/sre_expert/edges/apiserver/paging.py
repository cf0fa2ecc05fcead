"""`limit`/`continue` paging with opaque tokens, as the API server pages a LIST.

The token names the last key returned (namespace/name, the order etcd lists in) and the list's
resourceVersion, like the real one: resuming never skips or repeats an object, whatever the page size.
A token from another server (another bundle) is `410 Expired`, a mangled one `400 BadRequest`.
"""

from __future__ import annotations

import base64
import bisect
from typing import Any

import orjson

Obj = dict[str, Any]


class PagingError(ValueError):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def sort_key(obj: Obj) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return (md.get("namespace") or "", md.get("name") or "")


def encode(resource_version: str, last: tuple[str, str]) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": resource_version, "start": f"{last[0]}/{last[1]}\x00"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, resource_version: str) -> tuple[str, str]:
    """The key to resume after."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        ns, _, name = str(data["start"]).rstrip("\x00").partition("/")
        rv = str(data["rv"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise PagingError(400, "continue key is not valid: "
                               "incorrect encoded start resourceVersion (version meta.k8s.io/v1)") from None
    if rv != resource_version:
        raise PagingError(410, "The provided continue parameter is too old to display a consistent list result. "
                               "You can start a new list without the continue parameter.")
    return (ns, name)


def page(items: list[Obj], limit: int | None, token: str | None, resource_version: str) -> tuple[list[Obj], str, int | None]:
    """(items of this page, continue token or "", remainingItemCount or None). `items` are in sort_key order."""
    start = 0
    if token:
        after = decode(token, resource_version)
        start = bisect.bisect_right(items, after, key=sort_key)
    if not limit or limit <= 0:
        return items[start:], "", None
    chunk = items[start : start + limit]
    rest = len(items) - (start + len(chunk))
    if rest <= 0 or not chunk:
        return chunk, "", None
    return chunk, encode(resource_version, sort_key(chunk[-1])), rest
