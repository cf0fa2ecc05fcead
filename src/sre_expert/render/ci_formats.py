"""Reports for CI systems: SARIF 2.1.0 (code scanning, annotations) and JUnit XML (test reports).

Both are built from the JSON contract's document (`report_dict`), so they carry the same redacted text
and nothing the JSON would not. Pure: a dict in, bytes out; the CLI writes them.

SARIF: one rule per finding code (from the catalogue), one result per finding; lint findings have a
physical location (file, line, relative to the repository root, `uriBaseId` %SRCROOT%), cluster findings
a logical one (kind/namespace/name). What was not checked becomes a tool notification, never silence.

JUnit: one testcase per finding, a <failure> when its severity reaches --fail-on (the exit status's rule);
what was not checked is a <skipped> testcase; a clean report has one passing testcase saying so.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import orjson

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVEL = {"critical": "error", "warning": "warning", "info": "note"}
RANK = {"critical": 0, "warning": 1, "info": 2}


def _object_name(obj: Mapping[str, Any]) -> str:
    ns = obj.get("namespace")
    return f"{obj.get('kind', '')}/{ns + '/' if ns else ''}{obj.get('name', '')}"


def _fingerprint(f: Mapping[str, Any]) -> str:
    """Stable across runs for the same problem on the same object (ids are positions, not identities)."""
    loc = f.get("location") or {}
    key = "\0".join([f["code"], _object_name(f["object"]), str(loc.get("file", ""))])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _rule(code: str, f: Mapping[str, Any], spec: Any) -> dict[str, Any]:
    title = spec.title if spec is not None else f["title"]
    rule: dict[str, Any] = {
        "id": code,
        "shortDescription": {"text": title},
        "defaultConfiguration": {"level": SARIF_LEVEL[spec.severity if spec is not None else f["severity"]]},
        "properties": {"tags": [f["component"]]},
    }
    if spec is not None and spec.explanation:
        rule["fullDescription"] = {"text": spec.explanation}
        fixes = [r.description + (f": {r.command}" if r.command else "") for r in getattr(spec, "remediation", ())]
        if getattr(spec, "fix", None):  # lint codes: one fix sentence
            fixes.append(spec.fix)
        rule["help"] = {"text": "\n".join([spec.explanation, *fixes])}
    return rule


def _message(f: Mapping[str, Any]) -> str:
    parts = [f["title"] + ("" if f["title"].endswith(".") else ".")]
    if f.get("evidence"):
        parts.append("Evidence: " + "; ".join(f["evidence"]))
    fixes = [r["description"] + (f": {r['command']}" if r.get("command") else "") for r in f.get("remediation", [])]
    if fixes:
        parts.append("Fix: " + "; ".join(fixes))
    return " ".join(parts)


def sarif(doc: Mapping[str, Any], *, version: str, catalogue: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log of one report document (`report_dict`). No command line: it would carry local paths
    and URLs into a CI artifact."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    results = []
    for f in doc["findings"]:
        code = f["code"]
        if code not in index:
            index[code] = len(rules)
            rules.append(_rule(code, f, catalogue.get(code)))
        result: dict[str, Any] = {
            "ruleId": code,
            "ruleIndex": index[code],
            "level": SARIF_LEVEL[f["severity"]],
            "message": {"text": _message(f)},
            "partialFingerprints": {"sreExpertFinding/v1": _fingerprint(f)},
            "properties": {"severity": f["severity"], "component": f["component"], "rootCause": f["rootCause"],
                           "findingId": f["id"]},
        }
        obj = f["object"]
        logical = {"name": obj.get("name", ""), "fullyQualifiedName": _object_name(obj),
                   "kind": str(obj.get("kind", "")).lower() or "resource"}
        location: dict[str, Any] = {"logicalLocations": [logical]}
        loc = f.get("location")
        if loc:
            location["physicalLocation"] = {
                "artifactLocation": {"uri": loc["file"], "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(1, int(loc.get("line") or 1))},
            }
        result["locations"] = [location]
        results.append(result)
    notes = [{"level": "warning", "message": {"text": f"not checked: {t}"}} for t in doc.get("notChecked", [])]
    notes += [{"level": "warning", "message": {"text": f"could not read {e.get('kind', '')}: {e.get('error', '')}"}}
              for e in doc.get("collectionErrors", [])]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "sre-expert", "version": version, "semanticVersion": version, "rules": rules}},
            "invocations": [invocation],
            "results": results,
            "properties": {"capturedAt": doc["capturedAt"], "cluster": doc["cluster"], "source": doc["source"]},
        }],
    }


def render_sarif(doc: Mapping[str, Any], *, version: str, catalogue: Mapping[str, Any]) -> bytes:
    return orjson.dumps(sarif(doc, version=version, catalogue=catalogue),
                        option=orjson.OPT_INDENT_2) + b"\n"


def junit(doc: Mapping[str, Any], *, suite: str, fail_on: str) -> ET.Element:
    """The JUnit XML tree of one report document: <testsuites><testsuite>…</testsuite></testsuites>."""
    limit = RANK.get(fail_on)  # None: --fail-on never, nothing fails
    cases: list[ET.Element] = []
    failures = 0
    for f in doc["findings"]:
        loc = f.get("location")
        where = f"{loc['file']}:{loc.get('line') or 1}" if loc else _object_name(f["object"])
        case = ET.Element("testcase", {"classname": f"{suite}.{f['component']}", "name": f"{f['code']} {where}",
                                       "time": "0"})
        body = "\n".join([f["title"], *(f"evidence: {e}" for e in f.get("evidence", [])),
                          *(f"fix: {r['description']}" + (f": {r['command']}" if r.get("command") else "")
                            for r in f.get("remediation", []))])
        if limit is not None and RANK[f["severity"]] <= limit:
            failures += 1
            fail = ET.SubElement(case, "failure", {"message": f"{f['severity']}: {f['title']}", "type": f["severity"]})
            fail.text = body
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{f['severity']} (below --fail-on {fail_on}): {body}"
        cases.append(case)
    skipped = 0
    for t in doc.get("notChecked", []):
        case = ET.Element("testcase", {"classname": f"{suite}.not-checked", "name": t.split(":", 1)[0][:120],
                                       "time": "0"})
        ET.SubElement(case, "skipped", {"message": f"not checked: {t}"})
        cases.append(case)
        skipped += 1
    if not doc["findings"]:
        cases.append(ET.Element("testcase", {"classname": suite, "name": "no problems found", "time": "0"}))
    attrs = {"name": suite, "tests": str(len(cases)), "failures": str(failures), "errors": "0",
             "skipped": str(skipped), "time": "0"}
    root = ET.Element("testsuites", {k: v for k, v in attrs.items() if k != "skipped"})
    ts = ET.SubElement(root, "testsuite", {**attrs, "timestamp": doc["capturedAt"].removesuffix("Z"),
                                           "hostname": doc.get("cluster") or "unknown"})
    props = ET.SubElement(ts, "properties")
    for name in ("cluster", "source", "capturedAt"):
        ET.SubElement(props, "property", {"name": name, "value": str(doc.get(name) or "")})
    ET.SubElement(props, "property", {"name": "failOn", "value": fail_on})
    ts.extend(cases)
    return _spelled(root)


def _spelled(root: ET.Element) -> ET.Element:
    """Control characters in every text and attribute spelled out: XML 1.0 cannot hold them, so one escape
    byte in an event message quoted as evidence made the whole file unreadable to the CI that parses it."""
    from sre_expert.safety.controls import visible_controls

    for el in root.iter():
        if el.text:
            el.text = visible_controls(el.text)
        for k, v in el.attrib.items():
            el.attrib[k] = visible_controls(v)
    return root


def render_junit(doc: Mapping[str, Any], *, suite: str, fail_on: str) -> bytes:
    tree = junit(doc, suite=suite, fail_on=fail_on)
    ET.indent(tree)
    return ET.tostring(tree, encoding="utf-8", xml_declaration=True) + b"\n"


def render_ci(report: Any, fmt: str, *, suite: str, fail_on: str) -> bytes:
    """`-o junit` / `-o sarif` for a Report (check, lint)."""
    from sre_expert import __version__
    from sre_expert.knowledge.catalogue import catalogue
    from sre_expert.render.json_report import report_dict

    doc = report_dict(report)
    if fmt == "sarif":
        cat: dict[str, Any] = dict(catalogue())
        if suite.endswith("lint"):
            from sre_expert.lint.codes import lint_codes

            cat.update(lint_codes())
        return render_sarif(doc, version=__version__, catalogue=cat)
    return render_junit(doc, suite=suite, fail_on=fail_on)
