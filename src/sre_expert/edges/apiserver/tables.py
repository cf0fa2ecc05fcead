"""`Table` answers (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): what `kubectl get` prints.

Built-in kinds use printers.py; a custom resource uses its CRD's additionalPrinterColumns when the
CRD is in the bundle (as the apiextensions server does), else Name and Age; other built-ins Name and Age.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sre_expert.edges.apiserver.event_shapes import to_core
from sre_expert.edges.apiserver.jsonpath import JSONPathError, find, go_format
from sre_expert.edges.apiserver.printers import (
    NAME,
    NAME_AGE_COLUMNS,
    PRINTERS,
    Column,
    Printer,
    name_age_row,
    pod_conditions,
    since,
)
from sre_expert.edges.apiserver.resources import Resource, ResourceIndex

Obj = dict[str, Any]
DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace. Is required when creating resources, although some resources "
            "may allow a client to request the generation of an appropriate name automatically.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object was created.",
}


def _cell_for(type_: str, value: Any, now: datetime) -> Any:
    """apiextensions cellForJSONValue: typed cells, dates as ages."""
    if value is None:
        return None
    if type_ == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            return int(value)
        return None
    if type_ == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date":
        if not isinstance(value, str):
            return None
        text = since(value, now)
        return "<invalid>" if text == "<unknown>" else text
    return go_format(value)


def crd_columns(res: Resource, version: str) -> list[Obj] | None:
    """The served version's additionalPrinterColumns, or None when the bundle has no CRD for it."""
    if res.crd is None:
        return None
    spec = res.crd.get("spec") or {}
    for v in spec.get("versions") or ():
        if v.get("name") == version:
            return list(v.get("additionalPrinterColumns") or ()) or [
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    return list(spec.get("additionalPrinterColumns") or ()) or None  # apiextensions v1beta1 kept them at spec level


def _crd_printer(cols: list[Obj]) -> tuple[list[Column], Printer]:
    columns: list[Column] = [NAME] + [(c.get("name", ""), c.get("type", "string"), int(c.get("priority") or 0),
                                        c.get("format") or "") for c in cols]

    def row(obj: Obj, now: datetime) -> list[Any]:
        cells: list[Any] = [(obj.get("metadata") or {}).get("name")]
        for c in cols:
            try:
                found = find(obj, c.get("jsonPath") or c.get("JSONPath") or "")  # v1beta1 CRDs: JSONPath
            except JSONPathError:
                found = []
            # one match is the value itself; several (`.status.addresses[*].value`) print as a list, as there
            value = found[0] if len(found) == 1 else found
            cells.append(_cell_for(c.get("type", "string"), value, now) if found else None)
        return cells

    return columns, row


def _printer(res: Resource, version: str) -> tuple[list[Column], Printer]:
    builtin = PRINTERS.get((res.group, res.kind))
    if builtin and res.crd is None:
        return builtin
    cols = crd_columns(res, version)
    if cols:
        return _crd_printer(cols)
    return NAME_AGE_COLUMNS, name_age_row


def table(res: Resource, version: str, items: list[Obj], now: datetime, list_meta: Obj,
          include_object: str | None, meta_version: str, index: ResourceIndex | None = None) -> Obj:
    columns, printer = _printer(res, version)
    is_event = res.kind == "Event" and res.group in ("", "events.k8s.io")
    rows = []
    for obj in items:
        cells = printer(to_core(obj) if is_event else obj, now)
        row: Obj = {"cells": cells}
        if res.group == "" and res.kind == "Pod":
            conds = pod_conditions(obj)
            if conds:
                row["conditions"] = conds
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{meta_version}",
                             "metadata": obj.get("metadata") or {}}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{meta_version}",
        "metadata": list_meta,
        "columnDefinitions": [{"name": n, "type": t, "format": f, "description": DESCRIPTIONS.get(n, ""), "priority": p}
                              for n, t, p, f in columns],
        "rows": rows,
    }
