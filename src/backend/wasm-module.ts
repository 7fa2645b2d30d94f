/**
 * The wasm backend's kernels with no setup: the WebAssembly module
 * native/bert_kernels.wasm (built from native/bert_wasm.c and the row loops
 * it shares with the native addon, native/bert_rows.h, by `npm run
 * build:wasm`; shipped with the package). It is instantiated on
 * tfjs-backend-wasm's own memory, so it works in place on the WASM heap
 * exactly as the native addon does, and provides the same API
 * (HeapKernels), single-threaded: src/backend/wasm-native-kernels.ts
 * registers either through the same kernel functions. Its products are one
 * cache-blocked SIMD128 loop nest taking transposed and strided operands
 * (`mat_mul`), as fast as tfjs's XNNPACK products or faster on a BERT step's
 * shapes, with no Transposes around them. The `heap` argument the addon needs
 * is ignored (the module's memory is the heap).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HeapKernels } from './native-addon.js';

/** native/bert_kernels.wasm in the installed package (dist/src/backend/ → package root). */
export const WASM_MODULE_PATH = fileURLToPath(
  new URL('../../../native/bert_kernels.wasm', import.meta.url),
);

/** What the loader uses of the WebAssembly API (the project compiles without the DOM typings). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WebAssemblyApi };

/** What the loader uses of tfjs-backend-wasm's BackendWasm (4.22): its Emscripten module. */
interface WasmBackendModule {
  wasm: { asm?: { memory?: object }; _malloc(bytes: number): number };
}

type Exported = (...args: number[]) => number;

/** The fused kernels: HeapKernels' method names → the module's exports (same arguments after the heap). */
const FUSED: Record<
  Exclude<keyof HeapKernels, 'batchMatMul' | 'stridedMatMul' | 'denseBias'>,
  string
> = {
  adamW: 'adam_w',
  layerNorm: 'layer_norm',
  layerNormGrad: 'layer_norm_grad',
  biasGelu: 'bias_gelu',
  biasGeluGrad: 'bias_gelu_grad',
  sumSquares: 'sum_squares',
  columnSums: 'column_sums',
  argMax: 'arg_max',
  softmaxCrossEntropy: 'softmax_cross_entropy',
  attentionSoftmax: 'attention_softmax',
  attentionSoftmaxGrad: 'attention_softmax_grad',
};

let compiled: object | null = null;
const byMemory = new WeakMap<object, HeapKernels>();

/** The products of HeapKernels on the module's `mat_mul` (offsets in bytes, sizes in floats). */
function products(
  matMul: Exported,
  scratch: number,
): Pick<HeapKernels, 'batchMatMul' | 'stridedMatMul' | 'denseBias'> {
  return {
    batchMatMul(_heap, a, b, c, batch, m, n, k, transA, transB, strideA, strideB) {
      for (let i = 0; i < batch; i++)
        matMul(
          a + 4 * i * strideA,
          b + 4 * i * strideB,
          c + 4 * i * m * n,
          -1,
          scratch,
          m,
          n,
          k,
          +transA,
          +transB,
          transA ? m : k,
          transB ? k : n,
          n,
          1,
        );
    },
    stridedMatMul(_heap, a, b, c, outer, inner, m, n, k, transA, transB, alpha, ...rest) {
      const [lda, ldb, ldc, aOuter, aInner, bOuter, bInner, cOuter, cInner] = rest;
      for (let i = 0; i < outer; i++)
        for (let j = 0; j < inner; j++)
          matMul(
            a + 4 * (i * aOuter + j * aInner),
            b + 4 * (i * bOuter + j * bInner),
            c + 4 * (i * cOuter + j * cInner),
            -1,
            scratch,
            m,
            n,
            k,
            +transA,
            +transB,
            lda,
            ldb,
            ldc,
            alpha,
          );
    },
    denseBias(_heap, x, w, bias, y, rows, inner, out, transW) {
      const ldw = transW ? inner : out;
      matMul(x, w, y, bias, scratch, rows, out, inner, 0, +transW, inner, ldw, out, 1);
    },
  };
}

/**
 * The module's kernels on `backend`'s heap (tf.backend() of the wasm
 * backend); the reason instead when the module or the heap is unavailable.
 */
export function loadWasmModuleKernels(backend: object): HeapKernels | { reason: string } {
  const module = (backend as WasmBackendModule).wasm;
  const memory = module?.asm?.memory;
  if (!(memory instanceof wasmApi.Memory))
    return {
      reason:
        "tfjs-backend-wasm's memory is not reachable (a tfjs version this was not built for?)",
    };
  const cached = byMemory.get(memory);
  if (cached) return cached;
  try {
    compiled ??= new wasmApi.Module(readFileSync(WASM_MODULE_PATH));
    const instance = new wasmApi.Instance(compiled, { env: { memory, log: Math.log } });
    const exported = (name: string): Exported => {
      const fn = instance.exports[name];
      if (typeof fn !== 'function') throw new Error(`no export ${name}`);
      return fn as Exported;
    };
    const fused = {} as Record<keyof typeof FUSED, unknown>;
    for (const [method, name] of Object.entries(FUSED) as [keyof typeof FUSED, string][]) {
      const fn = exported(name);
      // Booleans (tanhForm) become 0/1 at the boundary; the heap argument is dropped.
      fused[method] = (_heap: ArrayBuffer, ...args: (number | boolean)[]) =>
        fn(...args.map(Number));
    }
    // The products' packing buffers: one allocation on tfjs's heap for the backend's lifetime.
    const scratch = module._malloc(4 * exported('mat_mul_scratch')());
    const kernels = {
      ...(fused as Omit<HeapKernels, 'batchMatMul' | 'stridedMatMul' | 'denseBias'>),
      ...products(exported('mat_mul'), scratch),
    };
    byMemory.set(memory, kernels);
    return kernels;
  } catch (err) {
    return { reason: `${WASM_MODULE_PATH}: ${(err as Error).message.split('\n')[0]}` };
  }
}
