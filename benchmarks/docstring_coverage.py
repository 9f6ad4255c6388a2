"""Count public functions with numpydoc sections and type hints, per module.

Issue 10 asks for every public function to have numpydoc ``Parameters`` /
``Returns`` sections and type hints. This script measures how far we are,
without importing the package (it parses the source with :mod:`ast`).

What counts
-----------
- A *public function* is a module-level ``def`` whose name does not start
  with ``_``, or a method of such a class (module-level, public name) whose
  name does not start with ``_``. Modules with a leading underscore
  (``io/_tiff.py``) are included: their functions are re-exported.
  Nested functions are not counted.
- *numpydoc complete*: the function has a docstring; it has a
  ``Parameters`` section if it takes any argument besides ``self``/``cls``;
  it has a ``Returns`` (or ``Yields``) section if it returns a value (a
  ``return <expr>`` / ``yield`` in its body, or a return annotation other
  than ``None``). Properties need a docstring only.
- *hinted*: every argument besides ``self``/``cls`` is annotated and the
  return is annotated (``-> None`` included).

Usage::

    python benchmarks/docstring_coverage.py                  # table for blotquant/
    python benchmarks/docstring_coverage.py blotquant/stats  # some paths only
    python benchmarks/docstring_coverage.py --missing        # list what is missing
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_SECTION = re.compile(r"^\s*(Parameters|Returns|Yields)\s*\n\s*-{3,}\s*$", re.MULTILINE)


@dataclass
class FunctionReport:
    """One public function: where it is and what it lacks."""

    module: str
    name: str
    lineno: int
    missing: list[str] = field(default_factory=list)

    @property
    def numpydoc(self) -> bool:
        return not any(m in ("docstring", "Parameters", "Returns") for m in self.missing)

    @property
    def hinted(self) -> bool:
        return "hints" not in self.missing


def _arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> list[ast.arg]:
    a = fn.args
    args = [*a.posonlyargs, *a.args]
    if is_method and args and args[0].arg in ("self", "cls") and not _is_static(fn):
        args = args[1:]
    args += a.kwonlyargs
    if a.vararg:
        args.append(a.vararg)
    if a.kwarg:
        args.append(a.kwarg)
    return args


def _decorators(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for d in fn.decorator_list:
        if isinstance(d, ast.Name):
            names.add(d.id)
        elif isinstance(d, ast.Attribute):
            names.add(d.attr)
        elif isinstance(d, ast.Call) and isinstance(d.func, (ast.Name, ast.Attribute)):
            names.add(getattr(d.func, "id", None) or d.func.attr)
    return names


def _is_static(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return "staticmethod" in _decorators(fn)


def _returns_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if fn.returns is not None:
        ann = fn.returns
        if isinstance(ann, ast.Constant) and ann.value is None:
            return False
        if isinstance(ann, ast.Constant) and ann.value == "None":
            return False
        if isinstance(ann, ast.Name) and ann.id == "NoReturn":
            return False
        return True
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # nested scopes do not return for us
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                return True
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def check_function(fn: ast.FunctionDef | ast.AsyncFunctionDef, module: str, qualname: str,
                   is_method: bool) -> FunctionReport:
    """Return what ``fn`` lacks (empty ``missing`` = complete)."""
    report = FunctionReport(module, qualname, fn.lineno)
    decorators = _decorators(fn)
    is_property = bool(decorators & {"property", "cached_property"})
    doc = ast.get_docstring(fn) or ""
    args = _arguments(fn, is_method)
    sections = set(_SECTION.findall(doc))
    if not doc:
        report.missing.append("docstring")
    elif not is_property:
        if args and "Parameters" not in sections:
            report.missing.append("Parameters")
        if _returns_value(fn) and not sections & {"Returns", "Yields"}:
            report.missing.append("Returns")
    if any(arg.annotation is None for arg in args) or fn.returns is None:
        report.missing.append("hints")
    return report


def scan_module(path: Path) -> list[FunctionReport]:
    """All public functions of one source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            out.append(check_function(node, module, node.name, is_method=False))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if (isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and not item.name.startswith("_")):
                    out.append(check_function(item, module, f"{node.name}.{item.name}",
                                              is_method=True))
    return out


def iter_sources(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path,
                        help="files or folders (default: the blotquant package)")
    parser.add_argument("--missing", action="store_true",
                        help="list every incomplete function and what it lacks")
    args = parser.parse_args(argv)
    paths = [p if p.is_absolute() else Path.cwd() / p for p in args.paths] or [ROOT / "blotquant"]
    reports: dict[str, list[FunctionReport]] = {}
    for src in iter_sources([p.resolve() for p in paths]):
        found = scan_module(src)
        if found:
            reports[found[0].module] = found

    width = max([len(m) for m in reports] + [6])
    print(f"{'module':<{width}}  public  numpydoc  hinted")
    total = numpydoc = hinted = 0
    for module, found in reports.items():
        n, d, h = len(found), sum(f.numpydoc for f in found), sum(f.hinted for f in found)
        total, numpydoc, hinted = total + n, numpydoc + d, hinted + h
        print(f"{module:<{width}}  {n:6d}  {d:8d}  {h:6d}")
    print(f"{'total':<{width}}  {total:6d}  {numpydoc:8d}  {hinted:6d}")
    if args.missing:
        print()
        for found in reports.values():
            for f in found:
                if f.missing:
                    print(f"{f.module}:{f.lineno} {f.name}: {', '.join(f.missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
