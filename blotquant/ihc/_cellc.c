/*
 * _cellc: compiled loops of cell mode (blotquant.ihc.nuclei, blotquant.ihc.cells).
 *
 * Each function is the exact equivalent of a NumPy step that it replaces when
 * the module is built (blotquant.ihc._cellkernel.compiled_cells() is the switch;
 * the NumPy code stays in place as the fallback the tests compare with):
 *
 *   flood_region(dist, markers, region, out)
 *       the marker-controlled priority flood of the shape split
 *       (nuclei._flood_multi): scikit-image's watershed of -dist, 4-connected,
 *       on a list of pixels (whole components), in compact arrays;
 *   expand_lookup(idx, dist, threshold, lut, out)
 *       out = lut[idx] where dist <= threshold, else 0 (cells._expand);
 *   mask_cut(cells, mask, out, cut)
 *       out = cells where mask, else 0; cut = 1 where out > 0 and the right or
 *       lower neighbour has no other non-zero label (cells._cut_mask);
 *   keep_lookup(cells, comp, keep)
 *       cells = 0 where keep[comp] is 0, in place (cells._expand);
 *   compartment_stats(comp, v, ncols, count, total, vmax)
 *       per-label pixel count, float64 sum and float32 maximum of v, summed in
 *       NumPy's order (cells._compartment_stats);
 *   count_runs(labels), fill_runs(labels, starts, run_labels, lengths)
 *       the runs of equal values of a raveled label image (tissue.label_runs);
 *   weighted_maps(rgb, luts, outs)
 *       up to four weighted OD maps of uint8 RGB from its lookup tables, in
 *       the order of three cv2.LUT and two cv2.add (deconvolution.weighted_od_maps);
 *   parity_sums(image, channel, transpose, min_range)
 *       the even / odd sums of third differences at chroma edges
 *       (chroma._parity_sums), in NumPy's pairwise float32 order;
 *   count_mask_runs(mask, value), label_mask_runs(mask, value, connectivity, ...)
 *       connected components of a mask from its row runs with a union-find
 *       (tissue._components: the same components as cv2.connectedComponents);
 *   dab_hole_add(h, d, closed, weight, floor)
 *       the DAB-hole term of nuclei.segment_nuclei in one pass, in place;
 *   take_u8(lut, labels, out), class_counts(dab, mask, region, thresholds, counts)
 *       the class map of the cells and the pixel class counts of
 *       result.apply_thresholds (no pixel class map in cell mode).
 *
 * Plain C on the Python C API and the buffer protocol (no NumPy headers).  The
 * arrays are C-contiguous 2-D buffers of one shape (1-D for tables and seed
 * lists); a wrong item type, shape or a read-only output raises ValueError or
 * TypeError before any work.  The loops run with the GIL released.
 *
 * The flood reproduces scikit-image's watershed_raveled (compactness 0, no
 * watershed lines) step for step: a binary min-heap ordered by (value, age)
 * with the same sift-up on push and sift-down on pop, seeds pushed first with
 * age 0 and their own value, every later push with a new age; a neighbour is
 * labelled when it is pushed; neighbours in the order up, left, right, down.
 * Seeds of equal value (age 0 all) leave the heap in the order this heap
 * gives them, which is why the heap itself and not only its ordering is the
 * same.  The (value, age) order is kept as one integer key (see citem_t).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__FAST_MATH__)
#error "compile _cellc.c without -ffast-math (comparisons must be IEEE)"
#endif

/* ---- buffers ---------------------------------------------------------- */

typedef struct {
    Py_buffer view;
    int held;
} buf_t;

static void release(buf_t *b)
{
    if (b->held) {
        PyBuffer_Release(&b->view);
        b->held = 0;
    }
}

/* Item kinds accepted: 'f' float32, 'i' int32 (or 'l' when 4 bytes), 'B'/'?'
 * one byte, 'q' int64 (intp). */
static int kind_of(const Py_buffer *v)
{
    const char *f = v->format ? v->format : "B";
    if (*f == '<' || *f == '=' || *f == '@' || *f == '|')
        f++;
    if (f[0] == '\0' || f[1] != '\0')
        return 0;
    switch (f[0]) {
    case 'f':
        return v->itemsize == 4 ? 'f' : 0;
    case 'i': case 'l': case 'q': case 'n':
        if (v->itemsize == 4)
            return 'i';
        if (v->itemsize == 8)
            return 'q';
        return 0;
    case 'B': case '?': case 'b':
        return v->itemsize == 1 ? 'B' : 0;
    default:
        return 0;
    }
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case 'f': return "float32";
    case 'i': return "int32";
    case 'q': return "int64";
    default: return "uint8 or bool";
    }
}

/* Get a C-contiguous buffer of ``kind`` with ``ndim`` dimensions; with
 * ``shape`` (2 entries, ndim 2) it must have that shape. */
static int get(PyObject *obj, buf_t *b, const char *name, int kind, int ndim,
               const Py_ssize_t *shape, int writable)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    b->held = 0;
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous%s %s array", name,
                     writable ? " writable" : "", kind_name(kind));
        return -1;
    }
    b->held = 1;
    if (kind_of(&b->view) != kind) {
        PyErr_Format(PyExc_ValueError, "%s must be %s (got item format '%s', %zd bytes)",
                     name, kind_name(kind), b->view.format ? b->view.format : "B",
                     b->view.itemsize);
        release(b);
        return -1;
    }
    if (b->view.ndim != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must be %d-D (got %d-D)", name, ndim, b->view.ndim);
        release(b);
        return -1;
    }
    if (shape && (b->view.shape[0] != shape[0] || b->view.shape[1] != shape[1])) {
        PyErr_Format(PyExc_ValueError, "%s has shape (%zd, %zd), expected (%zd, %zd)", name,
                     b->view.shape[0], b->view.shape[1], shape[0], shape[1]);
        release(b);
        return -1;
    }
    return 0;
}

/* ---- flood ------------------------------------------------------------ */

/* The flood on the listed pixels alone: ``region`` (ascending raveled
 * indices) is every pixel of the components to flood, so a pixel's
 * 4-neighbours inside the flood are its 4-neighbours in the list (a foreground
 * 4-neighbour is in the same component for 4- and 8-connected components).
 * Neighbour links, values and labels are built once in list order; the flood
 * then touches only those compact arrays (the image rows a component spans are
 * far apart in memory).  The seeds are the listed pixels whose marker is
 * non-zero, in list (raster) order: the order the sheet's seeds are queued in
 * (nuclei._flood_sheet). */

