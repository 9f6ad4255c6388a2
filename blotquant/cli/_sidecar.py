"""Review sidecars in the CLI: find, verify and apply them.

The CLI applies a sidecar written by the napari plugin so that a reviewed
image re-quantifies to exactly the reviewed numbers: an explicit
``--corrections FILE`` first, else ``<out>/<stem>.blotquant.json``, else one
beside the image; ``--no-corrections`` ignores them.

:func:`find_review` returns the review itself (:class:`~blotquant.review.BlotReview`
/ :class:`~blotquant.review.IHCReview`: the parameter model plus lanes, bands,
regions and the slide level); :func:`sidecar_kwargs` flattens it into keyword
arguments for commands that still pass parameters as keywords.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import CorrectionsError

__all__ = ["add_arguments", "find_review", "sidecar_kwargs"]


def add_arguments(parser) -> None:
    """Add ``--corrections`` / ``--no-corrections`` to a subcommand parser."""
    parser.add_argument("--corrections", default=None, metavar="SIDECAR",
                        help="review sidecar (.blotquant.json) to apply (default: "
                             "<out>/<stem>.blotquant.json, else one beside the image)")
    parser.add_argument("--no-corrections", action="store_true",
                        help="ignore review sidecars")


def find_review(args, image, image_path, kind: str):
    """The review that applies to ``image_path`` and its sidecar path, or ``(None, None)``.

    Parameters
    ----------
    args : argparse.Namespace
        With ``corrections``, ``no_corrections`` and ``out``.
    image : Image
        Level 0 of the image as read (checked against the sidecar).
    image_path : path-like
    kind : {"blot", "ihc"}

    Returns
    -------
    (BlotReview or IHCReview or None, str or None)

    Raises
    ------
    CorrectionsError
        The sidecar is invalid or does not fit the image (other image, other
        shape, other kind).
    """
    from ..review import apply_sidecar, find_sidecar

    if getattr(args, "no_corrections", False):
        return None, None
    path = getattr(args, "corrections", None)
    if path is None:
        path = find_sidecar(image_path, getattr(args, "out", None))
        if path is None:
            return None, None
    review = apply_sidecar(path, image=image, image_path=image_path, kind=kind)
    print(f"note: applying review corrections from {path}", file=sys.stderr)
    return review, str(Path(path))


def sidecar_kwargs(args, image, image_path, kind: str) -> tuple[dict, str | None]:
    """Flat engine keyword arguments from the sidecar that applies (or ``{}``).

    Every parameter of the reviewed model is given (so it wins over the
    command's own options), plus ``lane_geometry`` / ``band_boxes`` (blot) or
    level-0 ``regions`` (IHC).  A review of a downsampled slide level is
    refused here (:class:`~blotquant.errors.CorrectionsError`): it needs
    :meth:`~blotquant.review.IHCReview.prepare` on the review from
    :func:`find_review`, which scores that level.

    Returns
    -------
    (dict, str or None)
        The keyword arguments and the sidecar path.
    """
    review, path = find_review(args, image, image_path, kind)
    if review is None:
        return {}, None
    if kind == "ihc" and review.downsample != 1.0:
        # flat keywords cannot say which level to score: refuse rather than score
        # level 0 and silently differ from the review
        raise CorrectionsError(f"this review scored a slide level downsampled "
                               f"{review.downsample:g}x; apply it with find_review() and "
                               "IHCReview.prepare()", path=path)
    kw = review.kwargs() if kind == "blot" else review.kwargs(1.0)
    flat = kw.pop("params").to_dict()
    flat.update(kw)
    return flat, path
