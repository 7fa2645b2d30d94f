/*
 * bert_wasm: the wasm backend's kernels as a WebAssembly module, for users
 * without `bert setup native`: the fused kernels of native/bert_rows.h and a
 * blocked matrix product. It imports tfjs-backend-wasm's own memory, so
 * every kernel reads and writes tensors in place on the WASM heap, as the
 * native addon does; single-threaded, with SIMD128 (the row loops vectorise
 * as they do natively, four lanes at a time).
 *
 * Built by `npm run build:wasm` (scripts/build-wasm.js: clang with the
 * wasm32 target and wasm-ld, Debian's clang and lld) into
 * native/bert_kernels.wasm, which the package ships: a user needs no
 * compiler. The module has no data, no stack and no globals of its own (the
 * build checks), so sharing tfjs's memory can clobber nothing.
 *
 * Exports (offsets in bytes into the WASM heap as unsigned 32-bit integers,
 * 0xFFFFFFFF (-1 from JavaScript) for an absent operand; sizes in elements):
 *   adam_w(p, g, m, v, gm, gv, p2, m2, v2, n, beta1, beta2, c1, c2, eps, keep, lr)
 *   layer_norm(x, r, g, b, y, xhat, rstd, rows, cols, eps)
 *   layer_norm_grad(dy, xhat, rstd, g, dx, dg, db, rows, cols)
 *   bias_gelu(z, b, y, rows, cols, tanh_form)
 *   bias_gelu_grad(dy, z, b, dz, db, rows, cols, tanh_form)
 *   sum_squares(x, out, n)
 *   column_sums(x, out, rows, cols)
 *   arg_max(x, out, rows, cols)
 *   softmax_cross_entropy(logits, labels, loss, d, rows, cols)
 *   attention_softmax(x, bias, mask, probs, soft, rows, cols, group)
 *   attention_softmax_grad(dp, soft, mask, dx, rows, cols)
 * with the meaning of the native addon's functions of the same names
 * (native/bert_kernels.c), and the product behind the module's batchMatMul,
 * stridedMatMul and denseBias (src/backend/wasm-module.ts):
 *   mat_mul(a, b, c, bias, scratch, m, n, k, trans_a, trans_b, lda, ldb, ldc, alpha)
 *   mat_mul_scratch() -> the floats of scratch mat_mul needs
 * (described where it is defined).
 */
#include <stdint.h>

/* The one library function the row loops call that WebAssembly lacks: Math.log, imported. */
__attribute__((import_module("env"), import_name("log"))) double host_log(double);
#define sqrtf __builtin_sqrtf
#define logf(x) ((float)host_log((double)(x)))
#define NAN __builtin_nanf("")

#include "bert_rows.h"

#define EXPORT(name) __attribute__((export_name(#name)))
#define ABSENT 0xFFFFFFFFu

typedef uint32_t off_t32;

static inline float *at(off_t32 off) { return off == ABSENT ? 0 : (float *)(uintptr_t)off; }

static void zero(float *p, int32_t n) {
  for (int32_t i = 0; i < n; i++) p[i] = 0;
}

EXPORT(adam_w)
void adam_w(off_t32 p, off_t32 g, off_t32 m, off_t32 v, off_t32 gm, off_t32 gv, off_t32 p2,
            off_t32 m2, off_t32 v2, int32_t n, float beta1, float beta2, float c1, float c2,
            float eps, float keep, float lr) {
  adam_w_range(at(p), at(g), at(m), at(v), at(p2), at(m2), at(v2), 0, n, *at(gm), *at(gv), beta1,
               beta2, c1, c2, eps, keep, lr);
}

EXPORT(layer_norm)
void layer_norm(off_t32 x, off_t32 r, off_t32 g, off_t32 b, off_t32 y, off_t32 xhat, off_t32 rstd,
                int32_t rows, int32_t cols, float eps) {
  float *xh = at(xhat);
  layer_norm_rows(at(x), at(r), at(g), at(b), at(y), xh ? xh : at(y), at(rstd), 0, rows, cols,
                  eps);
}

EXPORT(layer_norm_grad)
void layer_norm_grad(off_t32 dy, off_t32 xhat, off_t32 rstd, off_t32 g, off_t32 dx, off_t32 dg,
                     off_t32 db, int32_t rows, int32_t cols) {
  zero(at(dg), cols);
  zero(at(db), cols);
  layer_norm_grad_rows(at(dy), at(xhat), at(rstd), at(g), at(dx), at(dg), at(db), 0, rows, cols);
}

EXPORT(bias_gelu)
void bias_gelu(off_t32 z, off_t32 b, off_t32 y, int32_t rows, int32_t cols, int32_t tanh_form) {
  gelu_rows(at(z), at(b), at(y), 0, rows, cols, tanh_form);
}

EXPORT(bias_gelu_grad)
void bias_gelu_grad(off_t32 dy, off_t32 z, off_t32 b, off_t32 dz, off_t32 db, int32_t rows,
                    int32_t cols, int32_t tanh_form) {
  zero(at(db), cols);
  gelu_grad_rows(at(dy), at(z), at(b), at(dz), at(db), 0, rows, cols, tanh_form);
}

