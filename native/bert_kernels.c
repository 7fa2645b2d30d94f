/*
 * bert_kernels: native kernels for the tfjs WASM backend (optional).
 *
 * tfjs-backend-wasm runs matMul through XNNPACK only untransposed with batch
 * 1 (~25 GFLOPS on one core); every transposed or batched product falls into
 * a scalar loop (~1.5 GFLOPS). This addon runs BatchMatMul with a native
 * SGEMM directly on the WASM heap (no copies): oneDNN's dnnl_sgemm (dispatches
 * on CPU features, OpenMP threads) or, failing that, any CBLAS (OpenBLAS).
 * The library is opened with dlopen at load time, so the addon builds with
 * nothing but Node's headers and a C compiler.
 *
 * JavaScript API (all sizes in elements, offsets in bytes into `heap`):
 *   load()                  -> "oneDNN 2.6.3" | "OpenBLAS" ...; throws if no SGEMM library is found
 *   setThreads(n)           -> threads the library will use
 *   batchMatMul(heap, aOff, bOff, cOff, batch, m, n, k, transA, transB, strideA, strideB)
 *       C[i] = op(A[i]) · op(B[i]) for i < batch, row-major; stride 0 broadcasts an operand.
 *   stridedMatMul(heap, aOff, bOff, cOff, outer, inner, m, n, k, transA, transB, alpha,
 *                 lda, ldb, ldc, aOuter, aInner, bOuter, bInner, cOuter, cInner)
 *       C_ij = alpha · op(A_ij) · op(B_ij) for i < outer, j < inner, each operand at its
 *       own offsets (i·xOuter + j·xInner floats) and leading dimension: attention's
 *       per-head products read and write heads inside [B·T, H] activations directly.
 *   denseBias(heap, xOff, wOff, bOff, yOff, rows, in, out, transW)
 *       y = x · w + b (transW: x · wᵀ + b) in one SGEMM (y's rows start as b, beta = 1).
 *   adamW(heap, pOff, gOff, mOff, vOff, gmOff, gvOff, outPOff, outMOff, outVOff, n,
 *         beta1, beta2, c1, c2, epsilon, keep, lr)
 *       one AdamW update in one pass, in float32 and in the same order as
 *       src/train/optimizer.ts's tfjs ops (so the same numbers): gm, gv are
 *       the scalar gradient coefficients; keep = 1 − lr·decay (1: no decay).
 *   keepMask(out: Float32Array, a, b, c, d, threshold, scale)
 *       dropout's scaled keep-mask from sfc32 state (a, b, c, d): exactly what
 *       src/model/dropout-mask.ts computes in JavaScript, ~10× faster.
 *
 * Fused elementwise kernels (src/model/kernels.ts declares them; their row
 * loops live in native/bert_rows.h, shared with the WebAssembly module of
 * native/bert_wasm.c; rows are
 * split over the OpenMP threads that setThreads sets, when the addon is
 * built with -fopenmp; column sums add per-thread partials in a fixed order,
 * so a thread count always gives the same numbers):
 *   layerNorm(heap, xOff, rOff, gOff, bOff, yOff, xhatOff, rstdOff, rows, cols, eps)
 *       y = LayerNorm(x + r)·g + b over each row (rOff < 0: no residual r);
 *       also writes x̂ [rows, cols] and 1/σ [rows] for the gradient (xhatOff and
 *       rstdOff both < 0: forward only, neither written).
 *   layerNormGrad(heap, dyOff, xhatOff, rstdOff, gOff, dxOff, dgOff, dbOff, rows, cols)
 *       dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·g; dg = Σ dy·x̂, db = Σ dy.
 *   biasGelu(heap, zOff, bOff, yOff, rows, cols, tanhForm)
 *       y = GELU(z + b), the erf form or (tanhForm) the tanh approximation.
 *   biasGeluGrad(heap, dyOff, zOff, bOff, dzOff, dbOff, rows, cols, tanhForm)
 *       dz = dy·GELU'(z + b); db = Σ dz over rows.
 *   sumSquares(heap, xOff, outOff, n)
 *       out[0] = Σ x² over n floats (float blocks of 1024 added in double).
 *   columnSums(heap, xOff, outOff, rows, cols)
 *       out[j] = Σ_i x[i, j]: a dense layer's bias gradient.
 *   argMax(heap, xOff, outOff, rows, cols)
 *       out[i] (int32) = the first index of row i's max, NaNs passed over.
 *   softmaxCrossEntropy(heap, logitsOff, labelsOff (int32), lossOff, dOff, rows, cols)
 *       loss = log Σ exp(logits) − logits[label] per row and d = softmax − onehot:
 *       src/model/kernels.ts's BertSparseSoftmaxCrossEntropy.
 *   attentionSoftmax(heap, xOff, biasOff, maskOff, probsOff, softOff, rows, cols, group)
 *       soft = softmax(x + bias[row / group]) per row, probs = soft·mask (maskOff < 0:
 *       no dropout, probs not written).
 *   attentionSoftmaxGrad(heap, dpOff, softOff, maskOff, dxOff, rows, cols)
 *       dx = soft·(g − Σ g·soft) per row with g = dp·mask (or dp).
 * adamW is split over the threads too (elementwise: the same numbers).
 */
