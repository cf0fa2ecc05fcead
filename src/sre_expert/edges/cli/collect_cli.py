"""`sre-expert bundle collect`: sweep a live cluster once and write it as a bundle.

Registered by bundle_cli.py with `register_collect(bundle_app)`. Imports only typer, the standard library and
the shared options at module level: the kubernetes client loads when the command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sre_expert.edges.cli.options import ContextOpt, KubeconfigOpt, LiveNamespacesOpt, live_defaults, print_error


def register_collect(bundle_app: typer.Typer) -> None:
    @bundle_app.command("collect")
    def collect(
        output: Annotated[str, typer.Option(
            "--output", "-o", help="Bundle to write: FILE.tar.gz (or .tgz), or a new, empty directory.")],
        context: ContextOpt = None,
        kubeconfig: KubeconfigOpt = None,
        namespace: LiveNamespacesOpt = None,
        workers: Annotated[int, typer.Option(help="Concurrent API requests.", min=1, max=64)] = 8,
        timeout: Annotated[float, typer.Option(help="Seconds allowed per API request.", min=1)] = 30.0,
        logs: Annotated[bool, typer.Option("--logs/--no-logs", help="Tail the logs of unhealthy containers.")] = True,
        prometheus: Annotated[str | None, typer.Option(
            "--prometheus", help="Also evaluate the metric queries on this Prometheus URL into metrics/metrics.json.")] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Overwrite an existing FILE.tar.gz (on a terminal you are asked instead).")] = False,
    ) -> None:
        """Read a live cluster (read-only: get and list) and write a bundle `check --bundle` reads.

        Written: one JSON List per kind; bundle.json (capture time, kinds that could not be read);
        with --prometheus, metrics/metrics.json (the metric checks' queries at the capture time).

        Logs: unhealthy containers only, last 500 lines; tokens, URI passwords, JWTs, keys masked.

        Secret values are never written, only their keys.

        Examples: [bold]sre-expert bundle collect -o prod.tar.gz[/] ·
        [bold]sre-expert bundle collect --context stg -n lfh-staging -o stg.tar.gz[/]

        Exit status: 0 written (unreadable kinds are listed on stderr), 1 you kept an existing file,
        2 bad usage or no cluster.
        """
        import sys
        from pathlib import Path

        from sre_expert.sources.bundle_writer import is_archive, output_problem, write_bundle
        from sre_expert.sources.live import LiveOptions, LiveSourceError, sweep
        from sre_expert.sources.live_progress import summary_line, sweep_progress

        out = Path(output)
        problem = output_problem(out)
        if problem:
            print_error(problem)
            raise typer.Exit(2)
        if is_archive(out) and out.exists() and not force:
            if not (sys.stdin.isatty() and sys.stderr.isatty()):
                print_error(f"{out} exists: pass --force to overwrite it")
                raise typer.Exit(2)
            try:
                ok = typer.confirm(f"{out} exists. Overwrite it?", default=False, err=True)
            except (typer.Abort, EOFError, KeyboardInterrupt):
                ok = False
            if not ok:
                print_error(f"{out} exists and was kept; nothing was collected")
                raise typer.Exit(1)

        src = live_defaults(None, False, context, kubeconfig, prometheus, namespace)
        context, kubeconfig, prometheus = src.context, src.kubeconfig, src.prometheus
        opts = LiveOptions(context=context, kubeconfig=kubeconfig, namespaces=src.namespaces,
                           workers=workers, timeout=timeout, logs=logs)
        try:
            with sweep_progress(sys.stderr) as progress:
                result = sweep(opts, progress)
        except LiveSourceError as e:
            print_error(str(e))
            raise typer.Exit(2) from None
        sys.stderr.write(summary_line(result) + "\n")
        metrics = None
        if prometheus:
            from sre_expert.sources.prometheus import metrics_from_url

            metrics = metrics_from_url(prometheus, result.captured_at, live=True)
            sys.stderr.write(f"metrics: {metrics.unavailable}\n" if metrics.unavailable else
                             f"metrics: {sum(r.status == 'ok' for r in metrics.results.values())}/{len(metrics.results)} "
                             f"queries answered by {metrics.source}\n")
        try:
            path, size = write_bundle(result, out, metrics)
        except OSError as e:
            print_error(f"cannot write {out}: {e.strerror or e}")
            raise typer.Exit(2) from None
        sys.stderr.write(f"wrote {path} ({size / 1e6:.1f} MB uncompressed); read it with: "
                         f"sre-expert check --bundle {path}\n")
