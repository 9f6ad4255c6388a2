/*
 * _pixelc: the compiled loop of blotquant.ihc.pixels.PixelKernel.
 *
 * score() scores a uint8 RGB image (or a strided view of one)
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
 *
 * Three row loops implement it (simd() picks one; the default is the fastest
 * the CPU runs): AVX2 (eight pixels a step, chosen at run time), SSE2 (four)
 * and scalar.  They give the same codes, DAB values and DAB sums, bit for bit.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0
#error "float32 sums must be evaluated in float32 (FLT_EVAL_METHOD 0)"
#endif
#if defined(__FAST_MATH__)
#error "compile _pixelc.c without -ffast-math (the float32 sums must be IEEE)"
#endif

#if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#include <emmintrin.h>
#define HAVE_SSE2 1
#endif

/* An AVX2 form of the row loop, compiled with a function target attribute and
 * chosen at run time (__builtin_cpu_supports), on x86-64 with GCC or clang. */
#if defined(HAVE_SSE2) && (defined(__GNUC__) || defined(__clang__)) \
    && defined(__x86_64__) && !defined(BLOTQUANT_NO_AVX2)
#include <immintrin.h>
#define HAVE_AVX2 1
#define TARGET_AVX2 __attribute__((target("avx2")))
#endif

/* The row loops (score_row, score_row_avx2): every one gives the same codes, the
 * same DAB OD values bit for bit and the same DAB sums (the same float64 additions
 * in the same order).  PATH_* index PATH_NAMES. */
enum { PATH_SCALAR = 0, PATH_SSE2 = 1, PATH_AVX2 = 2 };
static const char *const PATH_NAMES[] = {"scalar", "sse2", "avx2"};
static int path_best = PATH_SCALAR;     /* the fastest this build and CPU run */
static int path_now = PATH_SCALAR;      /* the one score() uses */

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define ALWAYS_INLINE __forceinline
#else
#define ALWAYS_INLINE inline
#endif

/* Table entries must be finite and small, so that every sum of three is finite
 * and an unused threshold can be +infinity (never reached). */
#define TABLE_LIMIT 1e30f
/* Pixels between flushes of the packed 16-bit counters (each below 2^16). */
#define FLUSH_PX 32768

/* Counts of codes 0..4 and the DAB OD sum of the scored pixels of a region. */
typedef struct {
    long long cnt[5];
    double dab;
} acc_t;

/* A 2-D view (rows, cols) of one-byte or four-byte items. */
typedef struct {
    char *buf;
    Py_ssize_t s0, s1;
} plane_t;

/* Everything the loop reads, set up while the GIL is held. */
typedef struct {
    Py_ssize_t h, w;
    const char *rgb;
    Py_ssize_t rs0, rs1, rs2;           /* strides of rows, pixels, channels */
    /* per channel c and value v: tab[(256 c + v) 2] the DAB OD term, [.. + 1] the
     * OD-sum term of the tissue test (0 without it): one cache line for both */
    float tab[3 * 256 * 2];
    int tissue;                         /* evaluate s >= tt */
    int path;                           /* PATH_*: the row loop */
    float tt;
    float thr[3];                       /* unused thresholds: +infinity */
    plane_t mask;                       /* buf NULL: every pixel may be scored */
    Py_ssize_t fy, fx;                  /* mask(y, x) = mask plane[y / fy, x / fx] */
    unsigned char *mexp;                /* one row of a coarse mask, expanded */
    plane_t cls;                        /* uint8 codes out */
    plane_t dab;                        /* float32 DAB OD out (buf NULL: none) */
    Py_ssize_t nreg;
    plane_t *reg;                       /* region masks */
    float *drow;                        /* one row of DAB OD (regions, dab_out) */
    acc_t whole;
    acc_t *racc;
} job_t;

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

/* The item format without its byte-order prefix. */
static const char *
bare_format(const Py_buffer *v)
{
    const char *f = v->format ? v->format : "B";
    if (*f == '=' || *f == '<' || *f == '|' || *f == '@')
        f++;
    return f;
}

/* Check a 2-D plane of shape (h, w) whose items are one of `formats`. */
static int
check_plane(Py_buffer *v, Py_ssize_t h, Py_ssize_t w, const char *formats,
            Py_ssize_t itemsize, const char *name)
{
    const char *f = bare_format(v);
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

/* Take the buffer of `obj` as a 2-D plane of shape (h, w) into `p`; on failure
 * nothing is held (the buffer is released again) and -1 is returned. */
static int
open_plane(PyObject *obj, Py_buffer *v, int writable, Py_ssize_t h, Py_ssize_t w,
           const char *formats, Py_ssize_t itemsize, const char *name, plane_t *p)
{
    if (get_buffer(obj, v, writable, name) < 0)
        return -1;
    if (check_plane(v, h, w, formats, itemsize, name) < 0) {
        PyBuffer_Release(v);
        return -1;
    }
    p->buf = v->buf;
    p->s0 = v->strides[0];
    p->s1 = v->strides[1];
    return 0;
}

/* Copy the (3, 256, 2) float32 table out of a buffer, checking its values. */
static int
read_tables(PyObject *obj, float *out)
{
    Py_buffer v;
    int ok;
    if (PyObject_GetBuffer(obj, &v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_SetString(PyExc_TypeError, "tables: needs a contiguous float32 buffer");
        return -1;
    }
    ok = v.itemsize == 4 && strcmp(bare_format(&v), "f") == 0
         && v.len == 3 * 256 * 2 * (Py_ssize_t)sizeof(float);
    if (ok)
        memcpy(out, v.buf, 3 * 256 * 2 * sizeof(float));
    PyBuffer_Release(&v);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "tables: needs 3 x 256 x 2 float32 values");
        return -1;
    }
    for (int k = 0; k < 3 * 256 * 2; k++) {
        if (!(out[k] >= -TABLE_LIMIT && out[k] <= TABLE_LIMIT)) {   /* NaN fails too */
            PyErr_SetString(PyExc_ValueError, "tables: values must be finite (|v| <= 1e30)");
            return -1;
        }
    }
    return 0;
}

