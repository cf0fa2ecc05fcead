"""Attacks on redaction: a credential passed as a separate argv element (`args: [--db-password, VALUE]`) is
how many charts pass secrets to a container; `kubectl get pod -o yaml|json` (which runs unasked) prints it
as a YAML list, a JSON array, or the parsed object a bundle holds. The value must not survive any of them."""

from __future__ import annotations

import json

import pytest
import yaml

from sre_expert.safety.redact import redact, redact_command_output, redact_obj

pytestmark = pytest.mark.unit

PW, DBPW, TOK, JPW = "hunter2hunter2", "s3cr3tValue99", "abcdefabcdef1234abcd", "GoFlagPw77x"


def _pod() -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api-7d9c5b6f4-x2x9q", "namespace": "shop", "uid": "5b0f1c7e-1d2a-4d38-9c3e-2c1f0d1a9b11",
                     "creationTimestamp": "2026-12-06T08:01:02Z",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9c5b6f4",
                                          "uid": "0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "controller": True,
                                          "blockOwnerDeletion": True}]},
        "spec": {"containers": [{
            "name": "api", "image": "registry.example.com/shop/api:1.4.2",
            "command": ["/app/api"],
            "args": ["--listen=:8080", "--password", PW, "--db-password", DBPW, "--auth-token", TOK,
                     "-db-pass", JPW, "--log-level", "info", "--token-file", "/var/run/token"]}]},
        "status": {"phase": "Running", "podIP": "10.42.0.17", "startTime": "2026-12-06T08:01:03Z"},
    }


def _leaks(text: str) -> list[str]:
    return [v for v in (PW, DBPW, TOK, JPW) if v in text]


def test_argv_credentials_in_a_parsed_pod_are_hidden() -> None:
    out = redact_obj(_pod())
    args = out["spec"]["containers"][0]["args"]
    assert _leaks(json.dumps(out)) == []
    assert args[:2] == ["--listen=:8080", "--password"]  # the flag stays readable
    assert "info" in args and "/var/run/token" in args  # non-secret flags' values stay


def test_argv_credentials_in_yaml_text_are_hidden() -> None:
    text = yaml.safe_dump(_pod())
    out = redact_command_output("kubectl get pod api-7d9c5b6f4-x2x9q -n shop -o yaml", text)
    assert _leaks(out) == []
    assert "- info" in out and "- /var/run/token" in out


def test_argv_credentials_in_json_text_are_hidden() -> None:
    for text in (json.dumps(_pod()), json.dumps(_pod(), indent=4)):
        out = redact(text)
        assert _leaks(out) == [], out
        assert '"info"' in out


def test_argv_credentials_on_a_command_line_are_hidden() -> None:
    out = redact(f"exec /app/api --db-password {DBPW} --auth-token {TOK} --log-level debug")
    assert _leaks(out) == []
    assert "--log-level debug" in out
