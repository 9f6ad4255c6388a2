"""The package layout holds: no import circles, no machine paths, one default per parameter."""

from __future__ import annotations

import ast
import os
import re
import tokenize
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "blotquant"
REPO = PKG.parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, *, lazy: bool):
    """blotquant modules imported by ``path`` (module level, or everywhere with ``lazy``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = ast.walk(tree) if lazy else tree.body
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("blotquant"):
                out.add(mod)
                for alias in node.names:          # "from . import x" imports a module
                    out.add(f"{mod}.{alias.name}")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("blotquant"))
    return out


def _graph(lazy: bool):
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        deps = {d for d in _imports(path, lazy=lazy) if d in files and d != name}
        # importing a.b.c runs a and a.b first: package __init__ files are not edges here
        graph[name] = {d for d in deps if not name.startswith(d + ".")}
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles_between_modules():
    # package __init__ files re-export their modules; edges into them are skipped
    graph = {k: {d for d in v if not (PKG.parent / d.replace(".", "/") / "__init__.py").exists()}
             for k, v in _graph(lazy=False).items()}
    assert _cycles(graph) == []


def test_no_absolute_machine_paths_in_the_repository():
    pattern = re.compile(r"(^|[^A-Za-z0-9_.~])/(work|tmp|root)/")
    bad = []
    files = []
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("demo_output",)]
        files += [Path(root) / n for n in names]
    for path in files:
        if path.suffix not in (".py", ".md", ".toml", ".yaml", ".yml", ".cfg", ".txt"):
            continue
        if path.resolve() == Path(__file__).resolve():
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
            if pattern.search(line):
                bad.append(f"{path.relative_to(REPO)}:{i + 1}")
    assert bad == []


def _code_lines(path: Path):
    """(line number, code) of a Python file with strings and comments blanked."""
    lines = {}
    with open(path, "rb") as fh:
        for tok in tokenize.tokenize(fh.readline):
            if tok.type in (tokenize.STRING, tokenize.COMMENT, tokenize.ENCODING):
                continue
            if tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                continue
            lines.setdefault(tok.start[0], []).append(tok.string)
    return {k: " ".join(v) for k, v in lines.items()}


@pytest.mark.parametrize("pattern", [r"\bradius\s*(:\s*float\s*)?=\s*50\b",
                                     r"\(\s*0\.2\s*,\s*0\.4\s*,\s*0\.6\s*\)",
                                     r"background\s*=\s*['\"]lane-fit"])
def test_defaults_are_written_once(pattern):
    """Defaults live in the parameter models, nowhere else in the package and plugin."""
    allowed = {PKG / "blot" / "params.py", PKG / "ihc" / "params.py"}
    hits = []
    for root in (PKG, REPO / "plugins"):
        for path in root.rglob("*.py"):
            if path in allowed:
                continue
            text = path.read_text(encoding="utf-8")
            for i, line in enumerate(text.splitlines()):
                if re.search(pattern, line.split("#", 1)[0]) and i + 1 in _code_lines(path):
                    code = _code_lines(path)[i + 1]
                    if re.search(pattern.replace("\\s*", " *"), code) or re.search(pattern, code):
                        hits.append(f"{path.relative_to(REPO)}:{i + 1}")
    assert hits == []
