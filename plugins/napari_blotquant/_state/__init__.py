"""The plugin's pure state (no Qt, no napari): what the docks show and send to the core.

- :mod:`.layers`: lanes and bands <-> Shapes data and features (geometry);
- :mod:`.blot`: the reviewed blot (:class:`~.blot.BlotReview`), its parameters,
  rows, lane labels, safe file names and the one target/control pairing call;
- :mod:`.ihc`: IHC parameters and the human score table;
- :mod:`.regions`: include/exclude regions <-> Shapes;
- :mod:`.kind`: whether an image is a blot or an IHC image;
- :mod:`.forms`: how each parameter is shown, read from the parameter models;
- :mod:`.format`: numbers as a scientist reads them.

Everything here is tested without a viewer (``tests/plugin/state``).
"""
