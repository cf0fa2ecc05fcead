"""A GitOps repository read once: every YAML document with the line of every field, and the files.

Lines come from PyYAML's node tree (compose, C loader when available): a finding points at the exact
line a human must edit. YAML is read the way kubectl reads it (sigs.k8s.io/yaml over go-yaml v2), not
as PyYAML's strict loader would: a tag it does not know (`!Ref`, `!!python/…`) is a plain scalar, list
or map; a bare `=` is a string; timestamps stay strings (they reach the API server as JSON strings); an
anchor defined twice is allowed, later aliases taking the newer one.

A file that still does not parse is one of three things. If it looks like what lint reads (a Kubernetes
object, a platform values file, a Prometheus or Falco rules file) it is recorded as an error with its
line; a manifest with placeholders a tool fills in (`{{ }}`, `${VAR}`, `{VAR}`) is skipped with a note
but may still hold objects; anything else (an application's config, a CI file) is skipped with a note.
Rules that reason about absence ("no Gateway named X") ask `Repo.hiding(kind…)`: only a broken file
that may define one of those kinds withholds the conclusion, so one broken file
never turns into a cascade of false findings, nor silences the rules for the whole repository.

Helm chart templates (`templates/` next to a Chart.yaml) are Go templates, not YAML: they are listed
as files but not parsed.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import yaml

from sre_expert.safety.yaml_aliases import MAX_EXPANDED_NODES, expanded_size

Path_ = tuple[Any, ...]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_K8S_HINT = re.compile(r"^\s*(?:-\s+)?apiVersion:\s*\S", re.M)
_KIND = re.compile(r"^\s*(?:-\s+)?kind:\s*[\"']?([^\s\"'#]*)", re.M)
_RULES_HINT = re.compile(r"^\s*(?:-\s+)?(?:groups:|rules:|-\s+(?:alert|record):)", re.M)
_FALCO_HINT = re.compile(r"^-\s+(?:rule|macro|list|required_engine_version):", re.M)
# Markup a tool substitutes before kubectl sees the file: Go/Helm `{{ }}`, envsubst `${VAR}`, `{VAR}`.
_PLACEHOLDER = re.compile(r"\{\{|\$\{[A-Za-z_]|\{[A-Z][A-Z0-9_]+\}")
ALL_KINDS = "*"
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "CustomResourceDefinition", "ClusterRole",
    "ClusterRoleBinding", "PriorityClass", "IngressClass", "RuntimeClass", "APIService", "CSIDriver",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "GatewayClass", "ClusterIssuer", "ClusterPolicy", "ClusterSecretStore",
    "ClusterExternalSecret", "ClusterCleanupPolicy", "VolumeSnapshotClass"})
RULE_FILE = "(Prometheus rule file)"
FALCO_FILE = "(Falco rules file)"
_SKIP_DIRS = {".git", "node_modules", ".venv", "__pycache__"}
MAX_FILE_BYTES = 5 * 1024 * 1024
INFRA_VALUES = "values/infrastructure/main.yaml"
DEPLOYMENT_VALUES_DIR = "values/deployments"


@dataclass(slots=True)
class Doc:
    """One YAML document of a file: its data and the 1-based line of each field path."""

    file: str
    index: int
    data: Any
    lines: dict[Path_, int]
    # Namespaces the deploying tool gives the objects of this file (lint/namespaces.py): `ns_override`
    # replaces theirs (kustomize `namespace:`, Flux targetNamespace); `ns_default` fills an absent one
    # (Argo CD destination). Several when several overlays/applications deploy the file.
    ns_override: tuple[str, ...] = ()
    ns_default: tuple[str, ...] = ()

    def line(self, *path: Any) -> int:
        """Line of the deepest existing prefix of `path` (the document start for an empty path)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)

    def get(self, *path: Any, default: Any = None) -> Any:
        cur = self.data
        for k in path:
            if isinstance(cur, dict) and k in cur:
                cur = cur[k]
            elif isinstance(cur, list) and isinstance(k, int) and -len(cur) <= k < len(cur):
                cur = cur[k]
            else:
                return default
        return cur

    @property
    def is_object(self) -> bool:
        d = self.data
        return isinstance(d, dict) and isinstance(d.get("kind"), str) and isinstance(d.get("apiVersion"), str)

    @property
    def kind(self) -> str:
        return self.data.get("kind", "") if isinstance(self.data, dict) else ""


