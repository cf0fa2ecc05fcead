"""The JSONPath subset CRD `additionalPrinterColumns` use, evaluated as the API server does.

Supported: `.field`, `['field.with.dots']`, `[N]`, `[*]`, `[?(@.a.b=="x")]` (also `!=`, single quotes,
and `@.a` alone for existence). That covers the columns of every CRD this project ships against;
anything else raises JSONPathError and the column shows as empty, which is what kubectl shows
when a path finds nothing.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"""\.(?P<field>[A-Za-z0-9_$-]+)
      | \[(?P<quoted>'[^']*'|"[^"]*")\]
      | \[(?P<index>-?\d+)\]
      | (?P<star>\[\*\]|\.\*)
      | \[\?\(@(?P<fpath>(?:\.[A-Za-z0-9_-]+|\['[^']*'\])+)\s*(?:(?P<op>==|!=)\s*(?P<fval>'[^']*'|"[^"]*"|[^)\s]+))?\s*\)\]
    """,
    re.VERBOSE,
)


class JSONPathError(ValueError):
    pass


def _steps(path: str) -> list[tuple[str, Any]]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise JSONPathError(f"unsupported JSONPath {path!r} at {text[pos:]!r}")
        if m.group("field") is not None:
            steps.append(("field", m.group("field")))
        elif m.group("quoted") is not None:
            steps.append(("field", m.group("quoted")[1:-1]))
        elif m.group("index") is not None:
            steps.append(("index", int(m.group("index"))))
        elif m.group("star") is not None:
            steps.append(("star", None))
        else:
            fpath = [p.strip("[]'") for p in re.findall(r"\.[A-Za-z0-9_-]+|\['[^']*'\]", m.group("fpath"))]
            fpath = [p[1:] if p.startswith(".") else p for p in fpath]
            val = m.group("fval")
            if val is not None and val[:1] in ("'", '"'):
                val = val[1:-1]
            steps.append(("filter", (fpath, m.group("op"), val)))
        pos = m.end()
    return steps


def _get(obj: Any, path: list[str]) -> tuple[bool, Any]:
    cur = obj
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return False, None
        cur = cur[p]
    return True, cur


def _scalar_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def find(obj: Any, path: str) -> list[Any]:
    """Every value the path selects, in document order."""
    current = [obj]
    for kind, arg in _steps(path):
        nxt: list[Any] = []
        for v in current:
            if kind == "field":
                if isinstance(v, dict) and arg in v:
                    nxt.append(v[arg])
            elif kind == "index":
                if isinstance(v, list) and -len(v) <= arg < len(v):
                    nxt.append(v[arg])
            elif kind == "star":
                if isinstance(v, list):
                    nxt.extend(v)
                elif isinstance(v, dict):
                    nxt.extend(v.values())
            else:
                fpath, op, val = arg
                items = v if isinstance(v, list) else []
                for item in items:
                    ok, got = _get(item, fpath)
                    if op is None:
                        keep = ok
                    elif op == "==":
                        keep = ok and _scalar_text(got) == val
                    else:
                        keep = ok and _scalar_text(got) != val
                    if keep:
                        nxt.append(item)
        current = nxt
    return current


def go_format(v: Any) -> str:
    """A value as Go's fmt prints it, which is how kubectl's JSONPath renders non-scalars."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return "[" + " ".join(go_format(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_format(v[k])}" for k in sorted(v)) + "]"
    return str(v)
