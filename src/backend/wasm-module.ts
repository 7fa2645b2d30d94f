/**
 * The fused kernels for the plain wasm backend, with no setup: the
 * WebAssembly module native/bert_kernels.wasm (built from native/bert_wasm.c
 * and the row loops it shares with the native addon, native/bert_rows.h, by
 * `npm run build:wasm`; shipped with the package). It is instantiated on
 * tfjs-backend-wasm's own memory, so its kernels work in place on the WASM
 * heap exactly as the native addon's do, and src/backend/wasm-native-kernels.ts
 * registers them through the same kernel functions (the `heap` argument the
 * addon needs is ignored here: the module's memory is the heap).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FusedKernels } from './native-addon.js';

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
  wasm: { asm?: { memory?: object } };
}

type Exported = (...args: number[]) => void;

/** FusedKernels' method names → the module's export names (same arguments after the heap). */
const EXPORTS: Record<keyof FusedKernels, string> = {
  adamW: 'adam_w',
  layerNorm: 'layer_norm',
  layerNormGrad: 'layer_norm_grad',
  biasGelu: 'bias_gelu',
  biasGeluGrad: 'bias_gelu_grad',
  sumSquares: 'sum_squares',
  columnSums: 'column_sums',
  softmaxCrossEntropy: 'softmax_cross_entropy',
  attentionSoftmax: 'attention_softmax',
  attentionSoftmaxGrad: 'attention_softmax_grad',
};

let compiled: object | null = null;
const byMemory = new WeakMap<object, FusedKernels>();

/**
 * The module's kernels on `backend`'s heap (tf.backend() of the wasm
 * backend); the reason instead when the module or the heap is unavailable.
 */
export function loadWasmModuleKernels(backend: object): FusedKernels | { reason: string } {
  const memory = (backend as WasmBackendModule).wasm?.asm?.memory;
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
    const exported = instance.exports as Record<string, Exported>;
    const kernels = {} as Record<keyof FusedKernels, unknown>;
    for (const [method, name] of Object.entries(EXPORTS) as [keyof FusedKernels, string][]) {
      const fn = exported[name];
      if (typeof fn !== 'function') return { reason: `${WASM_MODULE_PATH} has no export ${name}` };
      // Booleans (tanhForm) become 0/1 at the boundary; the heap argument is dropped.
      kernels[method] = (_heap: ArrayBuffer, ...args: (number | boolean)[]) =>
        fn(...args.map(Number));
    }
    byMemory.set(memory, kernels as FusedKernels);
    return kernels as FusedKernels;
  } catch (err) {
    return { reason: `${WASM_MODULE_PATH}: ${(err as Error).message.split('\n')[0]}` };
  }
}
