"""The causal chain of an investigation as HTML: one box per finding, root cause on top, "causes" between.

HTML rather than a drawing because the text must wrap: a box shows the whole key error (code, object,
title) at the page's own font size on any screen, from a 390 px phone to a wide monitor, and the text can
be selected and copied. Colours come from CSS classes (page_style), so the dark theme applies too. The
chain is shown once; the boxes after the root cause carry their own evidence and fix (folded), the root
cause's are in the page's root-cause section.
"""

from __future__ import annotations

from html import escape
from typing import Any

SEVERITIES = ("critical", "warning", "info")


def object_text(obj: dict[str, Any] | None) -> str:
    """`Kind namespace/name` as the CLI prints objects (ObjectRef.display)."""
    if not obj:
        return "(no object)"
    ns = obj.get("namespace")
    return f"{obj.get('kind') or '?'} {ns + '/' if ns else ''}{obj.get('name') or '?'}"


def _role(index: int, last: int, end_label: str) -> str:
    if index == 0:
        return "Root cause"
    return end_label if index == last else ""


def chain_html(chain: list[dict[str, Any]], *, end_label: str = "Alerted object",
               inner: list[str] | None = None) -> str:
    """An <ol class="chain"> with one `li.node` per finding of `chain`, root cause (chain[0]) first and the
    finding about the alerted object (chain[-1]) last; `end_label` names that last box (a manual check has
    no alerted object: "Symptom"). `inner[i]`, already-escaped HTML, goes at the bottom of box i."""
    n = len(chain)
    last = n - 1
    items = []
    for i, f in enumerate(chain):
        sev = str(f.get("severity") or "")
        sev_cls = sev if sev in SEVERITIES else "none"
        role = _role(i, last, end_label)
        classes = "node" + (" root" if i == 0 else "") + (" alerted" if i == last else "")
        role_html = f'<span class="role">{escape(role)}</span>' if role else ""
        sev_html = f'<span class="badge sev-{sev_cls}">{escape(sev or "no severity")}</span>'
        title = f'<p class="title">{escape(str(f.get("title")))}</p>' if f.get("title") else ""
        extra = inner[i] if inner and i < len(inner) else ""
        code = escape(str(f.get("code") or "?"))
        items.append(
            f'<li class="{classes}" data-code="{code}"><div class="box sev-{sev_cls}">'
            f'<div class="head">{role_html}{sev_html}<code class="code">{code}</code>'
            f"</div>"
            f'<span class="obj mono">{escape(object_text(f.get("object")))}</span>{title}{extra}</div></li>'
        )
    label = f"Causal chain, {n} finding{'s' if n != 1 else ''}, root cause first"
    return f'<ol class="chain" aria-label="{escape(label)}">{"".join(items)}</ol>'
