/*
 * _pixelc: the compiled loop of blotquant.ihc.pixels.PixelKernel.
 *
 * One function, score(), scores a uint8 RGB image (or a strided view of one)
 * in a single pass with the GIL released: per pixel the DAB OD, the optional
 * tissue test, the class code, and the class counts and DAB OD sums of the
 * whole part and of each region mask.  Plain C on the Python C API and the
 * buffer protocol: no NumPy headers, so building needs only a C compiler and
 * the Python headers.
 *
 * Arithmetic contract (the NumPy/OpenCV path of PixelKernel, bit for bit):
 *
 *   d = (TD_R[R] + TD_G[G]) + TD_B[B]          float32, this order
 *   s = (TS_R[R] + TS_G[G]) + TS_B[B]          float32, this order
 *   scored = mask && (no tissue test || s >= tt)   float32 comparison
 *   code   = scored ? 1 + [d >= t1] + [d >= t2] + [d >= t3] : 0
 *
 * where the tables are the kernel's float32 tables and tt, t1..t3 the
 * thresholds rounded to float32 (as np.array(t, np.float32)).  Each sum is
 * one IEEE single-precision addition rounded to nearest: the file must be
 * compiled without -ffast-math and with -ffp-contract=off, and on x86-64 the
 * SSE unit is used (FLT_EVAL_METHOD 0), never x87 extended precision.  The
 * counts are exact integers.  The DAB OD sum of the scored pixels is
 * accumulated in double, one pixel at a time (the NumPy path sums blocks
 * pairwise in float32, so the two sums agree to ~1e-7 relative, not bits).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <string.h>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "float32 sums must be evaluated in float32 (FLT_EVAL_METHOD 0)"
#endif
#if defined(__FAST_MATH__)
#error "compile _pixelc.c without -ffast-math (the float32 sums must be IEEE)"
#endif

/* Accumulators of one region (or of the whole part). */
typedef struct {
    long long n;        /* pixels of the region */
    long long scored;   /* of which scored (code >= 1) */
    long long ge[3];    /* of which scored with d >= t1, t2, t3 */
    double dab;         /* DAB OD sum of the scored pixels */
} acc_t;

/* A 2-D view (rows, cols) of one-byte or four-byte items. */
typedef struct {
    char *buf;
    Py_ssize_t s0, s1;
} plane_t;

static int
get_buffer(PyObject *obj, Py_buffer *view, int writable, const char *name)
{
    int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Format(PyExc_TypeError, "%s: needs a %sbuffer (array)", name,
                     writable ? "writable " : "");
        return -1;
    }
    return 0;
}

/* Check a 2-D plane of shape (h, w) whose items are one of the formats in
 * `formats` (single characters, an optional '=' '<' '|' or '@' prefix). */
static int
check_plane(Py_buffer *v, Py_ssize_t h, Py_ssize_t w, const char *formats,
            Py_ssize_t itemsize, const char *name)
{
    const char *f = v->format ? v->format : "B";
    if (*f == '=' || *f == '<' || *f == '|' || *f == '@')
        f++;
    if (v->ndim != 2 || v->shape[0] != h || v->shape[1] != w) {
        PyErr_Format(PyExc_ValueError, "%s: needs shape (%zd, %zd)", name, h, w);
        return -1;
    }
    if (v->itemsize != itemsize || f[0] == '\0' || f[1] != '\0'
            || strchr(formats, f[0]) == NULL) {
        PyErr_Format(PyExc_ValueError, "%s: wrong item type '%s'", name,
                     v->format ? v->format : "B");
        return -1;
    }
    return 0;
}

