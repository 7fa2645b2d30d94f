/**
 * Compute backend selection (docs/architecture.md, "Backends").
 *
 * `auto` tries tensorflow (tfjs-node-gpu, then tfjs-node), webgpu (Dawn),
 * wasm, cpu — in that order — and records why each skipped one was skipped.
 * The native packages are optional dependencies: absent or broken, they are
 * skipped with the reason, never a crash. Choosing a backend also registers
 * this project's kernels for it (tensorflow-kernels.ts; for wasm the heap
 * kernels of wasm-native-kernels.ts on the native addon or the WebAssembly
 * module of wasm-module.ts, else wasm-split-batch-matmul.ts; js-adamw.ts for
 * cpu; native dropout masks).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { useNativeMaskGenerator } from '../model/dropout-mask.js';
import { loadNativeKernels } from './native-addon.js';
import { registerTensorflowKernels } from './tensorflow-kernels.js';
import { useBuiltinWasmKernels, useWasmHeapKernels } from './wasm-native-kernels.js';
import { loadWasmModuleKernels } from './wasm-module.js';
import { restoreWasmBatchMatMul, useSplitWasmBatchMatMul } from './wasm-split-batch-matmul.js';
import { useJavaScriptAdamW } from './js-adamw.js';
import { useWebgpuAdamW } from './webgpu-adamw.js';

export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendRequest = BackendName | 'auto';

export interface BackendAttempt {
  backend: BackendName;
  ok: boolean;
  /** Which package provided it, or why it was skipped. */
  detail: string;
}

export interface BackendChoice {
  backend: BackendName;
  /** tfjs's own name for the active backend ('tensorflow', 'wasm', ...). */
  tfBackend: string;
  attempts: BackendAttempt[];
  threads: number | null;
}

export interface BackendOptions {
  /**
   * Threads: tensorflow's intra-op pool (TF_NUM_INTRAOP_THREADS), or the native
   * SGEMM's under wasm (`bert setup native`); null = all cores.
   */
  threads?: number | null;
  /** Only probe: load nothing that changes the active backend. Used by `bert env`. */
  quiet?: boolean;
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    const m = /Cannot find (?:package|module) '([^']+)'/.exec(e.message ?? '');
    return `${m ? m[1] : 'package'} is not installed`;
  }
  const msg = String(e?.message ?? err).split('\n')[0];
  if (err instanceof BackendSkip) return msg;
  return msg.length > 160 ? msg.slice(0, 157) + '...' : msg;
}

/** A backend skipped for a reason already worded for the user. */
class BackendSkip extends Error {}

/** Dawn aborts noisily on Linux without a Vulkan loader; look for it first. */
function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/usr/local/lib',
  ];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

async function tryTensorflow(threads: number | null): Promise<string> {
  if (threads) {
    // libtensorflow reads these when the first eager context is created.
    process.env.TF_NUM_INTRAOP_THREADS ??= String(threads);
    process.env.TF_NUM_INTEROP_THREADS ??= '1';
  }
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (tf.findBackend('tensorflow') == null) {
        errors.push(
          `${pkg} loaded but registered no 'tensorflow' backend (two copies of tfjs-core?)`,
        );
        continue;
      }
      if (!(await tf.setBackend('tensorflow'))) {
        errors.push(`${pkg}: backend failed to initialise`);
        continue;
      }
      registerTensorflowKernels();
      return pkg;
    } catch (err) {
      errors.push(describeError(err));
    }
  }
  throw new BackendSkip(
    errors.join('; ') +
      ' (run `bert setup tensorflow` to build the native backend from a TensorFlow wheel)',
  );
}