/* One pixel of score_row (the scalar form of the contract). */
static ALWAYS_INLINE unsigned
score_pixel(const float *restrict tab, const float t1, const float t2, const float t3,
            const float tt, const int tissue, const unsigned char *p, const Py_ssize_t c1,
            const Py_ssize_t c2, const unsigned m, float *d_out, unsigned g[4])
{
    const float *er = tab + 2 * (unsigned)p[0];
    const float *eg = tab + 512 + 2 * (unsigned)p[c1];
    const float *eb = tab + 1024 + 2 * (unsigned)p[c2];
    const float d = (er[0] + eg[0]) + eb[0];                  /* float32, this order */
    unsigned sc = m != 0;
    if (tissue)
        sc &= ((er[1] + eg[1]) + eb[1]) >= tt;                /* float32, this order */
    g[0] = sc;
    g[1] = sc & (d >= t1);
    g[2] = sc & (d >= t2);
    g[3] = sc & (d >= t3);
    *d_out = d;
    return g[0] + g[1] + g[2] + g[3];
}

/* Pixels x .. x1 - 1 one at a time: codes, counts added to cnt, DAB OD into
 * drow when given; their scored DAB OD added to *sum one by one in pixel order
 * (float64).  The scalar loop and the tails of the vector loops. */
static ALWAYS_INLINE void
scalar_px(const float *restrict tab, const float t1, const float t2, const float t3,
          const float tt, const int tissue, const unsigned char *pp, const Py_ssize_t ps,
          const Py_ssize_t c1, const Py_ssize_t c2, const unsigned char *mp,
          const Py_ssize_t ms1, unsigned char *cp, const Py_ssize_t cs1, float *restrict drow,
          Py_ssize_t x, const Py_ssize_t x1, long long cnt[4], double *sum)
{
    double s = *sum;
    for (; x < x1; x++) {
        float d;
        unsigned g[4];
        cp[x * cs1] = (unsigned char)score_pixel(tab, t1, t2, t3, tt, tissue, pp + x * ps,
                                                 c1, c2, mp[x * ms1], &d, g);
        for (int k = 0; k < 4; k++)
            cnt[k] += g[k];
        s += (double)(g[0] ? d : 0.0f);
        if (drow)
            drow[x] = d;
    }
    *sum = s;
}

#ifdef HAVE_SSE2
/* lane k of MASK_LUT[i]: all ones if bit k of i is set (4 mask bytes -> 4 lanes) */
static int32_t MASK_LUT[16][4];

/* The (DAB, OD-sum) table pairs of two pixels' values in one register. */
static ALWAYS_INLINE __m128
pairs(const float *tab, unsigned va, unsigned vb)
{
    const __m128 lo = _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(tab + 2 * va));
    return _mm_loadh_pi(lo, (const __m64 *)(tab + 2 * vb));
}

/* Four pixels from x on: their DAB OD into *D and the scored lanes (mask byte
 * set and, with `tissue`, OD sum >= TT) as all-ones lanes into *sc.  Shared by
 * the SSE2 loop and the AVX2 loop's last step of four (the same operations). */
static ALWAYS_INLINE void
four_px(const float *tab, const unsigned char *pp, const Py_ssize_t ps, const Py_ssize_t c1,
        const Py_ssize_t c2, const unsigned char *mp, const Py_ssize_t ms1, const Py_ssize_t x,
        const int tissue, const __m128 TT, __m128 *D, __m128 *sc)
{
    const unsigned char *q0 = pp + x * ps, *q1 = q0 + ps, *q2 = q1 + ps, *q3 = q2 + ps;
    /* (d0, s0, d1, s1) and (d2, s2, d3, s3): (R + G) + B per lane */
    const __m128 v01 = _mm_add_ps(_mm_add_ps(pairs(tab, q0[0], q1[0]),
                                             pairs(tab + 512, q0[c1], q1[c1])),
                                  pairs(tab + 1024, q0[c2], q1[c2]));
    const __m128 v23 = _mm_add_ps(_mm_add_ps(pairs(tab, q2[0], q3[0]),
                                             pairs(tab + 512, q2[c1], q3[c1])),
                                  pairs(tab + 1024, q2[c2], q3[c2]));
    const unsigned mb = (mp[x * ms1] != 0) | (mp[(x + 1) * ms1] != 0) << 1
                        | (mp[(x + 2) * ms1] != 0) << 2 | (mp[(x + 3) * ms1] != 0) << 3;
    __m128 m = _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)MASK_LUT[mb]));
    *D = _mm_shuffle_ps(v01, v23, _MM_SHUFFLE(2, 0, 2, 0));
    if (tissue) {
        const __m128 S = _mm_shuffle_ps(v01, v23, _MM_SHUFFLE(3, 1, 3, 1));
        m = _mm_and_ps(m, _mm_cmpge_ps(S, TT));
    }
    *sc = m;
}
#endif

/* Score one row: codes into cp, counts into n[0..3] (scored, >= t1, >= t2,
 * >= t3), the DAB OD of scored pixels added to *sum, every pixel's DAB OD into
 * drow when given.  `tissue` is a constant at each call (two copies).  With
 * SSE2, four pixels at a time: the same float32 additions lane by lane (each
 * lane one IEEE single-precision sum, as the scalar code), the same >= tests. */
