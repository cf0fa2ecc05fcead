"""The JSON report (its contract: docs/findings.schema.json)."""

from __future__ import annotations

from typing import Any

import orjson

from sre_expert.diagnosis.engine import Report


def report_dict(report: Report) -> dict[str, Any]:
    """The contract's document, redacted where it quotes the cluster (titles, details, evidence, errors).

    Codes, ids, object references and remediation commands are built from names, which stay readable by
    design, so they skip the redactor: it costs ~20 µs a string and a large report has thousands."""
    from sre_expert.knowledge.catalogue import find
    from sre_expert.safety.redact import PlaceholderTable, redact

    table = PlaceholderTable()
    done: dict[str, str] = {}

    def red(text: str) -> str:
        """Each distinct text is redacted once: a large report repeats lines (one node's outage quoted by
        every pod on it). Exact, since a second pass with the same table yields the same placeholders."""
        out = done.get(text)
        if out is None:
            out = done[text] = redact(text, table=table)
        return out

    info = report.info
    findings = []
    for f in report.findings:
        doc = f.to_json()
        doc["title"] = red(doc["title"])
        spec = find(f.code)
        if spec is None or doc["detail"] != spec.explanation:  # the catalogue's own text needs no redaction
            doc["detail"] = red(doc["detail"])
        doc["evidence"] = [red(e) for e in doc["evidence"]]
        findings.append(doc)
    return {
        "capturedAt": info.captured_at.isoformat().replace("+00:00", "Z"),
        **({"capturedAtSource": info.captured_at_source} if info.captured_at_note() else {}),
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
