"""The ``blotquant`` command: a thin dispatcher over subcommand modules.

Each subcommand lives in its own module exposing ``register(subparsers)``,
which adds its parser and sets ``func`` (a callable taking the parsed args and
returning an exit status).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .._version import __version__
from ..errors import BlotquantError

# Module names under blotquant.cli, in the order shown by --help.
SUBCOMMANDS = ("blot", "ihc", "batch", "stats", "demo")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``blotquant`` parser with every subcommand, or with ``only`` that one.

    Registering one subcommand imports only its module (``blotquant ihc SLIDE``
    does not import the blot engine and its table libraries before its tiles).
    """
    parser = argparse.ArgumentParser(
        prog="blotquant",
        description="Quantify western blots and score IHC images reproducibly.")
    parser.add_argument("--version", action="version", version=f"blotquant {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS if only is None else (only,):
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:  # subcommand not built yet
            if err.name and err.name.startswith(f"{__name__}.{name}"):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``blotquant ARGS``; the exit status.

    Called without ``argv`` (the ``blotquant`` program, ``python -m blotquant``),
    the process ends as soon as the command has returned and its output is
    flushed: every output file is closed by then, and the interpreter's
    clean-up of the imported libraries (0.2-0.5 s, serial, after the work) is
    skipped.  Called with ``argv`` (tests, scripts), it returns.
    """
    program = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        status = int(args.func(args) or 0)
    except BlotquantError as err:
        print(f"blotquant: error: {err}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("blotquant: interrupted", file=sys.stderr)
        status = 130
    if program:
        _exit_now(status)
    return status


def _exit_now(status: int) -> None:
    """End the process with ``status`` once stdout and stderr are flushed, without the
    interpreter's shutdown (no other thread of ours is running: the commands join
    theirs)."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
