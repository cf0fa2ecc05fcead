"""Every check run of every test is held to its @check declaration (codes, speaks_for, depends_on): a finding
that emits an undeclared code or links by an undeclared key kind fails the test that produced it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sre_expert.checks.registry import AUDIT, Check, outside_declaration
from sre_expert.core.model import Finding


def _hold_to_declaration(chk: Check, produced: list[Finding]) -> None:
    problems = outside_declaration(chk, produced)
    if problems:
        raise AssertionError("findings outside their @check declaration (declare the kind, or fix the key): "
                             + "; ".join(problems[:10]))


@pytest.fixture(autouse=True)
def _audit_check_declarations() -> Iterator[None]:
    token = AUDIT.set(_hold_to_declaration)
    yield
    AUDIT.reset(token)