#include <dlfcn.h>
#include <math.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "bert_rows.h"

typedef int (*dnnl_sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t,
                             const float *, int64_t, float, float *, int64_t);
typedef void (*cblas_sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                               const float *, int, float, float *, int);
typedef void (*set_threads_fn)(int);
typedef const struct { int major, minor, patch; } *(*dnnl_version_fn)(void);

static dnnl_sgemm_fn dnnl_sgemm = NULL;
static cblas_sgemm_fn cblas_sgemm = NULL;
static set_threads_fn set_threads = NULL;
static char library[128] = "";
/* Whether oneDNN 2.x runs its AVX2 SGEMM (no AVX-512): see transposed_product_pays. */
static int dnnl2_avx2 = 0;

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error(env, NULL, "bert_kernels: " #call " failed");                               \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

static int open_library(void) {
  static const char *dnnl_names[] = {"libdnnl.so.3", "libdnnl.so.2", "libdnnl.so", NULL};
  for (int i = 0; dnnl_names[i]; i++) {
    void *h = dlopen(dnnl_names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    dnnl_sgemm = (dnnl_sgemm_fn)dlsym(h, "dnnl_sgemm");
    if (!dnnl_sgemm) continue;
    set_threads = (set_threads_fn)dlsym(h, "omp_set_num_threads");
    dnnl_version_fn version = (dnnl_version_fn)dlsym(h, "dnnl_version");
    if (version) {
      snprintf(library, sizeof library, "oneDNN %d.%d.%d", version()->major, version()->minor,
               version()->patch);
      /* dnnl_cpu_isa_t: AVX2's bits 0x7 set, avx512_core's 0x20 not (ONEDNN_MAX_CPU_ISA caps it). */
      int (*isa)(void) = (int (*)(void))dlsym(h, "dnnl_get_effective_cpu_isa");
      const int bits = isa ? isa() : 0;
      dnnl2_avx2 = version()->major == 2 && (bits & 0x7) == 0x7 && !(bits & 0x20);
      if (dnnl2_avx2) strncat(library, " (AVX2)", sizeof library - strlen(library) - 1);
    } else {
      snprintf(library, sizeof library, "oneDNN (%s)", dnnl_names[i]);
    }
    return 1;
  }
  static const char *blas_names[] = {"libopenblas.so.0", "libopenblas.so", "libblis.so.4",
                                     "libcblas.so.3", NULL};
  for (int i = 0; blas_names[i]; i++) {
    void *h = dlopen(blas_names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    cblas_sgemm = (cblas_sgemm_fn)dlsym(h, "cblas_sgemm");
    if (!cblas_sgemm) continue;
    set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    snprintf(library, sizeof library, "CBLAS (%s)", blas_names[i]);
    return 1;
  }
  return 0;
}

static napi_value load(napi_env env, napi_callback_info info) {
  (void)info;
  if (!dnnl_sgemm && !cblas_sgemm && !open_library()) {
    napi_throw_error(env, NULL,
                     "no SGEMM library found (looked for libdnnl.so.2/3 — Debian: libdnnl2 — and "
                     "libopenblas.so.0)");
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_string_utf8(env, library, NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value set_thread_count(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &n));
  napi_value out;
  CHECK(napi_get_boolean(env, set_threads != NULL, &out));
  if (set_threads && n > 0) set_threads(n);
  return out;
}

/* Exactly `want` arguments, the first an ArrayBuffer (the WASM heap); 0 with a JS error thrown otherwise. */
static int heap_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                     const char *name, void **heap, size_t *heap_bytes) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want ||
      napi_get_arraybuffer_info(env, argv[0], heap, heap_bytes) != napi_ok) {
    char message[96];
    snprintf(message, sizeof message, "bert_kernels.%s: expected %zu arguments, the first the heap",
             name, want);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  return 1;
}

/* Whether `count` floats at byte offset `off` lie inside a heap of `heap_bytes`. */
static int in_heap(int64_t off, int64_t count, size_t heap_bytes) {
  return off >= 0 && count >= 0 && (uint64_t)(off + 4 * count) <= heap_bytes;
}

/*
 * One product C = alpha·op(A)·op(B) + beta·C on whichever SGEMM load() found,
 * every operand with its own leading dimension (so a head's columns inside a
 * [B·T, H] activation are a matrix without a transpose).
 */
static void sgemm_ld(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                     int64_t ldc) {
  if (dnnl_sgemm) {
    dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c,
               ldc);
  } else {
    cblas_sgemm(CBLAS_ROW_MAJOR, trans_a ? CBLAS_TRANS : CBLAS_NO_TRANS,
                trans_b ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k, alpha, a, (int)lda,
                b, (int)ldb, beta, c, (int)ldc);
  }
}

/*
 * Fewer elements than this run on the calling thread alone: a parallel region
 * costs a fork and a barrier, more than the work of a bias-sized tensor.
 */
#define PARALLEL_MIN 32768

/*
 * oneDNN 2.x's AVX2 SGEMM runs C = Aᵀ·B at about half speed when C is tall and
 * narrow: m 512–4096 rows, n ≤ 256 columns, as in the weight gradient xᵀ·dy of
 * a dense layer wider in than out (the feed-forward output). Cᵀ = Bᵀ·A, then
 * transposed back, measured 43 → 79 GFLOP/s on one thread and 81 → 134 on
 * two (m 1024, n 256, k 2048). With AVX-512 both orientations run alike, as
 * do wider C (n 512: the direct product is the faster) and the decoder's
 * [30522, H] gradient (k 320: no clear winner), so only these shapes.
 */
static int transposed_product_pays(int trans_a, int trans_b, int64_t m, int64_t n) {
  return dnnl2_avx2 && trans_a && !trans_b && n <= 256 && m >= 2 * n && m >= 512 && m <= 4096;
}

/* dst [rows, cols] = srcᵀ (src [cols, rows]), in 32×32 tiles over the threads. */
static void transpose_into(const float *src, float *dst, int64_t rows, int64_t cols) {
  const int64_t tile = 32, tiles = (rows + tile - 1) / tile;
#pragma omp parallel for schedule(static) if (rows * cols >= PARALLEL_MIN)
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t i0 = t * tile, i1 = i0 + tile < rows ? i0 + tile : rows;
    for (int64_t j0 = 0; j0 < cols; j0 += tile) {
      const int64_t j1 = j0 + tile < cols ? j0 + tile : cols;
      for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) dst[i * cols + j] = src[j * rows + i];
    }
  }
}

