"""Rules for everyday Unix programs: text tools, file tools, network tools, services, containers, git.

Read-only means: changes no file, process, service or remote system. A program that writes a local file
(`sort -o`, `sed -i`, `curl -o`, `tee f`) is mutating; one that removes or overwrites data beyond easy
recovery (`rm`, `mv`, `dd`, `shred`, `truncate`, recursive `chmod`/`chown`, `find -delete`, a write to an
admin API that deletes data) is destructive. GNU long options are matched by prefix, as getopt_long accepts
them (`sed --in`, `sort --outp=F`); options and script commands that run a program (`sed e`, `tar
--checkpoint-action`, `git -c`, `git grep -O`) are unknown. Shell builtins that evaluate arithmetic on
run-time values (`let`, `[[ -eq ]]`, `declare -i`, subscripted names) are unknown.
Reading a file that usually holds credentials (mounted Secrets, keys, kubeconfig) or printing a variable
named like one ($DB_PASSWORD) is flagged as exposing secrets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from sre_expert.safety.gnu_flags import OPTIONS as GNU_OPTIONS
from sre_expert.safety.gnu_flags import VALUE_OPTIONS as GNU_VALUE_OPTIONS
from sre_expert.safety.rulebase import (
    Ctx,
    Rule,
    long_option,
    long_value,
    parse_args,
    prog,
    secret_path,
    secret_var,
    skip_options,
)
from sre_expert.safety.shell import arithmetic_literal
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, Part

if TYPE_CHECKING:
    from sre_expert.safety.shell import Word

# program → what it does; all read-only (unless a specific rule below says otherwise)
_READ_ONLY = {
    "text": "ls ll la dir tac grep egrep fgrep rg ag zgrep head tail jq gron wc cut tr column nl rev fold fmt "
            "paste join comm diff cmp less more most base64 xxd hexdump od strings file stat du df free uptime "
            "ps pgrep pstree w who whoami id groups uname pwd true false test [ [[ sleep which whereis type "
            "basename dirname realpath readlink seq yes md5sum sha1sum sha256sum sha512sum cksum nproc lscpu "
            "lsblk blkid findmnt getent locale tty clear history expr bc dc numfmt tput man info help tree "
            "locate zcat bzcat xzcat zless zmore yamllint kubeconform kubeval shellcheck cat look printenv "
            "lsof ss netstat arp jobs hash times getopts : envsubst cal column "
            "sha224sum sha384sum b2sum stern kubetail htop top btop iostat vmstat mpstat sar "
            "pidstat dmesg lsmod lspci lsusb last lastlog hostnamectl",
    "network": "dig nslookup host whois ping ping6 traceroute tracepath mtr",
    "shell": "cd pushd popd export unset set shopt unalias local declare typeset readonly read exit "
             "return break continue shift wait echo printf ulimit umask fg bg disown",
}
_RO: dict[str, str] = {}
for _kind, _names in _READ_ONLY.items():
    for _n in _names.split():
        _RO[_n] = _kind
_INTERACTIVE_RO = {"top", "htop", "btop", "less", "more", "most", "zless", "zmore", "man", "info"}
_FILE_READERS = {"cat", "tac", "head", "tail", "less", "more", "base64", "xxd", "hexdump", "od", "strings",
                 "grep", "egrep", "fgrep", "rg", "zcat", "jq", "yq", "awk", "sed", "cut", "sort", "nl"}


def echo_text(words: list[Word]) -> str:
    """What echo/printf print (escape sequences and formats approximated; enough to read SQL or commands)."""
    args = [w.text for w in words[1:]]
    if prog(words[0]) == "printf":
        if not args:
            return ""
        fmt, rest = args[0], args[1:]
        fmt = fmt.replace("\\n", "\n").replace("\\t", "\t")
        out: list[str] = []
        pieces = re.split(r"(%[-+ #0-9.]*[sbdiouxXfgGeEc%])", fmt)
        while True:
            for piece in pieces:
                if piece == "%%":
                    out.append("%")
                elif re.fullmatch(r"%[-+ #0-9.]*[sbdiouxXfgGeEc]", piece):
                    out.append(rest.pop(0) if rest else "")
                else:
                    out.append(piece)
            if not rest or not any(re.fullmatch(r"%[-+ #0-9.]*[sbdiouxXfgGeEc]", p) for p in pieces):
                break
        return "".join(out)
    while args and re.fullmatch(r"-[neE]+", args[0]):
        args.pop(0)
    return " ".join(args) + "\n"


# Options of otherwise read-only programs that write, delete or run a program: (spelling, class, what it does).
# A long spelling also matches its GNU prefixes; a short one matches inside a cluster (`dmesg -cT`).
_RO_EXCEPTIONS: dict[str, list[tuple[str, str, str]]] = {
    "dmesg": [("-C", DESTRUCTIVE, "clears the kernel ring buffer"), ("--clear", DESTRUCTIVE, "clears the kernel ring "
              "buffer"), ("-c", DESTRUCTIVE, "clears the kernel ring buffer after printing it"),
              ("--read-clear", DESTRUCTIVE, "clears the kernel ring buffer after printing it"),
              ("-n", MUTATING, "changes the console log level"), ("--console-level", MUTATING, "changes the console "
              "log level"), ("-D", MUTATING, "disables console logging"), ("-E", MUTATING, "enables console logging")],
    "tree": [("-o", MUTATING, "writes its listing to a file")],
    "sar": [("-o", MUTATING, "writes samples to a file")],
    "file": [("-C", MUTATING, "compiles a magic file"), ("--compile", MUTATING, "compiles a magic file")],
    "man": [("-P", UNKNOWN, "runs the named pager program"), ("--pager", UNKNOWN, "runs the named pager program"),
            ("-H", UNKNOWN, "runs a browser"), ("--html", UNKNOWN, "runs a browser")],
    "history": [("-c", DESTRUCTIVE, "clears the shell history"), ("-d", MUTATING, "deletes history entries"),
                ("-w", DESTRUCTIVE, "overwrites the history file"), ("-a", MUTATING, "appends to the history file")],
    "ss": [("-K", DESTRUCTIVE, "kills the matching sockets"), ("--kill", DESTRUCTIVE, "kills the matching sockets")],
    "arp": [("-d", DESTRUCTIVE, "deletes ARP entries"), ("-s", MUTATING, "adds an ARP entry"),
            ("-f", MUTATING, "adds ARP entries from a file")],
    "lsof": [("+r", READ_ONLY, "repeats")],
    "hostnamectl": [("set-hostname", MUTATING, "renames this machine"), ("hostname", MUTATING, "renames this machine"),
                    ("set-icon-name", MUTATING, "changes the machine's metadata"),
                    ("set-chassis", MUTATING, "changes the machine's metadata"),
                    ("set-deployment", MUTATING, "changes the machine's metadata"),
                    ("set-location", MUTATING, "changes the machine's metadata")],
    "dc": [("!", UNKNOWN, "the dc ! command runs a shell command")],
    "less": [("-o", MUTATING, "copies its input to a file"), ("-O", DESTRUCTIVE, "overwrites a file with its input"),
             ("--log-file", MUTATING, "copies its input to a file"),
             ("--LOG-FILE", DESTRUCTIVE, "overwrites a file with its input")],
}


def _ro_exception(name: str, words: list[Word]) -> Part | None:
    for w in words[1:]:
        t = w.text
        for spelling, cls, what in _RO_EXCEPTIONS.get(name, ()):
            if spelling == "!":
                hit = "!" in t
            elif spelling.startswith("--"):
                hit = long_option(t, spelling, 3)
            elif spelling.startswith(("-", "+")):
                hit = t == spelling or (len(spelling) == 2 and re.fullmatch(rf"\{spelling[0]}[a-zA-Z]*{spelling[1]}.*",
                                                                              t) is not None and not t.startswith("--"))
            else:
                hit = t == spelling
            if hit and cls != READ_ONLY:
                return Part(cls, f"{name} {t}: {what}")
    return None


def unknown_gnu_option(name: str, words: list[Word]) -> str | None:
    """The first option of a GNU tool that is not in its table (gnu_flags), read as getopt_long reads it: long
    options by unambiguous prefix, short ones in clusters whose value may be attached. None when all are known."""
    known, values = GNU_OPTIONS.get(name), GNU_VALUE_OPTIONS.get(name, frozenset())
    if known is None:
        return None
    longs = [o for o in known if o.startswith("--")]
    i = 1
    while i < len(words):
        w, t = words[i], words[i].text
        i += 1
        if t == "--":
            return None
        if w.dynamic or not t.startswith("-") or t == "-" or re.fullmatch(r"-[0-9]+", t):
            continue
        if t.startswith("--"):
            opt, eq, _ = t.partition("=")
            hits = [opt] if opt in known else [o for o in longs if o.startswith(opt)]
            if not hits:
                return t
            if len(hits) == 1 and hits[0] in values and not eq:
                i += 1
            continue
        for j, ch in enumerate(t[1:], 1):
            if "-" + ch not in known:
                return t
            if "-" + ch in values:
                i += 1 if j == len(t) - 1 else 0
                break
    return None


def with_unknown(check: Callable[[list[Word]], str | None], base: Rule) -> Rule:
    """A rule that adds an unknown part when check finds an option that runs or loads something the guard does
    not inspect, and keeps what the command is known to do: `git -c x push --force` stays destructive."""
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        why = check(words)
        parts = base(words, ctx)
        return [Part(UNKNOWN, why), *parts] if why else parts
    return rule


def _simple_ro(words: list[Word], ctx: Ctx) -> list[Part]:
    name = prog(words[0])
    parts = [Part(READ_ONLY, f"{name}: reads and prints", interactive=name in _INTERACTIVE_RO)]
    odd = _ro_exception(name, words)
    if odd is not None:
        parts = [odd]
    unknown = unknown_gnu_option(name, words)
    if unknown is not None and odd is None:
        parts = [Part(UNKNOWN, f"{name} {unknown}: an option the guard does not know")]
    if name == "printenv" and not any(not w.text.startswith("-") for w in words[1:]):
        where = "the container's" if ctx.in_container else "the"
        parts = [p for p in parts if p.cls != READ_ONLY] + [
            Part(READ_ONLY, f"printenv: prints {where} environment (API keys, passwords and tokens are often kept in "
                            "environment variables)", exposes=True)]
    if name == "printenv":
        leaked = sorted({w.text for w in words[1:] if not w.text.startswith("-") and secret_var(w.text)})
        if leaked:
            parts.append(Part(READ_ONLY, f"printenv prints {', '.join(leaked)}, which by its name holds a credential "
                                         "(a bare value the redactor cannot recognise)", exposes=True))
    if name in _FILE_READERS:
        for w in words[1:]:
            if not w.text.startswith("-") and secret_path(w.text):
                parts.append(Part(READ_ONLY, f"{name} prints {w.text}, a file that usually holds credentials",
                                  exposes=True))
                break
            named = [v for v in w.vars if v == "KUBECONFIG" or secret_var(v)]
            if named:  # `cat $KUBECONFIG`: the path is only known at run time, its name says what it holds
                parts.append(Part(READ_ONLY, f"{name} prints the file ${named[0]} names, which usually holds "
                                             "credentials", exposes=True))
                break
    return parts


# -- shell builtins that evaluate arithmetic or take variable names -----------------------------------------
# bash evaluates arithmetic recursively: a variable whose value is `a[$(cmd)]` runs cmd when it is read in an
# arithmetic context, and a variable *name* with a subscript (`a[$(cmd)]`) runs cmd when it is assigned.
# Only numbers and operators are known statically.

_ARITH_TESTS = {"-eq", "-ne", "-lt", "-le", "-gt", "-ge"}
_NAME_WITH_SUBSCRIPT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\[(.*)\]")


def _name_risk(name: str) -> str | None:
    m = _NAME_WITH_SUBSCRIPT.match(name)
    if m and not arithmetic_literal(m.group(1)) and m.group(1) not in ("@", "*"):
        return f"the variable name {name} has a subscript evaluated as arithmetic at run time"
    return None


def _unknown_arith(what: str) -> list[Part]:
    return [Part(UNKNOWN, f"{what} (a value such as a[$(cmd)] runs cmd): its effect is only known at run time")]


def _let(words: list[Word], ctx: Ctx) -> list[Part]:
    for w in words[1:]:
        target, eq, value = w.text.partition("=")
        literal = (eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", target) and arithmetic_literal(value)
                   and not value.startswith("=")) or arithmetic_literal(w.text)
        if not literal:
            return _unknown_arith(f"let evaluates {w.text} as arithmetic")
    return [Part(READ_ONLY, "let: arithmetic on literal numbers")]


def _double_bracket(words: list[Word], ctx: Ctx) -> list[Part]:
    texts = [w.text for w in words]
    for i, t in enumerate(texts):
        if t in _ARITH_TESTS and not words[i].quoted:
            for j in (i - 1, i + 1):
                if 0 < j < len(words) and (words[j].dynamic or not arithmetic_literal(texts[j])):
                    return _unknown_arith(f"[[ … {t} … ]] evaluates {words[j].raw} as arithmetic")
        if t == "-v" and i + 1 < len(texts) and _name_risk(texts[i + 1]):
            return _unknown_arith(f"[[ -v {texts[i + 1]} ]] evaluates the subscript")
    return [Part(READ_ONLY, "[[ … ]]: a test")]


def _test(words: list[Word], ctx: Ctx) -> list[Part]:
    texts = [w.text for w in words]
    for i, t in enumerate(texts[:-1]):
        if t == "-v" and _name_risk(texts[i + 1]):
            return _unknown_arith(f"{texts[0]} -v {texts[i + 1]} evaluates the subscript")
    return _simple_ro(words, ctx)


_LISTS_VARIABLES = "prints every variable and its value (API keys, passwords and tokens are often kept there)"


def _declare(words: list[Word], ctx: Ctx) -> list[Part]:
    """declare/typeset/local/export/readonly: `-i` makes every later assignment arithmetic, `-n` makes a name
    an alias of whatever name the value holds; without names they print variables."""
    name = prog(words[0])
    args = [w.text for w in words[1:]]
    flags = "".join(a[1:] for a in args if re.fullmatch(r"[-+][a-zA-Z]+", a) and a[0] == "-")
    names = [a for a in args if not re.fullmatch(r"[-+][a-zA-Z]+", a) and a != "--"]
    if name in ("declare", "typeset", "local") and ("i" in flags or "n" in flags):
        what = "integer" if "i" in flags else "name-reference"
        return _unknown_arith(f"{name} -{flags}: {what} variables evaluate what is assigned to them later")
    for a in names:
        risk = _name_risk(a.partition("=")[0])
        if risk:
            return _unknown_arith(f"{name}: {risk}")
    if not names and not set(flags) & {"f", "F"} and name != "local":
        return [Part(READ_ONLY, f"{name} without names {_LISTS_VARIABLES}", exposes=True)]
    return [Part(READ_ONLY, f"{name}: sets shell variables")]


def _set(words: list[Word], ctx: Ctx) -> list[Part]:
    if len(words) == 1:
        return [Part(READ_ONLY, f"set without arguments {_LISTS_VARIABLES}", exposes=True)]
    return [Part(READ_ONLY, "set: shell options or positional parameters")]


def _names_builtin(value_flags: set[str], name_flags: frozenset[str] | set[str] = frozenset()) -> Rule:
    """read/mapfile/unset/wait: assign to or remove the variables they name (a subscript is arithmetic)."""
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        p = parse_args(words[1:], value_flags | name_flags)
        for n in [*(w.text for w in p.positionals), *p.values(*name_flags)]:
            risk = _name_risk(n)
            if risk:
                return _unknown_arith(f"{prog(words[0])}: {risk}")
        return [Part(READ_ONLY, f"{prog(words[0])}: shell variables")]
    return rule


def _printf(words: list[Word], ctx: Ctx) -> list[Part]:
    if len(words) > 2 and words[1].text == "-v":
        risk = _name_risk(words[2].text)
        if risk:
            return _unknown_arith(f"printf -v: {risk}")
        return [Part(READ_ONLY, "printf -v: sets a shell variable")]
    return _echo(words, ctx)


def _echo(words: list[Word], ctx: Ctx) -> list[Part]:
    name = prog(words[0])
    leaked = sorted({v for w in words[1:] for v in w.vars if secret_var(v)})
    if leaked:
        return [Part(READ_ONLY, f"{name} prints ${', $'.join(leaked)}, which by its name holds a credential",
                     exposes=True)]
    return [Part(READ_ONLY, f"{name}: prints its arguments")]


def _alias(words: list[Word], ctx: Ctx) -> list[Part]:
    """alias name='…': the text runs whenever the name is typed later; classify it as a command."""
    parts: list[Part] = []
    for w in words[1:]:
        name, eq, value = w.text.partition("=")
        if eq and value.strip():
            parts.extend(Part(p.cls, f"alias {name} runs: {p.reason}", p.exposes, p.target) for p in ctx.line(value))
    return parts or [Part(READ_ONLY, "alias: lists aliases")]


def _paths(words: list[Word], value_flags: frozenset[str] | set[str] = frozenset()) -> list[str]:
    return [w.text for w in parse_args(words[1:], value_flags).positionals] + \
        [w.text for w in parse_args(words[1:], value_flags).after_dashdash]


def _rm(words: list[Word], ctx: Ctx) -> list[Part]:
    paths = _paths(words)
    recursive = any(re.fullmatch(r"-[a-zA-Z]*[rR][a-zA-Z]*", w.text) or w.text == "--recursive" for w in words[1:])
    what = ", ".join(paths) or "(no path)"
    return [Part(DESTRUCTIVE, f"rm {'-r ' if recursive else ''}deletes {what}",
                 target=paths[0] if len(paths) == 1 else None)]


def _destroy(reason: str) -> Rule:
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        paths = _paths(words)
        return [Part(DESTRUCTIVE, f"{prog(words[0])}: {reason}", target=paths[-1] if paths else None)]
    return rule


def _mutate(reason: str) -> Rule:
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        paths = _paths(words)
        return [Part(MUTATING, f"{prog(words[0])}: {reason}", target=paths[-1] if len(paths) == 1 else None)]
    return rule


def _chmod(words: list[Word], ctx: Ctx) -> list[Part]:
    name = prog(words[0])
    recursive = any(re.fullmatch(r"-[a-zA-Z]*R[a-zA-Z]*", w.text) or w.text == "--recursive" for w in words[1:])
    if recursive:
        return [Part(DESTRUCTIVE, f"{name} -R changes ownership or permissions of a whole tree (hard to undo)")]
    return [Part(MUTATING, f"{name}: changes file ownership or permissions")]


def _dd(words: list[Word], ctx: Ctx) -> list[Part]:
    out = next((w.text[3:] for w in words[1:] if w.text.startswith("of=")), None)
    return [Part(DESTRUCTIVE, f"dd writes raw blocks{' to ' + out if out else ''}", target=out)]


def _sed(words: list[Word], ctx: Ctx) -> list[Part]:
    args = [w.text for w in words[1:]]
    inplace = any(re.fullmatch(r"-[a-zA-Z]*i.*", a) and not a.startswith("--") for a in args) or \
        any(long_option(a, "--in-place", 1) for a in args)
    if inplace:
        return [Part(MUTATING, "sed -i edits files in place")]
    if any(a in ("-f",) or long_option(a, "--file", 1) or re.fullmatch(r"-[a-zA-Z]*f.*", a) and not
           a.startswith("--") for a in args):
        return [Part(UNKNOWN, "sed runs a script file the guard does not read")]
    scripts = long_value(args, "--expression", "-e", 1)
    if not scripts:
        p = parse_args(words[1:], {"-e", "-f", "-l", "--expression", "--file", "--line-length"})
        scripts = [w.text for w in p.positionals[:1]]
    sandbox = any(long_option(a, "--sandbox", 2) for a in args)
    found = [] if sandbox else [sed_script_part(x) for x in scripts]
    parts = [p for p in found if p is not None]
    return parts or _simple_ro(words, ctx)


def sed_script_part(script: str) -> Part | None:
    """What a sed script does beyond printing: the `e` command and `s///e` run shell commands, `w`/`W` and
    `s///w` write files. None when it only reads and prints; unknown when the script cannot be read."""
    i, n = 0, len(script)
    writes: list[str] = []

    def rest_of_line(j: int) -> tuple[str, int]:
        end = script.find("\n", j)
        end = n if end < 0 else end
        return script[j:end].strip(), end

    def delimited(j: int, d: str) -> int:
        while j < n and script[j] != d:
            j += 2 if script[j] == "\\" else 1
        if j >= n:
            raise ValueError("unterminated")
        return j + 1

    try:
        while i < n:
            c = script[i]
            if c in " \t\n;{}!":
                i += 1
                continue
            if c.isdigit() or c in "$,~+":
                i += 1
                continue
            if c == "/" or c == "\\":
                d = "/" if c == "/" else script[i + 1]
                i = delimited(i + (1 if c == "/" else 2), d)
                while i < n and script[i] in "IM":
                    i += 1
                continue
            if c == "#" or c in "aic" and script[i + 1:i + 2] != "":
                if c == "#":
                    i = rest_of_line(i)[1]
                    continue
                i = rest_of_line(i + 1)[1]
                continue
            if c in "s":
                d = script[i + 1]
                i = delimited(delimited(i + 2, d), d)
                j = i
                while j < n and (script[j].isalnum()):
                    if script[j] == "w":
                        name, j = rest_of_line(j + 1)
                        writes.append(name)
                        break
                    if script[j] == "e":
                        return Part(UNKNOWN, "sed s///e runs the pattern space as a shell command")
                    j += 1
                i = j
                continue
            if c == "y":
                d = script[i + 1]
                i = delimited(delimited(i + 2, d), d)
                continue
            if c == "e":
                return Part(UNKNOWN, "the sed e command runs a shell command")
            if c in "wW":
                name, i = rest_of_line(i + 1)
                writes.append(name)
                continue
            if c in "rRbtT:vlLqQ":
                i += 1
                while i < n and script[i] not in ";\n}":
                    i += 1
                continue
            if c in "pPdDnNgGhHxz=F":
                i += 1
                continue
            return Part(UNKNOWN, f"sed script command {c!r} is not one the guard reads")
    except (ValueError, IndexError):
        return Part(UNKNOWN, "sed script the guard cannot read")
    writes = [w for w in writes if w not in ("/dev/stdout", "/dev/stderr")]
    if writes:
        return Part(MUTATING, f"the sed w command writes the local file {writes[0]}", target=writes[0])
    return None


def _yq(words: list[Word], ctx: Ctx) -> list[Part]:
    if any(w.text in ("-i", "--inplace") or re.fullmatch(r"-[a-zA-Z]*i[a-zA-Z]*", w.text) for w in words[1:]):
        return [Part(MUTATING, "yq -i edits files in place")]
    return _simple_ro(words, ctx)


def _awk(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-F", "-v", "-f", "--field-separator", "--assign", "--file", "-e", "--source", "-E", "--exec", "-i",
             "--include", "-l", "--load"}
    i = skip_options(words, 1, value)
    opts = parse_args(words[1:i], value)
    if opts.has("-f", "--file", "-E", "--exec", "-i", "--include", "-l", "--load"):
        return [Part(UNKNOWN, "awk runs a program file or loads an extension the guard does not read")]
    sources = opts.values("-e", "--source")
    prog_text = "\n".join(sources) if sources else (words[i].text if i < len(words) else "")
    if re.search(r"\bsystem\s*\(|\|\s*getline|print[f]?\b[^;}]*(>|\|)|@load\b", prog_text):
        return [Part(UNKNOWN, "the awk program runs commands, writes files or loads an extension")]
    if re.search(r"\bENVIRON\b|\bPROCINFO\b", prog_text):
        return [Part(READ_ONLY, "the awk program reads ENVIRON, the environment (API keys, passwords)",
                     exposes=True)]
    return _simple_ro(words, ctx)


def _sort_runs(words: list[Word]) -> str | None:
    if any(long_option(w.text, "--compress-program", 1) for w in words[1:]):
        return "sort --compress-program runs a program the guard does not know"
    return None


def _sort(words: list[Word], ctx: Ctx) -> list[Part]:
    args = [w.text for w in words[1:]]
    p = parse_args(words[1:], {"-o", "--output", "-k", "-t", "-S", "-T", "--key", "--field-separator",
                               "--buffer-size", "--temporary-directory", "--parallel"})
    outs = long_value(args, "--output", None, 1) + [v for v in p.values("-o")]
    out = outs[-1] if outs else None
    if out:
        return [Part(MUTATING, f"sort -o overwrites the local file {out}", target=out)]
    return _simple_ro(words, ctx)


def _uniq(words: list[Word], ctx: Ctx) -> list[Part]:
    pos = parse_args(words[1:], {"-f", "-s", "-w"}).positionals
    if len(pos) >= 2:
        return [Part(MUTATING, f"uniq writes its output to the local file {pos[1].text}", target=pos[1].text)]
    return _simple_ro(words, ctx)


def _tee(words: list[Word], ctx: Ctx) -> list[Part]:
    files = [f for f in _paths(words) if f not in ("/dev/null", "/dev/stdout", "/dev/stderr", "-")]
    if files:
        append = any(w.text == "-a" or long_option(w.text, "--append", 1) or re.fullmatch(r"-[a-zA-Z]*a[a-zA-Z]*",
                                                                                          w.text) for w in words[1:])
        if append:
            return [Part(MUTATING, f"tee appends to {', '.join(files)}", target=files[0] if len(files) == 1 else None)]
        return [Part(DESTRUCTIVE, f"tee overwrites {', '.join(files)} (the previous content is lost, as with `>`)",
                     target=files[0] if len(files) == 1 else None)]
    return [Part(READ_ONLY, "tee: copies its input to standard output")]


_CURL_VALUE = {"-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii", "-F", "--form",
               "--form-string", "-T", "--upload-file", "-X", "--request", "-o", "--output", "-H", "--header",
               "-u", "--user", "-A", "--user-agent", "-e", "--referer", "-b", "--cookie", "-c", "--cookie-jar",
               "-D", "--dump-header", "-K", "--config", "-m", "--max-time", "--connect-timeout", "-w",
               "--write-out", "--json", "-x", "--proxy", "--cacert", "--cert", "--key", "--resolve", "-r",
               "--range", "--retry", "--retry-delay", "--retry-max-time", "-E", "-Y", "-y", "-z", "--url",
               "--output-dir", "-C", "--continue-at", "--limit-rate", "--interface", "--unix-socket",
               "--variable", "--url-query", "--expand-url", "--oauth2-bearer", "--aws-sigv4", "--proto", "--max-filesize",
               "-Q", "--quote", "--trace", "--trace-ascii", "--stderr", "--ciphers", "--capath", "--pass",
               "--key-type", "--cert-type", "--noproxy", "--proxy-user", "-U", "--connect-to", "--happy-eyeballs-timeout-ms",
               "--libcurl", "--etag-save", "--etag-compare", "--hsts", "--alt-svc", "--engine"}


# HTTP endpoints whose write (POST/PUT) deletes data or stops the service: Prometheus/Thanos/Mimir TSDB admin,
# Prometheus and Alertmanager /-/quit, Loki deletion, Elasticsearch delete-by-query, Vault seal, Spring
# actuator shutdown, and path segments that say so.
_ADMIN_DESTROY = re.compile(
    r"/admin/tsdb/(delete_series|clean_tombstones)|/-/quit\b|/loki/api/v1/delete\b|/_delete_by_query\b|"
    r"/sys/seal\b|/actuator/shutdown\b|/(delete|drop|purge|wipe|truncate|shutdown|destroy|flush(all)?)(?=[/?_&#]|$)",
    re.IGNORECASE)


def admin_destroys(url: str) -> bool:
    """Does a write to this URL delete data or stop the service? Only the path is read, not the host name."""
    _, slash, path = url.split("://", 1)[-1].partition("/")
    return bool(slash) and bool(_ADMIN_DESTROY.search("/" + path))


def _curl(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], _CURL_VALUE)
    method = (p.value("-X", "--request") or "").upper()
    parts: list[Part] = []
    if p.has("-K", "--config"):
        return [Part(UNKNOWN, "curl reads its options from a config file the guard does not read")]
    for flag in ("-H", "--header", "--url-query", "--variable"):
        for v in p.values(flag):
            reads = v.startswith("@") or (flag in ("--url-query", "--variable") and re.match(r"[^=@]*@", v))
            if reads:  # `-H @/proc/self/environ`, `--url-query x@file`: a local file's content goes out
                url = p.value("--url") or next((w.text for w in p.positionals), "")
                return [Part(UNKNOWN, f"curl {flag} {v} sends a local file's content to {url or 'the server'}")]
    url = p.value("--url") or next((w.text for w in p.positionals), "")
    sends = p.has("-d", "--data", "--data-raw", "--data-binary", "--data-urlencode", "--data-ascii", "-F", "--form",
                  "--form-string", "-T", "--upload-file", "--json")
    if method == "DELETE":
        parts.append(Part(DESTRUCTIVE, f"curl sends an HTTP DELETE to {url}", target=url or None))
    elif (method not in ("", "GET", "HEAD", "OPTIONS") or sends) and admin_destroys(url):
        parts.append(Part(DESTRUCTIVE, f"curl calls an admin API that deletes data or stops the service: {url}",
                          target=url or None))
    elif method and method not in ("GET", "HEAD", "OPTIONS"):
        parts.append(Part(MUTATING, f"curl sends an HTTP {method} to {url}", target=url or None))
    elif sends:
        parts.append(Part(MUTATING, f"curl sends data (POST/PUT) to {url}", target=url or None))
    if p.has("--engine"):
        parts.append(Part(UNKNOWN, "curl --engine loads a crypto engine (code) the guard does not inspect"))
    for flag in ("-o", "--output", "-D", "--dump-header", "-c", "--cookie-jar", "--trace", "--trace-ascii",
                 "--stderr", "--libcurl", "--etag-save", "--hsts", "--alt-svc", "--output-dir"):
        for v in p.values(flag):
            if v not in ("-", "/dev/null", "/dev/stdout", "/dev/stderr", "%"):
                parts.append(Part(MUTATING, f"curl writes the local file {v}", target=v))
    if p.has("-O", "--remote-name", "--remote-name-all", "-J", "--remote-header-name"):
        parts.append(Part(MUTATING, "curl saves the download as a local file"))
    if not parts:
        parts.append(Part(READ_ONLY, f"curl: HTTP GET{' of ' + url if url else ''} to standard output"))
    return parts


def _wget_runs(words: list[Word]) -> str | None:
    args = [w.text for w in words[1:]]
    if any(long_option(a, "--use-askpass", 5) for a in args):
        return "wget --use-askpass runs a program to ask for the password"
    if any(a in ("-e", "-i") or re.fullmatch(r"-[a-zA-Z]*[ei].*", a) and not a.startswith("--") or
           long_option(a, "--execute", 3) or long_option(a, "--config", 4) or long_option(a, "--input-file", 3)
           for a in args):
        return "wget runs settings or reads URLs from a place the guard does not read"
    return None


def _wget(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-O", "--output-document", "-o", "--output-file", "-a", "--append-output", "-P", "--directory-prefix",
             "-t", "--tries", "-T", "--timeout", "-U", "--user-agent", "--header", "--post-data", "--post-file",
             "--method", "--body-data", "--body-file", "-e", "--execute", "-i", "--input-file", "-w", "--wait",
             "-Q", "--quota", "-l", "--level", "-A", "-R", "-D", "-I", "-X", "--user", "--password"}
    p = parse_args(words[1:], value)
    method = (p.value("--method") or "GET").upper()
    url = next((w.text for w in p.positionals), "")
    if method == "DELETE" or ((p.has("--post-data", "--post-file", "--body-data", "--body-file") or
                               method not in ("GET", "HEAD")) and admin_destroys(url)):
        return [Part(DESTRUCTIVE, f"wget calls an API that deletes data or stops the service: {url}",
                     target=url or None)]
    if p.has("--post-data", "--post-file", "--body-data", "--body-file") or method not in ("GET", "HEAD"):
        return [Part(MUTATING, "wget sends data to the server")]
    args = [w.text for w in words[1:]]
    logs = p.values("-o", "-a") + [v for full in ("--output-file", "--append-output", "--save-cookies", "--warc-file",
                                                  "--rejected-log", "--hsts-file") for v in long_value(args, full, None, 4)]
    logs = [x for x in logs if x not in ("-", "/dev/null", "/dev/stdout", "/dev/stderr")]
    if logs:
        return [Part(MUTATING, f"wget writes the local file {logs[0]}", target=logs[0])]
    if p.has("--spider"):
        return [Part(READ_ONLY, "wget --spider: checks that a URL exists")]
    out = p.value("-O", "--output-document")
    if out in ("-", "/dev/stdout", "/dev/null"):
        return [Part(READ_ONLY, "wget: download to standard output")]
    return [Part(MUTATING, f"wget saves the download to {'the local file ' + out if out else 'a local file'}",
                 target=out)]


def _find(words: list[Word], ctx: Ctx) -> list[Part]:
    parts: list[Part] = []
    args = words[1:]
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "-delete":
            parts.append(Part(DESTRUCTIVE, "find -delete removes every file it matches"))
        elif t in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j].text not in (";", "+"):
                j += 1
            inner = [w for w in args[i + 1:j] if w.text != "{}"] or args[i + 1:j]
            if inner:
                parts.extend(ctx.argv(inner))
            i = j
        elif t in ("-fprint", "-fprint0", "-fprintf", "-fls"):
            parts.append(Part(MUTATING, f"find {t} writes a local file"))
        i += 1
    return parts or [Part(READ_ONLY, "find: lists matching files")]


def _date(words: list[Word], ctx: Ctx) -> list[Part]:
    if any(w.text in ("-s", "--set") or w.text.startswith("--set=") for w in words[1:]):
        return [Part(MUTATING, "date -s sets the system clock")]
    return [Part(READ_ONLY, "date: prints the time")]


def _hostname(words: list[Word], ctx: Ctx) -> list[Part]:
    if parse_args(words[1:], {"-F", "--file"}).positionals:
        return [Part(MUTATING, "hostname NAME renames this machine")]
    return [Part(READ_ONLY, "hostname: prints the host name")]


_TAR_RUNS = (("--checkpoint-action", 11), ("--use-compress-program", 3), ("--to-command", 4), ("--info-script", 3),
             ("--new-volume-script", 4), ("--rsh-command", 3), ("--rmt-command", 3))


def _tar_runs(words: list[Word]) -> str | None:
    args = [w.text for w in words[1:]]
    for a in args:
        for full, shortest in _TAR_RUNS:
            if long_option(a, full, shortest):
                return f"tar {full} runs a program the guard does not inspect"
    first_old = args[0] if args and not args[0].startswith("-") else ""
    if any(re.fullmatch(r"-[a-zA-Z]*[IF][a-zA-Z]*", a) for a in args) or re.search(r"[IF]", first_old):
        return "tar -I/-F runs a compression program or volume script the guard does not inspect"
    archives = long_value(args, "--file", "-f", 3) + [a for a in args if not a.startswith("-")]
    if any(re.match(r"[^/=]+:", a) for a in archives) and not any(long_option(a, "--force-local", 3) for a in args):
        return "tar -f HOST:FILE runs a remote shell to reach the archive"
    return None


def _tar(words: list[Word], ctx: Ctx) -> list[Part]:
    first = words[1].text if len(words) > 1 else ""
    flags = first.lstrip("-") if first and not first.startswith("--") else ""
    if "t" in flags or any(w.text == "--list" for w in words[1:]):
        return [Part(READ_ONLY, "tar -t: lists an archive")]
    if "x" in flags or any(w.text in ("--extract", "--get") for w in words[1:]):
        return [Part(MUTATING, "tar -x extracts files (overwriting existing ones)")]
    return [Part(MUTATING, "tar writes an archive")]


def _gzip(words: list[Word], ctx: Ctx) -> list[Part]:
    if any(re.fullmatch(r"-[a-zA-Z]*[clt][a-zA-Z]*", w.text) or w.text in ("--stdout", "--to-stdout", "--list",
                                                                            "--test") for w in words[1:]):
        return [Part(READ_ONLY, f"{prog(words[0])} to standard output")]
    if len(words) == 1:
        return [Part(READ_ONLY, f"{prog(words[0])}: filters standard input")]
    return [Part(MUTATING, f"{prog(words[0])} replaces files with their (de)compressed version")]


_OPENSSL_WRITES = {"-out", "-keyout", "-certout", "-writerand", "-reqout", "-signature", "-sess_out", "-msgfile",
                   "-keylogfile", "-CAserial"}
_OPENSSL_LOADS = {"-engine", "-provider", "-provider-path", "-config", "-keygen_engine", "-ssl_client_engine"}


def _openssl_loads(words: list[Word]) -> str | None:
    loads = [w.text for w in words[2:] if w.text in _OPENSSL_LOADS]
    return f"openssl {loads[0]} loads code or configuration the guard does not inspect" if loads else None


def _openssl(words: list[Word], ctx: Ctx) -> list[Part]:
    sub = words[1].text if len(words) > 1 else ""
    opts = [w.text for w in words[2:]]
    writes = [opts[i + 1] for i, o in enumerate(opts[:-1]) if o in _OPENSSL_WRITES and opts[i + 1] not in ("-",
                                                                                                        "/dev/stdout")]
    if writes:
        return [Part(MUTATING, f"openssl {sub} writes the local file {writes[0]}", target=writes[0])]
    if sub in ("x509", "s_client", "version", "verify", "crl", "asn1parse", "ciphers", "req", "sess_id", "dgst",
               "base64", "enc", "list", "help", "errstr"):
        if any(w.text in ("-out",) for w in words[2:]):
            return [Part(MUTATING, f"openssl {sub} -out writes a local file")]
        if sub in ("enc",):
            return [Part(READ_ONLY, "openssl enc: transforms data to standard output")]
        return [Part(READ_ONLY, f"openssl {sub}: inspects certificates or connections")]
    if sub in ("rsa", "ec", "pkey", "pkcs12") and not any(w.text == "-out" for w in words[2:]):
        return [Part(READ_ONLY, f"openssl {sub} prints a private key", exposes=True)]
    return [Part(UNKNOWN, f"openssl {sub}: not a subcommand the guard knows")]


def _ip(words: list[Word], ctx: Ctx) -> list[Part]:
    args = [w.text for w in words[1:] if not w.text.startswith("-")]
    if len(args) <= 1 or args[1] in ("show", "list", "ls", "get", "lst", "sh"):
        return [Part(READ_ONLY, "ip: shows network configuration")]
    if args[1] in ("del", "delete", "flush"):
        return [Part(DESTRUCTIVE, f"ip {args[0]} {args[1]} removes network configuration")]
    if args[0] in ("link", "l") and "down" in args[2:]:
        return [Part(DESTRUCTIVE, "ip link set … down takes a network interface down (an outage for what uses it)")]
    return [Part(MUTATING, f"ip {args[0]} {args[1]} changes network configuration")]


def _kill(words: list[Word], ctx: Ctx) -> list[Part]:
    args = [w.text for w in words[1:]]
    if any(a in ("-l", "-L", "--list") for a in args):
        return [Part(READ_ONLY, "kill -l: lists signals")]
    sig = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-s", "--signal", "-n")), "")
    if any(re.fullmatch(r"-(9|KILL|SIGKILL)", a, re.IGNORECASE) for a in args) or sig.upper() in ("9", "KILL",
                                                                                                   "SIGKILL"):
        return [Part(DESTRUCTIVE, f"{prog(words[0])} -9 kills processes without letting them shut down (unwritten "
                                  "data is lost)")]
    targets = args[args.index("--") + 1:] if "--" in args else []
    if prog(words[0]) == "kill" and "-1" in targets:
        return [Part(DESTRUCTIVE, "kill -- -1 signals every process the user can reach")]
    return [Part(MUTATING, f"{prog(words[0])}: sends signals to processes (may stop them)")]


def _crontab(words: list[Word], ctx: Ctx) -> list[Part]:
    flags = {w.text for w in words[1:]}
    if "-r" in flags:
        return [Part(DESTRUCTIVE, "crontab -r removes the whole crontab")]
    if flags & {"-l"}:
        return [Part(READ_ONLY, "crontab -l: lists the crontab")]
    return [Part(MUTATING, "crontab: replaces or edits the crontab", interactive="-e" in flags)]


def _systemctl(words: list[Word], ctx: Ctx) -> list[Part]:
    sub = next((w.text for w in words[1:] if not w.text.startswith("-")), "list-units")
    if sub in ("status", "show", "is-active", "is-enabled", "is-failed", "cat", "list-units", "list-unit-files",
               "list-timers", "list-sockets", "list-dependencies", "list-jobs", "help", "get-default"):
        return [Part(READ_ONLY, f"systemctl {sub}: shows service state")]
    if sub in ("reboot", "poweroff", "halt", "kexec", "emergency", "rescue", "isolate"):
        return [Part(DESTRUCTIVE, f"systemctl {sub} takes the whole machine down")]
    if sub in ("stop", "kill", "mask") or (sub == "disable" and any(w.text == "--now" for w in words[1:])):
        units = [w.text for w in words[1:] if not w.text.startswith("-") and w.text != sub]
        return [Part(DESTRUCTIVE, f"systemctl {sub} takes {', '.join(units) or 'the service'} down (an outage for "
                                  "what depends on it)", target=units[0] if len(units) == 1 else None)]
    return [Part(MUTATING, f"systemctl {sub} changes a service")]


def _journalctl(words: list[Word], ctx: Ctx) -> list[Part]:
    if any(w.text.startswith(("--vacuum", "--flush", "--rotate", "--sync", "--relinquish")) for w in words[1:]):
        return [Part(DESTRUCTIVE, "journalctl --vacuum/--rotate removes or rewrites journal files")]
    return [Part(READ_ONLY, "journalctl: reads the system journal")]


def _power(words: list[Word], ctx: Ctx) -> list[Part]:
    return [Part(DESTRUCTIVE, f"{prog(words[0])} takes the whole machine down")]


_GIT_GLOBAL_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--exec-path",
                     "--super-prefix", "--list-cmds", "--attr-source"}
# options that make git run a program named on the command line
_GIT_RUNS = (("--upload-pack", 3), ("--receive-pack", 3), ("--exec", 4), ("--open-files-in-pager", 3),
             ("--extcmd", 3), ("--tool", 4), ("--config-env", 3))


def _git_runs(words: list[Word]) -> str | None:
    i = skip_options(words, 1, _GIT_GLOBAL_VALUE)
    glob = [w.text for w in words[1:i]]
    if any(g == "-c" or g.startswith("-c") and not g.startswith("--") or long_option(g, "--config-env", 3)
           for g in glob):
        return "git -c sets configuration for this run; keys such as core.fsmonitor, core.pager, diff.external " \
               "or alias.* run programs"
    if any(long_option(g, "--exec-path", 3) and "=" in g for g in glob):
        return "git --exec-path=DIR runs git's subcommands from another directory"
    sub = words[i].text if i < len(words) else ""
    for a in (w.text for w in words[i + 1:]):
        if a == "--":
            break
        for full, shortest in _GIT_RUNS:
            if long_option(a, full, shortest) or (sub == "grep" and re.fullmatch(r"-[a-zA-Z]*O.*", a)) or \
                    (sub in ("ls-remote", "fetch", "pull", "clone") and a == "-u"):
                return f"git {sub} {a} runs a program named on the command line"
    return None


def _git(words: list[Word], ctx: Ctx) -> list[Part]:
    i = skip_options(words, 1, _GIT_GLOBAL_VALUE)
    sub = words[i].text if i < len(words) else ""
    args = [w.text for w in words[i + 1:]]
    rest = set(args)
    if sub in ("diff", "log", "show", "format-patch", "whatchanged", "range-diff", "diff-tree", "diff-files",
               "diff-index", "shortlog", "blame"):
        outs = [a for a in args if re.fullmatch(r"--output(=.*)?", a) or (a.startswith("--outp") and
                                                                           "indicator" not in a)]
        if outs or "-o" in rest and sub == "format-patch":
            return [Part(MUTATING, f"git {sub} --output writes a local file")]
    if sub == "submodule" and "foreach" in args:
        inner = args[args.index("foreach") + 1:]
        inner = [x for x in inner if x not in ("--recursive", "-q", "--quiet")]
        return [Part(MUTATING, "git submodule foreach runs a command in every submodule")] + \
            (ctx.line(" ".join(inner)) if inner else [])
    if sub == "reflog" and args[:1] in (["expire"], ["delete"]):
        return [Part(DESTRUCTIVE, f"git reflog {args[0]} removes reflog entries (the last way back to lost "
                                  "commits)")]
    if sub in ("gc", "prune") and (sub == "prune" or any(a.startswith("--prune") for a in args)):
        return [Part(DESTRUCTIVE, f"git {sub} removes unreachable objects for good")]
    if sub in ("filter-branch", "filter-repo") or (sub == "update-ref" and rest & {"-d", "--delete"}):
        return [Part(DESTRUCTIVE, f"git {sub} rewrites or deletes refs")]
    if sub in ("status", "log", "diff", "show", "rev-parse", "describe", "ls-files", "ls-tree", "blame", "grep",
               "shortlog", "reflog", "cat-file", "ls-remote", "whatchanged", "version", "help", "", "remote"):
        if sub == "remote" and rest & {"add", "remove", "rm", "set-url", "rename", "prune"}:
            return [Part(MUTATING, "git remote: changes remotes")]
        return [Part(READ_ONLY, f"git {sub}: reads the repository")]
    if sub == "branch" and not rest - {"-a", "-r", "--list", "-v", "-vv", "--all", "--remotes", "--show-current"}:
        return [Part(READ_ONLY, "git branch: lists branches")]
    if sub == "config" and rest & {"--get", "--list", "-l", "--get-all", "--get-regexp"}:
        return [Part(READ_ONLY, "git config: reads configuration")]
    opts = [a for a in args if a.startswith("-")]
    refspecs = [a for a in args if not a.startswith("-")][1:]

    def has(full: str, shortest: int, *short: str) -> bool:
        return any(long_option(a, full, shortest) for a in opts) or bool(rest & set(short))

    force_push = sub == "push" and (has("--force", 3, "-f") or has("--force-with-lease", 7) or has("--delete", 2, "-d")
                                    or has("--mirror", 2) or has("--prune", 3)
                                    or any(r.startswith(("+", ":")) for r in refspecs))
    if (sub == "reset" and has("--hard", 2)) or (sub == "clean" and any(r.startswith("-") and "f" in r for r in rest)) \
            or force_push or (sub == "branch" and rest & {"-D", "-d", "--delete"}) \
            or (sub == "checkout" and ("--" in rest or "." in rest or has("--force", 3, "-f"))) \
            or (sub == "switch" and has("--discard-changes", 3, "-f") or sub == "switch" and has("--force", 3)) \
            or sub == "restore" or (sub == "stash" and rest & {"drop", "clear"}):
        return [Part(DESTRUCTIVE, f"git {sub}: discards commits or uncommitted work")]
    return [Part(MUTATING, f"git {sub}: changes the repository or a remote")]


def _container_cli(words: list[Word], ctx: Ctx) -> list[Part]:
    name = prog(words[0])
    i = skip_options(words, 1, {"-H", "--host", "--context", "-c", "--config", "--log-level", "-r", "--runtime-endpoint",
                                "-i", "--image-endpoint", "-t", "--timeout", "-n", "--namespace", "-a", "--address"})
    sub = words[i].text if i < len(words) else ""
    sub2 = words[i + 1].text if i + 1 < len(words) else ""
    if sub in ("ps", "pods", "images", "image", "img", "logs", "inspect", "inspecti", "inspectp", "version", "info",
               "stats", "statsp", "top", "port", "history", "diff", "events", "search", "imagefsinfo", "config") and \
            sub2 not in ("rm", "prune", "remove", "delete"):
        return [Part(READ_ONLY, f"{name} {sub}: reads container state")]
    if sub in ("rm", "rmi", "rmp", "prune", "kill", "rmc") or sub2 in ("rm", "prune", "remove", "delete") or \
            (sub == "system" and sub2 == "prune"):
        return [Part(DESTRUCTIVE, f"{name} {sub} {sub2}".strip() + ": removes containers, images or volumes")]
    if sub in ("run", "create") or (sub == "container" and sub2 in ("run", "create")):
        return _container_run(name, words, i + (2 if sub == "container" else 1), ctx)
    if sub == "exec":
        inner_start = skip_options(words, i + 1, {"-e", "--env", "-u", "--user", "-w", "--workdir", "--env-file"})
        inner = words[inner_start + 1:]
        return [Part(MUTATING, f"{name} exec runs a command in a container")] + (
            ctx.argv(inner, in_container=True) if inner else [])
    return [Part(MUTATING, f"{name} {sub}: changes containers or images")]


def _package_manager(words: list[Word], ctx: Ctx) -> list[Part]:
    sub = next((w.text for w in words[1:] if not w.text.startswith("-")), "")
    if sub in ("list", "show", "search", "info", "policy", "freeze", "view", "outdated", "ls", "--version", ""):
        return [Part(READ_ONLY, f"{prog(words[0])} {sub}: reads package information")]
    if sub in ("remove", "purge", "uninstall", "autoremove", "erase"):
        return [Part(DESTRUCTIVE, f"{prog(words[0])} {sub} removes packages")]
    return [Part(MUTATING, f"{prog(words[0])} {sub}: installs or changes packages")]


def _iptables(words: list[Word], ctx: Ctx) -> list[Part]:
    flags = {w.text for w in words[1:]}
    if flags & {"-F", "--flush", "-X", "--delete-chain", "-D", "--delete", "-Z"}:
        return [Part(DESTRUCTIVE, f"{prog(words[0])}: deletes firewall rules")]
    if flags & {"-L", "--list", "-S", "--list-rules", "-C", "--check"} and not flags & {"-A", "-I", "-R", "-P", "-N"}:
        return [Part(READ_ONLY, f"{prog(words[0])}: lists firewall rules")]
    return [Part(MUTATING, f"{prog(words[0])}: changes firewall rules")]


def _mount(words: list[Word], ctx: Ctx) -> list[Part]:
    if len(words) == 1 or all(w.text in ("-l", "--show-labels") for w in words[1:]):
        return [Part(READ_ONLY, "mount: lists mounts")]
    return [Part(MUTATING, f"{prog(words[0])}: changes mounts")]


def _no_arg_ro(reason_ro: str, reason_mut: str) -> Rule:
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        if len(words) == 1:
            return [Part(READ_ONLY, reason_ro)]
        return [Part(MUTATING, reason_mut)]
    return rule


def _xxd(words: list[Word], ctx: Ctx) -> list[Part]:
    """xxd [options] [infile [outfile]]: a second file is written (with -r, as binary)."""
    p = parse_args(words[1:], {"-c", "-cols", "-g", "-groupsize", "-l", "-len", "-s", "-seek", "-o", "-n", "-name"},
                   short_clusters=False)
    files = [w.text for w in p.positionals] + [w.text for w in p.after_dashdash]
    if len(files) >= 2 and files[1] not in ("-", "/dev/stdout"):
        return [Part(MUTATING, f"xxd writes the local file {files[1]}", target=files[1])]
    return _simple_ro(words, ctx)


def _iconv(words: list[Word], ctx: Ctx) -> list[Part]:
    out = long_value([w.text for w in words[1:]], "--output", "-o", 1)
    if out and out[-1] not in ("-", "/dev/stdout"):
        return [Part(MUTATING, f"iconv -o writes the local file {out[-1]}", target=out[-1])]
    return _simple_ro(words, ctx)


def _ps(words: list[Word], ctx: Ctx) -> list[Part]:
    """BSD-style `e` (`ps e`, `ps auxeww`) adds every process's environment to the listing."""
    bsd = [w.text for w in words[1:] if re.fullmatch(r"[a-zA-Z]+", w.text)]
    if any("e" in b for b in bsd):
        return [Part(READ_ONLY, "ps with the e option prints every process's environment (API keys, passwords)",
                     exposes=True)]
    return _simple_ro(words, ctx)


