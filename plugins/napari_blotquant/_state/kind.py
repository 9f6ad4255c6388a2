"""Which dock an image belongs in (no Qt): blots are gray, IHC is RGB brightfield.

Uses the batch's own rule (:func:`blotquant.batch.worker.decide_kind`), so the
dock and ``blotquant batch`` agree on what an image is.
"""

from __future__ import annotations

__all__ = ["kind_problem"]


def kind_problem(image, dock: str) -> str | None:
    """Why ``image`` does not belong in the ``"blot"`` or ``"ihc"`` dock.

    Parameters
    ----------
    image : blotquant.image.Image
        The image as read (its metadata tells gray from RGB).
    dock : {"blot", "ihc"}

    Returns
    -------
    str or None
        A message naming the right dock, or None when the image fits.

    Examples
    --------
    >>> import numpy as np
    >>> from blotquant.image import Image
    >>> kind_problem(Image.from_array(np.zeros((8, 8), np.uint16)), "blot") is None
    True
    >>> kind_problem(Image.from_array(np.zeros((8, 8), np.uint16)), "ihc")[:26]
    'this is a grayscale image '
    """
    from blotquant.batch.worker import decide_kind

    md = image.metadata
    if dock == "ihc":
        if md.axes != "YXC":
            return ("this is a grayscale image (a blot?): the IHC dock scores RGB "
                    "brightfield (H-DAB) images; use Plugins > blotquant > Blot review")
        if md.channels_equal:
            return ("this RGB image is gray (all channels equal: a blot scan?): "
                    "use Plugins > blotquant > Blot review")
        return None
    if decide_kind(image) == "ihc":
        return ("this is a colour brightfield image (IHC?), not a blot: score it in "
                "Plugins > blotquant > IHC review (a colour blot scan: save it as "
                "grayscale first)")
    return None
