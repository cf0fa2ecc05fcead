"""Every report format passes what it quotes from the cluster through the redactor."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from sre_expert.core.model import Finding, ObjectRef, Remediation
from sre_expert.core.snapshot import SnapshotInfo
from sre_expert.core.timeutil import parse_time
from sre_expert.diagnosis.engine import Report
from sre_expert.render.json_report import render_json
from sre_expert.render.markdown import render_markdown
from sre_expert.render.terminal import render_terminal

pytestmark = pytest.mark.unit

LEAK = "mongodb://api:S3cr3t-Passw0rd@mongodb.mycure-production.svc:27017/monobase"


def report() -> Report:
    f = Finding(code="POD-CRASHLOOP", severity="critical", component="workloads",
                object=ObjectRef("apps/v1", "Deployment", "mycure-production", "api"),
                title="Deployment mycure-production/api: container api is crash-looping",
                evidence=[f"previous log: MongoServerSelectionError: failed to connect to {LEAK}",
                          "contact: jane.doe@example.org"],
                remediation=[Remediation("Read the previous log", "kubectl logs api-1 -n mycure-production --previous")],
                id="POD-CRASHLOOP/mycure-production/Deployment/api")
    return Report(SnapshotInfo(captured_at=parse_time("2026-11-26T03:07:12Z"), cluster="prod"), [f])


def test_json_markdown_and_terminal_never_print_the_password_or_email() -> None:
    out = io.StringIO()
    render_terminal(report(), Console(file=out, width=300))
    for text in (render_json(report()).decode(), render_markdown(report()), out.getvalue()):
        assert "S3cr3t-Passw0rd" not in text and "jane.doe@example.org" not in text
        assert "mycure-production" in text and "mongodb.mycure-production.svc" in text  # names stay readable
    doc = json.loads(render_json(report()))
    assert doc["findings"][0]["object"]["name"] == "api"


def test_every_planted_secret_and_piece_of_personal_data_stays_out_of_every_report_format() -> None:
    """Issue 12: the corpus' secrets and PHI (tests/redaction_plant.py) quoted as evidence, in a title and a
    detail: JSON, Markdown and the terminal show none of them, and do show the evidence around them."""
    from redaction_plant import END, PLANTED_TEXTS, leaked

    f = Finding(code="POD-CRASHLOOP", severity="critical", component="workloads",
                object=ObjectRef("apps/v1", "Deployment", "mycure-production", "api"),
                title=f"Deployment mycure-production/api: {PLANTED_TEXTS[0]}",
                detail="last log lines: " + " | ".join(PLANTED_TEXTS[:20]),
                evidence=[*PLANTED_TEXTS, END],
                remediation=[Remediation("Read the previous log", "kubectl logs api-1 -n mycure-production --previous")],
                id="POD-CRASHLOOP/mycure-production/Deployment/api")
    rep = Report(SnapshotInfo(captured_at=parse_time("2026-11-26T03:07:12Z"), cluster="prod"), [f])
    out = io.StringIO()
    render_terminal(rep, Console(file=out, width=2000), max_evidence=1000)
    outputs = {"json": render_json(rep).decode(), "markdown": render_markdown(rep, max_evidence=1000),
               "terminal": out.getvalue()}
    for name, text in outputs.items():
        assert END in text, f"{name}: the planted evidence was not shown at all"
        assert leaked(text) == [], f"{name} leaked"
        assert "<redacted:" in text