static ALWAYS_INLINE void
score_row(const float *restrict tab, const float t1, const float t2, const float t3,
          const float tt, const int tissue,
          const unsigned char *pp, const Py_ssize_t ps, const Py_ssize_t c1,
          const Py_ssize_t c2, const unsigned char *mp, const Py_ssize_t ms1,
          unsigned char *cp, const Py_ssize_t cs1, float *restrict drow,
          const Py_ssize_t w, long long n[4], double *sum, const int vec)
{
    double s = 0.0;
    for (Py_ssize_t x0 = 0; x0 < w; x0 += FLUSH_PX) {
        const Py_ssize_t x1 = w - x0 < FLUSH_PX ? w : x0 + FLUSH_PX;
        Py_ssize_t x = x0;
        long long cnt[4] = {0, 0, 0, 0};
#ifdef HAVE_SSE2
        if (vec) {
            const __m128 T1 = _mm_set1_ps(t1), T2 = _mm_set1_ps(t2), T3 = _mm_set1_ps(t3);
            const __m128 TT = _mm_set1_ps(tt);
            const __m128i Z = _mm_setzero_si128();
            __m128i a0 = Z, a1 = Z, a2 = Z, a3 = Z;          /* int32 lanes: -count */
            __m128d slo = _mm_setzero_pd(), shi = _mm_setzero_pd();
            for (; x + 4 <= x1; x += 4) {
                __m128 D, sc;
                __m128i g0, g1, g2, g3, code;
                int32_t word;
                four_px(tab, pp, ps, c1, c2, mp, ms1, x, tissue, TT, &D, &sc);
                g0 = _mm_castps_si128(sc);
                g1 = _mm_castps_si128(_mm_and_ps(sc, _mm_cmpge_ps(D, T1)));
                g2 = _mm_castps_si128(_mm_and_ps(sc, _mm_cmpge_ps(D, T2)));
                g3 = _mm_castps_si128(_mm_and_ps(sc, _mm_cmpge_ps(D, T3)));
                a0 = _mm_add_epi32(a0, g0);
                a1 = _mm_add_epi32(a1, g1);
                a2 = _mm_add_epi32(a2, g2);
                a3 = _mm_add_epi32(a3, g3);
                /* code = -(g0 + g1 + g2 + g3), 0..4, packed to 4 bytes */
                code = _mm_sub_epi32(Z, _mm_add_epi32(_mm_add_epi32(g0, g1),
                                                      _mm_add_epi32(g2, g3)));
                code = _mm_packs_epi32(code, code);
                word = _mm_cvtsi128_si32(_mm_packus_epi16(code, code));
                if (cs1 == 1) {
                    memcpy(cp + x, &word, 4);
                } else {
                    for (int k = 0; k < 4; k++)
                        cp[(x + k) * cs1] = (unsigned char)((uint32_t)word >> (8 * k));
                }
                {
                    const __m128 Dm = _mm_and_ps(D, sc);   /* 0 where not scored */
                    slo = _mm_add_pd(slo, _mm_cvtps_pd(Dm));
                    shi = _mm_add_pd(shi, _mm_cvtps_pd(_mm_movehl_ps(Dm, Dm)));
                }
                if (drow)
                    _mm_storeu_ps(drow + x, D);
            }
            {
                int32_t l[4][4];
                double sd[4];
                _mm_storeu_si128((__m128i *)l[0], a0);
                _mm_storeu_si128((__m128i *)l[1], a1);
                _mm_storeu_si128((__m128i *)l[2], a2);
                _mm_storeu_si128((__m128i *)l[3], a3);
                for (int k = 0; k < 4; k++)
                    cnt[k] -= (long long)l[k][0] + l[k][1] + l[k][2] + l[k][3];
                _mm_storeu_pd(sd, slo);
                _mm_storeu_pd(sd + 2, shi);
                s += (sd[0] + sd[1]) + (sd[2] + sd[3]);
            }
        }
#else
        (void)vec;
#endif
        scalar_px(tab, t1, t2, t3, tt, tissue, pp, ps, c1, c2, mp, ms1, cp, cs1, drow,
                  x, x1, cnt, &s);   /* the scalar form (and the row's tail) */
        for (int k = 0; k < 4; k++)
            n[k] += cnt[k];
    }
    *sum += s;
}

#ifdef HAVE_AVX2
/* The table pairs of four pixels' values: (a, b) in the low half, (c, d) in the high. */
static ALWAYS_INLINE TARGET_AVX2 __m256
pairs4(const float *tab, unsigned va, unsigned vb, unsigned vc, unsigned vd)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(pairs(tab, va, vb)),
                                pairs(tab, vc, vd), 1);
}

/* score_row with AVX2: eight pixels at a time, then one step of four and the scalar
 * tail.  Each lane's float32 sums and >= tests are those of score_row; the DAB sum
 * of the scored pixels goes to four float64 lanes holding pixels x mod 4 = 0..3,
 * as score_row's two two-lane registers do (the same additions in the same order),
 * and is reduced as there, so the result is bit for bit score_row's. */