/* Heap items: the (value, age) order as one unsigned 64-bit key.  Every value
 * is one of the float32 values of -dist (a pushed value is the larger of two),
 * so the float comparison of scikit-image's float64 values is the comparison of
 * the float32 values, and those map to unsigned 32-bit integers in the same
 * order (sign flipped up, negatives reversed; -0 is made +0 first, since the two
 * compare equal).  The age (below 2^31, like scikit-image's int32 ages) fills
 * the low half: equal keys are exactly the ties of scikit-image's comparison
 * (seeds of one value, all of age 0).  NaN has no place in that order, so
 * flood_region declines an input with NaN (the caller takes the NumPy path). */

typedef struct {
    uint64_t key;
    int32_t index;
} citem_t;

typedef struct {
    citem_t *a;
    Py_ssize_t n, cap;
} cheap_t;

static inline uint32_t ordered_bits(float f)
{
    uint32_t u;
    if (f == 0.0f)
        f = 0.0f;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static int cheap_push(cheap_t *h, const citem_t *it)
{
    Py_ssize_t child, parent;
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? 2 * h->cap : 1024;
        citem_t *a = (citem_t *)realloc(h->a, (size_t)cap * sizeof(citem_t));
        if (!a)
            return -1;
        h->a = a;
        h->cap = cap;
    }
    child = h->n++;
    h->a[child] = *it;
    while (child > 0) {         /* up while strictly smaller than the parent */
        parent = (child + 1) / 2 - 1;
        if (!(h->a[child].key < h->a[parent].key))
            break;
        citem_t t = h->a[parent];
        h->a[parent] = h->a[child];
        h->a[child] = t;
        child = parent;
    }
    return 0;
}

/* Pop: the last item to the root, then down.  scikit-image takes the left child
 * if it is smaller than the item, then the right one if smaller than that; here
 * the smaller child (the left one on a tie) is taken if it is smaller than the
 * item: the same choice in every case, ties included. */
