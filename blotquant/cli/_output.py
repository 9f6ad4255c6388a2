"""Output folders of the commands: checked before any work, written all or nothing.

:func:`prepare_output` runs before any image is read: it refuses a path that
is a file, that cannot be created, or that already holds results (unless
``--overwrite``), with a one-line :class:`~blotquant.errors.OutputError`.
:class:`StagedOutput` gives the command a hidden staging folder beside the
target; only when the command succeeds are its files moved into place, so a
run that fails late leaves the previous results (or nothing) behind, never a
partial mix.  The files a run wrote are listed in the hidden
:data:`MANIFEST`; a stage made with ``replace=True`` (``blot``, ``ihc``)
removes the previous run's results that it did not write again, so
``--overwrite`` never leaves an old ``normalized.csv`` beside new bands.  An
``--out`` that is the folder of an input image is refused.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with StagedOutput(root / "res") as out:
...     _ = (out / "bands.csv").write_text("lane,volume\\n")
>>> sorted(p.name for p in (root / "res").iterdir())   # + the list of results written
['.blotquant-results', 'bands.csv']
>>> prepare_output(root / "res")
Traceback (most recent call last):
...
blotquant.errors.OutputError: ...res: already holds results (bands.csv); use --overwrite to replace them or choose another --out
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import OutputError

__all__ = ["add_output_arguments", "prepare_output", "StagedOutput", "SIDECAR_SUFFIX",
           "MANIFEST"]

#: File name ending of review sidecars (see :mod:`blotquant.corrections`).
SIDECAR_SUFFIX = ".blotquant.json"


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--out`` (required) and ``--overwrite`` to a subcommand."""
    parser.add_argument("--out", required=True, metavar="FOLDER",
                        help="output folder (created; must not hold results unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results already in --out")


def add_page_argument(parser: argparse.ArgumentParser, option: str, help: str) -> None:
    """Add a page option (``--page N``: which image of a multi-image file, 1-based)."""
    parser.add_argument(option, default=None, metavar="N", help=help)


def page_number(text: str | None, option: str) -> int | None:
    """The page an option names (None when not given), checked
    (:func:`blotquant.io._common.parse_page`; the error names the option)."""
    from ..io._common import parse_page
    return parse_page(text, option)


#: Hidden file in an output folder listing the results the last run wrote there.
MANIFEST = ".blotquant-results"


def _first_file_above(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` that is not a folder (or None)."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def prepare_output(out, *, overwrite: bool = False, inputs=()) -> Path:
    """Check that ``out`` can receive results; create its parent folders.

    Parameters
    ----------
    out : str or Path
        The output folder.
    overwrite : bool
        Allow an existing, non-empty folder (its files are replaced on success).

    Returns
    -------
    Path
        ``out`` as an absolute path.

    Raises
    ------
    OutputError
        ``out`` is a file, cannot be created or written, holds results, or is
        the folder of one of ``inputs`` (the command's input files).
    """
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputError("is a file, not a folder: choose another --out", path=path)
    blocker = _first_file_above(path)
    if blocker is not None:
        raise OutputError(f"cannot create the output folder: {blocker} is a file, not a "
                          "folder; choose another --out", path=path)
    for item in inputs:
        if item is None:
            continue
        src = Path(item).expanduser()
        if src.is_file() and src.resolve().parent == path.resolve():
            raise OutputError(f"is the folder of the input {src.name}: results must go to "
                              "their own folder; choose another --out (e.g. a sub-folder)",
                              path=path)
    if path.is_dir():
        # review sidecars (<image>.blotquant.json) are inputs of a re-run, not results
        names = sorted(p.name for p in path.iterdir()
                       if not p.name.startswith(".") and not p.name.endswith(SIDECAR_SUFFIX))
        if names and not overwrite:
            shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
            raise OutputError(f"already holds results ({shown}); use --overwrite to replace "
                              "them or choose another --out", path=path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create the output folder: {err.strerror or err}",
                          path=path) from None
    if not os.access(path.parent, os.W_OK | os.X_OK) or (path.is_dir()
                                                         and not os.access(path, os.W_OK)):
        raise OutputError("cannot write there (permission denied): choose another --out",
                          path=path)
    return path.resolve()


class StagedOutput:
    """Context manager: write into a staging folder, move into ``out`` on success.

    Parameters
    ----------
    out : str or Path
        Final output folder (checked with :func:`prepare_output`).
    overwrite : bool
        Replace existing results.
    inputs : sequence of path-like
        The command's input files (``out`` must not be the folder of one).
    replace : bool
        This stage holds all the results of the run: files that the previous
        run wrote (listed in :data:`MANIFEST`) and this one did not are
        removed on success, so results of two runs are never mixed.
    keep : sequence of path-like
        Files never removed (the command's inputs when they may lie in ``out``).

    Notes
    -----
    On success every file of the staging folder replaces the file of the same
    name in ``out`` (``os.replace``: atomic per file on one file system); on
    any exception (including Ctrl-C) the staging folder is removed and ``out``
    is left as it was.
    """

    def __init__(self, out, *, overwrite: bool = False, inputs=(), replace: bool = False,
                 keep=()):
        self.out = prepare_output(out, overwrite=overwrite, inputs=inputs)
        self.replace = replace
        self.keep = {Path(p).expanduser().resolve() for p in (*inputs, *keep) if p is not None}
        self.stage: Path | None = None

    def __enter__(self) -> Path:
        try:
            self.stage = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.partial-",
                                               dir=self.out.parent))
        except OSError as err:
            raise OutputError(f"cannot create the output folder: {err.strerror or err}",
                              path=self.out) from None
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> bool:
        stage, self.stage = self.stage, None
        if stage is None:
            return False
        if exc_type is not None:
            shutil.rmtree(stage, ignore_errors=True)
            return False
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            written = sorted(str(p.relative_to(stage)) for p in stage.rglob("*")
                             if not p.is_dir())
            previous = _manifest(self.out)
            if self.replace:
                # results of the previous run that this run did not write would be mixed
                # in with the new ones (e.g. an old normalized.csv): remove them, only them
                for rel in previous:
                    stale = self.out / rel
                    if (rel not in written and ".." not in Path(rel).parts
                            and stale.resolve() not in self.keep):
                        stale.unlink(missing_ok=True)
            else:      # one of several stages of one run (batch, demo): add to the list
                written = sorted(set(written) | set(previous))
            for item in sorted(stage.rglob("*")):
                rel = item.relative_to(stage)
                dest = self.out / rel
                if item.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                else:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(item, dest)
            (self.out / MANIFEST).write_text("\n".join(written) + "\n", encoding="utf-8")
        except OSError as err:
            raise OutputError(f"cannot move the results into place: {err.strerror or err}",
                              path=self.out) from None
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return False


def _manifest(out: Path) -> list:
    """The files the previous run wrote into ``out`` (its :data:`MANIFEST`), or []."""
    try:
        text = (out / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("/")]
