"""Runbooks as data: loading, validation, template filling and branch evaluation (pure).

Each `knowledge/runbooks/<id>.yaml` is one operational procedure: when to use it, its parameters, and
steps. A step has a command template (`{namespace}`, `{pod}`…), what to expect in its output, and its
safety class. Its declared safety must equal what the command guard says of the command, or loading
fails: a runbook cannot call a write "read-only" by mistake. After a step runs, simple conditions over
its output (a regex on the text, or a path into `-o json` output, or the exit status) pick the next
step, so `run` follows the same branches an engineer would (Pending → scheduling checks,
CrashLoopBackOff → previous logs, OOMKilled → memory limit).

Running the steps is `runbook_run.py`'s job; nothing here does I/O beyond reading the packaged files.
"""

from __future__ import annotations

import json
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from sre_expert.core.model import SAFETY_CLASSES

if TYPE_CHECKING:
    from sre_expert.knowledge.platform_components import Command

RUNBOOK_IDS = ("pod-not-starting", "app-unreachable", "secrets-not-syncing", "argocd-sync-failure",
               "backup-restore", "certificate-renewal", "complete-outage", "storage-pvc")
"""The runbooks findings point at (`runbook` of the check catalogue)."""

END = "end"
BUILTINS = ("now", "date")
"""Parameters every run provides: `now` (Unix seconds) and `date` (UTC, YYYYMMDD-HHMM), fixed per run,
for names such as `emergency-{date}` that later steps must repeat exactly."""

STEP_SAFETY = (*SAFETY_CLASSES, "unknown")
_ID = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_PARAM = re.compile(r"^[a-z][a-z0-9_]*$")
# Parameter values are pasted into commands: Kubernetes names, sizes, label values, paths. Nothing a shell
# or the guard would read as syntax (spaces, quotes, ;, |, $, backticks, redirections).
VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/=@+-]*$")


class RunbookError(ValueError):
    """A runbook data file is malformed, or a command's declared safety differs from the guard's."""


# ---------------------------------------------------------------------------------------- JSON paths


class PathError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class _Seg:
    kind: str  # key | any | index | filter
    key: str = ""
    index: int = 0
    sub: tuple[_Seg, ...] = ()
    op: str = ""
    literal: str = ""


_NAME_CH = re.compile(r"[A-Za-z0-9_$-]+")


def parse_path(text: str) -> tuple[_Seg, ...]:
    """`status.containerStatuses[*].state.waiting.reason`, `items[-1].metadata.name`,
    `spec.selector['app.kubernetes.io/name']`, `status.conditions[?type=Ready].status`,
    `items[?status.phase!=Bound].metadata.name` (filters: `=`, `!=`, `~` regex; a filter value cannot
    contain `]`)."""
    segs, pos = _parse_segs(text, 0, stop="")
    if pos != len(text):
        raise PathError(f"unexpected {text[pos:]!r} in path {text!r}")
    if not segs:
        raise PathError("empty path")
    return segs


def _parse_segs(text: str, pos: int, stop: str) -> tuple[tuple[_Seg, ...], int]:
    segs: list[_Seg] = []
    while pos < len(text) and text[pos] not in stop:
        ch = text[pos]
        if ch == ".":
            pos += 1
            m = _NAME_CH.match(text, pos)
            if not m:
                raise PathError(f"a name must follow '.' at {pos} in {text!r}")
            segs.append(_Seg("key", key=m.group()))
            pos = m.end()
        elif ch == "[":
            seg, pos = _parse_bracket(text, pos + 1)
            segs.append(seg)
        else:
            m = _NAME_CH.match(text, pos)
            if not m or segs:
                raise PathError(f"unexpected {ch!r} at {pos} in {text!r}")
            segs.append(_Seg("key", key=m.group()))
            pos = m.end()
    return tuple(segs), pos


