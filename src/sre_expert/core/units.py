"""Kubernetes quantities and Go durations as numbers: the one parser of each, shared by checks, lint and synth.

Quantities go through `kubernetes.utils.parse_quantity` (the client's own port of apimachinery's grammar:
binary suffixes Ki..Ei, decimal n..E, exponents such as `1e3`) so no hand-written table can drift from it.
Durations follow Go's `time.ParseDuration` (number+unit pairs, `ns us µs ms s m h`, a lone `0`); objectives
written by people (`rto: 1w`) may add days and weeks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from kubernetes.utils import parse_quantity as _untyped_k8s_quantity

_k8s_quantity = cast("Callable[[Any], Decimal]", _untyped_k8s_quantity)  # the client ships no type hints

_GO_UNITS: dict[str, float] = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_LONG_UNITS: dict[str, float] = {**_GO_UNITS, "d": 86400, "w": 604800}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_LONG_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s|m|h|d|w)\s*")


def quantity(value: Any) -> float:
    """A resource.Quantity ("500m", "16Gi", "1e3", 2) as a float; ValueError when it is not one.

    For callers that must have a number (synthetic data); a check should use `parse_quantity`.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a quantity: {value!r}")
    text = value if isinstance(value, (int, float, Decimal)) else str(value).strip()
    if isinstance(text, str) and any(c.isspace() for c in text):  # Decimal would read "1 Gi" as 1 Gi
        raise ValueError(f"not a quantity: {value!r}")
    try:
        number = float(_k8s_quantity(text))
    except (ValueError, ArithmeticError) as e:  # decimal signals are ArithmeticErrors
        raise ValueError(f"not a quantity: {value!r}") from e
    if not math.isfinite(number):  # Decimal reads "nan" and "Infinity"; the API server does not
        raise ValueError(f"not a quantity: {value!r}")
    return number


def parse_quantity(value: Any) -> float | None:
    """A resource.Quantity as a float; None when absent or unparseable (a check then says nothing about it)."""
    try:
        return quantity(value)
    except ValueError:
        return None


def _sum_parts(text: str, part: re.Pattern[str], units: dict[str, float]) -> float | None:
    pos, total = 0, 0.0
    for m in part.finditer(text):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * units[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and pos > 0 else None


def go_duration(value: Any) -> timedelta | None:
    """A Go duration string ("1h30m", "90s", "720h0m0s", "0") as a timedelta; None when it is not one.

    A leading `+` is accepted as Go does; a negative duration is refused because no field read with it
    (TTLs, intervals, frequencies) may be negative.
    """
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().removeprefix("+")
    if text == "0":
        return timedelta(0)
    seconds = _sum_parts(text, _GO_PART, _GO_UNITS)
    return None if seconds is None else timedelta(seconds=seconds)


def objective_duration(value: Any) -> timedelta:
    """An objective written by a person ('0s', '30s', '1h', '24h', '2d', '1w', '90m', or seconds) as a timedelta.

    Go's units plus days and weeks, case and spaces ignored; None or "" is zero. ValueError otherwise,
    because a wrong objective must stop the load, not read as zero.
    """
    if value is None:
        return timedelta(0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    if text in ("0", ""):
        return timedelta(0)
    seconds = _sum_parts(text, _LONG_PART, _LONG_UNITS)
    if seconds is None:
        raise ValueError(f"bad duration {value!r}")
    return timedelta(seconds=seconds)
