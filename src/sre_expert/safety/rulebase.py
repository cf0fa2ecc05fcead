"""What a classification rule receives (the words of one command and its context) and helpers to read them.

A rule is `rule(words, ctx) -> list[Part]`: `words[0]` is the program, the rest its arguments, each a
shell.Word (`.text` after quote removal, `.dynamic` when expanded at run time). Rules never run anything.
Wrappers (sudo, xargs, sh -c, kubectl exec …) hand the inner command back to the guard through
`ctx.argv(...)` or `ctx.line(...)`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sre_expert.safety.verdict import Part

if TYPE_CHECKING:
    from sre_expert.safety.shell import Word

NETWORK_FETCHERS = frozenset({"curl", "wget", "fetch", "http", "https", "aria2c", "xh"})


@dataclass(slots=True, frozen=True)
class Stdin:
    """What a command reads on standard input, as far as the command line tells."""

    text: str | None = None  # literal text (heredoc, here-string, `echo … |`)
    network: bool = False  # downloaded (`curl … |`)
    opaque: bool = False  # produced by another program or read from a file

    @property
    def present(self) -> bool:
        return self.text is not None or self.network or self.opaque


NO_STDIN = Stdin()


@dataclass(slots=True, frozen=True)
class Ctx:
    depth: int
    stdin: Stdin
    in_container: bool  # inside `kubectl exec`: env and mounted files are the pod's Secrets
    _line: Callable[[str, Ctx], list[Part]]
    _argv: Callable[[list[Word], Ctx], list[Part]]

    def line(self, text: str, stdin: Stdin | None = None, in_container: bool | None = None) -> list[Part]:
        """Classify a nested command line (sh -c, eval, ssh, watch)."""
        return self._line(text, self._child(stdin, in_container))

    def argv(self, words: list[Word], stdin: Stdin | None = None, in_container: bool | None = None) -> list[Part]:
        """Classify a nested command given as words (sudo CMD…, xargs CMD…, kubectl exec -- CMD…)."""
        return self._argv(words, self._child(stdin, in_container))

    def _child(self, stdin: Stdin | None, in_container: bool | None) -> Ctx:
        return replace(self, depth=self.depth + 1, stdin=self.stdin if stdin is None else stdin,
                       in_container=self.in_container if in_container is None else in_container)


Rule = Callable[[list["Word"], Ctx], list[Part]]


def prog(word: Word) -> str:
    """The program name a command word runs: `/usr/bin/kubectl` → kubectl."""
    return posixpath.basename(word.text)


def texts(words: Iterable[Word]) -> list[str]:
    return [w.text for w in words]


@dataclass(slots=True)
class Parsed:
    """Arguments read the way pflag/getopt reads them."""

    positionals: list[Word]
    flags: dict[str, list[str]]  # "--name" / "-n" → values ("" for a boolean)
    after_dashdash: list[Word]
    dashdash: bool = False

    def has(self, *names: str) -> bool:
        return any(n in self.flags for n in names)

    def value(self, *names: str) -> str | None:
        """The last value given for any of the names (last wins, as in pflag)."""
        found: str | None = None
        for n in names:
            vals = self.flags.get(n)
            if vals:
                found = vals[-1]
        return found

    def values(self, *names: str) -> list[str]:
        out: list[str] = []
        for n in names:
            out.extend(self.flags.get(n, ()))
        return out


def parse_args(words: list[Word], value_flags: frozenset[str] | set[str], *, stop_at_positional: bool = False,
               short_clusters: bool = True) -> Parsed:
    """Split arguments into flags and positionals. Flags in value_flags consume a value (`-n x`, `-nx`,
    `--name x`, `--name=x`); any other flag is boolean; `--` ends the flags."""
    flags: dict[str, list[str]] = {}
    pos: list[Word] = []
    i = 0
    while i < len(words):
        w = words[i]
        t = w.text
        if t == "--":
            return Parsed(pos, flags, words[i + 1:], True)
        if stop_at_positional and pos:
            pos.extend(words[i:])
            break
        if t.startswith("--") and len(t) > 2:
            name, eq, val = t.partition("=")
            if eq:
                flags.setdefault(name, []).append(val)
            elif name in value_flags and i + 1 < len(words):
                flags.setdefault(name, []).append(words[i + 1].text)
                i += 1
            else:
                flags.setdefault(name, []).append("")
        elif t.startswith("-") and len(t) > 1 and not t[1].isdigit():
            if not short_clusters:
                name, eq, val = t.partition("=")
                if eq:
                    flags.setdefault(name, []).append(val)
                elif name in value_flags and i + 1 < len(words):
                    flags.setdefault(name, []).append(words[i + 1].text)
                    i += 1
                else:
                    flags.setdefault(name, []).append("")
                i += 1
                continue
            j = 1
            while j < len(t):
                name = "-" + t[j]
                if name in value_flags:
                    rest = t[j + 1:]
                    if rest.startswith("="):
                        rest = rest[1:]
                    if rest:
                        flags.setdefault(name, []).append(rest)
                    elif i + 1 < len(words):
                        flags.setdefault(name, []).append(words[i + 1].text)
                        i += 1
                    else:
                        flags.setdefault(name, []).append("")
                    break
                flags.setdefault(name, []).append("")
                j += 1
        else:
            pos.append(w)
        i += 1
    return Parsed(pos, flags, [], False)


def long_option(arg: str, full: str, shortest: int = 3) -> bool:
    """Does arg name the GNU long option `full`? getopt_long accepts any unambiguous prefix (`--in` for
    `--in-place`, `--outp=F` for `--output=F`). Any prefix of at least `shortest` characters after the dashes
    counts, ambiguous or not: when the program would reject an ambiguous one, nothing runs, and when it accepts
    it, this is the option it runs."""
    name = arg.partition("=")[0]
    return name.startswith("--") and len(name) - 2 >= min(shortest, len(full) - 2) and full.startswith(name)


def long_value(args: list[str], full: str, short: str | None = None, shortest: int = 3) -> list[str]:
    """The values given to a GNU option (`--output=F`, `--outp F`, `-o F`, `-oF`), abbreviations included."""
    out: list[str] = []
    for i, a in enumerate(args):
        if long_option(a, full, shortest):
            if "=" in a:
                out.append(a.partition("=")[2])
            elif i + 1 < len(args):
                out.append(args[i + 1])
        elif short and a == short and i + 1 < len(args):
            out.append(args[i + 1])
        elif short and a.startswith(short) and len(a) > len(short) and not a.startswith("--"):
            out.append(a[len(short):])
    return out


def skip_options(words: list[Word], start: int, value_flags: set[str] | frozenset[str]) -> int:
    """Index of the first non-option word at or after start (getopt style: options end at the first
    positional or at `--`, which is skipped)."""
    i = start
    while i < len(words):
        t = words[i].text
        if t == "--":
            return i + 1
        if not t.startswith("-") or t == "-":
            return i
        if t.startswith("--"):
            name, eq, _ = t.partition("=")
            i += 1 if eq or name not in value_flags else 2
            continue
        # short cluster: a value flag consumes the rest of the cluster, or the next word
        consumed_next = False
        for j in range(1, len(t)):
            if "-" + t[j] in value_flags:
                consumed_next = j == len(t) - 1
                break
        i += 2 if consumed_next else 1
    return i


_SECRET_VAR_PART = re.compile(r"(?:^|_)(PASSWORD|PASSWD|PASS|SECRET|SECRETS|TOKEN|APIKEY|API_KEY|PRIVATE_KEY|"
                              r"ACCESS_KEY|SECRET_KEY|CREDENTIALS?|AUTH_KEY|DSN|CONN(?:ECTION)?_STRING)(?:_|$)",
                              re.IGNORECASE)


def secret_var(name: str) -> bool:
    """A parameter whose name says it holds a credential ($DB_PASSWORD, $GITHUB_TOKEN)."""
    return bool(_SECRET_VAR_PART.search(name))


_SECRET_PATH = re.compile(
    r"(^|/)(var/run/secrets|run/secrets|etc/secrets?)(/|$)|(^|/)\.kube/config$|(^|/)\.aws/credentials$|"
    r"(^|/)\.docker/config\.json$|(^|/)id_(rsa|dsa|ecdsa|ed25519)$|\.(pem|key|p12|pfx|jks)$|"
    r"(^|/)etc/(shadow|gshadow)$|(^|/)\.(pgpass|netrc|my\.cnf)$|(^|/)proc/[^/]+/environ$|"
    r"(^|/)[^/]*(secret|token|password|credential)[^/]*$|(^|/)serviceaccount/token$|"
    r"(^|/)etc/kubernetes/[^/]*\.conf$|(^|/)[^/]*kubeconfig[^/]*$|(^|/)etc/rancher/(k3s|rke2)/[^/]*\.yaml$|"
    r"(^|/)\.kube/|(^|/)\.(git-credentials|npmrc|pypirc|dockercfg|htpasswd|vault-token|boto|s3cfg)$|"
    r"(^|/)\.env(\.[^/]*)?$|(^|/)etc/ssl/private/|(^|/)\.ssh/[^/]*$|(^|/)\.config/gcloud/|(^|/)\.azure/|"
    r"(^|/)etc/(sudoers|krb5\.keytab)$|\.keytab$|(^|/)\.gnupg/|(^|/)etc/etcd/|(^|/)var/lib/etcd/",
    re.IGNORECASE)


def secret_path(path: str) -> bool:
    """A file path that usually holds credentials (mounted Secrets, keys, kubeconfig, tokens)."""
    return bool(_SECRET_PATH.search(path))


def target_name(ref: str) -> str:
    """`deployment/envoy-gateway` → envoy-gateway; `pod` → pod."""
    return ref.rsplit("/", 1)[-1] if "/" in ref else ref