static void cheap_pop(cheap_t *h, citem_t *out)
{
    Py_ssize_t i = 0, l, c, n;
    *out = h->a[0];
    n = --h->n;
    if (n == 0)
        return;
    citem_t *a = h->a;
    a[0] = a[n];
    for (;;) {
        l = 2 * i + 1;
        if (l >= n)
            break;
        c = (l + 1 < n && a[l + 1].key < a[l].key) ? l + 1 : l;
        if (!(a[c].key < a[i].key))
            break;
        citem_t t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static PyObject *flood_region(PyObject *self, PyObject *args)
{
    PyObject *o_dist, *o_mk, *o_reg, *o_out;
    buf_t bd, bm, br, bo;
    Py_ssize_t shape[2];
    int bad = 0, no_memory = 0, has_nan = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOO:flood_region", &o_dist, &o_mk, &o_reg, &o_out))
        return NULL;
    if (get(o_dist, &bd, "dist", 'f', 2, NULL, 0) < 0)
        return NULL;
    shape[0] = bd.view.shape[0];
    shape[1] = bd.view.shape[1];
    if (get(o_mk, &bm, "markers", 'i', 2, shape, 0) < 0) {
        release(&bd);
        return NULL;
    }
    if (get(o_reg, &br, "region", 'q', 1, NULL, 0) < 0) {
        release(&bd);
        release(&bm);
        return NULL;
    }
    if (get(o_out, &bo, "out", 'i', 1, NULL, 1) < 0) {
        release(&bd);
        release(&bm);
        release(&br);
        return NULL;
    }
    {
        const float *dist = (const float *)bd.view.buf;
        const int32_t *mk = (const int32_t *)bm.view.buf;
        const int64_t *reg = (const int64_t *)br.view.buf;
        int32_t *lab = (int32_t *)bo.view.buf;
        Py_ssize_t m = br.view.shape[0], rows = shape[0], cols = shape[1], npx = rows * cols;
        if (bo.view.shape[0] != m || m > INT32_MAX - 1)
            bad = 1;
        for (Py_ssize_t i = 0; i < m && !bad; i++)
            if (reg[i] < 0 || reg[i] >= npx || (i > 0 && reg[i] <= reg[i - 1]))
                bad = 1;
        if (!bad) {
            Py_BEGIN_ALLOW_THREADS
            int32_t *nb = (int32_t *)malloc((size_t)(m > 0 ? m : 1) * 4 * sizeof(int32_t));
            uint32_t *val = (uint32_t *)malloc((size_t)(m > 0 ? m : 1) * sizeof(uint32_t));
            cheap_t h = {NULL, 0, 0};
            if (!nb || !val)
                no_memory = 1;
            if (!no_memory) {
                /* links: up, left, right, down (-1: none); two pointers for the rows */
                Py_ssize_t up = 0, dn = 0;
                int64_t row0 = 0;       /* first pixel of p's row (the list ascends) */
                for (Py_ssize_t i = 0; i < m; i++) {
                    int64_t p = reg[i];
                    if (p >= row0 + cols)
                        row0 = (p / cols) * cols;
                    int64_t x = p - row0;
                    int32_t *o = nb + 4 * i;
                    while (up < i && reg[up] < p - cols)
                        up++;
                    o[0] = (up < i && reg[up] == p - cols) ? (int32_t)up : -1;
                    o[1] = (x > 0 && i > 0 && reg[i - 1] == p - 1) ? (int32_t)(i - 1) : -1;
                    o[2] = (x + 1 < cols && i + 1 < m && reg[i + 1] == p + 1) ? (int32_t)(i + 1) : -1;
                    if (dn <= i)
                        dn = i + 1;
                    while (dn < m && reg[dn] < p + cols)
                        dn++;
                    o[3] = (dn < m && reg[dn] == p + cols) ? (int32_t)dn : -1;
                    float d = dist[p];
                    has_nan |= d != d;
                    val[i] = ordered_bits(-d);
                    lab[i] = mk[p];
                }
                citem_t it, nw;
                uint32_t age = 1;
                for (Py_ssize_t i = 0; i < m && !no_memory && !has_nan; i++) {
                    if (lab[i] == 0)
                        continue;
                    it.key = (uint64_t)val[i] << 32;
                    it.index = (int32_t)i;
                    no_memory = cheap_push(&h, &it) < 0;
                }
                while (h.n > 0 && !no_memory && !has_nan) {
                    cheap_pop(&h, &it);
                    const int32_t *o = nb + 4 * (Py_ssize_t)it.index;
                    int32_t label = lab[it.index];
                    for (int j = 0; j < 4; j++) {
                        int32_t q = o[j];
                        if (q < 0 || lab[q] != 0)
                            continue;
                        age++;
                        lab[q] = label;
                        uint32_t vq = val[q], vp = (uint32_t)(it.key >> 32);
                        nw.key = ((uint64_t)(vq < vp ? vp : vq) << 32) | age;
                        nw.index = q;
                        if (cheap_push(&h, &nw) < 0) {
                            no_memory = 1;
                            break;
                        }
                    }
                }
            }
            free(h.a);
            free(nb);
            free(val);
            Py_END_ALLOW_THREADS
        }
    }
    release(&bd);
    release(&bm);
    release(&br);
    release(&bo);
    if (bad) {
        PyErr_SetString(PyExc_ValueError,
                        "flood_region: region must be ascending raveled indices inside the image "
                        "(int64) and out (int32) as long");
        return NULL;
    }
    if (no_memory)
        return PyErr_NoMemory();
    if (has_nan)
        Py_RETURN_FALSE;
    Py_RETURN_TRUE;
}

/* ---- cell expansion ---------------------------------------------------- */

static PyObject *expand_lookup(PyObject *self, PyObject *args)
{
    PyObject *o_idx, *o_dist, *o_lut, *o_out;
    double thr;
    buf_t bi, bd, bl, bo;
    Py_ssize_t shape[2], npx, nl, p;
    int bad = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOdOO:expand_lookup", &o_idx, &o_dist, &thr, &o_lut, &o_out))
        return NULL;
    if (get(o_idx, &bi, "idx", 'i', 2, NULL, 0) < 0)
        return NULL;
    shape[0] = bi.view.shape[0];
    shape[1] = bi.view.shape[1];
    if (get(o_dist, &bd, "dist", 'f', 2, shape, 0) < 0) {
        release(&bi);
        return NULL;
    }
    if (get(o_lut, &bl, "lut", 'i', 1, NULL, 0) < 0) {
        release(&bi);
        release(&bd);
        return NULL;
    }
    if (get(o_out, &bo, "out", 'i', 2, shape, 1) < 0) {
        release(&bi);
        release(&bd);
        release(&bl);
        return NULL;
    }
    npx = shape[0] * shape[1];
    nl = bl.view.shape[0];
    {
        const int32_t *idx = (const int32_t *)bi.view.buf, *lut = (const int32_t *)bl.view.buf;
        const float *dist = (const float *)bd.view.buf;
        int32_t *out = (int32_t *)bo.view.buf;
        Py_BEGIN_ALLOW_THREADS
        for (p = 0; p < npx; p++) {
            int32_t i = idx[p];
            if (i < 0 || (Py_ssize_t)i >= nl) {
                bad = 1;
                break;
            }
            out[p] = ((double)dist[p] <= thr) ? lut[i] : 0;
        }
        Py_END_ALLOW_THREADS
    }
    release(&bi);
    release(&bd);
    release(&bl);
    release(&bo);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "expand_lookup: an index is outside the table");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *mask_cut(PyObject *self, PyObject *args)
{
    PyObject *o_cells, *o_mask, *o_out, *o_cut;
    buf_t bc, bm, bo, bk;
    Py_ssize_t shape[2], rows, cols, y, x;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOO:mask_cut", &o_cells, &o_mask, &o_out, &o_cut))
        return NULL;
    if (get(o_cells, &bc, "cells", 'i', 2, NULL, 0) < 0)
        return NULL;
    shape[0] = bc.view.shape[0];
    shape[1] = bc.view.shape[1];
    if (get(o_mask, &bm, "mask", 'B', 2, shape, 0) < 0) {
        release(&bc);
        return NULL;
    }
    if (get(o_out, &bo, "out", 'i', 2, shape, 1) < 0) {
        release(&bc);
        release(&bm);
        return NULL;
    }
    if (get(o_cut, &bk, "cut", 'B', 2, shape, 1) < 0) {
        release(&bc);
        release(&bm);
        release(&bo);
        return NULL;
    }
    /* out may be cells itself: a row is masked before the cut of the row above
     * reads it, and nothing reads a row of cells after its row of out is written */
    rows = shape[0];
    cols = shape[1];
    {
        const int32_t *cells = (const int32_t *)bc.view.buf;
        const uint8_t *mask = (const uint8_t *)bm.view.buf;
        int32_t *out = (int32_t *)bo.view.buf;
        uint8_t *cut = (uint8_t *)bk.view.buf;
        Py_BEGIN_ALLOW_THREADS
        /* out first (row by row), then the cut of the row above, whose lower
         * neighbours are the row just written */
        for (y = 0; y < rows; y++) {
            const int32_t *c = cells + y * cols;
            const uint8_t *m = mask + y * cols;
            int32_t *o = out + y * cols;
            for (x = 0; x < cols; x++)
                o[x] = m[x] ? c[x] : 0;
            if (y > 0) {
                const int32_t *a = out + (y - 1) * cols;
                uint8_t *k = cut + (y - 1) * cols;
                for (x = 0; x + 1 < cols; x++) {
                    int32_t v = a[x], r = a[x + 1], d = o[x];
                    k[x] = (uint8_t)((v > 0) & !((r > 0) & (r != v)) & !((d > 0) & (d != v)));
                }
                if (cols > 0) {
                    int32_t v = a[cols - 1], d = o[cols - 1];
                    k[cols - 1] = (uint8_t)((v > 0) & !((d > 0) & (d != v)));
                }
            }
        }
        if (rows > 0) {
            const int32_t *a = out + (rows - 1) * cols;
            uint8_t *k = cut + (rows - 1) * cols;
            for (x = 0; x < cols; x++) {
                int32_t v = a[x];
                int keep = v > 0;
                if (keep && x + 1 < cols && a[x + 1] > 0 && a[x + 1] != v)
                    keep = 0;
                k[x] = (uint8_t)keep;
            }
        }
        Py_END_ALLOW_THREADS
    }
    release(&bc);
    release(&bm);
    release(&bo);
    release(&bk);
    Py_RETURN_NONE;
}

static PyObject *keep_lookup(PyObject *self, PyObject *args)
{
    PyObject *o_cells, *o_comp, *o_keep;
    buf_t bc, bp, bk;
    Py_ssize_t shape[2], npx, nk, p;
    int bad = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO:keep_lookup", &o_cells, &o_comp, &o_keep))
        return NULL;
    if (get(o_cells, &bc, "cells", 'i', 2, NULL, 1) < 0)
        return NULL;
    shape[0] = bc.view.shape[0];
    shape[1] = bc.view.shape[1];
    if (get(o_comp, &bp, "comp", 'i', 2, shape, 0) < 0) {
        release(&bc);
        return NULL;
    }
    if (get(o_keep, &bk, "keep", 'B', 1, NULL, 0) < 0) {
        release(&bc);
        release(&bp);
        return NULL;
    }
    npx = shape[0] * shape[1];
    nk = bk.view.shape[0];
    {
        int32_t *cells = (int32_t *)bc.view.buf;
        const int32_t *comp = (const int32_t *)bp.view.buf;
        const uint8_t *keep = (const uint8_t *)bk.view.buf;
        Py_BEGIN_ALLOW_THREADS
        for (p = 0; p < npx; p++) {
            int32_t i = comp[p];
            if (i < 0 || (Py_ssize_t)i >= nk) {
                bad = 1;
                break;
            }
            if (!keep[i])
                cells[p] = 0;
        }
        Py_END_ALLOW_THREADS
    }
    release(&bc);
    release(&bp);
    release(&bk);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "keep_lookup: a component is outside the table");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- per-label sums -------------------------------------------------- */

/* NumPy's pairwise sum of n >= 1 values of type T, in T (numpy/_core/src/umath:
 * eight accumulators up to 128 values, halves at multiples of 8 above): the
 * order np.add.reduce and np.add.reduceat add a contiguous segment in.  A sum
 * of fewer than eight starts from -0 (keeps a sum of negative zeros negative).
 * One definition, two types: pairwise_sum (float64), pairwise_sum_f (float32). */
#define DEFINE_PAIRWISE_SUM(NAME, T)                                          \
static T NAME(const T *a, Py_ssize_t n)                                       \
{                                                                             \
    if (n < 8) {                                                              \
        T res = (T)-0.0;                                                      \
        for (Py_ssize_t i = 0; i < n; i++)                                    \
            res += a[i];                                                      \
        return res;                                                           \
    }                                                                         \
    if (n <= 128) {                                                           \
        T r[8], res;                                                          \
        Py_ssize_t i;                                                         \
        for (int j = 0; j < 8; j++)                                           \
            r[j] = a[j];                                                      \
        for (i = 8; i < n - (n % 8); i += 8)                                  \
            for (int j = 0; j < 8; j++)                                       \
                r[j] += a[i + j];                                             \
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7])); \
        for (; i < n; i++)                                                    \
            res += a[i];                                                      \
        return res;                                                           \
    }                                                                         \
    Py_ssize_t n2 = n / 2;                                                    \
    n2 -= n2 % 8;                                                             \
    return NAME(a, n2) + NAME(a + n2, n - n2);                                \
}

