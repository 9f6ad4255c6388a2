"""The plugin's Qt side: the Blot and IHC review docks, the profile plot, helpers.

The docks only turn widgets and layer edits into calls of :mod:`.._state`
and the blotquant core, and show the results (``tests/plugin/qt``).
"""
