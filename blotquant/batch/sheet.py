"""Sample sheets and folder discovery for :mod:`blotquant.batch`, validated up front.

A *sample sheet* is a CSV file with one row per image.  Only ``file`` is
required.  Two sorts of columns:

*Context* (copied into the tables, with defaults):

==============  ==========================================================
column          meaning (default)
==============  ==========================================================
file            image path, relative to the sheet's folder (required)
sample          sample name (the file stem)
condition       experimental condition, used to group bar charts ("")
replicate       replicate number or name (1)
kind            blot, ihc or auto (auto: decided by colour)
role            target, loading_control, total_protein or exposure (target)
group           images that belong together (a target blot and its
                loading-control or total-protein image) share a group
                (default: each image is its own group, named like the image)
lane_labels     per-lane sample names separated by ``;`` (lane numbers)
exposure        exposure time in seconds, informative ("")
page            which image of a multi-image file, from 1 (""; one row
                per page of one file is allowed)
==============  ==========================================================

*Parameters*: a column named like a field of
:class:`~blotquant.blot.params.BlotParams` (``rows``, ``lanes``, ``target``,
``control``, ``reference_lane``, ``background``, ``radius``, ...) or of
:class:`~blotquant.ihc.params.IHCParams` (``mode``, ``thresholds``,
``stains``, ...) sets that parameter for its row (an empty cell: the
command's value).  Lists are separated by ``;`` (``ASNS;ACTB``).

:func:`row_params` checks every row's values through the models before any
image is analysed, and :func:`read_sample_sheet` refuses a column whose name
is close to a parameter's but not one (``backgroud``): both raise one
:class:`~blotquant.errors.ParameterError` that lists each sheet row and
column at fault.

Examples
--------
>>> import io
>>> sheet = read_sample_sheet(io.StringIO("file,condition,radius\\na.tif,ctrl,30\\nb.tif,drug,\\n"),
...                           base_dir="/data")
>>> sheet[["file", "sample", "condition", "replicate", "kind", "role", "radius"]].values.tolist()
[['/data/a.tif', 'a', 'ctrl', '1', 'auto', 'target', '30'],
 ['/data/b.tif', 'b', 'drug', '1', 'auto', 'target', '']]
>>> [b.radius for b, _ in row_params(sheet)]
[30.0, 50.0]
>>> bad = read_sample_sheet(io.StringIO("file,kind,radius\\na.tif,blot,-3\\n"))
>>> row_params(bad, source="s.csv")
Traceback (most recent call last):
...
blotquant.errors.ParameterError: s.csv: row 2, column 'radius': must be a positive number, got '-3'
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..blot.params import BlotParams
from ..errors import ParameterError
from ..ihc.params import IHCParams
from ..io._common import parse_page

__all__ = ["IMAGE_EXTENSIONS", "SHEET_COLUMNS", "ROLES", "KINDS", "PARAM_COLUMNS",
           "read_sample_sheet", "discover_images", "row_params", "normalize_role",
           "split_list"]

#: File name endings recognised as images when a folder is scanned.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gel", ".scn",
                    ".svs", ".ndpi", ".1sc")

#: Context columns of a normalised sheet, with their defaults (None = computed).
SHEET_COLUMNS = {
    "file": None, "sample": None, "condition": "", "replicate": "1", "kind": "auto",
    "role": "target", "group": "", "lane_labels": "", "exposure": "", "page": "",
}

#: Sheet columns that set a parameter: ``{column: "blot" | "ihc"}``.
PARAM_COLUMNS = {**{n: "ihc" for n in IHCParams.names() if n not in ("cell", "stain_estimation")},
                 **{n: "blot" for n in BlotParams.names()}}

KINDS = ("auto", "blot", "ihc")
ROLES = ("target", "loading_control", "total_protein", "exposure")

#: How many problems one error message lists.
MAX_LISTED = 8

_ROLE_ALIASES = {
    "target": "target", "": "target", "both": "target", "blot": "target",
    "loading_control": "loading_control", "loading control": "loading_control",
    "loading-control": "loading_control", "control": "loading_control",
    "housekeeping": "loading_control", "lc": "loading_control",
    "total_protein": "total_protein", "total protein": "total_protein",
    "total-protein": "total_protein", "total-protein stain": "total_protein",
    "total protein stain": "total_protein", "total_protein_stain": "total_protein",
    "tps": "total_protein", "stain": "total_protein",
    "exposure": "exposure",
}


def normalize_role(value: str) -> str:
    """Canonical role name for a sheet's ``role`` cell.

    Parameters
    ----------
    value : str

    Returns
    -------
    str
        One of :data:`ROLES`.

    Examples
    --------
    >>> normalize_role("Loading control"), normalize_role("total-protein stain")
    ('loading_control', 'total_protein')
    """
    key = str(value).strip().lower()
    if key in ("nan", "none"):
        key = ""
    if key not in _ROLE_ALIASES:
        raise ParameterError(f"unknown role {value!r}; use one of {', '.join(ROLES)}")
    return _ROLE_ALIASES[key]


def split_list(value: Any) -> list[str]:
    """Split a ``;``- (or ``|``-) separated cell into stripped items.

    Parameters
    ----------
    value : Any
        A sheet cell; ``None`` and NaN are empty.

    Returns
    -------
    list of str
        The non-empty items.

    Examples
    --------
    >>> split_list("ASNS; ACTB"), split_list(""), split_list(float("nan"))
    (['ASNS', 'ACTB'], [], [])
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    text = str(value).replace("|", ";")
    return [v.strip() for v in text.split(";") if v.strip()]