@dataclass(slots=True)
class ParseError:
    """A file that did not parse. `kinds`: what it may define (read from its text), `ALL_KINDS` when
    that cannot be told; empty for a file that is not one lint reads (skipped with a note, no error)."""

    file: str
    line: int
    message: str
    kinds: frozenset[str] = frozenset({ALL_KINDS})
    template: bool = False  # placeholders (`{{ }}`, `${VAR}`, `{VAR}`): rendered by a tool, never applied as written

    @property
    def linted(self) -> bool:
        """Reported as LINT-YAML-INVALID: a file kubectl or the platform would be given as written."""
        return bool(self.kinds) and not self.template


@dataclass(slots=True)
class RepoObject:
    """A Kubernetes object of the repo, from a manifest or derived from a values file.

    `base` maps the object's paths onto the document: a manifest is the document itself; an object a
    chart renders from values (an HTTPRoute from `httpRoutes[0]`) points its spec fields at that entry.
    """

    obj: dict[str, Any]
    doc: Doc
    base: Path_ = ()
    from_values: bool = False

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def metadata(self) -> dict[str, Any]:
        md = self.obj.get("metadata")
        return md if isinstance(md, dict) else {}

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every namespace this object is deployed to: as kustomize/Flux set it, else its own, else the
        Argo CD destination's. Empty for a cluster-scoped kind or when nothing says."""
        if self.kind in CLUSTER_SCOPED:
            return ()
        if self.doc.ns_override and not self.from_values:
            return self.doc.ns_override
        own = str(self.metadata.get("namespace") or "")
        if own:
            return (own,)
        return self.doc.ns_default if not self.from_values else ()

    @property
    def namespace(self) -> str:
        ns = self.namespaces
        return ns[0] if ns else ""

    @property
    def file(self) -> str:
        return self.doc.file

    def line(self, *path: Any) -> int:
        if not self.from_values:
            return self.doc.line(*path)
        if path and path[0] == "spec":
            return self.doc.line(*self.base, *path[1:])
        if path and path[0] == "metadata":
            return self.doc.line(*self.base, "name")
        return self.doc.line(*self.base)

    def display(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


@dataclass(slots=True)
class Repo:
    root: Path
    docs: list[Doc] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    templates: set[str] = field(default_factory=set)
    derived: list[RepoObject] = field(default_factory=list)
    fixture_dirs: set[str] = field(default_factory=set)
    patches: set[str] = field(default_factory=set)  # kustomize patch files: partial objects, not manifests
    origin: str | None = None  # this checkout's repository URL (--repo-url, or git's origin at its top level)
    origin_from: str = ""

    @property
    def broken(self) -> list[ParseError]:
        """Files lint reads that did not parse (each a LINT-YAML-INVALID)."""
        return [e for e in self.errors if e.linted]

    @property
    def unread(self) -> list[ParseError]:
        """Every file that did not parse and may still hold objects (broken ones and templates)."""
        return [e for e in self.errors if e.kinds]

    @property
    def skipped(self) -> list[ParseError]:
        """Files that did not parse and are none of what lint reads (no apiVersion/kind, not values)."""
        return [e for e in self.errors if not e.linted]

    def hiding(self, *kinds: str) -> list[ParseError]:
        """Broken files that may define an object of one of these kinds: a rule concluding that such an
        object is absent cannot trust the conclusion while they are unread."""
        want = set(kinds)
        return [e for e in self.unread if ALL_KINDS in e.kinds or e.kinds & want]

    def objects(self, *kinds: str) -> list[RepoObject]:
        """Manifest objects (and objects derived from values) of these kinds, in file order."""
        out = [RepoObject(d.data, d) for d in self.docs
               if d.is_object and (not kinds or d.kind in kinds) and not self.is_fixture(d.file)
               and d.file not in self.patches]
        out += [o for o in self.derived if not kinds or o.kind in kinds]
        return out

    def is_fixture(self, file: str) -> bool:
        """A test input, never deployed: next to (or below) a Kyverno CLI `kyverno-test.yaml` or Chainsaw
        `chainsaw-test.yaml`, or in a `.kyverno-test`, `.chainsaw-test` or Go `testdata` directory:
        resources written to pass or fail a test."""
        parts = file.split("/")
        return any("/".join(parts[:i]) in self.fixture_dirs for i in range(len(parts)))

    def doc(self, file: str, index: int = 0) -> Doc | None:
        for d in self.docs:
            if d.file == file and d.index == index:
                return d
        return None

    @property
    def infra_values(self) -> Doc | None:
        d = self.doc(INFRA_VALUES)
        return d if d is not None and isinstance(d.data, dict) else None

    @property
    def deployment_values(self) -> list[Doc]:
        prefix = DEPLOYMENT_VALUES_DIR + "/"
        return [d for d in self.docs if d.file.startswith(prefix) and d.file.count("/") == 2 and isinstance(d.data, dict)]

    def exists(self, rel: str) -> bool:
        rel = rel.strip("/")
        return rel in ("", ".") or rel in self.files or rel in self.dirs

    def glob(self, pattern: str, *, dirs: bool = False) -> list[str]:
        """Repo paths matching an Argo CD / shell glob (`*` stays inside one path segment, `**` crosses)."""
        import re

        pat = pattern.strip("/")
        rx = re.compile(
            "^" + "".join(
                ".*" if tok == "**" else "[^/]*" if tok == "*" else "[^/]" if tok == "?" else re.escape(tok)
                for tok in re.split(r"(\*\*|\*|\?)", pat) if tok
            ) + "$"
        )
        pool = self.dirs if dirs else self.files
        return sorted(p for p in pool if rx.match(p))


def _key(knode: yaml.ScalarNode) -> Any:
    """A mapping key as the constructor builds it (integer keys stay integers)."""
    if knode.tag.endswith(":int"):
        try:
            return int(knode.value)
        except ValueError:
            return knode.value
    return knode.value


def _walk_children(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            if not isinstance(knode, yaml.ScalarNode) or knode.value == "<<":
                continue
            key = _key(knode)
            out[path + (key,)] = knode.start_mark.line + 1
            _walk_children(vnode, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[path + (i,)] = item.start_mark.line + 1
            _walk_children(item, path + (i,), out)


class KubectlConstructor(yaml.constructor.SafeConstructor):
    """SafeConstructor with go-yaml v2's leniency (what kubectl applies): tags it does not know become
    the plain node they tag, `=` is a string, timestamps stay the text written. Nothing is executed:
    `!!python/object:…` is a string like any other unknown tag."""

    def construct_plain(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.construct_yaml_map(node)
        if isinstance(node, yaml.SequenceNode):
            return self.construct_yaml_seq(node)
        return self.construct_scalar(cast(yaml.ScalarNode, node))  # the only other kind of node

    def construct_text(self, node: yaml.Node) -> str:
        # SafeConstructor.construct_scalar also reads a mapping's `=` value; other nodes raise as before
        return str(self.construct_scalar(cast("yaml.ScalarNode | yaml.MappingNode", node)))


# types-PyYAML binds add_constructor's receiver to Loader classes; this constructor runs on its own
# (construct_document on nodes composed elsewhere) and registers on itself, which the stubs cannot express.
KubectlConstructor.add_constructor(None, KubectlConstructor.construct_plain)  # type: ignore[type-var]
KubectlConstructor.add_constructor("tag:yaml.org,2002:value",  # type: ignore[type-var]
                                   KubectlConstructor.construct_text)
KubectlConstructor.add_constructor("tag:yaml.org,2002:timestamp",  # type: ignore[type-var]
                                   KubectlConstructor.construct_text)


class _RedefinableAnchors(yaml.composer.Composer):
    """go-yaml (and YAML 1.2) let a document define an anchor again; later aliases name the newer node.
    PyYAML refuses ("found duplicate anchor"), so such files are composed again by this pure-Python
    composer (slower, used only for them)."""

    if TYPE_CHECKING:  # provided by the Parser it is mixed with (_LenientLoader); a node's event here
        def peek_event(self) -> yaml.NodeEvent: ...

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if not isinstance(event, yaml.AliasEvent) and event.anchor is not None:
            self.anchors.pop(event.anchor, None)
        return super().compose_node(parent, index)


class _LenientLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _RedefinableAnchors,
                     yaml.resolver.Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _RedefinableAnchors.__init__(self)
        yaml.resolver.Resolver.__init__(self)


def parse_yaml(rel: str, text: str) -> tuple[list[Doc], ParseError | None]:
    """The documents of one file, or the parse error with its line (documents before it are dropped)."""
    docs, err = _parse(rel, text, _LOADER)
    if err is not None and "duplicate anchor" in err.message:
        docs, err = _parse(rel, text, _LenientLoader)
    return docs, err


def _parse(rel: str, text: str, loader: Any) -> tuple[list[Doc], ParseError | None]:
    docs: list[Doc] = []
    try:
        for i, node in enumerate(yaml.compose_all(text, Loader=loader)):
            if node is None:
                continue
            if expanded_size(node) > MAX_EXPANDED_NODES:
                return [], ParseError(rel, node.start_mark.line + 1,
                                      f"document {i + 1} expands to more than {MAX_EXPANDED_NODES} nodes through "
                                      "aliases (a YAML bomb?), not read")
            data = KubectlConstructor().construct_document(node)
            lines: dict[Path_, int] = {(): node.start_mark.line + 1}
            _walk_children(node, (), lines)
            docs.append(Doc(rel, i, data, lines))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        msg = " ".join(str(x) for x in (e.context, e.problem) if x) or str(e)
        return [], ParseError(rel, line, msg)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:
        return [], ParseError(rel, 1, f"{type(e).__name__}: {e}")
    return docs, None


def may_define(rel: str, text: str) -> frozenset[str]:
    """What an unparsable file may hold, read from its text: the kinds it names (`ALL_KINDS` when a kind
    is templated or it is a platform values file), rule-file markers; empty when it is none of what
    lint reads: such a file is skipped, kubectl would never be given it."""
    if rel == INFRA_VALUES or rel.startswith(DEPLOYMENT_VALUES_DIR + "/") or rel.rsplit("/", 1)[-1] in (
            "kustomization.yaml", "kustomization.yml", "Kustomization"):
        return frozenset({ALL_KINDS})
    out: set[str] = set()
    if _K8S_HINT.search(text):
        kinds = _KIND.findall(text)
        named = [k for k in kinds if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", k)]
        out |= set(named)
        if not kinds or len(named) < len(kinds):
            out.add(ALL_KINDS)  # `kind: {{ .Values.kind }}` or no kind line: could be anything
    if _RULES_HINT.search(text) and re.search(r"^\s*(?:-\s+)?(?:alert|record):", text, re.M):
        out.add(RULE_FILE)
    if _FALCO_HINT.search(text):
        out.add(FALCO_FILE)
    return frozenset(out)


def _is_template_dir(dirpath: Path, name: str) -> bool:
    return name == "templates" and (dirpath / "Chart.yaml").is_file()


def walk(root: Path) -> Iterator[tuple[str, Path, bool]]:
    """(relative path, absolute path, is_helm_template) of every file under root, sorted."""
    for dirpath, dirnames, filenames in os.walk(root):
        dp = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        rel_dir = dp.relative_to(root).as_posix()
        in_templates = any(
            _is_template_dir(root.joinpath(*Path(rel_dir).parts[:i]), part)
            for i, part in enumerate(Path(rel_dir).parts)
        ) if rel_dir != "." else False
        for f in sorted(filenames):
            rel = f if rel_dir == "." else f"{rel_dir}/{f}"
            yield rel, dp / f, in_templates


def _unreadable(root: Path, path: Path) -> str | None:
    """Why a repository file is not read, or None. A checkout is untrusted input: a symbolic link may point
    at ~/.kube/config or /dev/zero, a FIFO would block forever."""
    if path.is_symlink():
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "symbolic link to nothing (or a loop), not read"
        if real != root and root not in real.parents:
            return "symbolic link to a file outside the repository, not read"
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file, not read"
    if st.st_size > MAX_FILE_BYTES:
        return f"file larger than {MAX_FILE_BYTES // 1048576} MiB, not read"
    return None


FIXTURE_DIRS = (".kyverno-test", ".chainsaw-test", "testdata")  # testdata/: Go's directory of test inputs
FIXTURE_MARKERS = ("kyverno-test.yaml", "kyverno-test.yml", "chainsaw-test.yaml", "chainsaw-test.yml")


def load_repo(path: str | os.PathLike[str], repo_url: str | None = None) -> Repo:
    """Read every YAML file under `path`. Raises FileNotFoundError / NotADirectoryError for bad input.
    `repo_url`: the repository this checkout is (else git's origin when `path` is a checkout's top level)."""
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such directory")
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a directory (lint reads a repository checkout)")
    repo = Repo(root.resolve())
    for rel, abs_path, in_templates in walk(root):
        repo.files.add(rel)
        parts = rel.split("/")
        for i in range(1, len(parts)):
            repo.dirs.add("/".join(parts[:i]))
        if in_templates:
            repo.templates.add(rel)
            continue
        if not rel.endswith((".yaml", ".yml")):
            continue
        try:
            refusal = _unreadable(repo.root, abs_path)
            if refusal:
                repo.errors.append(ParseError(rel, 1, refusal))
                continue
            with abs_path.open("rb") as fh:  # bounded: the size checked above may change under us
                data = fh.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                repo.errors.append(ParseError(rel, 1, f"file larger than {MAX_FILE_BYTES // 1048576} MiB, not read"))
                continue
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            repo.errors.append(ParseError(rel, 1, f"cannot read: {e}"))
            continue
        docs, err = parse_yaml(rel, text)
        if err is not None:
            err.kinds = may_define(rel, text)
            err.template = bool(err.kinds) and bool(_PLACEHOLDER.search(text)) and not rel.startswith("values/")
            repo.errors.append(err)
        repo.docs.extend(docs)
    repo.fixture_dirs = {f.rsplit("/", 1)[0] if "/" in f else "" for f in repo.files
                         if f.rsplit("/", 1)[-1] in FIXTURE_MARKERS}
    repo.fixture_dirs |= {d for d in repo.dirs if d.rsplit("/", 1)[-1] in FIXTURE_DIRS}
    repo.fixture_dirs.discard("")  # a marker at the top level would make the whole repository a fixture
    if repo_url:
        repo.origin, repo.origin_from = repo_url, "--repo-url"
    else:
        url = git_origin(repo.root)
        if url:
            repo.origin, repo.origin_from = url, "git remote origin"
    from sre_expert.lint.namespaces import assign_namespaces
    from sre_expert.lint.values import derive_objects

    repo.derived = derive_objects(repo)
    assign_namespaces(repo)
    return repo


def git_origin(root: Path) -> str | None:
    """`git remote get-url origin` when `root` is the top level of a git checkout (paths of Argo CD sources
    are relative to it); None otherwise. Nothing of the checkout's configuration is executed."""
    import subprocess

    if not (root / ".git").exists():
        return None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent",
           "GIT_TERMINAL_PROMPT": "0"}
    try:
        out = [subprocess.run(["git", "-c", "core.fsmonitor=", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10, env=env, check=False) for args in (["rev-parse", "--show-toplevel"],
                                                                             ["remote", "get-url", "origin"])]
    except (OSError, subprocess.SubprocessError):
        return None
    if out[0].returncode != 0 or Path(out[0].stdout.strip()).resolve() != root or out[1].returncode != 0:
        return None
    return out[1].stdout.strip() or None
