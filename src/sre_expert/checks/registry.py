"""Registry of checks and the factory that turns a code plus an object into a Finding.

A check is a pure function `fn(snapshot) -> Iterable[Finding]` registered with the codes it can emit,
the kinds it reads and the key kinds its findings link by (`speaks_for`, `depends_on`). The component of
a finding is its code's, from the catalogue YAML: the registry does not repeat it. Modules under
sre_expert.checks register themselves on import. A check that would conclude "X does not exist" about a
namespace a scoped sweep (`-n`) did not read asks
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

from sre_expert.core.model import Finding, Key, ObjectRef, Remediation
from sre_expert.knowledge.catalogue import spec

if TYPE_CHECKING:
    from sre_expert.core.snapshot import Snapshot

CheckFn = Callable[["Snapshot"], Iterable[Finding]]
F = TypeVar("F", bound=Callable[..., Iterable[Finding]])


@dataclass(slots=True, frozen=True)
class Check:
    name: str
    codes: tuple[str, ...]
    reads: tuple[str, ...]
    speaks_for: tuple[str, ...]
    """Key kinds its findings' `subjects` may hold: what diagnosis/links.py lets them explain."""
    depends_on: tuple[str, ...]
    """Key kinds its findings' `depends_on` may hold: whose findings may explain them."""
    fn: Callable[..., Iterable[Finding]]
    post: bool = False
    any_read: bool = False


_CHECKS: dict[str, Check] = {}

ANY_KIND = "*"
"""In `speaks_for` / `depends_on`: keys of whatever kind the evidence names (a warning event's involved
object), for the checks whose subject is not a kind they choose."""

# What the running check saw but could not judge (a status nobody wrote yet, a kind it does not model):
# the engine sets a fresh list around each check and reports each entry as a "not checked" line. A context
# variable, like snapshot.UNSEEN, so concurrent diagnoses keep their notes apart.
NOT_CHECKED: ContextVar[list[str] | None] = ContextVar("sre_expert_not_checked", default=None)


# Whether an Argo CD Application manages an object (by its key), for the snapshot being diagnosed: the engine
# sets it around each check. Fixes that say "change it in Git and let Argo CD sync" (catalogue `when: gitops`)
# appear only for managed objects; their generic alternative (`when: no-gitops`) appears otherwise. Unset
# (a finding built outside a diagnosis), the GitOps fixes are kept, as the reference platform uses Argo CD.
GITOPS: ContextVar[Callable[[Key], bool] | None] = ContextVar("sre_expert_gitops", default=None)

# A test-only observer of what each check produced, called by the engine once per check run (never per
# finding): tests/conftest.py sets it to hold every finding to its check's declared codes and key kinds.
# Unset in production, where it costs one ContextVar lookup per check.
AUDIT: ContextVar[Callable[[Check, list[Finding]], None] | None] = ContextVar("sre_expert_audit", default=None)


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
    *,
    codes: Sequence[str],
    speaks_for: Sequence[str],
    depends_on: Sequence[str],
    reads: Sequence[str] = (),
    post: bool = False,
    any_read: bool = False,
) -> Callable[[F], F]:
    """Register a check. `codes` are the catalogue codes it emits, listed in full. `speaks_for` and
    `depends_on` are the key kinds (Key[0], synthetic ones included) of its findings' subjects and
    depends_on: the links between checks, written where a reader of the check sees them (tests hold every
    finding to them). `reads` names the kinds it needs, to report "not checked" when they were not
    collected: the check runs only when all of them were (`any_read`: when any was, for a check that judges
    each object of those kinds on its own status and asks `snap.collected` before calling anything missing).
    A `post` check runs after the others as `fn(snapshot, findings)`, e.g. to report warning events that no
    other finding explains."""
    for what, kinds in (("codes", codes), ("speaks_for", speaks_for), ("depends_on", depends_on), ("reads", reads)):
        if isinstance(kinds, str):  # ("Pod") for ("Pod",): a string would pass as a tuple of letters
            raise TypeError(f"@check {what} must be a tuple of strings, got the string {kinds!r}")

    def deco(fn: F) -> F:
        name = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
        _CHECKS[name] = Check(name, tuple(codes), tuple(reads), tuple(speaks_for), tuple(depends_on), fn, post,
                              any_read)
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


def outside_declaration(chk: Check, produced: Iterable[Finding]) -> list[str]:
    """What `produced` holds beyond `chk`'s declaration: a code it does not list, a subject or depends_on key
    whose kind it does not name. Empty when every finding stays within it; the tests call it on every check
    run (through AUDIT), so an undeclared link is caught where it is made, not guessed from the source."""
    codes = set(chk.codes)
    speaks = None if ANY_KIND in chk.speaks_for else set(chk.speaks_for)
    deps = None if ANY_KIND in chk.depends_on else set(chk.depends_on)
    out: list[str] = []
    for f in produced:
        o = f.object
        where = f"{chk.name}: {f.code}/{o.namespace or '_'}/{o.kind}/{o.name}"
        if f.code not in codes:
            out.append(f"{where} emits undeclared code {f.code}")
        out.extend(f"{where} speaks for undeclared key kind {k}" for k in dict.fromkeys(k[0] for k in f.subjects)
                   if speaks is not None and k not in speaks)
        out.extend(f"{where} depends on undeclared key kind {k}" for k in dict.fromkeys(k[0] for k in f.depends_on)
                   if deps is not None and k not in deps)
    return out
