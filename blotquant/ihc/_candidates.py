"""Decisions on nucleus candidates after the split: which touching pieces are one nucleus.

The seed and shape splits of :func:`~blotquant.ihc.nuclei.segment_nuclei` cut an
elongated or unevenly stained nucleus into pieces where its outline has no neck
at all (the cut runs across the nucleus' full width).  Two nuclei that touch
leave a neck in the outline of their union, a dip of stain along their common
border, or differ in stain; a nucleus cut in two shows none of these.  Every
rule here is relative (to the pieces' own width and stain), so it holds at any
pixel size and stain strength.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph


def _pair_keys(labels: np.ndarray):
    """Every 4-adjacent pair of different nonzero labels, once per touching pixel pair.

    Returns the two labels (low, high) and the raveled indices of both pixels of
    each touching pair."""
    idx = np.arange(labels.size).reshape(labels.shape)
    out_a, out_b, out_ia, out_ib = [], [], [], []
    for a, b, ia, ib in ((labels[:, :-1], labels[:, 1:], idx[:, :-1], idx[:, 1:]),
                         (labels[:-1, :], labels[1:, :], idx[:-1, :], idx[1:, :])):
        sel = (a != b) & (a > 0) & (b > 0)
        out_a.append(a[sel])
        out_b.append(b[sel])
        out_ia.append(ia[sel])
        out_ib.append(ib[sel])
    a, b = np.concatenate(out_a).astype(np.int64), np.concatenate(out_b).astype(np.int64)
    return np.minimum(a, b), np.maximum(a, b), np.concatenate(out_ia), np.concatenate(out_ib)


def join_uncut_pieces(labels: np.ndarray, intensity: np.ndarray, *, ratio: float, neck: float = 0.75,
                      dip: float = 0.9, max_area: float = np.inf) -> np.ndarray:
    """Join touching pieces that are one nucleus cut where it has no neck.

    Two 4-adjacent pieces are joined when all of these hold:

    * **no neck**: the distance transform of their union, along their common
      border, reaches at least ``neck`` times the lower of the two pieces' own
      distance peaks (two round nuclei side by side meet at a neck far below
      their half-widths; a cut across a nucleus runs along its full width);
    * **even stain**: the paler piece's peak ``intensity`` is at least
      ``ratio`` times the darker one's (a pale nucleus against a dark one is
      two nuclei);
    * **no dip**: the mean ``intensity`` on the common border is at least
      ``dip`` times the paler piece's mean (two pressed nuclei show a paler
      seam between them);
    * the union is no larger than ``max_area`` pixels.

    Chains of pieces are joined transitively, but each join is judged on the
    original pair.

    Parameters
    ----------
    labels : ndarray of int, 2-D
        Nucleus labels (0 = background).
    intensity : ndarray, 2-D
        The (smoothed) detection image the pieces were outlined on.
    ratio : float
        Least paler-to-darker peak ratio (``>= 1`` disables the join).
    neck : float
        Least border distance relative to the lower of the two distance peaks.
    dip : float
        Least border mean relative to the paler piece's mean.
    max_area : float
        Largest union (pixels).

    Returns
    -------
    ndarray, int32
        The labels with joined pieces under one id (ids not compacted).

    Examples
    --------
    >>> import numpy as np
    >>> lab = np.zeros((12, 24), np.int32)
    >>> lab[3:9, 3:12], lab[3:9, 12:21] = 1, 2   # one 6 x 18 rod cut in the middle
    >>> img = np.where(lab > 0, 1.0, 0.0).astype(np.float32)
    >>> np.unique(join_uncut_pieces(lab, img, ratio=0.9))
    array([0, 1], dtype=int32)
    """
    labels = np.asarray(labels)
    if ratio >= 1 or labels.size == 0 or labels.max(initial=0) < 2:
        return labels.astype(np.int32, copy=False)
    a, b, ia, ib = _pair_keys(labels)
    if not a.size:
        return labels.astype(np.int32, copy=False)
    n = int(labels.max()) + 1
    fg = (labels > 0).astype(np.uint8)
    dist = cv2.distanceTransform(np.pad(fg, 1), cv2.DIST_L2, cv2.DIST_MASK_5)[1:-1, 1:-1].ravel()
    lab_r = labels.ravel()
    val = np.asarray(intensity, np.float32).ravel()
    sel = lab_r > 0
    dpk = np.zeros(n, np.float32)
    np.maximum.at(dpk, lab_r[sel], dist[sel])
    ipk = np.zeros(n, np.float32)
    np.maximum.at(ipk, lab_r[sel], val[sel])
    area = np.bincount(lab_r, minlength=n).astype(np.float64)
    imean = np.bincount(lab_r, weights=val, minlength=n) / np.maximum(area, 1)
    # per pair: the border's highest distance and its mean intensity
    key = a * n + b
    order = np.argsort(key, kind="stable")
    key, ia, ib = key[order], ia[order], ib[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    saddle = np.maximum.reduceat(np.minimum(dist[ia], dist[ib]), starts)
    bsum = np.add.reduceat(0.5 * (val[ia] + val[ib]), starts)
    bmean = bsum / np.diff(np.r_[starts, key.size])
    pa, pb = key[starts] // n, key[starts] % n
    pale = np.where(imean[pa] <= imean[pb], pa, pb)
    join = ((saddle >= neck * np.minimum(dpk[pa], dpk[pb]))
            & (np.minimum(ipk[pa], ipk[pb]) >= ratio * np.maximum(ipk[pa], ipk[pb]))
            & (bmean >= dip * imean[pale])
            & (area[pa] + area[pb] <= max_area))
    if not join.any():
        return labels.astype(np.int32, copy=False)
    g = sparse.coo_matrix((np.ones(int(join.sum())), (pa[join], pb[join])), shape=(n, n))
    _, comp = csgraph.connected_components(g, directed=False)
    # each group takes the id of its lowest member (a label's own id when alone)
    low = np.full(int(comp.max()) + 1, n, np.int64)
    np.minimum.at(low, comp, np.arange(n))
    lut = low[comp].astype(np.int32)
    lut[0] = 0
    return lut[labels]
