"""Reusable per-thread buffers for full-size temporaries of the cell detection.

A 2048 x 2048 field takes dozens of 16 MB temporaries per call (distance maps,
nearest-label indices, component labels).  The C library hands freed memory of
that size back to the system and maps it afresh for the next one, and every
fresh page is zeroed by the kernel on first touch: ~10 000 page faults and
20-100 ms of system CPU per call on a 20x field (docs/benchmarks/cells.md,
round 11).  A temporary that never leaves its function is instead written into
a buffer kept for the next call (``dst=`` / ``out=``), one per named slot and
thread, so its pages stay mapped.

Only temporaries are ever taken from here: an array returned to a caller is a
fresh one.  Temporaries whose lives never overlap share a buffer (:data:`SLOTS`):
six buffers serve the whole cell-mode pipeline, ~100 MB per thread for a
2048 x 2048 field.  A buffer holds at most :data:`MAX_SLOT_BYTES` (larger images
allocate as before) and :func:`release` drops every buffer of the calling thread.
"""

from __future__ import annotations

import threading

import numpy as np

#: The largest buffer a slot keeps (bytes): an 4096 x 4096 float32 map.
MAX_SLOT_BYTES = 64 << 20

_local = threading.local()

#: The buffer behind each temporary.  The users of one buffer run one after the
#: other (tissue mask, then the working-grid mask of the detection, nucleus
#: segmentation with its shape split nested inside, cell expansion, measurement),
#: or, nested, have stopped reading theirs ("segment.cc" is last read before the
#: shape split starts).
SLOTS = {
    "tissue.median": "A", "detect.maskf": "A", "segment.hs": "A", "expand.dist": "A",
    "measure.comp": "A",
    "tissue.lab8": "B", "segment.hb": "B", "expand.idx": "B",
    "tissue.lab4": "C", "segment.cc": "C", "shape.cc": "C", "expand.cc": "C",
    "shape.dt": "D", "expand.cut": "D",
    "shape.dist": "E",
    "shape.markers": "F",
}


def buffer(slot: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` and ``dtype`` for slot ``slot``.

    The same memory is handed out again to the next request for ``slot`` in
    this thread (of any shape that fits), so the caller must be done with it
    before asking again; two temporaries alive together use two slots.

    Parameters
    ----------
    slot : str
        Name of the temporary (e.g. ``"expand.dist"``); :data:`SLOTS` says which
        buffer it shares, a name not listed there has a buffer of its own.
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    ndarray
        Contents undefined (write every element before reading).

    Examples
    --------
    >>> a = buffer("doc.a", (4, 5), np.float32)
    >>> b = buffer("doc.a", (2, 3), np.float32)
    >>> a.shape, b.shape, bool(np.shares_memory(a, b))
    ((4, 5), (2, 3), True)
    >>> release()
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes > MAX_SLOT_BYTES or nbytes == 0:
        return np.empty(shape, dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = SLOTS.get(slot, slot)
    raw = pool.get(key)
    if raw is None or raw.size < nbytes:
        raw = pool[key] = np.empty(nbytes, np.uint8)
    return raw[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Drop the calling thread's buffers (their memory goes back to the system).

    Examples
    --------
    >>> _ = buffer("doc.b", (3,), np.int32)
    >>> release()
    >>> getattr(_local, "pool", {}) == {}
    True
    """
    pool = getattr(_local, "pool", None)
    if pool:
        pool.clear()
