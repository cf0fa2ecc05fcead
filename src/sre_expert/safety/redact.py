"""Redaction of secrets and personal data from anything sre-expert prints or writes.

One pure function, `redact(text)`, is meant for every output path (reports, runbook step output, logs
shown as evidence); `redact_obj(obj)` does the same for JSON-like objects and also uses their structure
(every value of a Secret's data, env entries whose name says secret, values under secret-looking keys).

What counts as secret is data, not code: `knowledge/redaction.yaml` (format described at its top); more
rules can be added from files (`load_rules(paths)`, `sre-expert redact --patterns FILE`).

Each hidden value becomes `<redacted:FAMILY#N>`. A `PlaceholderTable` shared across one report gives the
same value the same placeholder everywhere in it (so "the password in the URI is the one in the env
var" stays visible without the password). Names, namespaces, IPs, timestamps, UIDs, image digests and
hashes are left alone on purpose: a report nobody can read is a failure too.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "KeyRule",
    "PlaceholderTable",
    "RedactionConfigError",
    "Rule",
    "RuleSet",
    "default_rules",
    "find_secrets",
    "load_rules",
    "parse_rules",
    "redact",
    "redact_command_output",
    "redact_obj",
]

PLACEHOLDER = re.compile(r"<redacted:[a-z0-9-]+#\d+>")
_FAMILY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FLAGS = {"ignorecase": re.IGNORECASE, "dotall": re.DOTALL, "multiline": re.MULTILINE}
_PLAIN_WORD = re.compile(r"^[A-Za-z][a-z]*$")
# a file path of lower-case segments (a base64 value that happens to hold slashes is mixed case)
_PATH = re.compile(r"(?:~|\.{1,2})?/|(?:~|\.{1,2})?(?:/[a-z0-9_.-]+)+/?")


class RedactionConfigError(ValueError):
    """A redaction rules file is malformed; the message names the file and the rule."""


# ---------------------------------------------------------------------------------------- validators


# National number lengths for the country codes the platform's users call from; others: E.164's 8–15.
_NATIONAL_DIGITS = {"1": (10, 10), "63": (9, 10), "44": (9, 10), "61": (9, 9), "65": (8, 8)}


def _phone(text: str) -> int | None:
    """Length of the phone number at the start of `text`, or None.

    A match that ran into the next number (`+1 415 555 0132 200 OK`) is cut back at a separator until
    the digit count fits the country (or 8–15 digits, E.164); a run of digits with no separator that
    does not fit is some other number."""
    body = text[1:]
    first = re.match(r"\d+", body)
    if first and first.end() < len(body):  # "+63 917…": the first group is the country code
        cc = first.group()
    else:  # "+639171234567": a known code at the start
        cc = next((c for c in sorted(_NATIONAL_DIGITS, key=len) if body.startswith(c)), "")
    lo, hi = _NATIONAL_DIGITS.get(cc, (0, 99))
    cuts = [i for i, ch in enumerate(text) if ch in " .-"] + [len(text)]
    for end in reversed(cuts):
        digits = sum(ch.isdigit() for ch in text[:end])
        if 8 <= digits <= 15 and lo <= digits - len(cc) <= hi:
            return end
        if digits < 8:
            return None
    return None


def _b64_private_key(text: str) -> int | None:
    """Base64 that starts like a PEM block: only a private key counts (certificates are public)."""
    head = text[:96]
    head = head[: len(head) - len(head) % 4]
    try:
        decoded = base64.b64decode(head, validate=False)
    except (binascii.Error, ValueError):
        return None
    return len(text) if b"PRIVATE KEY" in decoded else None


VALIDATORS: dict[str, Callable[[str], int | None]] = {"phone": _phone, "b64-private-key": _b64_private_key}


# ---------------------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Rule:
    """One text pattern. `groups`: the first of these groups that took part is the secret; () = the
    whole match."""

    name: str
    regex: re.Pattern[str]
    groups: tuple[int | str, ...] = ()
    hints: tuple[str, ...] = ()
    validate: Callable[[str], int | None] | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class KeyRule:
    """Values under a key matching `key` (the whole key) are secret whatever they look like."""

    name: str
    key: re.Pattern[str]
    multiword: bool = False
    env: bool = False
    source: str = ""
    not_words: bool = False
    """A value that is one plain word ("Secret", "it", "invalid") is prose, not a token or key:
    "credential: Secret velero/cloud-credentials" stays readable."""
    not_paths: bool = False
    """A value that is a file path ("pwd: /", "password_file: /etc/app/pw") names a place, not a secret."""

    def accepts(self, value: str) -> bool:
        return not ((self.not_words and _PLAIN_WORD.match(value)) or (self.not_paths and _PATH.fullmatch(value)))


_MISS = object()


class KeyScan:
    """The key rules of one rules file, applied at the place of its first key rule: one pass finds every
    `key: value` in the text and the key decides (faster than one regex per key rule)."""

    __slots__ = ("keys", "_cache")

    def __init__(self, keys: tuple[KeyRule, ...]) -> None:
        self.keys = keys
        self._cache: dict[tuple[str, bool], Any] = {}

    def lookup(self, key: str, env: bool = False) -> KeyRule | None:
        hit = self._cache.get((key, env), _MISS)
        if hit is _MISS:
            hit = next((k for k in self.keys if (k.env or not env) and k.key.fullmatch(key)), None)
            if len(self._cache) < 50_000:
                self._cache[(key, env)] = hit
        return hit


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for a set of literal words, their common prefixes shared ("sk_live_|sk_test_" becomes
    "sk_(?:live_|test_)"), longest match first like a longest-first alternation. Python's re tries each
    branch of an alternation at every position, so a flat list of 80 hints costs 80 tries a character; a
    trie costs about one."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body  # greedy: the longest hint wins, as in a longest-first list

    return build(trie)


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule | KeyScan, ...]
    keys: tuple[KeyRule, ...]
    skip: re.Pattern[str]
    _all: KeyScan = field(init=False, compare=False, repr=False)
    _hint_re: re.Pattern[str] | None = field(init=False, compare=False, repr=False, default=None)
    _always: tuple[int, ...] = field(init=False, compare=False, repr=False, default=())
    _by_hint: dict[str, tuple[int, ...]] = field(init=False, compare=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_all", KeyScan(self.keys))
        hints = sorted({h for r in self.rules if isinstance(r, Rule) for h in r.hints}, key=len, reverse=True)
        # One scan finds which hint words a text holds, instead of one `in` test per rule and hint; rules
        # whose hints are absent are not even visited (most evidence lines hold no hint at all).
        object.__setattr__(self, "_hint_re", re.compile(_trie_pattern(hints)) if hints else None)
        always = tuple(i for i, r in enumerate(self.rules) if not isinstance(r, Rule) or not r.hints)
        by_hint = {h: tuple(i for i, r in enumerate(self.rules) if isinstance(r, Rule) and h in r.hints) for h in hints}
        object.__setattr__(self, "_always", always)
        object.__setattr__(self, "_by_hint", by_hint)

    def applicable(self, text: str) -> list[Rule | KeyScan]:
        """The rules worth trying on this text, in rule order (order decides overlaps)."""
        if self._hint_re is None:
            return list(self.rules)
        found = set(self._hint_re.findall(text.lower()))
        if not found:
            return [self.rules[i] for i in self._always]
        idx = set(self._always)
        for h, rules in self._by_hint.items():
            if any(h in m for m in found):
                idx.update(rules)
        return [self.rules[i] for i in sorted(idx)]

    def key_rule(self, key: str, env: bool = False) -> KeyRule | None:
        """The rule whose values are secret under this key (env=True: under this env entry name)."""
        return self._all.lookup(key, env)

    def before(self, other: RuleSet) -> RuleSet:
        """This set's rules tried first, then `other`'s (added rules win overlaps over the defaults)."""
        skips = [r.pattern for r in (self.skip, other.skip) if r.pattern]
        skip = re.compile("|".join(f"(?:{p})" for p in skips)) if skips else other.skip
        return RuleSet(self.rules + other.rules, self.keys + other.keys, skip)


# `key: value`, `key=value`, `"key": "value"`, `--key=value`: find the key, then read the value the way
# its rule says. Unquoted values stop at whitespace and at the punctuation that ends a value in query
# strings, Go maps and flow mappings; YAML block scalars (`key: |`) take their indented lines; values
# that open a mapping or list, or that are `<...>` / `${...}` references, are not values to hide.
# JSON quoted inside a JSON string (a request body in a log line) escapes its quotes: \"key\":\"value\", and
# once more when that log line is itself quoted (\\\"key\\\"); the key's and value's quotes may carry them.
_KV = re.compile(r"""(?<![A-Za-z0-9_.-])(?P<qk>["']?)(?P<key>[A-Za-z0-9_.-]+)(?P=qk)[ \t]*(?::|=>|=)[ \t]*""")
_KV_ESCAPED = re.compile(
    r"""(?<![A-Za-z0-9_.-])(?P<qk>["'])(?P<key>[A-Za-z0-9_.-]+)\\{1,3}(?P=qk)[ \t]*(?::|=>|=)[ \t]*""")
_V_QUOTED = r'"(?P<q>(?:[^"\\\n]|\\.)*)"'
_V_ESCAPED = r'(?P<eq>\\{1,3})"(?P<e>(?:(?!(?P=eq)")[^\n]){0,4096})(?P=eq)"'
_V_SINGLE = r"'(?P<s>[^'\n]*)'"
_V_BLOCK = r"[|>][-+]?[ \t]*\r?\n(?P<ind>[ \t]+)(?P<b>[^\n]*(?:\r?\n(?P=ind)[^\n]*)*)"
_V_WORD = r"[^\s\"',;&})\]]+"
_V_START = r"(?![{\[|>`]|<|\$[{(])"
_VALUE = re.compile("|".join((_V_QUOTED, _V_ESCAPED, _V_SINGLE, _V_BLOCK,
                              _V_START + r"(?P<u>" + _V_WORD + r"(?!\d*[ \t]+bytes\b))")))
_VALUE_WORDS = re.compile("|".join((_V_QUOTED, _V_ESCAPED, _V_SINGLE, _V_BLOCK,
                                    _V_START + r"(?P<u>" + _V_WORD + r"(?:[ ](?![^\s\"']*[:=])" + _V_WORD + r")*)")))
# Kubernetes env entries: {"name": "KEY", "value": "v"} and `name: KEY` followed by `value: v` in YAML.
_ENV_JSON = re.compile(r'"name"\s*:\s*"(?P<key>[^"\n]+)"\s*,\s*"value"\s*:\s*' + _V_QUOTED)
_ENV_YAML = re.compile(
    r"""(?<![\w-])name:[ \t]*(?P<qk>["']?)(?P<key>[A-Za-z0-9_.-]+)(?P=qk)[ \t]*\r?\n[ \t]*value:[ \t]*"""
    r"(?:" + _V_QUOTED + "|" + _V_SINGLE + r"""|(?P<u>[^\s#'"][^\n#]*?))[ \t]*(?:\#[^\n]*)?$""",
    re.MULTILINE)


# A flag and its value as two argv words: `--db-password VALUE` on a command line, `"--db-password", "VALUE"`
# in a JSON array and `- --db-password` / `- VALUE` in a YAML list (container args as kubectl prints them).
# The flag name decides through the key rules, like `--db-password=VALUE` does; a value starting with `-` is
# the next flag, not a value.
_FLAG_ARG = re.compile(r"""(?<![A-Za-z0-9_.-])--?(?P<key>[A-Za-z][A-Za-z0-9_.-]*)(?P<qk>["']?)"""
                       r"""(?:[ \t]+|[ \t]*,[ \t]*(?:\r?\n[ \t]*)?|[ \t]*\r?\n[ \t]*-[ \t]+)(?P=qk)(?!-)""")

def _value_span(m: re.Match[str]) -> tuple[int, int] | None:
    groups = m.groupdict()
    for g in ("q", "e", "s", "b", "u"):
        if groups.get(g) is not None:
            return m.span(g)
    return None


def _key_values(text: str, rs: KeyScan) -> Iterable[tuple[int, int, str]]:
    """(start, end, family) of the values under secret-looking keys and in secret-named env entries."""
    kvs = _KV.finditer(text)
    if '\\"' in text or "\\'" in text:  # only then can there be escaped JSON: one more pass
        kvs = itertools.chain(kvs, _KV_ESCAPED.finditer(text))
    for m in kvs:
        k = rs.lookup(m.group("key"))
        if k is None:
            continue
        v = (_VALUE_WORDS if k.multiword else _VALUE).match(text, m.end())
        span = _value_span(v) if v else None
        if span and k.accepts(text[span[0]:span[1]]):
            yield (*span, k.name)
    if "-" in text:
        for m in _FLAG_ARG.finditer(text):
            k = rs.lookup(m.group("key"))
            v = _VALUE.match(text, m.end()) if k else None
            span = _value_span(v) if v else None
            if k and span and k.accepts(text[span[0]:span[1]]):
                yield (*span, k.name)
    if "value" in text:
        for rx in (_ENV_JSON, _ENV_YAML):
            for m in rx.finditer(text):
                k = rs.lookup(m.group("key"), env=True)
                span = _value_span(m) if k else None
                if k and span and k.accepts(text[span[0]:span[1]]):
                    yield (*span, k.name)


# ---------------------------------------------------------------------------------------- Secrets in text

# `kubectl get secret -o yaml|json` pasted into a log, a runbook's output or a model's answer: every value
# of a Secret's data/stringData is secret, whatever its key is called (MONGO_URI, LOG_LEVEL...). Found by
# structure, since text has no parsed object: the `data:` block must belong to the same mapping as
# `kind: Secret` (a ConfigMap's data next to it stays readable).
_YAML_DATA = re.compile(r"^(?P<ind>[ \t]*(?:- )?)(?:data|stringData):[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE)
_YAML_ENTRY = re.compile(r"(?P<ind>[ \t]+)(?P<q>[\"']?)[^\s:\"'#][^:\n]*?(?P=q):[ \t]+(?P<v>[^\s#][^\n]*?)[ \t]*\r?$")
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:,]')


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\n", text)]


def _yaml_secret_values(text: str) -> Iterable[tuple[int, int, str]]:
    starts = _line_starts(text)
    lines = text.split("\n")
    index = {pos: i for i, pos in enumerate(starts)}
    mappings = _YamlMappings(lines)
    for m in _YAML_DATA.finditer(text):
        row = index[m.start()]
        col = len(m.group("ind"))
        if not mappings.in_secret(row, col):
            continue
        r = row + 1
        while r < len(lines):
            line = lines[r]
            if not line.strip():
                r += 1
                continue
            ind = len(line) - len(line.lstrip(" \t"))
            if ind <= col:
                break
            e = _YAML_ENTRY.fullmatch(line)
            if e is not None:
                v = e.group("v")
                if v[0] in "|>":  # a block scalar: its more-indented lines are the value
                    r += 1
                    while r < len(lines) and (not lines[r].strip()
                                              or len(lines[r]) - len(lines[r].lstrip(" \t")) > ind):
                        if lines[r].strip():
                            lead = len(lines[r]) - len(lines[r].lstrip(" \t"))
                            yield starts[r] + lead, starts[r] + len(lines[r].rstrip(" \t\r")), "secret-data"
                        r += 1
                    continue
                if v[0] in "\"'" and len(v) > 1 and v[-1] == v[0]:
                    yield starts[r] + e.start("v") + 1, starts[r] + e.end("v") - 1, "secret-data"
                else:
                    yield starts[r] + e.start("v"), starts[r] + e.end("v"), "secret-data"
            r += 1


_YAML_KIND_SECRET = re.compile(r"[ \t]*(?:- )?kind:[ \t]*[\"']?Secret[\"']?[ \t]*(?:#[^\n]*)?\r?")
_YAML_MAX_COLUMNS = 64  # distinct indentations looked at; past that (only hostile text) a data: block is not a Secret's


class _YamlMappings:
    """Which lines share a YAML mapping at a given key column: a mapping at column c ends at a line indented
    less than c, or at the `- ` that starts the next list item at c. One linear pass per column asked
    about, so a text of many `data:` lines stays linear."""

    def __init__(self, lines: list[str]) -> None:
        self.info: list[tuple[int, bool, bool] | None] = []
        for line in lines:
            body = line.lstrip(" \t")
            if not body or body.startswith("#"):
                self.info.append(None)
                continue
            if body.startswith(("---", "...")):  # a new YAML document ends every mapping
                self.info.append((-1, False, False))
                continue
            item = body.startswith("- ")
            ind = len(line) - len(body)
            self.info.append((ind + 2 if item else ind, item, bool(_YAML_KIND_SECRET.fullmatch(line))))
        self._by_col: dict[int, tuple[list[int], set[int]]] = {}

    def in_secret(self, row: int, col: int) -> bool:
        """Does the mapping holding line `row` at column `col` have `kind: Secret` at that column?"""
        got = self._by_col.get(col)
        if got is None:
            if len(self._by_col) >= _YAML_MAX_COLUMNS:
                return False
            seg, secret, cur = [], set(), 0
            for entry in self.info:
                if entry is not None:
                    key_col, item, kind_secret = entry
                    if key_col < col or (item and key_col == col):
                        cur += 1
                    if key_col == col and kind_secret:
                        secret.add(cur)
                seg.append(cur)
            got = self._by_col[col] = (seg, secret)
        return got[0][row] in got[1]


def _json_secret_values(text: str) -> Iterable[tuple[int, int, str]]:
    """Values of "data"/"stringData" objects whose enclosing object has "kind": "Secret" (compact or
    pretty JSON; any nesting, e.g. a List's items)."""
    toks = [(m.group(), m.start(), m.end()) for m in _JSON_TOKEN.finditer(text)]
    stack: list[dict[str, Any]] = []  # one frame per open object/array
    i = 0
    n = len(toks)
    while i < n:
        tok, start, end = toks[i]
        if tok in "{[":
            frame: dict[str, Any] = {"obj": tok == "{", "secret": False, "values": [], "data_of": None}
            # an object opened right after "data": is the data of the enclosing object
            opens_data = i >= 2 and toks[i - 1][0] == ":" and toks[i - 2][0] in ('"data"', '"stringData"')
            if tok == "{" and opens_data and stack:
                frame["data_of"] = stack[-1]
            stack.append(frame)
        elif tok in "}]":
            if stack:
                frame = stack.pop()
                if frame["obj"] and frame["secret"]:
                    yield from frame["values"]
        elif tok[0] == '"' and stack and stack[-1]["obj"] and i + 2 < n and toks[i + 1][0] == ":":
            frame = stack[-1]
            value, vstart, vend = toks[i + 2]
            if value[0] == '"':
                if tok == '"kind"' and value == '"Secret"':
                    frame["secret"] = True
                elif frame["data_of"] is not None and vend - vstart > 2:
                    frame["data_of"]["values"].append((vstart + 1, vend - 1, "secret-data"))
                i += 3
                continue
        i += 1


def _secret_text_values(text: str) -> list[tuple[int, int, str]]:
    if "Secret" not in text or "ata" not in text:
        return []
    out = list(_yaml_secret_values(text)) if "ata:" in text else []
    if '"data"' in text or '"stringData"' in text:
        out.extend(_json_secret_values(text))
    return out


def _compile(pattern: Any, flags: int, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise RedactionConfigError(f"{where}: the regex must be a non-empty string")
    try:
        rx = re.compile(pattern, flags)
    except re.error as e:
        raise RedactionConfigError(f"{where}: invalid regex: {e}") from None
    if rx.match(""):
        raise RedactionConfigError(f"{where}: the regex matches the empty string")
    return rx


def parse_rules(doc: Any, source: str) -> RuleSet:
    """Validate one rules document (the format of knowledge/redaction.yaml) and compile it."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("rules"), list):
        raise RedactionConfigError(f"{source}: expected a mapping with a 'rules' list")
    unknown = set(doc) - {"rules", "skip"}
    if unknown:
        raise RedactionConfigError(f"{source}: unknown top-level keys {sorted(unknown)}; allowed: rules, skip")
    skip = re.compile("")
    if "skip" in doc:
        skip = _compile(doc["skip"], 0, f"{source}: skip")
    rules: list[Rule | KeyScan] = []
    keys: list[KeyRule] = []
    scan = KeyScan(())
    for i, raw in enumerate(doc["rules"]):
        where = f"{source}: rules[{i}]"
        if not isinstance(raw, Mapping):
            raise RedactionConfigError(f"{where}: must be a mapping")
        name = raw.get("name")
        if not isinstance(name, str) or not _FAMILY.match(name):
            raise RedactionConfigError(f"{where}: name {name!r} must be lower-case words joined by '-'")
        where = f"{source}: rules[{i}] ({name})"
        if ("regex" in raw) == ("key" in raw):
            raise RedactionConfigError(f"{where}: give exactly one of 'regex' or 'key'")
        if "key" in raw:
            extra = set(raw) - {"name", "key", "env", "multiword", "not_words", "not_paths"}
            if extra:
                raise RedactionConfigError(f"{where}: unknown keys {sorted(extra)}; a key rule has name, key, env, "
                                           "multiword, not_words, not_paths")
            k = KeyRule(name, _compile(raw["key"], re.IGNORECASE, where), bool(raw.get("multiword")),
                        bool(raw.get("env")), source, bool(raw.get("not_words")), bool(raw.get("not_paths")))
            if not keys:
                rules.append(scan)
            keys.append(k)
            continue
        extra = set(raw) - {"name", "regex", "group", "hint", "flags", "validate"}
        if extra:
            raise RedactionConfigError(f"{where}: unknown keys {sorted(extra)}; "
                                       "a regex rule has name, regex, group, hint, flags, validate")
        flags = 0
        for f in raw.get("flags") or ():
            if f not in _FLAGS:
                raise RedactionConfigError(f"{where}: unknown flag {f!r}; allowed: {sorted(_FLAGS)}")
            flags |= _FLAGS[f]
        rx = _compile(raw["regex"], flags, where)
        group = raw.get("group", 0)
        groups = tuple(group) if isinstance(group, list) else (group,)
        for g in groups:
            ok = ((isinstance(g, int) and not isinstance(g, bool) and 0 <= g <= rx.groups)
                  or (isinstance(g, str) and g in rx.groupindex))
            if not ok:
                raise RedactionConfigError(f"{where}: group {g!r} is not a group of the regex")
        hints = raw.get("hint") or ()
        if isinstance(hints, str):
            hints = (hints,)
        if not all(isinstance(h, str) and h for h in hints):
            raise RedactionConfigError(f"{where}: hint must be a list of non-empty strings")
        validate = raw.get("validate")
        if validate is not None and validate not in VALIDATORS:
            raise RedactionConfigError(f"{where}: unknown validate {validate!r}; known: {sorted(VALIDATORS)}")
        rules.append(Rule(name, rx, () if groups == (0,) else groups, tuple(h.lower() for h in hints),
                          VALIDATORS.get(validate) if validate else None, source))
    scan.keys = tuple(keys)
    return RuleSet(tuple(rules), tuple(keys), skip)


def _read_rules(text: str, source: str, loader: type = yaml.SafeLoader) -> RuleSet:
    try:
        doc = yaml.load(text, Loader=loader)  # SafeLoader or CSafeLoader: never arbitrary objects
    except yaml.YAMLError as e:
        raise RedactionConfigError(f"{source}: not valid YAML: {e}") from None
    return parse_rules(doc, source)


@cache
def default_rules() -> RuleSet:
    """The packaged rules (knowledge/redaction.yaml), compiled once."""
    f = resources.files("sre_expert") / "knowledge" / "redaction.yaml"
    # libyaml's parser: 1 ms instead of 10 on every run that prints anything. The packaged file is known
    # valid; user files keep the pure-Python parser for its error messages.
    return _read_rules(f.read_text(encoding="utf-8"), "knowledge/redaction.yaml", yaml.CSafeLoader)


def load_rules(paths: Iterable[str | Path] = ()) -> RuleSet:
    """The packaged rules plus those in `paths`; the added rules are tried first."""
    out = default_rules()
    extra: RuleSet | None = None
    for p in paths:
        try:
            text = Path(p).read_text(encoding="utf-8")
        except OSError as e:
            raise RedactionConfigError(f"{p}: cannot read: {e.strerror or e}") from None
        rs = _read_rules(text, str(p))
        extra = rs if extra is None else extra.before(rs)
    return out if extra is None else extra.before(out)


# ---------------------------------------------------------------------------------------- placeholders


class PlaceholderTable:
    """Hands out `<redacted:FAMILY#N>`: the same value gets the same placeholder for the table's life;
    N counts per family. Holds the secrets in memory only, to recognise them again; never prints them."""

    __slots__ = ("_by_value", "_counts")

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}
        self._counts: Counter[str] = Counter()

    def placeholder(self, family: str, value: str) -> str:
        ph = self._by_value.get(value)
        if ph is None:
            self._counts[family] += 1
            ph = f"<redacted:{family}#{self._counts[family]}>"
            self._by_value[value] = ph
        return ph

    def counts(self) -> dict[str, int]:
        """How many distinct values were hidden, per family."""
        return dict(self._counts)

    def __len__(self) -> int:
        return len(self._by_value)

    def __repr__(self) -> str:  # never show the values
        return f"PlaceholderTable({dict(self._counts)})"


# ---------------------------------------------------------------------------------------- text


class _Spans:
    """Disjoint spans kept sorted: an overlap test is a binary search (a text with ten thousand secrets
    would otherwise cost a hundred million comparisons)."""

    __slots__ = ("starts", "ends")

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in spans:
            self.add(start, end)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self.starts, end)  # spans starting before `end`; only the last can reach `start`
        return i > 0 and self.ends[i - 1] > start

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def find_secrets(text: str, rules: RuleSet | None = None) -> list[tuple[int, int, str]]:
    """(start, end, family) of every value to hide, without overlaps, in text order.

    Rules are tried in order; a later rule's span that overlaps an accepted one is dropped (the earlier,
    more specific rule has already hidden that value). Placeholders already in the text are left alone,
    so redacting twice changes nothing."""
    rs = rules or default_rules()
    taken = _Spans(m.span() for m in PLACEHOLDER.finditer(text))
    found: list[tuple[int, int, str]] = []
    for start, end, family in _secret_text_values(text):  # by structure first: the whole value, whatever it holds
        value = text[start:end]
        if end <= start or PLACEHOLDER.fullmatch(value) or (rs.skip.pattern and rs.skip.fullmatch(value)):
            continue
        if taken.overlaps(start, end):
            continue
        taken.add(start, end)
        found.append((start, end, family))
    for rule in rs.applicable(text):
        if isinstance(rule, KeyScan):
            for start, end, family in _key_values(text, rule):
                if end <= start or (rs.skip.pattern and rs.skip.fullmatch(text[start:end])):
                    continue
                if taken.overlaps(start, end):
                    continue
                taken.add(start, end)
                found.append((start, end, family))
            continue
        for m in rule.regex.finditer(text):
            if rule.groups:
                for g in rule.groups:
                    if m.group(g) is not None:
                        start, end = m.span(g)
                        break
                else:
                    continue
            else:
                start, end = m.span()
            if end <= start:
                continue
            value = text[start:end]
            if rs.skip.pattern and rs.skip.fullmatch(value):
                continue
            if rule.validate is not None:
                keep = rule.validate(value)
                if not keep:
                    continue
                end = start + keep
            if taken.overlaps(start, end):
                continue
            taken.add(start, end)
            found.append((start, end, rule.name))
    found.sort()
    return found


def redact(text: str, *, table: PlaceholderTable | None = None, rules: RuleSet | None = None) -> str:
    """`text` with every secret and piece of personal data replaced by its placeholder.

    Pass one `table` for everything that belongs to one report so repeated values keep one placeholder."""
    if not text:
        return text
    return _replace(text, find_secrets(text, rules), table)


def _replace(text: str, spans: list[tuple[int, int, str]], table: PlaceholderTable | None) -> str:
    """`text` with each (start, end, family) span replaced by its placeholder."""
    if not spans:
        return text
    table = PlaceholderTable() if table is None else table
    out: list[str] = []
    pos = 0
    for start, end, family in spans:
        out.append(text[pos:start])
        out.append(table.placeholder(family, text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact_command_output(command: str, output: str, *, table: PlaceholderTable | None = None,
                          rules: RuleSet | None = None) -> str:
    """`output` of `command`, redacted knowing the command. A bare password printed by a command known to
    print one (`… -o jsonpath='{.data.password}' | base64 -d`, `vault kv get -field=…`, `aws ecr
    get-login-password`…: the printed-secret rule) is an ordinary word in the output alone; read after
    its command line, it is hidden. Everything else is redacted as `redact` would."""
    if not output:
        return output
    head = (command.strip().splitlines() or [""])[-1] + "\n"
    spans = [(max(s, len(head)) - len(head), e - len(head), f) for s, e, f in find_secrets(head + output, rules)
             if e > len(head)]
    return _replace(output, spans, table)


# ---------------------------------------------------------------------------------------- objects

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redact_obj(obj: Any, *, table: PlaceholderTable | None = None, rules: RuleSet | None = None) -> Any:
    """A redacted copy of a JSON-like value (the input is not changed).

    On top of `redact` on every string: a Secret's data/stringData values (keys stay), its
    last-applied annotation (which repeats the data), env entries named like a secret, values under
    secret-looking keys and annotations whose name says credential are replaced whole."""
    rs = rules or default_rules()
    tb = PlaceholderTable() if table is None else table
    return _walk(obj, tb, rs, in_secret=False)


# Keys that look secret but whose values are public in these API groups: an ACME challenge token is
# served over plain HTTP at /.well-known/acme-challenge/<token> and is needed to debug HTTP-01.
_PUBLIC_KEYS = {"acme.cert-manager.io": frozenset({"token"})}


def _scalar_secret(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def _hide(family: str, value: Any, tb: PlaceholderTable, rs: RuleSet) -> Any:
    if not _scalar_secret(value):
        return value
    s = str(value)
    if (rs.skip.pattern and rs.skip.fullmatch(s)) or PLACEHOLDER.fullmatch(s):
        return value
    return tb.placeholder(family, s)


def _walk(o: Any, tb: PlaceholderTable, rs: RuleSet, in_secret: bool, public: frozenset[str] = frozenset()) -> Any:
    if isinstance(o, str):
        return redact(o, table=tb, rules=rs)
    if isinstance(o, list):
        return _walk_list(o, tb, rs, in_secret, public)
    if not isinstance(o, dict):
        return o
    is_secret = o.get("kind") == "Secret" and isinstance(o.get("metadata"), dict)
    api = o.get("apiVersion")
    if isinstance(api, str) and "kind" in o:
        public = _PUBLIC_KEYS.get(api.partition("/")[0], frozenset())
    env_rule = None
    if isinstance(o.get("name"), str) and "value" in o:
        env_rule = rs.key_rule(o["name"], env=True)
    out: dict[Any, Any] = {}
    for k, v in o.items():
        if is_secret and k in ("data", "stringData") and isinstance(v, dict):
            out[k] = {dk: _hide("secret-data", dv, tb, rs) for dk, dv in v.items()}
        elif k == "annotations" and isinstance(v, dict):
            out[k] = {ak: _annotation(ak, av, tb, rs, in_secret or is_secret) for ak, av in v.items()}
        elif k == "value" and env_rule is not None and env_rule.accepts(str(v)):
            out[k] = _hide(env_rule.name, v, tb, rs)
        elif k in public and isinstance(v, str):
            out[k] = v
        elif isinstance(k, str) and _scalar_secret(v) and (kr := rs.key_rule(k)) is not None and kr.accepts(str(v)):
            out[k] = _hide(kr.name, v, tb, rs)
        else:
            out[k] = _walk(v, tb, rs, in_secret or (is_secret and k == "metadata"), public)
    return out


def _walk_list(o: list[Any], tb: PlaceholderTable, rs: RuleSet, in_secret: bool, public: frozenset[str]) -> list[Any]:
    """A list walked item by item; in an argv list (`args`, `command`) the word after a flag the key rules
    call secret (`--db-password`, `-token`) is that flag's value and is hidden whole."""
    out: list[Any] = []
    for i, x in enumerate(o):
        prev = o[i - 1] if i else None
        if (isinstance(prev, str) and isinstance(x, str) and prev.startswith("-") and "=" not in prev
                and not x.startswith("-") and (kr := rs.key_rule(prev.lstrip("-"))) is not None
                and prev.lstrip("-") and kr.accepts(x)):
            out.append(_hide(kr.name, x, tb, rs))
        else:
            out.append(_walk(x, tb, rs, in_secret, public))
    return out


def _annotation(key: Any, value: Any, tb: PlaceholderTable, rs: RuleSet, in_secret: bool) -> Any:
    if not isinstance(value, str):
        return _walk(value, tb, rs, in_secret)
    if in_secret and key == _LAST_APPLIED:
        return _hide("secret-data", value, tb, rs)
    name = key.rsplit("/", 1)[-1] if isinstance(key, str) else ""
    if name and (kr := rs.key_rule(name)) is not None and kr.accepts(value):
        return _hide(kr.name, value, tb, rs)
    return redact(value, table=tb, rules=rs)