static ALWAYS_INLINE TARGET_AVX2 void
score_row_avx2(const float *restrict tab, const float t1, const float t2, const float t3,
               const float tt, const int tissue,
               const unsigned char *pp, const Py_ssize_t ps, const Py_ssize_t c1,
               const Py_ssize_t c2, const unsigned char *mp, const Py_ssize_t ms1,
               unsigned char *cp, const Py_ssize_t cs1, float *restrict drow,
               const Py_ssize_t w, long long n[4], double *sum)
{
    double s = 0.0;
    const __m256 T1 = _mm256_set1_ps(t1), T2 = _mm256_set1_ps(t2), T3 = _mm256_set1_ps(t3);
    const __m256 TT = _mm256_set1_ps(tt);
    const __m256i Z = _mm256_setzero_si256();
    const int packed = ps == 3 && c1 == 1;
    for (Py_ssize_t x0 = 0; x0 < w; x0 += FLUSH_PX) {
        const Py_ssize_t x1 = w - x0 < FLUSH_PX ? w : x0 + FLUSH_PX;
        Py_ssize_t x = x0;
        long long cnt[4] = {0, 0, 0, 0};
        __m256i a0 = Z, a1 = Z, a2 = Z, a3 = Z;              /* int32 lanes: -count */
        __m256d acc = _mm256_setzero_pd();                   /* pixels x mod 4 = 0..3 */
        for (; x + 8 <= x1; x += 8) {
            const unsigned char *q0 = pp + x * ps, *q1 = q0 + ps, *q2 = q1 + ps,
                                *q3 = q2 + ps, *q4 = q3 + ps, *q5 = q4 + ps,
                                *q6 = q5 + ps, *q7 = q6 + ps;
            __m256 va, vb, D;
            uint64_t mb;                      /* the eight mask bytes */
            if (ms1 == 1) {
                memcpy(&mb, mp + x, 8);
            } else if (ms1 == 0) {            /* one byte for all (no mask: 1) */
                mb = mp[0] ? 0x0101010101010101ull : 0;
            } else {
                mb = 0;
                for (int k = 0; k < 8; k++)
                    mb |= (uint64_t)(mp[(x + k) * ms1] != 0) << (8 * k);
            }
            if (mb == 0 && drow == NULL) {
                /* eight pixels outside the mask: code 0, no count; their DAB sum terms
                 * would be +0.0, which leaves the (never -0.0) float64 lanes as they are */
                if (cs1 == 1) {
                    memset(cp + x, 0, 8);
                } else {
                    for (int k = 0; k < 8; k++)
                        cp[(x + k) * cs1] = 0;
                }
                continue;
            }
            if (packed) {
            /* 24 contiguous bytes read as three 8-byte words, the values cut out of them */
            uint64_t w0, w1, w2;
            memcpy(&w0, q0, 8);
            memcpy(&w1, q0 + 8, 8);
            memcpy(&w2, q0 + 16, 8);
#define BY(wd, k) ((unsigned)((wd) >> (8 * (k))) & 255u)
            va = _mm256_add_ps(
                _mm256_add_ps(pairs4(tab, BY(w0, 0), BY(w0, 3), BY(w1, 4), BY(w1, 7)),
                              pairs4(tab + 512, BY(w0, 1), BY(w0, 4), BY(w1, 5), BY(w2, 0))),
                pairs4(tab + 1024, BY(w0, 2), BY(w0, 5), BY(w1, 6), BY(w2, 1)));
            vb = _mm256_add_ps(
                _mm256_add_ps(pairs4(tab, BY(w0, 6), BY(w1, 1), BY(w2, 2), BY(w2, 5)),
                              pairs4(tab + 512, BY(w0, 7), BY(w1, 2), BY(w2, 3), BY(w2, 6))),
                pairs4(tab + 1024, BY(w1, 0), BY(w1, 3), BY(w2, 4), BY(w2, 7)));
#undef BY
            } else {
            /* pixels (0, 1 | 4, 5) and (2, 3 | 6, 7): (R + G) + B per lane */
            va = _mm256_add_ps(
                _mm256_add_ps(pairs4(tab, q0[0], q1[0], q4[0], q5[0]),
                              pairs4(tab + 512, q0[c1], q1[c1], q4[c1], q5[c1])),
                pairs4(tab + 1024, q0[c2], q1[c2], q4[c2], q5[c2]));
            vb = _mm256_add_ps(
                _mm256_add_ps(pairs4(tab, q2[0], q3[0], q6[0], q7[0]),
                              pairs4(tab + 512, q2[c1], q3[c1], q6[c1], q7[c1])),
                pairs4(tab + 1024, q2[c2], q3[c2], q6[c2], q7[c2]));
            }
            D = _mm256_shuffle_ps(va, vb, _MM_SHUFFLE(2, 0, 2, 0));  /* d0..d7 */
            __m256 sc;
            __m256i g0, g1, g2, g3, code, p8;
            sc = _mm256_castsi256_ps(_mm256_cmpgt_epi32(
                _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mb)), Z));
            if (tissue) {
                const __m256 S = _mm256_shuffle_ps(va, vb, _MM_SHUFFLE(3, 1, 3, 1));
                sc = _mm256_and_ps(sc, _mm256_cmp_ps(S, TT, _CMP_GE_OQ));
            }
            g0 = _mm256_castps_si256(sc);
            g1 = _mm256_castps_si256(_mm256_and_ps(sc, _mm256_cmp_ps(D, T1, _CMP_GE_OQ)));
            g2 = _mm256_castps_si256(_mm256_and_ps(sc, _mm256_cmp_ps(D, T2, _CMP_GE_OQ)));
            g3 = _mm256_castps_si256(_mm256_and_ps(sc, _mm256_cmp_ps(D, T3, _CMP_GE_OQ)));
            a0 = _mm256_add_epi32(a0, g0);
            a1 = _mm256_add_epi32(a1, g1);
            a2 = _mm256_add_epi32(a2, g2);
            a3 = _mm256_add_epi32(a3, g3);
            code = _mm256_sub_epi32(Z, _mm256_add_epi32(_mm256_add_epi32(g0, g1),
                                                        _mm256_add_epi32(g2, g3)));
            code = _mm256_packs_epi32(code, code);               /* per half: c c c c c c c c */
            p8 = _mm256_packus_epi16(code, code);
            {
                const uint64_t word =
                    (uint64_t)(uint32_t)_mm_cvtsi128_si32(_mm256_castsi256_si128(p8))
                    | (uint64_t)(uint32_t)_mm_cvtsi128_si32(_mm256_extracti128_si256(p8, 1))
                          << 32;
                if (cs1 == 1) {
                    memcpy(cp + x, &word, 8);
                } else {
                    for (int k = 0; k < 8; k++)
                        cp[(x + k) * cs1] = (unsigned char)(word >> (8 * k));
                }
            }
            {
                const __m256 Dm = _mm256_and_ps(D, sc);   /* 0 where not scored */
                acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(Dm)));
                acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(Dm, 1)));
            }
            if (drow)
                _mm256_storeu_ps(drow + x, D);
        }
        if (x + 4 <= x1) {                    /* one step of four, as score_row's */
            __m128 D, sc;
            unsigned b0, b1, b2, b3;
            four_px(tab, pp, ps, c1, c2, mp, ms1, x, tissue, _mm256_castps256_ps128(TT), &D, &sc);
            b0 = (unsigned)_mm_movemask_ps(sc);
            b1 = b0 & (unsigned)_mm_movemask_ps(_mm_cmpge_ps(D, _mm256_castps256_ps128(T1)));
            b2 = b0 & (unsigned)_mm_movemask_ps(_mm_cmpge_ps(D, _mm256_castps256_ps128(T2)));
            b3 = b0 & (unsigned)_mm_movemask_ps(_mm_cmpge_ps(D, _mm256_castps256_ps128(T3)));
            cnt[0] += __builtin_popcount(b0);
            cnt[1] += __builtin_popcount(b1);
            cnt[2] += __builtin_popcount(b2);
            cnt[3] += __builtin_popcount(b3);
            for (int k = 0; k < 4; k++)
                cp[(x + k) * cs1] = (unsigned char)(((b0 >> k) & 1) + ((b1 >> k) & 1)
                                                    + ((b2 >> k) & 1) + ((b3 >> k) & 1));
            acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_and_ps(D, sc)));
            if (drow)
                _mm_storeu_ps(drow + x, D);
            x += 4;
        }
        {
            int32_t l[4][8];
            double sd[4];
            _mm256_storeu_si256((__m256i *)l[0], a0);
            _mm256_storeu_si256((__m256i *)l[1], a1);
            _mm256_storeu_si256((__m256i *)l[2], a2);
            _mm256_storeu_si256((__m256i *)l[3], a3);
            for (int k = 0; k < 4; k++) {
                long long t = 0;
                for (int i = 0; i < 8; i++)
                    t += l[k][i];
                cnt[k] -= t;
            }
            _mm256_storeu_pd(sd, acc);
            s += (sd[0] + sd[1]) + (sd[2] + sd[3]);
        }
        scalar_px(tab, t1, t2, t3, tt, tissue, pp, ps, c1, c2, mp, ms1, cp, cs1, drow,
                  x, x1, cnt, &s);   /* the row's tail, as score_row's */
        for (int k = 0; k < 4; k++)
            n[k] += cnt[k];
    }
    *sum += s;
}

