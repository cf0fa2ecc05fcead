"""Which optional extra a command needs, and the one line to say when it is not installed.

The base install runs the offline and read-only commands; `serve`, `ask`/`chat` and `mcp` need the packages of
their extra. Asking before the command imports them turns a ModuleNotFoundError traceback into one line that
names the extra to install. Only presence is checked (`find_spec`, no import): the command's own import still
fails loudly if an installed package is broken.
"""

from __future__ import annotations

import importlib.util

# extra -> the top-level modules its packages provide (what the product imports, not every dependency;
# pydantic is not listed: typer, a base dependency, requires it)
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "serve": ("fastapi", "starlette", "uvicorn", "prometheus_client"),
    "agent": ("pydantic_ai",),
    "mcp": ("mcp",),
    "postgres": ("psycopg",),
}


def _absent(module: str) -> bool:
    """True when `module` cannot be imported from here (not installed, or blocked in sys.modules)."""
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):  # a parent that fails to import, or a module without a spec
        return True


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` that are not installed (empty when the extra is complete)."""
    return [m for m in EXTRA_MODULES[extra] if _absent(m)]


def missing_extra(extra: str, command: str) -> str | None:
    """None when `extra` is installed, else the error line for `command`: what is missing and the pip command."""
    missing = missing_modules(extra)
    if not missing:
        return None
    return (f"{command} needs the optional [{extra}] extra ({', '.join(missing)} not installed): "
            f"pip install 'sre-expert[{extra}]'")
