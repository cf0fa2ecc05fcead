"""No false alarms: the whole reference platform, healthy, gives no finding at all from any check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import scenario

from sre_expert.diagnosis.engine import diagnose

pytestmark = pytest.mark.scenario


@pytest.mark.parametrize("tenants", [("mycure-production", "lfh-staging"),
                                     ("mycure-production", "lfh-production", "lfh-staging", "mycure-staging")])
def test_healthy_platform_is_silent(tenants: tuple[str, ...]) -> None:
    b = scenario.platform(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), tenants)
    report = diagnose(scenario.snapshot(b))
    assert report.not_checked == []
    assert [(f.severity, f.code, f.object.display(), f.title) for f in report.findings] == []
