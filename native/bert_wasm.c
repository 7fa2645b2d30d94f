/*
 * bert_wasm: the fused kernels of native/bert_rows.h as a WebAssembly module
 * for the plain wasm backend (no `bert setup native`). It imports
 * tfjs-backend-wasm's own memory, so every kernel reads and writes tensors in
 * place on the WASM heap, as the native addon does, single-threaded, with
 * SIMD128 (the loops vectorise as they do natively, four lanes at a time).
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
 *   softmax_cross_entropy(logits, labels, loss, d, rows, cols)
 *   attention_softmax(x, bias, mask, probs, soft, rows, cols, group)
 *   attention_softmax_grad(dp, soft, mask, dx, rows, cols)
 * with the meaning of the native addon's functions of the same names
 * (native/bert_kernels.c).
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
