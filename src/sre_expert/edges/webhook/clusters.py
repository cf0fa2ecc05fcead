"""Many clusters in one `serve`: where each cluster's state comes from, and which cluster an
investigation runs against.

Each alert is routed by one of its labels (`cluster` unless --cluster-label says otherwise; Prometheus
sets it through `external_labels`). With one cluster configured every investigation runs against it, as
before. With several, an investigation whose alerts name no cluster, or one that is not configured,
fails with an error naming the label and the known clusters: investigating the wrong cluster would
produce a confident, wrong root cause.

The cluster file (`serve --clusters FILE`), YAML:

    clusters:
      - name: prod                      # the value of the routing label
        context: arn:aws:eks:eu-west-1:123456789012:cluster/prod
      - name: staging
        kubeconfig: /etc/sre-expert/staging.kubeconfig   # its current context, or `context:` too
        namespaces: [lfh-staging]       # optional: list only these (a Role there is enough)
        prometheus: http://prometheus.staging.example:9090   # optional
      - name: lab
        bundle: /snapshots/lab.tar.gz   # or `demo: true`
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sre_expert.core.snapshot import Snapshot
    from sre_expert.edges.webhook.worker import SourceCache

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,252}")
FILE_KEYS = ("name", "context", "kubeconfig", "bundle", "demo", "namespaces", "prometheus")


class ClusterConfigError(ValueError):
    """The clusters given cannot be served; the message says which and why (a usage error)."""


class UnknownCluster(LookupError):
    """An investigation whose alerts name no configured cluster."""


@dataclass(frozen=True, slots=True)
class ClusterSource:
    """One cluster `serve` investigates: its name (the routing label's value) and where its state comes from."""

    name: str
    bundle: str | None = None
    demo: bool = False
    context: str | None = None
    kubeconfig: str | None = None
    namespaces: tuple[str, ...] = ()
    prometheus: str | None = None
    loader: Callable[[], Snapshot] | None = None  # tests inject a snapshot

    @property
    def live(self) -> bool:
        return not (self.bundle or self.demo)

    @property
    def kind(self) -> str:
        return "demo" if self.demo else "bundle" if self.bundle else "live"

    def make_loader(self) -> Callable[[], Snapshot]:
        if self.loader is not None:
            return self.loader
        from sre_expert.sources.resolve import open_source

        bundle, demo, context, kubeconfig, ns = self.bundle, self.demo, self.context, self.kubeconfig, self.namespaces
        prometheus = self.prometheus or None  # None: open_source's default, no Prometheus
        return lambda: open_source(bundle, demo, context, kubeconfig, namespaces=ns, progress=False,
                                   prometheus=prometheus)


def split_named(value: str) -> tuple[str | None, str]:
    """`NAME=VALUE` as (NAME, VALUE); a value without a name in front as (None, value). A path such as
    ./a=b is not named (the part before `=` is not a cluster name)."""
    name, sep, rest = value.partition("=")
    if sep and rest and NAME.fullmatch(name):
        return name, rest
    return None, value


def from_flags(bundles: Sequence[str], contexts: Sequence[str], *, kubeconfig: str | None,
               namespaces: Sequence[str], prometheus: str | None) -> list[ClusterSource]:
    """The clusters of repeated --bundle/--context (each NAME=VALUE, or named after its context or path).
    --kubeconfig and -n apply to every context; --prometheus names one cluster's, so only one cluster
    may have it."""
    if bundles and contexts:
        raise ClusterConfigError("give either bundles (--bundle) or live clusters (--context), not both; "
                                 "a cluster file (--clusters) can mix them")
    if prometheus and len(bundles) + len(contexts) > 1:
        raise ClusterConfigError("--prometheus names one cluster's Prometheus: give each cluster its own in a "
                                 "cluster file (--clusters FILE, key `prometheus`)")
    return [ClusterSource(name, bundle=bundle) if bundle is not None else
            ClusterSource(name, context=context, kubeconfig=kubeconfig, namespaces=tuple(namespaces),
                          prometheus=prometheus)
            for name, bundle, context in named_flags(bundles, contexts)]


def named_flags(bundles: Sequence[str], contexts: Sequence[str]) -> list[tuple[str, str | None, str | None]]:
    """(name, bundle, context) of repeated --bundle/--context in command-line order, each `NAME=VALUE` or named
    after its path or context: how `serve` and a fleet `check` name their clusters. ClusterConfigError for a
    name given twice."""
    out: list[tuple[str, str | None, str | None]] = []
    for value in bundles:
        name, path = split_named(value)
        out.append((name or path, path, None))
    for value in contexts:
        name, ctx = split_named(value)
        out.append((name or ctx, None, ctx))
    seen: set[str] = set()
    for name, _, _ in out:
        if name in seen:
            raise ClusterConfigError(f"cluster {name} is named twice; give each cluster once")
        seen.add(name)
    return out


def check_names(clusters: Sequence[ClusterSource], where: str = "") -> None:
    seen: set[str] = set()
    for c in clusters:
        if c.name in seen:
            raise ClusterConfigError(f"{where}cluster {c.name} is named twice; give each cluster once")
        seen.add(c.name)


def parse_cluster_file(doc: Any, where: str) -> list[ClusterSource]:
    """The clusters of a parsed cluster file (module docstring); ClusterConfigError names the entry."""
    if not isinstance(doc, dict) or not isinstance(doc.get("clusters"), list) or not doc["clusters"]:
        raise ClusterConfigError(f"{where}: expected `clusters:` with a list of clusters (name, and one of "
                                 "context, kubeconfig, bundle, demo)")
    extra = sorted(str(k) for k in doc if k != "clusters")
    if extra:
        raise ClusterConfigError(f"{where}: unknown key {', '.join(extra)}; the file holds `clusters:` only")
    out = []
    for i, entry in enumerate(doc["clusters"], 1):
        at = f"{where}: cluster {i}"
        if not isinstance(entry, dict):
            raise ClusterConfigError(f"{at}: expected a mapping (name: …, context: …)")
        unknown = sorted(str(k) for k in entry if k not in FILE_KEYS)
        if unknown:
            raise ClusterConfigError(f"{at}: unknown key {', '.join(unknown)}; known: {', '.join(FILE_KEYS)}")
        strings = {}
        for key in ("name", "context", "kubeconfig", "bundle", "prometheus"):
            v = entry.get(key)
            if v is not None and (not isinstance(v, str) or not v.strip()):
                raise ClusterConfigError(f"{at}: `{key}` must be a non-empty string")
            strings[key] = v.strip() if isinstance(v, str) else None
        name = strings["name"]
        if not name or not NAME.fullmatch(name):
            raise ClusterConfigError(f"{at}: `name` is required: the value alerts carry in their cluster label "
                                     "(letters, digits, . _ : -)")
        demo = entry.get("demo", False)
        if not isinstance(demo, bool):
            raise ClusterConfigError(f"{at} ({name}): `demo` must be true or false")
        live = bool(strings["context"] or strings["kubeconfig"])
        if sum((bool(strings["bundle"]), demo, live)) != 1:
            raise ClusterConfigError(f"{at} ({name}): give exactly one source: context/kubeconfig, bundle, or demo")
        ns = entry.get("namespaces") or []
        if isinstance(ns, str):
            ns = [n for n in ns.split(",") if n.strip()]
        if not isinstance(ns, list) or not all(isinstance(n, str) and n.strip() for n in ns):
            raise ClusterConfigError(f"{at} ({name}): `namespaces` must be a list of namespace names")
        if strings["prometheus"] and not strings["prometheus"].startswith(("http://", "https://")):
            raise ClusterConfigError(f"{at} ({name}): `prometheus` must be an http(s) URL")
        out.append(ClusterSource(name, bundle=strings["bundle"], demo=demo, context=strings["context"],
                                 kubeconfig=strings["kubeconfig"], namespaces=tuple(n.strip() for n in ns),
                                 prometheus=strings["prometheus"]))
    check_names(out, f"{where}: ")
    return out


def load_cluster_file(path: str) -> list[ClusterSource]:
    """Read and parse a cluster file (I/O at the edge); ClusterConfigError when it cannot be used."""
    import os

    import yaml

    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ClusterConfigError(f"--clusters {path}: cannot read it: {first}") from None
    return [replace(c, kubeconfig=os.path.expanduser(c.kubeconfig)) if c.kubeconfig else c
            for c in parse_cluster_file(doc, path)]


def route(cluster: str | None, names: Sequence[str], label: str) -> str:
    """The configured cluster an investigation runs against. One cluster takes everything; with several,
    the label must name one of them (UnknownCluster says which label and which clusters)."""
    if len(names) == 1:
        return names[0]
    if cluster in names:
        return cluster  # type: ignore[return-value]
    known = ", ".join(names)
    if cluster is None:
        raise UnknownCluster(
            f"the alerts carry no `{label}` label (or disagree on it), and {len(names)} clusters are configured "
            f"({known}): set `{label}` on every alert (Prometheus external_labels) and group by it in Alertmanager, "
            "or choose another label with --cluster-label")
    raise UnknownCluster(f"`{label}`=\"{cluster}\" names no configured cluster; known clusters: {known}")


class Clusters:
    """Every configured cluster's source cache, and the routing of a claimed job to one of them."""

    def __init__(self, sources: Sequence[ClusterSource], caches: Mapping[str, SourceCache], label: str):
        self.sources = list(sources)
        self.caches = dict(caches)
        self.label = label
        self.names = [s.name for s in self.sources]

    @property
    def default(self) -> SourceCache:
        return self.caches[self.names[0]]

    def name_for(self, job: Mapping[str, Any]) -> str:
        """The cluster a claimed job runs against (`cluster` as the store recorded it)."""
        return route(job.get("cluster"), self.names, self.label)

    def for_job(self, job: Mapping[str, Any]) -> SourceCache:
        return self.caches[self.name_for(job)]
