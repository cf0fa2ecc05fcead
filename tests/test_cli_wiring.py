"""How the CLI is put together (issue 14, "CLI wiring"): one module per command group, the source options
defined once in edges/cli/options.py, no private names crossing modules, and nothing heavy at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from sre_expert.edges.cli import options
from sre_expert.edges.cli.main import app

pytestmark = pytest.mark.e2e

CLI_DIR = Path(__file__).resolve().parents[1] / "src" / "sre_expert" / "edges" / "cli"


def _imports(tree: ast.Module) -> list[tuple[ast.ImportFrom | ast.Import, bool]]:
    """Every import statement with whether it sits inside a function."""
    out: list[tuple[ast.ImportFrom | ast.Import, bool]] = []

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                out.append((child, in_function))
            walk(child, inside)

    walk(tree, False)
    return out


def test_no_cli_module_imports_a_private_name_or_a_sibling_inside_a_function() -> None:
    """A private name (`_err`) imported from another module, or a sibling CLI module imported inside a function,
    is how the groups used to dodge an import cycle with main.py; the shared helpers are public in options.py."""
    problems = []
    modules = sorted(CLI_DIR.glob("*.py"))
    assert {"main.py", "options.py", "check_cli.py", "trace_cli.py"} <= {p.name for p in modules}
    for path in modules:
        for node, in_function in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names]
            module = node.module if isinstance(node, ast.ImportFrom) else names[0]
            if not (module or "").startswith("sre_expert"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if isinstance(node, ast.ImportFrom) and private:
                problems.append(f"{path.name}:{node.lineno} imports private {private} from {module}")
            if in_function and (module or "").startswith("sre_expert.edges.cli"):
                problems.append(f"{path.name}:{node.lineno} imports {module} inside a function")
    assert not problems, problems


def test_importing_the_cli_loads_typer_and_the_cli_modules_only() -> None:
    """`sre-expert --help` starts fast because every group module imports typer, the standard library and
    options.py only; whatever a command needs (rich, the diagnosis, yaml, the agent) loads when it runs."""
    code = (
        "import sys\n"
        "import typer\n"
        "before = set(sys.modules)\n"
        "import sre_expert.edges.cli.main\n"
        "new = sorted(m for m in set(sys.modules) - before)\n"
        "print('\\n'.join(new))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    outside = [m for m in out if m.split(".")[0] not in sys.stdlib_module_names
               and not (m == "sre_expert" or m == "sre_expert.edges" or m.startswith("sre_expert.edges.cli"))]
    assert not outside, outside
    groups = {p.stem for p in CLI_DIR.glob("*_cli.py")}
    assert {m.rsplit(".", 1)[-1] for m in out if m.startswith("sre_expert.edges.cli.")} >= groups | {"options"}


def _commands(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    out = [(" ".join(path), cmd)] if path else []
    for name, sub in getattr(cmd, "commands", {}).items():
        out += _commands(sub, (*path, name))
    return out


def _help(annotated: Any) -> str:
    return str(annotated.__metadata__[0].help)


# Options that share a flag with a source option but mean something else, and why.
NOT_THE_SOURCE_OPTION = {
    ("check", "--bundle"): "repeatable: a fleet (options.FleetBundleOpt)",
    ("check", "--context"): "repeatable: a fleet (options.FleetContextOpt)",
    ("check", "--namespace"): "filters findings, comma-separated",
    ("serve", "--bundle"): "repeatable, NAME= routes alerts by their cluster label",
    ("serve", "--context"): "repeatable, NAME= routes alerts by their cluster label",
    ("bundle serve", "--demo"): "what the API serves, not what is diagnosed",
    ("bundle collect", "--prometheus"): "what collect writes into the bundle, not what the checks read",
    ("runbook run", "--bundle"): "served to the runbook's kubectl, not read",
    ("runbook run", "--demo"): "served to the runbook's kubectl, not read",
    ("runbook run", "--context"): "where the runbook's commands run, changes included",
    ("runbook run", "--kubeconfig"): "where the runbook's commands run, changes included",
    ("runbook run", "--namespace"): "one namespace, a runbook parameter",
    ("trace", "--namespace"): "one namespace, of the target",
    ("dr plan", "--namespace"): "one namespace, to recover",
    ("rules", "--namespace"): "metadata.namespace of the rules written",
}


def test_each_source_option_has_one_help_text() -> None:
    """The source options once drifted (six copies, five wordings of --bundle); every command now takes
    them from options.py, and one that means something else under the same flag is listed above."""
    shared = {"--bundle": _help(options.BundleOpt), "--demo": _help(options.DemoOpt),
              "--context": _help(options.ContextOpt), "--kubeconfig": _help(options.KubeconfigOpt),
              "--namespace": _help(options.LiveNamespacesOpt), "--prometheus": _help(options.PrometheusOpt)}
    seen, drift = set(), []
    for name, cmd in _commands(typer.main.get_command(app)):
        for param in getattr(cmd, "params", ()):
            flag = next((o for o in param.opts if o in shared), None)
            if flag is None:
                continue
            seen.add(flag)
            if (name, flag) in NOT_THE_SOURCE_OPTION:
                continue
            if param.help != shared[flag]:
                drift.append((name, flag, param.help))
    assert seen == set(shared)
    assert not drift, drift
    used = {(n, f) for n, c in _commands(typer.main.get_command(app)) for p in getattr(c, "params", ())
            for f in p.opts}
    assert set(NOT_THE_SOURCE_OPTION) <= used, "an exception names an option that no longer exists"
