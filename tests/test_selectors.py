"""Label selectors as the API server evaluates them."""

import pytest

from sre_expert.core.selectors import describe, matches, matches_map

pytestmark = pytest.mark.unit

LABELS = {"app.kubernetes.io/name": "api", "tier": "backend", "env": "prod"}


def test_equality_selector_of_services() -> None:
    assert matches_map({"app.kubernetes.io/name": "api"}, LABELS)
    assert not matches_map({"app.kubernetes.io/name": "web"}, LABELS)
    assert not matches_map({}, LABELS) and not matches_map(None, LABELS)


def test_set_based_selector() -> None:
    assert matches({}, LABELS) and not matches(None, LABELS)
    sel = {"matchLabels": {"tier": "backend"}, "matchExpressions": [
        {"key": "env", "operator": "In", "values": ["prod", "stg"]},
        {"key": "canary", "operator": "DoesNotExist"},
        {"key": "app.kubernetes.io/name", "operator": "Exists"},
        {"key": "env", "operator": "NotIn", "values": ["dev"]},
    ]}
    assert matches(sel, LABELS)
    assert not matches({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}, LABELS)
    assert matches({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, LABELS)
    assert not matches({"matchExpressions": [{"key": "env", "operator": "Bogus"}]}, LABELS)
    assert describe(sel) == "tier=backend,env in (prod,stg),!canary,app.kubernetes.io/name,env notin (dev)"
