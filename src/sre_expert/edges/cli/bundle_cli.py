"""`sre-expert bundle …`: work with captured bundles. `serve` is here; `collect` is added from
collect_cli.py. Top level imports typer, the standard library and the shared options only.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import threading
from typing import Annotated

import typer

from sre_expert.edges.cli.collect_cli import register_collect
from sre_expert.edges.cli.options import load_snapshot, print_error

bundle_app = typer.Typer(
    name="bundle",
    help="Work with captured bundles: serve one as a read-only Kubernetes API for kubectl.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@bundle_app.command("serve")
def serve(
    path: Annotated[str | None, typer.Argument(help="Bundle directory or .tar.gz (or use --demo).", show_default=False)] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Serve the demo platform shipped with sre-expert.")] = False,
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on; 0 picks a free one.", min=0, max=65535)] = 0,
    host: Annotated[str | None, typer.Option(
        "--host", help="Address to bind (default 127.0.0.1). "
                       "The API has no authentication: anything else exposes the bundle.")] = None,
    write_kubeconfig: Annotated[str | None, typer.Option(
        "--write-kubeconfig",
        help="Write a kubeconfig for the server here (default: a temporary file removed on exit).")] = None,
    shell: Annotated[bool, typer.Option(
        "--shell", help="Open $SHELL with KUBECONFIG set; the server stops when the shell exits.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not log each request to stderr.")] = False,
) -> None:
    """Serve a bundle as a read-only Kubernetes API that kubectl and client libraries can use.

    Examples: [bold]sre-expert bundle serve ./snapshot --write-kubeconfig /tmp/kc[/] then
    [bold]KUBECONFIG=/tmp/kc kubectl get pods -A[/] · [bold]sre-expert bundle serve --demo --shell[/]

    Reads work (get, list, describe, logs, auth can-i); writes are refused with 405; watches are not served.

    Ages are relative to the bundle's capturedAt. Ctrl-C stops the server (exit 0); a port in use is exit 2.
    """
    import tempfile
    from pathlib import Path

    if path and demo:
        print_error("give either a bundle PATH or --demo, not both")
        raise typer.Exit(2)
    if not path and not demo:
        print_error("no bundle: pass PATH (a directory or .tar.gz of `kubectl get -o json` output) or --demo")
        raise typer.Exit(2)
    bind = host or LOOPBACK
    if not is_loopback(bind):
        print(f"warning: binding {bind}: the bundle API has no authentication; anyone who can reach this "
              "address can read every object in the bundle (Secret values are not served).", file=sys.stderr)
    snap = load_snapshot(path, demo)

    from sre_expert.edges.apiserver import start_server
    from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig as write_kc

    lock = threading.Lock()

    def log(method: str, target: str, code: int) -> None:
        if quiet:
            return
        with lock:
            sys.stderr.write(f"{method} {target} {code}\n")
            sys.stderr.flush()

    try:
        handle = start_server(snap, host=bind, port=port, on_request=log)
    except OSError as e:
        print_error(f"cannot listen on {bind}:{port}: {e.strerror or e}")
        raise typer.Exit(2) from None

    tmpdir = None
    try:
        if write_kubeconfig:
            kc = write_kc(write_kubeconfig, handle.url)
        else:
            tmpdir = tempfile.mkdtemp(prefix="sre-expert-serve-")
            kc = write_kc(Path(tmpdir) / "kubeconfig", handle.url)
        kinds = snap.kinds()
        n_objects = sum(len(snap.list(k)) for k in kinds)
        label = snap.info.location or ("demo" if demo else path)
        print(f"Serving {label} ({n_objects} objects, {len(kinds)} kinds) read-only at {handle.url} — "
              f"kubeconfig: {kc}; try: KUBECONFIG={kc} kubectl get pods -A", flush=True)
        if not quiet:
            for note in handle.api.notes():
                print(f"note: {note}", file=sys.stderr, flush=True)
        if shell:
            sh = os.environ.get("SHELL") or "/bin/sh"
            env = dict(os.environ, KUBECONFIG=str(kc))
            print(f"Opening {sh} with KUBECONFIG={kc}; exit the shell to stop the server.", file=sys.stderr, flush=True)
            try:
                subprocess.run([sh], env=env, check=False)
            except OSError as e:
                print_error(f"cannot start {sh}: {e.strerror or e}")
                raise typer.Exit(2) from None
        else:
            import signal

            def stop(signum: int, frame: object) -> None:
                raise KeyboardInterrupt

            signal.signal(signal.SIGTERM, stop)  # `kill` stops as cleanly as Ctrl-C (temp kubeconfig removed)
            try:
                handle.serve_forever()
            except KeyboardInterrupt:
                print("\nstopped", file=sys.stderr)
    finally:
        handle.close()
        if tmpdir:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)


def register(app: typer.Typer) -> None:
    """Add `bundle` (with `collect`) to the main CLI."""
    register_collect(bundle_app)
    app.add_typer(bundle_app, name="bundle")