DEFINE_PAIRWISE_SUM(pairwise_sum, double)
DEFINE_PAIRWISE_SUM(pairwise_sum_f, float)

static PyObject *compartment_stats(PyObject *self, PyObject *args)
{
    PyObject *o_comp, *o_v, *o_cnt, *o_tot, *o_max;
    Py_ssize_t ncols, npx, size;
    buf_t bc, bv, bn, bt, bm;
    int bad = 0, no_memory = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOnOOO:compartment_stats", &o_comp, &o_v, &ncols, &o_cnt, &o_tot,
                          &o_max))
        return NULL;
    if (get(o_comp, &bc, "comp", 'i', 1, NULL, 0) < 0)
        return NULL;
    if (get(o_v, &bv, "v", 'f', 1, NULL, 0) < 0) {
        release(&bc);
        return NULL;
    }
    if (get(o_cnt, &bn, "count", 'q', 1, NULL, 1) < 0) {
        release(&bc);
        release(&bv);
        return NULL;
    }
    if (PyObject_GetBuffer(o_tot, &bt.view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        release(&bc);
        release(&bv);
        release(&bn);
        return NULL;
    }
    bt.held = 1;
    if (get(o_max, &bm, "vmax", 'f', 1, NULL, 1) < 0) {
        release(&bc);
        release(&bv);
        release(&bn);
        release(&bt);
        return NULL;
    }
    npx = bc.view.shape[0];
    size = bn.view.shape[0];
    if (bv.view.shape[0] != npx || ncols <= 0 || (npx % ncols) != 0 || bt.view.ndim != 1
        || bt.view.itemsize != 8 || !bt.view.format || strchr(bt.view.format, 'd') == NULL
        || bt.view.shape[0] != size || bm.view.shape[0] != size) {
        release(&bc);
        release(&bv);
        release(&bn);
        release(&bt);
        release(&bm);
        PyErr_SetString(PyExc_ValueError,
                        "compartment_stats: comp (int32) and v (float32) must have one length, a "
                        "multiple of ncols > 0; count (int64), total (float64) and vmax (float32) "
                        "one length");
        return NULL;
    }
    {
        const int32_t *comp = (const int32_t *)bc.view.buf;
        const float *v = (const float *)bv.view.buf;
        int64_t *cnt = (int64_t *)bn.view.buf;
        double *tot = (double *)bt.view.buf;
        float *vmx = (float *)bm.view.buf;
        Py_BEGIN_ALLOW_THREADS
        double *seg = (double *)malloc((size_t)(ncols > 0 ? ncols : 1) * sizeof(double));
        if (!seg)
            no_memory = 1;
        for (Py_ssize_t r0 = 0; r0 < npx && !no_memory && !bad; r0 += ncols) {
            /* one row as float64 (the runs of a row never continue onto the next) */
            for (Py_ssize_t x = 0; x < ncols; x++)
                seg[x] = (double)v[r0 + x];
            Py_ssize_t a = 0;
            while (a < ncols) {
                const int32_t *cr = comp + r0;
                const float *vr = v + r0;
                int32_t l = cr[a];
                float m = vr[a];
                int nan = 0;
                Py_ssize_t b = a + 1;
                /* the run and its maximum in one scan (NaN kept aside: branch-free max) */
                while (b < ncols && cr[b] == l) {
                    float w = vr[b];
                    m = w > m ? w : m;
                    nan |= w != w;
                    b++;
                }
                if (nan)
                    m = NAN;
                if (l < 0 || (Py_ssize_t)l >= size) {
                    bad = 1;
                    break;
                }
                /* np.add.reduceat: the first value plus the pairwise sum of the rest;
                 * np.maximum.reduceat, then the runs in raster order (np.*.at) */
                double s = seg[a];
                if (b - a > 1)
                    s += pairwise_sum(seg + a + 1, b - a - 1);
                cnt[l] += b - a;
                tot[l] += s;
                float old = vmx[l];
                vmx[l] = (old >= m || old != old) ? old : m;
                a = b;
            }
        }
        free(seg);
        Py_END_ALLOW_THREADS
    }
    release(&bc);
    release(&bv);
    release(&bn);
    release(&bt);
    release(&bm);
    if (no_memory)
        return PyErr_NoMemory();
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "compartment_stats: a label is outside the tables");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- runs of a label image ------------------------------------------ */

static PyObject *count_runs(PyObject *self, PyObject *args)
{
    PyObject *o_lab;
    buf_t bl;
    Py_ssize_t n = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "O:count_runs", &o_lab))
        return NULL;
    if (get(o_lab, &bl, "labels", 'i', 1, NULL, 0) < 0)
        return NULL;
    {
        const int32_t *lab = (const int32_t *)bl.view.buf;
        Py_ssize_t npx = bl.view.shape[0];
        Py_BEGIN_ALLOW_THREADS
        if (npx > 0) {
            n = 1;
            for (Py_ssize_t p = 1; p < npx; p++)
                n += lab[p] != lab[p - 1];
        }
        Py_END_ALLOW_THREADS
    }
    release(&bl);
    return PyLong_FromSsize_t(n);
}