/* C [m, n] = op(A)·op(B) (ldc n), as Cᵀ = Bᵀ·A and a transpose where that pays (scratch permitting). */
static void product(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, const float *a,
                    int64_t lda, const float *b, int64_t ldb, float *c) {
  float *ct = transposed_product_pays(trans_a, trans_b, m, n)
                  ? (float *)malloc((size_t)(m * n) * sizeof(float))
                  : NULL;
  if (!ct) {
    sgemm_ld(trans_a, trans_b, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
    return;
  }
  sgemm_ld(1, 0, n, m, k, 1.0f, b, ldb, a, lda, 0.0f, ct, m);
  transpose_into(ct, c, m, n);
  free(ct);
}

static napi_value batch_mat_mul(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (!heap_args(env, info, 12, argv, "batchMatMul", &heap, &heap_bytes)) return NULL;
  int64_t v[11];
  for (int i = 0; i < 11; i++) {
    if (i == 7 || i == 8) continue;
    CHECK(napi_get_value_int64(env, argv[i + 1], &v[i]));
  }
  bool trans_a = false, trans_b = false;
  CHECK(napi_get_value_bool(env, argv[8], &trans_a));
  CHECK(napi_get_value_bool(env, argv[9], &trans_b));
  const int64_t a_off = v[0], b_off = v[1], c_off = v[2], batch = v[3], m = v[4], n = v[5],
                k = v[6], stride_a = v[9], stride_b = v[10];
  /* Bounds: every operand must lie inside the heap. */
  const int64_t a_elems = (batch - 1) * stride_a + m * k, b_elems = (batch - 1) * stride_b + k * n,
                c_elems = batch * m * n;
  if (batch < 1 || m < 0 || n < 0 || k < 0 || !in_heap(a_off, a_elems, heap_bytes) ||
      !in_heap(b_off, b_elems, heap_bytes) || !in_heap(c_off, c_elems, heap_bytes)) {
    napi_throw_range_error(env, NULL, "bert_kernels.batchMatMul: operand outside the heap");
    return NULL;
  }
  const float *a = (const float *)((char *)heap + a_off);
  const float *b = (const float *)((char *)heap + b_off);
  float *c = (float *)((char *)heap + c_off);
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  if (!dnnl_sgemm && !cblas_sgemm) {
    napi_throw_error(env, NULL, "bert_kernels: load() was not called");
    return NULL;
  }
  /*
   * A batch of small products (attention's heads: 128×128×64) goes over the
   * threads one product each, every dnnl_sgemm then on its own thread (oneDNN
   * runs sequentially inside a parallel region): one fork and barrier per
   * batch instead of one per product. OpenBLAS is not safe to nest, so only oneDNN.
   */
  if (dnnl_sgemm && batch > 1 && k > 0 && m * n * k <= (1 << 24)) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < batch; i++)
      sgemm_ld(trans_a, trans_b, m, n, k, 1.0f, a + i * stride_a, lda, b + i * stride_b, ldb, 0.0f,
               c + i * m * n, n);
    return NULL;
  }
  for (int64_t i = 0; i < batch; i++) {
    float *ci = c + i * m * n;
    if (k == 0) {
      memset(ci, 0, (size_t)(m * n) * sizeof(float));
    } else {
      product(trans_a, trans_b, m, n, k, a + i * stride_a, lda, b + i * stride_b, ldb, ci);
    }
  }
  return NULL;
}

