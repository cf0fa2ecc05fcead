"""Pick the snapshot source from the command line: --bundle PATH, --demo, or (later) a live cluster."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..snapshot import Snapshot
from .bundle import BundleError, load_bundle


def demo_path() -> Path:
    """The demo platform bundle shipped inside the package."""
    return Path(str(resources.files("sre_expert") / "demo" / "platform"))


def open_source(bundle: str | None, demo: bool, context: str | None = None, kubeconfig: str | None = None) -> Snapshot:
    if bundle and demo:
        raise BundleError("give either --bundle or --demo, not both")
    if demo:
        return load_bundle(demo_path())
    if bundle:
        return load_bundle(bundle)
    raise BundleError(
        "no source: pass --bundle PATH (a directory or .tar.gz of `kubectl get -o json` output) "
        "or --demo for the bundled demo platform. Reading a live cluster "
        + ("(--context/--kubeconfig) " if context or kubeconfig else "")
        + "is not available in this version."
    )
