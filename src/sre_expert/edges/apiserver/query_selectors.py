"""Label and field selectors as the API server parses them from `?labelSelector=` and `?fieldSelector=`.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, `a>1`, `a<1`, comma-joined
(AND). Field selectors: `f=v`, `f==v`, `f!=v`, comma-joined, with `\\` escapes; only the fields the real
server indexes for a kind are accepted (others are a 400, as there), so a client that works here works
against a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]


class SelectorError(ValueError):
    """The selector does not parse; the server answers 400 BadRequest with this message."""


_KEY = re.compile(r"^([a-z0-9A-Z]([a-z0-9A-Z._-]*[a-z0-9A-Z])?/)?[a-z0-9A-Z]([a-z0-9A-Z._-]{0,61}[a-z0-9A-Z])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")
_SET = re.compile(r"^\s*(!?)\s*([^\s!=<>(),]+)\s*(?:(notin|in)\s*\(([^)]*)\)|(==|=|!=|<|>)\s*([^\s,]*))?\s*$")


def _split_requirements(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


# One parsed requirement: a test on an object's labels (built by the factories below, which bind the key and
# values of their own requirement).
Requirement = Callable[[dict[str, str]], bool]


def _present(k: str) -> Requirement:
    return lambda labels: k in labels


def _absent(k: str) -> Requirement:
    return lambda labels: k not in labels


def _in(k: str, vs: frozenset[str]) -> Requirement:
    return lambda labels: labels.get(k) in vs


def _not_in(k: str, vs: frozenset[str]) -> Requirement:
    return lambda labels: labels.get(k) not in vs


def _equals(k: str, v: str) -> Requirement:
    return lambda labels: labels.get(k) == v


def _differs(k: str, v: str) -> Requirement:
    return lambda labels: labels.get(k) != v


def _check_key(key: str, req: str) -> None:
    if not _KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise SelectorError(f"unable to parse requirement: invalid label key {key!r} in {req!r}")


def _check_value(value: str, req: str) -> None:
    if not _VALUE.match(value):
        raise SelectorError(f"unable to parse requirement: invalid label value {value!r} in {req!r}")


def parse_label_selector(text: str | None) -> Predicate | None:
    """A predicate over objects (None when everything matches)."""
    if not text or not text.strip():
        return None
    reqs: list[Requirement] = []
    for raw in _split_requirements(text):
        req = raw.strip()
        if not req:
            raise SelectorError(f"found '', expected: identifier in {text!r}")
        m = _SET.match(req)
        if not m:
            # 'key in(a,b)' without space or other spacing quirks are handled by the regex; anything else is invalid
            raise SelectorError(f"unable to parse requirement: {req!r}")
        neg, key, setop, setvals, op, value = m.groups()
        _check_key(key, req)
        if neg:
            if setop or op:
                raise SelectorError(f"unable to parse requirement: {req!r}")
            reqs.append(_absent(key))
        elif setop:
            vals = {v.strip() for v in setvals.split(",") if v.strip()}
            if not vals:
                raise SelectorError(f"unable to parse requirement: {req!r}: "
                                    "for 'in', 'notin' operators, values set can't be empty")
            for v in vals:
                _check_value(v, req)
            if setop == "in":
                reqs.append(_in(key, frozenset(vals)))
            else:
                reqs.append(_not_in(key, frozenset(vals)))
        elif op:
            if op in ("<", ">"):
                try:
                    n = int(value)
                except ValueError:
                    raise SelectorError("unable to parse requirement: "
                                        f"for 'Gt', 'Lt' operators, the value must be an integer: {req!r}") from None

                def cmp(labels: dict[str, str], k: str = key, n: int = n, gt: bool = op == ">") -> bool:
                    try:
                        v = int(labels[k])
                    except (KeyError, ValueError):
                        return False
                    return v > n if gt else v < n

                reqs.append(cmp)
            else:
                _check_value(value, req)
                if op == "!=":
                    reqs.append(_differs(key, value))
                else:
                    reqs.append(_equals(key, value))
        else:
            reqs.append(_present(key))

    def pred(obj: Obj) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r(labels) for r in reqs)

    return pred


# Fields each kind can be selected on, as the API server registers them (metadata.name/namespace: all kinds).
_EVENT_FIELDS = ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                 "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                 "reason", "reportingComponent", "source", "type")
_EVENTS_V1_FIELDS = ("regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
                     "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath",
                     "reason", "reportingController", "type", "deprecatedSource")
FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                  "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName"),
    ("", "Event"): _EVENT_FIELDS,
    ("events.k8s.io", "Event"): _EVENTS_V1_FIELDS,
    ("", "Node"): ("spec.unschedulable",),
    ("", "Namespace"): ("status.phase",),
    ("", "Secret"): ("type",),
    ("", "ReplicationController"): ("status.replicas",),
    ("apps", "ReplicaSet"): ("status.replicas",),
    ("batch", "Job"): ("status.successful",),
    ("", "PersistentVolumeClaim"): (),
    ("certificates.k8s.io", "CertificateSigningRequest"): ("spec.signerName",),
}


def _field_value(obj: Obj, path: str) -> str:
    if path == "source":  # core Event: the component that reported it
        return str(((obj.get("source") or {}).get("component")) or "")
    if path == "deprecatedSource":
        return str(((obj.get("deprecatedSource") or {}).get("component")) or "")
    if path == "status.successful":
        return str((obj.get("status") or {}).get("succeeded") or 0)
    if path == "status.podIPs":
        ips = (obj.get("status") or {}).get("podIPs") or []
        return ips[0].get("ip", "") if ips else ""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return "false" if path in ("spec.unschedulable", "spec.hostNetwork") else ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _split_escaped(text: str, sep: str) -> list[str]:
    out, cur, esc = [], [], False
    for ch in text:
        if esc:
            cur.append("\\" + ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if esc:
        raise SelectorError(f"invalid field selector {text!r}: trailing backslash")
    out.append("".join(cur))
    return out


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


_FIELD_TERM = re.compile(r"^((?:[^=!\\]|\\.)+?)\s*(==|!=|=)\s*((?:[^\\]|\\.)*)$")


def parse_field_selector(text: str | None, group: str, kind: str) -> Predicate | None:
    """A predicate for `?fieldSelector=` on a kind; SelectorError for syntax or an unsupported field."""
    if not text or not text.strip():
        return None
    allowed = {"metadata.name", "metadata.namespace", *FIELDS.get((group, kind), ())}
    terms: list[tuple[str, bool, str]] = []
    for raw in _split_escaped(text, ","):
        if not raw.strip():
            continue
        m = _FIELD_TERM.match(raw.strip())
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{raw}'")
        field, op, value = m.group(1).strip(), m.group(2), _unescape(m.group(3))
        if field not in allowed:
            raise SelectorError(f'field label not supported: {field}')
        terms.append((field, op == "!=", value))

    def pred(obj: Obj) -> bool:
        for field, negate, value in terms:
            if (_field_value(obj, field) == value) == negate:
                return False
        return True

    return pred