static PyObject *fill_runs(PyObject *self, PyObject *args)
{
    PyObject *o_lab, *o_st, *o_rl, *o_len;
    buf_t bl, bs, br, bn;
    int bad = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOO:fill_runs", &o_lab, &o_st, &o_rl, &o_len))
        return NULL;
    if (get(o_lab, &bl, "labels", 'i', 1, NULL, 0) < 0)
        return NULL;
    if (get(o_st, &bs, "starts", 'q', 1, NULL, 1) < 0) {
        release(&bl);
        return NULL;
    }
    if (get(o_rl, &br, "run_labels", 'i', 1, NULL, 1) < 0) {
        release(&bl);
        release(&bs);
        return NULL;
    }
    if (get(o_len, &bn, "lengths", 'q', 1, NULL, 1) < 0) {
        release(&bl);
        release(&bs);
        release(&br);
        return NULL;
    }
    {
        const int32_t *lab = (const int32_t *)bl.view.buf;
        int64_t *st = (int64_t *)bs.view.buf, *len = (int64_t *)bn.view.buf;
        int32_t *rl = (int32_t *)br.view.buf;
        Py_ssize_t npx = bl.view.shape[0], cap = bs.view.shape[0];
        if (br.view.shape[0] != cap || bn.view.shape[0] != cap)
            bad = 1;
        else {
            Py_BEGIN_ALLOW_THREADS
            Py_ssize_t k = 0, a = 0;
            while (a < npx) {
                int32_t l = lab[a];
                Py_ssize_t b = a + 1;
                while (b < npx && lab[b] == l)
                    b++;
                if (k >= cap) {
                    bad = 1;
                    break;
                }
                st[k] = a;
                rl[k] = l;
                len[k] = b - a;
                k++;
                a = b;
            }
            if (k != cap)
                bad = 1;
            Py_END_ALLOW_THREADS
        }
    }
    release(&bl);
    release(&bs);
    release(&br);
    release(&bn);
    if (bad) {
        PyErr_SetString(PyExc_ValueError,
                        "fill_runs: starts, run_labels and lengths must have count_runs(labels) "
                        "entries each");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- weighted OD maps -------------------------------------------------- */

/* Up to MAX_MAPS maps from one read of the interleaved RGB rows: map m at a
 * pixel is (lut[3m][r] + lut[3m + 1][g]) + lut[3m + 2][b] in float32, the
 * order of deconvolution._weighted_planes (three cv2.LUT, two cv2.add). */
#define MAX_MAPS 4

static PyObject *weighted_maps(PyObject *self, PyObject *args)
{
    PyObject *o_rgb, *o_lut, *o_outs;
    buf_t br, bl, bo[MAX_MAPS];
    Py_ssize_t shape[2], k, m, i;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO:weighted_maps", &o_rgb, &o_lut, &o_outs))
        return NULL;
    if (!PyTuple_Check(o_outs) || PyTuple_GET_SIZE(o_outs) < 1 ||
        PyTuple_GET_SIZE(o_outs) > MAX_MAPS) {
        PyErr_SetString(PyExc_ValueError, "weighted_maps: outs must be a tuple of 1 to 4 arrays");
        return NULL;
    }
    k = PyTuple_GET_SIZE(o_outs);
    if (get(o_rgb, &br, "rgb", 'B', 2, NULL, 0) < 0)
        return NULL;
    if (br.view.shape[1] % 3 != 0) {
        PyErr_SetString(PyExc_ValueError, "weighted_maps: rgb must be (rows, 3 * cols)");
        release(&br);
        return NULL;
    }
    shape[0] = br.view.shape[0];
    shape[1] = br.view.shape[1] / 3;
    if (get(o_lut, &bl, "luts", 'f', 2, NULL, 0) < 0) {
        release(&br);
        return NULL;
    }
    if (bl.view.shape[0] != 3 * k || bl.view.shape[1] != 256) {
        PyErr_Format(PyExc_ValueError, "weighted_maps: luts must have shape (%zd, 256)", 3 * k);
        release(&br);
        release(&bl);
        return NULL;
    }
    for (m = 0; m < k; m++) {
        if (get(PyTuple_GET_ITEM(o_outs, m), &bo[m], "out", 'f', 2, shape, 1) < 0) {
            for (i = 0; i < m; i++)
                release(&bo[i]);
            release(&br);
            release(&bl);
            return NULL;
        }
    }
    {
        const uint8_t *rgb = (const uint8_t *)br.view.buf;
        const float *lut = (const float *)bl.view.buf;
        float *outs[MAX_MAPS];
        Py_ssize_t npx = shape[0] * shape[1];
        for (m = 0; m < k; m++)
            outs[m] = (float *)bo[m].view.buf;
        Py_BEGIN_ALLOW_THREADS
        /* blocks of pixels (the RGB block stays in cache for every map) */
        for (Py_ssize_t p0 = 0; p0 < npx; p0 += 4096) {
            Py_ssize_t p1 = p0 + 4096 < npx ? p0 + 4096 : npx;
            for (m = 0; m < k; m++) {
                const float *l0 = lut + 768 * m, *l1 = l0 + 256, *l2 = l1 + 256;
                float *o = outs[m];
                const uint8_t *px = rgb + 3 * p0;
                for (Py_ssize_t p = p0; p < p1; p++, px += 3) {
                    float v = l0[px[0]] + l1[px[1]];
                    o[p] = v + l2[px[2]];
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    for (m = 0; m < k; m++)
        release(&bo[m]);
    release(&br);
    release(&bl);
    Py_RETURN_NONE;
}

/* ---- chroma subsampling check ----------------------------------------- */

/* chroma._parity_sums of one channel of a float32 (rows, cols, 3) image, viewed
 * as (rows, 3 * cols), along its rows (transpose 0) or along its columns
 * (transpose 1: the rows of the channel's transpose): for each window of four
 * pixels j..j+3 along a line whose range (max - min, float32) reaches
 * min_range, |c[j] - 3 c[j+1] + 3 c[j+2] - c[j+3]| (float32, that order) is
 * kept for odd j and for even j apart; returns (sum for odd j, sum for even j,
 * count odd, count even), each sum NumPy's pairwise float32 sum of the kept
 * values in line order, plus 0.0 (np.add.reduce's start). */
static PyObject *parity_sums(PyObject *self, PyObject *args)
{
    PyObject *o_c;
    float min_range;
    int channel, transpose;
    buf_t bc;
    Py_ssize_t rows, cols, n, cap, ne = 0, no = 0, sy, sx;
    float *kept_e = NULL, *kept_o = NULL;
    float se = 0.0f, so = 0.0f;
    (void)self;
    if (!PyArg_ParseTuple(args, "Oiif:parity_sums", &o_c, &channel, &transpose, &min_range))
        return NULL;
    if (channel < 0 || channel > 2) {
        PyErr_SetString(PyExc_ValueError, "parity_sums: channel must be 0, 1 or 2");
        return NULL;
    }
    if (get(o_c, &bc, "image", 'f', 2, NULL, 0) < 0)
        return NULL;
    if (bc.view.shape[1] % 3 != 0) {
        release(&bc);
        PyErr_SetString(PyExc_ValueError, "parity_sums: image must be (rows, 3 * cols)");
        return NULL;
    }
    /* (line, position) -> element offset: y * sy + x * sx */
    if (transpose) {
        rows = bc.view.shape[1] / 3;
        cols = bc.view.shape[0];
        sy = 3;
        sx = bc.view.shape[1];
    } else {
        rows = bc.view.shape[0];
        cols = bc.view.shape[1] / 3;
        sy = bc.view.shape[1];
        sx = 3;
    }
    if (cols < 4) {
        release(&bc);
        PyErr_SetString(PyExc_ValueError, "parity_sums: the lines need at least 4 pixels");
        return NULL;
    }
    n = cols - 3;
    cap = rows * ((n + 1) / 2);
    kept_e = (float *)malloc((size_t)(cap > 0 ? cap : 1) * sizeof(float));
    kept_o = (float *)malloc((size_t)(cap > 0 ? cap : 1) * sizeof(float));
    if (!kept_e || !kept_o) {
        free(kept_e);
        free(kept_o);
        release(&bc);
        return PyErr_NoMemory();
    }
    {
        const float *c = (const float *)bc.view.buf + channel;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t y = 0; y < rows; y++) {
            const float *r = c + y * sy;
            float a, b = r[0], cc = r[sx], d = r[2 * sx];
            for (Py_ssize_t j = 0; j < n; j++) {
                a = b;
                b = cc;
                cc = d;
                d = r[(j + 3) * sx];
                float hi = a, lo = a;
                /* (max / min as cv2.dilate / erode take them: NaN-free input) */
                hi = b > hi ? b : hi;
                hi = cc > hi ? cc : hi;
                hi = d > hi ? d : hi;
                lo = b < lo ? b : lo;
                lo = cc < lo ? cc : lo;
                lo = d < lo ? d : lo;
                if (!((float)(hi - lo) >= min_range))
                    continue;
                float t1 = 3.0f * b, t2 = 3.0f * cc;
                float v = ((a - t1) + t2) - d;
                v = fabsf(v);
                if (j & 1)
                    kept_o[no++] = v;
                else
                    kept_e[ne++] = v;
            }
        }
        so = 0.0f + pairwise_sum_f(kept_o, no);
        se = 0.0f + pairwise_sum_f(kept_e, ne);
        Py_END_ALLOW_THREADS
    }
    free(kept_e);
    free(kept_o);
    release(&bc);
    return Py_BuildValue("ddnn", (double)so, (double)se, no, ne);
}

/* ---- connected components of a mask, as runs ----------------------------- */

/* The first x' >= x where (row[x'] != 0) != on, or cols: eight bytes at a time
 * (little-endian words: the lowest marked byte is the first; a zero byte is
 * found exactly by the borrow trick's lowest bit), then byte by byte. */
static inline Py_ssize_t run_end(const uint8_t *row, Py_ssize_t x, Py_ssize_t cols, int on)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (x + 8 <= cols) {
        uint64_t w, t;
        memcpy(&w, row + x, 8);
        t = on ? ((w - ones) & ~w & highs) : w;   /* marks: zero bytes / non-zero bytes */
        if (t)
            return x + (Py_ssize_t)(__builtin_ctzll(t) >> 3);
        x += 8;
    }
#endif
    while (x < cols && ((row[x] != 0) == on))
        x++;
    return x;
}

static PyObject *count_mask_runs(PyObject *self, PyObject *args)
{
    PyObject *o_m;
    int value;
    buf_t bm;
    Py_ssize_t n = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "Op:count_mask_runs", &o_m, &value))
        return NULL;
    if (get(o_m, &bm, "mask", 'B', 2, NULL, 0) < 0)
        return NULL;
    {
        const uint8_t *m = (const uint8_t *)bm.view.buf;
        Py_ssize_t rows = bm.view.shape[0], cols = bm.view.shape[1];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t y = 0; y < rows; y++) {
            const uint8_t *row = m + y * cols;
            Py_ssize_t x = 0;
            while (x < cols) {
                x = run_end(row, x, cols, !value);    /* skip the other value */
                if (x >= cols)
                    break;
                n++;
                x = run_end(row, x, cols, value);
            }
        }
        Py_END_ALLOW_THREADS
    }
    release(&bm);
    return PyLong_FromSsize_t(n);
}

static inline int32_t uf_find(int32_t *parent, int32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Label the runs of ``value``: 4- or 8-connected components (a run joins a run
 * of the row above that it overlaps, or, 8-connected, touches diagonally),
 * numbered 1.. in raster order of each component's first pixel.  Fills the
 * runs' raveled starts, labels and lengths (count_mask_runs entries, raster
 * order) and, with an int32 ``out`` of the mask's shape, the label image (0
 * elsewhere).  Returns the number of labels plus one (label 0). */
