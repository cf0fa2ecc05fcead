"""Control characters made visible before text quoted from a cluster or a bundle reaches a terminal or a report.

An event message, a termination message or a log line is written by whoever runs in the cluster; printed as
is, `ESC ] 52` writes the operator's clipboard, `ESC [ 2J` clears the screen, CR or an unterminated escape
overwrites or swallows the lines after it (a finding can vanish), and U+202E reverses the text that follows.
Each such character becomes its escape spelling (`\\x1b`, `\\u202e`), so the text stays readable and the
report keeps saying what the cluster said. Tab and newline are text.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional overrides and isolates
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _spell(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible_controls(text: str) -> str:
    """`text` with every control character (see the module docstring) replaced by its escape spelling."""
    return _CONTROLS.sub(_spell, text) if _CONTROLS.search(text) else text
