"""`Status` objects: how a Kubernetes API server reports every failure, so clients print them natively.

kubectl shows `Error from server (<reason>): <message>` from these fields; client libraries map `code`
and `reason` to their exception types. Keep the shape exact.
"""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    406: "NotAcceptable", 409: "AlreadyExists", 410: "Expired", 415: "UnsupportedMediaType",
    422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
}


def status(code: int, message: str, reason: str | None = None, *, name: str = "", group: str = "",
           kind: str = "") -> dict[str, Any]:
    """A failure `Status` (meta/v1). `kind` in details is the resource (plural), as the server writes it."""
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    details = {k: v for k, v in (("name", name), ("group", group), ("kind", kind)) if v}
    if details:
        out["details"] = details
    return out


def not_found(resource: str, group: str, name: str) -> dict[str, Any]:
    qualified = f"{resource}.{group}" if group else resource
    return status(404, f'{qualified} "{name}" not found', name=name, group=group, kind=resource)


def read_only(verb: str, resource: str, group: str, name: str = "", subresource: str = "") -> dict[str, Any]:
    what = f"{resource}.{group}" if group else resource
    target = f'{what} "{name}"' if name else what
    if subresource:
        target += f" ({subresource} subresource)"
    return status(405, f"{verb} {target}: this API serves a captured bundle and is read-only",
                  name=name, group=group, kind=resource)
