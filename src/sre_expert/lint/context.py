"""What rules receive: the repository plus the tools and schemas available to this run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sre_expert.lint.codes import LintFinding
from sre_expert.lint.repo import Doc, Repo, RepoObject


@dataclass(slots=True)
class LintContext:
    repo: Repo
    crd_dirs: tuple[str, ...] = ()
    promtool: str | None = None
    helm: str | None = None
    findings: list[LintFinding] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    def add(self, f: LintFinding) -> None:
        self.findings.append(f)

    def skip(self, what: str) -> None:
        self.not_checked.append(what)

    @contextmanager
    def guard(self, rule: str, where: RepoObject | Doc | None = None) -> Iterator[None]:
        """Run one object's checks; a field of an unexpected type (a string where a map belongs) skips
        that object with a note, never the whole rule: the CRD schema check reports the field itself."""
        try:
            yield
        except (AttributeError, TypeError, KeyError, ValueError, IndexError) as e:
            if isinstance(where, RepoObject):
                at = f"{where.display()} ({where.file}:{where.line()})"
            elif isinstance(where, Doc):
                at = f"{where.file}:{where.line()}"
            else:
                at = "the repository"
            self.skip(f"{rule}: skipped {at}: a field has an unexpected type ({type(e).__name__}: {e})")

    def trusts_absence(self, rule: str, *kinds: str) -> bool:
        """False (and a "not checked" line naming the files) when a file that may define one of these
        kinds did not parse: "there is no such object" cannot be concluded while it is unread. Broken
        files that cannot hold these kinds do not matter."""
        hiding = self.repo.hiding(*kinds)
        if not hiding:
            return True
        n = len(hiding)
        files = ", ".join(e.file for e in hiding[:3]) + (f" and {n - 3} more" if n > 3 else "")
        self.skip(f"{rule}: skipped, {n} file{'s' if n > 1 else ''} that may define "
                  f"{'/'.join(k for k in kinds)} could not be parsed ({files})")
        return False


Rule = Callable[[LintContext], None]


def obj_ref(ro: RepoObject):
    from sre_expert.core.model import ObjectRef

    return ObjectRef.of(ro.obj)
