"""Registry of checks and the factory that turns a code plus an object into a Finding.

A check is a pure function `fn(snapshot) -> Iterable[Finding]` registered with the codes it can emit
and the kinds it reads. Modules under sre_expert.checks register themselves on import. A check that
would conclude "X does not exist" about a namespace a scoped sweep (`-n`) did not read asks
`snap.outside(namespace, "what X is")` first and stays silent when it is True; the engine turns what
each check noted into one "not checked" line.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sre_expert.knowledge.catalogue import spec
from sre_expert.core.model import Finding, Key, ObjectRef, Remediation

if TYPE_CHECKING:
    from sre_expert.core.snapshot import Snapshot

CheckFn = Callable[["Snapshot"], Iterable[Finding]]
# What @check registers: a CheckFn, or a post check fn(snapshot, findings); the decorator returns it unchanged.
AnyCheckFn = TypeVar("AnyCheckFn", bound=Callable[..., Iterable[Finding]])


@dataclass(slots=True, frozen=True)
class Check:
    name: str
    component: str
    codes: tuple[str, ...]
    reads: tuple[str, ...]
    fn: Callable[..., Iterable[Finding]]
    post: bool = False
    any_read: bool = False


_CHECKS: dict[str, Check] = {}

# What the running check saw but could not judge (a status nobody wrote yet, a kind it does not model):
# the engine sets a fresh list around each check and reports each entry as a "not checked" line. A context
# variable, like snapshot.UNSEEN, so concurrent diagnoses keep their notes apart.
NOT_CHECKED: ContextVar[list[str] | None] = ContextVar("sre_expert_not_checked", default=None)


# Whether an Argo CD Application manages an object (by its key), for the snapshot being diagnosed: the engine
# sets it around each check. Fixes that say "change it in Git and let Argo CD sync" (catalogue `when: gitops`)
# appear only for managed objects; their generic alternative (`when: no-gitops`) appears otherwise. Unset
# (a finding built outside a diagnosis), the GitOps fixes are kept, as the reference platform uses Argo CD.
GITOPS: ContextVar[Callable[[Key], bool] | None] = ContextVar("sre_expert_gitops", default=None)


def _applies(when: str | None, managed: bool | None) -> bool:
    if when is None:
        return True
    if managed is None:
        return when == "gitops"
    return managed == (when == "gitops")


def note_not_checked(what: str) -> None:
    """Record that `what` was seen but not judged; it appears in the report's "not checked" list."""
    notes = NOT_CHECKED.get()
    if notes is not None and what not in notes:
        notes.append(what)


def check(
    component: str, codes: Sequence[str], reads: Sequence[str] = (), post: bool = False, any_read: bool = False
) -> Callable[[AnyCheckFn], AnyCheckFn]:
    """Register a check. `reads` names the kinds it needs, to report "not checked" when they were not
    collected: the check runs only when all of them were (`any_read`: when any was, for a check that judges
    each object of those kinds on its own status and asks `snap.collected` before calling anything missing).
    A `post` check runs after the others as `fn(snapshot, findings)`, e.g. to report warning events that no
    other finding explains."""

    def deco(fn: AnyCheckFn) -> AnyCheckFn:
        name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
        _CHECKS[name] = Check(name, component, tuple(codes), tuple(reads), fn, post, any_read)
        return fn

    return deco


def all_checks() -> list[Check]:
    """Import every module of sre_expert.checks once, then return the registered checks."""
    from sre_expert import checks as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{pkg.__name__}.{mod.name}")
    return list(_CHECKS.values())


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: _Params) -> str:
    """Fill a catalogue template; a malformed one (say, unescaped jsonpath braces) stays as written."""
    try:
        return template.format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def finding(
    code: str,
    obj: dict[str, Any] | ObjectRef,
    title: str,
    detail: str = "",
    evidence: Iterable[str] = (),
    params: dict[str, Any] | None = None,
    subjects: Iterable[Key] = (),
    depends_on: Iterable[Key] = (),
    severity: str | None = None,
    extra_fixes: Iterable[Remediation] = (),
    speaks_for_object: bool = True,
) -> Finding:
    """Build a Finding for a documented code; remediation commands are filled from the catalogue.

    Template fields: {kind}, {namespace}, {name}, {resource} (lower-case kind) and any `params`.
    speaks_for_object=False keeps a pure symptom (say, an RPO missed on a Namespace) from explaining other
    findings that depend on the same object.
    """
    s = spec(code)
    ref = obj if isinstance(obj, ObjectRef) else ObjectRef.of(obj)
    values = _Params(kind=ref.kind, namespace=ref.namespace or "", name=ref.name, resource=ref.kind.lower())
    if params:
        values.update(params)
    judge = GITOPS.get()
    managed = judge(ref.key) if judge is not None and any(t.when for t in s.remediation) else None
    fixes = [Remediation(_fill(t.description, values), _fill(t.command, values) if t.command else None, t.safety)
             for t in s.remediation if _applies(t.when, managed)]
    fixes.extend(extra_fixes)
    subj = list(dict.fromkeys([ref.key, *subjects] if speaks_for_object else subjects))
    return Finding(
        code=code,
        severity=severity or s.severity,
        component=s.component,
        object=ref,
        title=title,
        detail=detail or s.explanation,
        evidence=list(evidence),
        remediation=fixes,
        runbook=s.runbook,
        subjects=subj,
        depends_on=list(dict.fromkeys(depends_on)),
    )