def _parse_bracket(text: str, pos: int) -> tuple[_Seg, int]:
    if text.startswith("*]", pos):
        return _Seg("any"), pos + 2
    m = re.compile(r"-?\d+\]").match(text, pos)
    if m:
        return _Seg("index", index=int(m.group()[:-1])), m.end()
    m = re.compile(r"'([^']*)'\]").match(text, pos)
    if m:
        return _Seg("key", key=m.group(1)), m.end()
    if text.startswith("?", pos):
        sub, p = _parse_segs(text, pos + 1, stop="!=~]")
        if not sub:
            raise PathError(f"a filter needs a path at {pos} in {text!r}")
        m = re.compile(r"(!=|=|~)([^\]]*)\]").match(text, p)
        if not m:
            raise PathError(f"a filter needs `=`, `!=` or `~` and a value at {p} in {text!r}")
        op, lit = m.group(1), m.group(2)
        if op == "~":
            try:
                re.compile(lit)
            except re.error as e:
                raise PathError(f"bad regex {lit!r} in {text!r}: {e}") from None
        return _Seg("filter", sub=sub, op=op, literal=lit), m.end()
    raise PathError(f"bad bracket at {pos} in {text!r}")


def norm(value: Any) -> str:
    """Values compare as text, the way kubectl prints them: true/false/null, numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def select(doc: Any, path: tuple[_Seg, ...] | str) -> list[Any]:
    """Every value at `path` in `doc` (wildcards and filters can give several; missing gives none)."""
    segs = parse_path(path) if isinstance(path, str) else path
    values = [doc]
    for seg in segs:
        out: list[Any] = []
        for v in values:
            if seg.kind == "key":
                if isinstance(v, dict) and seg.key in v:
                    out.append(v[seg.key])
            elif seg.kind == "any":
                if isinstance(v, list):
                    out.extend(v)
                elif isinstance(v, dict):
                    out.extend(v.values())
            elif seg.kind == "index":
                if isinstance(v, list) and -len(v) <= seg.index < len(v):
                    out.append(v[seg.index])
            elif isinstance(v, list):
                out.extend(x for x in v if _keep(x, seg))
        values = out
    return values


def _keep(item: Any, seg: _Seg) -> bool:
    found = [norm(x) for x in select(item, seg.sub)]
    if seg.op == "=":
        return seg.literal in found
    if seg.op == "!=":
        return seg.literal not in found
    return any(re.search(seg.literal, x) for x in found)


# ---------------------------------------------------------------------------------------- conditions


@dataclass(slots=True)
class Output:
    """What a step produced: its text (stdout, then stderr) and exit status; JSON parsed on demand."""

    text: str
    exit_code: int
    json_text: str | None = None
    """Where `-o json` output is (stdout alone); None: `text`."""
    _doc: Any = field(default=None, repr=False)
    _parsed: bool = field(default=False, repr=False)

    @property
    def doc(self) -> Any:
        """The JSON document of the output, or None. Text around it (warnings) is ignored."""
        if not self._parsed:
            self._parsed = True
            src = self.text if self.json_text is None else self.json_text
            starts = [i for i in (src.find("{"), src.find("[")) if i >= 0]
            if starts:
                try:
                    self._doc, _ = json.JSONDecoder().raw_decode(src, min(starts))
                except ValueError:
                    self._doc = None
        return self._doc


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on a step's output. `kind`: match | path | exit | all | any | not."""

    kind: str
    regex: re.Pattern[str] | None = None
    path: tuple[_Seg, ...] = ()
    path_text: str = ""
    test: str = ""  # equals | in | matches | exists
    values: tuple[str, ...] = ()
    exists: bool = True
    exit_ok: bool = True
    parts: tuple[Condition, ...] = ()

    def holds(self, out: Output) -> bool:
        if self.kind == "match":
            assert self.regex is not None
            return self.regex.search(out.text) is not None
        if self.kind == "exit":
            return (out.exit_code == 0) == self.exit_ok
        if self.kind == "all":
            return all(p.holds(out) for p in self.parts)
        if self.kind == "any":
            return any(p.holds(out) for p in self.parts)
        if self.kind == "not":
            return not self.parts[0].holds(out)
        doc = out.doc
        found = [] if doc is None else [norm(v) for v in select(doc, self.path)]
        if self.test == "exists":
            return bool(found) == self.exists
        if self.test == "matches":
            assert self.regex is not None
            return any(self.regex.search(v) for v in found)
        return any(v in self.values for v in found)

    def describe(self) -> str:
        if self.kind == "match":
            return f"output matches /{self.regex.pattern if self.regex else ''}/"
        if self.kind == "exit":
            return "the command succeeded" if self.exit_ok else "the command failed"
        if self.kind in ("all", "any"):
            return f" {'and' if self.kind == 'all' else 'or'} ".join(f"({p.describe()})" for p in self.parts)
        if self.kind == "not":
            return f"not ({self.parts[0].describe()})"
        if self.test == "exists":
            return f"{self.path_text} {'is set' if self.exists else 'is missing'}"
        if self.test == "matches":
            return f"{self.path_text} matches /{self.regex.pattern if self.regex else ''}/"
        return f"{self.path_text} is {' or '.join(self.values)}"