def _problems(source: str, items: list[str]) -> ParameterError:
    shown = items[:MAX_LISTED]
    more = f"; and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ParameterError("; ".join(shown) + more, path=source)


def _check_columns(columns, source: str) -> None:
    """Refuse columns that look like a parameter name but are none."""
    known = list(PARAM_COLUMNS)
    bad = []
    for c in columns:
        if c in SHEET_COLUMNS or c in PARAM_COLUMNS:
            continue
        close = difflib.get_close_matches(c, known, n=1, cutoff=0.8)
        if close:
            bad.append(f"column {c!r} is not a parameter (did you mean {close[0]!r}?)")
    if bad:
        raise _problems(source, bad)


def _finish(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Fill defaults, validate the context columns, return the sheet in canonical order."""
    df = df.copy()
    df.columns = [str(c).strip().lower().replace(" ", "_").replace("-", "_")
                  for c in df.columns]
    if "file" not in df.columns:
        for alias in ("path", "image", "filename", "file_name"):
            if alias in df.columns:
                df = df.rename(columns={alias: "file"})
                break
    if "file" not in df.columns:
        raise ParameterError("the sample sheet needs a 'file' column (image paths)",
                             path=source)
    _check_columns(df.columns, source)
    # spreadsheet row numbers (header = row 1), kept for messages
    df["_row"] = range(2, len(df) + 2)
    df = df[df["file"].notna() & df["file"].astype(str).str.strip().ne("")].copy()
    if df.empty:
        raise ParameterError("the sample sheet lists no images", path=source)
    for col, default in SHEET_COLUMNS.items():
        if col not in df.columns:
            df[col] = default
        if default is not None:
            df[col] = df[col].fillna(default)
    df["file"] = df["file"].astype(str).str.strip()
    stems = df["file"].map(lambda f: Path(f).name.split(".")[0])
    df["sample"] = df["sample"].where(df["sample"].notna() & df["sample"].astype(str).ne(""),
                                      stems)
    params = [c for c in df.columns if c in PARAM_COLUMNS]
    for col in [*SHEET_COLUMNS, *params]:
        if col != "file":
            df[col] = df[col].astype(str).str.strip()
            df.loc[df[col].isin(["nan", "None"]), col] = ""
    df["replicate"] = df["replicate"].replace("", "1").map(_int_text)
    df["kind"] = df["kind"].str.lower().replace("", "auto")
    bad = []
    for r, k, role in zip(df["_row"], df["kind"], df["role"]):
        if k not in KINDS:
            bad.append(f"row {r}, column 'kind': unknown kind {k!r}; use blot, ihc or auto")
        try:
            normalize_role(role)
        except ParameterError as err:
            bad.append(f"row {r}, column 'role': {err.problem}")
    df["page"] = df["page"].map(_int_text)
    for r, v in zip(df["_row"], df["page"]):
        try:
            parse_page(v, f"row {r}, column 'page'")
        except ParameterError as err:
            bad.append(err.problem + " (leave it empty for a one-image file)")
    dup = df[["file", "page"]].duplicated()
    for r, f, pg in zip(df.loc[dup, "_row"], df.loc[dup, "file"], df.loc[dup, "page"]):
        what = f"file {f!r}" + (f" page {pg}" if pg else "")
        bad.append(f"row {r}: {what} is listed twice in the sample sheet")
    if bad:
        raise _problems(source, bad)
    df["role"] = df["role"].map(normalize_role)
    for col in params:  # "2.0" (a numeric column with gaps read by a spreadsheet) -> "2"
        if col in ("lanes", "reference_lane", "level"):
            df[col] = df[col].map(_int_text)
    extra = [c for c in df.columns if c not in SHEET_COLUMNS and c not in params
             and c != "_row"]
    df = df[list(SHEET_COLUMNS) + params + extra + ["_row"]].reset_index(drop=True)
    df.attrs["source"] = source
    return df


def _int_text(v: str) -> str:
    v = str(v).strip()
    try:
        f = float(v)
    except ValueError:
        return v
    return str(int(f)) if f.is_integer() else v


def read_sample_sheet(path: str | os.PathLike | IO[str], *,
                      base_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a CSV sample sheet into a normalised DataFrame (all cells text).

    Parameters
    ----------
    path : str, os.PathLike or file-like
        The CSV file.
    base_dir : path, optional
        Folder that relative ``file`` entries are relative to (default: the
        sheet's folder).

    Returns
    -------
    DataFrame
        The context columns of :data:`SHEET_COLUMNS`, then the parameter
        columns the sheet has, then any other columns (kept as they are), and
        ``_row`` (the spreadsheet row number); ``file`` holds absolute paths.

    Raises
    ------
    ParameterError
        Missing ``file`` column, unknown kind/role, duplicated files, a
        column that looks like a misspelt parameter (all listed at once).
    """
    if isinstance(path, (str, os.PathLike)):
        source = os.fspath(path)
    else:
        source = getattr(path, "name", None) or "sample sheet"
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise ParameterError("sample sheet not found", path=source) from None
    except IsADirectoryError:
        raise ParameterError("is a folder, not a sample sheet", path=source) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise ParameterError(f"cannot read the sample sheet as CSV: "
                             f"{' '.join(str(err).split())}", path=source) from None
    # comment lines (starting with #) are skipped, row numbers still count them
    first = df.columns[0] if len(df.columns) else None
    if first is not None:
        df = df[~df[first].astype(str).str.lstrip().str.startswith("#")]
    if base_dir is None:
        base_dir = Path(source).parent if isinstance(path, (str, os.PathLike)) else Path.cwd()
    rows = df.index.to_numpy() + 2
    df = df.reset_index(drop=True)
    df = _finish(df, source)
    keep = df["_row"].to_numpy() - 2
    df["_row"] = rows[keep]
    base = Path(base_dir)
    df["file"] = [str(p) if Path(p).is_absolute() else str(base / p) for p in df["file"]]
    return df


def discover_images(folder: str | os.PathLike, *, recursive: bool = False,
                    exclude: str | os.PathLike | None = None) -> pd.DataFrame:
    """List the image files of ``folder`` (by extension) as a default sample sheet.

    Hidden files (starting with ``.``) are ignored, and so is everything
    under ``exclude`` (the batch's output folder).  Files are sorted by path,
    so runs are reproducible.

    Parameters
    ----------
    folder : path-like
        The folder to scan.
    recursive : bool
        Scan sub-folders too.
    exclude : path-like, optional
        A folder whose files are skipped.

    Returns
    -------
    DataFrame
        A sheet as :func:`read_sample_sheet` returns it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("b.tif", "a.PNG", "notes.txt", ".hidden.tif"):
    ...     _ = (d / n).write_bytes(b"")
    >>> [pathlib.Path(f).name for f in discover_images(d)["file"]]
    ['a.PNG', 'b.tif']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ParameterError("not a folder", path=folder)
    excl = Path(exclude).resolve() if exclude is not None else None
    it = folder.rglob("*") if recursive else folder.iterdir()
    files = []
    for p in it:
        if p.name.startswith(".") or not p.is_file():
            continue
        if not p.name.lower().endswith(IMAGE_EXTENSIONS):
            continue
        if excl is not None and (excl == p.resolve() or excl in p.resolve().parents):
            continue
        files.append(p)
    files.sort(key=lambda p: p.as_posix())
    if not files:
        raise ParameterError("no image files found (looked for "
                             f"{', '.join(IMAGE_EXTENSIONS)})", path=folder)
    return _finish(pd.DataFrame({"file": [str(p) for p in files]}), str(folder))


def row_params(sheet: pd.DataFrame, *, blot: BlotParams | None = None,
               ihc: IHCParams | None = None, source: str | None = None) -> list[tuple]:
    """Every row's ``BlotParams`` and ``IHCParams``: the base models plus its cells.

    Parameters
    ----------
    sheet : DataFrame
        From :func:`read_sample_sheet` or :func:`discover_images`.
    blot, ihc : BlotParams, IHCParams, optional
        The command's parameters (default: the models' defaults).
    source : str, optional
        The sheet's file, named in the error (default: the one it was read from).

    Returns
    -------
    list of (BlotParams or None, IHCParams or None)
        One pair per row: ``None`` for the model a row's ``kind`` does not use
        (``auto`` rows get both).

    Raises
    ------
    ParameterError
        One error listing every bad row and column: a value the model
        refuses, or a parameter of the other engine set on a row of fixed kind.
    """
    blot = BlotParams() if blot is None else blot
    ihc = IHCParams() if ihc is None else ihc
    source = source or sheet.attrs.get("source") or "sample sheet"
    cols = [c for c in sheet.columns if c in PARAM_COLUMNS]
    rows = sheet["_row"] if "_row" in sheet.columns else pd.Series(range(2, len(sheet) + 2))
    out, bad = [], []
    cell_cache: dict = {}   # (engine, column, text) -> problem or None
    model_cache: dict = {}  # (engine, given items) -> model or problem
    for rec, rno in zip(sheet[["kind", *cols]].to_dict("records"), rows):
        kind = rec["kind"]
        given = {"blot": {}, "ihc": {}}
        for c in cols:
            v = rec[c]
            if v is None or str(v).strip() == "":
                continue
            engine = PARAM_COLUMNS[c]
            if kind not in ("auto", engine):
                bad.append(f"row {rno}, column {c!r}: {'an IHC' if engine == 'ihc' else 'a blot'}"
                           f" parameter, but the row's kind is {kind}")
                continue
            given[engine][c] = v
        pair = []
        for engine, base in (("blot", blot), ("ihc", ihc)):
            if kind not in ("auto", engine):
                pair.append(None)
                continue
            ok = True
            for c, v in given[engine].items():
                key = (engine, c, v)
                if key not in cell_cache:
                    try:
                        base.replace(**{c: v})
                        cell_cache[key] = None
                    except ParameterError as err:
                        problem = err.problem
                        cell_cache[key] = problem[len(c) + 2:] if problem.startswith(
                            f"{c}: ") else problem
                if cell_cache[key] is not None:
                    ok = False
                    bad.append(f"row {rno}, column {c!r}: {cell_cache[key]}")
            model = None
            if ok:
                key = (engine, tuple(given[engine].items()))
                if key not in model_cache:
                    try:
                        model_cache[key] = base.replace(**given[engine])
                    except ParameterError as err:
                        model_cache[key] = err.problem
                if isinstance(model_cache[key], str):
                    bad.append(f"row {rno}: {model_cache[key]}")
                else:
                    model = model_cache[key]
            pair.append(model)
        out.append(tuple(pair))
    if bad:
        raise _problems(source, bad)
    return out