/* The rows of run_job with score_row_avx2 (a separate function: its target is AVX2). */
static TARGET_AVX2 void
rows_avx2(const float *tab, float t1, float t2, float t3, float tt, int tissue,
          const unsigned char *pp, Py_ssize_t ps, Py_ssize_t c1, Py_ssize_t c2,
          const unsigned char *mp, Py_ssize_t ms1, unsigned char *cp, Py_ssize_t cs1,
          float *drow, Py_ssize_t w, long long n[4], double *sum)
{
    if (tissue)
        score_row_avx2(tab, t1, t2, t3, tt, 1, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w, n,
                       sum);
    else
        score_row_avx2(tab, t1, t2, t3, tt, 0, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w, n,
                       sum);
}
#endif

static const unsigned char ONE = 1;

/* The loop (no Python calls: runs without the GIL).  Everything it reads is
 * copied to locals first (a uint8 store may alias anything, so values read
 * through `j` would be reloaded after each one). */
static void
run_job(job_t *j)
{
    const float *tab = j->tab;
    const float t1 = j->thr[0], t2 = j->thr[1], t3 = j->thr[2], tt = j->tt;
    const int tissue = j->tissue;
    const int path = j->path;
    const Py_ssize_t h = j->h, w = j->w, nreg = j->nreg;
    const Py_ssize_t rs0 = j->rs0, ps = j->rs1, c1 = j->rs2, c2 = 2 * j->rs2;
    /* no mask: one byte of 1 with strides 0 */
    const char *mbuf = j->mask.buf ? j->mask.buf : (const char *)&ONE;
    const Py_ssize_t ms0 = j->mask.buf ? j->mask.s0 : 0;
    const Py_ssize_t ms1 = j->mexp ? 1 : (j->mask.buf ? j->mask.s1 : 0);
    const Py_ssize_t fy = j->fy, fx = j->fx, cs = j->mask.s1;
    unsigned char *const mexp = j->mexp;
    Py_ssize_t expanded = -1;           /* the coarse row now in mexp */
    char *const cbuf = j->cls.buf, *const dbuf = j->dab.buf;
    const Py_ssize_t cs0 = j->cls.s0, cs1 = j->cls.s1, ds0 = j->dab.s0, ds1 = j->dab.s1;
    float *const drow = j->drow;
    long long n[4] = {0, 0, 0, 0};
    double sum = 0.0;

    for (Py_ssize_t y = 0; y < h; y++) {
        const unsigned char *pp = (const unsigned char *)j->rgb + y * rs0;
        const unsigned char *mp;
        if (mexp) {                           /* coarse mask: each value for fx pixels */
            const Py_ssize_t cy = y / fy;
            if (cy != expanded) {
                const unsigned char *crow = (const unsigned char *)mbuf + cy * ms0;
                for (Py_ssize_t cx = 0; cx * fx < w; cx++) {
                    const Py_ssize_t n = w - cx * fx < fx ? w - cx * fx : fx;
                    memset(mexp + cx * fx, crow[cx * cs] != 0, (size_t)n);
                }
                expanded = cy;
            }
            mp = mexp;
        } else {
            mp = (const unsigned char *)mbuf + y * ms0;
        }
        unsigned char *cp = (unsigned char *)cbuf + y * cs0;
#ifdef HAVE_AVX2
        if (path == PATH_AVX2)
            rows_avx2(tab, t1, t2, t3, tt, tissue, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w,
                      n, &sum);
        else
#endif
        if (path == PATH_SSE2 && tissue)
            score_row(tab, t1, t2, t3, tt, 1, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w, n,
                      &sum, 1);
        else if (path == PATH_SSE2)
            score_row(tab, t1, t2, t3, tt, 0, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w, n,
                      &sum, 1);
        else if (tissue)
            score_row(tab, t1, t2, t3, tt, 1, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w, n,
                      &sum, 0);
        else
            score_row(tab, t1, t2, t3, tt, 0, pp, ps, c1, c2, mp, ms1, cp, cs1, drow, w, n,
                      &sum, 0);
        if (dbuf) {
            for (Py_ssize_t x = 0; x < w; x++)
                *(float *)(dbuf + y * ds0 + x * ds1) = drow[x];
        }
        for (Py_ssize_t k = 0; k < nreg; k++) {     /* the codes just written, in cache */
            const plane_t rp = j->reg[k];
            const unsigned char *rrow = (const unsigned char *)rp.buf + y * rp.s0;
            acc_t a = j->racc[k];
            for (Py_ssize_t x = 0; x < w; x++) {
                if (rrow[x * rp.s1]) {
                    const unsigned code = cp[x * cs1];
                    a.cnt[code]++;
                    a.dab += (double)(code ? drow[x] : 0.0f);
                }
            }
            j->racc[k] = a;
        }
    }
    /* codes from the counts: thresholds increase, so >= t3 implies >= t2 ... */
    j->whole.cnt[0] = (long long)h * w - n[0];
    j->whole.cnt[1] = n[0] - n[1];
    j->whole.cnt[2] = n[1] - n[2];
    j->whole.cnt[3] = n[2] - n[3];
    j->whole.cnt[4] = n[3];
    j->whole.dab = sum;
}

