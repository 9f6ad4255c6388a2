"""Review corrections as data: the versioned JSON sidecar beside the outputs.

- :mod:`.schema` -- the :class:`Corrections` model, schema versions, validation;
- :mod:`.fingerprint` -- which image a review belongs to (SHA-256 of pixels or file);
- :mod:`.build` -- corrections from a review (:func:`blot_corrections`,
  :func:`ihc_corrections`);
- :mod:`.files` -- ``<stem>.blotquant.json``: find, atomic save, validated load;
- :mod:`.apply` -- sidecar -> ``BlotParams`` / ``IHCParams`` plus the geometry
  (lanes, bands, regions, slide level) the core takes.
"""

from .apply import BlotReview, IHCReview, apply_sidecar, blot_kwargs, ihc_kwargs, review_from
from .build import blot_corrections, ihc_corrections, level_for_downsample
from .files import SIDECAR_SUFFIX, find_sidecar, load_corrections, save_corrections, sidecar_path
from .fingerprint import check_image, file_sha256, image_fingerprint, pixel_sha256
from .schema import SCHEMA, SCHEMA_VERSION, Corrections, upgrade, validate

__all__ = [
    "SCHEMA", "SCHEMA_VERSION", "SIDECAR_SUFFIX", "Corrections", "validate", "upgrade",
    "blot_corrections", "ihc_corrections", "level_for_downsample", "image_fingerprint",
    "pixel_sha256", "file_sha256", "check_image", "load_corrections", "save_corrections",
    "sidecar_path", "find_sidecar", "BlotReview", "IHCReview", "review_from", "apply_sidecar",
    "blot_kwargs", "ihc_kwargs",
]
