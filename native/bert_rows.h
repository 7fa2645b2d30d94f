/*
 * bert_rows.h: the row loops of the fused kernels, shared by the native addon
 * (native/bert_kernels.c, threads over rows) and the WebAssembly module of the
 * plain wasm backend (native/bert_wasm.c, one thread, SIMD128). Pure
 * arithmetic on float pointers: no allocation, no library calls but sqrtf,
 * logf and NAN, which the including file provides (math.h natively).
 * Each loop covers rows [lo, hi) and adds column sums into the partials it
 * is given, so a caller with threads gives each its own.
 */
#ifndef BERT_ROWS_H
#define BERT_ROWS_H
#include <stdint.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

/*
 * The elementwise loops, compiled for AVX-512 and AVX2 too where the compiler
 * can clone functions by target (GCC, Clang on glibc): the CPU picks its
 * version at load. (Elementwise maths gives the same bits at every width;
 * only the order of a reduction's partial sums depends on it.)
 */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef VECTOR_CLONES
#define VECTOR_CLONES
#endif

/*
 * AdamW over [lo, hi). Bias correction and decay off are c = 1 and keep = 1:
 * dividing or multiplying by exactly 1 changes no bit, so the loop needs no
 * branch (and vectorises) and still matches the op-by-op update.
 */
VECTOR_CLONES static void adam_w_range(const float *p, const float *g, const float *m,
                                       const float *v, float *p2, float *m2, float *v2,
                                       int64_t lo, int64_t hi, float gm, float gv, float beta1,
                                       float beta2, float c1, float c2, float eps, float keep,
                                       float lr) {
#pragma omp simd
  for (int64_t i = lo; i < hi; i++) {
    const float mi = m[i] * beta1 + g[i] * gm;
    const float vi = v[i] * beta2 + (g[i] * g[i]) * gv;
    m2[i] = mi;
    v2[i] = vi;
    const float update = (mi / c1) / (sqrtf(vi / c2) + eps);
    p2[i] = p[i] * keep - update * lr;
  }
}

/*
 * LayerNorm over rows [lo, hi): y = LayerNorm(x + res)·g + b (res NULL: no
 * residual), x̂ into xhat and 1/σ into rstd (rstd NULL: forward only, xhat may
 * then be y, used as the scratch row).
 */
VECTOR_CLONES static void layer_norm_rows(const float *x, const float *res, const float *g,
                                          const float *b, float *y, float *xhat, float *rstd,
                                          int64_t lo, int64_t hi, int64_t cols, float e) {
  for (int64_t i = lo; i < hi; i++) {
    const float *xi = x + i * cols;
    float *hi_row = xhat + i * cols, *yi = y + i * cols;
    /*
     * x̂ holds x + r first, then the normalised row. One loop per case: with
     * `res ? … : …` inside, gcc's AVX-512 clone loads res under a zero mask
     * when res is NULL, and those loads from page 0 cost the CPU an assist
     * each (the no-residual rows ran 4–7× slower than residual ones).
     */
    float sum = 0;
    if (res) {
      const float *ri = res + i * cols;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < cols; j++) {
        const float s = xi[j] + ri[j];
        hi_row[j] = s;
        sum += s;
      }
    } else {
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < cols; j++) {
        hi_row[j] = xi[j];
        sum += xi[j];
      }
    }
    const float mean = sum / (float)cols;
    float sq = 0;
#pragma omp simd reduction(+ : sq)
    for (int64_t j = 0; j < cols; j++) {
      const float c = hi_row[j] - mean;
      hi_row[j] = c;
      sq += c * c;
    }
    const float rs = 1.0f / sqrtf(sq / (float)cols + e);
    if (rstd) rstd[i] = rs;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) {
      const float h = hi_row[j] * rs;
      hi_row[j] = h;
      yi[j] = h * g[j] + b[j];
    }
  }
}

/*
 * LayerNorm's gradient over rows [lo, hi): dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))
 * with dx̂ = dy·g; Σ dy·x̂ added into pg and Σ dy into pb.
 */