/* (counts of codes 0..4, DAB sum) of one accumulator as a Python tuple. */
static PyObject *
acc_result(const acc_t *a)
{
    return Py_BuildValue("(LLLLL)d", a->cnt[0], a->cnt[1], a->cnt[2], a->cnt[3], a->cnt[4],
                         a->dab);
}

PyDoc_STRVAR(score_doc,
"score(rgb, tables, tissue_threshold, mask, regions, thresholds, classes, dab_out)\n"
"--\n\n"
"Score uint8 RGB (rows, cols, 3) in one pass with the GIL released.\n\n"
"tables: float32 (3, 256, 2), per channel and value the DAB OD term and the\n"
"OD-sum term; tissue_threshold: None (no tissue test) or a float; mask: None\n"
"or bool/uint8 (rows, cols), or (coarse, fy, fx): pixel (y, x) takes\n"
"coarse[y // fy, x // fx]; regions: sequence of bool/uint8 (rows, cols)\n"
"masks; thresholds: 1 to 3 increasing floats; classes: writable uint8\n"
"(rows, cols); dab_out: None or writable float32 (rows, cols), filled for\n"
"every pixel.  Any strides.  Returns ((counts, dab_sum), [(counts, dab_sum)\n"
"per region]); counts: codes 0..4 (0: pixels not scored).");

