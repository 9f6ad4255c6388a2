"""Sphinx configuration of the blotquant API reference (``make docs``).

The reference is built from the numpydoc docstrings with autodoc + numpydoc;
see docs/dev/docs.md for why numpydoc and how to build.
"""

from __future__ import annotations

import os
import sys

# The package is importable from the repository root (editable install or not).
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

import blotquant  # noqa: E402

project = "blotquant"
author = "blotquant developers"
copyright = "blotquant developers"
version = release = blotquant.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
]

root_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"blotquant {release} API reference"

# autodoc: members in source order, signatures with the type hints as written.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": False}

# numpydoc: no member tables (each page lists its objects explicitly), and
# check the sections of every documented function: a missing Parameters or
# Returns section, or a parameter that is not described, is a warning, and
# ``make docs`` turns warnings into errors.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = {"PR01", "PR02", "RT01"}
# Classes are described by their Attributes sections (dataclasses, exceptions):
# their constructor arguments are not listed again as Parameters.
numpydoc_validation_exclude = {
    r"^blotquant\.errors\.",
    r"\.(Image|ImageMetadata|Lane|BlotResult|BlotParams|IHCParams|IHCResult|CellParams"
    r"|CellDetection|Region|StainEstimate|CorrelationResult|FisherResult"
    r"|DoseResponseFit|atomic_path|Spec|Pairing|Registration|SaturationLevel"
    r"|Corrections|BlotReview|IHCReview|BatchResult)$",
    # quantify_blot documents the BlotParams keywords it forwards (**params)
    r"\.quantify_blot$",
}

# Links to the libraries our signatures mention. Offline builds only lose the links
# (no warning), so the build does not depend on the network.
intersphinx_mapping = {}
