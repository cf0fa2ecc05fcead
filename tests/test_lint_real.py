"""`sre-expert lint` on files of real public GitOps repositories (tests/data/lint-real, see SOURCES.md):
what a careful engineer concludes on each. No crash, no false critical, the real problems found, and
each thing not checked said so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from schema_validation import CRD_DIR

from sre_expert.lint.backup_schedules import required_missing
from sre_expert.lint.namespaces import norm_url
from sre_expert.lint.registries import registry_rules
from sre_expert.lint.repo import load_repo, parse_yaml
from sre_expert.lint.runner import LintResult, lint, report
from sre_expert.render.lint_report import render_terminal

pytestmark = pytest.mark.e2e

REAL = Path(__file__).resolve().parent / "data" / "lint-real"
EXE = shutil.which("sre-expert", path=str(Path(sys.executable).parent)) or "sre-expert"


def run_lint(root: Path, repo_url: str | None = None) -> LintResult:
    return lint(load_repo(root, repo_url=repo_url), crd_dirs=(str(CRD_DIR),), promtool=None, helm_bin=None)


def codes(result: LintResult, severity: str | None = None) -> list[tuple[str, str | None]]:
    return sorted((f.code, f.file) for f in result.findings if severity is None or f.severity == severity)


def _healthy(result: LintResult) -> None:
    assert not [t for t in result.not_checked if "rule failed" in t or "unexpected type" in t], result.not_checked


# --- each data set as it is -------------------------------------------------------------------------------

def test_argocd_example_apps_kustomize_patch_is_not_a_manifest() -> None:
    """plugins/kustomized-helm/overlays/guestbook-deployment.yaml is a strategic-merge patch (no selector):
    kustomize merges it into the chart's Deployment; it was a false LINT-SCHEMA-INVALID (critical)."""
    root = REAL / "argocd-example-apps"
    repo = load_repo(root)
    assert "plugins/kustomized-helm/overlays/guestbook-deployment.yaml" in repo.patches
    result = run_lint(root)
    _healthy(result)
    assert result.findings == []


def test_flux_example_namespaces_from_kustomize_and_patches() -> None:
    root = REAL / "flux2-kustomize-helm-example"
    repo = load_repo(root)
    [release] = [o for o in repo.objects("HelmRelease") if o.file == "apps/base/podinfo/release.yaml"]
    assert release.namespaces == ("podinfo",)  # kustomization.yaml `namespace: podinfo`
    assert {"apps/production/podinfo-values.yaml", "apps/staging/podinfo-values.yaml"} <= repo.patches
    podinfo = [o for o in repo.objects("Namespace") if o.file == "apps/base/podinfo/namespace.yaml"]
    assert [o.namespaces for o in podinfo] == [()]  # cluster-scoped: kustomize's namespace does not apply
    result = run_lint(root)
    _healthy(result)
    assert result.findings == []


def test_gateway_api_examples_only_the_real_problems() -> None:
    """Each example directory defines its own `example-gateway`: a route is judged against the one next to
    it (no false LINT-ROUTE-LISTENER). The certificates are plain Secrets the repository does not hold:
    coverage is "not checked", not a warning. Found: the http-cors routes name a Gateway nothing defines,
    and against the Gateway API CRDs the platform installs (../shared/crds) the CORS filter and the
    303/307/308 redirect codes do not exist yet (the API server would reject those routes)."""
    result = run_lint(REAL / "gateway-api")
    _healthy(result)
    cors = [f"examples/standard/http-cors/{f}" for f in (
        "httproute-all-fields-set.yaml", "httproute-all-origins-no-creds.yaml", "httproute-credentials-true.yaml",
        "httproute-origins-with-wildcards-no-creds.yaml", "httproute-specific-origin-no-creds.yaml")]
    redirects = [f"examples/standard/http-redirect-rewrite/httproute-redirect-{c}.yaml" for c in (303, 307, 308)]
    assert codes(result, "critical") == sorted(
        [("LINT-ROUTE-PARENT-MISSING", f) for f in cors] + [("LINT-SCHEMA-INVALID", f) for f in cors + redirects])
    assert codes(result) == codes(result, "critical")
    assert all("'cors' was unexpected" in f.title for f in result.findings
               if f.code == "LINT-SCHEMA-INVALID" and "cors" in f.file)
    assert any(f.title.endswith("attaches to Gateway same-namespace, which the repository does not define")
               for f in result.findings)
    [note] = [t for t in result.not_checked if t.startswith("certificate coverage:")]
    assert "example-com" in note and "not checked" in note


