"""Writing tidy tables atomically (CSV, Parquet, XLSX).

A table is written to a temporary file in the destination folder and renamed
into place, so an interrupted run never leaves a half-written table.

Examples
--------
>>> import pandas as pd, tempfile, os
>>> d = tempfile.mkdtemp()
>>> p = write_table(pd.DataFrame({"a": [1]}), os.path.join(d, "t.csv"))
>>> pd.read_csv(p)["a"].tolist()
[1]
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import BlotquantError
from .provenance import jsonable

__all__ = ["write_table", "write_json", "read_json", "atomic_path", "TABLE_FORMATS"]

TABLE_FORMATS = ("csv", "parquet", "xlsx")

# Read once at import (os.umask can only be read by setting it, which is not thread-safe).
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class atomic_path:
    """Context manager yielding a temp path that is renamed to ``path`` on success."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part",
                                   dir=self.path.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            # mkstemp creates 0600 files; give the result the usual umask-based mode.
            os.chmod(self.tmp, 0o666 & ~_UMASK)
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def write_table(df: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None) -> Path:
    """Write ``df`` to ``path`` atomically; the format follows the suffix or ``fmt``.

    Returns the final path (suffix adjusted to ``fmt`` when given).
    """
    path = Path(path)
    if fmt is not None:
        path = path.with_suffix("." + fmt)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"{path}: unknown table format {fmt!r}; use one of {TABLE_FORMATS}")
    with atomic_path(path) as tmp:
        if fmt == "csv":
            df.to_csv(tmp, index=False)
        elif fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_excel(tmp, index=False, engine="openpyxl")
    return path


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(jsonable(obj), indent=2, sort_keys=False) + "\n")
    return path


def read_json(path: str | os.PathLike, *, what: str = "JSON file",
              error: type[BlotquantError] = BlotquantError) -> Any:
    """Parse a JSON file; unreadable or invalid files raise ``error`` naming the file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "bad.json")
    >>> _ = open(p, "w").write("{oops")
    >>> try:
    ...     read_json(p, what="regions file")
    ... except BlotquantError as err:
    ...     print(err.problem)
    regions file is not valid JSON (Expecting property name enclosed in double quotes at line 1)
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise error(f"cannot read {what}: {err.strerror}", path=path) from None
    except UnicodeDecodeError as err:
        raise error(f"{what} is not UTF-8 text (byte {err.start}), so not JSON: "
                    "export it again as JSON", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{what} is not valid JSON ({err.msg} at line {err.lineno})",
                    path=path) from None
