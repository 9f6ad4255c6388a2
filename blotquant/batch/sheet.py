"""Sample sheets and folder discovery for :mod:`blotquant.batch`.

A *sample sheet* is a CSV file with one row per image.  Only ``file`` is
required; every other column has a default:

==============  ==========================================================
column          meaning (default)
==============  ==========================================================
file            image path, relative to the sheet's folder (required)
sample          sample name (the file stem)
condition       experimental condition, used to group bar charts ("")
replicate       replicate number or name (1)
kind            ``blot``, ``ihc`` or ``auto`` (``auto``: decided by colour)
role            ``target``, ``loading_control``, ``total_protein`` or
                ``exposure`` (``target``)
group           images that belong together (a target blot and its
                loading-control or total-protein image) share a group
                (default: each image is its own group, named like the image)
rows            band row names top to bottom, separated by ``;``
                (e.g. ``ASNS;ACTB``) (detected)
lanes           number of lanes (detected)
lane_labels     per-lane sample names separated by ``;`` (lane numbers)
target          row name of the target protein (first row)
control         row name of the loading control (last row / the
                loading-control image's row)
reference_lane  lane the relative ratios refer to (1)
exposure        exposure time in seconds, informative ("")
==============  ==========================================================

Without a sheet, :func:`discover_images` lists the image files of a folder
(by extension) and gives every file these defaults.

Examples
--------
>>> import io
>>> sheet = read_sample_sheet(io.StringIO("file,condition\\na.tif,ctrl\\nb.tif,drug\\n"),
...                           base_dir="/data")
>>> sheet[["file", "sample", "condition", "replicate", "kind", "role"]].values.tolist()
[['/data/a.tif', 'a', 'ctrl', '1', 'auto', 'target'], ['/data/b.tif', 'b', 'drug', '1', 'auto', 'target']]
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .errors import ParameterError

__all__ = ["IMAGE_EXTENSIONS", "SHEET_COLUMNS", "ROLES", "KINDS", "read_sample_sheet",
           "discover_images", "normalize_role", "split_list"]

#: File name endings recognised as images when a folder is scanned.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp", ".gel", ".scn",
                    ".svs", ".ndpi", ".1sc")

#: Columns of a normalised sheet, with their defaults (None = computed).
SHEET_COLUMNS = {
    "file": None, "sample": None, "condition": "", "replicate": "1", "kind": "auto",
    "role": "target", "group": "", "rows": "", "lanes": "", "lane_labels": "",
    "target": "", "control": "", "reference_lane": "1", "exposure": "",
}

KINDS = ("auto", "blot", "ihc")
ROLES = ("target", "loading_control", "total_protein", "exposure")

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


def split_list(value) -> list[str]:
    """Split a ``;``- (or ``|``-) separated cell into stripped items.

    Examples
    --------
    >>> split_list("ASNS; ACTB"), split_list(""), split_list(float("nan"))
    (['ASNS', 'ACTB'], [], [])
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    text = str(value).replace("|", ";")
    return [v.strip() for v in text.split(";") if v.strip()]


def _finish(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Fill defaults, validate, and return the sheet in canonical column order."""
    df = df.copy()
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    if "file" not in df.columns:
        for alias in ("path", "image", "filename", "file_name"):
            if alias in df.columns:
                df = df.rename(columns={alias: "file"})
                break
    if "file" not in df.columns:
        raise ParameterError("the sample sheet needs a 'file' column (image paths)",
                             path=source)
    df = df[df["file"].astype(str).str.strip().ne("") & df["file"].notna()].copy()
    if df.empty:
        raise ParameterError("the sample sheet lists no images", path=source)
    for col, default in SHEET_COLUMNS.items():
        if col not in df.columns:
            df[col] = default
        if default is not None:
            df[col] = df[col].fillna(default)
    df["file"] = df["file"].astype(str)
    stems = df["file"].map(lambda f: Path(f).name.split(".")[0])
    df["sample"] = df["sample"].where(df["sample"].notna() & df["sample"].astype(str).ne(""),
                                      stems)
    for col in SHEET_COLUMNS:
        if col != "file":
            df[col] = df[col].astype(str).str.strip()
            df.loc[df[col].isin(["nan", "None"]), col] = ""
    df["replicate"] = df["replicate"].replace("", "1")
    # "2.0" (pandas read a numeric column with gaps) -> "2"
    df["replicate"] = df["replicate"].map(_int_text)
    df["lanes"] = df["lanes"].map(_int_text)
    df["reference_lane"] = df["reference_lane"].replace("", "1").map(_int_text)
    df["kind"] = df["kind"].str.lower().replace("", "auto")
    bad = sorted(set(df["kind"]) - set(KINDS))
    if bad:
        raise ParameterError(f"unknown kind {bad[0]!r} in the sample sheet; use blot, ihc "
                             "or auto", path=source)
    try:
        df["role"] = df["role"].map(normalize_role)
    except ParameterError as err:
        raise ParameterError(err.problem + " (sample sheet)", path=source) from None
    for col in ("lanes", "reference_lane"):
        for v in df[col]:
            if v and not v.isdigit():
                raise ParameterError(f"column {col!r} must hold whole numbers, got {v!r}",
                                     path=source)
    dup = df["file"][df["file"].duplicated()]
    if len(dup):
        raise ParameterError(f"file {dup.iloc[0]!r} is listed twice in the sample sheet",
                             path=source)
    extra = [c for c in df.columns if c not in SHEET_COLUMNS]
    return df[list(SHEET_COLUMNS) + extra].reset_index(drop=True)


def _int_text(v: str) -> str:
    v = str(v).strip()
    try:
        f = float(v)
    except ValueError:
        return v
    return str(int(f)) if f == int(f) else v


def read_sample_sheet(path, *, base_dir: str | os.PathLike | None = None) -> pd.DataFrame:
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
        Columns of :data:`SHEET_COLUMNS` (then any extra columns of the
        sheet, kept as they are); ``file`` holds absolute paths.

    Raises
    ------
    ParameterError
        Missing ``file`` column, unknown kind/role, duplicated files.
    """
    if isinstance(path, (str, os.PathLike)):
        source = os.fspath(path)
    else:
        source = getattr(path, "name", None) or "sample sheet"
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True,
                         comment="#")
    except FileNotFoundError:
        raise ParameterError("sample sheet not found", path=source) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise ParameterError(f"cannot read the sample sheet as CSV: {err}",
                             path=source) from None
    if base_dir is None:
        base_dir = Path(source).parent if isinstance(path, (str, os.PathLike)) else Path.cwd()
    df = _finish(df, source)
    base = Path(base_dir)
    df["file"] = [str(p) if Path(p).is_absolute() else str(base / p) for p in df["file"]]
    return df


def discover_images(folder, *, recursive: bool = False,
                    exclude: str | os.PathLike | None = None) -> pd.DataFrame:
    """List the image files of ``folder`` (by extension) as a default sample sheet.

    Hidden files (starting with ``.``) are ignored, and so is everything
    under ``exclude`` (the batch's output folder).  Files are sorted by path,
    so runs are reproducible.

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
        if excl is not None and excl in p.resolve().parents:
            continue
        files.append(p)
    files.sort(key=lambda p: p.as_posix())
    if not files:
        raise ParameterError("no image files found (looked for "
                             f"{', '.join(IMAGE_EXTENSIONS)})", path=folder)
    df = pd.DataFrame({"file": [str(p) for p in files]})
    return _finish(df, str(folder))