def test_kyverno_policy_library_gives_no_registry_warnings() -> None:
    """Before: the first policy with any `image:` pattern was taken as the allow-list and every test Pod of
    the library was reported (17,649 warnings on the whole library)."""
    root = REAL / "kyverno-policies"
    result = run_lint(root)
    _healthy(result)
    assert result.findings == []
    assert any(t.startswith("test resources: 28 YAML files in 7 test directories") for t in result.not_checked)
    from sre_expert.lint.context import LintContext

    [rule] = registry_rules(LintContext(load_repo(root)))
    assert rule.policy.name == "restrict-image-registries" and rule.patterns == ["eu.foo.io/*", "bar.io/*"]
    assert not rule.enforce and {"Pod", "Deployment", "CronJob"} <= rule.kinds


def test_velero_minio_locations_use_default_credentials() -> None:
    """Velero's own examples: MinIO locations without spec.credential (optional upstream) are not critical."""
    result = run_lint(REAL / "velero")
    _healthy(result)
    assert [(f.code, f.severity) for f in result.findings] == [("LINT-VELERO-BSL-CREDENTIALS", "info")] * 2


def test_kube_prometheus_bare_equals_and_non_kubernetes_file() -> None:
    """The AlertmanagerConfig CRD's matchType enum holds a bare `=` (PyYAML's strict loader refuses it,
    kubectl does not); an Alertmanager config example that does not parse is skipped with a note."""
    root = REAL / "kube-prometheus"
    repo = load_repo(root)
    [crd] = repo.docs
    enum = crd.get("spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "spec", "properties",
                   "inhibitRules", "items", "properties", "sourceMatch", "items", "properties", "matchType", "enum")
    assert enum == ["!=", "=", "=~", "!~"]
    result = run_lint(root)
    assert result.findings == []
    [note] = [t for t in result.not_checked if "skipped:" in t]
    assert "examples/alertmanager-config-with-template.yaml" in note and "no apiVersion/kind" in note


def test_cert_manager_template_is_skipped_not_critical() -> None:
    result = run_lint(REAL / "cert-manager")
    assert result.findings == []
    [note] = [t for t in result.not_checked if "skipped:" in t]
    assert "make/config/bind/service.yaml" in note and "placeholders" in note


# --- behaviour on real files, one change at a time -----------------------------------------------------------

def test_kyverno_registry_policy_applies_with_match_exclude_and_action(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REAL / "kyverno-policies", root)
    (root / "deploy").mkdir()
    (root / "deploy" / "app.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\n  namespace: shop\nspec:\n"
        "  selector:\n    matchLabels: {app: shop}\n  template:\n    metadata:\n      labels: {app: shop}\n"
        "    spec:\n      containers:\n        - name: web\n          image: quay.io/acme/shop:1.4.2\n"
        "        - name: sidecar\n          image: eu.foo.io/proxy:2.0\n")
    result = run_lint(root)
    [f] = result.findings
    assert (f.code, f.file, f.line, f.severity) == ("LINT-KYVERNO-REGISTRY", "deploy/app.yaml", 15, "warning")
    assert "audit" in f.title and "restrict-image-registries" in f.title
    policy = root / "best-practices/restrict-image-registries/restrict-image-registries.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("validationFailureAction: Audit", "validationFailureAction: Enforce"))
    [f] = run_lint(root).findings
    assert f.severity == "critical" and "enforce" in f.title
    policy.write_text(text.replace("    validate:\n", "    exclude:\n      any:\n      - resources:\n"
                                   "          namespaces: [shop]\n    validate:\n", 1))
    assert run_lint(root).findings == []


GATEWAY = ("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: example-gateway\n"
           "  namespace: web\n")


def _split_example(tmp_path: Path) -> Path:
    """simple-http-https with its Gateway in namespace web (infra/) and its routes without a namespace (app/)."""
    root = tmp_path / "repo"
    src = REAL / "gateway-api" / "examples" / "standard" / "simple-http-https"
    (root / "infra").mkdir(parents=True)
    (root / "app").mkdir()
    gw = (src / "gateway.yaml").read_text()
    (root / "infra" / "gateway.yaml").write_text(gw.replace("metadata:\n  name: example-gateway\n",
                                                            "metadata:\n  name: example-gateway\n  namespace: web\n"))
    for f in ("foo-route.yaml", "bar-route.yaml"):
        shutil.copy(src / f, root / "app" / f)
    return root


