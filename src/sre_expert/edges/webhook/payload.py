"""Validate an Alertmanager webhook body (payload version 4) and make it safe to store.

Hand-written rather than a pydantic model so the 422 says, in words, which alert and field is wrong,
and so unknown extra fields (Alertmanager adds some between versions) are accepted and ignored.
"""

from __future__ import annotations

from typing import Any

from sre_expert.edges.webhook.store import fingerprint_of
from sre_expert.safety.web_links import web_url

ALERT_STATUSES = ("firing", "resolved")


def _str_map(value: Any, where: str, errors: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where} must be an object of strings")
        return {}
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            errors.append(f"{where}.{k} must be a string")
            continue
        out[str(k)] = v
    return out


def _opt_str(value: Any, where: str, errors: list[str]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    errors.append(f"{where} must be a string")
    return None


MAX_TIMESTAMP_CHARS = 64  # RFC 3339 with nanoseconds is 35; more is not a timestamp


def _timestamp(value: Any, where: str, errors: list[str]) -> str | None:
    text = _opt_str(value, where, errors)
    if text is not None and len(text) > MAX_TIMESTAMP_CHARS:
        errors.append(f"{where} must be an RFC 3339 timestamp (at most {MAX_TIMESTAMP_CHARS} characters)")
        return None
    return text


def parse_webhook(doc: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """(payload, []) for a valid body, else (None, errors). Fingerprints are computed from the raw
    labels when the sender gave none; strings are not redacted here (see `redacted`)."""
    errors: list[str] = []
    if not isinstance(doc, dict):
        return None, ["the body must be a JSON object (Alertmanager webhook payload, version 4)"]
    version = doc.get("version")
    if version is not None and str(version) != "4":
        errors.append(f"unsupported payload version {version!r} (expected \"4\")")
    raw_alerts = doc.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        errors.append("alerts must be a non-empty list")
        raw_alerts = []
    alerts = []
    for i, a in enumerate(raw_alerts):
        where = f"alerts[{i}]"
        if not isinstance(a, dict):
            errors.append(f"{where} must be an object")
            continue
        labels = _str_map(a.get("labels"), f"{where}.labels", errors)
        if not labels:
            errors.append(f"{where}.labels must name the alert (at least alertname)")
        status = a.get("status", "firing")
        if status not in ALERT_STATUSES:
            errors.append(f"{where}.status must be firing or resolved, not {status!r}")
        fp = _opt_str(a.get("fingerprint"), f"{where}.fingerprint", errors) or fingerprint_of(labels)
        alerts.append({
            "fingerprint": fp[:128],
            "status": status,
            "startsAt": _timestamp(a.get("startsAt"), f"{where}.startsAt", errors),
            "endsAt": _timestamp(a.get("endsAt"), f"{where}.endsAt", errors),
            "labels": labels,
            "annotations": _str_map(a.get("annotations"), f"{where}.annotations", errors),
            "generatorURL": web_url(a.get("generatorURL")),
        })
    status = doc.get("status", "firing")
    if status not in ALERT_STATUSES:
        errors.append(f"status must be firing or resolved, not {status!r}")
    payload = {
        "version": "4",
        "status": status,
        "receiver": _opt_str(doc.get("receiver"), "receiver", errors),
        "groupKey": _opt_str(doc.get("groupKey"), "groupKey", errors),
        "groupLabels": _str_map(doc.get("groupLabels"), "groupLabels", errors),
        "commonLabels": _str_map(doc.get("commonLabels"), "commonLabels", errors),
        "commonAnnotations": _str_map(doc.get("commonAnnotations"), "commonAnnotations", errors),
        "externalURL": web_url(_opt_str(doc.get("externalURL"), "externalURL", errors)),
        "alerts": alerts,
    }
    if errors:
        return None, errors[:50]
    return payload, []


def redacted(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with every string passed through the redactor: labels, annotations, names, and also the
    fingerprint and timestamps, which Alertmanager fills but any sender with the token can set to any text."""
    from sre_expert.safety.redact import PlaceholderTable, redact, redact_obj

    table = PlaceholderTable()

    def red(value: str | None) -> str | None:
        return redact(value, table=table) if value else value

    out = dict(payload)
    for k in ("groupLabels", "commonLabels", "commonAnnotations"):
        out[k] = redact_obj(payload[k], table=table)
    for k in ("receiver", "groupKey", "externalURL"):
        out[k] = red(payload[k])
    out["alerts"] = [{**a, "fingerprint": red(a["fingerprint"]), "startsAt": red(a["startsAt"]),
                      "endsAt": red(a["endsAt"]), "generatorURL": red(a.get("generatorURL")),
                      "labels": redact_obj(a["labels"], table=table),
                      "annotations": redact_obj(a["annotations"], table=table)} for a in payload["alerts"]]
    return out
