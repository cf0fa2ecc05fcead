"""Settings of one `sre-expert serve` process (the CLI fills them; tests build them directly)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sre_expert.edges.webhook.clusters import ClusterSource

if TYPE_CHECKING:
    from sre_expert.core.snapshot import Snapshot

DEFAULT_MAX_BODY = 5 * 1024 * 1024  # a group of a few thousand alerts; Alertmanager sends whole groups


@dataclass(slots=True)
class ServeConfig:
    db_path: str = "sre-expert.db"  # a SQLite file, or a postgresql:// DSN (replicas share it)
    lease_seconds: float = 60.0  # how long a claim outlives a replica that stopped renewing it
    token: str | None = None  # None only with --insecure-no-auth
    bundle: str | None = None
    demo: bool = False
    context: str | None = None
    kubeconfig: str | None = None
    namespaces: tuple[str, ...] = ()
    prometheus: str | None = None  # Prometheus URL for the metric checks (open_source's `prometheus`)
    workers: int = 2
    max_body: int = DEFAULT_MAX_BODY
    slack_webhook: str | None = None
    webhook: str | None = None
    external_url: str | None = None  # where the pages are reachable, for links in notifications
    grafana_url: str | None = None  # Grafana's base URL: the pages link each alert's query into Explore
    notify_base_delay: float = 2.0
    notify_max_attempts: int = 6
    max_concurrent_ingest: int = 16
    login_attempts: int = 5  # POST /login per client address per login_window seconds (then 429)
    login_window: float = 60.0
    source_ttl: float | None = field(default=None)  # None: from the source (live 30 s, bundle/demo forever)
    loader: Callable[[], Snapshot] | None = None  # tests inject a snapshot; else open_source(...)
    announce: Callable[[str], None] | None = None  # the CLI prints start/stop lines through it
    # several clusters (server/clusters.py): when given, the source fields above are unused
    clusters: tuple[ClusterSource, ...] = ()
    cluster_label: str = "cluster"  # the alert label that names the cluster an alert is about

    @property
    def live(self) -> bool:
        return not (self.bundle or self.demo)

    def ttl(self, live: bool | None = None) -> float | None:
        """Seconds a snapshot is reused: --source-ttl, else 30 s for a live cluster (`live`, by default
        this config's own source) and forever for a bundle."""
        if self.source_ttl is not None:
            return self.source_ttl if self.source_ttl > 0 else None
        from sre_expert.edges.webhook.worker import LIVE_TTL

        return LIVE_TTL if (self.live if live is None else live) else None

    def cluster_sources(self) -> list[ClusterSource]:
        """The clusters served: those configured, else one made of the source fields (named after the
        context, the bundle, or "demo"; with one cluster the name routes nothing)."""
        if self.clusters:
            return list(self.clusters)
        name = self.context or self.bundle or ("demo" if self.demo else "default")
        return [ClusterSource(name, bundle=self.bundle, demo=self.demo, context=self.context,
                              kubeconfig=self.kubeconfig, namespaces=self.namespaces, prometheus=self.prometheus,
                              loader=self.loader)]

    def targets(self) -> list[tuple[str, str]]:
        out = []
        if self.slack_webhook:
            out.append(("slack", self.slack_webhook))
        if self.webhook:
            out.append(("webhook", self.webhook))
        return out


def create_private(path: str) -> None:
    """Create the SQLite file readable by its owner only (0600) before SQLite opens it: it holds alert
    labels, evidence and cluster names. SQLite gives its -wal and -shm files the database file's mode. An
    existing file keeps its mode (it is the operator's)."""
    if not path or path == ":memory:" or path.startswith(("file:", "postgresql://", "postgres://")):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists (keeps its mode), or the directory does not: the Store says so
        return
    os.close(fd)
