"""Parameter records and their hash: every output row says how it was made.

Examples
--------
>>> h = params_hash({"background": "rolling-ball", "radius": 50})
>>> len(h), h == params_hash({"radius": 50, "background": "rolling-ball"})
(12, True)
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Mapping

import numpy as np

from ._version import __version__

__all__ = ["params_hash", "jsonable", "provenance", "__version__"]


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples and paths to plain JSON types.

    Parameters
    ----------
    value : Any
        Mappings (keys become str), sequences, numpy arrays and scalars are
        converted recursively; non-finite floats become ``"nan"``/``"inf"``;
        any other object becomes ``str(value)``.

    Returns
    -------
    Any
        A value ``json.dumps`` accepts without a custom encoder.

    Examples
    --------
    >>> jsonable({"r": np.float32(2.5), "n": (1, np.int64(2)), "x": float("nan")})
    {'r': 2.5, 'n': [1, 2], 'x': 'nan'}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def params_hash(params: Mapping[str, Any]) -> str:
    """Short stable hash of a parameter dict (key order does not matter).

    Parameters
    ----------
    params : mapping
        Parameters, made JSON-able with :func:`jsonable`.

    Returns
    -------
    str
        The first 12 hex digits of the SHA-256 of the sorted, compact JSON.
    """
    text = json.dumps(jsonable(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def provenance(params: Mapping[str, Any]) -> dict:
    """The provenance columns every table row carries.

    Parameters
    ----------
    params : mapping
        The parameters of the run.

    Returns
    -------
    dict
        ``params_hash`` (see :func:`params_hash`) and ``version`` (of blotquant).
    """
    return {"params_hash": params_hash(params), "version": __version__}
