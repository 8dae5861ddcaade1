"""The package's layers (helpers/*/__init__.py says what each holds): every import of a helpers
module, function-local ones included, goes to the module's own layer or one below it; no cycle
between modules; every imported name is defined where it is imported from (no re-exports);
and the book layer and the chapters load no TensorFlow."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "helpers"
# A layer may import its own modules and those of every layer of lower rank; data, store and
# stats are peers and import none of each other.
RANK = {"core": 0, "data": 1, "store": 1, "stats": 1, "engine": 2, "stages": 3, "book": 4, "build": 5}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) for every `from helpers... import` and `import helpers...` in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: a relative import; write helpers.<layer>.<module>")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            out.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "helpers"]
    return out


def _targets(module: str, names: list[str]) -> list[str]:
    """The helpers modules an import statement loads: `from helpers.x import y` loads helpers.x.y
    when that is a module, else helpers.x."""
    subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
    return subs or [module]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def _graph() -> dict[str, set[str]]:
    return {m: {t for _, mod, names in _imports(p) for t in _targets(mod, names) if t != m} for m, p in MODULES.items()}


def test_every_module_lives_in_a_layer():
    loose = [m for m in MODULES if m not in ("helpers", "helpers.__main__") and _layer(m) is None]
    assert loose == [], f"modules outside the layers {sorted(RANK)}: {loose}"
    assert set(RANK) == {m.split(".")[1] for m in MODULES if m.count(".") == 1 and m != "helpers.__main__"}


def test_imports_only_go_down():
    wrong = []
    for module, path in MODULES.items():
        here = _layer(module)
        if here is None:
            continue
        for line, mod, names in _imports(path):
            for target in _targets(mod, names):
                there = _layer(target)
                if there is None:
                    wrong.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {target}, outside the layers")
                elif there != here and RANK[there] >= RANK[here]:
                    wrong.append(f"{path.relative_to(REPO_ROOT)}:{line}: {here} imports {target} ({there})")
    assert wrong == []


def test_no_import_cycle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def _defined_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.If, ast.Try)):
            names |= {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            names |= {t.id for n in ast.walk(node) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    return names


def test_every_name_is_imported_from_where_it_is_defined():
    """One home per name: `from helpers.a.b import f` only where b defines f itself."""
    files = [
        *MODULES.values(),
        *(REPO_ROOT / "tests").glob("*.py"),
        *(REPO_ROOT / "benchmarks").glob("*.py"),
        *(REPO_ROOT / "notebooks").glob("*.py"),
    ]
    wrong = []
    for path in files:
        for line, mod, names in _imports(path):
            if mod not in MODULES:
                wrong.append(f"{path.relative_to(REPO_ROOT)}:{line}: no module {mod}")
                continue
            defined = _defined_names(MODULES[mod])
            for name in names:
                if f"{mod}.{name}" not in MODULES and name not in defined:
                    wrong.append(f"{path.relative_to(REPO_ROOT)}:{line}: {mod} does not define {name}")
    assert wrong == []


def test_no_module_is_over_the_line_limit():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines (split them by job): {long}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) in ("core", "data", "store", "stats")))
def test_layers_below_the_engine_import(module):
    assert importlib.import_module(module).__name__ == module


def test_the_book_layer_and_the_chapters_load_no_tensorflow():
    """Every book-layer module, and every helpers import a chapter makes, in a fresh interpreter."""
    chapter_imports = sorted(
        {f"{mod}" for p in (REPO_ROOT / "notebooks").glob("*.py") for _, mod, _ in _imports(p)}
        | {
            f"{mod}.{n}"
            for p in (REPO_ROOT / "notebooks").glob("*.py")
            for _, mod, names in _imports(p)
            for n in names
            if f"{mod}.{n}" in MODULES
        }
    )
    book = sorted(m for m in MODULES if _layer(m) == "book")
    code = (
        "import importlib, sys\n"
        f"for m in {book + chapter_imports!r}: importlib.import_module(m)\n"
        "heavy = sorted(k for k in ('tensorflow', 'tf_keras', 'tensorflow_model_optimization') if k in sys.modules)\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"loaded by the book layer or a chapter's imports: {out.stdout.strip()}"


def _module_aliases(tree) -> dict[str, str]:
    """{local name: helpers module} for `from helpers.x import module [as alias]` and
    `import helpers.x.y as alias`."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            out |= {a.asname or a.name: f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES}
        elif isinstance(node, ast.Import):
            out |= {a.asname: a.name for a in node.names if a.asname and a.name in MODULES}
    return out


def test_every_attribute_of_a_module_is_defined_there():
    """`compression.CONTROL` only where helpers.engine.compression defines CONTROL (no
    re-exports reached through a module either). Monkeypatching a name a test adds is left out."""
    files = [
        *MODULES.values(),
        *(REPO_ROOT / "tests").glob("*.py"),
        *(REPO_ROOT / "benchmarks").glob("*.py"),
        *(REPO_ROOT / "notebooks").glob("*.py"),
    ]
    wrong = []
    for path in files:
        tree = ast.parse(path.read_text())
        rebound = {
            a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in [*n.posonlyargs, *n.args, *n.kwonlyargs]
        }
        rebound |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        aliases = {k: v for k, v in _module_aliases(tree).items() if k not in rebound}  # a local of that name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and isinstance(node.ctx, ast.Load)
            ):
                module = aliases[node.value.id]
                if node.attr not in _defined_names(MODULES[module]) and f"{module}.{node.attr}" not in MODULES:
                    wrong.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {module} does not define {node.attr}")
    assert sorted(set(wrong)) == []
