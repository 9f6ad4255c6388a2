"""Image readers: files -> :class:`blotquant.image.Image`.

- :func:`read_image` -- TIFF family (incl. ImageJ, OME-TIFF, SVS/pyramids,
  GE ``.gel``), Bio-Rad Image Lab ``.scn``, PNG, JPEG, BMP.
- :func:`count_images` -- how many full-size images a file holds (``page=``).
- :func:`to_gray` -- colour Image -> gray Image (recorded conversion).
- :data:`DEFAULT_MAX_PIXELS` -- default decompression-bomb guard.
- :mod:`blotquant.io.writers` -- ``write_mdgel``, ``write_biorad_scn``.

See ``docs/io.md`` for the formats table, the ``.scn`` layout and the
``.gel`` decoding formula.
"""

from ._color import LUMA_BT601, to_gray
from ._common import DEFAULT_MAX_PIXELS
from ._reader import count_images, read_image, sniff
from .writers import write_biorad_scn, write_mdgel

__all__ = ["read_image", "count_images", "to_gray", "DEFAULT_MAX_PIXELS", "LUMA_BT601", "sniff",
           "write_mdgel", "write_biorad_scn"]
