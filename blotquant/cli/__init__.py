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
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BlotquantError as err:
        print(f"blotquant: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("blotquant: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