def test_route_namespace_from_kustomize(tmp_path: Path) -> None:
    root = _split_example(tmp_path)
    assert codes(run_lint(root)) == [("LINT-ROUTE-PARENT-MISSING", "app/bar-route.yaml"),
                                     ("LINT-ROUTE-PARENT-MISSING", "app/foo-route.yaml")]  # nothing says "web"
    (root / "app" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: web\n"
        "resources:\n  - foo-route.yaml\n  - bar-route.yaml\n")
    result = run_lint(root)
    assert not [f for f in result.findings if f.code == "LINT-ROUTE-PARENT-MISSING"]


def test_route_namespace_from_kustomize_overlay_through_bases(tmp_path: Path) -> None:
    root = _split_example(tmp_path)
    (root / "app" / "kustomization.yaml").write_text("resources: [foo-route.yaml, bar-route.yaml]\n")
    (root / "overlays" / "prod").mkdir(parents=True)
    (root / "overlays" / "prod" / "kustomization.yaml").write_text("namespace: web\nresources:\n  - ../../app\n")
    assert not [f for f in run_lint(root).findings if f.code == "LINT-ROUTE-PARENT-MISSING"]


def test_route_namespace_from_flux_target_namespace(tmp_path: Path) -> None:
    root = _split_example(tmp_path)
    (root / "clusters").mkdir()
    (root / "clusters" / "apps.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n"
        "  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./app\n  prune: true\n  targetNamespace: web\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n")
    assert not [f for f in run_lint(root).findings if f.code == "LINT-ROUTE-PARENT-MISSING"]


def _argo_app(root: Path, repo_url: str, path: str, namespace: str) -> None:
    (root / "argocd").mkdir(exist_ok=True)
    (root / "argocd" / "app.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\n  namespace: argocd\n"
        f"spec:\n  project: default\n  source:\n    repoURL: {repo_url}\n    targetRevision: HEAD\n"
        f"    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {namespace}\n")


def test_route_namespace_from_argocd_destination(tmp_path: Path) -> None:
    root = _split_example(tmp_path)
    _argo_app(root, "https://github.com/acme/platform.git", "app", "web")
    assert not [f for f in run_lint(root, "git@github.com:acme/platform").findings
                if f.code == "LINT-ROUTE-PARENT-MISSING"]
    _argo_app(root, "https://github.com/acme/platform.git", "app", "shop")  # a real problem: wrong namespace
    assert codes(run_lint(root, "git@github.com:acme/platform")) == [
        ("LINT-ROUTE-PARENT-MISSING", "app/bar-route.yaml"), ("LINT-ROUTE-PARENT-MISSING", "app/foo-route.yaml")]


def test_argocd_paths_only_in_this_repository(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REAL / "argocd-example-apps", root)
    _argo_app(root, "https://github.com/argoproj/argocd-example-apps.git", "helm-guestbook", "default")
    # another repository: not this checkout's business
    result = run_lint(root, repo_url="https://github.com/acme/gitops")
    assert not [f for f in result.findings if f.code == "LINT-ARGO-PATH"]
    assert ("argo cd paths: not checked: path helm-guestbook is in another repository "
            "(https://github.com/argoproj/argocd-example-apps.git)") in result.not_checked
    # the same URL in ssh form: this checkout, where helm-guestbook is absent (only part of the repo copied)
    result = run_lint(root, repo_url="git@github.com:argoproj/argocd-example-apps.git")
    assert codes(result) == [("LINT-ARGO-PATH", "argocd/app.yaml")]
    # without --repo-url: git's origin at the checkout's top level
    git = ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://github.com/acme/gitops.git"], check=True)
    assert load_repo(root).origin == "https://github.com/acme/gitops.git"
    assert not [f for f in run_lint(root).findings if f.code == "LINT-ARGO-PATH"]


def test_norm_url_forms() -> None:
    forms = ["https://github.com/Acme/GitOps.git", "git@github.com:acme/gitops.git", "ssh://git@github.com/acme/gitops",
             "https://github.com/acme/gitops/"]
    assert {norm_url(u) for u in forms} == {"github.com/acme/gitops"}
    assert norm_url("ssh://git@gitlab.example.com:2222/acme/gitops.git") == "gitlab.example.com:2222/acme/gitops"


