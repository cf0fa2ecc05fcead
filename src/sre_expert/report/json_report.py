"""The JSON report (contract in DESIGN.md; schema in docs/findings.schema.json)."""

from __future__ import annotations

from typing import Any

import orjson

from ..diagnosis.engine import Report


def report_dict(report: Report) -> dict[str, Any]:
    """The contract's document, redacted: evidence quotes logs and events, which can carry secrets."""
    from ..safety.redact import PlaceholderTable, redact_obj

    info = report.info
    return redact_obj({
        "capturedAt": info.captured_at.isoformat().replace("+00:00", "Z"),
        "cluster": info.cluster,
        "source": info.source,
        "findings": [f.to_json() for f in report.findings],
        "collectionErrors": info.collection_errors,
        "summary": report.summary(),
        "notChecked": report.not_checked,
        "warnings": info.warnings,
    }, table=PlaceholderTable())


def render_json(report: Report) -> bytes:
    return orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2) + b"\n"
