"""kubectl: every verb and subcommand of kubectl v1.32, global flags before the verb, the `k` alias.

Read-only: get, describe, logs, top, events, explain, api-resources, api-versions, version, cluster-info,
diff (a server-side dry run), kustomize, wait, completion, options, plugin list, auth can-i|whoami,
rollout status|history, config view|get-contexts|current-context|get-clusters|get-users, label/annotate
--list. Mutating: apply, create, replace, patch, edit, scale, autoscale, label, annotate, set, expose, run,
cordon, uncordon, taint, rollout restart|undo|pause|resume, certificate approve|deny, auth reconcile, cp,
attach, debug, exec, port-forward, proxy, config set-*|use-context|delete-*|rename-context (local
kubeconfig). Destructive: delete, drain, apply --prune, apply/replace --force, a patch that removes
finalizers, scale or patch to 0 replicas, a NoExecute taint, `--raw …/finalize|eviction` writes, exec of a
destructive command. `--dry-run=client|server` (and a bare `--dry-run`) makes any verb that supports it
read-only; `--dry-run=none` does not. Flag names are read as kubectl reads them (`--dry_run` is `--dry-run`);
a flag kubectl v1.32 does not list for the verb (kubectl_flags.ALL_FLAGS) is unknown. An unknown verb is a
plugin (`kubectl foo` runs `kubectl-foo`): unknown.

Secrets: `get secret(s) -o yaml|json|jsonpath|go-template|custom-columns` (and `--template`), any write
verb printing a Secret that way, `get --raw …/secrets…`, `edit secret`, `create token`, `config view
--raw`, and `exec … env|printenv|cat /var/run/secrets/…` print Secret values. `describe secret` and a
plain `get secrets` show only names, types and sizes.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sre_expert.safety.kubectl_flags import ALL_FLAGS, GLOBAL_VALUE_FLAGS, VALUE_FLAGS, VERBS
from sre_expert.safety.rulebase import Ctx, Parsed, parse_args, prog, secret_path, target_name
from sre_expert.safety.unix_rules import admin_destroys
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, Part

if TYPE_CHECKING:
    from sre_expert.safety.shell import Word

KUBECTL_NAMES = ("kubectl", "k", "kubecolor", "oc")

_READ_VERBS = {
    "get": "reads objects", "describe": "shows objects and their events (Secret values are not shown)",
    "logs": "reads container logs", "top": "reads resource usage", "events": "lists events",
    "explain": "documents a resource type", "api-resources": "lists resource types",
    "api-versions": "lists API versions", "version": "prints versions", "diff": "compares manifests with the "
    "live objects (a server-side dry run: nothing is changed)", "kustomize": "renders a kustomization locally",
    "wait": "waits for a condition", "completion": "prints shell completion code", "options": "prints global "
    "options", "help": "prints help",
}
_WRITE_VERBS = {
    "apply": "applies manifests", "create": "creates objects", "replace": "replaces objects", "patch": "patches an object",
    "edit": "edits an object in an editor", "scale": "changes the replica count", "autoscale": "creates an autoscaler",
    "label": "changes labels", "annotate": "changes annotations", "set": "changes a workload's spec",
    "expose": "creates a Service", "run": "starts a pod", "cordon": "marks a node unschedulable",
    "uncordon": "marks a node schedulable", "taint": "changes node taints (NoExecute evicts pods)",
}
_DRY_RUN_VERBS = {"create", "expose", "run", "set", "delete", "scale", "autoscale", "cordon", "uncordon", "drain",
                  "taint", "apply", "patch", "replace", "label", "annotate", "rollout undo", "auth reconcile"}
# verbs whose server dry run can print the object (`-o yaml`); the others print one line per object
DRY_RUN_YAML = {"create", "expose", "run", "set", "scale", "autoscale", "taint", "apply", "patch", "replace",
                "label", "annotate", "rollout undo", "auth reconcile"}
_DATA_FORMATS = ("yaml", "json", "jsonpath", "jsonpath-file", "jsonpath-as-json", "go-template", "go-template-file",
                 "template", "templatefile", "custom-columns", "custom-columns-file")
_CONFIG_READ = {"view", "get-contexts", "current-context", "get-clusters", "get-users"}


@dataclass(slots=True)
class KubectlCall:
    """A kubectl command line split into global flags, verb, subcommand and the verb's arguments."""

    words: list[Word]
    globals: dict[str, str] = field(default_factory=dict)
    verb: str | None = None
    verb_dynamic: bool = False
    sub: str | None = None  # rollout restart, config view, create secret …
    args: Parsed = field(default_factory=lambda: Parsed([], {}, []))
    verb_index: int = 0

    @property
    def key(self) -> str:
        return f"{self.verb} {self.sub}" if self.sub else (self.verb or "")

    @property
    def namespace(self) -> str | None:
        return self.args.value("-n", "--namespace") or self.globals.get("--namespace") or self.globals.get("-n")

    @property
    def context(self) -> str | None:
        return self.args.value("--context") or self.globals.get("--context")

    @property
    def help(self) -> bool:
        return self.args.has("-h", "--help") or "--help" in self.globals or "-h" in self.globals


