"""Batch runs: many images -> combined tidy tables, QC figures and one HTML report.

:func:`run_batch` analyses every image of a folder or sample sheet in
parallel with dask (a local cluster by default, or an existing
``dask.distributed`` scheduler), one task per image.  Each image gets its own
result folder under ``<out>/images/`` whose completion marker (``done.json``)
is written last; its name contains a key hashed from the file's content
(SHA-256), the analysis parameters (``BlotParams`` / ``IHCParams``), the
review sidecar (if any), the package version and a fingerprint of the
analysis code.  A re-run into the batch's own output folder (it holds the
manifest ``batch.json``) therefore skips every image already finished with
the same content and parameters -- also after the previous run was killed --
and the combined tables, rebuilt from the per-image folders in sheet order,
come out identical.  The combined files are staged and moved into place
together at the end, so a failed run never leaves a partial set.

One bad file never stops the batch: it is listed in ``errors.csv`` (file,
error_type, message) and the run returns a non-zero exit status.

Output folder layout::

    OUT/
      bands.csv  lanes.csv  normalized.csv      (blots; .parquet/.xlsx with fmt=)
      ihc_regions.csv  ihc_cells.csv            (IHC)
      errors.csv                                (file, error_type, message)
      report.html                               (self-contained)
      run.json                                  (parameters, counts, timings)
      batch.json                                (manifest, written first)
      images/<name>__<key>/                     (per image: tables, qc.png, thumb.png,
                                                 info.json, done.json)

Examples
--------
>>> from blotquant.batch import task_key
>>> task_key("ab" * 32, {"radius": 50}) == task_key("ab" * 32, {"radius": 50})
True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd

from .._version import __version__
from ..blot.params import BlotParams
from ..cli._output import StagedOutput
from ..errors import OutputError, ParameterError
from ..ihc.params import IHCParams
from ..provenance import jsonable
from ..review.files import find_sidecar
from ..tables import TABLE_FORMATS, write_json, write_table
from .combine import combine
from .sheet import discover_images, read_sample_sheet, row_params, split_list
from .worker import DONE, ERROR, is_done, process_image

__all__ = ["run_batch", "BatchResult", "build_tasks", "task_key", "engine_fingerprint",
           "file_sha256", "load_sheet", "is_batch_output", "prepare_batch_output",
           "TABLE_NAMES", "MANIFEST", "EXIT_OK", "EXIT_SOME_FAILED"]

#: Combined tables, in the order they are written.
TABLE_NAMES = ("bands", "lanes", "normalized", "ihc_regions", "ihc_cells")

EXIT_OK = 0
#: Exit status when the batch finished but some files failed (see errors.csv).
EXIT_SOME_FAILED = 3

ERROR_COLUMNS = ["file", "error_type", "message"]

#: The batch's manifest, written first: a folder holding it is a batch output
#: that a re-run may resume into.
MANIFEST = "batch.json"

#: Rows an Excel sheet can hold (header included); larger tables fall back to CSV.
XLSX_MAX_ROWS = 1_048_576

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    out_dir : Path
    tables : dict of str -> DataFrame
        The combined tables (only those with rows).
    errors : DataFrame
        file, error_type, message (one row per failed file).
    n_images, n_done, n_skipped, n_failed : int
        Images in the batch; analysed in this run; already finished (resumed);
        failed.
    seconds : float
    paths : dict of str -> Path
        Written files (tables, ``errors``, ``report``, ``run``).
    warnings : list of str
    images : list of dict
        Per-image entries for :func:`blotquant.report.html.write_report`
        (to re-render the report, e.g. with extra figures).
    """

    out_dir: Path
    tables: dict = field(default_factory=dict)
    errors: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ERROR_COLUMNS))
    n_images: int = 0
    n_done: int = 0
    n_skipped: int = 0
    n_failed: int = 0
    seconds: float = 0.0
    paths: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    images: list = field(default_factory=list, repr=False)
    title: str = ""

    @property
    def exit_status(self) -> int:
        """0 when every image succeeded, :data:`EXIT_SOME_FAILED` otherwise."""
        return EXIT_SOME_FAILED if self.n_failed else EXIT_OK


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """SHA-256 hex digest of a file's bytes.

    Parameters
    ----------
    path : path-like
        The file.
    chunk : int, optional
        Bytes read at a time.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def task_key(content_sha: str, params: Mapping[str, Any], code: str | None = None) -> str:
    """Key of one image's result: content hash + parameters + package version + code.

    ``code`` defaults to :func:`engine_fingerprint` (pass it when keying many
    images: it reads the engine sources).

    Parameters
    ----------
    content_sha : str
        SHA-256 of the image file.
    params : Mapping
        The analysis parameters of the image.
    code : str, optional
        Fingerprint of the analysis code.

    Returns
    -------
    str
        The first 16 hex digits of the SHA-256 of all four.
    """
    code = engine_fingerprint() if code is None else code
    text = json.dumps(jsonable({"sha256": content_sha, "params": params,
                                "version": __version__, "code": code}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Code whose changes invalidate finished results (the engines, the sidecar and
#: the worker), relative to the package folder.
ENGINE_CODE = ("_shared", "blot", "ihc", "io", "image.py", "review", "batch/worker.py")


def engine_fingerprint() -> str:
    """Hash of the analysis code (so a resumed run never mixes two code versions).

    Released versions change it with the version anyway; in a development
    checkout it changes whenever an engine source file is edited.

    Returns
    -------
    str
        16 hex digits of the SHA-256 of the files listed in
        :data:`ENGINE_CODE` (their paths and contents).
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for name in ENGINE_CODE:
        p = root / name
        files = sorted(p.rglob("*.py")) if p.is_dir() else [p]
        for f in files:
            try:
                h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
            except OSError:
                continue
    return h.hexdigest()[:16]


