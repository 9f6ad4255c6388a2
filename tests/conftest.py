"""Shared test fixtures and the rules for optional test data.

- Tests marked ``realdata`` read ``../shared/data/blots`` and skip cleanly when
  that folder is absent (a user's fresh clone does not have it).
- GUI tests (napari) are required when ``BLOTQUANT_REQUIRE_GUI=1`` (set by
  ``make test`` and CI): a missing napari/Qt then fails instead of skipping.
- ``benchmarks/`` is on ``sys.path``, so a test that checks a benchmark's numbers
  imports the benchmark's own truth readers and matching rules
  (``importlib.import_module("bench_cells")``) instead of copying them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_BLOTS = REPO.parent / "shared" / "data" / "blots"
SHARED_IHC = REPO.parent / "shared" / "data" / "ihc"
if str(REPO / "benchmarks") not in sys.path:
    sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.fixture
def shared_blots() -> Path:
    """Folder of real blot images (test-only); skips when absent."""
    if not SHARED_BLOTS.is_dir():
        pytest.skip("../shared/data/blots is not present")
    return SHARED_BLOTS


@pytest.fixture
def shared_ihc() -> Path:
    """Folder of real IHC images (test-only; DeepLIIF tiles); skips when absent."""
    if not (SHARED_IHC / "deepliif").is_dir():
        pytest.skip("../shared/data/ihc is not present")
    return SHARED_IHC


def require_gui():
    """Import napari or skip/fail depending on BLOTQUANT_REQUIRE_GUI."""
    try:
        import napari  # noqa: F401
    except Exception as err:  # pragma: no cover - depends on the machine
        if os.environ.get("BLOTQUANT_REQUIRE_GUI") == "1":
            pytest.fail(f"GUI tests are required but napari cannot be imported: {err}")
        pytest.skip(f"napari not available: {err}")