/* This thread's share [*lo, *hi) of `rows` rows, and (thread, threads); one share without OpenMP. */
static void my_rows(int64_t rows, int64_t *lo, int64_t *hi, int *thread, int *threads) {
#ifdef _OPENMP
  *thread = omp_get_thread_num();
  *threads = omp_get_num_threads();
#else
  *thread = 0;
  *threads = 1;
#endif
  *lo = rows * *thread / *threads;
  *hi = rows * (*thread + 1) / *threads;
}



static napi_value adam_w(napi_env env, napi_callback_info info) {
  napi_value argv[18];
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (!heap_args(env, info, 18, argv, "adamW", &heap, &heap_bytes)) return NULL;
  int64_t off[10];
  for (int i = 0; i < 10; i++) CHECK(napi_get_value_int64(env, argv[i + 1], &off[i]));
  double h[7];
  for (int i = 0; i < 7; i++) CHECK(napi_get_value_double(env, argv[i + 11], &h[i]));
  const int64_t n = off[9];
  for (int i = 0; i < 9; i++) {
    if (!in_heap(off[i], (i == 4 || i == 5) ? 1 : n, heap_bytes)) {
      napi_throw_range_error(env, NULL, "bert_kernels.adamW: operand outside the heap");
      return NULL;
    }
  }
  char *base = (char *)heap;
  const float *p = (const float *)(base + off[0]), *g = (const float *)(base + off[1]);
  const float *m = (const float *)(base + off[2]), *v = (const float *)(base + off[3]);
  const float gm = *(const float *)(base + off[4]), gv = *(const float *)(base + off[5]);
  float *p2 = (float *)(base + off[6]), *m2 = (float *)(base + off[7]), *v2 = (float *)(base + off[8]);
  const float beta1 = (float)h[0], beta2 = (float)h[1], c1 = (float)h[2], c2 = (float)h[3],
              eps = (float)h[4], keep = (float)h[5], lr = (float)h[6];
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(n, &lo, &hi, &thread, &threads);
    adam_w_range(p, g, m, v, p2, m2, v2, lo, hi, gm, gv, beta1, beta2, c1, c2, eps, keep, lr);
  }
  return NULL;
}

static inline int32_t sfc32_next(uint32_t *s) {
  const uint32_t t = s[0] + s[1] + s[3];
  s[3] += 1;
  s[0] = s[1] ^ (s[1] >> 9);
  s[1] = s[2] + (s[2] << 3);
  s[2] = ((s[2] << 21) | (s[2] >> 11)) + t;
  return (int32_t)(t ^ 0x80000000u);
}

static napi_value keep_mask(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (argc != 7 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "bert_kernels.keepMask: expected (Float32Array, a, b, c, d, threshold, scale)");
    return NULL;
  }
  uint32_t s[4];
  int32_t threshold = 0;
  double scale = 0;
  for (int i = 0; i < 4; i++) {
    int32_t w = 0;
    CHECK(napi_get_value_int32(env, argv[i + 1], &w));
    s[i] = (uint32_t)w;
  }
  CHECK(napi_get_value_int32(env, argv[5], &threshold));
  CHECK(napi_get_value_double(env, argv[6], &scale));
  float *out = (float *)data;
  const float keep = (float)scale;
  for (int i = 0; i < 12; i++) sfc32_next(s); /* warm-up, as in JavaScript */
  for (size_t i = 0; i < length; i++) out[i] = sfc32_next(s) < threshold ? keep : 0.0f;
  return NULL;
}


/* argv[from .. from+count) as int64. */
static int get_i64s(napi_env env, napi_value *argv, int from, int count, int64_t *out) {
  for (int i = 0; i < count; i++)
    if (napi_get_value_int64(env, argv[from + i], &out[i]) != napi_ok) return 0;
  return 1;
}

#define ARGS_OR_THROW(name, want)                                                                  \
  napi_value argv[want];                                                                           \
  void *heap = NULL;                                                                               \
  size_t heap_bytes = 0;                                                                           \
  if (!heap_args(env, info, want, argv, name, &heap, &heap_bytes)) return NULL;                    \
  char *base = (char *)heap

#define RANGE_ERROR(name)                                                                          \
  do {                                                                                             \
    napi_throw_range_error(env, NULL, "bert_kernels." name ": operand outside the heap");          \
    return NULL;                                                                                   \
  } while (0)

