"""Attacks on the bundle loader from the outside: a directory bundle nested deeper than Python's recursion
limit must load (with what it holds near the top) instead of ending `check` with a traceback."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from sre_expert.sources.bundle_reader import load_bundle

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
POD = json.loads((DATA / "pod-crashloop.json").read_text())


def _pod(name: str) -> dict:
    p = copy.deepcopy(POD)
    p["metadata"].update(name=name, namespace="mycure-production", uid=f"uid-{name}")
    return p


def _nest(root: Path, depth: int) -> Path:
    """`root/a/a/…/a` made one level at a time relative to the previous one (the whole path may exceed PATH_MAX)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("a", dir_fd=fd)
            nfd = os.open("a", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        wfd = os.open("deep.json", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(wfd, json.dumps(_pod("deep")).encode())
        os.close(wfd)
    finally:
        os.close(fd)
    return root


def _unnest(root: Path) -> None:
    """Remove what `_nest` made one level at a time, pulling the grandchild up (pytest's own cleanup recurses
    and would hit the limit)."""
    top, tmp = root / "a", root / "a-next"
    while top.exists():
        if (top / "a").exists():
            os.rename(top / "a", tmp)
        for f in top.iterdir():
            f.unlink()
        top.rmdir()
        if tmp.exists():
            os.rename(tmp, top)


def test_a_directory_nested_past_the_recursion_limit_loads(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    (root / "b").mkdir(parents=True)
    (root / "b" / "top.json").write_text(json.dumps(_pod("top")))
    _nest(root, 1500)
    try:
        snap = load_bundle(root)
    finally:
        _unnest(root)
    names = {p["metadata"]["name"] for p in snap.list("Pod")}
    assert "top" in names
    assert "deep" not in names
    assert any("nested deeper than" in w for w in snap.info.warnings), snap.info.warnings


def test_ordinary_nesting_is_still_read_in_order(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    for rel in ("a/x/p1.json", "a/p2.json", "b/p3.json", "p0.json"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(_pod(Path(rel).stem)))
    snap = load_bundle(root)
    assert sorted(p["metadata"]["name"] for p in snap.list("Pod")) == ["p0", "p1", "p2", "p3"]
    assert not [w for w in snap.info.warnings if "nested" in w]
