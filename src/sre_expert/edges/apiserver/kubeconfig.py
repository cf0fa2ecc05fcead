"""A kubeconfig pointing at the bundle server (plain HTTP, no credentials: the server has none)."""

from __future__ import annotations

from pathlib import Path

import yaml


def kubeconfig_text(url: str, name: str = "sre-expert-bundle", namespace: str | None = None) -> str:
    ctx: dict[str, str] = {"cluster": name, "user": name}
    if namespace:
        ctx["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [{"name": name, "context": ctx}],
        "current-context": name,
        "preferences": {},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def write_kubeconfig(path: str | Path, url: str, name: str = "sre-expert-bundle") -> Path:
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(kubeconfig_text(url, name))
    p.chmod(0o600)
    return p
