"""Investigation workers: a bounded pool that claims queued investigations from the store.

Why a cached source: a burst of alerts (a node dies, 300 pods alert) must not sweep the cluster 300
times. The snapshot is reused for a short TTL (live: 30 s; a bundle or the demo never changes, so it is
loaded once) and its diagnosis is computed once per snapshot; each investigation is then a few
milliseconds of pure work on the cached report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from sre_expert.core.snapshot import Snapshot
from sre_expert.diagnosis.engine import Report, diagnose
from sre_expert.edges.webhook.investigate import investigate_alerts, investigate_check
from sre_expert.edges.webhook.store import StoreBase

if TYPE_CHECKING:
    from sre_expert.edges.webhook.clusters import Clusters

log = logging.getLogger("sre_expert.edges.webhook")
LIVE_TTL = 30.0
LIVE_RETRY_FAILED = 10.0  # seconds a live cluster that could not be read is not read again for an investigation


class SourceUnavailable(RuntimeError):
    """The cluster could not be read moments ago (the message is that read's error); not tried again yet."""


class SourceCache:
    """The snapshot and its diagnosis, shared by every worker. One load at a time; while a live
    snapshot is being re-read, the other workers keep using the previous one instead of waiting."""

    def __init__(self, loader: Callable[[], Snapshot], ttl: float | None, *, clock: Callable[[], float] = time.monotonic,
                 retry_failed: float = 0.0):
        self._loader = loader
        self._ttl = ttl
        self._clock = clock
        # never loaded and the last read failed less than this long ago: fail at once with its error. A read
        # of a cluster whose API server hangs takes a minute of timeouts; one per queued investigation held
        # every worker, and the other clusters' investigations waited behind them.
        self._retry_failed = retry_failed
        self._failed_at: float | None = None
        self._state = threading.Lock()  # guards the fields below; held only for a moment
        self._loading = threading.Lock()  # held for a whole load
        self._snap: Snapshot | None = None
        self._report: Report | None = None
        self._loaded_at = 0.0
        self.loads = 0
        self.last_error: str | None = None

    def _fresh(self) -> bool:
        if self._snap is None:
            return False
        return self._ttl is None or self._clock() - self._loaded_at < self._ttl

    def _current(self) -> tuple[Snapshot, Report]:
        assert self._snap is not None and self._report is not None
        return self._snap, self._report

    def get(self) -> tuple[Snapshot, Report]:
        """The current snapshot and diagnosis, loading again when the TTL has passed. A failed reload
        keeps serving the last good snapshot (an investigation on 30 s-old data beats none) and is
        retried after another TTL."""
        with self._state:
            if self._fresh() or (self._snap is not None and self._loading.locked()):
                return self._current()
            self._raise_recent_failure()
        with self._loading:
            with self._state:
                if self._fresh():  # another worker loaded it while we waited
                    return self._current()
                self._raise_recent_failure()  # or failed to, while we waited
            try:
                snap = self._loader()
                report = diagnose(snap)
            except Exception as e:
                with self._state:
                    self.last_error = f"{type(e).__name__}: {e}"
                    if self._snap is None:
                        self._failed_at = self._clock()
                        raise
                    self._loaded_at = self._clock()
                    from sre_expert.safety.redact import redact

                    log.warning("reloading the source failed, keeping the last snapshot: %s", redact(self.last_error))
                    return self._current()
            with self._state:
                self._snap, self._report, self._loaded_at = snap, report, self._clock()
                self.loads += 1
                self.last_error, self._failed_at = None, None
                return self._current()

    def _raise_recent_failure(self) -> None:
        """Called holding _state: SourceUnavailable when nothing was ever loaded and the last read failed
        within the retry window."""
        if (self._snap is None and self._failed_at is not None and self.last_error
                and self._clock() - self._failed_at < self._retry_failed):
            raise SourceUnavailable(self.last_error)

    @property
    def loaded(self) -> bool:
        return self._snap is not None


def run_job(job: dict[str, Any], snap: Snapshot, report: Report) -> dict[str, Any]:
    """The result fields of one claimed investigation (pure given the snapshot and report)."""
    if job["trigger"] == "manual":
        req = job.get("request") or {}
        return investigate_check(req.get("namespace"), req.get("component"), snap, report)
    return investigate_alerts(job.get("alertname"), job.get("commonLabels") or {}, job.get("alerts") or [],
                              snap, report)


class WorkerPool:
    """N threads claiming from the store, plus a lease keeper: it renews this replica's claims every third
    of the lease and queues again the work of replicas whose leases expired. An exception fails that
    investigation, never the worker."""

    def __init__(self, store: StoreBase, source: SourceCache | Clusters, workers: int = 2,
                 notify: Sequence[tuple[str, str]] = (),
                 on_finished: Callable[[str, str], None] | None = None):
        self.store = store
        self.on_finished = on_finished  # (id, "done" or "failed"): the metrics counter and the log line
        self.source = source
        self.workers = max(1, workers)
        self.notify = tuple(notify)  # (target, url) told of each result, queued as the result is stored
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self.store.requeue_interrupted()
        for i in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"sre-expert-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        keeper = threading.Thread(target=self._keep_leases, name="sre-expert-leases", daemon=True)
        keeper.start()
        self._threads.append(keeper)

    def _keep_leases(self) -> None:
        while not self._stop.wait(max(0.05, self.store.lease / 3)):
            try:
                self.store.renew_leases()
                self.store.requeue_expired()
            except Exception as e:  # the db is unreachable for a moment: the next round tries again
                log.error("renewing leases failed: %s", e)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.store._wake()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim()
            except Exception as e:  # the db is busy or closing: back off, never die
                log.error("claiming an investigation failed: %s", e)
                self._stop.wait(1.0)
                continue
            if job is None:
                self.store.wait_for_work(1.0)
                continue
            self.run_one(job)

    def _source_for(self, job: dict[str, Any]) -> SourceCache:
        """The job's cluster's source (server/clusters.py routes it), or the one source this pool has."""
        pick = getattr(self.source, "for_job", None)
        return pick(job) if pick is not None else cast(SourceCache, self.source)  # no for_job: not Clusters

    def run_one(self, job: dict[str, Any]) -> None:
        from sre_expert.edges.webhook.app import one_line  # app imports this module: a late import
        from sre_expert.safety.redact import redact

        inv_id, gen = job["id"], job["generation"]
        try:
            snap, report = self._source_for(job).get()
            result = run_job(job, snap, report)
        except Exception as e:
            error = redact(f"{type(e).__name__}: {e}")[:2000]
            # no traceback: it would quote unredacted; one line: the error may quote an alert's label
            log.error("investigation %s failed: %s", inv_id, one_line(error, 2000))
            self.store.fail(inv_id, gen, error)
            if self.on_finished:
                self.on_finished(inv_id, "failed")
            return
        self.store.finish(inv_id, gen, result, self.notify)
        if self.on_finished:
            self.on_finished(inv_id, "done")
