"""Every finding code is documented, and every documented code belongs to a registered check."""

from __future__ import annotations

import re

import pytest

from sre_expert.checks.registry import all_checks
from sre_expert.knowledge.catalogue import catalogue

pytestmark = pytest.mark.unit

RUNBOOKS = {"pod-not-starting", "app-unreachable", "secrets-not-syncing", "argocd-sync-failure",
            "backup-restore", "certificate-renewal", "complete-outage", "storage-pvc"}


def test_declared_codes_are_documented_and_documented_codes_are_declared() -> None:
    cat = catalogue()
    declared: dict[str, str] = {}
    for chk in all_checks():
        for code in chk.codes:
            assert code in cat, f"{chk.name} declares {code}, which knowledge/checks/*.yaml does not document"
            declared[code] = chk.name
    orphans = sorted(set(cat) - set(declared))
    assert not orphans, f"documented codes no check emits: {orphans}"
    assert len(cat) >= 10


def test_entries_are_complete() -> None:
    for code, s in catalogue().items():
        assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", code), code
        assert len(s.explanation) > 40, f"{code}: explanation too short to teach anything"
        assert s.remediation, f"{code}: no remediation"
        assert s.runbook is None or s.runbook in RUNBOOKS, f"{code}: unknown runbook {s.runbook}"
        for r in s.remediation:
            if r.command and r.command.split()[0] == "kubectl":
                verb = r.command.split()[1]
                if verb in ("delete", "drain"):
                    assert r.safety == "destructive", f"{code}: {r.command} must be marked destructive"
                elif verb in ("get", "describe", "logs", "top", "events", "auth"):
                    assert r.safety == "read-only", f"{code}: {r.command} is read-only"
                else:
                    assert r.safety != "read-only" or verb in ("explain", "api-resources"), f"{code}: {r.command} changes state"


def test_every_template_formats() -> None:
    """Templates use str.format: literal braces (jsonpath) must be doubled or the fix text breaks."""
    from sre_expert.checks.registry import _Params

    for code, s in catalogue().items():
        for r in s.remediation:
            for text in (r.description, r.command or ""):
                try:
                    text.format_map(_Params(kind="Pod", namespace="ns", name="n", resource="pod"))
                except (ValueError, IndexError, AttributeError) as e:
                    raise AssertionError(f"{code}: template {text!r} is malformed: {e}") from None


def test_the_code_index_names_the_file_of_every_code() -> None:
    """`spec` parses only the file its code-line scan names: the scan must find every code, in its file."""
    from sre_expert.knowledge import catalogue as cat

    index = cat._code_files()
    assert set(index) == set(cat.catalogue())
    for code, name in index.items():
        assert code in cat._file_specs(name), (code, name)
        assert cat.find(code) is cat.catalogue()[code]
