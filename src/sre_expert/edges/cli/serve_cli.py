"""`sre-expert serve`: Alertmanager webhook → investigation → API, pages and notifications.

Top level imports typer and the standard library only; fastapi and uvicorn load inside the command.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from sre_expert.edges.cli.bundle_cli import is_loopback
from sre_expert.edges.cli.options import (
    DemoOpt,
    KubeconfigOpt,
    LiveNamespacesOpt,
    PrometheusOpt,
    live_defaults,
    print_error,
    usage_error,
)

HELP = """Receive Alertmanager alerts, investigate each alert group, keep the results.

Each alert group becomes an investigation: the object the alert names (pod, PVC, node, route, certificate...), the \
findings about it, the chain down to its root cause, the evidence and the fix. Results are kept in a SQLite file \
(--db) and served as JSON (/api/v1/...) and as pages (/).

[bold]Replicas on PostgreSQL[/]: `--db postgresql://USER@HOST:5432/DB` (or the env SRE_EXPERT_DB, e.g. from a \
Kubernetes Secret, which keeps the password out of the command line) lets any number of `serve` replicas share \
alerts, investigations and notifications; sre-expert creates and migrates the schema itself. It needs the `postgres` \
extra: `pip install 'sre-expert\\[postgres]'` (psycopg 3, with libpq).

[bold]Token[/]: set SRE_EXPERT_TOKEN (16+ characters: `openssl rand -hex 32`, or mount it from a Kubernetes Secret). \
Every request except /healthz and /readyz needs `Authorization: Bearer <token>`; browsers log in once at /login. \
`--insecure-no-auth` turns auth off, on a loopback address only.

[bold]Point Alertmanager at it[/] (alertmanager.yml; send_resolved closes the investigation):

    receivers:
      - name: sre-expert
        webhook_configs:
          - url: http://sre-expert.monitoring.svc:8080/api/v1/alerts
            send_resolved: true
            http_config:
              authorization:
                type: Bearer
                credentials_file: /etc/alertmanager/secrets/sre-expert/token

Cluster state comes from --bundle, --demo, or a live cluster (--context/--kubeconfig, or in-cluster), re-read at most every 30 s.

[bold]Several clusters[/]: repeat --context (or --bundle), or list them in a file (--clusters FILE: `clusters:` with \
`name` and `context`/`kubeconfig`/`bundle`/`demo`, optional `namespaces`, `prometheus`). Each alert goes to the \
cluster its `cluster` label names (--cluster-label to use another; set it with Prometheus `external_labels`, and keep \
it in `group_by` when one Alertmanager serves several clusters); an alert that names no configured cluster fails its \
investigation with the label and the known clusters, never runs against another. Group keys are qualified by the \
cluster, so two clusters' identical groups stay apart. The pages and /api/v1/investigations filter with \
?cluster=NAME; /api/v1/clusters lists them; POST /api/v1/check takes {"cluster": NAME}.

