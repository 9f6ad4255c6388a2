"""napari plugin for blotquant (npe2): reader, sample data, Blot and IHC review docks.

Importing this package does not import napari or Qt; ``_qt`` does.  The
plugin's state (``_state``: layers <-> core inputs, parameters, tables) is
pure Python; the docks (``_qt``) show it.  All analysis is done by the
blotquant core (``quantify_blot``, ``normalize``, ``score_ihc``,
``rescore``); edits become core inputs (``lane_geometry``, ``band_boxes``,
``regions``) and are saved as a corrections sidecar
(:mod:`blotquant.review`).
"""

__all__: list[str] = []
