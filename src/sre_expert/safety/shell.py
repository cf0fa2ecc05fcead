"""Parse a command line the way bash does, far enough to know which programs run with which arguments.

Handles quotes ('…', "…", $'…'), backslash escapes and line continuations, comments, the separators
`;` `&` `&&` `||` newline, pipes `|` `|&`, subshells `( … )`, command substitution `$( … )` and
backticks, process substitution `<( … )` `>( … )`, arithmetic `$(( … ))`, parameter expansion
(`$X`, `${X…}`), redirections (`<` `>` `>>` `>|` `<>` `&>` `&>>` `N>` `N>&M` `<<<`) and heredocs
(`<<EOF`, `<<-EOF`, `<<'EOF'`) and `case … in … esac`. It does not expand parameters: a word that would be
expanded at run time is marked `dynamic` and keeps its source text, and the commands inside substitutions
are returned so the guard can classify them too. Brace expansion (`{a,b}`, `{1..3}`) is the one expansion
that needs no run-time value, so its result is computed (`Word.braces`). Places where bash evaluates text
as code at run time (arithmetic on a variable, whose value `a[$(cmd)]` runs cmd; `${x@P}`; `${!x}`) are
recorded in `Word.evals`. Brace groups and `if/for/while` are left to the guard (their keywords arrive as
ordinary words). Input bash would reject raises ParseError; the guard then answers "unknown".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_BLANK = " \t"
_META = set(" \t\n;&|()<>")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_SPECIAL_PARAMS = set("@*#?$!-0123456789")
_FUNCTION = re.compile(r"(?:function[ \t]+[A-Za-z_][\w.:-]*(?:[ \t]*\([ \t]*\))?|[A-Za-z_][\w.:-]*[ \t]*\([ \t]*\))(?=[ \t\n{(])")
_REDIRECT = re.compile(r"(\d+|\{[A-Za-z_][A-Za-z0-9_]*\})?(&>>|&>|<<<|<<-|<<|<>|<&|>&|>>|>\||<|>)")


class ParseError(ValueError):
    """The line is not valid shell (unterminated quote, dangling operator, unbalanced parenthesis)."""


@dataclass(slots=True)
class Word:
    text: str  # after quote removal; expansions keep their source text, e.g. "force-sync=$(date +%s)"
    raw: str  # as written
    quoted: bool = False
    dynamic: bool = False  # contains an expansion whose value is only known at run time
    subs: list[Script] = field(default_factory=list)  # command/process substitutions inside
    vars: list[str] = field(default_factory=list)  # parameter names referenced ($X, ${X})
    braces: list[str] | None = None  # the words brace expansion makes of this one (None: no brace expansion)
    evals: list[str] = field(default_factory=list)  # why bash may run this word's run-time text as code


@dataclass(slots=True)
class Redirect:
    op: str  # <  >  >>  >|  <>  &>  &>>  >&  <&  <<  <<-  <<<
    fd: str | None  # "2" in 2>, None when implied
    target: Word | None  # file, fd number or heredoc delimiter
    body: str | None = None  # heredoc or here-string text
    body_expands: bool = False  # unquoted heredoc delimiter: $(…) in the body runs
    subs: list[Script] = field(default_factory=list)  # substitutions inside an expanding body
    evals: list[str] = field(default_factory=list)  # run-time evaluation inside an expanding body


@dataclass(slots=True)
class Simple:
    assigns: list[Word] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)


@dataclass(slots=True)
class Group:
    body: Script
    redirects: list[Redirect] = field(default_factory=list)


Command = Simple | Group


@dataclass(slots=True)
class Pipeline:
    commands: list[Command] = field(default_factory=list)


@dataclass(slots=True)
class Script:
    pipelines: list[Pipeline] = field(default_factory=list)

    def simple_commands(self) -> list[Simple]:
        """Every simple command, including those in groups and substitutions (depth first)."""
        out: list[Simple] = []
        for p in self.pipelines:
            for c in p.commands:
                if isinstance(c, Group):
                    out.extend(c.body.simple_commands())
                    continue
                out.append(c)
                for w in (*c.assigns, *c.words):
                    for s in w.subs:
                        out.extend(s.simple_commands())
        return out


def parse(text: str) -> Script:
    """Parse a command line; raise ParseError when bash would not accept it."""
    p = _Parser(text)
    script = p.list_(stop=None)
    if p.i < len(p.s):
        raise ParseError(f"unexpected {p.s[p.i]!r} at offset {p.i}")
    if p.pending:
        # heredoc on the last line without a body: bash reads it from end of input (empty)
        for r, _, _ in p.pending:
            r.body = ""
    return script


def expansions(text: str) -> tuple[list[Script], list[str]]:
    """Command substitutions and parameter names in text that is expanded like a double-quoted string."""
    w = expansion_word(text)
    return w.subs, w.vars


def expansion_word(text: str) -> Word:
    """Text expanded like a double-quoted string, as a Word (its substitutions, names and evaluations)."""
    return _Parser(text).dq_like(len(text))


_NUMBER = re.compile(r"\b(?:0[xX][0-9a-fA-F]+|[0-9]+#[0-9a-zA-Z@_]+|[0-9]+)\b")
_ARITH_OPERATORS = re.compile(r"[\s+\-*/%()<>=!&|^~?:,]*")


def arithmetic_literal(expr: str) -> bool:
    """Is this arithmetic made only of numbers and operators? A name (`x`, `$x`) is evaluated recursively at
    run time, and a value such as `a[$(cmd)]` makes bash run cmd, so only literals are known statically."""
    return bool(_ARITH_OPERATORS.fullmatch(_NUMBER.sub("", expr)))


def parameter_risk(inner: str) -> str | None:
    """Why `${inner}` may run code at run time, or None: prompt expansion `@P` (runs `$(…)` in the value),
    indirection `${!x}` (the value may be `a[$(cmd)]`), and arithmetic subscripts and offsets on run-time
    values (`${a[$i]}`, `${x:$n}`)."""
    if re.search(r"@P$", inner):
        return f"${{{inner}}} expands the value as a prompt string (runs the command substitutions in it)"
    m = re.match(r"!([A-Za-z_][A-Za-z0-9_]*|[0-9])(.*)$", inner, re.S)
    if m and not re.fullmatch(r"[*@]|\[[*@]\]", m.group(2)):
        return f"${{{inner}}} reads the variable another variable names (a name such as a[$(cmd)] runs cmd)"
    m = re.match(r"#?[A-Za-z_][A-Za-z0-9_]*\[(.*?)\](.*)$", inner, re.S)
    if m and m.group(1) not in ("@", "*") and not arithmetic_literal(m.group(1)):
        return f"${{{inner}}}: the subscript {m.group(1)} is evaluated as arithmetic at run time"
    m = re.match(r"(?:[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?|[0-9@*])(:[^-=?+].*)$", inner, re.S)
    if m and not arithmetic_literal(m.group(1)[1:]):
        return f"${{{inner}}}: the offset {m.group(1)[1:]} is evaluated as arithmetic at run time"
    return None


MAX_BRACE_WORDS = 256
_SEQUENCE = re.compile(r"(-?[0-9]+)\.\.(-?[0-9]+)(?:\.\.(-?[0-9]+))?|([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?[0-9]+))?")


class BraceLimit(ValueError):
    """Brace expansion would make more words than the guard follows."""


def brace_expand(pieces: list[tuple[str, bool]], keep_empty: bool = False) -> list[str] | None:
    """The words bash makes of one word by brace expansion, or None when it has none.

    pieces are the word's text after quote removal, each marked True when it is one unquoted character (only
    those can be `{`, `,`, `}` of an expansion). Raises BraceLimit beyond MAX_BRACE_WORDS words."""
    tokens: list[tuple[str, bool]] = []
    for text, literal in pieces:
        tokens.append((text, literal))
    if not any(lit and t == "{" for t, lit in tokens):
        return None
    out = _expand(tokens)
    if out == ["".join(t for t, _ in tokens)]:
        return None
    return [x for x in out if x or keep_empty]


def _expand(tokens: list[tuple[str, bool]]) -> list[str]:
    for i, (t, lit) in enumerate(tokens):
        if not (lit and t == "{"):
            continue
        depth, commas, close = 0, [], None
        for j in range(i, len(tokens)):
            tj, lj = tokens[j]
            if not lj:
                continue
            if tj == "{":
                depth += 1
            elif tj == "}":
                depth -= 1
                if depth == 0:
                    close = j
                    break
            elif tj == "," and depth == 1:
                commas.append(j)
        if close is None:
            continue
        prefix = "".join(x for x, _ in tokens[:i])
        if commas:
            bounds = [i, *commas, close]
            alternatives: list[str] = []
            for a, b in zip(bounds, bounds[1:]):
                alternatives.extend(_expand(tokens[a + 1:b]))
        else:
            body = tokens[i + 1:close]
            if not all(lit for _, lit in body):
                continue
            sequence = _sequence("".join(x for x, _ in body))
            if sequence is None:
                continue
            alternatives = sequence
        suffixes = _expand(tokens[close + 1:])
        if len(alternatives) * len(suffixes) > MAX_BRACE_WORDS:
            raise BraceLimit(f"brace expansion makes more than {MAX_BRACE_WORDS} words")
        return [prefix + a + s for a in alternatives for s in suffixes]
    return ["".join(x for x, _ in tokens)]


def _sequence(body: str) -> list[str] | None:
    m = _SEQUENCE.fullmatch(body)
    if not m:
        return None
    if m.group(1) is not None:
        a, b, step = int(m.group(1)), int(m.group(2)), abs(int(m.group(3) or 1)) or 1
        if abs(b - a) // step + 1 > MAX_BRACE_WORDS:
            raise BraceLimit(f"brace expansion makes more than {MAX_BRACE_WORDS} words")
        rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        width = max(len(m.group(1)), len(m.group(2))) if re.match(r"-?0[0-9]", m.group(1) + " " + m.group(2)) or \
            re.search(r"(^|\s)-?0[0-9]", m.group(1) + " " + m.group(2)) else 0
        return [str(n).zfill(width) if width else str(n) for n in rng]
    a, b, step = ord(m.group(4)), ord(m.group(5)), abs(int(m.group(6) or 1)) or 1
    rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
    return [chr(n) for n in rng]


class _Parser:
    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0
        self.pending: list[tuple[Redirect, str, bool]] = []  # heredocs waiting for their body

    # -- helpers --------------------------------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def startswith(self, t: str) -> bool:
        return self.s.startswith(t, self.i)

    def skip_blanks(self) -> None:
        while True:
            c = self.peek()
            if c in _BLANK and c:
                self.i += 1
            elif c == "\\" and self.peek(1) == "\n":
                self.i += 2
            elif c == "#":
                while self.peek() not in ("", "\n"):
                    self.i += 1
            else:
                return

    def newline(self) -> None:
        """Consume a newline token; heredoc bodies start on the next line."""
        assert self.peek() == "\n"
        self.i += 1
        pending, self.pending = self.pending, []
        for redirect, delim, strip_tabs in pending:
            lines: list[str] = []
            while self.i < len(self.s):
                end = self.s.find("\n", self.i)
                line = self.s[self.i:] if end < 0 else self.s[self.i:end]
                self.i = len(self.s) if end < 0 else end + 1
                cmp = line.lstrip("\t") if strip_tabs else line
                if cmp == delim:
                    break
                lines.append(cmp if strip_tabs else line)
            redirect.body = "\n".join(lines) + ("\n" if lines else "")
            if redirect.body_expands:
                expanded = expansion_word(redirect.body)
                redirect.subs = expanded.subs
                redirect.evals = expanded.evals

    # -- grammar ----------------------------------------------------------------------------------
    def list_(self, stop: str | None) -> Script:
        script = Script()
        expect_more = False
        while True:
            self.skip_blanks()
            c = self.peek()
            if c == "":
                if expect_more:
                    raise ParseError("command line ends after an operator")
                break
            if c == "\n":
                self.newline()
                continue
            if stop == ";;" and (self.startswith(";;") or self.startswith(";&") or self.at_keyword("esac")):
                break
            if stop is not None and c == stop and (stop != "}" or self.peek(1) in ("", " ", "\t", "\n", ";", "&", "|", ")")):
                if expect_more:
                    raise ParseError(f"{stop!r} after an operator")
                break
            if c == ")":
                raise ParseError("unbalanced ')'")
            if c in ";&|":
                if self.startswith(";;"):
                    raise ParseError("';;' outside case")
                raise ParseError(f"unexpected {c!r}")
            script.pipelines.append(self.pipeline(stop))
            expect_more = False
            self.skip_blanks()
            if self.startswith("&&") or self.startswith("||"):
                self.i += 2
                expect_more = True
            elif self.peek() in (";", "&") and self.peek():
                if stop == ";;" and (self.startswith(";;") or self.startswith(";&")):
                    break
                if self.startswith(";;"):
                    raise ParseError("';;' outside case")
                self.i += 1
        return script

    def pipeline(self, stop: str | None) -> Pipeline:
        pl = Pipeline([self.command(stop)])
        while True:
            self.skip_blanks()
            if self.peek() == "|" and self.peek(1) != "|":
                self.i += 2 if self.peek(1) == "&" else 1
                while True:
                    self.skip_blanks()
                    if self.peek() == "\n":
                        self.newline()
                    else:
                        break
                c = self.peek()
                if c == "" or c in ";&|)":
                    raise ParseError("pipe without a command after it")
                pl.commands.append(self.command(stop))
            else:
                return pl

    def at_keyword(self, word: str) -> bool:
        end = self.i + len(word)
        return self.s.startswith(word, self.i) and (end >= len(self.s) or self.s[end] in " \t\n;&|)")

    def blank_lines(self) -> None:
        while True:
            self.skip_blanks()
            if self.peek() == "\n":
                self.newline()
            else:
                return

    def case_(self) -> Group:
        """`case WORD in PATTERN) LIST ;; … esac`: a group whose first command is the header (its words are data,
        their substitutions run) followed by every branch's commands (any branch may run)."""
        self.i += 4
        self.skip_blanks()
        header = Simple(words=[Word("case", "case"), self.word()])
        self.blank_lines()
        if not self.at_keyword("in"):
            raise ParseError("case without 'in'")
        self.i += 2
        body = Script([Pipeline([header])])
        while True:
            self.blank_lines()
            if self.at_keyword("esac"):
                self.i += 4
                break
            if self.peek() == "":
                raise ParseError("case without 'esac'")
            if self.peek() == "(":
                self.i += 1
            while True:
                self.skip_blanks()
                header.words.append(self.word())
                self.skip_blanks()
                if self.peek() == "|":
                    self.i += 1
                    continue
                if self.peek() == ")":
                    self.i += 1
                    break
                raise ParseError("case pattern without ')'")
            body.pipelines.extend(self.list_(stop=";;").pipelines)
            for end in (";;&", ";;", ";&"):
                if self.startswith(end):
                    self.i += len(end)
                    break
        group = Group(body)
        while True:
            self.skip_blanks()
            r = self.maybe_redirect()
            if r is None:
                return group
            group.redirects.append(r)

    def command(self, stop: str | None) -> Command:
        self.skip_blanks()
        if self.at_keyword("case"):
            return self.case_()
        m = _FUNCTION.match(self.s, self.i)
        if m:
            # name() { …; } / function name { …; }: the body may run later, so it is returned as a group
            self.i = m.end()
            while True:
                self.skip_blanks()
                if self.peek() == "\n":
                    self.newline()
                else:
                    break
            if self.peek() == "{":
                self.i += 1
                body = self.list_(stop="}")
                if self.peek() != "}":
                    raise ParseError("unterminated function body")
                self.i += 1
                return Group(body)
            if self.peek() != "(":
                raise ParseError("function body must be { … } or ( … )")
        if self.peek() == "(":
            if self.peek(1) == "(":
                raise ParseError("arithmetic command (( … )) is not supported")
            self.i += 1
            body = self.list_(stop=")")
            if self.peek() != ")":
                raise ParseError("unterminated subshell '('")
            self.i += 1
            group = Group(body)
            while True:
                self.skip_blanks()
                r = self.maybe_redirect()
                if r is None:
                    break
                group.redirects.append(r)
            return group
        cmd = Simple()
        while True:
            self.skip_blanks()
            c = self.peek()
            if c == "" or c == "\n" or c in ";&|)":
                if c == "&" and self.peek(1) == ">":
                    pass  # &> redirect
                else:
                    break
            r = self.maybe_redirect()
            if r is not None:
                cmd.redirects.append(r)
                continue
            if c == "(":
                raise ParseError("unexpected '(' (function definitions are not supported)")
            w = self.word()
            if not cmd.words and _ASSIGN.match(w.raw):
                sub = _ASSIGN.match(w.raw).group(1)  # type: ignore[union-attr]
                if sub and not arithmetic_literal(sub[1:-1]):
                    w.evals.append(f"{w.raw.split('=', 1)[0]}: the array subscript is evaluated as arithmetic at "
                                   "run time")
                cmd.assigns.append(w)
            else:
                cmd.words.append(w)
        if not cmd.words and not cmd.assigns and not cmd.redirects:
            raise ParseError("empty command")
        return cmd

    def maybe_redirect(self) -> Redirect | None:
        m = _REDIRECT.match(self.s, self.i)
        if not m:
            return None
        fd, op = m.group(1), m.group(2)
        if op in ("<", ">") and self.s.startswith("(", m.end()) and fd is None:
            return None  # process substitution: a word
        self.i = m.end()
        self.skip_blanks()
        procsub = self.peek() in ("<", ">") and self.peek(1) == "("
        if self.peek() == "" or (self.peek() in "\n;|&)<>" and not procsub):
            raise ParseError(f"redirection {op!r} without a target")
        target = self.word()
        r = Redirect(op, fd.strip("{}") if fd else None, target)
        if op in ("<<", "<<-"):
            delim = target.text
            r.body_expands = not target.quoted
            self.pending.append((r, delim, op == "<<-"))
        elif op == "<<<":
            r.body = target.text + "\n"
            r.subs = list(target.subs)
            r.body_expands = target.dynamic
        return r

    # -- words ------------------------------------------------------------------------------------
    def word(self) -> Word:
        start = self.i
        text: list[str] = []
        literal: list[bool] = []  # per piece of text: an unquoted character (may be brace-expansion syntax)
        w = Word("", "")
        c = self.peek()
        if c in "<>" and self.peek(1) == "(":
            self.i += 2
            sub = self.list_(stop=")")
            if self.peek() != ")":
                raise ParseError("unterminated process substitution")
            self.i += 1
            w.subs.append(sub)
            w.dynamic = True
            text.append(self.s[start:self.i])
        while True:
            c = self.peek()
            if c in "<>" and c and self.peek(1) == "(" and self.i > start:
                # `x<(cmd)`, `{<(cmd),}`: bash reads a process substitution inside a word too
                sub_start = self.i
                self.i += 2
                sub = self.list_(stop=")")
                if self.peek() != ")":
                    raise ParseError("unterminated process substitution")
                self.i += 1
                w.subs.append(sub)
                w.dynamic = True
                text.append(self.s[sub_start:self.i])
                continue
            if c == "" or c in _META:
                break
            if c == "\\":
                nxt = self.peek(1)
                if nxt == "\n":
                    self.i += 2
                    continue
                if nxt == "":
                    self.i += 1
                    break
                text.append(nxt)
                w.quoted = True
                self.i += 2
            elif c == "'":
                end = self.s.find("'", self.i + 1)
                if end < 0:
                    raise ParseError("unterminated single quote")
                text.append(self.s[self.i + 1:end])
                w.quoted = True
                self.i = end + 1
            elif c == '"':
                self.i += 1
                inner = self.dq_like(None)
                if self.peek() != '"':
                    raise ParseError("unterminated double quote")
                self.i += 1
                text.append(inner.text)
                w.quoted = True
                self._absorb(w, inner)
            elif c == "$" and self.peek(1) == "'":
                end = self.i + 2
                while end < len(self.s) and self.s[end] != "'":
                    end += 2 if self.s[end] == "\\" else 1
                if end >= len(self.s):
                    raise ParseError("unterminated $'…' quote")
                text.append(_ansi_c(self.s[self.i + 2:end]))
                w.quoted = True
                self.i = end + 1
            elif c in "$`":
                text.append(self.expansion(w))
            else:
                text.append(c)
                literal.extend([False] * (len(text) - 1 - len(literal)))
                literal.append(True)
                self.i += 1
        literal.extend([False] * (len(text) - len(literal)))
        w.text = "".join(text)
        w.raw = self.s[start:self.i]
        if not w.raw:
            raise ParseError(f"unexpected {self.peek()!r}")
        if "{" in w.raw:
            try:
                w.braces = brace_expand(list(zip(text, literal)), keep_empty=w.quoted)
            except BraceLimit as e:
                w.evals.append(f"{w.raw}: {e}, more than the guard follows")
        return w

    @staticmethod
    def _absorb(w: Word, inner: Word) -> None:
        w.subs.extend(inner.subs)
        w.vars.extend(inner.vars)
        w.evals.extend(inner.evals)
        w.dynamic = w.dynamic or inner.dynamic

    def dq_like(self, end: int | None) -> Word:
        """Scan double-quoted text (stop at an unescaped '"', or at `end`)."""
        w = Word("", "")
        text: list[str] = []
        while True:
            if end is not None and self.i >= end:
                break
            c = self.peek()
            if c == "":
                if end is None:
                    raise ParseError("unterminated double quote")
                break
            if c == '"' and end is None:
                break
            if c == "\\":
                nxt = self.peek(1)
                if nxt in ('$', '`', '"', '\\'):
                    text.append(nxt)
                    self.i += 2
                elif nxt == "\n":
                    self.i += 2
                else:
                    text.append(c)
                    self.i += 1
            elif c in "$`":
                text.append(self.expansion(w))
            else:
                text.append(c)
                self.i += 1
        w.text = "".join(text)
        return w

    def _arithmetic_end(self, j: int) -> int | None:
        """Where `$((…))` starting its body at j ends, if it is arithmetic: bash reads `$((` as arithmetic
        only when the parenthesis matching the second `(` is immediately followed by `)`; otherwise
        `$( (…) … )` is a command substitution holding a subshell."""
        depth = 2
        while j < len(self.s):
            ch = self.s[j]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 1:
                    return j + 2 if j + 1 < len(self.s) and self.s[j + 1] == ")" else None
            j += 1
        return None

    def expansion(self, w: Word) -> str:
        """Consume one $…/`…` expansion at self.i; record it on w; return its source text."""
        start = self.i
        c = self.peek()
        if c == "`":
            j = self.i + 1
            buf: list[str] = []
            while True:
                if j >= len(self.s):
                    raise ParseError("unterminated backquote")
                ch = self.s[j]
                if ch == "\\" and j + 1 < len(self.s) and self.s[j + 1] in "`\\$":
                    buf.append(self.s[j + 1])
                    j += 2
                    continue
                if ch == "`":
                    break
                buf.append(ch)
                j += 1
            self.i = j + 1
            w.subs.append(parse("".join(buf)))
            w.dynamic = True
            return self.s[start:self.i]
        # c == "$"
        nxt = self.peek(1)
        if nxt == "(" and self.peek(2) == "(" and self._arithmetic_end(self.i + 3) is not None:
            end = self._arithmetic_end(self.i + 3)
            assert end is not None
            inner = self.s[self.i + 3:end - 2]
            self.i = end
            self._absorb(w, expansion_word(inner))
            if not arithmetic_literal(inner):
                w.evals.append(f"$(({inner.strip()})) evaluates run-time values as arithmetic (a value such as "
                               "a[$(cmd)] runs cmd)")
            w.dynamic = True
            return self.s[start:self.i]
        end = self.s.find("]", self.i + 2) if nxt == "[" else -1
        if end >= 0 and not any(c in "\n;'\"" for c in self.s[self.i:end]):  # `$[expr]`, old arithmetic
            inner = self.s[self.i + 2:end]
            self.i = end + 1
            self._absorb(w, expansion_word(inner))
            if not arithmetic_literal(inner):
                w.evals.append(f"$[{inner.strip()}] evaluates run-time values as arithmetic")
            w.dynamic = True
            return self.s[start:self.i]
        if nxt == "(":
            self.i += 2
            sub = self.list_(stop=")")
            if self.peek() != ")":
                raise ParseError("unterminated $( … )")
            self.i += 1
            w.subs.append(sub)
            w.dynamic = True
            return self.s[start:self.i]
        if nxt == "{":
            depth = 0
            j = self.i + 1
            while True:
                if j >= len(self.s):
                    raise ParseError("unterminated ${ … }")
                ch = self.s[j]
                if ch == "\\":
                    j += 2
                    continue
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = self.s[self.i + 2:j]
            self.i = j + 1
            m = _NAME.match(inner.lstrip("!#"))
            if m:
                w.vars.append(m.group(0))
            self._absorb(w, expansion_word(inner))
            risk = parameter_risk(inner)
            if risk:
                w.evals.append(risk)
            w.dynamic = True
            return self.s[start:self.i]
        m = _NAME.match(self.s, self.i + 1)
        if m:
            self.i = m.end()
            w.vars.append(m.group(0))
            w.dynamic = True
            return self.s[start:self.i]
        if nxt and nxt in _SPECIAL_PARAMS:
            self.i += 2
            w.vars.append(nxt)
            w.dynamic = True
            return self.s[start:self.i]
        self.i += 1
        return "$"


_ANSI = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "v": "\v",
         "\\": "\\", "'": "'", '"': '"', "?": "?"}


def _ansi_c(body: str) -> str:
    """Decode the escapes of a $'…' string (enough for classification, not byte-exact)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n in _ANSI:
                out.append(_ANSI[n])
                i += 2
                continue
            m = re.match(r"x([0-9A-Fa-f]{1,2})|([0-7]{1,3})", body[i + 1:])
            if m:
                out.append(chr(int(m.group(1), 16)) if m.group(1) else chr(int(m.group(2), 8)))
                i += 1 + len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out)
