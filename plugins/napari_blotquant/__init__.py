"""napari plugin for blotquant (npe2). Importing this does not import napari."""
