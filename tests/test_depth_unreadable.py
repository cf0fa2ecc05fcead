"""No inference from an unreadable kind (issue 17): when listing GatewayClasses was forbidden, a Gateway
is judged by its own status; "no such GatewayClass" is never concluded from a list that could not be read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scenario import has, platform, snapshot_without

from sre_expert.diagnosis.engine import diagnose
from synth.meta import condition, set_condition

pytestmark = pytest.mark.scenario

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def test_an_accepted_gateway_is_not_called_unaccepted_when_gatewayclasses_are_forbidden() -> None:
    b = platform(NOW)
    report = diagnose(snapshot_without(b, "GatewayClass"))
    assert not [f for f in report.findings if f.code == "GATEWAY-NOT-ACCEPTED"]
    assert not [f for f in report.findings if has(f.evidence, "no such GatewayClass")]
    assert [n for n in report.not_checked if "GatewayClass" in n and "forbidden" in n]


def test_an_unaccepted_gateway_is_reported_without_claiming_its_class_is_missing() -> None:
    b = platform(NOW)
    gw = b.require("Gateway", "gateway-system", "shared-gateway")
    set_condition(gw, condition("Accepted", "False", "InvalidParameters",
                                'Invalid parametersRef: EnvoyProxy "proxy-config" not found',
                                NOW - timedelta(minutes=9), observed_generation=gw["metadata"].get("generation", 1)))
    report = diagnose(snapshot_without(b, "GatewayClass"))
    found = [f for f in report.findings if f.code == "GATEWAY-NOT-ACCEPTED" and f.object.name == "shared-gateway"]
    assert found and has(found[0].evidence, "Accepted=False")
    assert not [f for f in report.findings if has(f.evidence, "no such GatewayClass")]
