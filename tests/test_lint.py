"""`sre-expert lint` rules: the example repository is clean, and each injected fault gives exactly the
expected findings at the expected file and line (lines are read from the edited file, not hard-coded)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from lint_faults import EXAMPLE, copy_repo, edit, line_of, run_lint, triples
from schema_validation import validate_object

from sre_expert.knowledge.alert_catalogue import prometheus_rule
from sre_expert.lint.codes import lint_codes
from sre_expert.lint.repo import load_repo, parse_yaml
from sre_expert.lint.runner import lint

pytestmark = [pytest.mark.e2e, pytest.mark.needs("promtool")]

SRC = Path(__file__).resolve().parents[1] / "src" / "sre_expert" / "lint"
RULES = "infrastructure/monitoring/prometheus-rules.yaml"
SCHEDULES = "infrastructure/velero/schedules.yaml"
BSL = "infrastructure/velero/backup-locations.yaml"
STAGING = "values/deployments/lfh-staging.yaml"
LFH = "values/deployments/lfh-production.yaml"
MYCURE = "values/deployments/mycure-production.yaml"
ROUTES = "infrastructure/gateway/routes.yaml"
VALUES = "values/infrastructure/main.yaml"
GATEWAY = "infrastructure/gateway/gateway.yaml"


def test_example_repo_lints_clean() -> None:
    result = run_lint(EXAMPLE)
    assert result.findings == []
    assert result.not_checked == ["helm template: helm not installed (charts/tenant not rendered)"]


def test_example_rule_file_is_the_catalogue() -> None:
    doc = yaml.safe_load((EXAMPLE / RULES).read_text())
    assert doc == prometheus_rule()


def test_example_objects_validate_against_their_schemas() -> None:
    repo = load_repo(EXAMPLE)
    objs = repo.objects()
    kinds = {ro.kind for ro in objs if not ro.from_values}
    assert {"Gateway", "HTTPRoute", "Certificate", "ClusterPolicy", "Schedule", "BackupStorageLocation",
            "ExternalSecret", "ClusterSecretStore", "PrometheusRule", "Application", "ApplicationSet"} <= kinds
    for ro in objs:
        if not ro.from_values:
            validate_object(ro.obj)
    # the tenant values render one HTTPRoute per entry, located on the values lines
    routes = {(ro.namespace, ro.name): ro for ro in objs if ro.from_values and ro.kind == "HTTPRoute"}
    assert set(routes) == {("mycure-production", "api"), ("mycure-production", "app"),
                           ("lfh-production", "api"), ("lfh-staging", "api")}
    stg = routes[("lfh-staging", "api")]
    assert stg.line("spec", "parentRefs", 0, "sectionName") == line_of(EXAMPLE, STAGING, "sectionName: https-lfh-stg")


def test_every_emitted_code_is_documented_and_every_documented_code_emitted() -> None:
    emitted = set()
    for p in SRC.glob("*.py"):
        emitted |= set(re.findall(r'"(LINT-[A-Z0-9-]+)"', p.read_text()))
    documented = set(lint_codes())
    assert emitted == documented
    for c in lint_codes().values():
        assert c.severity in ("critical", "warning", "info") and c.title and c.explanation and c.fix


def _delete_block(root: Path, rel: str, needle: str) -> None:
    """Delete the YAML list item starting at the line holding `needle` (up to the next sibling)."""
    lines = (root / rel).read_text().splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if needle in ln)
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (len(lines[end]) - len(lines[end].lstrip()) > indent or not lines[end].strip()):
        end += 1
    (root / rel).write_text("".join(lines[:start] + lines[end:]))


def _edit_after(root: Path, rel: str, anchor: str, old: str, new: str) -> int:
    """Replace the first `old` after the line holding `anchor`; return its line."""
    lines = (root / rel).read_text().splitlines(keepends=True)
    start = next(i for i, ln in enumerate(lines) if anchor in ln)
    i = next(i for i in range(start, len(lines)) if old in lines[i])
    lines[i] = lines[i].replace(old, new, 1)
    (root / rel).write_text("".join(lines))
    return i + 1


Fault = Callable[[Path], set[tuple[str, str | None, int | None]]]


def wrong_section(r: Path):
    edit(r, STAGING, "sectionName: https-lfh-stg", "sectionName: https-lfh-staging")
    return {("LINT-ROUTE-LISTENER", STAGING, line_of(r, STAGING, "sectionName: https-lfh-staging"))}


def shadowed_listener(r: Path):
    edit(r, STAGING, "sectionName: https-lfh-stg", "sectionName: https-lfh")
    return {("LINT-ROUTE-LISTENER-SHADOWED", STAGING, line_of(r, STAGING, "sectionName: https-lfh"))}


def host_outside_listener(r: Path):
    edit(r, ROUTES, "- grafana.mycureapp.com", "- grafana.mycure.io")
    return {("LINT-ROUTE-HOSTNAME", ROUTES, line_of(r, ROUTES, "- grafana.mycure.io"))}


def parent_missing(r: Path):
    line = _edit_after(r, ROUTES, "name: argocd-server", "name: shared-gateway", "name: public-gateway")
    return {("LINT-ROUTE-PARENT-MISSING", ROUTES, line)}


def host_without_cert(r: Path):
    edit(r, MYCURE, "- app.mycure.md", "- portal.mycure.md")
    return {("LINT-CERT-COVERAGE", MYCURE, line_of(r, MYCURE, "- portal.mycure.md"))}


def two_label_host_without_cert(r: Path):
    edit(r, ROUTES, "- grafana.mycureapp.com", "- grafana.eu.mycureapp.com")
    return {("LINT-CERT-COVERAGE", ROUTES, line_of(r, ROUTES, "- grafana.eu.mycureapp.com"))}


def ttl_wrong_for_tier(r: Path):
    edit(r, SCHEDULES, "ttl: 72h0m0s", "ttl: 168h")
    # the manifest now also disagrees with velero.schedules in the infrastructure values
    return {("LINT-VELERO-TTL-TIER", SCHEDULES, line_of(r, SCHEDULES, "ttl: 168h")),
            ("LINT-VALUES-MISMATCH", VALUES, line_of(r, VALUES, "infrastructure-hourly:"))}


def weekly_ttl_unset(r: Path):
    edit(r, SCHEDULES, "    ttl: 2160h0m0s\n", "")
    return {("LINT-VELERO-TTL-TIER", SCHEDULES, line_of(r, SCHEDULES, "template:", nth=3)),
            ("LINT-VALUES-MISMATCH", VALUES, line_of(r, VALUES, "cluster-resources-weekly:"))}


def invalid_cron(r: Path):
    edit(r, SCHEDULES, 'schedule: "0 3 * * *"', 'schedule: "0 3 * *"')
    return {("LINT-VELERO-CRON-INVALID", SCHEDULES, line_of(r, SCHEDULES, 'schedule: "0 3 * *"')),
            ("LINT-VALUES-MISMATCH", VALUES, line_of(r, VALUES, "infrastructure-daily:"))}


def daily_missing_namespace(r: Path):
    edit(r, SCHEDULES, "      - longhorn-system\n", "")
    return {("LINT-VELERO-DAILY-NAMESPACES", SCHEDULES, line_of(r, SCHEDULES, "includedNamespaces:", nth=2))}


def location_missing(r: Path):
    line = _edit_after(r, SCHEDULES, "name: infrastructure-daily", "storageLocation: default", "storageLocation: primary")
    return {("LINT-VELERO-LOCATION-MISSING", SCHEDULES, line)}


def bsl_missing_bucket(r: Path):
    edit(r, BSL, "    bucket: mc-v4-velero-offsite\n", "")
    # the CRD schema says the same (bucket is required): one finding for the line, not two
    return {("LINT-VELERO-BSL-FIELD", BSL, line_of(r, BSL, "objectStorage:", nth=2))}


def bsl_missing_s3url(r: Path):
    edit(r, BSL, "    s3Url: https://fra1.digitaloceanspaces.com\n", "")
    return {("LINT-VELERO-BSL-FIELD", BSL, line_of(r, BSL, "region: fra1"))}


def bsl_without_credentials(r: Path):
    edit(r, BSL, "  credential:\n    name: velero-spaces-credentials\n    key: cloud\n", "")
    return {("LINT-VELERO-BSL-CREDENTIALS", BSL, line_of(r, BSL, "spec:", nth=2))}


def unlisted_registry(r: Path):
    edit(r, STAGING, "registry: ghcr.io", "registry: quay.io")
    return {("LINT-KYVERNO-REGISTRY", STAGING, line_of(r, STAGING, "repository: monobaselabs/api"))}


def unlisted_registry_in_infra_values(r: Path):
    vals = "values/infrastructure/main.yaml"
    edit(r, vals, "image: docker.io/velero/velero-plugin-for-gcp:v1.11.1", "image: velero/velero-plugin-for-gcp:v1.11.1")
    return {("LINT-KYVERNO-REGISTRY", vals, line_of(r, vals, "velero-plugin-for-gcp"))}


def remote_key_convention(r: Path):
    edit(r, LFH, "{key: lfh-production-jwt-secret}", "{key: jwt-secret}")
    return {("LINT-ESO-REMOTE-KEY", LFH, line_of(r, LFH, "{key: jwt-secret}"))}


def argo_path_missing(r: Path):
    rel = "argocd/infrastructure/velero-config.yaml"
    edit(r, rel, "path: infrastructure/velero", "path: infrastructure/backups")
    return {("LINT-ARGO-PATH", rel, line_of(r, rel, "path: infrastructure/backups"))}


def applicationset_generator_path(r: Path):
    rel = "argocd/bootstrap/applicationset-auto-discover.yaml"
    edit(r, rel, "- path: values/deployments/*.yaml", "- path: values/tenants/*.yaml")
    return {("LINT-ARGO-PATH", rel, line_of(r, rel, "values/tenants/*.yaml"))}


def applicationset_value_file(r: Path):
    rel = "argocd/bootstrap/applicationset-auto-discover.yaml"
    edit(r, rel, '"$values/values/deployments/{{path.filename}}"', '"$values/values/tenants/{{path.filename}}"')
    return {("LINT-ARGO-PATH", rel, line_of(r, rel, "$values/values/tenants/"))}


def threshold_changed(r: Path):
    edit(r, RULES, "kubelet_volume_stats_capacity_bytes * 100 > 80", "kubelet_volume_stats_capacity_bytes * 100 > 85")
    return {("LINT-ALERT-THRESHOLD", RULES, line_of(r, RULES, "kubelet_volume_stats_capacity_bytes * 100 > 85"))}


def alert_missing(r: Path):
    _delete_block(r, RULES, "- alert: APIDown")
    return {("LINT-ALERT-MISSING", RULES, line_of(r, RULES, "- name: api-performance"))}


def group_missing(r: Path):
    _delete_block(r, RULES, "- name: certificates")
    return {("LINT-ALERT-GROUP-MISSING", RULES, line_of(r, RULES, "groups:"))}


def severity_changed(r: Path):
    line = _edit_after(r, RULES, "- alert: NodeHighCPU", "severity: warning", "severity: critical")
    return {("LINT-ALERT-SEVERITY", RULES, line)}


def alert_renamed(r: Path):
    edit(r, RULES, "- alert: NodeDown\n", "- alert: NodeUnreachable\n")
    return {("LINT-ALERT-UNKNOWN", RULES, line_of(r, RULES, "- alert: NodeUnreachable")),
            ("LINT-ALERT-MISSING", RULES, line_of(r, RULES, "- name: node-health"))}


def promtool_rejects(r: Path):
    line = _edit_after(r, RULES, "- alert: APIDown", "} == 0", "} ==")
    return {("LINT-PROMTOOL", RULES, line)}


def kyverno_schema(r: Path):
    rel = "infrastructure/security/kyverno/policies/require-labels.yaml"
    edit(r, rel, "validationFailureAction: Audit", "validationFailureAction: Warn")
    return {("LINT-SCHEMA-INVALID", rel, line_of(r, rel, "validationFailureAction: Warn"))}


def core_kind_schema(r: Path):
    rel = "infrastructure/gateway/namespace.yaml"
    edit(r, rel, "  labels:", "  lables:")
    return {("LINT-SCHEMA-INVALID", rel, line_of(r, rel, "lables:"))}


def listener_edited_in_manifest_only(r: Path):
    edit(r, GATEWAY, 'hostname: "*.mycure.md"\n      allowedRoutes:\n        namespaces: {from: All}\n      tls:',
         'hostname: "*.mycure.health"\n      allowedRoutes:\n        namespaces: {from: All}\n      tls:')
    # the values and the Gateway now disagree, and the mycure routes fall outside their listener
    return {("LINT-VALUES-MISMATCH", VALUES, line_of(r, VALUES, "{name: https-mycure,")),
            ("LINT-ROUTE-HOSTNAME", MYCURE, line_of(r, MYCURE, "- api.mycure.md")),
            ("LINT-ROUTE-HOSTNAME", MYCURE, line_of(r, MYCURE, "- app.mycure.md"))}


def registry_allowed_in_values_only(r: Path):
    edit(r, VALUES, "      - docker.io/longhornio/\n", "      - docker.io/longhornio/\n      - docker.io/library/\n")
    return {("LINT-VALUES-MISMATCH", VALUES, line_of(r, VALUES, "- docker.io/library/"))}


def additional_domain_without_certificate(r: Path):
    edit(r, VALUES, "      - app.mycure.md\n", "      - app.mycure.md\n      - status.mycure.md\n")
    return {("LINT-VALUES-MISMATCH", VALUES, line_of(r, VALUES, "- status.mycure.md"))}


def falco_priority(r: Path):
    rel = "infrastructure/security/falco/rules/database-rules.yaml"
    line = _edit_after(r, rel, "- rule: PostgreSQL Superuser Creation", "priority: CRITICAL", "priority: SEVERE")
    return {("LINT-FALCO-RULE", rel, line)}


def falco_duplicate_rule(r: Path):
    rel = "infrastructure/security/falco/rules/api-rules.yaml"
    edit(r, rel, "- rule: API Sensitive Directory Access", "- rule: API Config Modification")
    return {("LINT-FALCO-RULE", rel, line_of(r, rel, "- rule: API Config Modification", nth=2))}


def invalid_yaml(r: Path):
    rel = "infrastructure/gateway/certificates.yaml"
    edit(r, rel, "  secretName: gateway-tls\n", "  secretName: gateway-tls: wildcard\n")
    # no cascade: without that file no certificate is known, yet no route is reported uncovered
    return {("LINT-YAML-INVALID", rel, line_of(r, rel, "secretName: gateway-tls: wildcard"))}


FAULTS: list[Fault] = [
    wrong_section, shadowed_listener, host_outside_listener, parent_missing, host_without_cert,
    two_label_host_without_cert, ttl_wrong_for_tier, weekly_ttl_unset, invalid_cron, daily_missing_namespace,
    location_missing, bsl_missing_bucket, bsl_missing_s3url, bsl_without_credentials, unlisted_registry,
    unlisted_registry_in_infra_values, remote_key_convention, argo_path_missing, applicationset_generator_path,
    applicationset_value_file,
    threshold_changed, alert_missing, group_missing, severity_changed, alert_renamed, promtool_rejects,
    kyverno_schema, core_kind_schema, listener_edited_in_manifest_only, registry_allowed_in_values_only,
    additional_domain_without_certificate, falco_priority, falco_duplicate_rule, invalid_yaml,
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.__name__ for f in FAULTS])
def test_fault_gives_exactly_the_expected_findings(fault: Fault, tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    expected = fault(root)
    result = run_lint(root)
    assert triples(result) == expected, [(f.code, f.file, f.line, f.title) for f in result.findings]
    assert len(result.findings) == len(expected)


def test_faults_cover_every_rule_code() -> None:
    """Each documented code except drift and helm (tested elsewhere / not installed) has a fault above."""
    import inspect

    source = "".join(inspect.getsource(f) for f in FAULTS)
    untested = {c for c in lint_codes() if f'"{c}"' not in source}
    assert untested == {"LINT-DRIFT-MISSING-IN-CLUSTER", "LINT-DRIFT-NOT-IN-REPO", "LINT-DRIFT-SPEC",
                        "LINT-HELM-TEMPLATE"}


def test_invalid_yaml_skips_absence_rules_with_a_reason(tmp_path: Path) -> None:
    root = copy_repo(tmp_path)
    invalid_yaml(root)
    result = run_lint(root)
    assert ("HTTPRoute certificate coverage: skipped, 1 file that may define Certificate could not be parsed "
            "(infrastructure/gateway/certificates.yaml)") in result.not_checked
    # the other rules still run: nothing else in the repository can be hidden by a broken Certificate file
    assert not any(t.startswith("HTTPRoute parent Gateways") for t in result.not_checked)
    [f] = result.findings
    assert "mapping values are not allowed" in f.title and f.severity == "critical"


def test_parse_errors_never_raise() -> None:
    for text in ("a: [1, 2", "\t- x", "key: {", "- a\nb: c", "a: *nope", "%TAG !x"):
        docs, err = parse_yaml("f.yaml", text)
        assert err is not None and err.line >= 1 and docs == []


def test_lines_follow_the_node_tree() -> None:
    docs, err = parse_yaml("f.yaml", "# c\na: 1\nb:\n  - x\n  - {c: 2}\n---\nk: v\n")
    assert err is None
    assert docs[0].line("b", 1, "c") == 5 and docs[0].line("b", 0) == 4 and docs[0].line("a") == 2
    assert docs[0].line("b", 7, "zz") == 3  # deepest existing prefix
    assert docs[1].index == 1 and docs[1].line("k") == 7


def test_helm_absent_is_not_checked_never_a_pass(tmp_path: Path) -> None:
    from sre_expert.lint.runner import lint

    result = lint(load_repo(EXAMPLE), helm_bin=None, promtool=None)
    assert "helm template: helm not installed (charts/tenant not rendered)" in result.not_checked
    assert "promtool check rules: promtool not installed" in result.not_checked
    assert any(t.startswith("schema: no schema for") and "--crds" in t for t in result.not_checked)


def test_fields_of_unexpected_type_never_abort_a_rule() -> None:
    """Replace random fields by values of the wrong type (seeded): rules skip that object with a note
    naming it, and never fail as a whole (which would hide the findings of every other object)."""
    import copy
    import random

    from sre_expert.lint.runner import lint
    from sre_expert.lint.values import derive_objects

    base = load_repo(EXAMPLE)

    def paths(node, p=()):
        yield p
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            yield from paths(v, p + (k,))

    rng = random.Random(20261126)
    for _ in range(200):
        repo = copy.deepcopy(base)
        doc = rng.choice(repo.docs)
        path = rng.choice([p for p in paths(doc.data) if p])
        node = doc.data
        for k in path[:-1]:
            node = node[k]
        node[path[-1]] = rng.choice([None, 5, "x", [], {}, [1], {"a": 1}, True])
        repo.derived = derive_objects(repo)
        result = lint(repo, promtool=None, helm_bin=None)
        assert not [t for t in result.not_checked if "rule failed" in t], (doc.file, path)


# ------------------------------------------------------------------------------ a hostile repository


def _bomb(levels: int) -> str:
    text = 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]\n'
    for i in range(1, levels):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    return text


def test_yaml_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    """Billion laughs: 9 levels of 10 aliases is 10^9 nodes once followed; the line index (and every rule
    walking the data) would never finish. It is reported as a parse error; moderate alias use still reads."""
    docs, err = parse_yaml("bomb.yaml", _bomb(9))
    assert docs == [] and err is not None and "aliases" in err.message
    docs, err = parse_yaml("ok.yaml", _bomb(3))
    assert err is None and len(docs[0].data["a2"]) == 10
    repo_dir = copy_repo(tmp_path)
    (repo_dir / "bomb.yaml").write_text(_bomb(9))
    repo = load_repo(repo_dir)
    assert [e.file for e in repo.errors] == ["bomb.yaml"]


def test_symlinks_out_of_the_repo_and_special_files_are_not_read(tmp_path: Path) -> None:
    """A checkout is untrusted: `values.yaml -> ~/.kube/config` must not be read into findings, and
    `-> /dev/zero` (size 0 to stat, endless to read) or a FIFO must not hang or exhaust memory."""
    import os

    repo_dir = copy_repo(tmp_path / "repo")
    outside = tmp_path / "kubeconfig.yaml"
    outside.write_text("apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: s3cr3t-token-value\n")
    (repo_dir / "stolen.yaml").symlink_to(outside)
    (repo_dir / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(repo_dir / "fifo.yaml")
    (repo_dir / "inside.yaml").symlink_to(repo_dir / VALUES)  # a link inside the repository still reads
    repo = load_repo(repo_dir)
    errors = {e.file: e.message for e in repo.errors}
    assert "outside the repository" in errors["stolen.yaml"]
    assert "outside the repository" in errors["zero.yaml"]
    assert "not a regular file" in errors["fifo.yaml"]
    assert "inside.yaml" not in errors and repo.doc("inside.yaml") is not None
    assert all(d.file != "stolen.yaml" for d in repo.docs)


def test_helm_does_not_render_a_chart_with_a_link_out_of_the_repo(tmp_path: Path) -> None:
    """helm follows symlinks in a chart: `charts/tenant/kc -> ~/.kube/config` with `{{ fail (.Files.Get "kc") }}`
    puts the kubeconfig into the LINT-HELM-TEMPLATE evidence of a CI run on a hostile pull request. Such a chart
    is not rendered (not checked, with the reason); helm is a recording stand-in (not installed here)."""
    import os

    repo_dir = copy_repo(tmp_path / "repo")
    calls = tmp_path / "helm-calls"
    helm = tmp_path / "helm"
    helm.write_text(f"#!/bin/sh\necho \"$@\" >> {calls}\n")
    helm.chmod(0o755)
    secret = tmp_path / "kubeconfig"
    secret.write_text("token: s3cr3t\n")
    for dep in ("mongodb-16.4.0.tgz", "postgresql-16.2.0.tgz"):  # dependencies vendored, as `helm dep build` does
        (repo_dir / "charts" / "tenant" / "charts").mkdir(exist_ok=True)
        (repo_dir / "charts" / "tenant" / "charts" / dep).write_bytes(b"")
    result = lint(load_repo(repo_dir), promtool=None, helm_bin=str(helm))
    assert calls.exists()  # a clean chart is rendered
    calls.unlink()
    os.symlink(secret, repo_dir / "charts" / "tenant" / "kc")
    result = lint(load_repo(repo_dir), promtool=None, helm_bin=str(helm))
    assert not calls.exists()
    assert any("charts/tenant/kc is a symbolic link out of the repository" in n for n in result.not_checked)