_SUBCOMMAND_VERBS = {"rollout", "config", "auth", "certificate", "create", "set", "top", "cluster-info", "plugin",
                     "apply", "alpha"}


def normalize_flags(words: list[Word]) -> list[Word]:
    """kubectl reads `_` in a long flag's name as `-` (`--dry_run=none` is `--dry-run=none`); flags end at `--`."""
    from sre_expert.safety.shell import Word

    out: list[Word] = []
    for n, w in enumerate(words):
        if w.text == "--":
            return out + list(words[n:])
        name, eq, value = w.text.partition("=")
        if name.startswith("--") and "_" in name:
            w = Word(name.replace("_", "-") + eq + value, w.raw, w.quoted, w.dynamic, w.subs, w.vars, w.braces,
                     w.evals)
        out.append(w)
    return out


def parse_kubectl(words: list[Word]) -> KubectlCall:
    words = normalize_flags(words)
    call = KubectlCall(words)
    i = 1
    while i < len(words):
        w = words[i]
        t = w.text
        if not t.startswith("-") or t == "-":
            break
        name, eq, val = t.partition("=")
        if name in ("-h", "--help"):
            call.globals[name] = ""
            i += 1
        elif eq:
            call.globals[name] = val
            i += 1
        elif name in GLOBAL_VALUE_FLAGS:
            call.globals[name] = words[i + 1].text if i + 1 < len(words) else ""
            i += 2
        elif len(name) > 2 and not name.startswith("--") and "-" + name[1] in GLOBAL_VALUE_FLAGS:
            call.globals["-" + name[1]] = name[2:]  # -nprod, -v6
            i += 1
        elif i + 1 < len(words) and words[i + 1].text in VERBS:
            call.globals[name] = ""  # an unknown boolean flag
            i += 1
        else:
            call.globals[name] = words[i + 1].text if i + 1 < len(words) else ""  # an unknown flag with a value
            i += 2
    if i >= len(words):
        return call
    call.verb_index = i
    call.verb_dynamic = words[i].dynamic
    call.verb = words[i].text
    rest = words[i + 1:]
    call.args = parse_args(rest, VALUE_FLAGS.get(call.verb, GLOBAL_VALUE_FLAGS))
    if call.verb in _SUBCOMMAND_VERBS and call.args.positionals:
        call.sub = call.args.positionals[0].text
    return call


def _types_names(pos: list[str]) -> tuple[list[str], list[str]]:
    """`pod x y` → ([pod], [x, y]); `deploy/x svc/y` → ([deploy, svc], [x, y]); `pods,svc` → ([pods, svc], [])."""
    if not pos:
        return [], []
    if "/" in pos[0]:
        types, names = [], []
        for p in pos:
            t, _, n = p.partition("/")
            types.append(t)
            if n:
                names.append(n)
        return types, names
    return pos[0].split(","), pos[1:]