static PyObject *
score(PyObject *self, PyObject *args)
{
    PyObject *rgb_o, *tab_o, *tt_o, *mask_o, *regs_o, *thr_o, *cls_o, *dab_o;
    Py_buffer rgb_v, mask_v, cls_v, dab_v;
    Py_buffer *reg_v = NULL;
    PyObject *regs_fast = NULL, *thr_fast = NULL, *out = NULL;
    int have_rgb = 0, have_mask = 0, have_cls = 0, have_dab = 0, nthr;
    Py_ssize_t nreg_got = 0;
    job_t *j = NULL;

    if (!PyArg_ParseTuple(args, "OOOOOOOO:score", &rgb_o, &tab_o, &tt_o, &mask_o, &regs_o,
                          &thr_o, &cls_o, &dab_o))
        return NULL;
    j = PyMem_Calloc(1, sizeof(job_t));
    if (j == NULL)
        return PyErr_NoMemory();

    /* the image */
    if (get_buffer(rgb_o, &rgb_v, 0, "rgb") < 0)
        goto done;
    have_rgb = 1;
    if (rgb_v.ndim != 3 || rgb_v.shape[2] != 3 || rgb_v.itemsize != 1
            || strcmp(bare_format(&rgb_v), "B") != 0) {
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
    if (read_tables(tab_o, j->tab) < 0)
        goto done;
    if (tt_o != Py_None) {
        double tt = PyFloat_AsDouble(tt_o);
        if (tt == -1.0 && PyErr_Occurred())
            goto done;
        j->tissue = 1;
        j->tt = (float)tt;
    }
    thr_fast = PySequence_Fast(thr_o, "thresholds: needs a sequence");
    if (thr_fast == NULL)
        goto done;
    nthr = (int)PySequence_Fast_GET_SIZE(thr_fast);
    if (nthr < 1 || nthr > 3) {
        PyErr_SetString(PyExc_ValueError, "thresholds: needs 1 to 3 values");
        goto done;
    }
    for (int k = 0; k < 3; k++) {
        double t = INFINITY;
        if (k < nthr) {
            t = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(thr_fast, k));
            if (t == -1.0 && PyErr_Occurred())
                goto done;
        }
        j->thr[k] = (float)t;
        if (!(j->thr[k] >= -TABLE_LIMIT) || (k && !(j->thr[k] >= j->thr[k - 1]))) {
            PyErr_SetString(PyExc_ValueError, "thresholds: needs increasing numbers");
            goto done;
        }
    }

    /* the masks */
    j->fy = j->fx = 1;
    if (mask_o != Py_None) {
        /* a mask of the image's shape, or (coarse, fy, fx): pixel (y, x) takes
         * coarse[y // fy, x // fx], coarse of shape (ceil(h / fy), ceil(w / fx)) */
        PyObject *plane = mask_o;
        if (PyTuple_Check(mask_o)) {
            if (!PyArg_ParseTuple(mask_o, "Onn;mask: needs (coarse, fy, fx)", &plane, &j->fy,
                                  &j->fx))
                goto done;
            if (j->fy < 1 || j->fx < 1) {
                PyErr_SetString(PyExc_ValueError, "mask: needs factors fy, fx >= 1");
                goto done;
            }
        }
        if (open_plane(plane, &mask_v, 0, (j->h + j->fy - 1) / j->fy,
                       (j->w + j->fx - 1) / j->fx, "?B", 1, "mask", &j->mask) < 0)
            goto done;
        have_mask = 1;
        if ((j->fy > 1 || j->fx > 1) && j->w > 0) {
            j->mexp = PyMem_Malloc((size_t)j->w);
            if (j->mexp == NULL) {
                PyErr_NoMemory();
                goto done;
            }
        }
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
        if (open_plane(PySequence_Fast_GET_ITEM(regs_fast, k), &reg_v[k], 0, j->h, j->w,
                       "?B", 1, "region", &j->reg[k]) < 0)
            goto done;
        nreg_got++;
    }

    /* the outputs */
    if (open_plane(cls_o, &cls_v, 1, j->h, j->w, "B", 1, "classes", &j->cls) < 0)
        goto done;
    have_cls = 1;
    if (dab_o != Py_None) {
        if (open_plane(dab_o, &dab_v, 1, j->h, j->w, "f", 4, "dab_out", &j->dab) < 0)
            goto done;
        have_dab = 1;
    }
    if ((j->nreg || j->dab.buf) && j->w > 0) {
        j->drow = PyMem_Malloc((size_t)j->w * sizeof(float));
        if (j->drow == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }

    j->path = path_now;
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
    PyMem_Free(j->drow);
    PyMem_Free(j->mexp);
    PyMem_Free(j);
    return out;
}

/* ---- PackBits (TIFF 6.0 section 9) for uint8 class-map tiles ---------------
 *
 * Each row is packed on its own (runs never cross rows, as TIFF asks).  A code
 * byte n in 0..127 is followed by n + 1 literal bytes; n in -127..-1 (129..255
 * as a byte) by one byte repeated 1 - n times (2..128); -128 is never written.
 * A literal stops where three equal bytes start; a repeat run starts where a
 * literal would (a run of two or more bytes).  Runs of equal bytes (what class maps are made of) are
 * measured eight bytes at a time.
 */

/* Length of the run of p[0] in p[0:n] (n >= 1): eight bytes at a time, the first
 * differing byte found from the XOR with the repeated value (byte order aware). */
static Py_ssize_t
run_length(const uint8_t *p, Py_ssize_t n)
{
    const uint8_t v = p[0];
    Py_ssize_t i = 1;
#if defined(__GNUC__) && defined(__BYTE_ORDER__)
    uint64_t pat, x;
    memset(&pat, v, sizeof pat);
    while (i + 8 <= n) {
        memcpy(&x, p + i, sizeof x);
        x ^= pat;
        if (x) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return i + (__builtin_ctzll(x) >> 3);
#else
            return i + (__builtin_clzll(x) >> 3);
#endif
        }
        i += 8;
    }
#endif
    while (i < n && p[i] == v)
        i++;
    return i;
}

/* Pack one row p[0:n] into out; the bytes written, at most n + n / 2 + 2 (the worst
 * case repeats "aab": a repeat of two and a literal of one, 4 bytes per 3). */
static Py_ssize_t
packbits_row(const uint8_t *p, Py_ssize_t n, uint8_t *out)
{
    uint8_t *o = out;
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t r = run_length(p + i, n - i);
        if (r >= 2) {
            while (r >= 2) {            /* repeat runs of at most 128 */
                Py_ssize_t k = r > 128 ? 128 : r;
                *o++ = (uint8_t)(257 - k);
                *o++ = p[i];
                i += k;
                r -= k;
            }
            continue;                   /* a left-over single byte starts a literal */
        }
        /* a literal: up to 128 bytes, ending before three equal bytes (a pair inside
         * a literal costs nothing there, and two bytes as a repeat run) */
        Py_ssize_t s = i, lim = (n - i) > 128 ? i + 128 : n;
        i++;
        while (i < lim && !(i + 2 < n && p[i] == p[i + 1] && p[i] == p[i + 2]))
            i++;
        *o++ = (uint8_t)(i - s - 1);
        memcpy(o, p + s, (size_t)(i - s));
        o += i - s;
    }
    return o - out;
}

