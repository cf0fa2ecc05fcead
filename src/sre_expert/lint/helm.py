"""`helm template` of the repository's charts, with each values file Argo CD gives them.

Without helm on PATH nothing is rendered, and the run says so ("not checked"), never "passed".
A chart whose dependencies are not vendored (charts/ empty, as in a fresh clone) cannot render
offline either: that is reported as not checked, with the command that fixes it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sre_expert.lint.codes import file_ref, lint_finding
from sre_expert.lint.context import LintContext


def chart_dirs(ctx: LintContext) -> list[str]:
    return sorted(f.rsplit("/", 1)[0] if "/" in f else "" for f in ctx.repo.files
                  if f == "Chart.yaml" or f.endswith("/Chart.yaml"))


def check_helm(ctx: LintContext) -> None:
    charts = chart_dirs(ctx)
    if not charts:
        return
    if not ctx.helm:
        ctx.skip(f"helm template: helm not installed ({', '.join(c or '.' for c in charts)} not rendered)")
        return
    values = {c: _values_for(ctx, c) for c in charts}
    for chart in charts:
        doc = ctx.repo.doc(f"{chart}/Chart.yaml" if chart else "Chart.yaml")
        deps = [d.get("name") for d in ((doc.data or {}).get("dependencies") or []) if isinstance(d, dict)] if doc else []
        vendored = {p.split("/")[-1] for p in ctx.repo.files | ctx.repo.dirs if p.startswith(f"{chart}/charts/")}
        if deps and not all(any(v.startswith(str(d)) for v in vendored) for d in deps):
            ctx.skip(f"helm template {chart}: dependencies {', '.join(map(str, deps))} not vendored "
                     f"(run `helm dependency build {chart}`)")
            continue
        escape = _link_out(Path(ctx.repo.root), chart, values[chart])
        if escape:
            ctx.skip(f"helm template {chart}: {escape} is a symbolic link out of the repository (helm would read "
                     "the file it points at into the rendering); not rendered")
            continue
        files: list[str | None] = [*values[chart]] or [None]
        for vf in files:
            cmd = [ctx.helm, "template", "lint", str(Path(ctx.repo.root, chart))]
            if vf:
                cmd += ["-f", str(Path(ctx.repo.root, vf))]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired) as e:
                ctx.skip(f"helm template {chart}: {e}")
                continue
            if proc.returncode != 0:
                shown = f"helm template test {chart}" + (f" -f {vf}" if vf else "") + " --debug"
                err = [ln for ln in proc.stderr.splitlines() if ln.strip()][-3:]
                ctx.add(lint_finding("LINT-HELM-TEMPLATE", file_ref(f"{chart}/Chart.yaml"), f"{chart}/Chart.yaml", 1,
                                     f"helm template fails for {chart}" + (f" with {vf}" if vf else ""),
                                     evidence=err or [f"exit {proc.returncode}"], command=shown))


def _link_out(root: Path, chart: str, values: list[str]) -> str | None:
    """The first path of the chart (or of its values files) that is a symbolic link leaving the repository.
    Helm follows symlinks in a chart, so `.Files.Get` or a `fail` message could carry ~/.kube/config into
    the output of a lint run on an untrusted checkout (a pull request in CI)."""
    root = root.resolve()
    base = root / chart if chart else root

    def leaves(p: Path) -> bool:
        try:
            real = p.resolve(strict=True)
        except (OSError, RuntimeError):
            return True
        return real != root and root not in real.parents

    for vf in values:
        if leaves(root / vf):
            return vf
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            if p.is_symlink() and leaves(p):
                return p.relative_to(root).as_posix()
    return None


def _values_for(ctx: LintContext, chart: str) -> list[str]:
    """Values files Argo CD passes to this chart: `$ref/...` value files of sources whose path is the chart."""
    out: list[str] = []
    for ro in ctx.repo.objects("Application", "ApplicationSet"):
        spec = ro.obj.get("spec") or {}
        spec = ((spec.get("template") or {}).get("spec") or {}) if ro.kind == "ApplicationSet" else spec
        for src in ([spec.get("source")] if spec.get("source") else []) + list(spec.get("sources") or []):
            if not isinstance(src, dict) or str(src.get("path") or "").strip("/") != chart:
                continue
            for vf in (src.get("helm") or {}).get("valueFiles") or []:
                vf = str(vf)
                target = vf.split("/", 1)[1] if vf.startswith("$") and "/" in vf else f"{chart}/{vf}"
                import re

                target = re.sub(r"\{\{[^}]*\}\}", "*", target)
                out += ctx.repo.glob(target) if "*" in target else ([target] if target in ctx.repo.files else [])
    return sorted(set(out))
