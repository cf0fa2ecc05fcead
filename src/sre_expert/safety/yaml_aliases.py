"""YAML alias bombs: a few hundred bytes whose aliases expand to billions of nodes. Bundles and GitOps
repositories are input nobody here wrote, so every document is measured after composing and before
constructing, and refused past a bound."""

from __future__ import annotations

import yaml

# Nodes of one document once aliases are followed. A YAML bomb (`a: &a [x, x…]`, `b: &b [*a, *a…]` …) is a
# few hundred bytes that expand to billions of nodes: the line index and every rule walking the data would
# run for hours. No real manifest comes near this.
MAX_EXPANDED_NODES = 1_000_000


def expanded_size(node: yaml.Node) -> int:
    """How many nodes `node` stands for with aliases expanded; compare with MAX_EXPANDED_NODES."""
    return _size(node, {})


def _size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many nodes `node` stands for with aliases expanded (each shared node counted once per use),
    computed in time linear in the composed graph."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = MAX_EXPANDED_NODES + 1  # a cycle (not produced by PyYAML, but cheap to guard) is too big
    if isinstance(node, yaml.MappingNode):
        n = 1 + sum(_size(k, memo) + _size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_size(v, memo) for v in node.value)
    else:
        n = 1
    memo[id(node)] = n
    return n