def _is_secret_type(t: str) -> bool:
    base, _, group = t.lower().partition(".")
    return base in ("secret", "secrets") and group in ("", "v1", "v1.")


def _data_format(a: Parsed) -> bool:
    fmt = (a.value("-o", "--output") or "").split("=", 1)[0].lower()
    return fmt in _DATA_FORMATS or bool(a.value("--template"))


def _dry_run(call: KubectlCall) -> str | None:
    """'client' or 'server' when the command is a dry run kubectl honours for this verb."""
    vals = call.args.values("--dry-run")
    if not vals or not (call.verb in _DRY_RUN_VERBS or call.key in _DRY_RUN_VERBS):
        return None
    v = vals[-1].lower()
    if v in ("", "client", "true"):
        return "client"
    if v == "server":
        return "server"
    return None


def _only(names: list[str]) -> str | None:
    names = [target_name(n) for n in names if n]
    return names[0] if len(set(names)) == 1 else None


def _target(call: KubectlCall, names: list[str]) -> str | None:
    """The name the operator types to confirm: the object, else the namespace of a bulk change."""
    one = _only(names)
    if one:
        return one
    files = call.args.values("-f", "--filename")
    if not names and len(files) == 1 and files[0] not in ("-", ""):
        return files[0]
    return call.namespace if not names else None


def rule(words: list[Word], ctx: Ctx) -> list[Part]:
    call = parse_kubectl(words)
    if call.help:
        return [Part(READ_ONLY, "kubectl --help: prints help")]
    if call.verb is None:
        return [Part(READ_ONLY, "kubectl without a verb prints help")]
    if call.verb_dynamic:
        return [Part(UNKNOWN, f"the kubectl verb is only known at run time ({words[call.verb_index].raw})")]
    return _classify(call, ctx) + _elsewhere(call) + _unknown_flags(call)


def _unknown_flags(call: KubectlCall) -> list[Part]:
    """A flag kubectl v1.32 does not list for this verb: the guard cannot say what it does (a newer kubectl, a
    plugin's flag, a misspelling kubectl rejects), so the command is not proven read-only."""
    known = ALL_FLAGS.get(call.verb or "")
    if known is None:
        return []
    odd = [f for f in (*call.globals, *call.args.flags) if f not in known and f not in ("-h", "--help")]
    return [Part(UNKNOWN, f"kubectl {call.verb} {f}: a flag the guard does not know") for f in dict.fromkeys(odd)][:3]


def _flag(call: KubectlCall, *names: str) -> str | None:
    """A global flag's value wherever it is written (kubectl accepts them before and after the verb)."""
    for n in names:
        if n in call.globals:
            return call.globals[n]
    return (call.args.value(*names) or "") if call.args.has(*names) else None


def _elsewhere(call: KubectlCall) -> list[Part]:
    """`--server`/`-s` sends the current context's credentials (bearer token, client certificate) to whatever
    address is named; `--kubeconfig` loads a file that may run an exec credential plugin (a kubeconfig
    planted in a repository is code). Neither is a read of the cluster in use: unknown, so a person decides."""
    parts: list[Part] = []
    server = _flag(call, "--server", "-s") if call.verb != "config" else None
    if server is not None:
        parts.append(Part(UNKNOWN, f"kubectl --server {server}: sends this context's credentials to another "
                                   "API server address"))
    kubeconfig = _flag(call, "--kubeconfig")
    if kubeconfig is not None:
        parts.append(Part(UNKNOWN, f"kubectl --kubeconfig {kubeconfig}: another kubeconfig (its exec credential "
                                   "plugins run as commands)"))
    return parts


