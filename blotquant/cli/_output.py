"""Output folders of the commands: checked before any work, written all or nothing.

:func:`prepare_output` runs before any image is read: it refuses a path that
is a file, that cannot be created, or that already holds results (unless
``--overwrite``), with a one-line :class:`~blotquant.errors.OutputError`.
:class:`StagedOutput` gives the command a hidden staging folder beside the
target; only when the command succeeds are its files moved into place, so a
run that fails late leaves the previous results (or nothing) behind, never a
partial mix.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with StagedOutput(root / "res") as out:
...     _ = (out / "bands.csv").write_text("lane,volume\\n")
>>> sorted(p.name for p in (root / "res").iterdir())
['bands.csv']
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

__all__ = ["add_output_arguments", "prepare_output", "StagedOutput", "SIDECAR_SUFFIX"]

#: File name ending of review sidecars (see :mod:`blotquant.corrections`).
SIDECAR_SUFFIX = ".blotquant.json"


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--out`` (required) and ``--overwrite`` to a subcommand."""
    parser.add_argument("--out", required=True, metavar="FOLDER",
                        help="output folder (created; must not hold results unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the results already in --out")


def prepare_output(out, *, overwrite: bool = False) -> Path:
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
        ``out`` is a file, cannot be created or written, or holds results.
    """
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputError("is a file, not a folder: choose another --out", path=path)
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

    Notes
    -----
    On success every file of the staging folder replaces the file of the same
    name in ``out`` (``os.replace``: atomic per file on one file system); on
    any exception (including Ctrl-C) the staging folder is removed and ``out``
    is left as it was.
    """

    def __init__(self, out, *, overwrite: bool = False):
        self.out = prepare_output(out, overwrite=overwrite)
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
            for item in sorted(stage.rglob("*")):
                rel = item.relative_to(stage)
                dest = self.out / rel
                if item.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                else:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(item, dest)
        except OSError as err:
            raise OutputError(f"cannot move the results into place: {err.strerror or err}",
                              path=self.out) from None
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return False