def parse_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, Mapping) or not raw:
        raise RunbookError(f"{where}: a condition must be a mapping (match, path, exit, all, any, not)")
    keys = set(raw)
    if keys == {"match"}:
        return Condition("match", regex=_regex(raw["match"], where))
    if keys == {"exit"}:
        if raw["exit"] not in ("ok", "failed"):
            raise RunbookError(f"{where}: exit must be ok or failed")
        return Condition("exit", exit_ok=raw["exit"] == "ok")
    if keys in ({"all"}, {"any"}):
        (k,) = keys
        items = raw[k]
        if not isinstance(items, list) or len(items) < 2:
            raise RunbookError(f"{where}: {k} needs a list of at least two conditions")
        return Condition(k, parts=tuple(parse_condition(x, f"{where}.{k}[{i}]") for i, x in enumerate(items)))
    if keys == {"not"}:
        return Condition("not", parts=(parse_condition(raw["not"], f"{where}.not"),))
    if "path" in keys:
        tests = keys - {"path"}
        if len(tests) != 1 or not tests <= {"equals", "in", "matches", "exists"}:
            raise RunbookError(f"{where}: a path condition needs exactly one of equals, in, matches, exists")
        try:
            segs = parse_path(str(raw["path"]))
        except PathError as e:
            raise RunbookError(f"{where}: {e}") from None
        (test,) = tests
        if test == "exists":
            if not isinstance(raw["exists"], bool):
                raise RunbookError(f"{where}: exists must be true or false")
            return Condition("path", path=segs, path_text=raw["path"], test="exists", exists=raw["exists"])
        if test == "matches":
            return Condition("path", path=segs, path_text=raw["path"], test="matches", regex=_regex(raw["matches"], where))
        vals = raw[test] if test == "in" else [raw[test]]
        if not isinstance(vals, list) or not vals:
            raise RunbookError(f"{where}: 'in' needs a non-empty list")
        return Condition("path", path=segs, path_text=raw["path"], test="equals", values=tuple(norm(v) for v in vals))
    raise RunbookError(f"{where}: unknown condition {sorted(keys)}; "
                       "use match, path (+equals/in/matches/exists), exit, all, any, not")