static PyObject *label_mask_runs(PyObject *self, PyObject *args)
{
    PyObject *o_m, *o_st, *o_rl, *o_len, *o_out;
    int value, conn;
    buf_t bm, bs, br, bn, bo;
    Py_ssize_t rows, cols, cap, shape[2];
    int bad = 0, nomem = 0;
    int32_t nlab = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OpiOOOO:label_mask_runs", &o_m, &value, &conn, &o_st, &o_rl,
                          &o_len, &o_out))
        return NULL;
    if (conn != 4 && conn != 8) {
        PyErr_SetString(PyExc_ValueError, "label_mask_runs: connectivity must be 4 or 8");
        return NULL;
    }
    if (get(o_m, &bm, "mask", 'B', 2, NULL, 0) < 0)
        return NULL;
    rows = shape[0] = bm.view.shape[0];
    cols = shape[1] = bm.view.shape[1];
    if (get(o_st, &bs, "starts", 'q', 1, NULL, 1) < 0) {
        release(&bm);
        return NULL;
    }
    if (get(o_rl, &br, "run_labels", 'i', 1, NULL, 1) < 0) {
        release(&bm);
        release(&bs);
        return NULL;
    }
    if (get(o_len, &bn, "lengths", 'q', 1, NULL, 1) < 0) {
        release(&bm);
        release(&bs);
        release(&br);
        return NULL;
    }
    bo.held = 0;
    if (o_out != Py_None && get(o_out, &bo, "out", 'i', 2, shape, 1) < 0) {
        release(&bm);
        release(&bs);
        release(&br);
        release(&bn);
        return NULL;
    }
    cap = bs.view.shape[0];
    if (br.view.shape[0] != cap || bn.view.shape[0] != cap || cap >= INT32_MAX)
        bad = 1;
    else {
        const uint8_t *m = (const uint8_t *)bm.view.buf;
        int64_t *st = (int64_t *)bs.view.buf, *len = (int64_t *)bn.view.buf;
        int32_t *rl = (int32_t *)br.view.buf;
        int32_t *out = bo.held ? (int32_t *)bo.view.buf : NULL;
        int32_t *parent = (int32_t *)malloc((size_t)(cap > 0 ? cap : 1) * sizeof(int32_t));
        if (!parent)
            nomem = 1;
        else {
            Py_BEGIN_ALLOW_THREADS
            Py_ssize_t k = 0, prev0 = 0, prev1 = 0;   /* runs of the row above: [prev0, prev1) */
            int reach = conn == 8 ? 1 : 0;
            for (Py_ssize_t y = 0; y < rows && !bad; y++) {
                const uint8_t *row = m + y * cols;
                Py_ssize_t x = 0, cur0 = k, q = prev0;
                while (x < cols) {
                    x = run_end(row, x, cols, !value);
                    if (x >= cols)
                        break;
                    Py_ssize_t x1 = run_end(row, x, cols, value);
                    if (k >= cap) {
                        bad = 1;
                        break;
                    }
                    st[k] = y * cols + x;
                    len[k] = x1 - x;
                    parent[k] = (int32_t)k;
                    /* runs above overlapping [x - reach, x1 + reach) */
                    while (q < prev1 && st[q] - (y - 1) * cols + len[q] + reach <= x)
                        q++;
                    for (Py_ssize_t t = q; t < prev1; t++) {
                        Py_ssize_t a0 = st[t] - (y - 1) * cols;
                        if (a0 >= x1 + reach)
                            break;
                        int32_t ra = uf_find(parent, (int32_t)k), rb = uf_find(parent, (int32_t)t);
                        if (ra != rb) {          /* the older root stays the root */
                            if (ra < rb)
                                parent[rb] = ra;
                            else
                                parent[ra] = rb;
                        }
                    }
                    k++;
                    x = x1;
                }
                prev0 = cur0;
                prev1 = k;
            }
            if (!bad && k != cap)
                bad = 1;
            if (!bad) {
                /* roots are the smallest run of their component: numbered in run order */
                for (Py_ssize_t i = 0; i < k; i++) {
                    if (parent[i] == (int32_t)i)
                        rl[i] = ++nlab;
                    else
                        rl[i] = rl[uf_find(parent, (int32_t)i)];
                }
                if (out) {
                    Py_ssize_t p = 0;
                    for (Py_ssize_t i = 0; i < k; i++) {
                        Py_ssize_t a = st[i], b = a + len[i];
                        if (a > p)
                            memset(out + p, 0, (size_t)(a - p) * sizeof(int32_t));
                        for (Py_ssize_t j = a; j < b; j++)
                            out[j] = rl[i];
                        p = b;
                    }
                    if (rows * cols > p)
                        memset(out + p, 0, (size_t)(rows * cols - p) * sizeof(int32_t));
                }
            }
            Py_END_ALLOW_THREADS
            free(parent);
        }
    }
    release(&bm);
    release(&bs);
    release(&br);
    release(&bn);
    release(&bo);
    if (nomem)
        return PyErr_NoMemory();
    if (bad) {
        PyErr_SetString(PyExc_ValueError,
                        "label_mask_runs: starts, run_labels and lengths must have "
                        "count_mask_runs(mask, value) entries each");
        return NULL;
    }
    return PyLong_FromLong((long)nlab + 1);
}