def _safe(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return (s or "image")[:80]


def _image_name(file: str, base: Path) -> str:
    p = Path(file)
    try:
        return p.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.name


def build_tasks(sheet: pd.DataFrame, out_dir: str | os.PathLike, *,
                base_dir: str | os.PathLike, models: list[tuple],
                qc: bool = True, thumb_px: int = 360,
                use_sidecars: bool = True) -> tuple[list[dict], list[dict]]:
    """Turn a validated sample sheet into worker tasks.

    Parameters
    ----------
    sheet : DataFrame
        From :func:`~blotquant.batch.sheet.read_sample_sheet` (or discovery).
    out_dir, base_dir : path-like
        The output folder; the folder image names are relative to.
    models : list of (BlotParams or None, IHCParams or None)
        Each row's parameters (:func:`~blotquant.batch.sheet.row_params`).
    qc, thumb_px, use_sidecars
        Draw QC figures; thumbnail size; apply review sidecars.

    Returns
    -------
    (list of dict, list of dict)
        Tasks, and error records of files that cannot even be hashed
        (missing, unreadable).
    """
    out_dir = Path(out_dir)
    base = Path(base_dir)
    code = engine_fingerprint()
    tasks, errors = [], []
    names_seen: dict[str, int] = {}
    for (i, row), (blot, ihc) in zip(sheet.iterrows(), models):
        file = str(row["file"])
        page = int(row["page"]) if str(row.get("page", "") or "").strip() else None
        name = _image_name(file, base) + (f"#page{page}" if page is not None else "")
        if name in names_seen:  # same file name from two folders outside base
            names_seen[name] += 1
            name = f"{name}#{names_seen[name]}"
        else:
            names_seen[name] = 0
        ctx = {k: row[k] for k in sheet.columns if k != "_row"}
        ctx["group"] = ctx.get("group") or name
        labels = split_list(row["lane_labels"])
        if blot is not None and blot.lanes is None and labels and not str(
                row.get("lanes", "")).strip():
            blot = blot.replace(lanes=len(labels))  # documented sheet default
        try:
            sha = file_sha256(file)
        except OSError as err:
            msg = err.strerror or str(err)
            if isinstance(err, FileNotFoundError):
                msg = "file not found; check the path in the sample sheet"
            elif isinstance(err, IsADirectoryError):
                msg = "is a folder, not an image file"
            errors.append({"index": i, "file": file, "name": name,
                           "error_type": "ImageReadError", "message": msg, "context": ctx})
            continue
        sidecar = find_sidecar(file, out_dir) if use_sidecars else None
        blot_d = None if blot is None else blot.to_dict()
        ihc_d = None if ihc is None else ihc.to_dict()
        key = task_key(sha, {"kind": row["kind"], "blot": blot_d, "ihc": ihc_d,
                             "sidecar_sha256": file_sha256(sidecar) if sidecar else None,
                             "name": name, "page": page}, code)
        tasks.append({
            "index": int(i), "file": file, "page": page, "name": name, "kind": row["kind"],
            "blot_params": blot_d, "ihc_params": ihc_d,
            "sidecar": str(sidecar) if sidecar else None, "sha256": sha, "key": key,
            "result_dir": str(out_dir / "images" / f"{_safe(name)}__{key[:10]}"),
            "qc": qc, "thumb_px": thumb_px, "context": ctx,
        })
    return tasks, errors


def _as_model(cls, value, what: str):
    if value is None:
        return cls()
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_mapping(value)
    raise ParameterError(f"{what} must be a {cls.__name__} or a mapping of its fields, "
                         f"got {type(value).__name__}")


def is_batch_output(out_dir: str | os.PathLike) -> bool:
    """True when ``out_dir`` is a folder a batch run made (it has the manifest).

    Parameters
    ----------
    out_dir : path-like
        The folder.

    Returns
    -------
    bool
        Whether it holds a batch manifest (or the ``run.json`` and
        ``images/`` of an older batch output).
    """
    d = Path(out_dir)
    for name, ok in ((MANIFEST, lambda m: m.get("tool") == "blotquant batch"),
                     # outputs of blotquant before the manifest: run.json + images/
                     ("run.json", lambda m: "n_images" in m and (d / "images").is_dir())):
        try:
            m = json.loads((d / name).read_text())
        except (OSError, ValueError):
            continue
        if isinstance(m, dict) and ok(m):
            return True
    return False


def prepare_batch_output(out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check ``out_dir`` before any work: a new folder, or this batch's own to resume.

    Parameters
    ----------
    out_dir : path-like
        The output folder.
    overwrite : bool
        Also write into a folder that holds other results.

    Returns
    -------
    Path
        The absolute output folder.

    Raises
    ------
    OutputError
        ``out_dir`` is a file, cannot be created, or holds results that are
        not a batch run's (without ``overwrite``).
    """
    from ..cli._output import prepare_output

    own = Path(out_dir).is_dir() and is_batch_output(out_dir)
    return prepare_output(out_dir, overwrite=overwrite or own)


# ------------------------------------------------------------------ execution
def _execute(tasks: list[dict], *, workers: int | None, scheduler: str | None,
             processes: bool, progress: bool,
             on_result: Callable[[dict], None]) -> None:
    """Run ``process_image`` over ``tasks`` and feed each record to ``on_result``."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc="blotquant batch", unit="image", file=sys.stderr,
               disable=not progress or not tasks, dynamic_ncols=True)
    try:
        if not tasks:
            return
        if scheduler in ("sync", "synchronous") or workers == 0:
            for t in tasks:
                on_result(_strip(process_image(_worker_task(t)), t))
                bar.update()
            return
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        if scheduler:
            client = Client(scheduler, timeout="30s")
        else:
            n = workers or min(os.cpu_count() or 1, len(tasks), 8)
            cluster = LocalCluster(n_workers=max(1, n), threads_per_worker=1,
                                   processes=processes, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            futures = {}
            for t in tasks:
                f = client.submit(process_image, _worker_task(t), pure=False,
                                  key=f"blotquant-image-{t['index']}-{t['key']}")
                futures[f.key] = (f, t)
            for f in as_completed([f for f, _ in futures.values()]):
                t = futures[f.key][1]
                try:
                    rec = f.result()
                except Exception as err:  # worker died (KilledWorker), cancelled, ...
                    rec = {"status": "error", "file": t["file"], "name": t["name"],
                           "error_type": type(err).__name__,
                           "message": f"worker failed on this file: {err}"}
                on_result(_strip(rec, t))
                bar.update()
                f.release()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    finally:
        bar.close()


def _worker_task(t: dict) -> dict:
    return {k: v for k, v in t.items() if k != "context"}


def _strip(rec: dict, t: dict) -> dict:
    rec = dict(rec)
    rec["index"] = t["index"]
    return rec


# ------------------------------------------------------------------ main entry
def load_sheet(source: str | os.PathLike, *, sheet: str | os.PathLike | None = None,
               recursive: bool = False, out_dir: str | os.PathLike | None = None,
               kind: str | None = None) -> tuple[pd.DataFrame, Path]:
    """The sample sheet of a batch (read, or discovered from a folder) and its base folder.

    Parameters
    ----------
    source : path-like
        A folder of images or a ``.csv`` sample sheet.
    sheet : path-like, optional
        A sample sheet for a folder ``source``.
    recursive : bool
        Scan sub-folders (folder sources only).
    out_dir : path-like, optional
        Skipped when scanning a folder.
    kind : {"auto", "blot", "ihc"}, optional
        Overrides the sheet's ``kind`` column.

    Returns
    -------
    sheet : DataFrame
        The normalised sample sheet.
    base : Path
        The folder relative image paths are relative to.

    Raises
    ------
    ParameterError
        No such source, not a folder or sheet, invalid sheet.
    """
    source = Path(source)
    if sheet is not None:
        base = source if source.is_dir() else Path(sheet).parent
        df = read_sample_sheet(sheet, base_dir=base)
    elif source.is_file() and source.suffix.lower() in (".csv", ".tsv", ".txt"):
        base = source.parent
        df = read_sample_sheet(source)
    elif source.is_dir():
        base = source
        if out_dir is not None:
            o, src = Path(out_dir).expanduser().resolve(), source.resolve()
            if o == src or o in src.parents:
                # its images would be skipped as the batch's own output: say so
                raise OutputError(f"the output folder {out_dir} is (or holds) the image "
                                  "folder: results must go to their own folder; choose "
                                  "another --out", path=source)
        df = discover_images(source, recursive=recursive, exclude=out_dir)
    elif source.is_file():
        raise ParameterError("give a folder of images or a .csv sample sheet", path=source)
    else:
        raise ParameterError("no such file or folder", path=source)
    if kind and kind != "auto":
        df["kind"] = kind
    return df, base


def run_batch(source: str | os.PathLike, out_dir: str | os.PathLike, *,
              sheet: str | os.PathLike | None = None, workers: int | None = None,
              scheduler: str | None = None, processes: bool = True, fmt: str = "csv",
              kind: str | None = None,
              blot_params: BlotParams | Mapping[str, Any] | None = None,
              ihc_params: IHCParams | Mapping[str, Any] | None = None,
              recursive: bool = False, progress: bool = True, report: bool = True,
              qc: bool = True, use_sidecars: bool = True, title: str | None = None,
              overwrite: bool = False) -> BatchResult:
    """Analyse a folder or a sample sheet of images; resumable and fault-tolerant.

    Everything is checked before any image is read: the options, every sheet
    row's parameters (one error listing each bad row and column) and the
    output folder (new, or this batch's own, or ``overwrite``).

    Parameters
    ----------
    source : path
        A folder (image files discovered by extension) or a ``.csv`` sample
        sheet (see :mod:`blotquant.batch.sheet`).
    out_dir : path
        Output folder (created).  Re-running into a batch's own output resumes.
    sheet : path, optional
        A sample sheet whose relative paths are relative to ``source`` (when
        ``source`` is a folder).
    workers : int, optional
        Local dask workers (default: number of CPUs, at most 8).  ``0`` runs
        everything in this process (no dask).
    scheduler : str, optional
        Address of an existing ``dask.distributed`` scheduler
        (``tcp://host:8786``); the workers must see the same file paths.
        ``"sync"`` is the same as ``workers=0``.
    processes : bool
        Local workers as processes (default) or threads.
    fmt : {"csv", "parquet", "xlsx"}
        Format of the combined tables.
    kind : {"auto", "blot", "ihc"}, optional
        Overrides the sheet's ``kind`` column for every image.
    blot_params, ihc_params : BlotParams, IHCParams or mapping, optional
        The analysis parameters (sheet parameter columns override them per
        row; recorded, part of the resume key).
    recursive : bool
        Scan sub-folders too (folder sources only).
    progress, report, qc : bool
        Show a tqdm progress bar; write ``report.html``; draw QC figures.
    use_sidecars : bool
        Apply review sidecars found by :func:`blotquant.review.find_sidecar`
        (in ``out_dir``, then beside the image).
    title : str, optional
        Report title.
    overwrite : bool
        Write into a folder that holds results other than this batch's.

    Returns
    -------
    BatchResult

    Raises
    ------
    ParameterError
        Bad options or sample sheet (nothing is written).
    OutputError
        ``out_dir`` cannot be used (nothing is written).

    Examples
    --------
    >>> import tempfile, pathlib, tifffile
    >>> from blotquant.synthetic import make_blot
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> tifffile.imwrite(d / "blot.tif", make_blot(0, shape=(120, 200), n_lanes=3).image)
    >>> res = run_batch(d, d / "out", workers=0, progress=False, report=False, qc=False)
    >>> res.n_done, res.n_failed, res.exit_status, sorted(res.tables)
    (1, 0, 0, ['bands', 'lanes', 'normalized'])
    """
    t0 = time.perf_counter()
    if fmt not in TABLE_FORMATS:
        raise ParameterError(f"unknown table format {fmt!r}; use one of "
                             f"{', '.join(TABLE_FORMATS)}")
    if kind not in (None, "auto", "blot", "ihc"):
        raise ParameterError(f"unknown kind {kind!r}; use auto, blot or ihc")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 0):
        raise ParameterError(f"workers must be a whole number >= 0, got {workers!r}")
    blot = _as_model(BlotParams, blot_params, "blot_params")
    ihc = _as_model(IHCParams, ihc_params, "ihc_params")
    out_dir = Path(out_dir)
    df, base = load_sheet(source, sheet=sheet, recursive=recursive, out_dir=out_dir, kind=kind)
    models = row_params(df, blot=blot, ihc=ihc)
    created = not out_dir.exists()
    out_dir = prepare_batch_output(out_dir, overwrite=overwrite)
    try:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_json({"tool": "blotquant batch", "blotquant_version": __version__,
                        "source": str(source),
                        "sheet": None if sheet is None else str(sheet)}, out_dir / MANIFEST)
        except OSError as err:
            raise OutputError(f"cannot create the output folder: {err.strerror or err}",
                              path=out_dir) from None
        return _run(df, base, models, out_dir, source=Path(source), sheet=sheet,
                    workers=workers, scheduler=scheduler, processes=processes, fmt=fmt,
                    kind=kind, blot=blot, ihc=ihc, progress=progress, report=report, qc=qc,
                    use_sidecars=use_sidecars, title=title, t0=t0)
    except BaseException:
        # a run that failed before finishing any image leaves nothing behind;
        # finished images stay (the next run resumes from them)
        if created and not any(out_dir.glob(f"images/*/{DONE}")):
            shutil.rmtree(out_dir, ignore_errors=True)
        raise


def _run(df, base, models, out_dir: Path, *, source: Path, sheet, workers, scheduler,
         processes, fmt, kind, blot, ihc, progress, report, qc, use_sidecars, title,
         t0) -> BatchResult:
    tasks, early_errors = build_tasks(df, out_dir, base_dir=base, models=models, qc=qc,
                                      use_sidecars=use_sidecars)
    todo = [t for t in tasks if not is_done(t["result_dir"], t["key"])]
    n_skipped = len(tasks) - len(todo)
    records: dict[int, dict] = {}

    def on_result(rec):
        records[rec["index"]] = rec

    _execute(todo, workers=workers, scheduler=scheduler, processes=processes,
             progress=progress, on_result=on_result)

    failures = {e["index"]: e for e in early_errors}
    done_tasks = []
    for t in tasks:
        if is_done(t["result_dir"], t["key"]):
            done_tasks.append(t)
            continue
        rec = records.get(t["index"]) or _read_error(t)
        failures[t["index"]] = {"index": t["index"], "file": t["file"], "name": t["name"],
                                "error_type": rec.get("error_type", "Error"),
                                "message": rec.get("message", "no result"),
                                "context": t["context"]}
    combined, warnings = combine(done_tasks, base_dir=base)
    errors = pd.DataFrame(
        [{"file": _image_name(f["file"], base), "error_type": f["error_type"],
          "message": f["message"]} for _, f in sorted(failures.items())],
        columns=ERROR_COLUMNS)

    result = BatchResult(out_dir=out_dir, tables=combined, errors=errors,
                         n_images=len(df), n_done=len(todo) - sum(
                             1 for t in todo if t["index"] in failures),
                         n_skipped=n_skipped, n_failed=len(failures), warnings=warnings)
    images = [_image_entry(t, ok=True) for t in done_tasks] + \
             [_image_entry(f, ok=False) for f in failures.values()]
    images.sort(key=lambda e: e["index"])
    result.images = images
    result.title = title or f"blotquant batch: {source.name}"
    paths = {}
    # the combined files appear together, or (on a failure) not at all
    with StagedOutput(out_dir, overwrite=True) as stage:
        for name in TABLE_NAMES:
            if name in combined:
                f = fmt
                if fmt == "xlsx" and len(combined[name]) >= XLSX_MAX_ROWS:
                    f = "csv"
                    warnings.append(f"other: {name} has {len(combined[name])} rows, more than "
                                    "an Excel sheet holds: written as CSV")
                write_table(combined[name], stage / f"{name}.{f}")
                paths[name] = out_dir / f"{name}.{f}"
        write_table(errors, stage / "errors.csv")
        paths["errors"] = out_dir / "errors.csv"
        if report:
            from ..report.html import write_report

            write_report(stage / "report.html", tables=combined, errors=errors,
                         images=images, warnings=warnings, title=result.title)
            paths["report"] = out_dir / "report.html"
        result.seconds = round(time.perf_counter() - t0, 3)
        run_info = {
            "blotquant_version": __version__, "source": str(source),
            "sheet": None if sheet is None else str(sheet), "format": fmt,
            "blot_params": blot.to_dict(), "ihc_params": ihc.to_dict(),
            "kind": kind or "sheet/auto", "n_images": result.n_images,
            "n_analysed": result.n_done, "n_skipped_finished": n_skipped,
            "n_failed": result.n_failed, "seconds": result.seconds,
            "workers": workers, "scheduler": scheduler or "local",
            "processes": processes,
        }
        write_json(run_info, stage / "run.json")
        paths["run"] = out_dir / "run.json"
    result.paths = paths
    return result


def _read_error(t: dict) -> dict:
    try:
        return json.loads((Path(t["result_dir"]) / ERROR).read_text())
    except (OSError, ValueError):
        return {"error_type": "Interrupted", "message": "the image was not finished"}


def _image_entry(t: dict, ok: bool) -> dict:
    ctx = t.get("context", {})
    e = {"index": t["index"], "name": t["name"], "ok": ok,
         "sample": ctx.get("sample", ""), "condition": ctx.get("condition", ""),
         "replicate": ctx.get("replicate", ""), "role": ctx.get("role", "")}
    if ok:
        d = Path(t["result_dir"])
        e.update(thumb=d / "thumb.png", qc=d / "qc.png", result_dir=d)
        try:
            e["kind"] = json.loads((d / DONE).read_text()).get("kind", "")
        except (OSError, ValueError):
            e["kind"] = ""
    else:
        e.update(error_type=t.get("error_type", ""), message=t.get("message", ""))
    return e