_JQ_ENV = re.compile(r"(?<![.\w$])env\b|\$ENV\b|\$__prog_args\b|\b(?:str)?env\s*\(")


def _jq(words: list[Word], ctx: Ctx) -> list[Part]:
    """jq/yq programs that read the environment (`env`, `$ENV`, yq's `strenv()`) print it."""
    p = parse_args(words[1:], {"-f", "--from-file", "--arg", "--argjson", "--slurpfile", "--rawfile", "--indent",
                               "-L", "--args", "--jsonargs", "--tab", "-o", "--output-format", "-p", "--input-format",
                               "--expression", "-e"})
    program = next((w.text for w in p.positionals), "") + " " + " ".join(p.values("--expression"))
    base = _yq(words, ctx) if prog(words[0]) == "yq" else _simple_ro(words, ctx)
    if _JQ_ENV.search(program):
        return base + [Part(READ_ONLY, f"{prog(words[0])} {program.strip()}: prints environment variables (API keys, "
                                       "passwords)", exposes=True)]
    return base


_RUN_VALUE = {"-a", "--attach", "--add-host", "--annotation", "--blkio-weight", "--cap-add", "--cap-drop",
              "--cgroup-parent", "--cgroupns", "--cidfile", "--cpu-period", "--cpu-quota", "--cpu-shares", "-c",
              "--cpus", "--cpuset-cpus", "--cpuset-mems", "--device", "--device-cgroup-rule", "--dns", "--dns-option",
              "--dns-search", "--domainname", "--entrypoint", "-e", "--env", "--env-file", "--expose", "--gpus",
              "--group-add", "--health-cmd", "--health-interval", "--health-retries", "--health-start-period",
              "--health-timeout", "-h", "--hostname", "--ip", "--ip6", "--ipc", "--isolation", "--kernel-memory",
              "-l", "--label", "--label-file", "--link", "--log-driver", "--log-opt", "--mac-address", "-m",
              "--memory", "--memory-reservation", "--memory-swap", "--mount", "--name", "--network", "--net",
              "--network-alias", "--oom-score-adj", "--pid", "--pids-limit", "--platform", "-p", "--publish",
              "--pull", "--restart", "--runtime", "--security-opt", "--shm-size", "--stop-signal", "--stop-timeout",
              "--storage-opt", "--sysctl", "--tmpfs", "-u", "--user", "--userns", "--uts", "-v", "--volume",
              "--volume-driver", "--volumes-from", "-w", "--workdir", "--ulimit", "--arch", "--os", "--variant"}