/* ---- DAB holes ---------------------------------------------------------- */

/* segment_nuclei's DAB-hole term, in place of the closing:
 *   closed = h + clip(h - floor, 0, (closed - d) * weight)
 * each step in float32 as NumPy takes it (np.clip's NaN rule: a NaN value stays,
 * a NaN bound is taken; clip's 0 is +0). */
static PyObject *dab_hole_add(PyObject *self, PyObject *args)
{
    PyObject *o_h, *o_d, *o_c;
    float weight, floor_;
    buf_t bh, bd, bc;
    Py_ssize_t shape[2];
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOff:dab_hole_add", &o_h, &o_d, &o_c, &weight, &floor_))
        return NULL;
    if (get(o_h, &bh, "h", 'f', 2, NULL, 0) < 0)
        return NULL;
    shape[0] = bh.view.shape[0];
    shape[1] = bh.view.shape[1];
    if (get(o_d, &bd, "d", 'f', 2, shape, 0) < 0) {
        release(&bh);
        return NULL;
    }
    if (get(o_c, &bc, "closed", 'f', 2, shape, 1) < 0) {
        release(&bh);
        release(&bd);
        return NULL;
    }
    {
        const float *h = (const float *)bh.view.buf, *d = (const float *)bd.view.buf;
        float *c = (float *)bc.view.buf;
        Py_ssize_t npx = shape[0] * shape[1];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t p = 0; p < npx; p++) {
            float hole = (c[p] - d[p]) * weight;
            float x = h[p] - floor_;
            float m = isnan(x) ? x : (x > 0.0f ? x : 0.0f);
            float r = isnan(m) ? m : (m < hole ? m : hole);
            c[p] = r + h[p];
        }
        Py_END_ALLOW_THREADS
    }
    release(&bh);
    release(&bd);
    release(&bc);
    Py_RETURN_NONE;
}

/* ---- class maps and counts ------------------------------------------------ */

/* out = lut[labels] for a uint8 table (tissue.lut_take); False (nothing
 * written past the first bad pixel) when a label is outside the table. */
static PyObject *take_u8(PyObject *self, PyObject *args)
{
    PyObject *o_lut, *o_lab, *o_out;
    buf_t bl, bb, bo;
    Py_ssize_t shape[2];
    int ok = 1;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO:take_u8", &o_lut, &o_lab, &o_out))
        return NULL;
    if (get(o_lut, &bl, "lut", 'B', 1, NULL, 0) < 0)
        return NULL;
    if (get(o_lab, &bb, "labels", 'i', 2, NULL, 0) < 0) {
        release(&bl);
        return NULL;
    }
    shape[0] = bb.view.shape[0];
    shape[1] = bb.view.shape[1];
    if (get(o_out, &bo, "out", 'B', 2, shape, 1) < 0) {
        release(&bl);
        release(&bb);
        return NULL;
    }
    {
        const uint8_t *lut = (const uint8_t *)bl.view.buf;
        const int32_t *lab = (const int32_t *)bb.view.buf;
        uint8_t *out = (uint8_t *)bo.view.buf;
        Py_ssize_t npx = shape[0] * shape[1], nl = bl.view.shape[0];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t p = 0; p < npx; p++) {
            int32_t i = lab[p];
            if (i < 0 || (Py_ssize_t)i >= nl) {
                ok = 0;
                break;
            }
            out[p] = lut[i];
        }
        Py_END_ALLOW_THREADS
    }
    release(&bl);
    release(&bb);
    release(&bo);
    return PyBool_FromLong(ok);
}