EXPORT(sum_squares)
void sum_squares(off_t32 x, off_t32 out, int32_t n) { *at(out) = (float)sum_squares_range(at(x), 0, n); }

EXPORT(column_sums)
void column_sums(off_t32 x, off_t32 out, int32_t rows, int32_t cols) {
  zero(at(out), cols);
  column_sums_rows(at(x), at(out), 0, rows, cols);
}

EXPORT(arg_max)
void arg_max(off_t32 x, off_t32 out, int32_t rows, int32_t cols) {
  argmax_rows(at(x), (int32_t *)at(out), 0, rows, cols);
}

EXPORT(softmax_cross_entropy)
void softmax_cross_entropy(off_t32 x, off_t32 labels, off_t32 loss, off_t32 d, int32_t rows,
                           int32_t cols) {
  softmax_ce_rows(at(x), (const int32_t *)at(labels), at(loss), at(d), 0, rows, cols);
}

EXPORT(attention_softmax)
void attention_softmax(off_t32 x, off_t32 bias, off_t32 mask, off_t32 probs, off_t32 soft,
                       int32_t rows, int32_t cols, int32_t group) {
  attention_softmax_rows(at(x), at(bias), at(mask), at(probs), at(soft), 0, rows, cols, group);
}

EXPORT(attention_softmax_grad)
void attention_softmax_grad(off_t32 dp, off_t32 soft, off_t32 mask, off_t32 dx, int32_t rows,
                            int32_t cols) {
  attention_softmax_grad_rows(at(dp), at(soft), at(mask), at(dx), 0, rows, cols);
}

/*
 * c [m, n] = alpha·op(a)·op(b) (+ bias [n] on every row), row-major with
 * leading dimensions lda, ldb, ldc, op a transpose or not: the plain wasm
 * backend's matMuls (BatchMatMul, the dense layer with its bias, attention's
 * per-head products in place) in one cache-blocked loop nest, so a transposed
 * or strided operand costs nothing. XNNPACK (tfjs's own BatchMatMul) takes
 * only untransposed operands (a Transpose first), and re-reads its packed
 * right operand for every few rows of c, from memory when k·n is large
 * (~13–16 GFLOPS at k = 2,048 or 30,522 in a training step).
 * Blocks: GEMM_NC columns of c by GEMM_KC of k; per block b is packed into
 * 8-column panels, then per GEMM_MC rows a into 4-row panels ([panel][p][lane],
 * zero-padded at the edges), and every 4×8 tile of c accumulates over the block
 * in registers. `scratch`: mat_mul_scratch() floats.
 */
#define GEMM_KC 128
#define GEMM_MC 64
#define GEMM_NC 512

/* Rows [i0, i0 + 4) of alpha·op(a) over k [p0, p0 + kc) as dst[p·4 + l] (zero past m). */
static void pack_a(const float *a, float *dst, int32_t trans, int32_t lda, float alpha, int32_t m,
                   int32_t i0, int32_t p0, int32_t kc) {
  const int32_t rows = m - i0 < 4 ? m - i0 : 4;
  for (int32_t p = 0; p < kc; p++)
    for (int32_t l = 0; l < 4; l++)
      dst[p * 4 + l] =
          l < rows ? alpha * (trans ? a[(p0 + p) * lda + i0 + l] : a[(i0 + l) * lda + p0 + p])
                   : 0.0f;
}

/* Columns [j0, j0 + 8) of op(b) over k [p0, p0 + kc) as dst[p·8 + l] (zero past n). */
static void pack_b(const float *b, float *dst, int32_t trans, int32_t ldb, int32_t n, int32_t j0,
                   int32_t p0, int32_t kc) {
  const int32_t cols = n - j0 < 8 ? n - j0 : 8;
  if (!trans && cols == 8) {
    for (int32_t p = 0; p < kc; p++)
      for (int32_t l = 0; l < 8; l++) dst[p * 8 + l] = b[(p0 + p) * ldb + j0 + l];
    return;
  }
  for (int32_t p = 0; p < kc; p++)
    for (int32_t l = 0; l < 8; l++)
      dst[p * 8 + l] =
          l < cols ? (trans ? b[(j0 + l) * ldb + p0 + p] : b[(p0 + p) * ldb + j0 + l]) : 0.0f;
}

