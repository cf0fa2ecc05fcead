"""One definition of each shared helper: an ast walk over src/ and the synthetic platform (tests/synth/).

Helpers that were copied and then drifted (a quantity parser that read "1Pi" as 1 byte, Go-duration parsers,
condition lookups, a bundle writer per caller, kind→plural tables) each live in one module now; this test
fails when a second definition of one of them, or a retired copy's name, appears again.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
TREES = (ROOT / "src" / "sre_expert", ROOT / "tests" / "synth")

# name → the one module (relative to the repository) allowed to define it at module level
ONE_HOME = {
    "parse_quantity": "src/sre_expert/core/units.py",
    "quantity": "src/sre_expert/core/units.py",
    "go_duration": "src/sre_expert/core/units.py",
    "objective_duration": "src/sre_expert/core/units.py",
    "key_of": "src/sre_expert/core/model.py",
    "condition": "src/sre_expert/core/k8s.py",
    "find_condition": "src/sre_expert/core/k8s.py",
    "pod_ready": "src/sre_expert/core/k8s.py",
    "ns_of": "src/sre_expert/core/k8s.py",
    "clip_log_line": "src/sre_expert/checks/logscan.py",
    "resource_of": "src/sre_expert/core/kinds.py",
    "kind_of_resource": "src/sre_expert/core/kinds.py",
    "resource_name": "src/sre_expert/core/kinds.py",
    "kubectl_json": "src/sre_expert/sources/bundle_writer.py",
    "file_name": "src/sre_expert/sources/bundle_writer.py",
    "list_document": "src/sre_expert/sources/bundle_writer.py",
    "log_path": "src/sre_expert/sources/bundle_writer.py",
    "meta_json": "src/sre_expert/sources/bundle_writer.py",
    "write_files": "src/sre_expert/sources/bundle_writer.py",
}
# names of the retired copies: a function by one of these names anywhere is a copy coming back
# (`plural` of core/wording.py is a count with its noun, not a resource name.)
RETIRED = {"parse_bytes", "parse_go_duration", "parse_duration", "plural_of", "plural", "_resource_kinds",
           "_duration_hours"}
# retired at module level only (GatewayIndex's objects keep a `cond` method over their own conditions)
RETIRED_TOP = {"cond", "obj_cond", "clip", "_ns"}


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.relative_to(ROOT).as_posix(), ast.parse(p.read_text(), str(p)))
            for tree in TREES for p in sorted(tree.rglob("*.py"))]


def _defined(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(name, line, at module level) of every function, nested ones and methods included."""
    top = {id(n) for n in tree.body}
    return [(n.name, n.lineno, id(n) in top) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


# checked in src/ only: synth's `condition` builds a condition for an object, it does not look one up
SRC_ONLY = {"condition"}


def test_each_shared_helper_is_defined_once_in_its_module() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for path, tree in _modules():
        for name, line, top in _defined(tree):
            if name in ONE_HOME and top and not (name in SRC_ONLY and not path.startswith("src/")):
                homes[name].append(f"{path}:{line}")
    wrong = {name: where for name, where in homes.items()
             if len(where) != 1 or not where[0].startswith(ONE_HOME[name] + ":")}
    missing = sorted(set(ONE_HOME) - set(homes))
    assert not wrong and not missing, (wrong, missing)


def test_no_retired_copy_comes_back() -> None:
    found = [f"{path}:{line} {name}" for path, tree in _modules() for name, line, top in _defined(tree)
             if (name in RETIRED or (top and name in RETIRED_TOP))
             and not (name == "plural" and path == "src/sre_expert/core/wording.py")]
    assert not found, found


def test_no_private_object_key() -> None:
    """An object's (kind, namespace, name) is `model.key_of`; a private `_key` reading metadata is a copy."""
    found = [f"{path}:{n.lineno}" for path, tree in _modules() for n in ast.walk(tree)
             if isinstance(n, ast.FunctionDef) and n.name == "_key" and "metadata" in ast.unparse(n)]
    assert not found, found


def _kind_plural_pairs(node: ast.Dict) -> int:
    """How many entries of a dict literal map a Kind to its plural resource, or a resource to its Kind."""
    n = 0
    for k, v in zip(node.keys, node.values, strict=True):
        if not (isinstance(k, ast.Constant) and isinstance(v, ast.Constant)):
            continue
        if not (isinstance(k.value, str) and isinstance(v.value, str)):
            continue
        kind, res = (k.value, v.value) if k.value[:1].isupper() else (v.value, k.value)
        low = kind.lower()
        if kind[:1].isupper() and res in (low + "s", low + "es", low[:-1] + "ies"):
            n += 1
    return n


def test_one_kind_to_plural_table() -> None:
    """The kinds table (core/kinds.py) is the only literal that spells resources of kinds; others read it."""
    tables = [f"{path}:{node.lineno}" for path, tree in _modules() if path != "src/sre_expert/core/kinds.py"
              for node in ast.walk(tree) if isinstance(node, ast.Dict) and _kind_plural_pairs(node) >= 2]
    assert not tables, tables


def test_the_table_detector_sees_a_table() -> None:
    """The detector above finds the hand-written tables it was written against (so it can fail)."""
    src = 'T = {"ingresses": "Ingress", "serviceaccounts": "ServiceAccount", "x": "y"}\n'
    node = next(n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Dict))
    assert _kind_plural_pairs(node) == 2
