"""Western-blot engine: lanes, bands, backgrounds, volumes and normalization.

Public API: :class:`BlotParams` (every parameter), :func:`quantify_blot` ->
:class:`BlotResult`, :func:`normalize` and :func:`pair_blots`, :class:`Lane`,
:func:`detect_lanes`; ``BACKGROUND_METHODS`` is the background registry.
The names are imported on first use (:mod:`blotquant._shared.lazy`), so the
parameter model loads without the engines.
"""

from .._shared.lazy import lazy_exports

# ``normalize`` is also the name of its submodule: importing the submodule would
# bind the module to the package attribute, so the function is bound here, eagerly
# (the module needs only numpy and pandas).
from .normalize import normalize  # noqa: E402

_EXPORTS = {"quantify_blot": "quantify", "pair_blots": "normalize",
            "BlotResult": "model", "Lane": "model", "detect_lanes": "lanes",
            "BlotParams": "params", "BACKGROUND_METHODS": "background"}

__all__ = ["normalize", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
