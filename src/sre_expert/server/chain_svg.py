"""The causal chain of an investigation drawn as inline SVG: one box per finding, root cause on top.

A vertical stack because chains have no fixed length and the page must stay usable on a narrow screen: the
drawing scales with its `viewBox`, and every box keeps the same three lines (code, object, title). SVG text
does not wrap, so long lines are cut with an ellipsis using a per-font width estimate; the full text stays in
each box's <title> (tooltip, screen readers) and in the text list the page renders next to the drawing.
Colours come from CSS classes (page_style), so the dark theme applies to the drawing too.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 900
BOX_H = 92
GAP = 46  # vertical room for the arrow between two boxes
PAD_X = 18
# Average advance of a character as a fraction of the font size: monospace is exact (0.6), the sans-serif
# estimate is generous so a cut line never overflows the box.
_MONO, _SANS, _TAG = 0.61, 0.56, 0.66
CODE_PX, OBJ_PX, TITLE_PX, TAG_PX = 17, 15, 14, 13


def object_text(obj: dict[str, Any] | None) -> str:
    """`Kind namespace/name` as the CLI prints objects (ObjectRef.display)."""
    if not obj:
        return "(no object)"
    ns = obj.get("namespace")
    return f"{obj.get('kind') or '?'} {ns + '/' if ns else ''}{obj.get('name') or '?'}"


def fit(text: str, width_px: float, font_px: float, ratio: float) -> str:
    """Cut `text` so it fits `width_px` at this font, ending with an ellipsis when cut."""
    limit = max(4, int(width_px / (font_px * ratio)))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _tag(finding: dict[str, Any], index: int, last: int, end_label: str) -> str:
    sev = str(finding.get("severity") or "").upper()
    if index == 0:
        return f"ROOT CAUSE · {sev}"
    if index == last:
        return f"{end_label} · {sev}"
    return sev


def chain_svg(chain: list[dict[str, Any]], *, end_label: str = "ALERTED") -> str:
    """One <svg> with a box (`rect.box`) per finding of `chain` and an arrow (`g.arrow`) between neighbours.

    chain[0] is the root cause, chain[-1] the finding about the alerted object (the record's order);
    `end_label` tags that last box (a manual check has no alerted object: SYMPTOM)."""
    n = len(chain)
    height = n * BOX_H + (n - 1) * GAP + 4
    last = n - 1
    parts: list[str] = []
    inner = WIDTH - 2 * PAD_X
    for i, f in enumerate(chain):
        top = 2 + i * (BOX_H + GAP)
        sev = str(f.get("severity") or "info")
        sev_cls = sev if sev in ("critical", "warning", "info") else "info"
        code = str(f.get("code") or "?")
        obj = object_text(f.get("object"))
        title = str(f.get("title") or "")
        tag = _tag(f, i, last, end_label)
        tag_w = len(tag) * TAG_PX * _TAG
        classes = f"node sev-{sev_cls}" + (" root" if i == 0 else "") + (" alerted" if i == last else "")
        full = f"{i + 1}. {code} on {obj}: {title}" if title else f"{i + 1}. {code} on {obj}"
        code_line = escape(fit(code, inner - tag_w - 16, CODE_PX, _MONO))
        obj_line = escape(fit(obj, inner, OBJ_PX, _MONO))
        title_line = escape(fit(title, inner, TITLE_PX, _SANS))
        parts.append(
            f'<g class="{classes}" data-code="{escape(code)}">'
            f"<title>{escape(full)}</title>"
            f'<rect class="box" x="2" y="{top}" width="{WIDTH - 4}" height="{BOX_H}" rx="10" ry="10"/>'
            f'<text class="code" x="{PAD_X}" y="{top + 27}">{code_line}</text>'
            f'<text class="tag" x="{WIDTH - PAD_X}" y="{top + 26}" text-anchor="end">{escape(tag)}</text>'
            f'<text class="obj" x="{PAD_X}" y="{top + 53}">{obj_line}</text>'
            f'<text class="title" x="{PAD_X}" y="{top + 77}">{title_line}</text>'
            "</g>"
        )
        if i < last:
            x = WIDTH // 2
            y1, y2 = top + BOX_H + 3, top + BOX_H + GAP - 3
            parts.append(
                '<g class="arrow" aria-hidden="true">'
                f'<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2 - 10}"/>'
                f'<polygon points="{x - 8},{y2 - 12} {x + 8},{y2 - 12} {x},{y2}"/>'
                f'<text x="{x + 16}" y="{y1 + GAP // 2 + 2}">causes</text>'
                "</g>"
            )
    desc = "; then ".join(f"{f.get('code')} on {object_text(f.get('object'))}" for f in chain)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chain" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="chain-title chain-desc">'
        f'<title id="chain-title">Causal chain, {n} finding{"s" if n != 1 else ""}, root cause first</title>'
        f'<desc id="chain-desc">{escape(desc)}</desc>'
        + "".join(parts)
        + "</svg>"
    )
