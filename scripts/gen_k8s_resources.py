"""Regenerate src/sre_expert/knowledge/k8s_resources.json: the built-in REST resources of each Kubernetes minor.

Run from the repository root with the project's venv (the `test` extra installs kubernetes-validate):

    .venv/bin/python scripts/gen_k8s_resources.py

Where each fact comes from (nothing is typed by hand):
- which group/version/kinds exist in each minor release: the OpenAPI schemas kubernetes-validate ships
  for every minor it supports (a kind is a REST resource when the schema has its `<Kind>List`);
- plural resource name and scope (namespaced or not): the request paths of the official Python client's
  API classes (`GET /apis/{group}/{version}[/namespaces/{namespace}]/{plural}` and the list type it
  returns);
- short names and categories (`po`, `deploy`, category `all`): the discovery documents real API servers
  answered, captured in the troubleshoot bundles of tests/realworld (neither package ships these);
- for the platform's operators (cert-manager, Gateway API, Argo CD...): names, scope, served versions
  and additionalPrinterColumns of the upstream CRDs in ../shared/crds (column descriptions left out).
  A bundle that holds such custom resources but not their CRD is still printed as the cluster did.

Only GA versions, and a beta version of a kind that has no GA version in that minor, are kept: alpha
APIs are off by default on a real server. Versions a bundle's objects use are added at serve time.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import kubernetes
import kubernetes_validate

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "sre_expert" / "knowledge" / "k8s_resources.json"
CRD_DIR = ROOT.parent / "shared" / "crds"
DISCOVERY_CAPTURES = sorted((ROOT / "tests" / "realworld").glob("*/cluster-resources/resources.json"))

_METHOD = re.compile(r"\n    def (\w+)\(")
_SERIALIZE = re.compile(r"method='(GET|POST|PUT|PATCH|DELETE)',\s*resource_path='([^']+)'")
_RESPONSE = re.compile(r"_response_types_map: Dict\[str, Optional\[str\]\] = \{\s*'200': \"(\w+)\"")
_LIST_TYPE = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:alpha\d+|beta\d+)?(\w+)List$")
_PATH = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                   r"(?P<ns>/namespaces/\{namespace\})?/(?P<plural>[a-z0-9]+)$")
_STABLE = re.compile(r"^v\d+$")
_BETA = re.compile(r"^v\d+beta\d+$")


def client_resources() -> dict[tuple[str, str, str], dict[str, object]]:
    """(group, version, kind) → {plural, namespaced} from the client's list operations."""
    api_dir = Path(kubernetes.client.__file__).parent / "api"
    out: dict[tuple[str, str, str], dict[str, object]] = {}
    for path in sorted(api_dir.glob("*_api.py")):
        text = path.read_text()
        methods = {m.group(1): (m.start(), m.end()) for m in _METHOD.finditer(text)}
        starts = sorted(s for s, _ in methods.values()) + [len(text)]
        bodies = {name: text[s:starts[starts.index(s) + 1]] for name, (s, _) in methods.items()}
        for name, body in bodies.items():
            if not name.startswith("list_") or name.endswith(("_with_http_info", "_without_preload_content")):
                continue
            rt = _RESPONSE.search(body)
            ser = _SERIALIZE.search(bodies.get(f"_{name}_serialize", ""))
            if not rt or not ser or ser.group(1) != "GET":
                continue
            kind_m, path_m = _LIST_TYPE.match(rt.group(1)), _PATH.match(ser.group(2))
            if not kind_m or not path_m:
                continue
            group = path_m.group("group") or ""
            version = path_m.group("core") or path_m.group("version")
            key = (group, version, kind_m.group(1))
            entry = out.setdefault(key, {"plural": path_m.group("plural"), "namespaced": False})
            if path_m.group("ns"):
                entry["namespaced"] = True
    return out


