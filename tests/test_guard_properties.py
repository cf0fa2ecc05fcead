"""Property: wrapping a command in a shell combinator never lowers its class, and never hides that it prints
Secret values. The commands are the labelled corpus; the combinators are what an operator (or a model)
would use to run the same thing differently: sudo, env, timeout, nohup, watch, bash -c, eval, $( ), ( ),
pipes, lists, xargs.

Prefix wrappers (sudo, env X=1, timeout 5, nohup, nice, time, command) take a simple command in bash, so
they are applied to commands that start with a program; the others apply to every command."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from sre_expert.safety.guard import classify
from sre_expert.safety.shell import ParseError, Simple, parse
from sre_expert.safety.verdict import rank

from test_guard import CORPUS_ROWS

# Hypothesis keeps a cache directory; keep it out of the work tree (the tests use no example database).
set_hypothesis_home_dir(str(Path(tempfile.gettempdir()) / "sre-expert-hypothesis"))

COMMANDS = [c for _, _, c in CORPUS_ROWS]
_KEYWORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac", "{", "}", "!",
             "select", "function"}


def _dq(text: str) -> str:
    """Double-quote text for bash (inside "…" only \\ " $ ` are special)."""
    return '"' + "".join("\\" + c if c in '\\"$`' else c for c in text) + '"'


def _parses(command: str) -> bool:
    try:
        parse(command)
    except (ParseError, RecursionError):
        return False
    return True


def _simple_start(command: str) -> bool:
    """Does the command start with a program word a prefix wrapper could run?"""
    try:
        script = parse(command)
    except (ParseError, RecursionError):
        return False
    if not script.pipelines:
        return False
    first = script.pipelines[0].commands[0]
    return isinstance(first, Simple) and bool(first.words) and not first.assigns and \
        first.words[0].text not in _KEYWORDS


def _single_kubectl(command: str) -> list[str] | None:
    """argv of a one-line kubectl command without operators or redirections (the xargs combinator's input)."""
    try:
        script = parse(command)
    except (ParseError, RecursionError):
        return None
    if len(script.pipelines) != 1 or len(script.pipelines[0].commands) != 1:
        return None
    cmd = script.pipelines[0].commands[0]
    if not isinstance(cmd, Simple) or cmd.assigns or cmd.redirects or len(cmd.words) < 3:
        return None
    if cmd.words[0].text not in ("kubectl", "k") or any(w.dynamic or "\n" in w.text for w in cmd.words):
        return None
    return [w.text for w in cmd.words]


def _suffix_safe(command: str) -> str:
    """Make a command safe to append an operator to: a heredoc must end with its newline, a trailing `&` or
    comment must not swallow or clash with what follows. Grouping in ( … ) keeps the meaning."""
    tail = command.rstrip()
    if "\n" in command or "#" in command or (tail.endswith("&") and not tail.endswith("&&")):
        return f"( {command}\n)"
    return command


PREFIXES = {
    "sudo": lambda c: f"sudo {c}", "sudo -u": lambda c: f"sudo -u postgres {c}", "env": lambda c: f"env X=1 {c}",
    "timeout": lambda c: f"timeout 5 {c}", "timeout -s": lambda c: f"timeout -s KILL 30s {c}",
    "nohup": lambda c: f"nohup {c}", "nice": lambda c: f"nice -n 10 {c}", "time": lambda c: f"time {c}",
    "command": lambda c: f"command {c}", "exec": lambda c: f"exec {c}",
}
ANYWHERE = {
    "watch": lambda c: f"watch -n 5 {shlex.quote(c)}",
    "bash -c": lambda c: f"bash -c {shlex.quote(c)}",
    "sh -c": lambda c: f"sh -euc {shlex.quote(c)}",
    "eval": lambda c: f"eval {_dq(c)}",
    "$( )": lambda c: f'echo "$({c}\n)"',
    "( )": lambda c: f"( {c}\n)",
    "| cat": lambda c: f"{_suffix_safe(c)} | cat",
    "true &&": lambda c: f"true && {c}",
    "; true": lambda c: f"{_suffix_safe(c)} ; true",
    "|| true": lambda c: f"{_suffix_safe(c)} || true",
    "ssh": lambda c: f"ssh node-1 {shlex.quote(c)}",
}


def _xargs(command: str) -> str | None:
    argv = _single_kubectl(command)
    if argv is None:
        return None
    return f"printf '%s\\n' {shlex.quote(argv[-1])} | xargs {shlex.join(argv[:-1])}"


def _wrap(command: str, name: str) -> str | None:
    if name in PREFIXES:
        return PREFIXES[name](command) if _simple_start(command) else None
    if name == "xargs":
        return _xargs(command)
    return ANYWHERE[name](command)


ALL = sorted([*PREFIXES, *ANYWHERE, "xargs"])


def _check(original: str, wrapped: str) -> None:
    before, after = classify(original), classify(wrapped)
    assert rank(after.cls) >= rank(before.cls), (original, wrapped, before, after)
    assert after.exposes_secrets or not before.exposes_secrets, (original, wrapped, before, after)


def test_every_combinator_on_every_corpus_command() -> None:
    """Exhaustive for one level of wrapping."""
    applied = 0
    for command in COMMANDS:
        for name in ALL:
            wrapped = _wrap(command, name)
            if wrapped is None:
                continue
            applied += 1
            _check(command, wrapped)
    assert applied > 10 * len(COMMANDS)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMMANDS), st.lists(st.sampled_from(ALL), min_size=2, max_size=4))
def test_nested_combinators_never_lower_the_class(command: str, names: list[str]) -> None:
    wrapped = command
    for name in names:
        nxt = _wrap(wrapped, name)
        if nxt is not None:
            wrapped = nxt
    _check(command, wrapped)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(COMMANDS), st.sampled_from(COMMANDS), st.sampled_from([" ; ", " && ", " || ", "\n", " | "]))
def test_a_compound_is_at_least_its_highest_part(a: str, b: str, sep: str) -> None:
    assume(_parses(a))  # an incomplete line (`kubectl get pods |`) is completed by what follows it
    line = f"{_suffix_safe(a)}{sep}{b}"
    got = rank(classify(line).cls)
    parts = [rank(classify(a).cls), rank(classify(b).cls)]
    if sep == " | ":
        # the right-hand side reads the left's output instead of its own heredoc/pipe: compare with it alone
        assert got >= parts[0]
    else:
        assert got >= max(parts), (line, classify(line))