static int max_threads(void) {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/* The last float a strided operand reaches, plus one: its extent from its offset. */
static int64_t strided_extent(int64_t outer, int64_t inner, int64_t so, int64_t si, int64_t rows,
                              int64_t cols, int64_t ld) {
  if (outer < 1 || inner < 1 || rows < 1 || cols < 1) return 0;
  return (outer - 1) * so + (inner - 1) * si + (rows - 1) * ld + cols;
}

/*
 * stridedMatMul(heap, aOff, bOff, cOff, outer, inner, m, n, k, transA, transB, alpha,
 *               lda, ldb, ldc, aOuter, aInner, bOuter, bInner, cOuter, cInner)
 * For i < outer, j < inner: C_ij = alpha·op(A_ij)·op(B_ij), A_ij at aOff + 4·(i·aOuter + j·aInner)
 * with leading dimension lda (likewise B, C). Products go one per thread (as batchMatMul's).
 */
static napi_value strided_mat_mul(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("stridedMatMul", 21);
  int64_t v[8], ld[3], st[6];
  bool trans_a = false, trans_b = false;
  double alpha = 1.0;
  if (!get_i64s(env, argv, 1, 8, v) || napi_get_value_bool(env, argv[9], &trans_a) != napi_ok ||
      napi_get_value_bool(env, argv[10], &trans_b) != napi_ok ||
      napi_get_value_double(env, argv[11], &alpha) != napi_ok || !get_i64s(env, argv, 12, 3, ld) ||
      !get_i64s(env, argv, 15, 6, st)) {
    napi_throw_type_error(env, NULL, "bert_kernels.stridedMatMul: bad arguments");
    return NULL;
  }
  const int64_t a_off = v[0], b_off = v[1], c_off = v[2], outer = v[3], inner = v[4], m = v[5],
                n = v[6], k = v[7];
  const int64_t ar = trans_a ? k : m, ac = trans_a ? m : k, br = trans_b ? n : k,
                bc = trans_b ? k : n;
  if (outer < 1 || inner < 1 || m < 1 || n < 1 || k < 1 || ld[0] < ac || ld[1] < bc ||
      ld[2] < n || st[0] < 0 || st[1] < 0 || st[2] < 0 || st[3] < 0 || st[4] < 0 || st[5] < 0) {
    napi_throw_range_error(env, NULL,
                           "bert_kernels.stridedMatMul: not a matrix layout (sizes >= 1, "
                           "leading dimensions >= the stored columns, strides >= 0)");
    return NULL;
  }
  if (!in_heap(a_off, strided_extent(outer, inner, st[0], st[1], ar, ac, ld[0]), heap_bytes) ||
      !in_heap(b_off, strided_extent(outer, inner, st[2], st[3], br, bc, ld[1]), heap_bytes) ||
      !in_heap(c_off, strided_extent(outer, inner, st[4], st[5], m, n, ld[2]), heap_bytes))
    RANGE_ERROR("stridedMatMul");
  if (!dnnl_sgemm && !cblas_sgemm) {
    napi_throw_error(env, NULL, "bert_kernels: load() was not called");
    return NULL;
  }
  const float *a = (const float *)(base + a_off), *b = (const float *)(base + b_off);
  float *c = (float *)(base + c_off);
  const int64_t count = outer * inner;
  const float al = (float)alpha;
  /* As batchMatMul: small products one per thread (oneDNN only: OpenBLAS does not nest). */
  const int one_per_thread = dnnl_sgemm && count > 1 && m * n * k <= (1 << 24);
#pragma omp parallel for schedule(static) if (one_per_thread)
  for (int64_t p = 0; p < count; p++) {
    const int64_t i = p / inner, j = p % inner;
    sgemm_ld(trans_a, trans_b, m, n, k, al, a + i * st[0] + j * st[1], ld[0],
             b + i * st[2] + j * st[3], ld[1], 0.0f, c + i * st[4] + j * st[5], ld[2]);
  }
  return NULL;
}

/*
 * denseBias(heap, xOff, wOff, bOff, yOff, rows, in, out, transW)
 * y = x·w + b: x [rows, in], w [in, out] (transW: w [out, in], y = x·wᵀ + b), b [out];
 * y's rows start as b (split over the threads) and the SGEMM adds x·w to them (beta = 1).
 */
static napi_value dense_bias(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("denseBias", 9);
  int64_t v[7];
  bool trans_w = false;
  if (!get_i64s(env, argv, 1, 7, v) || napi_get_value_bool(env, argv[8], &trans_w) != napi_ok) {
    napi_throw_type_error(env, NULL, "bert_kernels.denseBias: bad arguments");
    return NULL;
  }
  const int64_t rows = v[4], in = v[5], out = v[6];
  if (rows < 1 || in < 1 || out < 1 || !in_heap(v[0], rows * in, heap_bytes) ||
      !in_heap(v[1], in * out, heap_bytes) || !in_heap(v[2], out, heap_bytes) ||
      !in_heap(v[3], rows * out, heap_bytes))
    RANGE_ERROR("denseBias");
  if (!dnnl_sgemm && !cblas_sgemm) {
    napi_throw_error(env, NULL, "bert_kernels: load() was not called");
    return NULL;
  }
  const float *x = (const float *)(base + v[0]), *w = (const float *)(base + v[1]),
              *b = (const float *)(base + v[2]);
  float *y = (float *)(base + v[3]);
#pragma omp parallel if (rows * out >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    for (int64_t i = lo; i < hi; i++) memcpy(y + i * out, b, (size_t)out * sizeof(float));
  }
  sgemm_ld(0, trans_w, rows, out, in, 1.0f, x, in, w, trans_w ? in : out, 1.0f, y, out);
  return NULL;
}