# --- YAML as kubectl reads it ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,path,want", [
    ("enum:\n- =\n- '!='\n", ("enum",), ["=", "!="]),
    ("a: &x 1\nb: *x\na2: &x 2\nc: *x\n", ("c",), 2),  # redefined anchor: later aliases take the new node
    ("Resources:\n  B:\n    Properties:\n      Name: !Sub '${AWS::StackName}-b'\n", ("Resources", "B", "Properties", "Name"),
     "${AWS::StackName}-b"),
    ("emoji_index: !!python/name:material.extensions.emoji.twemoji\n", ("emoji_index",), ""),
    ("cmd: !!python/object/apply:os.system [ls]\n", ("cmd",), ["ls"]),  # a list, never a call
    ("when: 2024-05-01T10:00:00Z\n", ("when",), "2024-05-01T10:00:00Z"),
])
def test_yaml_read_as_kubectl_does(text: str, path: tuple, want) -> None:
    docs, err = parse_yaml("f.yaml", text)
    assert err is None and docs[0].get(*path) == want


def test_broken_kubernetes_file_is_invalid_and_hides_only_its_kinds(tmp_path: Path) -> None:
    root = _split_example(tmp_path)
    (root / "app" / "kustomization.yaml").write_text("namespace: web\nresources: [foo-route.yaml, bar-route.yaml]\n")
    (root / "infra" / "cert.yaml").write_text("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n"
                                              "  name: x\nspec:\n  secretName: a: b\n")
    (root / "ci.yaml").write_text("on:\n  push: [main\njobs: {}\n")  # not Kubernetes, does not parse
    result = run_lint(root)
    assert codes(result) == [("LINT-YAML-INVALID", "infra/cert.yaml")]
    assert ("HTTPRoute certificate coverage: skipped, 1 file that may define Certificate could not be parsed "
            "(infra/cert.yaml)") in result.not_checked
    assert not [t for t in result.not_checked if t.startswith("HTTPRoute parent Gateways")]  # still checked
    assert any("ci.yaml" in t and "no apiVersion/kind" in t for t in result.not_checked)


# --- Velero fields as the plugins document them ----------------------------------------------------------------

def test_velero_required_fields_follow_the_plugins_docs() -> None:
    assert required_missing("aws", {}, {"bucket": "b"}) == []  # region queried from S3
    assert [w for w, _ in required_missing("aws", {"s3ForcePathStyle": "true", "s3Url": "http://minio:9000"},
                                           {"bucket": "b"})] == ['config.region (required with s3ForcePathStyle: "true")']
    assert required_missing("azure", {"storageAccount": "sa", "storageAccountURI": "sa.blob.core.windows.net"},
                            {"bucket": "b"}) == []
    assert [w for w, _ in required_missing("azure", {}, {"bucket": "b"})] == [
        "config.storageAccount", "config.resourceGroup (or config.storageAccountURI)"]
    assert required_missing("gcp", {}, {"bucket": "b", "prefix": "p"}) == []


# --- terminal grouping ------------------------------------------------------------------------------------------

def _many(tmp_path: Path, n: int) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(REAL / "kyverno-policies", root)
    (root / "deploy").mkdir()
    for i in range(n):
        (root / "deploy" / f"app{i:03}.yaml").write_text(
            f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: app{i}\n  namespace: t{i}\nspec:\n  containers:\n"
            f"    - name: c\n      image: docker.io/acme/app{i}:1.{i}\n")
    return root


def test_terminal_groups_repeated_findings_json_keeps_all(tmp_path: Path) -> None:
    root = _many(tmp_path, 120)
    result = run_lint(root)
    assert len(result.findings) == 120
    rep = report(result, root)
    console = Console(record=True, width=200)
    render_terminal(rep, console, "h")
    grouped = console.export_text()
    assert len(grouped.splitlines()) < 30 and "120 × WARNING  LINT-KYVERNO-REGISTRY  in 120 files" in grouped
    assert "… 117 more (--all, or --output json)" in grouped
    console = Console(record=True, width=200)
    render_terminal(rep, console, "h", show_all=True)
    assert console.export_text().count("LINT-KYVERNO-REGISTRY") == 120
    r = subprocess.run([EXE, "lint", str(root), "-o", "json"], capture_output=True, text=True, timeout=300)
    assert len(json.loads(r.stdout)["findings"]) == 120
    r = subprocess.run([EXE, "lint", str(root), "--all"], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.stdout.count("LINT-KYVERNO-REGISTRY") == 120, r.stderr[-500:]


def test_two_findings_of_a_shape_are_not_grouped(tmp_path: Path) -> None:
    root = _many(tmp_path, 2)
    console = Console(record=True, width=200)
    render_terminal(report(run_lint(root), root), console, "h")
    out = console.export_text()
    assert "deploy/app000.yaml:9  WARNING" in out and "deploy/app001.yaml:9  WARNING" in out and " × " not in out
