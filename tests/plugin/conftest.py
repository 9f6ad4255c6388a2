"""GUI tests: napari must import -- required when BLOTQUANT_REQUIRE_GUI=1, else skipped.

Same rule as ``require_gui()`` in ``tests/conftest.py``; done here as an
autouse fixture because ``--import-mode=importlib`` cannot import conftest
modules from test modules.  Test modules import napari and the plugin's Qt
modules inside the tests, so collection works without napari.
"""

from __future__ import annotations

import os

import pytest

try:
    import napari  # noqa: F401

    GUI_ERROR = None
except Exception as err:  # pragma: no cover - depends on the machine
    GUI_ERROR = err


def require_gui():
    """Skip (or fail when BLOTQUANT_REQUIRE_GUI=1) when napari cannot be imported."""
    if GUI_ERROR is None:
        return
    if os.environ.get("BLOTQUANT_REQUIRE_GUI") == "1":
        pytest.fail(f"GUI tests are required but napari cannot be imported: {GUI_ERROR}")
    pytest.skip(f"napari not available: {GUI_ERROR}")


@pytest.fixture(autouse=True)
def _gui_available(request):
    if request.node.get_closest_marker("gui"):
        require_gui()


#: napari's deprecation and future warnings are errors in the plugin tests: the
#: plugin must use napari's public API only (warnings raised in napari, or
#: attributed to the plugin's code by napari's ``stacklevel``).
WARNINGS_AS_ERRORS = (
    "error::DeprecationWarning:napari",
    "error::FutureWarning:napari",
    r"error::DeprecationWarning:napari\..*",
    r"error::FutureWarning:napari\..*",
    r"error::DeprecationWarning:napari_blotquant.*",
    r"error::FutureWarning:napari_blotquant.*",
    "error:Private attribute access:FutureWarning",
    "error:Private attribute access:DeprecationWarning",
)


def pytest_collection_modifyitems(items):
    """Plugin tests: napari warnings are errors; GUI tests share one xdist worker."""
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if not str(item.fspath).startswith(here):
            continue
        for spec in WARNINGS_AS_ERRORS:
            item.add_marker(pytest.mark.filterwarnings(spec))
        if item.get_closest_marker("gui"):
            item.add_marker(pytest.mark.xdist_group("napari-gui"))