static napi_value layer_norm(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("layerNorm", 11);
  int64_t v[10];
  double eps = 0;
  if (!get_i64s(env, argv, 1, 9, v) || napi_get_value_double(env, argv[10], &eps) != napi_ok) {
    napi_throw_type_error(env, NULL, "bert_kernels.layerNorm: expected numbers");
    return NULL;
  }
  const int64_t x_off = v[0], r_off = v[1], g_off = v[2], b_off = v[3], y_off = v[4],
                xhat_off = v[5], rstd_off = v[6], rows = v[7], cols = v[8];
  const int64_t n = rows * cols;
  /* Forward only (xhatOff and rstdOff both < 0): y is the scratch row and no statistics are kept. */
  const int stats = xhat_off >= 0 || rstd_off >= 0;
  if (rows < 0 || cols < 1 || !in_heap(x_off, n, heap_bytes) ||
      (r_off >= 0 && !in_heap(r_off, n, heap_bytes)) || !in_heap(g_off, cols, heap_bytes) ||
      !in_heap(b_off, cols, heap_bytes) || !in_heap(y_off, n, heap_bytes) ||
      (stats && (!in_heap(xhat_off, n, heap_bytes) || !in_heap(rstd_off, rows, heap_bytes))))
    RANGE_ERROR("layerNorm");
  const float *x = (const float *)(base + x_off);
  const float *res = r_off >= 0 ? (const float *)(base + r_off) : NULL;
  const float *g = (const float *)(base + g_off), *b = (const float *)(base + b_off);
  float *y = (float *)(base + y_off), *xhat = stats ? (float *)(base + xhat_off) : y;
  float *rstd = stats ? (float *)(base + rstd_off) : NULL;
  const float e = (float)eps;
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    layer_norm_rows(x, res, g, b, y, xhat, rstd, lo, hi, cols, e);
  }
  return NULL;
}

/* Column sums of per-thread partials [threads][width], in thread order, into out[width]. */
static void add_partials(const float *partials, int threads, int64_t width, float *out) {
  for (int64_t j = 0; j < width; j++) {
    float s = 0;
    for (int t = 0; t < threads; t++) s += partials[(int64_t)t * width + j];
    out[j] = s;
  }
}

/*
 * Rows [0, rows) over the threads, each adding the column sums of its share
 * into its own partials [cols] through part(ctx, partials, lo, hi); then out
 * = the partials added in thread order (a thread count always gives the same
 * numbers). 0 when out of memory.
 */
typedef void (*rows_part_fn)(const void *ctx, float *partials, int64_t lo, int64_t hi);

static int column_partials(int64_t rows, int64_t cols, rows_part_fn part, const void *ctx,
                           float *out) {
  const int most = max_threads();
  float *partials = calloc((size_t)most * (size_t)cols, sizeof(float));
  if (!partials) return 0;
  int used = 1;
#pragma omp parallel num_threads(most) if (rows * cols >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    if (thread == 0) used = threads;
    part(ctx, partials + (int64_t)thread * cols, lo, hi);
  }
  add_partials(partials, used, cols, out);
  free(partials);
  return 1;
}

struct gelu_grad_args {
  const float *dy, *z, *b;
  float *dz;
  int64_t cols;
  int tanh_form;
};

static void gelu_grad_part(const void *ctx, float *partials, int64_t lo, int64_t hi) {
  const struct gelu_grad_args *a = ctx;
  gelu_grad_rows(a->dy, a->z, a->b, a->dz, partials, lo, hi, a->cols, a->tanh_form);
}

struct column_sums_args {
  const float *x;
  int64_t cols;
};

static void column_sums_part(const void *ctx, float *partials, int64_t lo, int64_t hi) {
  const struct column_sums_args *a = ctx;
  column_sums_rows(a->x, partials, lo, hi, a->cols);
}

static napi_value layer_norm_grad(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("layerNormGrad", 10);
  int64_t v[9];
  if (!get_i64s(env, argv, 1, 9, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.layerNormGrad: expected numbers");
    return NULL;
  }
  const int64_t dy_off = v[0], xhat_off = v[1], rstd_off = v[2], g_off = v[3], dx_off = v[4],
                dg_off = v[5], db_off = v[6], rows = v[7], cols = v[8];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(dy_off, n, heap_bytes) ||
      !in_heap(xhat_off, n, heap_bytes) || !in_heap(rstd_off, rows, heap_bytes) ||
      !in_heap(g_off, cols, heap_bytes) || !in_heap(dx_off, n, heap_bytes) ||
      !in_heap(dg_off, cols, heap_bytes) || !in_heap(db_off, cols, heap_bytes))
    RANGE_ERROR("layerNormGrad");
  const float *dy = (const float *)(base + dy_off), *xhat = (const float *)(base + xhat_off);
  const float *rstd = (const float *)(base + rstd_off), *g = (const float *)(base + g_off);
  float *dx = (float *)(base + dx_off);
  float *dg = (float *)(base + dg_off), *db = (float *)(base + db_off);
  const int most = max_threads();
  /* Per thread: Σ dy·x̂ in the first `cols`, Σ dy in the next. */
  float *partials = calloc((size_t)most * 2 * (size_t)cols, sizeof(float));
  if (!partials) {
    napi_throw_error(env, NULL, "bert_kernels.layerNormGrad: out of memory");
    return NULL;
  }
  int used = 1;
#pragma omp parallel num_threads(most) if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    if (thread == 0) used = threads;
    float *pg = partials + (int64_t)thread * 2 * cols, *pb = pg + cols;
    layer_norm_grad_rows(dy, xhat, rstd, g, dx, pg, pb, lo, hi, cols);
  }
  /* Interleaved [thread][dg | db] partials: sum each half. */
  for (int64_t j = 0; j < cols; j++) {
    float sg = 0, sb = 0;
    for (int t = 0; t < used; t++) {
      sg += partials[(int64_t)t * 2 * cols + j];
      sb += partials[(int64_t)t * 2 * cols + cols + j];
    }
    dg[j] = sg;
    db[j] = sb;
  }
  free(partials);
  return NULL;
}