def schema_kinds() -> dict[int, set[tuple[str, str, str]]]:
    """minor → every (group, version, kind) with a List type in that release's OpenAPI schemas."""
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    out: dict[int, set[tuple[str, str, str]]] = {}
    for d in sorted(base.glob("v1.*.0-local")):
        minor = int(d.name.split(".")[1])
        defs = json.loads((d / "_definitions.json").read_text())["$defs"]
        kinds: set[tuple[str, str, str]] = set()
        for name, schema in defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind") or ():
                if gvk["kind"].endswith("List") and name.endswith(gvk["kind"]):
                    kinds.add((gvk["group"], gvk["version"], gvk["kind"][: -len("List")]))
        out[minor] = kinds
    return out


def captured_names() -> dict[tuple[str, str], dict[str, list[str]]]:
    """(group, kind) → shortNames and categories as real API servers reported them."""
    out: dict[tuple[str, str], dict[str, list[str]]] = {}
    for path in DISCOVERY_CAPTURES:
        for doc in json.loads(path.read_text()):
            gv = doc.get("groupVersion") or ""
            group = gv.split("/", 1)[0] if "/" in gv else ""
            for r in doc.get("resources") or ():
                if "/" in r["name"]:
                    continue
                names = out.setdefault((group, r["kind"]), {})
                for field in ("shortNames", "categories"):
                    merged = names.setdefault(field, [])
                    merged.extend(x for x in r.get(field) or () if x not in merged)
    return {gk: {f: v for f, v in n.items() if v} for gk, n in out.items()}


def upstream_crds() -> list[dict[str, object]]:
    """The facts of each upstream CRD a served custom resource needs (no schema, no prose)."""
    import yaml

    out: dict[tuple[str, str], dict[str, object]] = {}
    for path in sorted(CRD_DIR.rglob("*.yaml")):
        if "experimental" in path.parts:
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            versions = [{"name": v["name"], "served": v.get("served", True), "storage": v.get("storage", False),
                         "additionalPrinterColumns": [{k: c[k] for k in ("name", "type", "jsonPath", "priority", "format")
                                                      if k in c} for c in v.get("additionalPrinterColumns") or ()]}
                        for v in spec["versions"]]
            names = {k: spec["names"][k] for k in ("kind", "plural", "singular", "shortNames", "categories", "listKind")
                     if k in spec["names"]}
            out[(spec["group"], names["kind"])] = {
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": f"{names['plural']}.{spec['group']}"},
                "spec": {"group": spec["group"], "names": names, "scope": spec["scope"], "versions": versions}}
    return [out[k] for k in sorted(out)]


def main() -> int:
    client = client_resources()
    by_group_kind = {(g, k): v for (g, _, k), v in client.items()}
    names = captured_names()
    minors = schema_kinds()
    spans: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for minor, kinds in minors.items():
        stable = {(g, k) for g, v, k in kinds if _STABLE.match(v)}
        for g, v, k in kinds:
            if _STABLE.match(v) or (_BETA.match(v) and (g, k) not in stable):
                spans[(g, v, k)].append(minor)
    resources, unknown = [], []
    for (g, v, k), present in sorted(spans.items()):
        info = client.get((g, v, k)) or by_group_kind.get((g, k))
        if info is None:
            unknown.append(f"{g}/{v} {k}")
            continue
        entry: dict[str, object] = {"group": g, "version": v, "kind": k, "name": info["plural"],
                                    "namespaced": info["namespaced"], "minors": [min(present), max(present)]}
        entry.update(names.get((g, k), {}))
        resources.append(entry)
    doc = {
        "comment": "Generated by scripts/gen_k8s_resources.py; do not edit by hand.",
        "sources": {"kubernetes": kubernetes.__version__,
                    "kubernetes-validate": kubernetes_validate.__version__ if hasattr(kubernetes_validate, "__version__")
                    else "", "discovery": [str(p.relative_to(ROOT)) for p in DISCOVERY_CAPTURES],
                    "crds": "shared/crds (see its SOURCES.md)"},
        "minors": [min(minors), max(minors)],
        "resources": resources,
        "crds": upstream_crds(),
    }
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"{len(resources)} resources, minors {min(minors)}-{max(minors)} → {OUT.relative_to(ROOT)}")
    for u in unknown:
        print(f"skipped (no REST path in the client): {u}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
