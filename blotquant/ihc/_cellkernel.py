"""Which implementation the cell-mode loops take: the compiled module or NumPy.

The shape split's priority flood (:func:`blotquant.ihc.nuclei._flood_multi`),
the lookups of the cell expansion (:func:`blotquant.ihc.cells._expand`), the OD maps,
the chroma check, the tissue mask's components and the class counts have a C
implementation in the extension module ``blotquant.ihc._cellc`` (built by
``hatch_build.py`` beside the pixel kernel) and keep their NumPy/OpenCV code as
the fallback.  Both give identical labels; which one runs is an execution
detail (not a parameter, not recorded, no effect on ``params_hash``).
"""

from __future__ import annotations

from .pixels import compiled_module

__all__ = ["compiled_cells"]


def compiled_cells():
    """The compiled cell-mode loops (module ``blotquant.ihc._cellc``), or None.

    None when the extension was not built or when the environment variable
    ``BLOTQUANT_PURE_PYTHON`` (:data:`blotquant.ihc.pixels.PURE_PYTHON_ENV`) is
    ``1``; read at every call, so a test can switch it.

    Returns
    -------
    module or None
        The extension (functions ``flood_region``, ``expand_lookup``, ``mask_cut``,
        ``keep_lookup``, ``compartment_stats``, ``count_runs``, ``fill_runs``,
        ``weighted_maps``, ``parity_sums``, ``count_mask_runs``, ``label_mask_runs``,
        ``dab_hole_add``, ``take_u8``, ``class_counts``; see ``blotquant/ihc/_cellc.c``).

    Examples
    --------
    >>> mod = compiled_cells()
    >>> mod is None or callable(mod.flood_region)
    True
    """
    return compiled_module("_cellc")