def _classify(call: KubectlCall, ctx: Ctx) -> list[Part]:
    v, a = call.verb or "", call.args
    pos = [w.text for w in a.positionals]
    if v in ("get", "describe", "delete", "edit", "label", "annotate", "patch", "scale", "wait") and a.dashdash:
        pos += [w.text for w in a.after_dashdash]  # `kubectl get -o yaml -- secrets`: names after `--` too
    types, names = _types_names(pos)
    secret = any(_is_secret_type(t) for t in types)
    prints_data = _data_format(a)
    exposes = secret and prints_data
    expose_reason = "prints Secret values (-o yaml/json/jsonpath/template show base64-encoded data, which is not encryption)"
    dry = _dry_run(call)
    kc = f"kubectl {v}"
    long_running = a.has("-w", "--watch", "--watch-only")

    if v in ("get",):
        parts = [Part(READ_ONLY, f"{kc}: reads objects", interactive=long_running)]
        raw = unquote(a.value("--raw") or "")  # the API server decodes %73ecrets to secrets
        if exposes or re.search(r"/secrets(/|$|\?)", raw, re.IGNORECASE):
            parts.append(Part(READ_ONLY, f"{kc} {expose_reason}", exposes=True))
        elif prints_data and a.positionals and a.positionals[0].dynamic:
            parts.append(Part(READ_ONLY, f"{kc}: the resource type is only known at run time and the output format "
                                         "prints full objects (Secrets included)", exposes=True))
        elif prints_data and not types and a.has("-f", "--filename", "-k", "--kustomize"):
            # the objects are named by a file the guard does not read (a repository's secret.yaml, a kustomization)
            parts.append(Part(READ_ONLY, f"{kc}: the objects come from a file the guard does not read and the output "
                                         "format prints them in full (a Secret's values included)", exposes=True))
        return parts
    if v == "logs":
        return [Part(READ_ONLY, f"{kc}: {_READ_VERBS['logs']}", interactive=a.has("-f", "--follow"))]
    if v == "kustomize":
        runs = [f for f in ("--helm-command", "--enable-alpha-plugins", "--enable-exec", "--mount", "--network",
                            "--network-name") if a.has(f)]
        if runs:
            return [Part(UNKNOWN, f"kubectl kustomize {runs[0]} runs a program or function container the guard does "
                                  "not inspect")]
    if v in _READ_VERBS:
        return [Part(READ_ONLY, f"{kc}: {_READ_VERBS[v]}", interactive=long_running)]
    if v == "cluster-info":
        if call.sub == "dump" and a.value("--output-directory") not in (None, "", "-"):
            return [Part(MUTATING, "kubectl cluster-info dump --output-directory writes local files")]
        return [Part(READ_ONLY, "kubectl cluster-info: prints cluster endpoints")]
    if v == "plugin":
        if call.sub == "list":
            return [Part(READ_ONLY, "kubectl plugin list: lists plugins")]
        return [Part(UNKNOWN, f"kubectl plugin {call.sub or ''}: not a subcommand the guard knows".replace("  ", " "))]
    if v == "config":
        sub = call.sub or ""
        if sub in _CONFIG_READ:
            if sub == "view" and a.has("--raw", "--flatten"):
                flag = "--raw" if a.has("--raw") else "--flatten"
                return [Part(READ_ONLY, f"kubectl config view {flag} prints client keys and tokens (--flatten embeds "
                                        "the key and certificate files' content)", exposes=True)]
            return [Part(READ_ONLY, f"kubectl config {sub}: reads the local kubeconfig")]
        if not sub:
            return [Part(READ_ONLY, "kubectl config without a subcommand prints help")]
        return [Part(MUTATING, f"kubectl config {sub} changes the local kubeconfig (later commands may reach "
                               "another cluster)", target=pos[1] if len(pos) > 1 else None)]
    if v == "auth":
        if call.sub in ("can-i", "whoami"):
            return [Part(READ_ONLY, f"kubectl auth {call.sub}: asks the API server about permissions")]
        if call.sub == "reconcile":
            if dry:
                return [Part(READ_ONLY, f"kubectl auth reconcile --dry-run={dry}: changes nothing")]
            return [Part(MUTATING, "kubectl auth reconcile creates or updates RBAC objects")]
        return [Part(UNKNOWN, f"kubectl auth {call.sub or ''}: not a subcommand the guard knows")]
    if v == "certificate":
        if call.sub in ("approve", "deny"):
            return [Part(MUTATING, f"kubectl certificate {call.sub}s a CertificateSigningRequest",
                         target=_only(pos[1:]))]
        return [Part(UNKNOWN, f"kubectl certificate {call.sub or ''}: not a subcommand the guard knows")]
    if v == "rollout":
        sub = call.sub or ""
        t2, n2 = _types_names(pos[1:])
        if sub in ("status", "history"):
            return [Part(READ_ONLY, f"kubectl rollout {sub}: reads rollout state", interactive=sub == "status")]
        if sub in ("restart", "undo", "pause", "resume"):
            if dry:
                return [Part(READ_ONLY, f"kubectl rollout {sub} --dry-run={dry}: changes nothing")]
            what = {"restart": "restarts every pod of", "undo": "rolls back", "pause": "pauses the rollout of",
                    "resume": "resumes the rollout of"}[sub]
            obj = " ".join(pos[1:]) if n2 else f"every {pos[1] if len(pos) > 1 else 'workload'} in " \
                f"{call.namespace or 'the current namespace'}"
            return [Part(MUTATING, f"kubectl rollout {sub} {what} {obj}", target=_target(call, n2))]
        return [Part(UNKNOWN, f"kubectl rollout {sub}: not a subcommand the guard knows")]
    if v == "exec":
        return _exec(call, ctx)
    if v == "debug":
        inner = a.after_dashdash
        parts = [Part(MUTATING, f"kubectl debug starts a debugging container on {pos[0] if pos else 'a pod'} "
                                "(node debugging mounts the host filesystem at /host)",
                      target=_only(pos[:1]), interactive=a.has("-i", "--stdin", "-t", "--tty"))]
        if inner:
            parts.extend(p if p.cls != DESTRUCTIVE else Part(p.cls, f"in the debug container: {p.reason}", p.exposes)
                         for p in ctx.argv(inner, in_container=True))
        return parts
    if v == "cp":
        pods = [p.split(":", 1)[0] for p in pos if ":" in p]
        return [Part(MUTATING, "kubectl cp copies files into or out of a container (through tar in the container)",
                     target=_only([target_name(p) for p in pods]))]
    if v == "attach":
        return [Part(MUTATING, f"kubectl attach connects to the running process of {pos[0] if pos else 'a pod'}",
                     target=_only(pos[:1]), interactive=True)]
    if v == "port-forward":
        return [Part(MUTATING, f"kubectl port-forward opens a local port into {pos[0] if pos else 'a pod'} for as "
                               "long as it runs (a path that bypasses the Gateway and NetworkPolicies); it changes "
                               "no object", target=_only([target_name(p) for p in pos[:1]]), interactive=True)]
    if v == "proxy":
        return [Part(MUTATING, "kubectl proxy serves the API server on a local port with your credentials for as "
                               "long as it runs; it changes no object", interactive=True)]
    if v == "alpha":
        return [Part(UNKNOWN, f"kubectl alpha {call.sub or ''}: experimental commands are not classified")]

    # -- writes ------------------------------------------------------------------------------------------
    sub_types, sub_names = types, names
    if v == "create" and call.sub:
        sub_types = [call.sub]
        rest = pos[1:]
        if call.sub in ("secret", "service") and rest:
            rest = rest[1:]  # create secret generic NAME, create service clusterip NAME
        sub_names = rest[:1]
        secret = call.sub == "secret"
        exposes = secret and prints_data
    if v in ("set",) and call.sub:
        sub_types, sub_names = _types_names(pos[1:])
        sub_names = [n for n in sub_names if "=" not in n]
    if v in ("label", "annotate"):
        sub_names = [n for n in names if "=" not in n and not n.endswith("-")]
        if a.has("--list"):
            return [Part(READ_ONLY, f"{kc} --list: prints {v}s")]
    if v == "set" and call.sub == "env" and a.has("--list"):
        if a.has("--resolve"):
            return [Part(READ_ONLY, "kubectl set env --list --resolve prints the environment with the values of the "
                                    "Secrets and ConfigMaps it references", exposes=True)]
        return [Part(READ_ONLY, "kubectl set env --list prints the environment the workload declares")]
    if v in ("cordon", "uncordon", "drain"):
        sub_names = pos
    if v == "taint":
        sub_names = [n for n in names if "=" not in n and ":" not in n and not n.endswith("-")]
    target = _target(call, sub_names)

    parts = []
    if exposes or (v == "edit" and secret):
        parts.append(Part(READ_ONLY, f"{kc} {expose_reason if v != 'edit' else 'shows Secret values in the editor'}",
                          exposes=True))
    raw = unquote(a.value("--raw") or "")
    if raw and v in ("create", "replace", "delete", "apply"):
        if re.search(r"/finalize(\?|$)", raw):
            return parts + [Part(DESTRUCTIVE, f"{kc} --raw {raw} rewrites the finalizers of a namespace: the namespace "
                                              "is removed without the cleanup its controllers would do",
                                 target=target)]
        if "/proxy/" in raw and admin_destroys(raw.split("/proxy", 1)[1]):
            return parts + [Part(DESTRUCTIVE, f"{kc} --raw {raw} calls, through the API server's proxy, an admin "
                                              "API that deletes data or stops the service", target=target)]
        if re.search(r"/eviction(\?|$)", raw):
            return parts + [Part(DESTRUCTIVE, f"{kc} --raw {raw} evicts a pod", target=target)]
        if re.search(r"/token(\?|$)", raw):
            return parts + [Part(MUTATING, f"{kc} --raw {raw} issues a service-account token and prints it",
                                 exposes=True, target=target)]
        if re.search(r"/secrets(/|$|\?)", raw, re.IGNORECASE):
            parts.append(Part(READ_ONLY, f"{kc} --raw {raw} prints the Secret it writes", exposes=True))
    if v == "create" and call.sub == "token":
        return parts + [Part(MUTATING if not dry else READ_ONLY,
                             "kubectl create token issues a new service-account token and prints it", exposes=True,
                             target=_only(pos[1:2]))]
    if a.has("--local") and v in ("set", "label", "annotate"):
        return parts + [Part(READ_ONLY, f"{kc} --local: edits the manifest locally and prints it; the cluster is "
                                        "not contacted")]
    if dry:
        return parts + [Part(READ_ONLY, f"{kc} --dry-run={dry}: shows what would change; nothing is persisted")]
    if v == "delete":
        scope = " ".join(pos) or ("everything in " + " ".join(a.values("-f", "--filename")) if a.has("-f", "--filename")
                                  else "the selected objects")
        extra = ""
        if a.has("--all", "-A", "--all-namespaces", "-l", "--selector", "--field-selector"):
            extra = " (every matching object)"
        if a.has("--force") and (a.value("--grace-period") or "") == "0":
            extra += "; --force --grace-period=0 skips graceful termination"
        return parts + [Part(DESTRUCTIVE, f"kubectl delete deletes {scope}{extra}", target=target)]
    if v == "drain":
        return parts + [Part(DESTRUCTIVE, f"kubectl drain evicts every pod from {' '.join(pos) or 'the nodes'}"
                                          + (" and deletes their emptyDir data" if a.has("--delete-emptydir-data",
                                                                                           "--delete-local-data")
                                             else ""), target=target)]
    if v == "apply" and call.sub in ("view-last-applied",):
        return [Part(READ_ONLY, "kubectl apply view-last-applied: prints the last applied configuration")]
    if v == "apply" and call.sub in ("edit-last-applied", "set-last-applied"):
        return parts + [Part(MUTATING, f"kubectl apply {call.sub} changes the last-applied annotation",
                             interactive=call.sub == "edit-last-applied")]
    if v == "apply" and a.has("--prune"):
        return parts + [Part(DESTRUCTIVE, "kubectl apply --prune deletes live objects missing from the manifests",
                             target=target)]
    if v in ("apply", "replace") and a.has("--force"):
        return parts + [Part(DESTRUCTIVE, f"{kc} --force deletes and re-creates objects", target=target)]
    if v == "patch":
        body = " ".join(a.values("-p", "--patch"))
        if re.search(r"finalizers", body) and re.search(r"null|\[\s*\]|\bremove\b", body):
            return parts + [Part(DESTRUCTIVE, "kubectl patch removes finalizers: the object is deleted without the "
                                              "cleanup its controller would do", target=target)]
        if _ZERO_REPLICAS.search(body):
            return parts + [Part(DESTRUCTIVE, "kubectl patch sets replicas to 0: the workload stops serving (an "
                                              "outage)", target=target)]
    if v == "scale" and _is_zero(a.value("--replicas")):
        what = " ".join(pos) or "the workload"
        return parts + [Part(DESTRUCTIVE, f"kubectl scale to 0 replicas stops every pod of {what} (an outage)",
                             target=target)]
    if v == "taint":
        evicting = [p for p in pos[1:] if re.search(r":NoExecute$", p, re.IGNORECASE)]
        if evicting:
            return parts + [Part(DESTRUCTIVE, f"kubectl taint {evicting[0]} (NoExecute) evicts every pod on the node "
                                              "that does not tolerate it", target=target)]
    if v in _WRITE_VERBS:
        what = _WRITE_VERBS[v]
        obj = " ".join(pos) if v not in ("create",) else " ".join(pos[:3])
        return parts + [Part(MUTATING, f"{kc} {what}{': ' + obj if obj else ''}", target=target,
                             interactive=v == "edit" or (v == "run" and a.has("-i", "--stdin", "-t", "--tty")))]
    if v == "view-secret":
        return [Part(UNKNOWN, "kubectl view-secret (a plugin) prints decoded Secret values", exposes=True)]
    return [Part(UNKNOWN, f"kubectl {v}: not a kubectl verb (a plugin, kubectl-{v}, which the guard does not know)")]


