"""Confirmation before anything that is not read-only (or that prints Secret values).

The operator sees the exact command, its class, the guard's reasons and, for kubectl writes that support
it, what the API server says it would change (a `--dry-run=server` run); then types a confirmation
token: the name of the object the command acts on (`mongodb-0`, `envoy-gateway`), or the class word
(`destructive`, `unknown` …) when there is no single name. Typing the name, not "y", is the point: it
forces reading which object is about to change.

Confirmers: `TtyConfirmer` asks on a terminal; `NonInteractiveConfirmer` approves only with an explicit
`--yes-i-understand` AND a `--confirm TOKEN` equal to the expected token (without a TTY nothing else ever
approves); `ScriptedConfirmer` answers from a list (tests, scripted runbooks).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import IO, Protocol

from sre_expert.safety.verdict import READ_ONLY, Verdict

PREVIEW_MAX_LINES = 60
PREVIEW_MAX_CHARS = 6000


@dataclass(slots=True, frozen=True)
class Preview:
    """What a dry run said the command would change."""

    command: str  # the dry-run command line that ran
    ok: bool  # the dry run exited 0
    text: str  # its output (truncated), or why there is none


@dataclass(slots=True, frozen=True)
class Proposal:
    command: str
    verdict: Verdict
    token: str
    preview: Preview | None = None
    note: str | None = None  # e.g. why there is no preview
    asked: str | None = None  # why the execution gate did not let it run unasked


@dataclass(slots=True, frozen=True)
class Decision:
    approved: bool
    decision: str  # approved | declined | refused
    note: str = ""


class Confirmer(Protocol):
    def confirm(self, proposal: Proposal) -> Decision: ...


def confirmation_token(verdict: Verdict) -> str:
    """The single object name the command acts on, else the class word ("secrets" for a read that exposes)."""
    if len(verdict.targets) == 1 and verdict.targets[0].strip():
        return verdict.targets[0]
    if verdict.cls == READ_ONLY and verdict.exposes_secrets:
        return "secrets"
    return verdict.cls


def truncate(text: str, max_lines: int = PREVIEW_MAX_LINES, max_chars: int = PREVIEW_MAX_CHARS) -> str:
    lines = text.splitlines()
    out = "\n".join(lines[:max_lines])
    cut_lines = len(lines) - max_lines
    if len(out) > max_chars:
        out = out[:max_chars]
        return out + f"\n… (truncated; {len(text) - max_chars} more characters)"
    if cut_lines > 0:
        return out + f"\n… ({cut_lines} more lines)"
    return out


def render(proposal: Proposal) -> str:
    """The text shown before asking."""
    v = proposal.verdict
    head = f"About to run a {v.cls.upper()} command" if v.cls != READ_ONLY else "About to run a command"
    lines = [head + (" that prints Secret values" if v.exposes_secrets else "") + ":", "",
             "    " + proposal.command.replace("\n", "\n    "), ""]
    if v.reasons:
        lines.append("Why:")
        lines.extend(f"  - {r}" for r in v.reasons)
        lines.append("")
    if proposal.asked:
        lines.append(f"Asking because it is {proposal.asked}." if proposal.asked.startswith("not ")
                     else f"Asking because {proposal.asked}.")
        lines.append("")
    if proposal.preview is not None:
        p = proposal.preview
        lines.append(f"What it would change (server-side dry run: {p.command}):" if p.ok
                     else f"The dry run failed ({p.command}):")
        lines.extend("    " + ln for ln in (p.text or "(no output)").splitlines())
        lines.append("")
    elif proposal.note:
        lines.append(proposal.note)
        lines.append("")
    return "\n".join(lines)


class TtyConfirmer:
    """Asks on a terminal: the operator must type the token."""

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stderr

    def confirm(self, proposal: Proposal) -> Decision:
        self.stdout.write(render(proposal))
        self.stdout.write(f"Type {proposal.token} to run it (anything else cancels): ")
        self.stdout.flush()
        answer = self.stdin.readline()
        if not answer:
            self.stdout.write("\n")
            return Decision(False, "declined", "no answer (end of input)")
        if answer.strip() == proposal.token:
            return Decision(True, "approved", "confirmed on the terminal")
        self.stdout.write("Cancelled: nothing was run.\n")
        return Decision(False, "declined", "the typed text did not match the confirmation token")


@dataclass
class ScriptedConfirmer:
    """Answers from a list, in order (an exhausted list declines). Records every proposal it was shown."""

    answers: list[str] = field(default_factory=list)
    shown: list[Proposal] = field(default_factory=list)

    def confirm(self, proposal: Proposal) -> Decision:
        self.shown.append(proposal)
        if not self.answers:
            return Decision(False, "declined", "no scripted answer left")
        answer = self.answers.pop(0)
        if answer == proposal.token:
            return Decision(True, "approved", "scripted confirmation")
        return Decision(False, "declined", "the scripted answer did not match the confirmation token")


@dataclass
class NonInteractiveConfirmer:
    """No terminal: approve only with --yes-i-understand and the exact --confirm TOKEN."""

    assume_yes: bool = False
    token: str | None = None
    stdout: IO[str] | None = None

    def confirm(self, proposal: Proposal) -> Decision:
        out = self.stdout or sys.stderr
        if not self.assume_yes or self.token is None:
            out.write(render(proposal))
            out.write(f"Refused: no terminal to confirm on. To run it anyway pass --yes-i-understand and "
                      f"--confirm {proposal.token}\n")
            return Decision(False, "refused", "no TTY and no --yes-i-understand/--confirm")
        if self.token != proposal.token:
            out.write(render(proposal))
            out.write(f"Refused: --confirm {self.token!r} does not match the expected token {proposal.token!r}\n")
            return Decision(False, "refused", "--confirm token does not match")
        out.write(render(proposal))
        out.write(f"Confirmed by --yes-i-understand --confirm {self.token}\n")
        return Decision(True, "approved", "--yes-i-understand with a matching --confirm token")


def choose_confirmer(assume_yes: bool = False, token: str | None = None, stdin: IO[str] | None = None,
                     stdout: IO[str] | None = None) -> Confirmer:
    """A TTY confirmer when stdin is a terminal and no flags were given; otherwise the non-interactive one."""
    stdin = stdin or sys.stdin
    is_tty = False
    try:
        is_tty = stdin.isatty()
    except (AttributeError, ValueError):
        pass
    if is_tty and not assume_yes and token is None:
        return TtyConfirmer(stdin, stdout)
    return NonInteractiveConfirmer(assume_yes, token, stdout)
