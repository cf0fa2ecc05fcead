"""Property: wrapping a command in a shell combinator never lowers its class, and never hides that it prints
Secret values; respelling a dangerous command (brace expansion, environment prefixes, flag spellings, run-time
arithmetic) never makes it read-only. The commands are the labelled corpus; the combinators are what an operator (or a model)
would use to run the same thing differently: sudo, env, timeout, nohup, watch, bash -c, eval, $( ), ( ),
pipes, lists, xargs.

Prefix wrappers (sudo, env X=1, timeout 5, nohup, nice, time, command) take a simple command in bash, so
they are applied to commands that start with a program; the others apply to every command."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from test_guard import CORPUS_ROWS

from sre_expert.safety.guard import classify
from sre_expert.safety.shell import ParseError, Simple, Word, parse
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, rank

pytestmark = pytest.mark.unit

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
    if cmd.words[0].text not in ("kubectl", "k") or any(w.dynamic or "\n" in w.text or w.braces is not None
                                                         for w in cmd.words):
        return None  # xargs passes its input on as it is: no expansion of `$X`, `{a,b}`
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


# -- issue 12: spellings of dangerous commands the parser once missed ---------------------------------------
# Property: a mutating or destructive command, rewritten the way a hostile model would to slip past the label
# (brace expansion, a code-loading environment prefix, kubectl's `_` for `-`, a GNU long-option prefix, run-time
# arithmetic), is never labelled read-only, and the rewrites that keep its meaning never lower its class.

DANGEROUS = [c for cls, _, c in CORPUS_ROWS if cls in (MUTATING, DESTRUCTIVE) and "\n" not in c and _simple_start(c)]
READ_ONLY_SIMPLE = [c for cls, _, c in CORPUS_ROWS if cls == READ_ONLY and "\n" not in c and _simple_start(c)]
CODE_VARS = ["HOME=/tmp/planted", "PATH=/tmp/planted:$PATH", "BASH_ENV=/tmp/planted", "LD_PRELOAD=/tmp/p.so",
             "GIT_CONFIG_COUNT=1", "KUBECTL_EXTERNAL_DIFF=/tmp/p", "PYTHONPATH=/tmp/p", "XDG_CONFIG_HOME=/tmp/p",
             "KUBECONFIG=/tmp/p", "EDITOR=/tmp/p", "NODE_OPTIONS=--require=/tmp/p.js"]
# (template, dangerous GNU long option, shortest prefix the program accepts unambiguously)
GNU_OPTIONS = [
    ("sed {opt} s/a/b/ app.conf", "--in-place", 2), ("sort {opt}=out.txt in.txt", "--output", 2),
    ("sort {opt}=/tmp/p in.txt", "--compress-program", 2), ("tar {opt}=exec=id -cf /dev/null app",
                                                             "--checkpoint-action", 12),
    ("tar {opt}=/tmp/p -cf app.tar app", "--use-compress-program", 3), ("tar -tf a.tar {opt}=id", "--to-command", 4),
    ("git ls-remote {opt}=/tmp/p origin", "--upload-pack", 3), ("git grep {opt}=/tmp/p foo",
                                                                "--open-files-in-pager", 3),
    ("git reset {opt} HEAD~1", "--hard", 2), ("git push {opt} origin main", "--force", 3),
    ("iconv -f utf8 -t ascii {opt}=out.txt in.txt", "--output", 1),
    ("mysql {opt}='DROP TABLE t' -e 'select 1'", "--init-command", 4), ("env {opt}='rm -rf /data'", "--split-string", 3),
]


def _first_words(command: str) -> list[Word]:
    return parse(command).pipelines[0].commands[0].words  # type: ignore[union-attr]


def _replace_word(command: str, index: int, new: str) -> str:
    """The command with the raw text of one word of its first simple command replaced (spans located by search)."""
    words = _first_words(command)
    pos = 0
    for n, w in enumerate(words):
        at = command.index(w.raw, pos)
        if n == index:
            return command[:at] + new + command[at + len(w.raw):]
        pos = at + len(w.raw)
    return command


def _brace_safe(word: Word) -> bool:
    return not any(ch in word.raw for ch in "{},") and "\n" not in word.raw


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(DANGEROUS), st.integers(min_value=1, max_value=12), st.sampled_from(["{%s,}", "{,%s}"]))
def test_brace_spelling_never_lowers_a_dangerous_command(command: str, index: int, form: str) -> None:
    words = _first_words(command)
    assume(index < len(words) and _brace_safe(words[index]))
    mutated = _replace_word(command, index, form % words[index].raw)
    before, after = classify(command), classify(mutated)
    assert rank(after.cls) >= rank(before.cls), (command, mutated, before, after)
    assert after.cls != READ_ONLY


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(DANGEROUS + READ_ONLY_SIMPLE), st.sampled_from(CODE_VARS), st.booleans())
def test_code_loading_environment_is_never_read_only(command: str, assign: str, through_env: bool) -> None:
    mutated = f"env {assign} {command}" if through_env else f"{assign} {command}"
    before, after = classify(command), classify(mutated)
    assert rank(after.cls) >= max(rank(before.cls), rank(UNKNOWN)), (mutated, after)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.sampled_from([c for c in DANGEROUS if c.split()[0] in ("kubectl", "k") and " --" in c]),
       st.integers(min_value=0, max_value=30))
def test_kubectl_underscore_flags_never_lower_the_class(command: str, seed: int) -> None:
    words = _first_words(command)
    longs = [n for n, w in enumerate(words) if w.text.startswith("--") and "-" in w.text[2:].partition("=")[0]]
    assume(longs)
    n = longs[seed % len(longs)]
    name, eq, value = words[n].raw.partition("=")
    mutated = _replace_word(command, n, "--" + name[2:].replace("-", "_") + eq + value)
    assert rank(classify(mutated).cls) >= rank(classify(command).cls), (command, mutated)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(GNU_OPTIONS), st.integers(min_value=0, max_value=30))
def test_gnu_option_prefixes_are_never_read_only(case: tuple[str, str, int], cut: int) -> None:
    template, full, shortest = case
    length = 2 + shortest + cut % (len(full) - 1 - shortest)
    mutated = template.format(opt=full[:length])
    assert classify(mutated).cls != READ_ONLY, mutated
    assert rank(classify(mutated).cls) >= rank(classify(template.format(opt=full)).cls), mutated


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(READ_ONLY_SIMPLE + DANGEROUS),
       st.sampled_from(["$((n))", '"$((n + 1))"', "${a[$i]}", "${x@P}", "${!ref}", "${s:$off}", "$[n]"]))
def test_run_time_arithmetic_is_never_read_only(command: str, expansion: str) -> None:
    mutated = f"{_suffix_safe(command)} && echo {expansion}"
    assert rank(classify(mutated).cls) >= max(rank(classify(command).cls), rank(UNKNOWN)), mutated