_ZERO_REPLICAS = re.compile(r"""["']?replicas["']?\s*:\s*["']?0+\b(?!\.)|/replicas["']?\s*,\s*["']?value["']?\s*:\s*0+\b""")


def _is_zero(value: str | None) -> bool:
    try:
        return value is not None and int(value.strip()) == 0
    except ValueError:
        return False


def _exec(call: KubectlCall, ctx: Ctx) -> list[Part]:
    a = call.args
    pos = a.positionals
    pod = pos[0].text if pos else "a pod"
    inner = a.after_dashdash if a.dashdash else pos[1:]
    interactive = a.has("-t", "--tty")
    parts = [Part(MUTATING, f"kubectl exec runs a command inside {pod} (it can change anything the container can)",
                  target=target_name(pod) if pos else None, interactive=interactive)]
    if not inner:
        return parts
    for p in ctx.argv(list(inner), in_container=True):
        if p.cls == READ_ONLY and not p.exposes:
            continue
        parts.append(Part(p.cls, f"in {pod}: {p.reason}", p.exposes, target_name(pod) if pos else None,
                          p.interactive))
    if any(secret_path(w.text) for w in inner if not w.text.startswith("-")) and not any(p.exposes for p in parts):
        parts.append(Part(READ_ONLY, f"in {pod}: reads a file that usually holds credentials", exposes=True))
    return parts