#ifdef __wasm_simd128__
/* c[0..4, 0..8] (row stride ldc) (+)= Σ_{p<kc} ap[p, 0..4]ᵀ · bp[p, 0..8], panels packed. */
static inline void tile_4x8(const float *ap, const float *bp, float *c, int32_t ldc, int32_t kc,
                            int32_t accumulate) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  if (accumulate) {
    c00 = wasm_v128_load(c), c01 = wasm_v128_load(c + 4);
    c10 = wasm_v128_load(c + ldc), c11 = wasm_v128_load(c + ldc + 4);
    c20 = wasm_v128_load(c + 2 * ldc), c21 = wasm_v128_load(c + 2 * ldc + 4);
    c30 = wasm_v128_load(c + 3 * ldc), c31 = wasm_v128_load(c + 3 * ldc + 4);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = wasm_f32x4_splat(0.0f);
  }
  for (int32_t p = 0; p < kc; p++) {
    const v128_t av = wasm_v128_load(ap + 4 * p);
    const v128_t b0 = wasm_v128_load(bp + 8 * p), b1 = wasm_v128_load(bp + 8 * p + 4);
    const v128_t a0 = wasm_i32x4_shuffle(av, av, 0, 0, 0, 0);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0));
    c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    const v128_t a1 = wasm_i32x4_shuffle(av, av, 1, 1, 1, 1);
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0));
    c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    const v128_t a2 = wasm_i32x4_shuffle(av, av, 2, 2, 2, 2);
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0));
    c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    const v128_t a3 = wasm_i32x4_shuffle(av, av, 3, 3, 3, 3);
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0));
    c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
  }
  wasm_v128_store(c, c00);
  wasm_v128_store(c + 4, c01);
  wasm_v128_store(c + ldc, c10);
  wasm_v128_store(c + ldc + 4, c11);
  wasm_v128_store(c + 2 * ldc, c20);
  wasm_v128_store(c + 2 * ldc + 4, c21);
  wasm_v128_store(c + 3 * ldc, c30);
  wasm_v128_store(c + 3 * ldc + 4, c31);
}
#else
static inline void tile_4x8(const float *ap, const float *bp, float *c, int32_t ldc, int32_t kc,
                            int32_t accumulate) {
  for (int32_t i = 0; i < 4; i++)
    for (int32_t j = 0; j < 8; j++) {
      float s = accumulate ? c[i * ldc + j] : 0.0f;
      for (int32_t p = 0; p < kc; p++) s += ap[4 * p + i] * bp[8 * p + j];
      c[i * ldc + j] = s;
    }
}
#endif

EXPORT(mat_mul_scratch)
int32_t mat_mul_scratch(void) { return GEMM_KC * (GEMM_MC + GEMM_NC) + 32; }

EXPORT(mat_mul)
void mat_mul(off_t32 a_off, off_t32 b_off, off_t32 c_off, off_t32 bias_off, off_t32 scratch_off,
             int32_t m, int32_t n, int32_t k, int32_t trans_a, int32_t trans_b, int32_t lda,
             int32_t ldb, int32_t ldc, float alpha) {
  const float *a = at(a_off), *b = at(b_off), *bias = at(bias_off);
  float *c = at(c_off), *scratch = at(scratch_off);
  float *ap = scratch, *bp = ap + GEMM_KC * GEMM_MC, *edge = bp + GEMM_KC * GEMM_NC;
  if (bias || k == 0) {
    for (int32_t i = 0; i < m; i++)
      for (int32_t j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : 0.0f;
  }
  for (int32_t jc = 0; jc < n; jc += GEMM_NC) {
    const int32_t nc = n - jc < GEMM_NC ? n - jc : GEMM_NC;
    for (int32_t pc = 0; pc < k; pc += GEMM_KC) {
      const int32_t kc = k - pc < GEMM_KC ? k - pc : GEMM_KC;
      const int32_t accumulate = pc > 0 || bias != 0;
      for (int32_t jr = 0; jr < nc; jr += 8)
        pack_b(b, bp + jr * kc, trans_b, ldb, n, jc + jr, pc, kc);
      for (int32_t ic = 0; ic < m; ic += GEMM_MC) {
        const int32_t mc = m - ic < GEMM_MC ? m - ic : GEMM_MC;
        for (int32_t ir = 0; ir < mc; ir += 4)
          pack_a(a, ap + ir * kc, trans_a, lda, alpha, m, ic + ir, pc, kc);
        for (int32_t jr = 0; jr < nc; jr += 8) {
          const int32_t cols = nc - jr < 8 ? nc - jr : 8;
          for (int32_t ir = 0; ir < mc; ir += 4) {
            const int32_t rows = mc - ir < 4 ? mc - ir : 4;
            float *cij = c + (ic + ir) * ldc + jc + jr;
            if (rows == 4 && cols == 8) {
              tile_4x8(ap + ir * kc, bp + jr * kc, cij, ldc, kc, accumulate);
              continue;
            }
            /* An edge tile: through a full 4×8 tile of scratch, then its valid part. */
            for (int32_t r = 0; r < 4; r++)
              for (int32_t s = 0; s < 8; s++)
                edge[8 * r + s] = r < rows && s < cols && accumulate ? cij[r * ldc + s] : 0.0f;
            tile_4x8(ap + ir * kc, bp + jr * kc, edge, 8, kc, 1);
            for (int32_t r = 0; r < rows; r++)
              for (int32_t s = 0; s < cols; s++) cij[r * ldc + s] = edge[8 * r + s];
          }
        }
      }
    }
  }
}
