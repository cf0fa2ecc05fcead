"""Which model the agent talks to: aliases, providers, keys, base URLs, and clear errors when it is not set up.

Settings come from, highest first: `--model`, the environment (`SRE_EXPERT_MODEL`, `SRE_EXPERT_PROVIDER`,
`SRE_EXPERT_BASE_URL`, `ANTHROPIC_API_KEY`, `OPENAI_API_KEY`), the config file (`--config`, else
`$XDG_CONFIG_HOME/sre-expert/config.yaml`, else `~/.config/sre-expert/config.yaml`), then the agent
definition's `model:`. Resolution is pure (a dict in, a ModelSettings or a ModelConfigError out) so every
misconfiguration message is tested without a network; `build_model` is the only place pydantic-ai is touched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

ANTHROPIC = "anthropic"
OPENAI = "openai"
OPENAI_COMPATIBLE = "openai-compatible"
PROVIDERS = (ANTHROPIC, OPENAI, OPENAI_COMPATIBLE)
_PROVIDER_ALIASES = {"claude": ANTHROPIC, "openai-compatible": OPENAI_COMPATIBLE, "compatible": OPENAI_COMPATIBLE,
                     "ollama": OPENAI_COMPATIBLE, "vllm": OPENAI_COMPATIBLE, "lmstudio": OPENAI_COMPATIBLE,
                     "litellm": OPENAI_COMPATIBLE, ANTHROPIC: ANTHROPIC, OPENAI: OPENAI}
_CONFIG_KEYS = {"model", "provider", "base_url", "api_key", "api_key_env"}

HOW_TO_CONFIGURE = """\
`ask` and `chat` need a language model. Configure one of:
  export ANTHROPIC_API_KEY=…                                   Claude (default model: sonnet)
  export OPENAI_API_KEY=… SRE_EXPERT_MODEL=gpt-…               OpenAI
  export SRE_EXPERT_BASE_URL=http://localhost:11434/v1 SRE_EXPERT_MODEL=llama3.1
                                                               any OpenAI-compatible server (Ollama, vLLM …)
or put model:, provider:, base_url: (and api_key_env:) in ~/.config/sre-expert/config.yaml (or --config FILE).
`sre-expert check`, `trace`, `component` and `dr status` need no model."""


class ModelConfigError(ValueError):
    """The model cannot be set up; the message says what to change."""


class NoModelConfigured(ModelConfigError):
    """Nothing configures a model (no key, no base URL)."""


@dataclass(frozen=True, slots=True)
class ModelSettings:
    provider: str
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed
    origin: str = ""  # where the model name came from, for messages

    def describe(self) -> str:
        where = f" at {self.base_url}" if self.base_url else ""
        return f"{self.provider}:{self.model}{where}"


@lru_cache(maxsize=1)
def model_catalogue() -> dict[str, Any]:
    text = resources.files("sre_expert.knowledge").joinpath("models.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def aliases() -> dict[str, str]:
    return dict(model_catalogue()["anthropic"]["aliases"])


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME")
    root = Path(base).expanduser() if base else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "sre-expert" / "config.yaml"


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The agent settings of the config file (its `agent:` mapping, else its top level); {} when absent.

    An explicit path that does not exist is an error; the default path is optional."""
    explicit = path is not None
    p = Path(path).expanduser() if path is not None else default_config_path(env)
    if not p.exists():
        if explicit:
            raise ModelConfigError(f"{p}: config file not found")
        return {}
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ModelConfigError(f"{p}: cannot read the config file: {e}") from None
    if not isinstance(doc, dict):
        raise ModelConfigError(f"{p}: the config file must be a YAML mapping")
    section = doc.get("agent", doc)
    if not isinstance(section, dict):
        raise ModelConfigError(f"{p}: 'agent' must be a mapping")
    section = {k: v for k, v in section.items() if k in _CONFIG_KEYS}
    for k, v in section.items():
        if v is not None and not isinstance(v, str):
            raise ModelConfigError(f"{p}: '{k}' must be a string")
    section["_path"] = str(p)
    return section


def _provider_name(raw: str, where: str) -> str:
    key = raw.strip().lower()
    if key not in _PROVIDER_ALIASES:
        raise ModelConfigError(f"{where}: unknown provider {raw!r}; use one of: anthropic, openai, "
                               "openai-compatible (also: ollama, vllm)")
    return _PROVIDER_ALIASES[key]


def _infer_provider(model: str) -> str | None:
    if model in aliases():
        return ANTHROPIC
    for prefix, provider in model_catalogue().get("providers_by_prefix", {}).items():
        if model.startswith(prefix):
            return provider
    return None


def check_base_url(url: str, where: str) -> str:
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.netloc:
        raise ModelConfigError(f"{where}: base URL {url!r} is not an http(s) URL, e.g. http://localhost:11434/v1")
    return url.rstrip("/")


