"""The JSON report (contract in DESIGN.md; schema in docs/findings.schema.json)."""

from __future__ import annotations

from typing import Any

import orjson

from ..diagnosis.engine import Report


def report_dict(report: Report) -> dict[str, Any]:
    """The contract's document, redacted where it quotes the cluster (titles, details, evidence, errors).

    Codes, ids, object references and remediation commands are built from names, which stay readable by
    design, so they skip the redactor: it costs ~20 µs a string and a large report has thousands."""
    from ..catalogue import catalogue
    from ..safety.redact import PlaceholderTable, redact

    table = PlaceholderTable()

    def red(text: str) -> str:
        return redact(text, table=table)

    info = report.info
    cat = catalogue()
    findings = []
    for f in report.findings:
        doc = f.to_json()
        doc["title"] = red(doc["title"])
        spec = cat.get(f.code)
        if spec is None or doc["detail"] != spec.explanation:  # the catalogue's own text needs no redaction
            doc["detail"] = red(doc["detail"])
        doc["evidence"] = [red(e) for e in doc["evidence"]]
        findings.append(doc)
    return {
        "capturedAt": info.captured_at.isoformat().replace("+00:00", "Z"),
        "cluster": info.cluster,
        "source": info.source,
        "sweptNamespaces": list(info.namespaces),
        "findings": findings,
        "collectionErrors": [{**e, "error": red(str(e.get("error", "")))} for e in info.collection_errors],
        "summary": report.summary(),
        "notChecked": [red(t) for t in report.not_checked],
        "warnings": [red(w) for w in info.warnings],
    }


def render_json(report: Report) -> bytes:
    return orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2) + b"\n"