PyDoc_STRVAR(packbits_doc,
"packbits(tile)\n"
"--\n\n"
"PackBits-encode uint8 (rows, cols) (or (cols,)) row by row with the GIL released.\n\n"
"Valid TIFF PackBits (literal runs of 1-128 bytes, repeat runs of 2-128, no\n"
"-128 code); the row stride may be anything, the column stride must be 1.\n"
"Returns bytes (empty for an empty tile).");

static PyObject *
packbits(PyObject *self, PyObject *arg)
{
    Py_buffer v;
    PyObject *out = NULL;
    Py_ssize_t rows, cols, rs, bound, nout = 0;

    if (get_buffer(arg, &v, 0, "tile") < 0)
        return NULL;
    if (v.itemsize != 1 || strcmp(bare_format(&v), "B") != 0 || v.ndim < 1 || v.ndim > 2) {
        PyErr_SetString(PyExc_ValueError, "tile: needs uint8 (rows, cols) or (cols,)");
        goto done;
    }
    rows = v.ndim == 2 ? v.shape[0] : 1;
    cols = v.shape[v.ndim - 1];
    rs = v.ndim == 2 ? v.strides[0] : 0;
    if (cols > 1 && v.strides[v.ndim - 1] != 1) {
        PyErr_SetString(PyExc_ValueError, "tile: the columns must be contiguous (stride 1)");
        goto done;
    }
    if (rows == 0 || cols == 0) {
        out = PyBytes_FromStringAndSize(NULL, 0);
        goto done;
    }
    if (cols > (PY_SSIZE_T_MAX / 4) / rows) {
        PyErr_SetString(PyExc_OverflowError, "tile: too large");
        goto done;
    }
    bound = rows * (cols + cols / 2 + 2);
    out = PyBytes_FromStringAndSize(NULL, bound);
    if (out == NULL)
        goto done;
    {
        uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(out);
        const char *src = v.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t r = 0; r < rows; r++)
            nout += packbits_row((const uint8_t *)(src + r * rs), cols, dst + nout);
        Py_END_ALLOW_THREADS
    }
    if (_PyBytes_Resize(&out, nout) < 0)
        out = NULL;
done:
    PyBuffer_Release(&v);
    return out;
}

PyDoc_STRVAR(simd_doc,
"simd(name=None)\n"
"--\n\n"
"The row loop score() uses: 'avx2', 'sse2' or 'scalar' (the same results).\n\n"
"With a name, use that loop from now on (in this process) and return the\n"
"previous name; ValueError if this build or CPU cannot run it.  The default is\n"
"the fastest available, or the environment variable BLOTQUANT_PIXEL_SIMD read\n"
"at import (a loop this CPU cannot run falls back to the fastest one it can).\n"
"simd_paths() lists the available loops.");

static int
path_index(const char *name)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, PATH_NAMES[k]) == 0)
            return k;
    return -1;
}

static PyObject *
simd(PyObject *self, PyObject *args)
{
    const char *name = NULL;
    int k, prev = path_now;
    if (!PyArg_ParseTuple(args, "|z:simd", &name))
        return NULL;
    if (name != NULL) {
        k = path_index(name);
        if (k < 0 || k > path_best) {
            PyErr_Format(PyExc_ValueError, "simd: %R is not available here (available: %s%s%s)",
                         PyTuple_GET_ITEM(args, 0), PATH_NAMES[0],
                         path_best >= PATH_SSE2 ? ", sse2" : "",
                         path_best >= PATH_AVX2 ? ", avx2" : "");
            return NULL;
        }
        path_now = k;
    }
    return PyUnicode_FromString(PATH_NAMES[prev]);
}

PyDoc_STRVAR(simd_paths_doc,
"simd_paths()\n"
"--\n\n"
"The row loops this build and CPU can run, slowest first.");

static PyObject *
simd_paths(PyObject *self, PyObject *unused)
{
    PyObject *t = PyTuple_New(path_best + 1);
    for (int k = 0; t != NULL && k <= path_best; k++) {
        PyObject *u = PyUnicode_FromString(PATH_NAMES[k]);
        if (u == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, u);
    }
    return t;
}

static PyMethodDef methods[] = {
    {"score", score, METH_VARARGS, score_doc},
    {"simd", simd, METH_VARARGS, simd_doc},
    {"simd_paths", simd_paths, METH_NOARGS, simd_paths_doc},
    {"packbits", packbits, METH_O, packbits_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pixelc",
    "The compiled single-pass loop of blotquant.ihc.pixels.PixelKernel, and a PackBits encoder.", -1, methods,
};

PyMODINIT_FUNC
PyInit__pixelc(void)
{
#ifdef HAVE_SSE2
    for (int i = 0; i < 16; i++)
        for (int k = 0; k < 4; k++)
            MASK_LUT[i][k] = (i >> k) & 1 ? -1 : 0;
    path_best = PATH_SSE2;
#endif
#ifdef HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        path_best = PATH_AVX2;
#endif
    path_now = path_best;
    {
        const char *env = getenv("BLOTQUANT_PIXEL_SIMD");
        const int k = env != NULL ? path_index(env) : -1;
        if (k >= 0 && k < path_best)
            path_now = k;
    }
    return PyModule_Create(&module);
}