def resolve_settings(*, cli_model: str | None = None, definition_model: str | None = None,
                     env: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None) -> ModelSettings:
    """Pick provider, model id, base URL and key; raise ModelConfigError (NoModelConfigured) when unusable."""
    env = os.environ if env is None else env
    config = config or {}
    cfg_where = config.get("_path", "config file")

    candidates = [(cli_model, "--model"), (env.get("SRE_EXPERT_MODEL"), "SRE_EXPERT_MODEL"),
                  (config.get("model"), f"{cfg_where}: model"), (definition_model, "the agent definition's model")]
    model, origin = next(((m.strip(), o) for m, o in candidates if m and m.strip()), (None, ""))

    provider: str | None = None
    if env.get("SRE_EXPERT_PROVIDER"):
        provider = _provider_name(env["SRE_EXPERT_PROVIDER"], "SRE_EXPERT_PROVIDER")
    elif config.get("provider"):
        provider = _provider_name(config["provider"], f"{cfg_where}: provider")
    if model and ":" in model and not model.startswith(("http:", "https:")):
        prefix, rest = model.split(":", 1)
        if prefix.lower() in _PROVIDER_ALIASES:
            provider = provider or _provider_name(prefix, origin)
            model = rest.strip()

    base_url = env.get("SRE_EXPERT_BASE_URL") or config.get("base_url")
    if base_url:
        base_url = check_base_url(base_url, "SRE_EXPERT_BASE_URL" if env.get("SRE_EXPERT_BASE_URL") else cfg_where)

    if not model:
        raise NoModelConfigured("no model configured.\n" + HOW_TO_CONFIGURE)
    if provider is None:
        provider = OPENAI_COMPATIBLE if base_url else _infer_provider(model)
        if provider is None:
            raise ModelConfigError(f"cannot tell which provider serves model {model!r} (from {origin}); set "
                                   "SRE_EXPERT_PROVIDER=anthropic|openai|openai-compatible, or "
                                   "SRE_EXPERT_BASE_URL for an OpenAI-compatible server")

    key_env = config.get("api_key_env")
    config_key = env.get(key_env) if key_env else config.get("api_key")
    if provider == ANTHROPIC:
        model = aliases().get(model, model)
        key = config_key or env.get("ANTHROPIC_API_KEY")
        if not key and not base_url:
            raise NoModelConfigured(f"no API key for Anthropic (model {model}): ANTHROPIC_API_KEY is not set.\n"
                                    + HOW_TO_CONFIGURE)
        return ModelSettings(ANTHROPIC, model, base_url, key, origin)
    if model in aliases():
        raise ModelConfigError(f"model {model!r} (from {origin}) is a Claude alias but the provider is {provider}; "
                               "set SRE_EXPERT_MODEL (or --model) to a model your server serves, e.g. llama3.1")
    if provider == OPENAI:
        key = config_key or env.get("OPENAI_API_KEY")
        if not key and not base_url:
            raise NoModelConfigured(f"no API key for OpenAI (model {model}): OPENAI_API_KEY is not set.\n"
                                    + HOW_TO_CONFIGURE)
        return ModelSettings(OPENAI, model, base_url, key, origin)
    if not base_url:
        raise ModelConfigError(f"provider {provider} needs a base URL: set SRE_EXPERT_BASE_URL (or base_url: in the "
                               "config file), e.g. http://localhost:11434/v1 for Ollama or http://host:8000/v1 for vLLM")
    # Local servers usually need no key; the OpenAI client insists on one, so send a harmless placeholder.
    return ModelSettings(OPENAI_COMPATIBLE, model, base_url, config_key or env.get("OPENAI_API_KEY") or "no-key", origin)


def build_model(settings: ModelSettings) -> Any:
    """The pydantic-ai model object for these settings (imports pydantic-ai: call only on the agent path)."""
    if settings.provider == ANTHROPIC:
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(settings.model, provider=AnthropicProvider(api_key=settings.api_key or "no-key",
                                                                         base_url=settings.base_url))
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIChatModel(settings.model, provider=OpenAIProvider(base_url=settings.base_url, api_key=settings.api_key))


def explain_model_error(exc: BaseException, settings: ModelSettings | None) -> str | None:
    """A one-paragraph message for a provider failure (bad key, unreachable URL, unknown model); None if not one."""
    from pydantic_ai import exceptions as x

    what = settings.describe() if settings else "the model"
    if isinstance(exc, x.ModelAuthenticationError) or getattr(exc, "status_code", None) in (401, 403):
        env = "ANTHROPIC_API_KEY" if settings and settings.provider == ANTHROPIC else "OPENAI_API_KEY"
        return f"{what} rejected the API key (HTTP {getattr(exc, 'status_code', '401')}): check {env} or api_key_env"
    if isinstance(exc, x.ModelNotFoundError) or getattr(exc, "status_code", None) == 404:
        return f"{what}: the server does not know this model (HTTP 404); check --model / SRE_EXPERT_MODEL"
    if isinstance(exc, x.ModelConnectionError):
        return f"cannot reach {what} ({str(exc).rstrip('.')}); check SRE_EXPERT_BASE_URL and that the server is running"
    if isinstance(exc, x.ModelHTTPError):
        return f"{what} answered HTTP {exc.status_code}: {str(exc)[:300]}"
    if isinstance(exc, x.ModelAPIError):
        return f"{what} failed: {str(exc)[:300]}"
    return None
