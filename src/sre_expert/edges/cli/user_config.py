"""Defaults for the live-cluster options, read from the user's config file.

The file is the one the agent reads its model from (`$XDG_CONFIG_HOME/sre-expert/config.yaml`, else
`~/.config/sre-expert/config.yaml`); its top-level keys `context`, `kubeconfig`, `prometheus` and
`namespace` describe *your* cluster, so they apply only when a command reads a live cluster (no
`--bundle`, no `--demo`), and a flag always wins over them. Loading is I/O at the edge; `apply` is pure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEYS = ("context", "kubeconfig", "prometheus", "namespace")
# keys the agent reads from the same file (agent/models.py), accepted here without a warning
AGENT_KEYS = ("agent", "model", "provider", "base_url", "api_key", "api_key_env")


class ConfigError(ValueError):
    """The config file exists but cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Defaults:
    context: str | None = None
    kubeconfig: str | None = None
    prometheus: str | None = None
    namespaces: tuple[str, ...] = ()
    path: str = ""  # where they were read from, for messages


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """The source options a command ends up with, flags first, then the config file."""
    context: str | None
    kubeconfig: str | None
    prometheus: str | None
    namespaces: tuple[str, ...]


def config_path(env: Mapping[str, str] | None = None) -> Path:
    from sre_expert.edges.agent.models import default_config_path

    return default_config_path(os.environ if env is None else env)


def parse_defaults(doc: Any, where: str) -> Defaults:
    """The defaults in a parsed YAML document; ConfigError names the bad key."""
    if doc is None:
        return Defaults(path=where)
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: the config file must be a YAML mapping (key: value)")
    unknown = sorted(str(k) for k in doc if k not in KEYS and k not in AGENT_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                          f"known: {', '.join(KEYS + AGENT_KEYS)}")
    values: dict[str, Any] = {}
    for key in ("context", "kubeconfig", "prometheus"):
        v = doc.get(key)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise ConfigError(f"{where}: '{key}' must be a non-empty string")
        values[key] = v.strip() if isinstance(v, str) else None
    ns = doc.get("namespace")
    if ns is None:
        namespaces: tuple[str, ...] = ()
    elif isinstance(ns, str) and ns.strip():
        namespaces = tuple(n.strip() for n in ns.split(",") if n.strip())
    elif isinstance(ns, list) and ns and all(isinstance(n, str) and n.strip() for n in ns):
        namespaces = tuple(n.strip() for n in ns)
    else:
        raise ConfigError(f"{where}: 'namespace' must be a namespace name or a list of them")
    if values["prometheus"] and not values["prometheus"].startswith(("http://", "https://")):
        raise ConfigError(f"{where}: 'prometheus' must be an http(s) URL, e.g. http://prometheus.monitoring:9090")
    return Defaults(values["context"], values["kubeconfig"], values["prometheus"], namespaces, where)


def load_defaults(env: Mapping[str, str] | None = None) -> Defaults:
    """The defaults of the config file; empty when there is none (the file is optional)."""
    import yaml

    p = config_path(env)
    if not p.is_file():
        return Defaults(path=str(p))
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"{p}: cannot read the config file: {first}") from None
    return parse_defaults(doc, str(p))


def apply(defaults: Defaults, *, bundle: str | None, demo: bool, context: str | None, kubeconfig: str | None,
          prometheus: str | None, namespaces: tuple[str, ...] | list[str] | None) -> SourceOptions:
    """Fill what the command line left open. Nothing applies to a bundle or the demo (the file describes
    a live cluster); a context is taken from the file only when no --kubeconfig names other clusters."""
    given = SourceOptions(context, kubeconfig, prometheus, tuple(namespaces or ()))
    if bundle or demo:
        return given
    kc = kubeconfig or defaults.kubeconfig
    ctx = context or (defaults.context if kubeconfig is None else None)
    return SourceOptions(ctx, os.path.expanduser(kc) if kc else None, prometheus or defaults.prometheus,
                         given.namespaces or defaults.namespaces)