static napi_value bias_gelu(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("biasGelu", 7);
  int64_t v[5];
  bool tanh_form = false;
  if (!get_i64s(env, argv, 1, 5, v) || napi_get_value_bool(env, argv[6], &tanh_form) != napi_ok) {
    napi_throw_type_error(env, NULL, "bert_kernels.biasGelu: expected numbers and a boolean");
    return NULL;
  }
  const int64_t z_off = v[0], b_off = v[1], y_off = v[2], rows = v[3], cols = v[4];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(z_off, n, heap_bytes) || !in_heap(b_off, cols, heap_bytes) ||
      !in_heap(y_off, n, heap_bytes))
    RANGE_ERROR("biasGelu");
  const float *z = (const float *)(base + z_off), *b = (const float *)(base + b_off);
  float *y = (float *)(base + y_off);
  const int tf = tanh_form;
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    gelu_rows(z, b, y, lo, hi, cols, tf);
  }
  return NULL;
}

static napi_value bias_gelu_grad(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("biasGeluGrad", 9);
  int64_t v[7];
  bool tanh_form = false;
  if (!get_i64s(env, argv, 1, 7, v) || napi_get_value_bool(env, argv[8], &tanh_form) != napi_ok) {
    napi_throw_type_error(env, NULL, "bert_kernels.biasGeluGrad: expected numbers and a boolean");
    return NULL;
  }
  const int64_t dy_off = v[0], z_off = v[1], b_off = v[2], dz_off = v[3], db_off = v[4],
                rows = v[5], cols = v[6];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(dy_off, n, heap_bytes) || !in_heap(z_off, n, heap_bytes) ||
      !in_heap(b_off, cols, heap_bytes) || !in_heap(dz_off, n, heap_bytes) ||
      !in_heap(db_off, cols, heap_bytes))
    RANGE_ERROR("biasGeluGrad");
  const float *dy = (const float *)(base + dy_off), *z = (const float *)(base + z_off);
  const float *b = (const float *)(base + b_off);
  float *dz = (float *)(base + dz_off), *db = (float *)(base + db_off);
  struct gelu_grad_args args = {dy, z, b, dz, cols, tanh_form};
  if (!column_partials(rows, cols, gelu_grad_part, &args, db)) {
    napi_throw_error(env, NULL, "bert_kernels.biasGeluGrad: out of memory");
    return NULL;
  }
  return NULL;
}

static napi_value sum_squares(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("sumSquares", 4);
  int64_t v[3];
  if (!get_i64s(env, argv, 1, 3, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.sumSquares: expected numbers");
    return NULL;
  }
  const int64_t x_off = v[0], out_off = v[1], n = v[2];
  if (n < 0 || !in_heap(x_off, n, heap_bytes) || !in_heap(out_off, 1, heap_bytes))
    RANGE_ERROR("sumSquares");
  const float *x = (const float *)(base + x_off);
  double partial[256] = {0};
  int used = 1;
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(n, &lo, &hi, &thread, &threads);
    if (thread == 0) used = threads;
    const double s = sum_squares_range(x, lo, hi);
    if (thread < 256) partial[thread] = s;
  }
  double total = 0;
  for (int t = 0; t < used && t < 256; t++) total += partial[t];
  *(float *)(base + out_off) = (float)total;
  return NULL;
}


static napi_value column_sums(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("columnSums", 5);
  int64_t v[4];
  if (!get_i64s(env, argv, 1, 4, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.columnSums: expected numbers");
    return NULL;
  }
  const int64_t x_off = v[0], out_off = v[1], rows = v[2], cols = v[3];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(x_off, n, heap_bytes) || !in_heap(out_off, cols, heap_bytes))
    RANGE_ERROR("columnSums");
  const struct column_sums_args args = {(const float *)(base + x_off), cols};
  if (!column_partials(rows, cols, column_sums_part, &args, (float *)(base + out_off))) {
    napi_throw_error(env, NULL, "bert_kernels.columnSums: out of memory");
    return NULL;
  }
  return NULL;
}

static napi_value arg_max(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("argMax", 5);
  int64_t v[4];
  if (!get_i64s(env, argv, 1, 4, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.argMax: expected numbers");
    return NULL;
  }
  const int64_t x_off = v[0], out_off = v[1], rows = v[2], cols = v[3];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(x_off, n, heap_bytes) || !in_heap(out_off, rows, heap_bytes))
    RANGE_ERROR("argMax");
  const float *x = (const float *)(base + x_off);
  int32_t *out = (int32_t *)(base + out_off);
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    argmax_rows(x, out, lo, hi, cols);
  }
  return NULL;
}