def _container_run(name: str, words: list[Word], start: int, ctx: Ctx) -> list[Part]:
    """docker/podman run|create IMAGE [CMD…]: the command runs in a new container, and the mounts (`-v /:/h`)
    decide what it can reach, so it is classified like a command in a pod."""
    i = skip_options(words, start, _RUN_VALUE)
    opts = parse_args(words[start:i], _RUN_VALUE)
    parts = [Part(MUTATING, f"{name} run starts a container" + (" with host access (--privileged, host mounts)"
                                                                 if opts.has("--privileged") or any(
                                                                     v.startswith("/:") for v in opts.values(
                                                                         "-v", "--volume")) else ""))]
    entry = opts.value("--entrypoint")
    inner = list(words[i + 1:])
    if entry:
        from sre_expert.safety.shell import Word
        inner = [Word(entry, entry), *inner]
    if inner:
        parts += [Part(p.cls, f"in the container: {p.reason}", p.exposes, p.target, p.interactive)
                  for p in ctx.argv(inner, in_container=True) if p.cls != READ_ONLY or p.exposes]
    return parts


def _editor(words: list[Word], ctx: Ctx) -> list[Part]:
    files = _paths(words)
    return [Part(MUTATING, f"{prog(words[0])}: edits {', '.join(files) or 'a file'}",
                 target=files[0] if len(files) == 1 else None, interactive=True)]


