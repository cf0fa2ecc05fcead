"""Just enough Kubernetes protobuf to read the review requests kubectl sends.

kubectl's typed clients (e.g. `kubectl auth can-i`) POST `application/vnd.kubernetes.protobuf`: the
4-byte magic `k8s\\0`, then a runtime.Unknown {typeMeta{apiVersion, kind}, raw}. The raw message of a
SelfSubjectAccessReview is {metadata, spec{resourceAttributes | nonResourceAttributes}}. Answers go
back as JSON, which every client accepts. Only these messages are decoded; nothing else needs it.
"""

from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(data: bytes) -> dict[int, list[Any]]:
    """Field number → values (bytes for length-delimited, int for varints)."""
    out: dict[int, list[Any]] = {}
    pos = 0
    val: int | bytes
    while pos < len(data):
        key, pos = _varint(data, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(data, pos)
        elif wire == 2:
            n, pos = _varint(data, pos)
            if pos + n > len(data):
                raise ProtobufError("truncated field")
            val, pos = data[pos : pos + n], pos + n
        elif wire == 1:
            val, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            val, pos = data[pos : pos + 4], pos + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.setdefault(num, []).append(val)
    return out


def _str(f: dict[int, list[Any]], num: int) -> str:
    vals = f.get(num)
    return vals[-1].decode("utf-8", "replace") if vals and isinstance(vals[-1], bytes) else ""


def _msg(f: dict[int, list[Any]], num: int) -> dict[int, list[Any]] | None:
    vals = f.get(num)
    return fields(vals[-1]) if vals and isinstance(vals[-1], bytes) else None


_RESOURCE_ATTRS = ("namespace", "verb", "group", "version", "resource", "subresource", "name")


def decode_review(body: bytes) -> dict[str, Any]:
    """A review request (SelfSubjectAccessReview, ...RulesReview, SelfSubjectReview) as its JSON form."""
    if not body.startswith(MAGIC):
        raise ProtobufError("not a Kubernetes protobuf message")
    unknown = fields(body[len(MAGIC):])
    type_meta = _msg(unknown, 1) or {}
    raw = unknown.get(2, [b""])[-1]
    obj: dict[str, Any] = {"apiVersion": _str(type_meta, 1), "kind": _str(type_meta, 2), "metadata": {}}
    msg = fields(raw) if isinstance(raw, bytes) else {}
    spec = _msg(msg, 2)
    if spec is None:
        return obj
    if obj["kind"] == "SelfSubjectRulesReview":
        obj["spec"] = {"namespace": _str(spec, 1)}
        return obj
    out_spec: dict[str, Any] = {}
    ra = _msg(spec, 1)
    if ra is not None:
        out_spec["resourceAttributes"] = {k: _str(ra, i + 1) for i, k in enumerate(_RESOURCE_ATTRS)}
    nra = _msg(spec, 2)
    if nra is not None:
        out_spec["nonResourceAttributes"] = {"path": _str(nra, 1), "verb": _str(nra, 2)}
    obj["spec"] = out_spec
    return obj