def _regex(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise RunbookError(f"{where}: a regex must be a non-empty string")
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as e:
        raise RunbookError(f"{where}: bad regex {pattern!r}: {e}") from None


# ---------------------------------------------------------------------------------------- data model


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    description: str
    required: bool = False
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Branch:
    when: Condition
    goto: str
    why: str


@dataclass(frozen=True, slots=True)
class Capture:
    """Sets a parameter from a step's output when the user did not give it (first value found wins)."""

    param: str
    path: str = ""
    """A path template: `items[?metadata.name={route}].spec…` uses parameters known at that point."""
    regex: re.Pattern[str] | None = None
    pick: str = "first"

    def value(self, out: Output, params: Mapping[str, str]) -> str | None:
        """The captured value, or None (nothing found, or the path needs a parameter not known yet)."""
        if self.regex is not None:
            found = [m.group(1) if self.regex.groups else m.group() for m in self.regex.finditer(out.text)]
        else:
            try:
                segs = parse_path(fill(self.path, params))
            except (KeyError, PathError):
                return None
            found = [] if out.doc is None else [norm(v) for v in select(out.doc, segs)
                                                if isinstance(v, (str, int, float))]
        found = [v for v in found if VALUE.match(v)]
        if not found:
            return None
        return found[-1] if self.pick == "last" else found[0]


@dataclass(frozen=True, slots=True)
class Show:
    """One line per value at `path` (`each` empty), or one line per item at `each` with its `fields`."""

    path: str = ""
    each: str = ""
    fields: tuple[str, ...] = ()


def summarize(shows: Iterable[Show], out: Output, limit: int = 400) -> str | None:
    """The lines `shows` asks for from a JSON output; None when the output is not JSON."""
    doc = out.doc
    if doc is None:
        return None
    lines: list[str] = []
    for sh in shows:
        if sh.each:
            items = select(doc, sh.each)
            if not items:
                lines.append(f"{sh.each}: (none)")
            for item in items:
                cells = [", ".join(norm(v) for v in select(item, f)) or "-" for f in sh.fields]
                lines.append("  ".join(cells)[:limit])
        else:
            vals = [norm(v) for v in select(doc, sh.path)]
            lines.append(f"{sh.path}: {', '.join(vals) if vals else '(none)'}"[:limit])
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: str
    command: str | None
    safety: str | None
    expect: str = ""
    manual: bool = False
    """Described for a human, never executed (a values change in Git, a decision, a local checkout)."""
    branches: tuple[Branch, ...] = ()
    next: str | None = None
    """The step after this one when no branch applies; None = the following step in the file."""
    captures: tuple[Capture, ...] = ()
    hide: re.Pattern[str] | None = None
    """Output lines to leave out (like `| grep -v`), so the runbook needs no shell pipeline."""
    tail: int | None = None
    """Show only the last N lines (like `| tail -N`)."""
    see: str | None = None
    """Another runbook that takes over from here."""
    show: tuple[Show, ...] = ()
    """What to print of a JSON output instead of all of it (the whole output stays in the run record)."""
    on_decline: str = "stop"
    """When the operator declines this step: `stop` the run (later steps rely on the change) or
    `continue` (the step only gathers information, e.g. `kubectl exec … df -h`)."""

    @property
    def runs(self) -> bool:
        return self.command is not None and not self.manual

    def fields(self) -> list[str]:
        return template_fields(self.command or "")


@dataclass(frozen=True, slots=True)
class Runbook:
    id: str
    title: str
    summary: str
    when: tuple[str, ...]
    parameters: tuple[Param, ...]
    components: tuple[str, ...]
    steps: tuple[Step, ...]
    source: str = ""

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.parameters if p.name == name), None)

    def following(self, step: Step) -> str:
        """Where a step goes when no branch applies."""
        if step.next is not None:
            return step.next
        i = self.steps.index(step)
        return self.steps[i + 1].id if i + 1 < len(self.steps) else END

    def captured(self) -> set[str]:
        return {c.param for s in self.steps for c in s.captures}