RULES: dict[str, Rule] = {
    **{n: _simple_ro for n in _RO},
    "echo": _echo, "printf": _printf, "print": _echo, "alias": _alias,
    "let": _let, "[[": _double_bracket, "test": _test, "[": _test, "set": _set,
    **{n: _declare for n in ("declare", "typeset", "local", "export", "readonly")},
    "read": _names_builtin({"-a", "-d", "-i", "-n", "-N", "-p", "-t", "-u"}, {"-a"}),
    "mapfile": _names_builtin({"-d", "-n", "-O", "-s", "-u", "-C", "-c"}),
    "readarray": _names_builtin({"-d", "-n", "-O", "-s", "-u", "-C", "-c"}),
    "unset": _names_builtin(set()), "wait": _names_builtin(set(), {"-p"}),
    "rm": _rm, "unlink": _destroy("deletes a file"), "shred": _destroy("overwrites files to make them unrecoverable"),
    "truncate": _destroy("cuts files to a size, discarding their content"), "dd": _dd,
    "mkfs": _destroy("formats a device (erases it)"), "mke2fs": _destroy("formats a device (erases it)"),
    **{f"mkfs.{fs}": _destroy("formats a device (erases it)") for fs in ("ext2", "ext3", "ext4", "xfs", "btrfs", "vfat",
                                                                          "fat", "ntfs")},
    "wipefs": _destroy("erases filesystem signatures"), "fdisk": _destroy("rewrites a partition table"),
    "sfdisk": _destroy("rewrites a partition table"), "parted": _destroy("rewrites a partition table"),
    "sgdisk": _destroy("rewrites a partition table"), "mv": _destroy("moves files, replacing any file at the target"),
    "userdel": _destroy("deletes a user account"), "groupdel": _destroy("deletes a group"),
    "rmdir": _mutate("removes empty directories"), "cp": _mutate("copies files (overwriting the target)"),
    "ln": _mutate("creates links"), "mkdir": _mutate("creates directories"), "touch": _mutate("creates or touches files"),
    "install": _mutate("installs files"), "rsync": lambda w, c: (
        [Part(DESTRUCTIVE, "rsync --delete removes files missing from the source")]
        if any(x.text.startswith("--delete") for x in w[1:]) else [Part(MUTATING, "rsync copies files")]),
    "scp": _mutate("copies files to or from another host"), "patch": _mutate("edits files"),
    "chmod": _chmod, "chown": _chmod, "chgrp": _chmod, "useradd": _mutate("creates a user account"),
    "xxd": _xxd, "iconv": _iconv, "ps": _ps, "jq": _jq, "gojq": _jq, "jaq": _jq,
    "sed": _sed, "yq": _jq, "awk": _awk, "gawk": _awk, "mawk": _awk,
    "sort": with_unknown(_sort_runs, _sort), "uniq": _uniq, "tee": _tee,
    "curl": _curl, "wget": with_unknown(_wget_runs, _wget), "find": _find, "date": _date, "hostname": _hostname,
    "tar": with_unknown(_tar_runs, _tar),
    "gzip": _gzip, "gunzip": _gzip, "bzip2": _gzip, "xz": _gzip, "unxz": _gzip, "zip": _mutate("writes an archive"),
    "unzip": lambda w, c: ([Part(READ_ONLY, "unzip -l: lists an archive")] if any(x.text in ("-l", "-v", "-t", "-p")
                                                                                   for x in w[1:])
                           else [Part(MUTATING, "unzip extracts files (overwriting existing ones)")]),
    "openssl": with_unknown(_openssl_loads, _openssl), "ip": _ip, "kill": _kill, "pkill": _kill, "killall": _kill,
    "crontab": _crontab,
    "systemctl": _systemctl, "service": lambda w, c: (
        [Part(READ_ONLY, "service status")] if any(x.text == "status" for x in w[1:])
        else [Part(MUTATING, "service: starts, stops or restarts a service")]),
    "journalctl": _journalctl, "shutdown": _power, "reboot": _power, "poweroff": _power, "halt": _power,
    "git": with_unknown(_git_runs, _git), "docker": _container_cli, "podman": _container_cli, "nerdctl": _container_cli,
    "crictl": _container_cli, "ctr": _container_cli,
    "apt": _package_manager, "apt-get": _package_manager, "yum": _package_manager, "dnf": _package_manager,
    "apk": _package_manager, "pip": _package_manager, "pip3": _package_manager, "npm": _package_manager,
    "brew": _package_manager,
    "iptables": _iptables, "ip6tables": _iptables, "mount": _mount, "umount": _mutate("unmounts a filesystem"),
    "ifconfig": lambda w, c: ([Part(DESTRUCTIVE, "ifconfig … down takes a network interface down")]
                              if any(x.text == "down" for x in w[1:]) else
                              _no_arg_ro("ifconfig: shows interfaces", "ifconfig: changes an interface")(w, c)),
    "vi": _editor, "vim": _editor, "nvim": _editor, "nano": _editor, "emacs": _editor, "ed": _editor,
    "code": _editor, "sponge": _mutate("overwrites a file with its input"),
    "k9s": lambda w, c: [Part(UNKNOWN, "k9s is an interactive UI that can change anything", interactive=True)],
    "kubectx": _no_arg_ro("kubectx: lists contexts", "kubectx switches the kube context (local kubeconfig)"),
    "kubens": _no_arg_ro("kubens: lists namespaces", "kubens switches the default namespace (local kubeconfig)"),
}