async function tryWebgpu(_threads: number | null, named: boolean): Promise<string> {
  let gpuApi: { create: (flags: string[]) => GpuLike; globals: object };
  if (!vulkanLoaderPresent()) {
    throw new BackendSkip('no GPU adapter: libvulkan.so.1 not found (no Vulkan driver installed)');
  }
  try {
    gpuApi = (await import('webgpu')) as unknown as typeof gpuApi;
  } catch (err) {
    throw new Error(describeError(err));
  }
  const gpu = gpuApi.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no GPU adapter found (Dawn found no Vulkan/Metal/D3D12 device)');
  // A software rasteriser (Mesa's llvmpipe/lavapipe, SwiftShader) is a GPU in name only:
  // slower than wasm on the same cores, so `auto` passes it by; `--backend webgpu` takes it.
  const info = adapter.info;
  if (!named && info?.isFallbackAdapter) {
    throw new BackendSkip(
      `only a software adapter (${info.description || info.device || 'CPU'}), slower than wasm (auto passes it by; naming the webgpu backend uses it)`,
    );
  }
  const g = globalThis as unknown as { navigator?: { gpu?: unknown } };
  if (!g.navigator)
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true });
  (g.navigator as { gpu?: unknown }).gpu = gpu;
  // What a browser defines globally and tfjs-backend-webgpu uses bare
  // (GPUBufferUsage, GPUMapMode, GPUShaderStage, GPUTextureUsage, ...).
  for (const [name, value] of Object.entries(gpuApi.globals)) {
    if (!(name in globalThis))
      Object.defineProperty(globalThis, name, { value, configurable: true });
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs webgpu backend failed to initialise');
  useWebgpuAdamW();
  return 'webgpu (Dawn) + @tensorflow/tfjs-backend-webgpu';
}

interface GpuLike {
  requestAdapter(): Promise<{
    info?: { isFallbackAdapter?: boolean; description?: string; device?: string };
  } | null>;
}

async function tryWasm(threads: number | null): Promise<string> {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  const native = loadNativeKernels();
  if ('addon' in native) {
    const n = threads ?? availableParallelism();
    const threaded = native.addon.setThreads(n);
    restoreWasmBatchMatMul();
    useWasmHeapKernels(native.addon);
    return `@tensorflow/tfjs-backend-wasm + native matMul (${native.library}, ${threaded ? `${n} thread${n === 1 ? '' : 's'}` : 'threads: library default'})`;
  }
  // No native kernels: the shipped WebAssembly module's (one thread), or with
  // BERT_WASM_MODULE=0 tfjs's own kernels with batched matMuls split into XNNPACK products.
  const module =
    process.env.BERT_WASM_MODULE === '0'
      ? { reason: 'BERT_WASM_MODULE=0' }
      : loadWasmModuleKernels(tf.backend());
  if (!('reason' in module)) {
    restoreWasmBatchMatMul();
    useWasmHeapKernels(module);
    return `@tensorflow/tfjs-backend-wasm + the WebAssembly kernel module (1 thread; native matMul: ${native.reason})`;
  }
  useBuiltinWasmKernels();
  useSplitWasmBatchMatMul();
  return `@tensorflow/tfjs-backend-wasm, batched matMuls as XNNPACK products (kernel module: ${module.reason}; native matMul: ${native.reason})`;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
  useJavaScriptAdamW();
  return '@tensorflow/tfjs-backend-cpu (pure JavaScript, slow)';
}

/** Loaders by backend name; exported so tests can replace one (e.g. to simulate a broken package). */
export const backendLoaders: Record<
  BackendName,
  (threads: number | null, named: boolean) => Promise<string>
> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Make `request` the active tfjs backend. `auto` walks the order of
 * BACKEND_NAMES and stops at the first that works; a named backend that fails
 * is a UserError carrying the reason.
 */
export async function selectBackend(
  request: BackendRequest = 'auto',
  options: BackendOptions = {},
): Promise<BackendChoice> {
  const threads = options.threads ?? null;
  const order: BackendName[] = request === 'auto' ? [...BACKEND_NAMES] : [request];
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      let detail = await backendLoaders[name](threads, request !== 'auto');
      // Dropout masks come from the native kernels on every backend when they are built.
      const native = loadNativeKernels();
      useNativeMaskGenerator('addon' in native ? native.addon.keepMask : null);
      if (name !== 'wasm' && 'addon' in native) detail += ' (+ native dropout masks)';
      attempts.push({ backend: name, ok: true, detail });
      await tf.ready();
      return { backend: name, tfBackend: tf.getBackend(), attempts, threads };
    } catch (err) {
      attempts.push({ backend: name, ok: false, detail: describeError(err) });
    }
  }
  const why = attempts.map((a) => `${a.backend}: ${a.detail}`).join('; ');
  throw new UserError(`--backend ${request}: no usable backend (${why})`);
}

/** One line for logs: "backend wasm (skipped tensorflow: ...; webgpu: ...)". */
export function describeChoice(choice: BackendChoice): string {
  const skipped = choice.attempts.filter((a) => !a.ok);
  const tail = skipped.length
    ? ` (skipped ${skipped.map((a) => `${a.backend}: ${a.detail}`).join('; ')})`
    : '';
  return `backend ${choice.backend}${tail}`;
}
