"""Pick the snapshot source from the command line: --bundle PATH, --demo, or a live cluster.

A live cluster is used when --context or --kubeconfig is given, or when no source is given and a
kubeconfig ($KUBECONFIG, ~/.kube/config) or a pod's service account is present, as kubectl does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import IO

from sre_expert.core.snapshot import Snapshot
from sre_expert.sources.bundle_reader import BundleError, load_bundle


def demo_path() -> Path:
    """The demo platform bundle shipped inside the package."""
    return Path(str(resources.files("sre_expert") / "demo" / "platform"))


def live_configured() -> bool:
    """Whether a live cluster is configured without flags: a kubeconfig file or an in-cluster account."""
    from sre_expert.sources.live import default_kubeconfig, in_cluster_available

    return bool(default_kubeconfig()) or in_cluster_available()


def source_problem(bundle: str | None, demo: bool, context: str | None, kubeconfig: str | None) -> str | None:
    """Why these source options cannot work, checked before a long-running command (serve, mcp) starts."""
    if bundle and demo:
        return "give either --bundle or --demo, not both"
    if (bundle or demo) and (context or kubeconfig):
        return "give either --bundle/--demo or a live cluster (--context/--kubeconfig), not both"
    if bundle and not Path(bundle).expanduser().exists():
        return f"--bundle {bundle}: no such file or directory"
    if not (bundle or demo or context or kubeconfig) and not live_configured():
        return "no source: give --demo, --bundle PATH, or --context/--kubeconfig for a live cluster"
    return None


def open_source(
    bundle: str | None,
    demo: bool,
    context: str | None = None,
    kubeconfig: str | None = None,
    *,
    namespaces: Iterable[str] = (),
    progress: bool = True,
    prometheus: str | None = None,
    stream: IO[str] | None = None,
) -> Snapshot:
    """The Snapshot for these options. Raises BundleError (LiveSourceError for clusters) with a message.

    `namespaces` limits a live sweep to those namespaces (a Role there is enough; cluster-scoped kinds
    that are forbidden become collection errors). With `progress`, a live sweep shows a bar on stderr
    when it is a terminal, and a one-line summary of what was read; `stream` takes them instead of stderr
    (several clusters read at once each have their own).

    Metrics (`snap.metrics`): from `prometheus` (a URL) when given, queried at the snapshot's time; else a
    bundle's own metrics/metrics.json; else, live, the cluster's Prometheus through the API server's
    service proxy; else a MetricSet saying there is no source, which the diagnosis reports as not checked."""
    snap = _objects(bundle, demo, context, kubeconfig, namespaces, (stream or sys.stderr) if progress else None)
    _attach_metrics(snap, prometheus, context, kubeconfig)
    return snap


def _attach_metrics(snap: Snapshot, prometheus: str | None, context: str | None, kubeconfig: str | None) -> None:
    from sre_expert.sources.prometheus import NO_SOURCE, metrics_from_url, metrics_in_cluster

    live = snap.info.source == "live"
    if prometheus:
        snap.metrics = metrics_from_url(prometheus, snap.info.captured_at, live)
    elif snap.metrics is not None:
        pass  # the bundle carries its own
    elif live:
        snap.metrics = metrics_in_cluster(snap, context, kubeconfig)
    else:
        from sre_expert.core.metric_set import MetricSet

        snap.metrics = MetricSet.absent(NO_SOURCE)
    snap.info.warnings.extend(w for w in snap.metrics.warnings if w not in snap.info.warnings)


def _objects(bundle: str | None, demo: bool, context: str | None, kubeconfig: str | None,
             namespaces: Iterable[str], stream: IO[str] | None) -> Snapshot:
    if bundle and demo:
        raise BundleError("give either --bundle or --demo, not both")
    if (bundle or demo) and (context or kubeconfig):
        raise BundleError("give either --bundle/--demo or a live cluster (--context/--kubeconfig), not both")
    if demo:
        return load_bundle(demo_path())
    if bundle:
        return load_bundle(bundle)
    if context or kubeconfig or live_configured():
        return _live(context, kubeconfig, tuple(namespaces), stream)
    raise BundleError(
        "no source: pass --bundle PATH (a directory or .tar.gz of `kubectl get -o json` output) "
        "or --demo for the bundled demo platform, or --context/--kubeconfig for a live cluster "
        "(no kubeconfig was found at $KUBECONFIG or ~/.kube/config, and this is not a pod)."
    )


def _live(context: str | None, kubeconfig: str | None, namespaces: tuple[str, ...],
          stream: IO[str] | None) -> Snapshot:
    import io

    from sre_expert.sources.live import LiveOptions, sweep
    from sre_expert.sources.live_progress import summary_line, sweep_progress

    opts = LiveOptions(context=context, kubeconfig=kubeconfig, namespaces=namespaces)
    with sweep_progress(stream or io.StringIO()) as progress:
        result = sweep(opts, progress)
    if stream is not None:
        stream.write(summary_line(result) + "\n")
        stream.flush()
    return result.snapshot()