/* The pixel class counts of result._class_counts(classify_pixels(dab, t, mask),
 * region) without the class map: per pixel inside ``mask`` and ``region``
 * (uint8, non-zero = in), code 1 + the number of thresholds (float32, 1 to 3)
 * that dab reaches (>=; NaN reaches none); counts[k - 1] += 1 for code k. */
static PyObject *class_counts(PyObject *self, PyObject *args)
{
    PyObject *o_d, *o_m, *o_r, *o_t, *o_c;
    buf_t bd, bm, br, bt, bc;
    Py_ssize_t shape[2], nt;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOO:class_counts", &o_d, &o_m, &o_r, &o_t, &o_c))
        return NULL;
    if (get(o_d, &bd, "dab", 'f', 2, NULL, 0) < 0)
        return NULL;
    shape[0] = bd.view.shape[0];
    shape[1] = bd.view.shape[1];
    if (get(o_m, &bm, "mask", 'B', 2, shape, 0) < 0) {
        release(&bd);
        return NULL;
    }
    if (get(o_r, &br, "region", 'B', 2, shape, 0) < 0) {
        release(&bd);
        release(&bm);
        return NULL;
    }
    if (get(o_t, &bt, "thresholds", 'f', 1, NULL, 0) < 0) {
        release(&bd);
        release(&bm);
        release(&br);
        return NULL;
    }
    if (get(o_c, &bc, "counts", 'q', 1, NULL, 1) < 0) {
        release(&bd);
        release(&bm);
        release(&br);
        release(&bt);
        return NULL;
    }
    nt = bt.view.shape[0];
    if (nt < 1 || nt > 3 || bc.view.shape[0] != 4) {
        release(&bd);
        release(&bm);
        release(&br);
        release(&bt);
        release(&bc);
        PyErr_SetString(PyExc_ValueError, "class_counts: 1 to 3 thresholds and 4 counts");
        return NULL;
    }
    {
        const float *d = (const float *)bd.view.buf, *t = (const float *)bt.view.buf;
        const uint8_t *m = (const uint8_t *)bm.view.buf, *r = (const uint8_t *)br.view.buf;
        int64_t *counts = (int64_t *)bc.view.buf;
        int64_t c[4] = {0, 0, 0, 0};
        float t0 = t[0], t1 = nt > 1 ? t[1] : 0.0f, t2 = nt > 2 ? t[2] : 0.0f;
        Py_ssize_t npx = shape[0] * shape[1];
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t p = 0; p < npx; p++) {
            if (!m[p] || !r[p])
                continue;
            float v = d[p];
            int k = (v >= t0);
            if (nt > 1)
                k += (v >= t1);
            if (nt > 2)
                k += (v >= t2);
            c[k]++;
        }
        Py_END_ALLOW_THREADS
        for (int k = 0; k < 4; k++)
            counts[k] += c[k];
    }
    release(&bd);
    release(&bm);
    release(&br);
    release(&bt);
    release(&bc);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"flood_region", flood_region, METH_VARARGS,
     "flood_region(dist, markers, region, out): priority flood of -dist from the non-zero "
     "markers, 4-connected, on the listed pixels (ascending "
     "raveled int64 indices of whole components); out[i] is the label of region[i]. "
     "False (nothing done) when dist has NaN at a listed pixel."},
    {"count_runs", count_runs, METH_VARARGS,
     "count_runs(labels): the number of runs of equal values of a 1-D int32 array."},
    {"fill_runs", fill_runs, METH_VARARGS,
     "fill_runs(labels, starts, run_labels, lengths): start (int64), value (int32) and "
     "length (int64) of each run of equal values, in order (count_runs entries each)."},
    {"compartment_stats", compartment_stats, METH_VARARGS,
     "compartment_stats(comp, v, ncols, count, total, vmax): per label of comp (int32, raster "
     "order, ncols columns), pixel count, float64 sum and float32 maximum of v added into the "
     "tables (the order of cells._compartment_stats)."},
    {"expand_lookup", expand_lookup, METH_VARARGS,
     "expand_lookup(idx, dist, threshold, lut, out): out = lut[idx] where dist <= "
     "threshold (compared in float64), else 0."},
    {"mask_cut", mask_cut, METH_VARARGS,
     "mask_cut(cells, mask, out, cut): out = cells where mask else 0; cut = out > 0 "
     "minus pixels whose right or lower neighbour has another non-zero label."},
    {"weighted_maps", weighted_maps, METH_VARARGS,
     "weighted_maps(rgb, luts, outs): outs[m] = (luts[3m][r] + luts[3m+1][g]) + "
     "luts[3m+2][b] (float32) for uint8 rgb viewed as (rows, 3 * cols), luts float32 "
     "(3 * len(outs), 256), outs a tuple of 1-4 float32 (rows, cols) arrays."},
    {"parity_sums", parity_sums, METH_VARARGS,
     "parity_sums(image, channel, transpose, min_range): chroma._parity_sums of one channel "
     "of a float32 (rows, cols, 3) image viewed as (rows, 3 * cols), along rows or (transpose) "
     "columns: (sum odd, sum even, count odd, count even) of the windows' |third differences|."},
    {"count_mask_runs", count_mask_runs, METH_VARARGS,
     "count_mask_runs(mask, value): the number of runs of pixels equal to value (bool) along "
     "the rows of a 2-D uint8 / bool mask."},
    {"label_mask_runs", label_mask_runs, METH_VARARGS,
     "label_mask_runs(mask, value, connectivity, starts, run_labels, lengths, out): 4- or "
     "8-connected components of the pixels equal to value, as runs (raveled start, label "
     "1.. in raster order of first pixel, length) and, unless out is None, as an int32 label "
     "image; returns the number of labels + 1."},
    {"dab_hole_add", dab_hole_add, METH_VARARGS,
     "dab_hole_add(h, d, closed, weight, floor): closed = h + clip(h - floor, 0, (closed - d) "
     "* weight) in place, float32 steps as NumPy takes them."},
    {"take_u8", take_u8, METH_VARARGS,
     "take_u8(lut, labels, out): out = lut[labels] (uint8 table, int32 labels); False when a "
     "label is outside the table."},
    {"class_counts", class_counts, METH_VARARGS,
     "class_counts(dab, mask, region, thresholds, counts): adds the pixels of codes 1..4 "
     "(1 + thresholds reached, float32 >=) inside mask and region to counts (int64, 4)."},
    {"keep_lookup", keep_lookup, METH_VARARGS,
     "keep_lookup(cells, comp, keep): cells = 0 where keep[comp] == 0 (in place)."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_cellc",
    "Compiled loops of blotquant's cell mode (flood, cell expansion lookups).", -1, methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__cellc(void)
{
    return PyModule_Create(&module);
}
