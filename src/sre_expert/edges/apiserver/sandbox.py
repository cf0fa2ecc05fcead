"""kubectl pointed at a snapshot: the bundle served on loopback, and the environment that makes kubectl use it.

The agent's Bash tool and MCP's run_command share it, so with --bundle or --demo a model's `kubectl get …`
reads the captured snapshot instead of whatever cluster the user's kubeconfig names.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sre_expert.core.snapshot import Snapshot
from sre_expert.edges.apiserver.http_front import ServerHandle, start_server
from sre_expert.edges.apiserver.kubeconfig import write_kubeconfig


@dataclass
class KubectlSandbox:
    """A bundle served as a read-only Kubernetes API on loopback, and the environment that points kubectl at it.

    The shell gets a throwaway HOME (no user kubeconfig, no discovery cache) and KUBECONFIG for the server:
    with a bundle or the demo, `kubectl get …` reads the captured snapshot, and writes are answered 405 by
    the server."""

    env: dict[str, str]
    url: str
    handle: ServerHandle
    home: Path

    @classmethod
    def start(cls, snap: Snapshot) -> KubectlSandbox:
        home = Path(tempfile.mkdtemp(prefix="sre-expert-agent-"))
        handle = start_server(snap)
        kubeconfig = write_kubeconfig(home / ".kube" / "config", handle.url)
        env = {"HOME": str(home), "KUBECONFIG": str(kubeconfig), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "LANG": os.environ.get("LANG", "C.UTF-8")}
        return cls(env, handle.url, handle, home)

    def close(self) -> None:
        self.handle.close()
        shutil.rmtree(self.home, ignore_errors=True)