/* Copy one float32 table of 256 entries out of a buffer. */
static int
read_table(PyObject *obj, float *out, const char *name)
{
    Py_buffer v;
    const char *f;
    if (PyObject_GetBuffer(obj, &v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Format(PyExc_TypeError, "%s: needs a contiguous float32 buffer", name);
        return -1;
    }
    f = v.format ? v.format : "B";
    if (*f == '=' || *f == '<' || *f == '@')
        f++;
    if (v.itemsize != 4 || strcmp(f, "f") != 0 || v.len != 256 * 4) {
        PyBuffer_Release(&v);
        PyErr_Format(PyExc_ValueError, "%s: needs 256 float32 values", name);
        return -1;
    }
    memcpy(out, v.buf, 256 * sizeof(float));
    PyBuffer_Release(&v);
    return 0;
}

static int
read_tables(PyObject *seq, float t[3][256], const char *name)
{
    PyObject *fast = PySequence_Fast(seq, name);
    int rc = 0;
    if (fast == NULL)
        return -1;
    if (PySequence_Fast_GET_SIZE(fast) != 3) {
        PyErr_Format(PyExc_ValueError, "%s: needs 3 tables (R, G, B)", name);
        rc = -1;
    }
    for (int c = 0; rc == 0 && c < 3; c++)
        rc = read_table(PySequence_Fast_GET_ITEM(fast, c), t[c], name);
    Py_DECREF(fast);
    return rc;
}

/* Everything the loop reads, set up while the GIL is held. */
typedef struct {
    Py_ssize_t h, w;
    const char *rgb;
    Py_ssize_t rs0, rs1, rs2;           /* strides of rows, pixels, channels */
    float td[3][256], ts[3][256];
    int tissue;                         /* evaluate s >= tt */
    float tt;
    int nthr;
    float thr[3];
    plane_t mask;                       /* buf NULL: every pixel may be scored */
    plane_t cls;                        /* uint8 codes out */
    plane_t dab;                        /* float32 DAB OD out (buf NULL: none) */
    Py_ssize_t nreg;
    plane_t *reg;                       /* region masks */
    acc_t whole;
    acc_t *racc;
} job_t;

/* The loop (no Python calls: runs without the GIL). */
static void
run_job(job_t *j)
{
    const float *td0 = j->td[0], *td1 = j->td[1], *td2 = j->td[2];
    const float *ts0 = j->ts[0], *ts1 = j->ts[1], *ts2 = j->ts[2];
    const float t1 = j->thr[0], t2 = j->thr[1], t3 = j->thr[2];
    const float tt = j->tt;
    const int n2 = j->nthr > 1, n3 = j->nthr > 2, tissue = j->tissue;
    const Py_ssize_t c1 = j->rs2, c2 = 2 * j->rs2;
    acc_t wa = j->whole;

    for (Py_ssize_t y = 0; y < j->h; y++) {
        const unsigned char *prow = (const unsigned char *)(j->rgb + y * j->rs0);
        const unsigned char *mrow =
            j->mask.buf ? (const unsigned char *)(j->mask.buf + y * j->mask.s0) : NULL;
        unsigned char *crow = (unsigned char *)(j->cls.buf + y * j->cls.s0);
        char *drow = j->dab.buf ? j->dab.buf + y * j->dab.s0 : NULL;
        long long r_scored = 0, r_ge1 = 0, r_ge2 = 0, r_ge3 = 0;
        double r_dab = 0.0;

        for (Py_ssize_t x = 0; x < j->w; x++) {
            const unsigned char *p = prow + x * j->rs1;
            int scored = mrow ? (mrow[x * j->mask.s1] != 0) : 1;
            float d = 0.0f;
            int code = 0, g1 = 0, g2 = 0, g3 = 0;

            if (scored || drow) {
                const unsigned r = p[0], g = p[c1], b = p[c2];
                d = (td0[r] + td1[g]) + td2[b];
                if (scored && tissue) {
                    const float s = (ts0[r] + ts1[g]) + ts2[b];
                    scored = s >= tt;
                }
            }
            if (drow)
                *(float *)(drow + x * j->dab.s1) = d;
            if (scored) {
                g1 = d >= t1;
                g2 = n2 && d >= t2;
                g3 = n3 && d >= t3;
                code = 1 + g1 + g2 + g3;
                r_scored++;
                r_ge1 += g1;
                r_ge2 += g2;
                r_ge3 += g3;
                r_dab += (double)d;
            }
            crow[x * j->cls.s1] = (unsigned char)code;
            for (Py_ssize_t k = 0; k < j->nreg; k++) {
                const plane_t *rp = &j->reg[k];
                if (rp->buf[y * rp->s0 + x * rp->s1]) {
                    acc_t *a = &j->racc[k];
                    a->n++;
                    if (scored) {
                        a->scored++;
                        a->ge[0] += g1;
                        a->ge[1] += g2;
                        a->ge[2] += g3;
                        a->dab += (double)d;
                    }
                }
            }
        }
        wa.scored += r_scored;
        wa.ge[0] += r_ge1;
        wa.ge[1] += r_ge2;
        wa.ge[2] += r_ge3;
        wa.dab += r_dab;
    }
    wa.n += (long long)j->h * j->w;
    j->whole = wa;
}

/* (counts of codes 0..4, DAB sum) of one accumulator as a Python tuple. */
static PyObject *
acc_result(const acc_t *a)
{
    return Py_BuildValue("(LLLLL)d", a->n - a->scored, a->scored - a->ge[0],
                         a->ge[0] - a->ge[1], a->ge[1] - a->ge[2], a->ge[2], a->dab);
}

PyDoc_STRVAR(score_doc,
"score(rgb, dab_tables, sum_tables, tissue_threshold, mask, regions, thresholds,\n"
"      classes, dab_out)\n"
"--\n\n"
"Score uint8 RGB (rows, cols, 3) in one pass with the GIL released.\n\n"
"dab_tables, sum_tables: 3 float32 tables of 256 (sum_tables None: no tissue\n"
"test); mask: None or bool/uint8 (rows, cols); regions: sequence of bool/uint8\n"
"(rows, cols) masks; thresholds: 1 to 3 floats; classes: writable uint8\n"
"(rows, cols); dab_out: None or writable float32 (rows, cols), filled for\n"
"every pixel.  Any strides.  Returns ((counts, dab_sum), [(counts, dab_sum)\n"
"per region]); counts: codes 0..4 (0: pixels not scored).");

static PyObject *
score(PyObject *self, PyObject *args)
{
    PyObject *rgb_o, *dab_t, *sum_t, *mask_o, *regs_o, *thr_o, *cls_o, *dab_o;
    double tt;
    Py_buffer rgb_v, mask_v, cls_v, dab_v;
    Py_buffer *reg_v = NULL;
    PyObject *regs_fast = NULL, *thr_fast = NULL, *out = NULL;
    int have_rgb = 0, have_mask = 0, have_cls = 0, have_dab = 0;
    Py_ssize_t nreg_got = 0;
    job_t *j = NULL;

    if (!PyArg_ParseTuple(args, "OOOdOOOOO:score", &rgb_o, &dab_t, &sum_t, &tt, &mask_o,
                          &regs_o, &thr_o, &cls_o, &dab_o))
        return NULL;
    j = PyMem_Calloc(1, sizeof(job_t));
    if (j == NULL)
        return PyErr_NoMemory();

    /* the image */
    if (get_buffer(rgb_o, &rgb_v, 0, "rgb") < 0)
        goto done;
    have_rgb = 1;
    if (rgb_v.ndim != 3 || rgb_v.shape[2] != 3 || rgb_v.itemsize != 1
            || (rgb_v.format && strcmp(rgb_v.format, "B") != 0)) {
        PyErr_SetString(PyExc_ValueError, "rgb: needs uint8 (rows, cols, 3)");
        goto done;
    }
    j->h = rgb_v.shape[0];
    j->w = rgb_v.shape[1];
    j->rgb = rgb_v.buf;
    j->rs0 = rgb_v.strides[0];
    j->rs1 = rgb_v.strides[1];
    j->rs2 = rgb_v.strides[2];

    /* the tables and thresholds, rounded to float32 as NumPy does */
    if (read_tables(dab_t, j->td, "dab_tables") < 0)
        goto done;
    if (sum_t != Py_None) {
        if (read_tables(sum_t, j->ts, "sum_tables") < 0)
            goto done;
        j->tissue = 1;
        j->tt = (float)tt;
    }
    thr_fast = PySequence_Fast(thr_o, "thresholds: needs a sequence");
    if (thr_fast == NULL)
        goto done;
    j->nthr = (int)PySequence_Fast_GET_SIZE(thr_fast);
    if (j->nthr < 1 || j->nthr > 3) {
        PyErr_SetString(PyExc_ValueError, "thresholds: needs 1 to 3 values");
        goto done;
    }
    for (int k = 0; k < j->nthr; k++) {
        double t = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(thr_fast, k));
        if (t == -1.0 && PyErr_Occurred())
            goto done;
        j->thr[k] = (float)t;
    }

    /* the masks */
    if (mask_o != Py_None) {
        if (get_buffer(mask_o, &mask_v, 0, "mask") < 0)
            goto done;
        have_mask = 1;
        if (check_plane(&mask_v, j->h, j->w, "?B", 1, "mask") < 0)
            goto done;
        j->mask.buf = mask_v.buf;
        j->mask.s0 = mask_v.strides[0];
        j->mask.s1 = mask_v.strides[1];
    }
    regs_fast = PySequence_Fast(regs_o, "regions: needs a sequence");
    if (regs_fast == NULL)
        goto done;
    j->nreg = PySequence_Fast_GET_SIZE(regs_fast);
    if (j->nreg) {
        reg_v = PyMem_Calloc((size_t)j->nreg, sizeof(Py_buffer));
        j->reg = PyMem_Calloc((size_t)j->nreg, sizeof(plane_t));
        j->racc = PyMem_Calloc((size_t)j->nreg, sizeof(acc_t));
        if (reg_v == NULL || j->reg == NULL || j->racc == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    for (Py_ssize_t k = 0; k < j->nreg; k++) {
        if (get_buffer(PySequence_Fast_GET_ITEM(regs_fast, k), &reg_v[k], 0, "region") < 0)
            goto done;
        nreg_got++;
        if (check_plane(&reg_v[k], j->h, j->w, "?B", 1, "region") < 0)
            goto done;
        j->reg[k].buf = reg_v[k].buf;
        j->reg[k].s0 = reg_v[k].strides[0];
        j->reg[k].s1 = reg_v[k].strides[1];
    }

    /* the outputs */
    if (get_buffer(cls_o, &cls_v, 1, "classes") < 0)
        goto done;
    have_cls = 1;
    if (check_plane(&cls_v, j->h, j->w, "B", 1, "classes") < 0)
        goto done;
    j->cls.buf = cls_v.buf;
    j->cls.s0 = cls_v.strides[0];
    j->cls.s1 = cls_v.strides[1];
    if (dab_o != Py_None) {
        if (get_buffer(dab_o, &dab_v, 1, "dab_out") < 0)
            goto done;
        have_dab = 1;
        if (check_plane(&dab_v, j->h, j->w, "f", 4, "dab_out") < 0)
            goto done;
        j->dab.buf = dab_v.buf;
        j->dab.s0 = dab_v.strides[0];
        j->dab.s1 = dab_v.strides[1];
    }

    Py_BEGIN_ALLOW_THREADS
    run_job(j);
    Py_END_ALLOW_THREADS

    {
        PyObject *whole = acc_result(&j->whole), *lst = PyList_New(j->nreg);
        int ok = whole != NULL && lst != NULL;
        for (Py_ssize_t k = 0; ok && k < j->nreg; k++) {
            PyObject *r = acc_result(&j->racc[k]);
            if (r == NULL)
                ok = 0;
            else
                PyList_SET_ITEM(lst, k, r);
        }
        if (ok)
            out = Py_BuildValue("(NN)", whole, lst);
        else {
            Py_XDECREF(whole);
            Py_XDECREF(lst);
        }
    }

done:
    for (Py_ssize_t k = 0; k < nreg_got; k++)
        PyBuffer_Release(&reg_v[k]);
    if (have_rgb)
        PyBuffer_Release(&rgb_v);
    if (have_mask)
        PyBuffer_Release(&mask_v);
    if (have_cls)
        PyBuffer_Release(&cls_v);
    if (have_dab)
        PyBuffer_Release(&dab_v);
    Py_XDECREF(regs_fast);
    Py_XDECREF(thr_fast);
    PyMem_Free(reg_v);
    PyMem_Free(j->reg);
    PyMem_Free(j->racc);
    PyMem_Free(j);
    return out;
}

static PyMethodDef methods[] = {
    {"score", score, METH_VARARGS, score_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pixelc",
    "The compiled single-pass loop of blotquant.ihc.pixels.PixelKernel.", -1, methods,
};

PyMODINIT_FUNC
PyInit__pixelc(void)
{
    return PyModule_Create(&module);
}