# -- what the confirmation step needs --------------------------------------------------------------------

@dataclass(slots=True, frozen=True)
class DryRunPlan:
    """A server-side dry run of a single kubectl write: what the API server would persist."""

    argv: tuple[str, ...]
    stdin: str | None = None
    env: tuple[tuple[str, str], ...] = ()

    @property
    def command(self) -> str:
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        return (prefix + " " if prefix else "") + shlex.join(self.argv)


def dry_run_plan(command: str) -> DryRunPlan | None:
    """The `--dry-run=server` form of a one-command kubectl write, or None when there is none.

    Only a plain `kubectl …` (or `k …`) without pipes, substitutions or output redirections qualifies, and only
    for verbs with a server dry run; a heredoc or here-string is passed on as stdin. The argv is run without a
    shell, so nothing but kubectl can run.
    """
    from sre_expert.safety.shell import ParseError, Simple, parse

    try:
        script = parse(command)
    except (ParseError, RecursionError):
        return None
    if len(script.pipelines) != 1 or len(script.pipelines[0].commands) != 1:
        return None
    cmd = script.pipelines[0].commands[0]
    if not isinstance(cmd, Simple) or not cmd.words or prog(cmd.words[0]) not in KUBECTL_NAMES:
        return None
    if any(w.dynamic or w.braces is not None or w.evals for w in (*cmd.words, *cmd.assigns)):
        return None  # run without a shell, the argv would not be what bash runs
    stdin: str | None = None
    for r in cmd.redirects:
        if r.op in ("<<", "<<-", "<<<") and r.fd in (None, "0") and not r.subs:
            stdin = r.body or ""
        elif r.op == ">&" and r.target is not None and r.target.text.isdigit():
            continue
        elif r.op in (">", ">>") and r.target is not None and r.target.text == "/dev/null":
            continue
        else:
            return None
    call = parse_kubectl(cmd.words)
    if call.verb is None or call.help or _dry_run(call) or call.args.has("--dry-run"):
        return None
    if not (call.verb in _DRY_RUN_VERBS or call.key in _DRY_RUN_VERBS) or (call.verb == "create" and call.sub == "token"):
        return None
    if call.verb in ("set", "label", "annotate") and call.args.has("--local"):
        return None
    argv = ["kubectl" if prog(cmd.words[0]) in ("k", "kubecolor") else cmd.words[0].text,
            *(w.text for w in cmd.words[1:])]
    extra = ["--dry-run=server"]
    if call.verb in DRY_RUN_YAML or call.key in DRY_RUN_YAML:
        extra += ["-o", "yaml"]
    if "--" in argv[call.verb_index:]:
        cut = argv.index("--", call.verb_index)
        argv = argv[:cut] + extra + argv[cut:]
    else:
        argv += extra
    env = tuple((w.text.partition("=")[0], w.text.partition("=")[2]) for w in cmd.assigns)
    return DryRunPlan(tuple(argv), stdin, env)


