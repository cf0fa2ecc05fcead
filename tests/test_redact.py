"""Redaction: secrets and personal data go, what an SRE needs to read stays (tests/data/redaction_corpus.yaml)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sre_expert.edges.cli.main import app
from sre_expert.safety.redact import (
    PLACEHOLDER,
    PlaceholderTable,
    RedactionConfigError,
    Rule,
    default_rules,
    find_secrets,
    load_rules,
    redact,
    redact_obj,
)
from sre_expert.sources.resolve import demo_path

pytestmark = pytest.mark.unit

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "redaction_corpus.yaml").read_text())["cases"]
FAMILY = re.compile(r"<redacted:([a-z0-9-]+)#\d+>")


def test_corpus_is_broad() -> None:
    ids = [c["id"] for c in CORPUS]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    positives = [c for c in CORPUS if c.get("leak")]
    negatives = [c for c in CORPUS if not c.get("leak")]
    assert len(CORPUS) >= 60 and len(positives) >= 40 and len(negatives) >= 20
    rules = default_rules()
    families = {r.name for r in rules.rules if isinstance(r, Rule)} | {k.name for k in rules.keys}
    seen = {f for c in CORPUS for f in FAMILY.findall(redact(c["text"]))}
    assert families <= seen, f"families without a positive case: {sorted(families - seen)}"


# Issue 12: every class it lists has cases (ids start with these words or the class is named in a family).
ISSUE_12_CLASSES = ("stripe", "openai", "anthropic", "sendgrid", "google-api-key", "gitlab", "vault", "twilio",
                    "slack-webhook", "discord", "teams", "mysql-p", "redis-cli", "requirepass", "curl-u", "mysql-pwd",
                    "odbc", "lowercase-pass", "lowercase-pwd", "db-pass", "escaped-json", "printed-", "secret-yaml",
                    "secret-json", "dockerconfigjson", "env-listing", "patient-name", "mrn", "address", "diagnosis",
                    "dob-", "phone-us-spaces", "phone-dots", "ssn-spaces", "ssn-dots", "url-encoded-email",
                    "timestamps", "resource-versions", "uids", "secret-names", "phone-disabled", "image-digest",
                    "ips-", "durations", "pod-names")


def test_corpus_totals_zero_leaks_and_at_most_two_percent_over_redaction() -> None:
    """The issue's target over the whole corpus. leaks: `leak` substrings still in the output.
    over-redaction: (`keep` substrings lost + look-alike cases changed) / (`keep` substrings + look-alike
    cases). benchmarks/bench_redact.py prints the same numbers for other approaches."""
    assert len(CORPUS) >= 150
    for cls in ISSUE_12_CLASSES:
        assert any(c["id"].startswith(cls) or cls in c["id"] for c in CORPUS), f"no case for {cls}"
    leaks, lost, total = [], 0, 0
    for c in CORPUS:
        out = redact(c["text"])
        leaks += [(c["id"], s) for s in c.get("leak", ()) if s in out]
        total += len(c.get("keep", ()))
        lost += sum(1 for k in c.get("keep", ()) if k not in out)
        if not c.get("leak"):
            total += 1
            lost += out != c["text"]
    assert leaks == []
    assert total > 250 and lost / total <= 0.02, f"over-redaction {lost}/{total}"


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_corpus_case(case: dict) -> None:
    out = redact(case["text"])
    for leak in case.get("leak", ()):
        assert leak not in out, f"leaked {leak!r}: {out}"
    for keep in case.get("keep", ()):
        assert keep in out, f"lost {keep!r}: {out}"
    for fam in case.get("families", ()):
        assert f"<redacted:{fam}#" in out, f"no {fam} placeholder: {out}"
    if not case.get("leak"):
        assert out == case["text"], "a look-alike was redacted (over-redaction)"
    # Redacting twice changes nothing: placeholders and the text around them are stable.
    assert redact(out) == out


def test_same_value_same_placeholder_across_one_report() -> None:
    table = PlaceholderTable()
    a = redact("MONGODB_PASSWORD=Tr0ub4dor-Xy user=app", table=table)
    b = redact("uri mongodb://app:Tr0ub4dor-Xy@mongodb-0:27017/admin", table=table)
    c = redact('{"password": "other-Secret-9"} contact ana@example.org', table=table)
    d = redact("reply to ana@example.org", table=table)
    assert a == "MONGODB_PASSWORD=<redacted:password#1> user=app"
    assert b == "uri mongodb://app:<redacted:password#1>@mongodb-0:27017/admin"
    assert c == '{"password": "<redacted:password#2>"} contact <redacted:email#1>'
    assert d == "reply to <redacted:email#1>"
    assert table.counts() == {"password": 2, "email": 1}
    assert len(table) == 3
    assert "Tr0ub4dor" not in repr(table)
    # A new report starts numbering again.
    assert redact("password=other-Secret-9") == "password=<redacted:password#1>"


def test_find_secrets_spans_do_not_overlap_and_point_at_the_values() -> None:
    text = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U x"
    spans = find_secrets(text)
    assert len(spans) == 1
    start, end, family = spans[0]
    assert family == "jwt" and text[start:end].startswith("eyJhbGci") and text[end:] == " x"


def test_placeholders_in_input_are_left_alone() -> None:
    text = "password=<redacted:password#7> token: <redacted:token#2>"
    assert redact(text) == text


# ---------------------------------------------------------------------------------------- objects


def _secret() -> dict:
    last = json.dumps({"apiVersion": "v1", "kind": "Secret", "data": {"MONGO_URI": "bW9uZ29kYjovL3U6cEBoOjI3MDE3"}})
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "api-env", "namespace": "mycure-production",
                     "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last,
                                     "reconcile.external-secrets.io/data-hash": "9f86d081884c7d659a2feaa0c55ad015"}},
        "data": {"MONGO_URI": "bW9uZ29kYjovL3U6cEBoOjI3MDE3", "LOG_LEVEL": "aW5mbw==", "EMPTY": ""},
        "stringData": {"JWT_SECRET": "plain-jwt-secret"},
    }


def test_redact_obj_hides_every_secret_value_but_keeps_keys_and_metadata() -> None:
    secret = _secret()
    before = copy.deepcopy(secret)
    out = redact_obj(secret)
    assert secret == before, "the input must not be changed"
    assert set(out["data"]) == {"MONGO_URI", "LOG_LEVEL", "EMPTY"}
    assert PLACEHOLDER.fullmatch(out["data"]["MONGO_URI"]) and PLACEHOLDER.fullmatch(out["data"]["LOG_LEVEL"])
    assert out["data"]["EMPTY"] == "", "an empty value is evidence (the key is empty), not a secret"
    assert PLACEHOLDER.fullmatch(out["stringData"]["JWT_SECRET"])
    ann = out["metadata"]["annotations"]
    assert PLACEHOLDER.fullmatch(ann["kubectl.kubernetes.io/last-applied-configuration"])
    assert ann["reconcile.external-secrets.io/data-hash"] == "9f86d081884c7d659a2feaa0c55ad015"
    assert out["metadata"]["name"] == "api-env" and out["type"] == "Opaque"
    assert "bW9uZ29k" not in json.dumps(out)


def test_redact_obj_env_values_and_credential_annotations() -> None:
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-55wcnlhq-54cp4", "namespace": "mycure-production",
                     "annotations": {"example.com/api-token": "tok-8812-zz", "prometheus.io/port": "9100",
                                     "notes": "on-call: ana@example.org"}},
        "spec": {"automountServiceAccountToken": False, "containers": [{
            "name": "api", "image": "ghcr.io/monobaselabs/api:v2.3.1",
            "env": [
                {"name": "NODE_ENV", "value": "production"},
                {"name": "SMTP_PASSWORD", "value": "mail pw with spaces"},
                {"name": "MONGO_URI", "value": "mongodb://api:Pw-1@mongodb-0.mongodb-headless:27017/mycure"},
                {"name": "JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "api-env", "key": "JWT_SECRET"}}},
            ]}]},
    }
    out = redact_obj(pod)
    env = {e["name"]: e for e in out["spec"]["containers"][0]["env"]}
    assert env["NODE_ENV"]["value"] == "production"
    assert PLACEHOLDER.fullmatch(env["SMTP_PASSWORD"]["value"])
    assert env["MONGO_URI"]["value"] == "mongodb://api:<redacted:password#2>@mongodb-0.mongodb-headless:27017/mycure"
    assert env["SMTP_PASSWORD"]["value"] == "<redacted:password#1>"
    assert env["JWT_SECRET"]["valueFrom"] == {"secretKeyRef": {"name": "api-env", "key": "JWT_SECRET"}}
    ann = out["metadata"]["annotations"]
    assert PLACEHOLDER.fullmatch(ann["example.com/api-token"])
    assert ann["prometheus.io/port"] == "9100"
    assert ann["notes"] == "on-call: <redacted:email#1>"
    assert out["spec"]["automountServiceAccountToken"] is False
    assert out["spec"]["containers"][0]["image"] == "ghcr.io/monobaselabs/api:v2.3.1"


def test_redact_obj_shares_the_table_with_text() -> None:
    table = PlaceholderTable()
    obj = redact_obj({"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"password": "Shared-Pw-1"}}, table=table)
    line = redact("db login with password=Shared-Pw-1 failed", table=table)
    assert obj["data"]["password"] == "<redacted:password#1>"
    assert line == "db login with password=<redacted:password#1> failed"


def test_demo_platform_objects_are_not_over_redacted() -> None:
    """The demo's pods, workloads, events and logs carry no secrets or personal data: nothing may change.
    Its Secrets must lose every value; ACME challenge tokens are public and stay."""
    root = demo_path()
    for name in ("pods.json", "deployments.apps.json", "statefulsets.apps.json", "events.json", "services.json",
                 "configmaps.json", "certificates.cert-manager.io.json", "httproutes.gateway.networking.k8s.io.json",
                 "backups.velero.io.json", "applications.argoproj.io.json", "nodes.json"):
        doc = json.loads((root / name).read_text())
        assert redact_obj(doc) == doc, f"{name} was changed by redaction"
    logs = sorted((root / "logs").rglob("*.log"))
    assert len(logs) > 20
    for p in logs:
        text = p.read_text()
        assert find_secrets(text) == [], f"{p.relative_to(root)}: {[text[s:e] for s, e, _ in find_secrets(text)]}"
    secrets = json.loads((root / "secrets.json").read_text())
    red = redact_obj(secrets)
    values = [v for s in red["items"] for v in (s.get("data") or {}).values() if v]
    assert values and all(PLACEHOLDER.fullmatch(v) for v in values)
    challenges = json.loads((root / "challenges.acme.cert-manager.io.json").read_text())
    assert redact_obj(challenges) == challenges


# ---------------------------------------------------------------------------------------- configuration


def test_added_rules_are_tried_first(tmp_path: Path) -> None:
    f = tmp_path / "extra.yaml"
    f.write_text(yaml.safe_dump({"rules": [
        {"name": "patient-id", "regex": r"\bMRN-(\d{6,})\b", "group": 1},
        {"name": "insurer-key", "key": "insurer[_-]?ref"},
        {"name": "whole-password", "regex": r"password=\S+"},
    ]}))
    rs = load_rules([f])
    assert redact("chart MRN-0048812 opened", rules=rs) == "chart MRN-<redacted:patient-id#1> opened"
    assert redact("insurer_ref: HX-99", rules=rs) == "insurer_ref: <redacted:insurer-key#1>"
    assert redact("password=abc", rules=rs) == "<redacted:whole-password#1>"
    # the defaults still apply
    assert redact("mail ana@example.org", rules=rs) == "mail <redacted:email#1>"


@pytest.mark.parametrize(("doc", "message"), [
    ({"rules": [{"name": "x", "regex": "(unclosed"}]}, "invalid regex"),
    ({"rules": [{"name": "x", "regex": "a*"}]}, "matches the empty string"),
    ({"rules": [{"name": "x", "regex": "a(b)", "group": 2}]}, "not a group"),
    ({"rules": [{"name": "Bad Name", "regex": "a"}]}, "lower-case"),
    ({"rules": [{"name": "x", "regex": "a", "key": "b"}]}, "exactly one"),
    ({"rules": [{"name": "x", "regex": "a", "colour": "red"}]}, "unknown keys"),
    ({"rules": [{"name": "x", "regex": "a", "validate": "luhn"}]}, "unknown validate"),
    ({"patterns": []}, "'rules' list"),
])
def test_bad_rules_files_are_reported_with_file_and_rule(tmp_path: Path, doc: dict, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(doc))
    with pytest.raises(RedactionConfigError) as e:
        load_rules([f])
    assert message in str(e.value) and "bad.yaml" in str(e.value)


# ---------------------------------------------------------------------------------------- CLI


def test_cli_redacts_stdin_text() -> None:
    text = "level=error password=Hunter2-Mc! pod=api-55wcnlhq-54cp4 ip=10.42.0.33\nmail maria@example.org\n"
    r = CliRunner().invoke(app, ["redact"], input=text)
    assert r.exit_code == 0, r.output
    assert r.stdout == ("level=error password=<redacted:password#1> pod=api-55wcnlhq-54cp4 ip=10.42.0.33\n"
                        "mail <redacted:email#1>\n")


def test_cli_redacts_kubectl_json_structurally() -> None:
    """`kubectl get secret -o json | sre-expert redact`: values under innocent key names (MONGO_URI) go too."""
    r = CliRunner().invoke(app, ["redact"], input=json.dumps(_secret(), indent=2))
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert PLACEHOLDER.fullmatch(out["data"]["MONGO_URI"]) and out["metadata"]["name"] == "api-env"


def test_cli_redacts_kubectl_yaml_structurally() -> None:
    r = CliRunner().invoke(app, ["redact"], input=yaml.safe_dump(_secret()))
    assert r.exit_code == 0, r.output
    out = yaml.safe_load(r.stdout)
    assert PLACEHOLDER.fullmatch(out["data"]["MONGO_URI"]) and out["data"]["EMPTY"] == ""


def test_cli_patterns_option_and_bad_file(tmp_path: Path) -> None:
    f = tmp_path / "extra.yaml"
    f.write_text("rules:\n  - {name: patient-id, regex: 'MRN-\\d+'}\n")
    r = CliRunner().invoke(app, ["redact", "--patterns", str(f)], input="open MRN-0048812\n")
    assert r.exit_code == 0 and r.stdout == "open <redacted:patient-id#1>\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: x, regex: '(unclosed'}\n")
    r = CliRunner().invoke(app, ["redact", "--patterns", str(bad)], input="x\n")
    assert r.exit_code == 2 and "invalid regex" in r.output
    r = CliRunner().invoke(app, ["redact", "--patterns", str(tmp_path / "missing.yaml")], input="x\n")
    assert r.exit_code == 2 and "cannot read" in r.output


def test_demo_reports_read_the_same_after_redaction() -> None:
    """What the report writers will pass through `redact`: the demo's findings hold no secret, so every
    rendering must come back unchanged (no prose, command or evidence line mistaken for one)."""
    import io

    from rich.console import Console

    from sre_expert.diagnosis.engine import diagnose
    from sre_expert.render.json_report import report_dict
    from sre_expert.render.markdown import render_markdown
    from sre_expert.render.terminal import render_terminal
    from sre_expert.sources.bundle_reader import load_bundle

    report = diagnose(load_bundle(demo_path()))
    doc = report_dict(report)
    assert len(doc["findings"]) > 20
    assert redact_obj(doc) == doc
    md = render_markdown(report)
    assert redact(md) == md
    buf = io.StringIO()
    render_terminal(report, Console(file=buf, width=160))
    assert redact(buf.getvalue()) == buf.getvalue()


@pytest.mark.parametrize(("command", "output"), [
    ("kubectl -n argocd get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d",
     "Xk9vQ2mLp7Rt4Wz1"),
    ("vault kv get -field=password secret/lfh/db", "V4ult-Field-Pw-3\n"),
    ("aws ecr get-login-password --region ap-southeast-1", "eyJwYXlsb2FkIjoiY1V2b3ZxQjFSd2hZbUpLUjdtcFNHZ2Z6\n"),
])
def test_a_bare_password_printed_by_a_known_printer_is_hidden_given_its_command(command: str, output: str) -> None:
    """Agent tools, MCP and runbooks see a command and its output apart: the output alone is one word."""
    from sre_expert.safety.redact import redact_command_output

    assert redact(output) == output  # alone, nothing says it is a secret
    out = redact_command_output(command, output)
    assert output.strip() not in out and out.startswith("<redacted:printed-secret#1>")


def test_command_output_of_an_ordinary_command_is_redacted_as_text() -> None:
    from sre_expert.safety.redact import redact_command_output

    out = "NAME READY\napi-55wcnlhq-54cp4 1/1\npassword=Hunter2-Mc!\n"
    assert redact_command_output("kubectl get pods -n mycure-production", out) == (
        "NAME READY\napi-55wcnlhq-54cp4 1/1\npassword=<redacted:password#1>\n")
    assert redact_command_output("echo", "") == ""
