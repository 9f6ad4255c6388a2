"""Review sidecars in the CLI: find, verify and turn into engine keyword arguments.

The CLI applies a sidecar written by the napari plugin so that a reviewed
image re-quantifies to exactly the reviewed numbers: an explicit
``--corrections FILE`` first, else ``<out>/<stem>.blotquant.json``, else one
next to the image; ``--no-corrections`` ignores them.
"""

from __future__ import annotations

import sys
from pathlib import Path


def add_arguments(parser) -> None:
    """Add ``--corrections`` / ``--no-corrections`` to a subcommand parser."""
    parser.add_argument("--corrections", default=None, metavar="SIDECAR",
                        help="review sidecar (.blotquant.json) to apply; default: "
                             "<out>/<stem>.blotquant.json or one next to the image")
    parser.add_argument("--no-corrections", action="store_true",
                        help="ignore review sidecars")


def sidecar_kwargs(args, image, image_path, kind: str) -> tuple[dict, str | None]:
    """Engine kwargs from the sidecar that applies to ``image_path`` (or none).

    Raises :class:`blotquant.errors.CorrectionsError` when the sidecar does not
    fit the image (other image, other shape, wrong kind).
    """
    from ..corrections import engine_kwargs, find_sidecar

    if getattr(args, "no_corrections", False):
        return {}, None
    path = getattr(args, "corrections", None)
    if path is None:
        found = find_sidecar(image_path, args.out)
        if found is None:
            return {}, None
        path = found
    kwargs = engine_kwargs(path, image=image, image_path=image_path, kind=kind)
    print(f"note: applying review corrections from {path}", file=sys.stderr)
    return kwargs, str(Path(path))
