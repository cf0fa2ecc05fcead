"""Secrets and personal data planted into every output path (issue 12): the `leak` cases of
tests/data/redaction_corpus.yaml, as one log text and as separate lines, and a check that none of them
(nor a long piece of one, as a cut or a wrap would leave) reached an output.

    from redaction_plant import PLANTED_LOG, PLANTED_TEXTS, leaked
    assert leaked(output_text) == []
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import yaml

ALL = yaml.safe_load((Path(__file__).parent / "data" / "redaction_corpus.yaml").read_text())["cases"]
CASES = [c for c in ALL if c.get("leak")]
# what one case hides another may show (a ConfigMap's value, a host name): not a leak when it shows
_SHOWN = "\n".join([k for c in ALL for k in c.get("keep", ())] + [c["text"] for c in ALL if not c.get("leak")])
PLANTED_TEXTS: list[str] = [c["text"] for c in CASES]
END = "planted-block-end: 17 cases later the log goes on"
"""The last line of PLANTED_LOG: an output that shows it did get the planted block (not a vacuous pass)."""
PLANTED_LOG = "\n".join(PLANTED_TEXTS) + "\n" + END + "\n"
LEAKS: list[str] = sorted({s for c in CASES for s in c["leak"] if s not in _SHOWN}, key=len, reverse=True)
WINDOW = 20
"""A run of this many characters of a leak value in an output counts as leaked too (a value cut at a
truncation point or wrapped across lines would otherwise slip through a whole-value check)."""


def _windows(value: str) -> list[str]:
    return [value[i:i + WINDOW] for i in range(0, len(value) - WINDOW + 1)] if len(value) > WINDOW else [value]


_PIECES = {v: [w for w in _windows(v) if w not in _SHOWN] or [v] for v in LEAKS}


def readable(output: Any) -> str:
    """Every form the text can take in an output: as is, HTML-unescaped, JSON-unescaped, without
    Markdown's backslash escapes."""
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    forms = [text, html.unescape(text), re.sub(r"\\(.)", r"\1", text)]
    try:
        forms.append(json.dumps(json.loads(text), ensure_ascii=False).replace('\\"', '"'))
    except (ValueError, TypeError):
        pass
    return "\n".join(forms)


def leaked(output: Any) -> list[str]:
    """The planted values (or WINDOW-character pieces of them) found in `output`."""
    text = readable(output)
    return [v for v, pieces in _PIECES.items() if any(p in text for p in pieces)]