static napi_value softmax_cross_entropy(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("softmaxCrossEntropy", 7);
  int64_t v[6];
  if (!get_i64s(env, argv, 1, 6, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.softmaxCrossEntropy: expected numbers");
    return NULL;
  }
  const int64_t x_off = v[0], labels_off = v[1], loss_off = v[2], d_off = v[3], rows = v[4],
                cols = v[5];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(x_off, n, heap_bytes) ||
      !in_heap(labels_off, rows, heap_bytes) || !in_heap(loss_off, rows, heap_bytes) ||
      !in_heap(d_off, n, heap_bytes))
    RANGE_ERROR("softmaxCrossEntropy");
  const float *x = (const float *)(base + x_off);
  const int32_t *labels = (const int32_t *)(base + labels_off);
  float *loss = (float *)(base + loss_off), *d = (float *)(base + d_off);
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    softmax_ce_rows(x, labels, loss, d, lo, hi, cols);
  }
  return NULL;
}


static napi_value attention_softmax(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("attentionSoftmax", 9);
  int64_t v[8];
  if (!get_i64s(env, argv, 1, 8, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.attentionSoftmax: expected numbers");
    return NULL;
  }
  const int64_t x_off = v[0], bias_off = v[1], mask_off = v[2], probs_off = v[3], soft_off = v[4],
                rows = v[5], cols = v[6], group = v[7];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || group < 1 || !in_heap(x_off, n, heap_bytes) ||
      !in_heap(bias_off, ((rows + group - 1) / group) * cols, heap_bytes) ||
      (mask_off >= 0 && (!in_heap(mask_off, n, heap_bytes) || !in_heap(probs_off, n, heap_bytes))) ||
      !in_heap(soft_off, n, heap_bytes))
    RANGE_ERROR("attentionSoftmax");
  const float *x = (const float *)(base + x_off), *bias = (const float *)(base + bias_off);
  const float *mask = mask_off >= 0 ? (const float *)(base + mask_off) : NULL;
  float *probs = mask ? (float *)(base + probs_off) : NULL, *soft = (float *)(base + soft_off);
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    attention_softmax_rows(x, bias, mask, probs, soft, lo, hi, cols, group);
  }
  return NULL;
}

static napi_value attention_softmax_grad(napi_env env, napi_callback_info info) {
  ARGS_OR_THROW("attentionSoftmaxGrad", 7);
  int64_t v[6];
  if (!get_i64s(env, argv, 1, 6, v)) {
    napi_throw_type_error(env, NULL, "bert_kernels.attentionSoftmaxGrad: expected numbers");
    return NULL;
  }
  const int64_t dp_off = v[0], soft_off = v[1], mask_off = v[2], dx_off = v[3], rows = v[4],
                cols = v[5];
  const int64_t n = rows * cols;
  if (rows < 0 || cols < 1 || !in_heap(dp_off, n, heap_bytes) ||
      !in_heap(soft_off, n, heap_bytes) || (mask_off >= 0 && !in_heap(mask_off, n, heap_bytes)) ||
      !in_heap(dx_off, n, heap_bytes))
    RANGE_ERROR("attentionSoftmaxGrad");
  const float *dp = (const float *)(base + dp_off), *soft = (const float *)(base + soft_off);
  const float *mask = mask_off >= 0 ? (const float *)(base + mask_off) : NULL;
  float *dx = (float *)(base + dx_off);
#pragma omp parallel if (n >= PARALLEL_MIN)
  {
    int64_t lo, hi;
    int thread, threads;
    my_rows(rows, &lo, &hi, &thread, &threads);
    attention_softmax_grad_rows(dp, soft, mask, dx, lo, hi, cols);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_thread_count, NULL, NULL, NULL, napi_default, NULL},
      {"batchMatMul", NULL, batch_mat_mul, NULL, NULL, NULL, napi_default, NULL},
      {"stridedMatMul", NULL, strided_mat_mul, NULL, NULL, NULL, napi_default, NULL},
      {"denseBias", NULL, dense_bias, NULL, NULL, NULL, napi_default, NULL},
      {"keepMask", NULL, keep_mask, NULL, NULL, NULL, napi_default, NULL},
      {"adamW", NULL, adam_w, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, layer_norm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"biasGelu", NULL, bias_gelu, NULL, NULL, NULL, napi_default, NULL},
      {"biasGeluGrad", NULL, bias_gelu_grad, NULL, NULL, NULL, napi_default, NULL},
      {"sumSquares", NULL, sum_squares, NULL, NULL, NULL, napi_default, NULL},
      {"columnSums", NULL, column_sums, NULL, NULL, NULL, napi_default, NULL},
      {"argMax", NULL, arg_max, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxCrossEntropy", NULL, softmax_cross_entropy, NULL, NULL, NULL, napi_default, NULL},
      {"attentionSoftmax", NULL, attention_softmax, NULL, NULL, NULL, napi_default, NULL},
      {"attentionSoftmaxGrad", NULL, attention_softmax_grad, NULL, NULL, NULL, napi_default,
       NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