VECTOR_CLONES static void layer_norm_grad_rows(const float *dy, const float *xhat,
                                               const float *rstd, const float *g, float *dx,
                                               float *pg, float *pb, int64_t lo, int64_t hi,
                                               int64_t cols) {
  for (int64_t i = lo; i < hi; i++) {
    const float *dyi = dy + i * cols, *hi_row = xhat + i * cols;
    float a = 0, c = 0;
#pragma omp simd reduction(+ : a, c)
    for (int64_t j = 0; j < cols; j++) {
      const float d = dyi[j] * g[j];
      a += d;
      c += d * hi_row[j];
      pg[j] += dyi[j] * hi_row[j];
      pb[j] += dyi[j];
    }
    a /= (float)cols;
    c /= (float)cols;
    const float rs = rstd[i];
    float *dxi = dx + i * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) dxi[j] = rs * (dyi[j] * g[j] - a - hi_row[j] * c);
  }
}

/* Σ x² over [lo, hi): float lanes over blocks of 1024 (vectorisable), each block added in double. */
VECTOR_CLONES static double sum_squares_range(const float *x, int64_t lo, int64_t hi) {
  double s = 0;
  for (int64_t i = lo; i < hi; i += 1024) {
    const int64_t end = i + 1024 < hi ? i + 1024 : hi;
    float block = 0;
#pragma omp simd reduction(+ : block)
    for (int64_t j = i; j < end; j++) block += x[j] * x[j];
    s += block;
  }
  return s;
}

/* Column sums of rows [lo, hi) of x [rows, cols], added into p [cols]. */
VECTOR_CLONES static void column_sums_rows(const float *x, float *p, int64_t lo, int64_t hi,
                                           int64_t cols) {
  for (int64_t i = lo; i < hi; i++) {
    const float *xi = x + i * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) p[j] += xi[j];
  }
}

static const float SQRT_HALF = 0.70710678118654752f, INV_SQRT_2PI = 0.39894228040143268f,
                   SQRT_2_OVER_PI = 0.79788456080286536f, GELU_CUBIC = 0.044715f;

/*
 * exp, erf and tanh as straight-line float arithmetic, so that the GELU loops
 * vectorise (libm's erff and expf are scalar calls):
 * exp(x) = 2^n · e^r with n = round(x / ln 2), r = x − n·ln 2 (ln 2 split in
 * a short high part and a correction, so n·ln2_hi is exact), |r| ≤ ln 2 / 2,
 * e^r by its Taylor series to r⁷ (truncation < 2e-8 relative);
 * erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7: GELU adds it
 * to 1, so its relative error stays ~1e-7); tanh(u) = 1 − 2 / (e^{2u} + 1).
 */
static inline float exp_f(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  /* Round to nearest by adding and removing 1.5·2²³ (no branch; needs no -ffast-math reassociation). */
  const float fn = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const int32_t n = (int32_t)fn;
  const float r = (x - fn * 0.693145751953125f) - fn * 1.428606765330187e-6f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  union {
    int32_t i;
    float f;
  } scale;
  scale.i = (n + 127) << 23;
  return p * scale.f;
}

/* erf(a) for a ≥ 0 by A&S 7.1.26, given e = exp(−a²). */
static inline float erf_nonnegative(float a, float e) {
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  return 1.0f - p * t * e;
}

static inline float erf_f(float x) {
  const float a = x < 0.0f ? -x : x;
  const float e = erf_nonnegative(a, exp_f(-a * a));
  return x < 0.0f ? -e : e;
}

static inline float tanh_f(float u) { return 1.0f - 2.0f / (exp_f(2.0f * u) + 1.0f); }
/* (The loops vectorise when compiled with -fno-trapping-math -fno-math-errno, as
   `bert setup native` does.) */

