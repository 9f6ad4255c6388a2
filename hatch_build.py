"""Build hook: compile the C loops (``blotquant/ihc/_pixelc.c``, ``blotquant/ihc/_cellc.c``).

Hatchling runs :class:`CustomBuildHook` for every wheel it builds, editable
ones included (``pip install -e .``, ``pip wheel .``).  The extension is
compiled with the running interpreter's own compiler settings (``sysconfig``:
``CC``, ``CFLAGS``, ``CCSHARED``, ``LDSHARED``, ``EXT_SUFFIX``, the include
directory) plus ``-ffp-contract=off`` (the float32 sums must not be fused into
multiply-adds; see the C file).  A regular wheel gets the compiled file and a
platform tag; an editable install compiles it next to the source, where the
editable path finds it.  Without a working compiler (or with
``BLOTQUANT_NO_EXTENSION=1``) the build warns and makes a pure-Python package:
:class:`blotquant.ihc.pixels.PixelKernel` then runs its NumPy/OpenCV path.

Build in place for a source checkout (a worktree whose package is found via
``PYTHONPATH``)::

    python hatch_build.py --inplace
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SOURCE = Path("blotquant") / "ihc" / "_pixelc.c"
MODULE = "blotquant.ihc._pixelc"
#: Every extension module (name, in ``SOURCE.parent``): the pixel-mode kernel and the
#: cell-mode loops; each is built on its own (a failure of one leaves the other).
EXTENSIONS = ("_pixelc", "_cellc")
#: Added to the interpreter's flags: no fused multiply-add, no fast math.
EXTRA_CFLAGS = ["-ffp-contract=off", "-fno-fast-math", "-std=c99"]


def extension_name(name: str = "_pixelc") -> str:
    """File name of the compiled module ``name`` for this interpreter (+ EXT_SUFFIX)."""
    return name + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def _var(name: str) -> list[str]:
    return shlex.split(os.environ.get(name) or sysconfig.get_config_var(name) or "")


def compile_extension(out_dir: Path, *, quiet: bool = False, name: str = "_pixelc") -> Path | None:
    """Compile one C module into ``out_dir``; the built file, or None (with a warning).

    Parameters
    ----------
    out_dir : Path
        Where the module file goes (``name`` + the interpreter's EXT_SUFFIX).
    quiet : bool
        Do not echo the compiler commands.
    name : str
        The module (one of :data:`EXTENSIONS`; its source is ``name + ".c"`` beside
        ``_pixelc.c``).

    Returns
    -------
    Path or None
        The module file; None when no compiler is available, the build is
        switched off (``BLOTQUANT_NO_EXTENSION=1``) or compiling fails.
    """
    if os.environ.get("BLOTQUANT_NO_EXTENSION") == "1":
        warnings.warn("BLOTQUANT_NO_EXTENSION=1: building blotquant without its C pixel "
                      "kernel (the NumPy path is used)", stacklevel=2)
        return None
    cc = _var("CC")
    ldshared = _var("LDSHARED")
    if sys.platform == "win32" or not cc or not ldshared or shutil.which(cc[0]) is None:
        warnings.warn(f"no C compiler found ({' '.join(cc) or 'sysconfig CC unset'}): "
                      "building blotquant without its C pixel kernel (the NumPy path is "
                      "used, ~2-3x slower in pixel mode)", stacklevel=2)
        return None
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        warnings.warn(f"Python.h not found in {include} (install the Python headers, e.g. "
                      "python3-dev): building blotquant without its C pixel kernel",
                      stacklevel=2)
        return None
    cflags = [f for f in _var("CFLAGS") if f not in ("-ffast-math", "-Ofast")]
    if not any(f.startswith("-O") for f in cflags):
        cflags.append("-O2")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / extension_name(name)
    source = ROOT / SOURCE.parent / (name + ".c")
    with tempfile.TemporaryDirectory() as tmp:
        obj = Path(tmp) / (name + ".o")
        built = Path(tmp) / target.name
        steps = [
            cc + cflags + _var("CCSHARED") + EXTRA_CFLAGS + ["-I", include, "-c",
                                                             str(source), "-o", str(obj)],
            ldshared + [str(obj), "-o", str(built)],
        ]
        for cmd in steps:
            if not quiet:
                print(" ".join(shlex.quote(c) for c in cmd), file=sys.stderr)
            try:
                res = subprocess.run(cmd, capture_output=True, text=True)
            except OSError as err:
                res = None
                msg = str(err)
            else:
                msg = (res.stderr or res.stdout).strip()
            if res is None or res.returncode != 0:
                warnings.warn(f"compiling {source.name} failed ({msg[-2000:]}): building "
                              "blotquant without it (the NumPy path is used)", stacklevel=2)
                return None
        # replace atomically: a running process may have the old file mapped
        tmp_target = out_dir / (target.name + ".tmp")
        shutil.copyfile(built, tmp_target)
        os.replace(tmp_target, target)
    return target


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:     # run as a script (--inplace) without hatchling installed
    BuildHookInterface = None

if BuildHookInterface is not None:
    class CustomBuildHook(BuildHookInterface):
        """Compile the C modules for wheels (in place for editable installs)."""

        PLUGIN_NAME = "custom"

        def initialize(self, version, build_data):
            if self.target_name != "wheel":
                return
            root = Path(self.root)
            for name in EXTENSIONS:
                if version == "editable":
                    # the editable wheel puts the source tree on sys.path: build there
                    built = compile_extension(root / SOURCE.parent, name=name)
                else:
                    built = compile_extension(Path(self.directory) / "_pixelc_build", name=name)
                if built is None:
                    continue
                build_data["pure_python"] = False
                build_data["infer_tag"] = True
                if version != "editable":
                    build_data["force_include"][str(built)] = str(SOURCE.parent / built.name)


def main(argv=None) -> int:
    """``python hatch_build.py --inplace``: compile next to the C source."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inplace", action="store_true", required=True,
                    help="build blotquant/ihc/<module><EXT_SUFFIX> next to each C source")
    ap.parse_args(argv)
    status = 0
    for name in EXTENSIONS:
        built = compile_extension(ROOT / SOURCE.parent, name=name)
        if built is None:
            status = 1
        else:
            print(built.relative_to(ROOT))
    return status


if __name__ == "__main__":
    sys.exit(main())
