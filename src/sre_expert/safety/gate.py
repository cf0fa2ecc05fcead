"""The execution gate: the one place that decides a command line may run without the operator's confirmation.

The guard (`guard.classify`) labels arbitrary bash for people; a deny-list over bash cannot be complete, so
its label never grants anything. This gate is an allow-list instead, and everything it does not admit goes
to the typed confirmation (or is refused where nobody can confirm). A line is admitted only when:

- it splits into words without any shell feature: unquoted words use only ``A-Z a-z 0-9 _ . / : = , @ % + -
  ^`` and ``!=``; single quotes may hold anything printable (bash takes it literally too); double quotes may hold
  anything printable but ``$ ` \\ ! "``; the only operator is a lone ``|`` between stages. So no expansion
  (brace, tilde, glob, parameter, arithmetic, history), no substitution, redirection, list, subshell,
  comment or environment prefix can be written;
- stage 1 is ``kubectl`` with a read verb, or ``echo``; later stages are pure text filters (grep, head,
  tail, wc, sort, uniq, cut, tr, jq) reading standard input only;
- every flag is on that program's allow-list after resolving it the way the program does: pflag's
  ``--flag=v`` / ``--flag v`` / short clusters / ``-f=v`` / ``--``, kubectl's ``_`` = ``-`` in long names,
  GNU getopt_long's unambiguous prefixes (``sort --outp`` is ``--output``; unknown or ambiguous: refused);
- kubectl prints no Secret data (``get secret`` only as a table or names), names only resource types it
  can resolve, and takes no ``--kubeconfig``/``--server``/``--token``/``--as``/``-v``…; ``--context`` only
  when it is the context the product itself chose.

Admitted stages are run by `execute` with `execve` (no shell), programs resolved once from TRUSTED_PATH,
in an environment the product builds (`ExecPolicy`). The filters are the real GNU/jq programs rather than
Python re-implementations, so a pattern means exactly what the model and the operator expect; the price
is the per-program flag tables below, which include every long option the program knows (prefix
resolution needs all of them, allowed or not).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

TRUSTED_PATH = "/usr/local/bin:/usr/bin:/bin"

_UNQUOTED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,@%+-^")
_DQ_FORBIDDEN = frozenset('$`\\!"')


class NotAdmitted(Exception):
    """The line is outside the grammar; the message says which rule it broke."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The gate's answer. `stages`: the argv of each pipeline stage (program names, not yet resolved)."""

    admitted: bool
    reason: str
    stages: tuple[tuple[str, ...], ...] = ()


# ------------------------------------------------------------------------------------------------ words

def split_words(line: str) -> list[str | None]:
    """The words of `line` with None for each `|` operator, or NotAdmitted when any shell feature applies."""
    out: list[str | None] = []
    word: list[str] = []
    in_word = False
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t":
            if in_word:
                out.append("".join(word))
                word, in_word = [], False
            i += 1
        elif c == "|":
            if in_word:
                out.append("".join(word))
                word, in_word = [], False
            if i + 1 < n and line[i + 1] in "|&":
                raise NotAdmitted(f"shell operator {line[i:i + 2]!r}")
            out.append(None)
            i += 1
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise NotAdmitted("unterminated single quote")
            body = line[i + 1:end]
            if not body.isprintable():
                raise NotAdmitted("control character inside quotes")
            word.append(body)
            in_word = True
            i = end + 1
        elif c == '"':
            end = line.find('"', i + 1)
            if end < 0:
                raise NotAdmitted("unterminated double quote")
            body = line[i + 1:end]
            bad = sorted(set(body) & _DQ_FORBIDDEN)
            if bad:
                raise NotAdmitted(f"{''.join(bad)!r} inside double quotes is expanded by the shell")
            if not body.isprintable():
                raise NotAdmitted("control character inside quotes")
            word.append(body)
            in_word = True
            i = end + 1
        elif c == "!" and line[i + 1:i + 2] == "=":  # bash never history-expands `!=` (field selectors)
            word.append(c)
            in_word = True
            i += 1
        elif c in _UNQUOTED:
            if c == "^" and not in_word and not out:
                raise NotAdmitted("'^' at the start of a line is history substitution")
            word.append(c)
            in_word = True
            i += 1
        else:
            raise NotAdmitted(f"shell character {c!r} outside single quotes" if c.isprintable()
                              else "control or non-printable character")
    if in_word:
        out.append("".join(word))
    return out


def split_stages(line: str) -> list[list[str]]:
    """The argv of each `|`-separated stage; NotAdmitted for an empty stage or a shell feature."""
    words = split_words(line)
    stages: list[list[str]] = [[]]
    for w in words:
        if w is None:
            stages.append([])
        else:
            stages[-1].append(w)
    if any(not s for s in stages):
        raise NotAdmitted("empty command or pipeline stage")
    return stages


# ------------------------------------------------------------------------------------------------ GNU getopt

NONE, REQUIRED, OPTIONAL = "none", "required", "optional"


