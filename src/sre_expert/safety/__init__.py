"""Safety: classify commands (guard), confirm before anything that is not read-only, audit what runs.

The public API, imported lazily so that `import sre_expert.safety.<module>` stays cheap:
`classify(command) -> Verdict`, `run_guarded(command, *, confirm, audit, ...) -> RunResult`, the
confirmers (`TtyConfirmer`, `ScriptedConfirmer`, `NonInteractiveConfirmer`, `choose_confirmer`) and
`AuditLog`.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "classify": "guard", "Verdict": "verdict", "CLASSES": "verdict",
    "run_guarded": "execute", "RunResult": "execute",
    "Confirmer": "confirm", "Proposal": "confirm", "Decision": "confirm", "TtyConfirmer": "confirm",
    "ScriptedConfirmer": "confirm", "NonInteractiveConfirmer": "confirm", "choose_confirmer": "confirm",
    "AuditLog": "audit", "default_audit_path": "audit",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
