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

from ._shared.lazy import lazy_module

from .errors import BlotquantError
from .provenance import jsonable

pd = lazy_module("pandas")  # imported on first use (the slide CLI starts tiles first)

__all__ = ["write_table", "write_json", "read_json", "atomic_path", "TABLE_FORMATS",
           "present", "table_kind", "TABLE_SPECS", "POSITION_DECIMALS"]

TABLE_FORMATS = ("csv", "parquet", "xlsx")

# ---------------------------------------------------------------- presentation
# The one place where the look of a written table is decided (the CLI, batch
# and napari plugin all write through write_table).  Only pixel positions are
# rounded: volumes, ratios, optical densities and scores keep full precision,
# because they are the numbers people compute with.  The full column
# dictionary is docs/tables.md.

#: Decimals of pixel positions in written tables (0.01 px).
POSITION_DECIMALS = 2

#: Table kinds recognised by their columns: ``signature`` (all must be present)
#: and ``positions`` (pixel coordinates, written as floats rounded to
#: :data:`POSITION_DECIMALS`, so top/bottom/left/right are all the same kind).
TABLE_SPECS = {
    "bands": {"signature": ("lane", "row", "top", "bottom", "left", "right", "volume"),
              "positions": ("y", "top", "bottom", "left", "right")},
    "lanes": {"signature": ("lane", "x", "width", "geometry"),
              "positions": ("x", "top", "bottom")},
    "cells": {"signature": ("cell", "y", "x", "nucleus_area"),
              "positions": ("y", "x")},
}


def table_kind(df: pd.DataFrame) -> str | None:
    """Which kind of blotquant table ``df`` is (a key of :data:`TABLE_SPECS`), or None.

    Parameters
    ----------
    df : DataFrame
        A table.

    Returns
    -------
    str or None

    Examples
    --------
    >>> table_kind(pd.DataFrame(columns=["cell", "y", "x", "nucleus_area"]))
    'cells'
    >>> table_kind(pd.DataFrame({"x": [1.0], "y": [2.0]})) is None
    True
    """
    cols = set(map(str, df.columns))
    for kind, spec in TABLE_SPECS.items():
        if set(spec["signature"]) <= cols:
            return kind
    return None


def present(df: pd.DataFrame) -> pd.DataFrame:
    """The table as it is written: pixel positions as floats rounded to 0.01 px.

    Tables that are not bands, lanes or cells tables (:func:`table_kind`) are
    returned unchanged.  Nothing else is rounded.

    Parameters
    ----------
    df : DataFrame
        A table (not modified).

    Returns
    -------
    DataFrame
        A copy with the position columns rounded (or ``df`` itself when there
        is nothing to present).

    Examples
    --------
    >>> b = pd.DataFrame({"lane": [1], "row": ["ASNS"], "y": [117.39503851487208],
    ...                   "top": [106], "bottom": [128], "left": [16.0], "right": [75.25],
    ...                   "volume": [9451134.123456789]})
    >>> out = present(b)
    >>> out[["y", "top", "left", "right"]].iloc[0].tolist(), out["top"].dtype.kind
    ([117.4, 106.0, 16.0, 75.25], 'f')
    >>> bool(out["volume"].iloc[0] == b["volume"].iloc[0])
    True
    """
    kind = table_kind(df)
    if kind is None:
        return df
    out = df.copy()
    for c in TABLE_SPECS[kind]["positions"]:
        if c in out.columns:
            v = pd.to_numeric(out[c], errors="coerce").astype("float64")
            out[c] = v.round(POSITION_DECIMALS)
    return out

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


def write_table(df: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None, *,
                presentation: bool = True) -> Path:
    """Write ``df`` to ``path`` atomically; the format follows the suffix or ``fmt``.

    Parameters
    ----------
    df : DataFrame
        The table.
    path : str or PathLike
        Destination (``.csv``, ``.parquet`` or ``.xlsx``).
    fmt : str, optional
        Format overriding the suffix (the suffix is changed to match).
    presentation : bool
        Apply :func:`present` (positions rounded to 0.01 px); default True.

    Returns
    -------
    pathlib.Path
        The final path (suffix adjusted to ``fmt`` when given).
    """
    if presentation:
        df = present(df)
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