_CONTEXT_FLAGS = {"kubectl": ("--context",), "helm": ("--kube-context",), "velero": ("--kubecontext",),
                  "argocd": ("--kube-context",)}


def command_context(command: str) -> str | None:
    """The kube context a command line names explicitly (`--context x`, helm's `--kube-context x` …)."""
    from sre_expert.safety.shell import ParseError, parse

    try:
        script = parse(command)
    except (ParseError, RecursionError):
        return None
    for cmd in script.simple_commands():
        if not cmd.words:
            continue
        name = prog(cmd.words[0])
        name = "kubectl" if name in KUBECTL_NAMES else name
        flags = _CONTEXT_FLAGS.get(name)
        if not flags:
            continue
        texts = [w.text for w in cmd.words]
        for i, t in enumerate(texts):
            for f in flags:
                if t == f and i + 1 < len(texts):
                    return texts[i + 1]
                if t.startswith(f + "="):
                    return t.partition("=")[2]
    return None


def command_kubeconfig(command: str) -> str | None:
    """The kubeconfig a kubectl command line names with --kubeconfig, if any."""
    from sre_expert.safety.shell import ParseError, parse

    try:
        script = parse(command)
    except (ParseError, RecursionError):
        return None
    for cmd in script.simple_commands():
        if cmd.words and prog(cmd.words[0]) in KUBECTL_NAMES:
            texts = [w.text for w in cmd.words]
            for i, t in enumerate(texts):
                if t == "--kubeconfig" and i + 1 < len(texts):
                    return texts[i + 1]
                if t.startswith("--kubeconfig="):
                    return t.partition("=")[2]
    return None


RULES = {name: rule for name in KUBECTL_NAMES}