static inline float gelu_value(float x, int tanh_form) {
  if (tanh_form) return 0.5f * x * (1.0f + tanh_f(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
  return 0.5f * x * (1.0f + erf_f(x * SQRT_HALF));
}

static inline float gelu_slope(float x, int tanh_form) {
  if (tanh_form) {
    const float t = tanh_f(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
    return 0.5f * (1.0f + t) +
           0.5f * x * (1.0f - t * t) * SQRT_2_OVER_PI * (1.0f + 3.0f * GELU_CUBIC * x * x);
  }
  /* Φ(x) + x·φ(x); erf(x/√2)'s exp(−x²/2) is φ's, so one exp serves both. */
  const float e = exp_f(-0.5f * x * x);
  const float erf_abs = erf_nonnegative((x < 0.0f ? -x : x) * SQRT_HALF, e);
  return 0.5f * (1.0f + (x < 0.0f ? -erf_abs : erf_abs)) + x * INV_SQRT_2PI * e;
}


VECTOR_CLONES static void gelu_rows(const float *z, const float *b, float *y, int64_t lo,
                                    int64_t hi, int64_t cols, int tanh_form) {
  for (int64_t i = lo; i < hi; i++) {
    const float *zi = z + i * cols;
    float *yi = y + i * cols;
    if (tanh_form) {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) yi[j] = gelu_value(zi[j] + b[j], 1);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) yi[j] = gelu_value(zi[j] + b[j], 0);
    }
  }
}

/* dz = dy·GELU'(z + b) over rows [lo, hi); column sums of dz added into p. */
VECTOR_CLONES static void gelu_grad_rows(const float *dy, const float *z, const float *b,
                                         float *dz, float *p, int64_t lo, int64_t hi,
                                         int64_t cols, int tanh_form) {
  for (int64_t i = lo; i < hi; i++) {
    const float *dyi = dy + i * cols, *zi = z + i * cols;
    float *dzi = dz + i * cols;
    if (tanh_form) {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) {
        const float d = dyi[j] * gelu_slope(zi[j] + b[j], 1);
        dzi[j] = d;
        p[j] += d;
      }
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) {
        const float d = dyi[j] * gelu_slope(zi[j] + b[j], 0);
        dzi[j] = d;
        p[j] += d;
      }
    }
  }
}

#ifdef __wasm_simd128__
/* max(max, the four lanes of m), NaN lanes passed over. */
static inline float lanes_max(v128_t m, float max) {
  for (int lane = 0; lane < 4; lane++) {
    const float l = lane == 0   ? wasm_f32x4_extract_lane(m, 0)
                    : lane == 1 ? wasm_f32x4_extract_lane(m, 1)
                    : lane == 2 ? wasm_f32x4_extract_lane(m, 2)
                                : wasm_f32x4_extract_lane(m, 3);
    max = l > max ? l : max;
  }
  return max;
}
#endif

/*
 * max(start, x[0], …, x[n − 1]) with NaNs passed over (start not NaN). Under
 * WebAssembly SIMD128 four lanes at a time with pmax (clang does not vectorise
 * a float max reduction without -ffinite-math-only); the same result either way
 * (a max does not depend on the order).
 */
static inline float max_from(float start, const float *x, int64_t n) {
  float max = start;
  int64_t j = 0;
#ifdef __wasm_simd128__
  v128_t m = wasm_f32x4_splat(start);
  for (; j + 4 <= n; j += 4) m = wasm_f32x4_pmax(m, wasm_v128_load(x + j));
  max = lanes_max(m, max);
#else
#pragma omp simd reduction(max : max)
#endif
  for (int64_t i = j; i < n; i++) max = x[i] > max ? x[i] : max;
  return max;
}

/*
 * max_j (x[j] + b[j]) over a row (b NULL: max_j x[j], max_from), NaNs passed
 * over. One loop per case, as in layer_norm_rows: no masked loads from a NULL b.
 */
#ifdef __wasm__
__attribute__((noinline))
#endif
static float row_max(const float *x, const float *b, int64_t cols) {
  if (!b) return max_from(x[0], x, cols);
  float max = x[0] + b[0];
  int64_t j = 1;
#ifdef __wasm_simd128__
  if (cols >= 8) {
    v128_t m = wasm_f32x4_splat(max);
    for (j = 0; j + 4 <= cols; j += 4)
      m = wasm_f32x4_pmax(m, wasm_f32x4_add(wasm_v128_load(x + j), wasm_v128_load(b + j)));
    max = lanes_max(m, max);
  }
#endif
#pragma omp simd reduction(max : max)
  for (int64_t i = j; i < cols; i++) {
    const float v = x[i] + b[i];
    max = v > max ? v : max;
  }
  return max;
}

/*
 * ArgMax rows [lo, hi) of x [rows, cols] into out: the first index of the
 * row's max, NaNs passed over, 0 when x[0] is NaN (tfjs's ArgMax: a
 * left-to-right scan keeping the first strictly greater value). One pass in
 * blocks of ARGMAX_BLOCK, each block's max vectorised, remembering the first
 * block that raised the max; then the first match inside that block.
 */