@dataclass(frozen=True)
class GnuSpec:
    """A GNU getopt_long program: `known` is every long option it has (for prefix resolution), `long` and
    `short` the allowed ones → (canonical name, argument kind)."""

    name: str
    known: frozenset[str]
    long: Mapping[str, str]
    short: Mapping[str, tuple[str, str]]
    operands: tuple[int, int] = (0, 0)
    abbrev: bool = True
    numeric_lines: bool = False  # head/tail: `-5` as the first argument is `-n 5`
    check: Callable[[list[tuple[str, str | None]], list[str]], str | None] | None = None


def resolve_long(spec: GnuSpec, name: str) -> str:
    """The long option `--name` means to the program: exact, else the one option it is a prefix of."""
    if name in spec.known:
        return name
    if not spec.abbrev:
        raise NotAdmitted(f"{spec.name}: unknown option --{name}")
    hits = sorted(k for k in spec.known if name and k.startswith(name))
    if not hits:
        raise NotAdmitted(f"{spec.name}: unknown option --{name}")
    if len(hits) > 1:
        raise NotAdmitted(f"{spec.name}: --{name} is ambiguous ({', '.join('--' + h for h in hits)})")
    return hits[0]


def parse_gnu(spec: GnuSpec, args: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(options as (canonical long name, value), operands), parsed as getopt_long with permutation."""
    opts: list[tuple[str, str | None]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            operands += args[i + 1:]
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            full = resolve_long(spec, name)
            kind = spec.long.get(full)
            if kind is None:
                raise NotAdmitted(f"{spec.name}: option --{full} is not allowed without confirmation")
            if kind == NONE and eq:
                raise NotAdmitted(f"{spec.name}: --{full} takes no value")
            value: str | None = val if eq else None
            if kind == REQUIRED and not eq:
                i += 1
                if i >= len(args):
                    raise NotAdmitted(f"{spec.name}: --{full} needs a value")
                value = args[i]
            opts.append((full, value))
        elif a.startswith("-") and a != "-":
            if spec.numeric_lines and i == 0 and a[1:].isdigit():
                opts.append(("lines", a[1:]))
                i += 1
                continue
            j = 1
            while j < len(a):
                c = a[j]
                if c not in spec.short:
                    raise NotAdmitted(f"{spec.name}: option -{c} is not allowed without confirmation")
                full, kind = spec.short[c]
                if kind == NONE:
                    opts.append((full, None))
                    j += 1
                    continue
                rest = a[j + 1:]
                if not rest:
                    i += 1
                    if i >= len(args):
                        raise NotAdmitted(f"{spec.name}: -{c} needs a value")
                    rest = args[i]
                opts.append((full, rest))
                break
        else:
            operands.append(a)
        i += 1
    lo, hi = spec.operands
    if not lo <= len(operands) <= hi:
        raise NotAdmitted(f"{spec.name}: takes {lo}..{hi} operands here (files are not read), got {len(operands)}")
    if spec.check is not None:
        why = spec.check(opts, operands)
        if why:
            raise NotAdmitted(f"{spec.name}: {why}")
    return opts, operands


def _grep_check(opts: list[tuple[str, str | None]], operands: list[str]) -> str | None:
    has_e = any(k == "regexp" for k, _ in opts)
    want = 0 if has_e else 1
    if len(operands) != want:
        return "only a pattern is allowed (no file operands: filters read the previous stage)"
    return None


_GREP_KNOWN = frozenset(
    "after-context basic-regexp before-context binary binary-files byte-offset color colour context count "
    "dereference-recursive devices directories exclude exclude-dir exclude-from extended-regexp file "
    "files-with-matches files-without-match fixed-regexp fixed-strings group-separator help ignore-case include "
    "initial-tab invert-match label line-buffered line-number line-regexp max-count no-filename "
    "no-group-separator no-ignore-case no-messages null null-data only-matching perl-regexp quiet recursive "
    "regexp silent text unix-byte-offsets version with-filename word-regexp".split())

_GREP = GnuSpec(
    "grep", _GREP_KNOWN,
    long={**dict.fromkeys(
        "basic-regexp extended-regexp fixed-strings fixed-regexp perl-regexp ignore-case no-ignore-case "
        "invert-match count line-number only-matching word-regexp line-regexp no-filename with-filename quiet "
        "silent no-messages text byte-offset initial-tab null-data no-group-separator".split(), NONE),
        **dict.fromkeys("regexp max-count after-context before-context context group-separator".split(), REQUIRED),
        "color": OPTIONAL, "colour": OPTIONAL},
    short={"E": ("extended-regexp", NONE), "F": ("fixed-strings", NONE), "G": ("basic-regexp", NONE),
           "P": ("perl-regexp", NONE), "i": ("ignore-case", NONE), "y": ("ignore-case", NONE),
           "v": ("invert-match", NONE), "c": ("count", NONE), "n": ("line-number", NONE),
           "o": ("only-matching", NONE), "w": ("word-regexp", NONE), "x": ("line-regexp", NONE),
           "h": ("no-filename", NONE), "H": ("with-filename", NONE), "q": ("quiet", NONE), "s": ("no-messages", NONE),
           "a": ("text", NONE), "b": ("byte-offset", NONE), "T": ("initial-tab", NONE), "z": ("null-data", NONE),
           "e": ("regexp", REQUIRED), "m": ("max-count", REQUIRED), "A": ("after-context", REQUIRED),
           "B": ("before-context", REQUIRED), "C": ("context", REQUIRED)},
    operands=(0, 1), check=_grep_check)

_HEAD_TAIL_SHORT = {"n": ("lines", REQUIRED), "c": ("bytes", REQUIRED), "q": ("quiet", NONE),
                    "v": ("verbose", NONE), "z": ("zero-terminated", NONE)}
_HEAD_TAIL_LONG = {"lines": REQUIRED, "bytes": REQUIRED, "quiet": NONE, "silent": NONE, "verbose": NONE,
                   "zero-terminated": NONE}
_HEAD = GnuSpec("head", frozenset("bytes help lines quiet silent verbose version zero-terminated".split()),
                _HEAD_TAIL_LONG, _HEAD_TAIL_SHORT, numeric_lines=True)
_TAIL = GnuSpec("tail", frozenset("bytes follow help lines max-unchanged-stats pid quiet retry silent "
                                  "sleep-interval verbose version zero-terminated presume-input-pipe".split()),
                _HEAD_TAIL_LONG, _HEAD_TAIL_SHORT, numeric_lines=True)
_WC = GnuSpec("wc", frozenset("bytes chars files0-from help lines max-line-length total version words".split()),
              dict.fromkeys("bytes chars lines max-line-length words".split(), NONE),
              {"c": ("bytes", NONE), "m": ("chars", NONE), "l": ("lines", NONE), "L": ("max-line-length", NONE),
               "w": ("words", NONE)})
_SORT = GnuSpec(
    "sort", frozenset(
        "batch-size buffer-size check compress-program debug dictionary-order field-separator files0-from "
        "general-numeric-sort help human-numeric-sort ignore-case ignore-leading-blanks ignore-nonprinting key "
        "merge month-sort numeric-sort output parallel random-sort random-source reverse sort stable "
        "temporary-directory unique version version-sort zero-terminated".split()),
    {**dict.fromkeys("debug dictionary-order general-numeric-sort human-numeric-sort ignore-case "
                     "ignore-leading-blanks ignore-nonprinting month-sort numeric-sort reverse stable unique "
                     "version-sort zero-terminated".split(), NONE),
     **dict.fromkeys("key field-separator".split(), REQUIRED), "check": OPTIONAL},
    {"b": ("ignore-leading-blanks", NONE), "d": ("dictionary-order", NONE), "f": ("ignore-case", NONE),
     "g": ("general-numeric-sort", NONE), "h": ("human-numeric-sort", NONE), "i": ("ignore-nonprinting", NONE),
     "M": ("month-sort", NONE), "n": ("numeric-sort", NONE), "r": ("reverse", NONE), "V": ("version-sort", NONE),
     "s": ("stable", NONE), "u": ("unique", NONE), "z": ("zero-terminated", NONE), "c": ("check", NONE),
     "k": ("key", REQUIRED), "t": ("field-separator", REQUIRED)})
_UNIQ = GnuSpec(
    "uniq", frozenset("all-repeated check-chars count group help ignore-case repeated skip-chars skip-fields "
                      "unique version zero-terminated".split()),
    {**dict.fromkeys("count ignore-case repeated unique zero-terminated".split(), NONE),
     **dict.fromkeys("check-chars skip-chars skip-fields".split(), REQUIRED)},
    {"c": ("count", NONE), "d": ("repeated", NONE), "i": ("ignore-case", NONE), "u": ("unique", NONE),
     "z": ("zero-terminated", NONE), "w": ("check-chars", REQUIRED), "s": ("skip-chars", REQUIRED),
     "f": ("skip-fields", REQUIRED)})
_CUT = GnuSpec(
    "cut", frozenset("bytes characters complement delimiter fields help only-delimited output-delimiter version "
                     "zero-terminated".split()),
    {**dict.fromkeys("complement only-delimited zero-terminated".split(), NONE),
     **dict.fromkeys("bytes characters delimiter fields output-delimiter".split(), REQUIRED)},
    {"b": ("bytes", REQUIRED), "c": ("characters", REQUIRED), "d": ("delimiter", REQUIRED),
     "f": ("fields", REQUIRED), "s": ("only-delimited", NONE), "z": ("zero-terminated", NONE), "n": ("n", NONE)})
_TR = GnuSpec(
    "tr", frozenset("complement delete help squeeze-repeats truncate-set1 version".split()),
    dict.fromkeys("complement delete squeeze-repeats truncate-set1".split(), NONE),
    {"c": ("complement", NONE), "C": ("complement", NONE), "d": ("delete", NONE), "s": ("squeeze-repeats", NONE),
     "t": ("truncate-set1", NONE)}, operands=(1, 2))

# jq reads a program, not files: everything that reaches outside the input is refused (module loading from
# search paths, the environment, file names). A field named like them (`.env` of a container) is fine.
_JQ_FORBIDDEN = re.compile(r"(?<![.$\w])(import|include|env|input_filename|get_search_list|modulemeta)\b|\$\s*ENV\b")


def _jq_check(opts: list[tuple[str, str | None]], operands: list[str]) -> str | None:
    m = _JQ_FORBIDDEN.search(operands[0])
    if m:
        return f"{m.group(0)!r} in a jq program reads outside its input"
    return None


_JQ = GnuSpec(
    "jq", frozenset("arg argjson args ascii-output color-output compact-output exit-status from-file help indent "
                    "join-output jsonargs monochrome-output null-input raw-input raw-output rawfile seq slurp "
                    "slurpfile sort-keys stream tab unbuffered version".split()),
    {**dict.fromkeys("ascii-output color-output compact-output exit-status join-output monochrome-output "
                     "null-input raw-input raw-output seq slurp sort-keys stream tab".split(), NONE),
     "indent": REQUIRED},
    {"a": ("ascii-output", NONE), "C": ("color-output", NONE), "c": ("compact-output", NONE),
     "e": ("exit-status", NONE), "j": ("join-output", NONE), "M": ("monochrome-output", NONE),
     "n": ("null-input", NONE), "R": ("raw-input", NONE), "r": ("raw-output", NONE), "s": ("slurp", NONE),
     "S": ("sort-keys", NONE)},
    operands=(1, 1), abbrev=False, check=_jq_check)

FILTERS: dict[str, GnuSpec] = {s.name: s for s in (_GREP, _HEAD, _TAIL, _WC, _SORT, _UNIQ, _CUT, _TR, _JQ)}


# ------------------------------------------------------------------------------------------------ kubectl

@dataclass(frozen=True)
class KFlag:
    """One kubectl flag: its long name, shorthand, whether it takes a value (pflag: not a bool)."""

    name: str
    short: str | None = None
    value: bool = True


def _flags(*specs: KFlag) -> dict[str, KFlag]:
    return {f.name: f for f in specs}


_GLOBAL = _flags(KFlag("namespace", "n"), KFlag("request-timeout"), KFlag("context"))
_ALL_NS = KFlag("all-namespaces", "A", False)
_SELECTOR = KFlag("selector", "l")
_OUTPUT = KFlag("output", "o")
_GET = _flags(_ALL_NS, _SELECTOR, _OUTPUT, KFlag("field-selector"), KFlag("chunk-size"),
              KFlag("ignore-not-found", value=False), KFlag("label-columns", "L"), KFlag("no-headers", value=False),
              KFlag("server-print", value=False), KFlag("show-kind", value=False), KFlag("show-labels", value=False),
              KFlag("show-managed-fields", value=False), KFlag("sort-by"), KFlag("subresource"), KFlag("template"),
              KFlag("allow-missing-template-keys", value=False))
_DESCRIBE = _flags(_ALL_NS, _SELECTOR, KFlag("show-events", value=False), KFlag("chunk-size"))
_LOGS = _flags(KFlag("container", "c"), KFlag("all-containers", value=False), KFlag("previous", "p", False),
               KFlag("tail"), KFlag("since"), KFlag("since-time"), KFlag("timestamps", value=False), _SELECTOR,
               KFlag("prefix", value=False), KFlag("max-log-requests"), KFlag("limit-bytes"),
               KFlag("ignore-errors", value=False), KFlag("pod-running-timeout"), KFlag("all-pods", value=False))
_TOP = _flags(_ALL_NS, _SELECTOR, KFlag("containers", value=False), KFlag("sort-by"), KFlag("no-headers", value=False),
              KFlag("use-protocol-buffers", value=False), KFlag("sum", value=False), KFlag("field-selector"),
              KFlag("show-capacity", value=False))
_EXPLAIN = _flags(KFlag("recursive", value=False), KFlag("api-version"), _OUTPUT)
_API_RESOURCES = _flags(KFlag("namespaced", value=False), KFlag("api-group"), _OUTPUT, KFlag("verbs"),
                        KFlag("sort-by"), KFlag("no-headers", value=False), KFlag("cached", value=False),
                        KFlag("categories"))
_EVENTS = _flags(_ALL_NS, _OUTPUT, KFlag("for"), KFlag("types"), KFlag("no-headers", value=False),
                 KFlag("chunk-size"), KFlag("template"), KFlag("allow-missing-template-keys", value=False))
_CAN_I = _flags(_ALL_NS, KFlag("list", value=False), KFlag("quiet", "q", False), KFlag("subresource"),
                KFlag("no-headers", value=False))
_VERSION = _flags(KFlag("client", value=False), _OUTPUT)

READ_VERBS: dict[str, dict[str, KFlag]] = {
    "get": _GET, "describe": _DESCRIBE, "logs": _LOGS, "top": _TOP, "explain": _EXPLAIN,
    "api-resources": _API_RESOURCES, "api-versions": {}, "version": _VERSION, "cluster-info": {},
    "events": _EVENTS, "auth": _CAN_I,
}

# the write verbs a server-side dry run may preview before confirmation, and their flags
_PREVIEW_COMMON = (_SELECTOR, KFlag("all", value=False))
_FIELD_MANAGER = KFlag("field-manager")
PREVIEW_VERBS: dict[str, dict[str, KFlag]] = {
    "delete": _flags(*_PREVIEW_COMMON, KFlag("field-selector"), KFlag("grace-period"), KFlag("ignore-not-found",
                     value=False), KFlag("now", value=False), KFlag("timeout"), KFlag("wait", value=False)),
    "scale": _flags(*_PREVIEW_COMMON, KFlag("replicas"), KFlag("current-replicas"), KFlag("resource-version"),
                    KFlag("timeout")),
    "patch": _flags(_FIELD_MANAGER, KFlag("patch", "p"), KFlag("type"), KFlag("subresource")),
    "label": _flags(*_PREVIEW_COMMON, _FIELD_MANAGER, KFlag("overwrite", value=False), KFlag("resource-version")),
    "annotate": _flags(*_PREVIEW_COMMON, _FIELD_MANAGER, KFlag("overwrite", value=False),
                       KFlag("resource-version")),
    "taint": _flags(*_PREVIEW_COMMON, _FIELD_MANAGER, KFlag("overwrite", value=False)),
    "cordon": _flags(_SELECTOR), "uncordon": _flags(_SELECTOR),
}
_PREVIEW_YAML = {"scale", "patch", "label", "annotate", "taint"}

_OUTPUT_FORMATS = {"json", "yaml", "wide", "name"}
_OUTPUT_TEMPLATES = ("jsonpath=", "jsonpath-as-json=", "go-template=", "template=", "custom-columns=")
_OUTPUT_NEEDS_TEMPLATE = {"jsonpath", "jsonpath-as-json", "go-template", "template"}
_SECRET_SAFE_OUTPUT = {None, "wide", "name"}


def _resource_names() -> dict[str, str]:
    """Every spelling kubectl resolves without discovery for the types the product knows → plural."""
    from sre_expert.knowledge.rest_resources import KNOWN

    names: dict[str, str] = {"all": "all"}
    for (_group, kind), (_g, plural, short, _ns, _cats) in KNOWN.items():
        for n in (plural, kind.lower(), *short):
            names.setdefault(n.lower(), plural)
    return names


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    return _resource_names()


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")


def resolve_type(spelling: str) -> str:
    """The plural a resource-type word names (`Secret.v1.`, `deploy.apps` …); NotAdmitted when unknown."""
    word = spelling.lower()
    head = word.split(".", 1)[0]
    if head in ("secret", "secrets"):
        return "secrets"  # in any group: treated as Secrets
    if not _NAME.match(word) or head not in _names():
        raise NotAdmitted(f"kubectl: resource type {spelling!r} is not one sre-expert can resolve")
    return _names()[head]


@dataclass
class KubectlCall:
    verb: str
    flags: list[tuple[str, str]] = field(default_factory=list)
    positionals: list[str] = field(default_factory=list)
    dashdash: bool = False

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.flags if k == name]


def parse_kubectl(args: list[str], verbs: Mapping[str, Mapping[str, KFlag]]) -> KubectlCall:
    """argv after `kubectl`, parsed as pflag would with kubectl's normalisation; unknown flag = NotAdmitted."""
    verb: str | None = None
    call = KubectlCall("")
    i = 0

    def table() -> dict[str, KFlag]:
        return {**_GLOBAL, **(verbs[verb] if verb else {})}

    def by_short(c: str) -> KFlag | None:
        return next((f for f in table().values() if f.short == c), None)

    while i < len(args):
        a = args[i]
        if call.dashdash or not a.startswith("-") or a == "-":
            if verb is None:
                if a not in verbs:
                    raise NotAdmitted(f"kubectl: verb {a!r} is not allowed without confirmation")
                verb = call.verb = a
            else:
                call.positionals.append(a)
        elif a == "--":
            if verb is None:
                raise NotAdmitted("kubectl: '--' before the verb")
            call.dashdash = True
        elif a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            name = name.replace("_", "-")  # kubectl's WordSepNormalizeFunc
            f = table().get(name)
            if f is None:
                where = f"{verb} " if verb else ""
                raise NotAdmitted(f"kubectl {where}flag --{name} is not allowed without confirmation")
            if f.value and not eq:
                i += 1
                if i >= len(args):
                    raise NotAdmitted(f"kubectl: --{name} needs a value")
                val = args[i]
            call.flags.append((f.name, val if (eq or f.value) else "true"))
        else:
            j = 1
            while j < len(a):
                f = by_short(a[j])
                if f is None:
                    raise NotAdmitted(f"kubectl flag -{a[j]} is not allowed without confirmation")
                rest = a[j + 1:]
                if len(rest) > 1 and rest[0] == "=":  # pflag: -x=value, for bools too (`-o=` is the value "=")
                    call.flags.append((f.name, rest[1:]))
                    break
                if not f.value:
                    call.flags.append((f.name, "true"))
                    j += 1
                    continue
                if not rest:
                    i += 1
                    if i >= len(args):
                        raise NotAdmitted(f"kubectl: -{a[j]} needs a value")
                    rest = args[i]
                call.flags.append((f.name, rest))
                break
        i += 1
    if verb is None:
        raise NotAdmitted("kubectl without a verb")
    return call


def _check_output(call: KubectlCall, allowed: set[str] | None = None) -> str | None:
    """The -o value (None when absent); NotAdmitted for a file-reading or unknown format."""
    outs = call.values("output")
    if not outs:
        return None
    o = outs[-1]
    if allowed is not None:
        if o not in allowed:
            raise NotAdmitted(f"kubectl {call.verb}: -o {o} is not allowed without confirmation")
        return o
    if o in _OUTPUT_FORMATS or o.startswith(_OUTPUT_TEMPLATES):
        return o
    if o in _OUTPUT_NEEDS_TEMPLATE and call.values("template"):
        return o
    raise NotAdmitted(f"kubectl {call.verb}: output format {o!r} is not allowed without confirmation")


def _types_and_names(words: list[str], verb: str) -> list[str]:
    """Resolved types of `TYPE[,TYPE] NAME…` or `TYPE/NAME …`; NotAdmitted when one cannot be resolved."""
    if not words:
        raise NotAdmitted(f"kubectl {verb}: no resource type")
    for w in words:
        if not _NAME.match(w.replace("/", "").replace(",", "")):
            raise NotAdmitted(f"kubectl {verb}: unexpected argument {w!r}")
    if any("/" in w for w in words):
        if not all(w.count("/") == 1 for w in words):
            raise NotAdmitted(f"kubectl {verb}: mixes TYPE/NAME with other arguments")
        return [resolve_type(w.split("/")[0]) for w in words]
    return [resolve_type(t) for t in words[0].split(",")]


def check_kubectl(args: list[str], *, context: str | None) -> None:
    """NotAdmitted unless `kubectl ARGS` is a read the gate allows (see the module docstring)."""
    call = parse_kubectl(args, READ_VERBS)
    for ctx in call.values("context"):
        if context is None or ctx != context:
            raise NotAdmitted("kubectl --context: only the context sre-expert was started with is allowed")
    v, pos = call.verb, call.positionals
    check_keyless([o.partition("=")[2] for o in call.values("output")] + call.values("template"), f"kubectl {v}")
    if v == "get":
        types = _types_and_names(pos, v)
        out = _check_output(call)
        if "secrets" in types and (out not in _SECRET_SAFE_OUTPUT or call.values("template")
                                   or call.values("subresource") or call.values("sort-by")):
            raise NotAdmitted("kubectl get secrets: only the table or names are shown without confirmation "
                              "(this output prints Secret values)")
    elif v == "describe":
        _types_and_names(pos, v)
    elif v == "logs":
        if not 1 <= len(pos) <= 2 or not all(_NAME.match(p.replace("/", "", 1)) for p in pos):
            raise NotAdmitted("kubectl logs: expects POD [CONTAINER] or TYPE/NAME")
        if "/" in pos[0]:
            resolve_type(pos[0].split("/")[0])
    elif v == "top":
        if not pos or pos[0] not in ("pod", "pods", "po", "node", "nodes", "no") or len(pos) > 2:
            raise NotAdmitted("kubectl top: expects pod|node [NAME]")
        if len(pos) == 2 and not _NAME.match(pos[1]):
            raise NotAdmitted("kubectl top: unexpected name")
    elif v == "explain":
        if len(pos) != 1 or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", pos[0]):
            raise NotAdmitted("kubectl explain: expects one RESOURCE[.FIELD…]")
        _check_output(call, {"plaintext", "plaintext-openapiv2"})
    elif v == "api-resources":
        if pos:
            raise NotAdmitted("kubectl api-resources takes no arguments")
        _check_output(call, {"wide", "name"})
    elif v in ("api-versions", "cluster-info"):
        if pos:
            raise NotAdmitted(f"kubectl {v} takes no arguments here (cluster-info dump prints everything)")
    elif v == "version":
        if pos:
            raise NotAdmitted("kubectl version takes no arguments")
        _check_output(call, {"json", "yaml"})
    elif v == "events":
        if pos:
            raise NotAdmitted("kubectl events: use --for TYPE/NAME")
        _check_output(call)
        for f in call.values("for"):
            if f.count("/") != 1:
                raise NotAdmitted("kubectl events --for: expects TYPE/NAME")
            resolve_type(f.split("/")[0])
    elif v == "auth":
        if not pos or pos[0] != "can-i" or len(pos) > 3:
            raise NotAdmitted("kubectl auth: only `auth can-i VERB [TYPE[/NAME]]` runs without confirmation")
        for p in pos[1:]:
            if not re.match(r"^[A-Za-z0-9*/._:-]+$", p):
                raise NotAdmitted(f"kubectl auth can-i: unexpected argument {p!r}")


def _check_echo(args: list[str]) -> None:
    if any(a.startswith("-") for a in args):
        raise NotAdmitted("echo: options are not allowed")


FIRST_STAGE = ("kubectl", "echo")


# Fields whose name looks secret to the key rules but whose values are not: a boolean and a projected-volume
# source (an object that names an audience, not a token).
_PUBLIC_FIELDS = frozenset({"automountServiceAccountToken", "serviceAccountToken"})
_EXPR_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ENV_VALUES = re.compile(r"(?<![\w$])env\b.*\bvalue\b", re.DOTALL)


def check_keyless(words: list[str], where: str) -> None:
    """NotAdmitted when an expression picks values out of their keys by a secret-looking name (redaction
    decides by the key, and jsonpath, templates, jq or grep|cut print the value alone) or prints env
    values without their names."""
    from sre_expert.safety.redact import default_rules

    rules = default_rules()
    for text in words:
        for w in _EXPR_WORD.findall(text):
            if w not in _PUBLIC_FIELDS and rules.key_rule(w) is not None:
                raise NotAdmitted(f"{where}: {w!r} picks a secret-looking value out of its key, so nothing could "
                                  "redact it")
        if _ENV_VALUES.search(text):
            raise NotAdmitted(f"{where}: env values without their names cannot be redacted")


def admit(line: str, *, context: str | None = None) -> Admission:
    """Whether `line` may run without confirmation, and why not (see the module docstring)."""
    try:
        stages = split_stages(line)
        for n, argv in enumerate(stages):
            prog, args = argv[0], argv[1:]
            if n == 0:
                if prog == "kubectl":
                    check_kubectl(args, context=context)
                elif prog == "echo":
                    _check_echo(args)
                elif prog in FILTERS:
                    raise NotAdmitted(f"{prog} reads files when it is not reading a pipe; only kubectl or echo "
                                      "start a line that runs without confirmation")
                else:
                    raise NotAdmitted(f"program {prog!r} is not on the allow-list")
            else:
                spec = FILTERS.get(prog)
                if spec is None:
                    raise NotAdmitted(f"{prog!r} is not an allowed filter after '|' "
                                      f"({', '.join(sorted(FILTERS))})")
                parse_gnu(spec, _jq_args(args) if prog == "jq" else args)
                check_keyless(args, prog)
            if resolve_program(prog) is None:
                raise NotAdmitted(f"{prog} is not installed in {TRUSTED_PATH}")
    except NotAdmitted as e:
        return Admission(False, str(e))
    return Admission(True, "on the allow-list", tuple(tuple(s) for s in stages))


def _jq_args(args: list[str]) -> list[str]:
    """jq's `--arg NAME VALUE` / `--argjson NAME JSON`: two values, dropped here after checking NAME.

    Walked the way jq walks its argv, so a dropped pair is never one jq reads otherwise: `--indent` takes the
    next word whatever it is (`--indent --arg tojson FILE 2` is indent "--arg", program `tojson`, input FILE),
    and `--` is refused (jq 1.6 ends options there only after the program, 1.7 anywhere: after it `--arg
    NAME FILE` are input files)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            raise NotAdmitted("jq: '--' is not allowed (jq versions disagree on what follows it)")
        if a == "--indent":
            out += args[i:i + 2]
            i += 2
            continue
        if a in ("--arg", "--argjson"):
            if i + 2 >= len(args) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", args[i + 1]):
                raise NotAdmitted(f"jq: {a} needs NAME VALUE")
            i += 3
            continue
        out.append(a)
        i += 1
    return out


@lru_cache(maxsize=64)
def _which(prog: str, path: str) -> str | None:
    found = shutil.which(prog, path=path)
    return os.path.realpath(found) if found else None


def resolve_program(prog: str) -> str | None:
    """The absolute path of `prog` in TRUSTED_PATH (never the user's PATH), resolved once per process."""
    if "/" in prog:
        return None
    return _which(prog, TRUSTED_PATH)


# ------------------------------------------------------------------------------------------------ previews

def preview_argv(line: str, *, context: str | None = None) -> tuple[tuple[str, ...] | None, str]:
    """The argv of the `--dry-run=server` preview of a kubectl write, or (None, why there is none).

    The same grammar as auto-run (no shell, no environment prefix), a write verb from PREVIEW_VERBS with
    only its allowed flags, no dry-run flag of the command's own in any spelling, no `--`; the forced flag
    is appended and the result parsed again to prove kubectl will read it as `--dry-run=server`.
    """
    try:
        stages = split_stages(line)
        if len(stages) != 1 or stages[0][0] != "kubectl":
            raise NotAdmitted("only a single kubectl command without pipes can be previewed")
        args = stages[0][1:]
        call = parse_kubectl(args, PREVIEW_VERBS)
        if call.dashdash:
            raise NotAdmitted("'--' in the command")
        for ctx in call.values("context"):
            if context is None or ctx != context:
                raise NotAdmitted("--context other than the one sre-expert was started with")
        if call.verb in ("cordon", "uncordon"):
            if len(call.positionals) > 1 or any(not _NAME.match(p) for p in call.positionals):
                raise NotAdmitted("unexpected arguments")
        elif call.verb == "taint":
            if not call.positionals or resolve_type(call.positionals[0].split("/")[0]) != "nodes":
                raise NotAdmitted("taint applies to nodes")
        else:
            types = _types_and_names([p for p in call.positionals if "=" not in p and not p.endswith("-")]
                                     if call.verb in ("label", "annotate") else call.positionals, call.verb)
            if "secrets" in types or "all" in types:
                raise NotAdmitted("no preview of a change to Secrets or 'all'")
        extra = ["--dry-run=server"] + (["-o", "yaml"] if call.verb in _PREVIEW_YAML else [])
        argv = ("kubectl", *args, *extra)
        flags = {**PREVIEW_VERBS[call.verb], "dry-run": KFlag("dry-run"), "output": _OUTPUT}
        again = parse_kubectl(list(argv[1:]), {call.verb: flags})
        if again.values("dry-run") != ["server"] or again.positionals != call.positionals:
            raise NotAdmitted("the forced --dry-run=server would not be read as such")
        if resolve_program("kubectl") is None:
            raise NotAdmitted(f"kubectl is not installed in {TRUSTED_PATH}")
    except NotAdmitted as e:
        return None, f"No preview: {e}."
    return argv, ""


# ------------------------------------------------------------------------------------------------ environment

# what a confirmed command never inherits: bash's startup-file hooks and the credentials of the model and of
# sre-expert's own API (a confirmed `env` would otherwise hand them to whoever reads the output)
CONFIRMED_DROP = ("BASH_ENV", "ENV", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "SRE_EXPERT_TOKEN")
# kubeconfig exec plugins of the operator's own kubeconfig (aws, gcloud, az, kubelogin) read these
_PLUGIN_VARS = re.compile(r"^(AWS_|GOOGLE_|CLOUDSDK_|AZURE_|KUBELOGIN_)[A-Z0-9_]*$")
_PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "no_proxy")


@dataclass(frozen=True)
class ExecPolicy:
    """The environment sre-expert builds for an admitted command: nothing comes from the command line.

    kubectl gets the kubeconfig the product chose (its caller's KUBECONFIG, else ~/.kube/config, made
    absolute), `KUBERC=off`, LANG=C.UTF-8, a fixed PATH and, unless that kubeconfig runs an exec or
    auth-provider plugin, an empty HOME. With a plugin, the plugin is the operator's own: HOME, the cloud
    variables (AWS_*, GOOGLE_*, CLOUDSDK_*, AZURE_*) and the plugin's directory on PATH are passed. Filters
    and echo get PATH, LANG and an empty HOME only.
    """

    kubeconfig: str | None = None
    context: str | None = None
    home: str | None = None
    plugin: bool = False
    plugin_dirs: tuple[str, ...] = ()
    passthrough: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None, context: str | None = None) -> ExecPolicy:
        env = os.environ if env is None else env
        home = env.get("HOME") or os.path.expanduser("~")
        raw = [p for p in (env.get("KUBECONFIG") or "").split(os.pathsep) if p]
        paths = [os.path.abspath(os.path.expanduser(p)) for p in raw]
        if not paths:
            default = os.path.join(home, ".kube", "config")
            paths = [default] if os.path.isfile(default) else []
        plugins = _kubeconfig_plugins(paths)
        dirs: list[str] = []
        for cmd in plugins:
            found = cmd if "/" in cmd else shutil.which(cmd, path=env.get("PATH", TRUSTED_PATH))
            if found and os.path.dirname(found) not in TRUSTED_PATH.split(":"):
                dirs.append(os.path.dirname(os.path.abspath(found)))
        keep = [(k, v) for k, v in env.items() if k in _PROXY_VARS or k == "KUBECACHEDIR"]
        if plugins:
            keep += [(k, v) for k, v in env.items() if _PLUGIN_VARS.match(k)]
        return cls(os.pathsep.join(paths) or None, context, home, bool(plugins), tuple(dict.fromkeys(dirs)),
                   tuple(sorted(keep)))

    def env_for(self, program: str, scratch: str) -> dict[str, str]:
        """The whole environment of `program` (scratch: an empty directory for HOME and caches)."""
        base = {"PATH": TRUSTED_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": scratch}
        if program != "kubectl":
            return base
        base.update(self.passthrough)
        base["KUBERC"] = "off"
        base.setdefault("KUBECACHEDIR", os.path.join(scratch, "cache"))
        if self.kubeconfig:
            base["KUBECONFIG"] = self.kubeconfig
        if self.plugin and self.home:
            base["HOME"] = self.home
            base["PATH"] = os.pathsep.join((TRUSTED_PATH, *self.plugin_dirs))
        return base

    def argv_for(self, argv: tuple[str, ...] | list[str]) -> list[str]:
        """kubectl gets the product's context as its first flag when the command names none (an admitted
        command can only name that same context). Safe at index 1: the gate admits no `--` before the verb."""
        out = list(argv)
        if out and out[0] == "kubectl" and self.context and not any(
                a == "--context" or a.startswith("--context=") for a in out[1:]):
            out.insert(1, f"--context={self.context}")
        return out

    def describe(self, program: str) -> str:
        """For the audit log: which variables, never their values."""
        names = sorted(self.env_for(program, "<empty>"))
        home = "operator's HOME (exec plugin)" if program == "kubectl" and self.plugin else "empty HOME"
        return f"env {','.join(names)}; {home}; PATH={TRUSTED_PATH}"


def _kubeconfig_plugins(paths: list[str]) -> list[str]:
    """Commands the users of these kubeconfigs run (exec plugins; auth-provider counts as one)."""
    import yaml

    out: list[str] = []
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                doc = yaml.safe_load(f.read(2_000_000))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        for u in (doc.get("users") or []) if isinstance(doc, dict) else []:
            user = u.get("user") if isinstance(u, dict) else None
            if not isinstance(user, dict):
                continue
            ex = user.get("exec")
            if isinstance(ex, dict) and isinstance(ex.get("command"), str):
                out.append(ex["command"])
            elif user.get("auth-provider"):
                out.append("auth-provider")
    return out


def confirmed_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment of a command the operator confirmed: the caller's, minus CONFIRMED_DROP."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in CONFIRMED_DROP}