Examples: [bold]SRE_EXPERT_TOKEN=$(openssl rand -hex 32) sre-expert serve --demo[/] · \
[bold]sre-expert serve --context prod --host 0.0.0.0 --slack-webhook https://hooks.slack.com/…[/] · \
[bold]sre-expert serve --context prod --context staging=kind-staging[/]
"""


def register(app: typer.Typer) -> None:
    app.command("serve", help=HELP)(serve)


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="Port to listen on (0: any free port; the line printed says which).")] = 8080,
    db: Annotated[str, typer.Option(
        "--db", envvar="SRE_EXPERT_DB",
        help="Where alerts, investigations and the notification outbox are kept: "
             "a SQLite file, or a postgresql:// DSN shared by replicas.")] = "sre-expert.db",
    bundle: Annotated[list[str] | None, typer.Option(
        "--bundle", "-b", metavar="[NAME=]PATH",
        help="Bundle directory or .tar.gz to investigate against. "
             "Repeat it for several clusters (NAME= is the cluster label's value; default: the path).")] = None,
    demo: DemoOpt = False,
    context: Annotated[list[str] | None, typer.Option(
        "--context", metavar="[NAME=]CONTEXT",
        help="Read this kube context live (read-only LISTs). Repeat it for several clusters, each alert routed by "
             "its cluster label (NAME= is that label's value; default: the context's name).")] = None,
    clusters_file: Annotated[str | None, typer.Option(
        "--clusters", metavar="FILE",
        help="YAML file listing the clusters (name, and context/kubeconfig, bundle or demo; "
             "optional namespaces, prometheus) instead of --context/--bundle.")] = None,
    cluster_label: Annotated[str, typer.Option(
        "--cluster-label", metavar="LABEL",
        help="The alert label naming the cluster an alert is about, with several clusters.")] = "cluster",
    kubeconfig: KubeconfigOpt = None,
    namespace: LiveNamespacesOpt = None,
    prometheus: PrometheusOpt = None,
    slack_webhook: Annotated[str | None, typer.Option(
        "--slack-webhook", help="Slack incoming-webhook URL: one message per investigation with its root cause.")] = None,
    webhook: Annotated[str | None, typer.Option(
        "--webhook", help="URL that receives each finished investigation record as JSON.")] = None,
    external_url: Annotated[str | None, typer.Option(
        "--external-url",
        help="URL the pages are reached at, for links in notifications (default http://HOST:PORT).")] = None,
    grafana_url: Annotated[str | None, typer.Option(
        "--grafana-url",
        help="Grafana URL (https://grafana.example.org): the pages link each alert's query into Grafana Explore.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Investigations run in parallel.")] = 2,
    max_body: Annotated[int, typer.Option(
        "--max-body", min=1024, help="Largest request body accepted, in bytes (413 above).")] = 5 * 1024 * 1024,
    source_ttl: Annotated[float | None, typer.Option(
        "--source-ttl", min=0.0, hidden=True,
        help="Seconds a snapshot is reused before it is read again (default: live 30, bundle forever; 0: forever).")] = None,
    notify_backoff: Annotated[float, typer.Option(
        "--notify-backoff", min=0.01, hidden=True,
        help="First retry delay of a failed notification, in seconds (doubles each attempt).")] = 2.0,
    notify_attempts: Annotated[int, typer.Option(
        "--notify-attempts", min=1, max=20, hidden=True, help="Attempts before a notification is marked failed.")] = 6,
    header_timeout: Annotated[float, typer.Option(
        "--header-timeout", min=0.1, hidden=True,
        help="Seconds a client has to send a request's headers before the connection is closed (slowloris).")] = 10.0,
    lease_seconds: Annotated[float, typer.Option(
        "--lease-seconds", min=1.0,
        help="Seconds an investigation or notification claim outlives a replica that stopped renewing it "
             "(then another replica takes it over).")] = 60.0,
    insecure_no_auth: Annotated[bool, typer.Option(
        "--insecure-no-auth", help="No token at all; allowed on a loopback address only (local development).")] = False,
) -> None:
    from sre_expert.edges.extras import missing_extra

    if lacking := missing_extra("serve", "sre-expert serve"):
        raise usage_error(lacking)
    token = os.environ.get("SRE_EXPERT_TOKEN") or None
    if insecure_no_auth:
        if not is_loopback(host):
            print_error(f"--insecure-no-auth is only allowed on a loopback address, not {host}")
            raise typer.Exit(2)
        token = None
    elif token is None:
        print_error("set SRE_EXPERT_TOKEN (e.g. `export SRE_EXPERT_TOKEN=$(openssl rand -hex 32)`); every client and "
             "Alertmanager send it as `Authorization: Bearer …`. For local tests only: --insecure-no-auth")
        raise typer.Exit(2)
    else:
        from sre_expert.edges.webhook.auth import MIN_TOKEN_CHARS

        if len(token) < MIN_TOKEN_CHARS:
            print_error(f"SRE_EXPERT_TOKEN is too short ({len(token)} characters; use {MIN_TOKEN_CHARS} or more)")
            raise typer.Exit(2)
    from sre_expert.edges.webhook.notify import url_problem

    for flag, url in (("--slack-webhook", slack_webhook), ("--webhook", webhook)):
        problem = url_problem(url) if url else None  # empty: none, as before
        if problem:  # never quoted: a Slack webhook URL is a credential
            print_error(f"{flag}: cannot post notifications to that URL: {problem}")
            raise typer.Exit(2)
    from sre_expert.sources.resolve import source_problem

    bundles, contexts = list(bundle or ()), list(context or ())
    clusters = _clusters(bundles, contexts, demo, kubeconfig, namespace, prometheus, clusters_file, cluster_label)
    one_bundle, one_context = (bundles[0] if bundles else None), (contexts[0] if contexts else None)
    if not clusters:
        src = live_defaults(one_bundle, demo, one_context, kubeconfig, prometheus, namespace)
        one_context, kubeconfig, prometheus = src.context, src.kubeconfig, src.prometheus
        namespace = list(src.namespaces)
        problem = source_problem(one_bundle, demo, one_context, kubeconfig)
        if problem:
            print_error(problem)
            raise typer.Exit(2)

    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # proto set: asyncio then turns Nagle off
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        print_error(f"cannot listen on {host}:{port}: {e.strerror or e}")
        raise typer.Exit(2) from None
    sock.listen(2048)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{bound}"

    from sre_expert.edges.webhook.config import ServeConfig, create_private
    from sre_expert.edges.webhook.store import StoreError, describe_db, dsn_secrets, open_store

    if dsn_secrets(db) and os.environ.get("SRE_EXPERT_DB") != db:
        print("warning: the --db DSN holds a password, which every user of this machine can read (ps, "
              "/proc/PID/cmdline) and your shell history keeps: pass it in the environment instead "
              "(SRE_EXPERT_DB, from a Kubernetes Secret), or the password alone in PGPASSWORD or ~/.pgpass",
              file=sys.stderr, flush=True)
    create_private(db)  # 0600: alert labels and evidence are nobody else's business
    try:  # open (and migrate) the database now, so a bad --db is an error before we listen
        open_store(db).close()
    except StoreError as e:
        print_error(f"database: {e}")
        raise typer.Exit(2) from None

    config = ServeConfig(
        db_path=db, lease_seconds=lease_seconds, token=token, bundle=one_bundle, demo=demo, context=one_context,
        kubeconfig=kubeconfig,
        namespaces=tuple(namespace or ()), prometheus=prometheus, workers=workers, max_body=max_body, slack_webhook=slack_webhook,
        webhook=webhook, external_url=external_url or base,
        grafana_url=grafana_url.rstrip("/") if grafana_url else None,
        source_ttl=source_ttl, notify_base_delay=notify_backoff, notify_max_attempts=notify_attempts,
        clusters=tuple(clusters), cluster_label=cluster_label,
        announce=lambda msg: print(f"sre-expert serve: {msg}", flush=True),
    )
    import logging

    # one line per alert received and per investigation finished (INFO), errors too, on stderr
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    server_log = logging.getLogger("sre_expert.edges.webhook")
    server_log.addHandler(handler)
    server_log.setLevel(logging.INFO)
    import uvicorn

    from sre_expert.edges.webhook.app import create_app

    print(f"sre-expert serve: listening on {base} (webhook {base}/api/v1/alerts, db {describe_db(db)}, "
          f"auth {'OFF' if token is None else 'bearer token'})", flush=True)
    if clusters:
        print(f"sre-expert serve: {len(clusters)} clusters ({', '.join(c.name for c in clusters)}), alerts routed "
              f"by their `{cluster_label}` label", flush=True)
    # limit_concurrency: past 1,024 open requests answer 503 at once (Alertmanager retries) instead of
    # queueing without bound
    # http: uvicorn's h11 protocol plus a header-read deadline (a client sending headers a byte at a time
    # is cut off after --header-timeout); h11 already caps the header block at 16 KiB.
    from sre_expert.edges.webhook.header_timeout import with_header_timeout

    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", access_log=False,
                                           limit_concurrency=1024, timeout_graceful_shutdown=10,
                                           http=with_header_timeout(header_timeout)))
    server.run(sockets=[sock])  # SIGTERM/SIGINT: stop accepting, finish requests, stop workers


def _clusters(bundles: list[str], contexts: list[str], demo: bool, kubeconfig: str | None,
              namespace: list[str] | None, prometheus: str | None, clusters_file: str | None,
              label: str) -> list:
    """The clusters of a many-cluster serve (edges/webhook/clusters.py), or [] for the one source of today's flags.
    Anything that cannot be served is a usage error (exit 2) before we listen."""
    import re

    from sre_expert.edges.webhook.clusters import ClusterConfigError, from_flags, load_cluster_file
    from sre_expert.sources.resolve import source_problem

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label):
        print_error(f"--cluster-label {label}: not a Prometheus label name (letters, digits, _)")
        raise typer.Exit(2)
    if not clusters_file and len(bundles) <= 1 and len(contexts) <= 1:
        return []
    try:
        if clusters_file:
            if bundles or contexts or demo or kubeconfig or namespace or prometheus:
                raise ClusterConfigError("--clusters lists every cluster with its source: give no "
                                         "--bundle/--demo/--context/--kubeconfig/--namespace/--prometheus beside it")
            clusters = load_cluster_file(clusters_file)
        else:
            if demo:
                raise ClusterConfigError("--demo is one cluster: list several in a cluster file (--clusters FILE) "
                                         "with `demo: true` for one of them")
            src = live_defaults(None, False, None, kubeconfig, None, namespace) if contexts else None
            clusters = from_flags(bundles, contexts, kubeconfig=src.kubeconfig if src else None,
                                  namespaces=src.namespaces if src else (), prometheus=prometheus)
    except ClusterConfigError as e:
        print_error(str(e))
        raise typer.Exit(2) from None
    for c in clusters:
        problem = source_problem(c.bundle, c.demo, c.context, c.kubeconfig)
        if problem:
            print_error(f"cluster {c.name}: {problem}")
            raise typer.Exit(2)
    return clusters