#define ARGMAX_BLOCK 128
VECTOR_CLONES static void argmax_rows(const float *x, int32_t *out, int64_t lo, int64_t hi,
                                       int64_t cols) {
  for (int64_t i = lo; i < hi; i++) {
    const float *xi = x + i * cols;
    int64_t index = 0;
    if (xi[0] == xi[0]) {
      float max = xi[0];
      for (int64_t j0 = 0; j0 < cols; j0 += ARGMAX_BLOCK) {
        const float m = max_from(max, xi + j0, cols - j0 < ARGMAX_BLOCK ? cols - j0 : ARGMAX_BLOCK);
        if (m > max) {
          max = m;
          index = j0;
        }
      }
      while (!(xi[index] == max)) index++;
    }
    out[i] = (int32_t)index;
  }
}

/*
 * out[j] = exp(x[j] + b[j] − max) / Σ over one row (b NULL: x alone), max being
 * the row's max (row_max); returns Σ exp(x[j] + b[j] − max). Always inlined, so
 * a NULL b folds away at each caller. The exponentials, then their sum: clang
 * vectorises neither loop when they are one.
 */
static inline __attribute__((always_inline)) float softmax_row(const float *x, const float *b,
                                                               float max, float *out,
                                                               int64_t cols) {
  if (b) {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) out[j] = exp_f(x[j] + b[j] - max);
  } else {
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) out[j] = exp_f(x[j] - max);
  }
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < cols; j++) sum += out[j];
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < cols; j++) out[j] *= inv;
  return sum;
}

/*
 * Softmax cross-entropy rows [lo, hi): loss[i] = log Σ exp(x) − x[label], and
 * d[i] = softmax(x) − onehot(label) (d also holds exp(x − max) on the way).
 * A label outside [0, cols) gives a NaN loss and no one-hot.
 */
VECTOR_CLONES static void softmax_ce_rows(const float *x, const int32_t *labels, float *loss,
                                          float *d, int64_t lo, int64_t hi, int64_t cols) {
  for (int64_t i = lo; i < hi; i++) {
    const float *xi = x + i * cols;
    float *di = d + i * cols;
    const float max = row_max(xi, 0, cols);
    const float sum = softmax_row(xi, 0, max, di, cols);
    const int32_t label = labels[i];
    if (label >= 0 && label < cols) {
      loss[i] = max + logf(sum) - xi[label];
      di[label] -= 1.0f;
    } else {
      loss[i] = NAN;
    }
  }
}

/*
 * Attention probabilities over rows [lo, hi) of scores [rows, cols]:
 * soft = softmax(x + bias[row / group]) (bias: one [cols] row per sequence,
 * group = heads·T rows share it) and probs = soft·mask (the dropout keep-mask;
 * none: probs is not written).
 */
VECTOR_CLONES static void attention_softmax_rows(const float *x, const float *bias,
                                                 const float *mask, float *probs, float *soft,
                                                 int64_t lo, int64_t hi, int64_t cols,
                                                 int64_t group) {
  for (int64_t i = lo; i < hi; i++) {
    const float *xi = x + i * cols, *bi = bias + (i / group) * cols;
    float *si = soft + i * cols;
    softmax_row(xi, bi, row_max(xi, bi, cols), si, cols);
    if (mask) {
      const float *mi = mask + i * cols;
      float *pi = probs + i * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) pi[j] = si[j] * mi[j];
    }
  }
}

/* d scores = soft·(g − Σ g·soft) per row, g = d probs · mask (or d probs without a mask). */
VECTOR_CLONES static void attention_softmax_grad_rows(const float *dp, const float *soft,
                                                      const float *mask, float *dx, int64_t lo,
                                                      int64_t hi, int64_t cols) {
  for (int64_t i = lo; i < hi; i++) {
    const float *dpi = dp + i * cols, *si = soft + i * cols;
    float *dxi = dx + i * cols;
    if (mask) {
      const float *mi = mask + i * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) dxi[j] = dpi[j] * mi[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < cols; j++) dxi[j] = dpi[j];
    }
    float dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; j++) dot += dxi[j] * si[j];
#pragma omp simd
    for (int64_t j = 0; j < cols; j++) dxi[j] = si[j] * (dxi[j] - dot);
  }
}

#endif
