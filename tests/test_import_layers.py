"""The layers of src/sre_expert import downward only: the checks are a list of checks, not a library.

Each folder imports only the folders before it in ORDER (the README's Architecture lists them in that order),
and no module file name is used twice.

lint/, diagnosis/, render/, domain/ and core/ never import checks/ (the models they share live in domain/
or core/); the one exception is the engine's entry to the registered checks (checks.registry). core/
imports nothing of sre_expert outside core/. Read with ast, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SRC = Path(__file__).resolve().parent.parent / "src"
NO_CHECKS = ("lint", "diagnosis", "render", "domain", "core")
# (folder, module) pairs allowed across the rule, each with its reason.
ALLOWED = {
    ("diagnosis", "sre_expert.checks.registry"),  # the engine runs the registered checks
}


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in a file, relative ones resolved against its package."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            # `from sre_expert import checks` imports the subpackage sre_expert.checks
            out.extend((node.lineno, f"{base}.{a.name}" if base == "sre_expert" else base) for a in node.names)
    return out


def violations(src: Path) -> list[str]:
    """Every import that breaks the layering, as `path:line: module`."""
    bad: list[str] = []
    root = src / "sre_expert"
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        package = ".".join(("sre_expert", *rel.parts[:-1]))
        for line, mod in imported_modules(path, package):
            if not (mod == "sre_expert" or mod.startswith("sre_expert.")):
                continue
            into_checks = mod == "sre_expert.checks" or mod.startswith("sre_expert.checks.")
            if folder in NO_CHECKS and into_checks and (folder, mod) not in ALLOWED:
                bad.append(f"{rel}:{line}: {mod}")
            elif folder == "core" and not (mod == "sre_expert.core" or mod.startswith("sre_expert.core.")):
                bad.append(f"{rel}:{line}: {mod}")
    return list(dict.fromkeys(bad))  # one line per import statement and module


def test_no_layer_below_checks_imports_checks_and_core_imports_only_core() -> None:
    assert violations(SRC) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / "sre_expert" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_the_walker_sees_each_kind_of_forbidden_import(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "lint/a.py": "from sre_expert.checks.gateway import GatewayIndex\n",
        "render/b.py": "def f():\n    import sre_expert.checks.pods\n",  # lazy, inside a function
        "domain/c.py": "from sre_expert import checks\n",
        "diagnosis/d.py": "from ..checks import netpol\n",  # relative
        "core/e.py": "from sre_expert.domain.event_text import clip\n",
        "core/f.py": "from sre_expert.core.k8s import cond\nfrom . import model\n",  # fine
        "checks/g.py": "from sre_expert.domain.gateway_api import GatewayIndex\n",  # fine
        "diagnosis/h.py": "from sre_expert.checks.registry import all_checks\n",  # allowed
        "edges/i.py": "from sre_expert.checks.gateway import x\n",  # edges may
    })
    assert violations(src) == [
        "core/e.py:1: sre_expert.domain.event_text",
        "diagnosis/d.py:1: sre_expert.checks",
        "domain/c.py:1: sre_expert.checks",
        "lint/a.py:1: sre_expert.checks.gateway",
        "render/b.py:2: sre_expert.checks.pods",
    ]


ORDER = ("core", "knowledge", "safety", "sources", "domain", "checks", "diagnosis", "lint", "render", "runbooks",
         "edges")


def order_violations(src: Path) -> list[str]:
    """Every import of a folder that comes later in ORDER than the importing file's own folder."""
    bad: list[str] = []
    root = src / "sre_expert"
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            continue
        allowed = set(ORDER[: ORDER.index(rel.parts[0]) + 1])
        package = ".".join(("sre_expert", *rel.parts[:-1]))
        for line, mod in imported_modules(path, package):
            parts = mod.split(".")
            if parts[0] == "sre_expert" and len(parts) > 1 and parts[1] in ORDER and parts[1] not in allowed:
                bad.append(f"{rel}:{line}: {mod}")
    return list(dict.fromkeys(bad))


def test_every_package_folder_has_its_place_in_the_order() -> None:
    root = SRC / "sre_expert"
    folders = {p.name for p in root.iterdir() if (p / "__init__.py").exists()}
    assert folders == set(ORDER)


def test_each_folder_imports_only_folders_before_it() -> None:
    assert order_violations(SRC) == []


def test_the_order_walker_sees_an_upward_import(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "safety/a.py": "def f():\n    from sre_expert.edges.apiserver.resources import KNOWN\n",
        "render/b.py": "from sre_expert.edges.webhook.clusters import split_named\n",
        "render/c.py": "from sre_expert.lint.codes import spec\n",  # fine: lint comes before render
        "edges/d.py": "from sre_expert.render import pages\n",  # fine
    })
    assert order_violations(src) == [
        "render/b.py:1: sre_expert.edges.webhook.clusters",
        "safety/a.py:2: sre_expert.edges.apiserver.resources",
    ]


def test_no_module_name_is_used_twice() -> None:
    names = Counter(p.name for p in (SRC / "sre_expert").rglob("*.py") if p.name != "__init__.py")
    assert [n for n, c in names.items() if c > 1] == []


def private_imports(src: Path) -> list[str]:
    """`from sre_expert.x import _name`: a module reaching into another's private helpers."""
    bad: list[str] = []
    for path in sorted((src / "sre_expert").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sre_expert"):
                bad.extend(f"{path.relative_to(src)}:{node.lineno}: {a.name}" for a in node.names
                           if a.name.startswith("_") and not a.name.startswith("__"))
    return bad


def test_no_module_imports_a_private_name_of_another() -> None:
    assert private_imports(SRC) == []


def test_the_private_walker_sees_one(tmp_path: Path) -> None:
    src = _tree(tmp_path, {"render/a.py": "from sre_expert.render.markdown import _symptoms, quote\n"})
    assert private_imports(src) == ["sre_expert/render/a.py:1: _symptoms"]