def template_fields(template: str) -> list[str]:
    """Names of the `{fields}` in a str.format template (literal braces are doubled: `{{`)."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def fill(template: str, params: Mapping[str, str]) -> str:
    """The command with its parameters; KeyError names the first missing one."""
    return template.format_map(_Strict(params))


class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(key)


def builtins(now: float | None = None) -> dict[str, str]:
    t = time.time() if now is None else now
    return {"now": str(int(t)), "date": time.strftime("%Y%m%d-%H%M", time.gmtime(t))}


def next_step(rb: Runbook, step: Step, out: Output | None) -> tuple[str, Branch | None]:
    """The id of the step to run after `step` (or END) and the branch that chose it (None: default).
    A step that did not run (skipped, manual) has no output: it goes to its default next."""
    if out is not None:
        for b in step.branches:
            if b.when.holds(out):
                return b.goto, b
    return rb.following(step), None


# ---------------------------------------------------------------------------------------- loading


Classify = Callable[[str], Any]
"""The guard: command → an object with `.cls` (read-only | unknown | mutating | destructive)."""

_RB_KEYS = {"id", "title", "summary", "when", "parameters", "components", "steps"}
_STEP_KEYS = {"id", "title", "command", "safety", "expect", "manual", "branches", "next", "capture", "hide",
              "tail", "see", "on_decline", "show"}


def _text(raw: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    v = raw.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or not v.strip():
        raise RunbookError(f"{where}: '{key}' must be a non-empty string")
    return " ".join(v.split()) if key != "command" else v.strip()


def sample_params(rb: Runbook) -> dict[str, str]:
    """Stand-in values used to check templates and classify commands at load time."""
    vals = {p.name: p.default or p.name.replace("_", "-") for p in rb.parameters}
    vals.update(builtins(0))
    return vals


def parse_runbook(source: str, doc: Any, classify: Classify | None, components: Iterable[str] | None = None) -> Runbook:
    """Validate one runbook file and build it. With `classify`, each command's declared safety is
    checked against the guard (on the template filled with stand-in values)."""
    if not isinstance(doc, Mapping):
        raise RunbookError(f"{source}: the file must hold one mapping")
    unknown = set(doc) - _RB_KEYS
    if unknown:
        raise RunbookError(f"{source}: unknown keys {sorted(unknown)}; allowed: {sorted(_RB_KEYS)}")
    rid = _text(doc, "id", source)
    if not _ID.match(rid):
        raise RunbookError(f"{source}: id {rid!r} must be lower-case words joined by '-'")
    where = f"{source} ({rid})"
    when = doc.get("when") or []
    if not isinstance(when, list) or not when or not all(isinstance(w, str) and w.strip() for w in when):
        raise RunbookError(f"{where}: 'when' must be a non-empty list of situations")

    params: list[Param] = []
    raw_params = doc.get("parameters") or {}
    if not isinstance(raw_params, Mapping):
        raise RunbookError(f"{where}: 'parameters' must map names to {{description, required, default}}")
    for name, p in raw_params.items():
        pw = f"{where}: parameters.{name}"
        if not isinstance(name, str) or not _PARAM.match(name) or name in BUILTINS:
            raise RunbookError(f"{pw}: a parameter name is lower-case letters, digits and '_' (not {BUILTINS})")
        if not isinstance(p, Mapping) or set(p) - {"description", "required", "default"}:
            raise RunbookError(f"{pw}: must be a mapping with description, required, default")
        default = p.get("default")
        if default is not None and (not isinstance(default, str) or not VALUE.match(default)):
            raise RunbookError(f"{pw}: default {default!r} is not a plain value")
        params.append(Param(name, _text(p, "description", pw), bool(p.get("required")), default))

    comps = doc.get("components") or []
    if not isinstance(comps, list) or not all(isinstance(c, str) for c in comps):
        raise RunbookError(f"{where}: 'components' must be a list of component names")
    if components is not None:
        known = set(components)
        bad = [c for c in comps if c not in known]
        if bad:
            raise RunbookError(f"{where}: unknown components {bad}; known: {sorted(known)}")

    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RunbookError(f"{where}: 'steps' must be a non-empty list")
    steps = [_parse_step(s, f"{where}: steps[{i}]") for i, s in enumerate(raw_steps)]
    rb = Runbook(rid, _text(doc, "title", where), _text(doc, "summary", where), tuple(" ".join(w.split()) for w in when),
                 tuple(params), tuple(comps), tuple(steps), source)
    _check_graph(rb, where)
    _check_templates(rb, where, classify)
    return rb


def _parse_step(raw: Any, where: str) -> Step:
    if not isinstance(raw, Mapping):
        raise RunbookError(f"{where}: a step must be a mapping")
    unknown = set(raw) - _STEP_KEYS
    if unknown:
        raise RunbookError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_STEP_KEYS)}")
    sid = _text(raw, "id", where)
    if not _ID.match(sid) or sid == END:
        raise RunbookError(f"{where}: step id {sid!r} must be lower-case words joined by '-' (not 'end')")
    where = f"{where} ({sid})"
    command = raw.get("command")
    if command is not None:
        command = _text(raw, "command", where)
    manual = bool(raw.get("manual"))
    if command is None and not manual:
        raise RunbookError(f"{where}: a step without a command must be manual: true")
    safety = raw.get("safety")
    if command is not None and safety not in STEP_SAFETY:
        raise RunbookError(f"{where}: safety must be one of {STEP_SAFETY}, got {safety!r}")
    if command is None and safety is not None:
        raise RunbookError(f"{where}: safety belongs to a command; this step has none")
    branches = []
    for i, b in enumerate(raw.get("branches") or []):
        bw = f"{where}: branches[{i}]"
        if not isinstance(b, Mapping) or set(b) != {"if", "goto", "why"}:
            raise RunbookError(f"{bw}: a branch has exactly if, goto and why")
        branches.append(Branch(parse_condition(b["if"], f"{bw}.if"), _text(b, "goto", bw), _text(b, "why", bw)))
    if branches and not (command and not manual):
        raise RunbookError(f"{where}: only a step that runs a command can branch on its output")
    captures = []
    raw_caps = raw.get("capture") or []
    if isinstance(raw_caps, Mapping):
        raw_caps = [raw_caps]
    for i, c in enumerate(raw_caps):
        cw = f"{where}: capture[{i}]"
        if (not isinstance(c, Mapping) or "param" not in c or len({"path", "regex"} & set(c)) != 1
                or set(c) - {"param", "path", "regex", "pick"}):
            raise RunbookError(f"{cw}: a capture has param, one of path or regex, and optionally pick")
        if c.get("pick", "first") not in ("first", "last"):
            raise RunbookError(f"{cw}: pick must be first or last")
        path = str(c.get("path", ""))
        captures.append(Capture(str(c["param"]), path, _regex(c["regex"], cw) if "regex" in c else None, c.get("pick", "first")))
    shows = []
    for i, sh in enumerate(raw.get("show") or []):
        shw = f"{where}: show[{i}]"
        try:
            if isinstance(sh, str):
                parse_path(sh)
                shows.append(Show(path=sh))
            elif isinstance(sh, Mapping) and set(sh) == {"each", "fields"} and isinstance(sh["fields"], list) and sh["fields"]:
                parse_path(sh["each"])
                for f in sh["fields"]:
                    parse_path(str(f))
                shows.append(Show(each=sh["each"], fields=tuple(str(f) for f in sh["fields"])))
            else:
                raise RunbookError(f"{shw}: a path, or {{each: PATH, fields: [PATH, …]}}")
        except PathError as e:
            raise RunbookError(f"{shw}: {e}") from None
    if shows and not (command and not manual):
        raise RunbookError(f"{where}: show needs a command that runs")
    on_decline = raw.get("on_decline", "stop")
    if on_decline not in ("stop", "continue"):
        raise RunbookError(f"{where}: on_decline must be stop or continue")
    if on_decline != "stop" and safety in (None, "read-only"):
        raise RunbookError(f"{where}: on_decline only applies to steps that need confirmation")
    tail = raw.get("tail")
    if tail is not None and (not isinstance(tail, int) or tail < 1):
        raise RunbookError(f"{where}: tail must be a positive number of lines")
    nxt = raw.get("next")
    return Step(
        id=sid, title=_text(raw, "title", where), command=command, safety=safety,
        expect=_text(raw, "expect", where, required=command is not None and not manual),
        manual=manual, branches=tuple(branches), next=None if nxt is None else str(nxt),
        captures=tuple(captures), hide=_regex(raw["hide"], where) if raw.get("hide") else None, tail=tail,
        see=raw.get("see"), on_decline=on_decline, show=tuple(shows),
    )


def _check_graph(rb: Runbook, where: str) -> None:
    ids = [s.id for s in rb.steps]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise RunbookError(f"{where}: step ids used twice: {sorted(dup)}")
    known = set(ids) | {END}
    # Falling through to the next step in the file is for linear sequences; a step a branch jumps to, and a
    # manual step, say where they go (a branch's path must not run on into another branch's steps).
    targets_of_branches = {b.goto for s in rb.steps for b in s.branches}
    for s in rb.steps[:-1]:
        if s.next is None and (s.manual or s.id in targets_of_branches):
            raise RunbookError(f"{where}: step {s.id} is {'manual' if s.manual else 'a branch target'}; "
                               "give its next step explicitly (next: STEP or next: end)")
    edges: dict[str, list[str]] = {}
    for s in rb.steps:
        targets = [rb.following(s)] + [b.goto for b in s.branches]
        for t in targets:
            if t not in known:
                raise RunbookError(f"{where}: step {s.id} goes to unknown step {t!r}")
        edges[s.id] = [t for t in targets if t != END]
    # Every step reachable from the first; no cycles (a run always ends).
    seen: set[str] = set()
    stack = [ids[0]]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(edges[n])
    unreachable = [i for i in ids if i not in seen]
    if unreachable:
        raise RunbookError(f"{where}: steps no path reaches: {unreachable}")
    state: dict[str, int] = {}

    def visit(n: str, trail: list[str]) -> None:
        state[n] = 1
        for t in edges[n]:
            if state.get(t) == 1:
                raise RunbookError(f"{where}: steps loop: {' → '.join(trail + [n, t])}")
            if t not in state:
                visit(t, trail + [n])
        state[n] = 2

    visit(ids[0], [])


def _check_templates(rb: Runbook, where: str, classify: Classify | None) -> None:
    declared = {p.name for p in rb.parameters} | set(BUILTINS) | rb.captured()
    for c in rb.captured():
        if rb.param(c) is None:
            raise RunbookError(f"{where}: capture sets {c!r}, which is not a declared parameter")
    sample = sample_params(rb)
    for s in rb.steps:
        if s.see is not None and s.see not in RUNBOOK_IDS:
            raise RunbookError(f"{where}: step {s.id} refers to unknown runbook {s.see!r}")
        for cap in s.captures:
            if not cap.path:
                continue
            try:
                bad = [n for n in template_fields(cap.path) if n not in declared]
                if bad:
                    raise RunbookError(f"{where}: step {s.id}: capture path uses undeclared parameters {bad}")
                parse_path(fill(cap.path, sample))
            except (ValueError, PathError) as e:
                if isinstance(e, RunbookError):
                    raise
                raise RunbookError(f"{where}: step {s.id}: capture path {cap.path!r}: {e}") from None
        if s.command is None:
            continue
        sw = f"{where}: step {s.id}"
        try:
            names = s.fields()
        except ValueError as e:
            raise RunbookError(f"{sw}: command template is malformed ({e}); literal braces must be doubled") from None
        odd = [n for n in names if not _PARAM.match(n)]
        if odd:
            raise RunbookError(f"{sw}: command template is malformed: {{{odd[0]}}} is not a parameter; "
                               "literal braces must be doubled ({{ and }})")
        bad = [n for n in names if n not in declared]
        if bad:
            raise RunbookError(f"{sw}: command uses undeclared parameters {bad}")
        filled = fill(s.command, sample)
        if classify is not None:
            verdict = classify(filled)
            if verdict.cls != s.safety:
                reasons = "; ".join(getattr(verdict, "reasons", []) or [])
                raise RunbookError(f"{sw}: declared {s.safety} but the guard classifies `{filled}` as {verdict.cls}"
                                   + (f" ({reasons})" if reasons else ""))


def parse_runbooks(files: Iterable[tuple[str, str]], classify: Classify | None,
                   components: Iterable[str] | None = None) -> dict[str, Runbook]:
    comps = list(components) if components is not None else None
    out: dict[str, Runbook] = {}
    for fname, text in files:
        try:
            doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as e:
            raise RunbookError(f"{fname}: not valid YAML: {e}") from None
        rb = parse_runbook(fname, doc, classify, comps)
        stem = fname.rsplit("/", 1)[-1].removesuffix(".yaml")
        if stem != rb.id:
            raise RunbookError(f"{fname}: the file must be named after its runbook ({rb.id}.yaml)")
        out[rb.id] = rb
    return out


def _guard_classify() -> Classify:
    from sre_expert.safety.guard import classify

    return classify


@cache
def load_runbooks() -> dict[str, Runbook]:
    """Every packaged runbook, validated against the command guard, by id (in RUNBOOK_IDS order first)."""
    from sre_expert.knowledge.platform_components import load_components

    folder = resources.files("sre_expert") / "knowledge" / "runbooks"
    files = [(e.name, e.read_text(encoding="utf-8")) for e in sorted(folder.iterdir(), key=lambda p: p.name)
             if e.name.endswith(".yaml")]
    books = parse_runbooks(files, _guard_classify(), load_components().keys())
    order = {rid: i for i, rid in enumerate(RUNBOOK_IDS)}
    return dict(sorted(books.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


# ---------------------------------------------------------------------------------------- JSON views
# One shape for `runbook show -o json` and the agent's and MCP's `runbook` tool, so a model reads a runbook
# exactly as a user's script does.


def step_json(rb: Runbook, s: Step) -> dict[str, Any]:
    """One step: command, safety, what to expect, and where the run goes next (default and branches)."""
    return {
        "id": s.id, "title": s.title, "command": s.command, "safety": s.safety, "manual": s.manual,
        "expect": s.expect, "next": rb.following(s), "see": s.see,
        "branches": [{"if": b.when.describe(), "goto": b.goto, "why": b.why} for b in s.branches],
        "capture": [c.param for c in s.captures],
    }


def component_commands(rb: Runbook) -> list[tuple[str, list[Command]]]:
    """(component, its debugging commands) for each packaged component the runbook involves, in its order."""
    from sre_expert.knowledge.platform_components import load_components

    comps = load_components()
    return [(name, list(comps[name].commands)) for name in rb.components if name in comps]


def runbook_json(rb: Runbook, comps: list[tuple[str, list[Command]]] | None = None) -> dict[str, Any]:
    """The whole runbook: parameters, steps and its components' commands (`comps` when already looked up)."""
    if comps is None:
        comps = component_commands(rb)
    return {
        "id": rb.id, "title": rb.title, "summary": rb.summary, "when": list(rb.when),
        "parameters": [{"name": p.name, "description": p.description, "required": p.required, "default": p.default}
                       for p in rb.parameters],
        "steps": [step_json(rb, s) for s in rb.steps],
        "components": {name: [{"description": c.description, "command": c.command, "safety": c.safety} for c in cmds]
                       for name, cmds in comps},
    }
