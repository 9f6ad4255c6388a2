"""napari plugin for blotquant (npe2): reader, sample data, Blot and IHC review docks.

Importing this package does not import napari or Qt; the widget modules do.
All analysis is done by the blotquant core (``quantify_blot``, ``normalize``,
``score_ihc``, ``rescore``); the plugin only shows results, turns layer edits
into core inputs (``lane_geometry``, ``band_boxes``, ``regions``) and saves
them as a corrections sidecar (:mod:`blotquant.corrections`).
"""

__all__: list[str] = []
