"""Platform tools other than kubectl: helm, velero, argocd, mise tasks, cmctl, promtool, amtool, vault, the cloud
CLIs (gcloud, aws, az) and sre-expert itself. Each is a table of subcommands; anything not in a table is
unknown, never read-only by default.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sre_expert.safety.rulebase import Ctx, Parsed, Rule, parse_args
from sre_expert.safety.verdict import DESTRUCTIVE, MUTATING, READ_ONLY, UNKNOWN, Part

if TYPE_CHECKING:
    from sre_expert.safety.shell import Word


def _pos(p: Parsed) -> list[str]:
    return [w.text for w in p.positionals]


# -- helm ------------------------------------------------------------------------------------------------

_HELM_VALUE = {
    "--kube-context", "--kubeconfig", "-n", "--namespace", "--burst-limit", "--kube-apiserver", "--kube-as-group",
    "--kube-as-user", "--kube-ca-file", "--kube-tls-server-name", "--kube-token", "--qps", "--registry-config",
    "--repository-cache", "--repository-config", "--content-cache", "-f", "--values", "--set", "--set-string",
    "--set-file", "--set-json", "--set-literal", "--version", "--timeout", "-o", "--output", "--revision", "--repo",
    "--username", "--password", "--post-renderer", "--post-renderer-args", "--description", "--max",
    "--history-max", "--kube-version", "-a", "--api-versions", "-s", "--show-only", "--output-dir", "--name-template",
    "--ca-file", "--cert-file", "--key-file", "--keyring", "--cascade", "--template", "-l", "--selector",
    "--release-name", "--labels", "--destination", "-d", "--filter", "--time-format", "--max-col-width",
    "--wait-for-jobs-timeout", "--hide-notes-template", "--app-version",
}
_HELM_READ = {"list": "lists releases", "ls": "lists releases", "status": "shows a release",
              "history": "shows release revisions", "hist": "shows release revisions",
              "template": "renders a chart locally", "show": "shows chart information", "inspect": "shows chart information",
              "search": "searches charts", "lint": "checks a chart", "diff": "compares a release with its next "
              "version (helm-diff plugin)", "version": "prints the version", "env": "prints helm's environment",
              "verify": "verifies a chart's signature", "completion": "prints shell completion code",
              "help": "prints help"}
_HELM_WRITE = {"install": "installs a release", "upgrade": "upgrades a release", "rollback": "rolls a release back",
               "test": "runs a release's test pods", "pull": "downloads a chart", "fetch": "downloads a chart",
               "push": "pushes a chart to a registry", "package": "packages a chart", "create": "creates a chart",
               "dependency": "updates chart dependencies", "dep": "updates chart dependencies",
               "registry": "logs in to or out of a registry", "plugin": "installs or changes plugins",
               "repo": "changes the local repository list"}
_HELM_DESTROY = {"uninstall", "delete", "del", "un"}


def _helm(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], _HELM_VALUE)
    pos = _pos(p)
    if p.has("-h", "--help") or not pos:
        return [Part(READ_ONLY, "helm: prints help")]
    if p.has("--post-renderer"):
        return [Part(UNKNOWN, f"helm --post-renderer {p.value('--post-renderer')} runs a program on the rendered "
                              "manifests (the guard does not inspect it)")] + \
            [x for x in _helm_verb(p, pos, ctx) if x.cls in (MUTATING, DESTRUCTIVE)]
    return _helm_verb(p, pos, ctx)


def _helm_verb(p: Parsed, pos: list[str], ctx: Ctx) -> list[Part]:
    verb, rest = pos[0], pos[1:]
    sub = rest[0] if rest else ""
    dry = p.has("--dry-run") and (p.value("--dry-run") or "client") not in ("false", "none")
    if verb == "get":
        if sub in ("values", "all", "manifest"):
            what = {"values": "the release's values (charts take passwords and keys as values)",
                    "all": "the rendered manifests and values, Secrets included",
                    "manifest": "the rendered manifests, Secrets included"}[sub]
            return [Part(READ_ONLY, f"helm get {sub} prints {what}", exposes=True)]
        return [Part(READ_ONLY, f"helm get {sub}: reads a release")]
    if verb in ("repo", "dependency", "dep", "plugin") and sub in ("list", "ls"):
        return [Part(READ_ONLY, f"helm {verb} list: lists")]
    if verb == "diff":
        return [Part(READ_ONLY, _HELM_READ["diff"])]
    if verb in _HELM_READ:
        return [Part(READ_ONLY, f"helm {verb}: {_HELM_READ[verb]}")]
    release = rest[0] if rest else None
    if verb in _HELM_DESTROY:
        if dry:
            return [Part(READ_ONLY, f"helm {verb} --dry-run: simulates; nothing is removed")]
        return [Part(DESTRUCTIVE, f"helm {verb} removes the release {' '.join(rest)} and every object it created",
                     target=release if len(rest) == 1 else None)]
    if verb in ("install", "upgrade", "rollback") and dry:
        return [Part(READ_ONLY, f"helm {verb} --dry-run prints the rendered manifests, Secrets included; nothing is "
                                "changed", exposes=verb != "rollback")]
    if verb == "upgrade" and p.has("--force"):
        return [Part(DESTRUCTIVE, "helm upgrade --force replaces objects by deleting and re-creating them",
                     target=release)]
    if verb in _HELM_WRITE:
        if verb == "install" and p.has("--generate-name", "-g"):
            release = None
        return [Part(MUTATING, f"helm {verb}: {_HELM_WRITE[verb]}{' ' + release if release else ''}",
                     target=release if verb in ("install", "upgrade", "rollback", "test") else None)]
    return [Part(UNKNOWN, f"helm {verb}: not a helm command the guard knows (a plugin?)")]


# -- velero ----------------------------------------------------------------------------------------------

_VELERO_VALUE = {
    "-n", "--namespace", "--kubeconfig", "--kubecontext", "--features", "--colorized", "--from-backup",
    "--from-schedule", "--include-namespaces", "--exclude-namespaces", "--include-resources", "--exclude-resources",
    "-l", "--selector", "--ttl", "--storage-location", "--volume-snapshot-locations", "--schedule", "--labels",
    "--namespace-mappings", "--existing-resource-policy", "-o", "--output", "--or-selector", "--csi-snapshot-timeout",
    "--item-operation-timeout", "--ordered-resources", "--resource-modifier-configmap", "--parallel-files-upload",
    "--status-include-resources", "--status-exclude-resources", "--timeout", "--cacert", "--provider", "--bucket",
    "--prefix", "--config", "--credential", "--default", "--access-mode", "--backup-sync-period",
    "--validation-frequency", "--include-cluster-scoped-resources", "--exclude-cluster-scoped-resources",
    "--include-namespace-scoped-resources", "--exclude-namespace-scoped-resources", "--image", "--plugins",
    "--secret-file", "--backup-location-config", "--snapshot-location-config", "--uploader-type", "--label-columns",
    "--data-mover", "--write-sparse-files", "--pod-labels", "--service-account-annotations",
}
_VELERO_NOUNS = {"backup", "restore", "schedule", "backup-location", "snapshot-location", "plugin", "repo",
                 "client", "datamover", "repository", "node-agent"}
_VELERO_VERB_FIRST = {"get", "describe", "create", "delete"}


def _velero(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], _VELERO_VALUE)
    pos = _pos(p)
    if p.has("-h", "--help") or not pos:
        return [Part(READ_ONLY, "velero: prints help")]
    if pos[0] in ("version", "completion", "help"):
        return [Part(READ_ONLY, f"velero {pos[0]}: prints information")]
    if pos[0] == "install":
        return [Part(MUTATING, "velero install creates or updates Velero in the cluster")]
    if pos[0] == "uninstall":
        return [Part(DESTRUCTIVE, "velero uninstall removes Velero and its resources from the cluster")]
    if pos[0] == "debug":
        return [Part(MUTATING, "velero debug writes a tarball of Velero resources and logs to a local file")]
    if pos[0] == "bug":
        return [Part(UNKNOWN, "velero bug opens a browser to file an issue")]
    if pos[0] in _VELERO_VERB_FIRST and len(pos) > 1:
        verb, noun, rest = pos[0], pos[1].rstrip("s"), pos[2:]
    else:
        noun, verb, rest = pos[0], pos[1] if len(pos) > 1 else "", pos[2:]
    noun = {"backups": "backup", "restores": "restore", "schedules": "schedule", "repository": "repo"}.get(noun, noun)
    name = rest[0] if rest else None
    what = f"velero {noun} {verb}".strip()
    if noun not in _VELERO_NOUNS:
        return [Part(UNKNOWN, f"velero {' '.join(pos[:2])}: not a velero command the guard knows")]
    if verb in ("get", "describe", "logs", "") or (noun == "client" and verb == "config" and rest[:1] == ["get"]):
        return [Part(READ_ONLY, f"{what}: reads {noun}s")]
    if verb == "download":
        return [Part(MUTATING, f"{what} writes the backup's contents (Secrets included) to a local file",
                     exposes=True, target=name)]
    if verb == "delete":
        scope = "every " + noun if p.has("--all") else " ".join(rest) or noun
        return [Part(DESTRUCTIVE, f"{what} deletes {scope}" + (" and its data in object storage"
                                                                if noun == "backup" else ""),
                     target=name if len(rest) == 1 else None)]
    if noun == "restore" and verb == "create":
        policy = (p.value("--existing-resource-policy") or "none").lower()
        backup = p.value("--from-backup") or p.value("--from-schedule")
        if policy == "update":
            return [Part(DESTRUCTIVE, f"{what} --existing-resource-policy=update overwrites live objects with the "
                                      "backup's copies", target=name or backup)]
        return [Part(MUTATING, f"{what} re-creates objects from {'backup ' + backup if backup else 'a backup'} "
                               "(objects that exist are skipped, not overwritten)", target=name or backup)]
    if noun == "backup" and verb == "create":
        return [Part(MUTATING, f"{what} starts a backup", target=name or p.value("--from-schedule"))]
    if verb in ("create", "pause", "unpause", "set", "add", "remove", "config", "maintenance-run"):
        return [Part(MUTATING, f"{what}: changes Velero's configuration", target=name)]
    return [Part(UNKNOWN, f"{what}: not a velero command the guard knows")]


# -- argocd ----------------------------------------------------------------------------------------------

_ARGOCD_VALUE = {
    "--server", "--auth-token", "--config", "-H", "--header", "--port-forward-namespace", "--kube-context",
    "--logformat", "--loglevel", "--client-crt", "--client-crt-key", "--server-crt", "--grpc-web-root-path",
    "--http-retry-max", "--redis-haproxy-name", "--redis-name", "--repo-server-name", "--server-name",
    "--controller-name", "--redis-compress", "-N", "--app-namespace", "-o", "--output", "--revision", "--resource",
    "-l", "--selector", "-p", "--parameter", "--timeout", "--project", "--source-position", "--source-name",
    "--kind", "--group", "--namespace", "-n", "--container", "--tail", "--since-seconds", "--until-time",
    "--filter", "--local", "--local-repo-root", "--retry-limit", "--retry-backoff-duration", "--strategy",
    "--propagation-policy", "--patch", "--patch-type", "--type", "--values", "--values-literal-file",
    "--helm-set", "--helm-set-string", "--helm-set-file", "--dest-server", "--dest-namespace", "--dest-name",
    "--repo", "--path", "--sync-policy", "--health-check", "--exit-code", "--server-side-generate", "--refresh-type",
    "--username", "--password", "--sso-port", "--account", "--id", "--expires-in", "--current-password",
    "--new-password", "--name", "--upsert", "--file", "-f", "--label", "--annotations",
}
_ARGOCD_APP_READ = {"get", "list", "diff", "history", "manifests", "resources", "logs", "wait", "man", "links"}
_ARGOCD_APP_WRITE = {"sync", "set", "unset", "rollback", "patch", "patch-resource", "edit", "create",
                     "terminate-op", "add-source", "remove-source", "actions", "confirm-deletion"}


def _argocd(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], _ARGOCD_VALUE)
    pos = _pos(p)
    if p.has("-h", "--help") or not pos:
        return [Part(READ_ONLY, "argocd: prints help")]
    noun, verb = pos[0], pos[1] if len(pos) > 1 else ""
    name = pos[2] if len(pos) > 2 else None
    what = f"argocd {noun} {verb}".strip()
    if noun in ("version", "completion", "help"):
        return [Part(READ_ONLY, f"argocd {noun}: prints information")]
    if noun in ("login", "logout", "relogin"):
        return [Part(MUTATING, f"argocd {noun} changes the local argocd session")]
    if noun == "context":
        if len(pos) == 1 and not p.has("--delete"):
            return [Part(READ_ONLY, "argocd context: lists contexts")]
        return [Part(MUTATING, "argocd context switches or deletes the local argocd context")]
    if noun == "admin":
        if verb == "initial-password":
            return [Part(READ_ONLY, "argocd admin initial-password prints the admin password", exposes=True)]
        return [Part(UNKNOWN, f"{what}: admin commands are not classified")]
    if noun in ("app", "application", "apps"):
        if verb == "get" and p.has("--refresh", "--hard-refresh"):
            hard = "hard " if p.has("--hard-refresh") else ""
            return [Part(MUTATING, f"argocd app get --{hard.strip() + '-' if hard else ''}refresh makes Argo CD "
                                   f"{hard}refresh the application (re-reads Git{', re-renders manifests' if hard else ''})",
                         target=name)]
        if verb == "actions" and pos[2:3] == ["list"]:
            return [Part(READ_ONLY, "argocd app actions list: lists resource actions")]
        if verb in _ARGOCD_APP_READ:
            return [Part(READ_ONLY, f"{what}: reads application state")]
        if verb in ("delete", "delete-resource"):
            return [Part(DESTRUCTIVE, f"{what} deletes the application" + (" and, with cascade (the default), every "
                                                                            "object it manages" if verb == "delete"
                                                                            else "'s resource"), target=name)]
        if verb in _ARGOCD_APP_WRITE:
            if verb == "sync" and p.has("--dry-run"):
                return [Part(READ_ONLY, "argocd app sync --dry-run: changes nothing")]
            extra = " (--prune deletes objects missing from Git)" if verb == "sync" and p.has("--prune") else ""
            cls = DESTRUCTIVE if extra else MUTATING
            return [Part(cls, f"{what} changes the application or the cluster{extra}", target=name)]
        return [Part(UNKNOWN, f"{what}: not an argocd command the guard knows")]
    if noun in ("appset", "proj", "repo", "repocreds", "cluster", "cert", "gpg", "account"):
        if verb in ("get", "list", "ls", "get-user-info", "can-i", "generate") or \
                (noun == "proj" and verb in ("windows", "role") and pos[2:3] in (["list"], ["get"])):
            return [Part(READ_ONLY, f"{what}: reads configuration")]
        if verb in ("delete", "rm", "remove", "delete-token"):
            return [Part(DESTRUCTIVE, f"{what} deletes {noun} {name or ''}".rstrip(), target=name)]
        if verb == "generate-token":
            return [Part(MUTATING, f"{what} issues an API token and prints it", exposes=True)]
        return [Part(MUTATING, f"{what} changes Argo CD configuration", target=name)]
    return [Part(UNKNOWN, f"{what}: not an argocd command the guard knows")]


# -- mise ------------------------------------------------------------------------------------------------

MISE_TASKS: dict[str, tuple[str, str]] = {
    # task: (class, why) — the platform's tasks; a task not listed is unknown
    "admin": (UNKNOWN, "opens port-forwards to the admin UIs (Grafana, Prometheus, Alertmanager) according to the "
                       "platform docs; its script lives in the platform repository and is not inspected"),
    "resize-storage": (MUTATING, "resizes PersistentVolumeClaims"),
}
_MISE_READ = {"ls", "list", "current", "doctor", "version", "which", "where", "env", "config", "settings", "outdated",
              "bin-paths", "latest", "ls-remote", "search", "registry", "completion", "help", "tasks", "plugins",
              "activate", "hook-env", "reshim-check"}
_MISE_WRITE = {"install", "i", "use", "u", "upgrade", "up", "set", "unset", "sync", "trust", "link", "self-update",
               "cache", "generate", "fmt", "reshim", "shell", "edit"}
_MISE_DESTROY = {"uninstall", "rm", "remove", "prune", "implode"}


def _mise(words: list[Word], ctx: Ctx) -> list[Part]:
    p = parse_args(words[1:], {"-C", "--cd", "-E", "--env", "-j", "--jobs", "--output", "-o", "--shell", "-s",
                               "--tool", "-t"}, stop_at_positional=True)
    pos = _pos(p)
    if p.has("-h", "--help", "-V", "--version") and not pos:
        return [Part(READ_ONLY, "mise: prints help or its version")]
    if not pos:
        return [Part(UNKNOWN, "mise without a command")]
    cmd = pos[0]
    if cmd in ("run", "r"):
        rp = parse_args(p.positionals[1:], {"-C", "--cd", "-j", "--jobs", "-o", "--output", "-t", "--tool",
                                            "--timeout", "-s", "--shell"})
        tasks = [t for t in _pos(rp) if t != ":::"] if not rp.dashdash else _pos(rp)[:1]
        if not tasks:
            return [Part(UNKNOWN, "mise run without a task opens a task picker")]
        return [_mise_task(tasks[0])] + [_mise_task(t) for t in tasks[1:] if t in MISE_TASKS]
    if cmd in ("exec", "x"):
        inner = p.positionals[1:]
        rest = parse_args(inner, {"-C", "--cd", "-c", "--command", "-j", "--jobs"})
        if rest.value("-c", "--command"):
            return ctx.line(rest.value("-c", "--command") or "")
        return ctx.argv(list(rest.after_dashdash)) if rest.after_dashdash else [Part(UNKNOWN, "mise exec without a command")]
    if cmd == "tasks" and len(pos) > 1 and pos[1] in ("run", "r"):
        return [_mise_task(pos[2])] if len(pos) > 2 else [Part(UNKNOWN, "mise tasks run without a task")]
    if cmd in _MISE_READ:
        return [Part(READ_ONLY, f"mise {cmd}: reads tool and task information")]
    if cmd in _MISE_WRITE:
        return [Part(MUTATING, f"mise {cmd}: changes installed tools or configuration")]
    if cmd in _MISE_DESTROY:
        return [Part(DESTRUCTIVE, f"mise {cmd} removes installed tools")]
    return [_mise_task(cmd)]  # `mise TASK` runs a task


def _mise_task(task: str) -> Part:
    known = MISE_TASKS.get(task)
    if known is None:
        return Part(UNKNOWN, f"mise task {task} is not in the guard's table of platform tasks")
    return Part(known[0], f"mise task {task} {known[1]}", target=task)


# -- smaller tools ---------------------------------------------------------------------------------------

def _table(tool: str, read: set[str], write: set[str], destroy: set[str], value: set[str],
           exposes: dict[str, str] | None = None, depth: int = 1) -> Rule:
    """A tool whose first `depth` positionals name the command."""
    exposes = exposes or {}

    def rule(words: list[Word], ctx: Ctx) -> list[Part]:
        p = parse_args(words[1:], value)
        pos = _pos(p)
        if p.has("-h", "--help") and not pos:
            return [Part(READ_ONLY, f"{tool}: prints help")]
        key = " ".join(pos[:depth])
        head = pos[0] if pos else ""
        name = pos[depth] if len(pos) > depth else None
        if key in exposes or head in exposes:
            return [Part(READ_ONLY, f"{tool} {key} {exposes.get(key) or exposes[head]}", exposes=True)]
        for k in (key, head):
            if k in read:
                return [Part(READ_ONLY, f"{tool} {key}: reads")]
            if k in destroy:
                return [Part(DESTRUCTIVE, f"{tool} {key} deletes {name or ''}".rstrip(), target=name)]
            if k in write:
                return [Part(MUTATING, f"{tool} {key} changes state", target=name)]
        return [Part(UNKNOWN, f"{tool} {key}: not a {tool} command the guard knows")]
    return rule


_cmctl = _table("cmctl", {"status", "inspect", "check", "version", "help", "completion", "convert"},
                {"renew", "approve", "deny", "create", "experimental", "x", "install", "upgrade"}, {"uninstall"},
                {"-n", "--namespace", "--context", "--kubeconfig", "-o", "--output", "-l", "--selector"})
_promtool = _table("promtool", {"check", "query", "test", "debug-check", "--version", "tsdb analyze", "tsdb list",
                                "tsdb dump", "tsdb dump-openmetrics"},
                   {"push", "debug", "tsdb create-blocks-from", "tsdb"}, set(),
                   {"--url", "--http.config.file", "-o"}, depth=2)
_amtool = _table("amtool", {"alert", "alert query", "silence", "silence query", "check-config", "config",
                            "config show", "config routes", "template", "template render", "cluster", "cluster show",
                            "--version"},
                 {"alert add", "silence add", "silence expire", "silence import", "silence update"}, set(),
                 {"--alertmanager.url", "-o", "--output", "--config.file", "--timeout", "-c", "--comment", "-d",
                  "--duration", "-a", "--author"}, depth=2)
_vault = _table("vault", {"status", "kv list", "list", "token lookup", "secrets list", "auth list", "policy read",
                          "policy list", "version", "kv metadata", "audit list", "read-only"},
                {"kv put", "kv patch", "write", "login", "token create", "kv rollback", "policy write", "secrets enable",
                 "auth enable", "kv undelete", "token renew"},
                {"kv delete", "kv destroy", "delete", "secrets disable", "auth disable", "policy delete",
                 "token revoke", "kv metadata delete"},
                {"-address", "-namespace", "-field", "-format", "-mount", "-version", "-versions"},
                exposes={"kv get": "prints secret values", "read": "prints secret values"}, depth=2)


def _sre_expert(words: list[Word], ctx: Ctx) -> list[Part]:
    pos = [w.text for w in words[1:] if not w.text.startswith("-")]
    cmd = pos[0] if pos else ""
    if not cmd or cmd in ("check", "checks", "trace", "component", "dr", "version", "redact", "lint"):
        return [Part(READ_ONLY, f"sre-expert {cmd}: diagnoses; changes nothing".replace("  ", " "))]
    if cmd == "guard" and pos[1:2] == ["classify"]:
        return [Part(READ_ONLY, "sre-expert guard classify: classifies a command without running it")]
    if cmd == "guard" and pos[1:2] == ["run"]:
        idx = next((i for i, w in enumerate(words) if w.text == "--"), None)
        inner = words[idx + 1:] if idx is not None else []
        if len(inner) == 1:
            return ctx.line(inner[0].text)
        return ctx.argv(inner) if inner else [Part(UNKNOWN, "sre-expert guard run without a command")]
    return [Part(UNKNOWN, f"sre-expert {cmd}: may run commands; not classified")]


# -- cloud CLIs ------------------------------------------------------------------------------------------

_CLOUD_READ = {"describe", "list", "get", "show", "read", "search", "get-iam-policy", "tail", "ls", "check",
               "print-settings", "info", "status", "version", "get-value", "browse", "explain", "wait"}
_CLOUD_DESTROY = {"delete", "remove", "destroy", "purge", "rm", "rb", "terminate", "deregister", "uninstall"}
_CLOUD_WRITE = {"create", "update", "set", "add", "patch", "deploy", "start", "stop", "restart", "resize", "enable",
                "disable", "import", "export", "apply", "add-iam-policy-binding", "remove-iam-policy-binding",
                "set-iam-policy", "attach", "detach", "move", "copy", "cp", "sync", "mv", "rotate", "upgrade",
                "rollback", "scale", "reset", "login", "logout", "configure", "init", "activate-service-account",
                "get-credentials", "mb", "suspend", "resume", "run", "submit", "invoke", "publish", "tag",
                "untag", "add-tag", "access", "revoke", "grant", "register", "unregister", "connect", "ssh", "scp"}
_CLOUD_EXPOSES = {
    ("gcloud", "secrets versions access"): "prints a secret's payload",
    ("gcloud", "auth print-access-token"): "prints an access token",
    ("gcloud", "auth print-identity-token"): "prints an identity token",
    ("gcloud", "auth application-default print-access-token"): "prints an access token",
    ("gcloud", "config config-helper"): "prints an access token",
    ("az", "keyvault secret show"): "prints a Key Vault secret",
    ("az", "keyvault secret download"): "writes a Key Vault secret",
    ("az", "storage account keys list"): "prints storage account keys",
    ("az", "acr credential show"): "prints registry credentials",
    ("az", "account get-access-token"): "prints an access token",
}
_GCLOUD_VALUE = {"--project", "--account", "--configuration", "--format", "--filter", "--limit", "--page-size",
                 "--sort-by", "--verbosity", "--zone", "--region", "--location", "--impersonate-service-account",
                 "--flags-file", "--billing-project", "--trace-token", "--data-file", "--secret", "--version",
                 "--iam-account", "--cluster", "--member", "--role", "--condition", "--replication-policy",
                 "--key-file", "--subscription", "--resource-group", "-g", "--name", "-n", "--vault-name",
                 "--query", "-o", "--output", "--id", "--ids"}


def _gcloud_az(words: list[Word], ctx: Ctx) -> list[Part]:
    tool = words[0].text.rsplit("/", 1)[-1]
    p = parse_args(words[1:], _GCLOUD_VALUE)
    pos = _pos(p)
    if not pos or p.has("-h", "--help"):
        return [Part(READ_ONLY, f"{tool}: prints help")]
    joined = " ".join(pos)
    for (t, cmd), why in _CLOUD_EXPOSES.items():
        if t == tool and (joined == cmd or joined.startswith(cmd + " ")):
            return [Part(READ_ONLY, f"{tool} {cmd} {why}", exposes=True)]
    for i, w in enumerate(pos):
        name = pos[i + 1] if i + 1 < len(pos) else None
        if w in _CLOUD_DESTROY:
            return [Part(DESTRUCTIVE, f"{tool} {' '.join(pos[:i + 1])} deletes {name or 'resources'}", target=name)]
        if w in _CLOUD_WRITE or w.startswith(("create-", "update-", "set-", "add-", "remove-")):
            return [Part(MUTATING, f"{tool} {' '.join(pos[:i + 1])} changes cloud resources or local credentials",
                         target=name)]
        if w in _CLOUD_READ or w.startswith(("list-", "describe-", "get-")):
            return [Part(READ_ONLY, f"{tool} {' '.join(pos[:i + 1])}: reads")]
    return [Part(UNKNOWN, f"{tool} {joined}: not a {tool} command the guard knows")]


_AWS_VALUE = {"--region", "--profile", "--output", "--query", "--endpoint-url", "--color", "--ca-bundle",
              "--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format", "--cli-input-json",
              "--cli-input-yaml"}
_AWS_EXPOSES = {"secretsmanager get-secret-value": "prints a secret's value",
                "eks get-token": "prints a bearer token for the cluster's API server",
                "configure export-credentials": "prints the access key and secret key",
                "configure get": "prints a configuration value (aws_secret_access_key among them)",
                "sts get-federation-token": "prints temporary credentials",
                "sts assume-role-with-web-identity": "prints temporary credentials",
                "ecr get-login-password": "prints a registry password",
                "ecr get-authorization-token": "prints a registry token",
                "sts assume-role": "prints temporary credentials", "sts get-session-token": "prints temporary "
                "credentials", "iam create-access-key": "creates and prints an access key"}


def _aws(words: list[Word], ctx: Ctx) -> list[Part]:
    # aws options all take a value except a few booleans; services and operations are the first positionals
    flags_bool = {"--debug", "--no-verify-ssl", "--no-paginate", "--no-sign-request", "--no-cli-pager",
                  "--cli-auto-prompt", "--no-cli-auto-prompt", "--with-decryption", "--no-with-decryption",
                  "--recursive", "--delete", "--dryrun", "--dry-run", "--force", "--quiet", "--human-readable",
                  "--summarize", "--exact-timestamps", "--size-only", "--follow-symlinks", "--only-show-errors",
                  "--no-progress"}
    pos: list[str] = []
    flags: set[str] = set()
    i = 1
    while i < len(words):
        t = words[i].text
        if t.startswith("--"):
            flags.add(t.partition("=")[0])
            i += 1 if ("=" in t or t in flags_bool) else 2
            continue
        pos.append(t)
        i += 1
    if not pos:
        return [Part(READ_ONLY, "aws: prints help")]
    svc, op = pos[0], pos[1] if len(pos) > 1 else ""
    key = f"{svc} {op}"
    if "--dry-run" in flags or "--dryrun" in flags:
        return [Part(READ_ONLY, f"aws {key} --dry-run: changes nothing")]
    if key in _AWS_EXPOSES:
        cls = MUTATING if op.startswith("create-") else READ_ONLY
        return [Part(cls, f"aws {key} {_AWS_EXPOSES[key]}", exposes=True)]
    if svc == "ssm" and op in ("get-parameter", "get-parameters", "get-parameters-by-path") and \
            "--with-decryption" in flags:
        return [Part(READ_ONLY, f"aws {key} --with-decryption prints SecureString values", exposes=True)]
    if svc == "s3":
        if op in ("ls", "presign"):
            return [Part(READ_ONLY, f"aws s3 {op}: reads")]
        if op in ("rm", "rb") or (op in ("sync",) and "--delete" in flags) or op == "mv":
            return [Part(DESTRUCTIVE, f"aws s3 {op} deletes objects" + (" (moves them)" if op == "mv" else ""))]
        return [Part(MUTATING, f"aws s3 {op} writes objects or local files")]
    if re.match(r"(describe|list|get|head|batch-get|lookup|search|scan|query|select|estimate|preview|validate|"
                r"simulate|filter|test)-|^(scan|query|wait|help)$", op):
        return [Part(READ_ONLY, f"aws {key}: reads")]
    if re.match(r"(delete|terminate|remove|deregister|purge|destroy|batch-delete|revoke|cancel|disassociate|"
                r"detach|disable|reset)-", op):
        cls = DESTRUCTIVE if re.match(r"(delete|terminate|remove|deregister|purge|destroy|batch-delete)-", op) \
            else MUTATING
        return [Part(cls, f"aws {key} {'deletes resources' if cls == DESTRUCTIVE else 'changes resources'}")]
    if op:
        if re.match(r"(create|put|update|modify|start|stop|run|attach|associate|tag|untag|register|enable|reboot|"
                    r"restore|copy|import|set|add|send|publish|invoke|rotate|upload|accept|apply|authorize|"
                    r"change|enter|exit|execute|replace|request|resume|suspend|swap|upgrade)", op):
            return [Part(MUTATING, f"aws {key} changes resources")]
    return [Part(UNKNOWN, f"aws {key}: not an aws operation the guard knows")]


RULES: dict[str, Rule] = {
    "helm": _helm, "velero": _velero, "argocd": _argocd, "mise": _mise, "cmctl": _cmctl, "promtool": _promtool,
    "amtool": _amtool, "vault": _vault, "sre-expert": _sre_expert, "gcloud": _gcloud_az, "az": _gcloud_az,
    "aws": _aws,
}
