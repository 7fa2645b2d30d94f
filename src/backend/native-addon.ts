/**
 * The optional native kernels for the WASM backend (native/bert_kernels.c):
 * where the compiled addon lives, how `bert setup native` builds it, and how
 * the wasm backend loads it.
 *
 *   <cache>/native/bert_kernels-<source hash>.node
 *
 * (<cache> as for `bert setup tensorflow`: $BERT_CACHE_DIR, $XDG_CACHE_HOME/bert
 * or ~/.cache/bert). The file name carries a hash of the C source and of
 * native/bert_rows.h, so a changed source is rebuilt and an old addon is never
 * loaded against new JavaScript. N-API is ABI-stable, so one build serves every Node version.
 * BERT_NATIVE_KERNELS=0 turns them off without removing them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { cacheRoot } from '../setup/cache.js';
import { runCommand, type CommandRunner } from '../setup/commands.js';
import type { MaskGenerator } from '../model/dropout-mask.js';

/** native/bert_kernels.c in the installed package (dist/src/backend/ → package root). */
export const KERNELS_SOURCE = fileURLToPath(
  new URL('../../../native/bert_kernels.c', import.meta.url),
);

/** The row loops the addon shares with the WebAssembly module, beside the source. */
const ROWS_HEADER = 'bert_rows.h';

const sourceHashes = new Map<string, string>();

export function addonPath(cacheDir?: string, source = KERNELS_SOURCE): string {
  let hash = sourceHashes.get(source);
  if (!hash) {
    const sha = createHash('sha256').update(readFileSync(source));
    const header = join(dirname(source), ROWS_HEADER);
    if (existsSync(header)) sha.update(readFileSync(header));
    hash = sha.digest('hex').slice(0, 12);
    sourceHashes.set(source, hash);
  }
  return join(cacheRoot(cacheDir), 'native', `bert_kernels-${hash}.node`);
}

/** Directories that may hold node_api.h, most specific first. */
export function nodeHeaderCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const prefix = dirname(dirname(process.execPath));
  return [
    ...(env.npm_config_nodedir ? [join(env.npm_config_nodedir, 'include', 'node')] : []),
    join(prefix, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
}

/** The addon's API (see native/bert_kernels.c). */
export interface NativeKernels {
  load(): string;
  setThreads(n: number): boolean;
  batchMatMul(
    heap: ArrayBuffer,
    aOffset: number,
    bOffset: number,
    cOffset: number,
    batch: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    strideA: number,
    strideB: number,
  ): void;
  /**
   * C_ij = alpha·op(A_ij)·op(B_ij) over an outer × inner grid of products, each operand at
   * its own element strides and leading dimension (see native/bert_kernels.c).
   */
  stridedMatMul(
    heap: ArrayBuffer,
    aOffset: number,
    bOffset: number,
    cOffset: number,
    outer: number,
    inner: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
    alpha: number,
    ...leadingDimsAndStrides: number[]
  ): void;
  /** y = x·w + bias (w [in, out]) or x·wᵀ + bias (transW: w [out, in]) in one SGEMM. */
  denseBias(
    heap: ArrayBuffer,
    xOffset: number,
    wOffset: number,
    biasOffset: number,
    yOffset: number,
    rows: number,
    inner: number,
    out: number,
    transW: boolean,
  ): void;
  /** One AdamW update of n values in one pass (see native/bert_kernels.c). */
  adamW(heap: ArrayBuffer, ...offsetsAndHyper: number[]): void;
  /** dropout-mask.ts's sfc32 mask, natively (same values). */
  keepMask: MaskGenerator;
  /** The fused elementwise kernels (see native/bert_kernels.c): heap, byte offsets, sizes, then flags. */
  layerNorm(heap: ArrayBuffer, ...offsetsSizesEps: number[]): void;
  layerNormGrad(heap: ArrayBuffer, ...offsetsAndSizes: number[]): void;
  biasGelu(heap: ArrayBuffer, ...args: [...offsetsAndSizes: number[], tanhForm: boolean]): void;
  biasGeluGrad(heap: ArrayBuffer, ...args: [...offsetsAndSizes: number[], tanhForm: boolean]): void;
  sumSquares(heap: ArrayBuffer, xOffset: number, outOffset: number, n: number): void;
  /** out[j] = Σ_i x[i, j] over x [rows, cols]. */
  columnSums(
    heap: ArrayBuffer,
    xOffset: number,
    outOffset: number,
    rows: number,
    cols: number,
  ): void;
  /** out[i] (int32) = the first index of the max of row i of x [rows, cols], NaNs passed over. */
  argMax(heap: ArrayBuffer, xOffset: number, outOffset: number, rows: number, cols: number): void;
  softmaxCrossEntropy(heap: ArrayBuffer, ...offsetsAndSizes: number[]): void;
  attentionSoftmax(heap: ArrayBuffer, ...offsetsAndSizes: number[]): void;
  attentionSoftmaxGrad(heap: ArrayBuffer, ...offsetsAndSizes: number[]): void;
}

/**
 * The elementwise fused kernels alone: what both the native addon and the
 * WebAssembly module (src/backend/wasm-module.ts) provide.
 */
export type FusedKernels = Pick<
  NativeKernels,
  | 'adamW'
  | 'layerNorm'
  | 'layerNormGrad'
  | 'biasGelu'
  | 'biasGeluGrad'
  | 'sumSquares'
  | 'columnSums'
  | 'argMax'
  | 'softmaxCrossEntropy'
  | 'attentionSoftmax'
  | 'attentionSoftmaxGrad'
>;

/**
 * The kernels that work in place on the WASM heap: what the wasm backend's
 * kernels (src/backend/wasm-native-kernels.ts) call, provided by the native
 * addon and, single-threaded, by the WebAssembly module (src/backend/wasm-module.ts).
 */
export type HeapKernels = Pick<NativeKernels, 'batchMatMul' | 'stridedMatMul' | 'denseBias'> &
  FusedKernels;

export interface LoadedKernels {
  addon: NativeKernels;
  /** The SGEMM library found, e.g. "oneDNN 2.6.3". */
  library: string;
  path: string;
}

/**
 * Load the cached addon; the reason instead when it is not built, not usable,
 * or switched off (BERT_NATIVE_KERNELS=0, unless `ignoreSwitch`).
 */
export function loadNativeKernels(
  cacheDir?: string,
  { ignoreSwitch = false } = {},
): LoadedKernels | { reason: string } {
  if (process.env.BERT_NATIVE_KERNELS === '0' && !ignoreSwitch)
    return { reason: 'BERT_NATIVE_KERNELS=0' };
  let path: string;
  try {
    path = addonPath(cacheDir);
  } catch {
    return { reason: `${KERNELS_SOURCE} not found` };
  }
  if (!existsSync(path)) return { reason: 'not built (run `bert setup native`)' };
  try {
    const addon = createRequire(import.meta.url)(path) as NativeKernels;
    return { addon, library: addon.load(), path };
  } catch (err) {
    return { reason: (err as Error).message.split('\n')[0] };
  }
}

export interface BuildOptions {
  cacheDir?: string;
  force?: boolean;
  log?: (line: string) => void;
  run?: CommandRunner;
}

/** `bert setup native`: compile native/bert_kernels.c into the cache and check that it loads. */
export async function buildNativeKernels(options: BuildOptions = {}): Promise<LoadedKernels> {
  const log = options.log ?? (() => {});
  const run = options.run ?? runCommand;
  if (!existsSync(KERNELS_SOURCE)) throw new UserError(`${KERNELS_SOURCE}: source not found`);
  const out = addonPath(options.cacheDir);
  if (existsSync(out) && !options.force) {
    const loaded = loadNativeKernels(options.cacheDir, { ignoreSwitch: true });
    if ('addon' in loaded) {
      log(`native kernels already built: ${out} (${loaded.library})`);
      return loaded;
    }
  }
  const include = nodeHeaderCandidates().find((d) => existsSync(join(d, 'node_api.h')));
  if (!include) {
    throw new UserError(
      `node_api.h not found in ${nodeHeaderCandidates().join(', ')}: install Node's headers (they ship with the nodejs.org tarballs; Debian: libnode-dev) or set npm_config_nodedir`,
    );
  }
  const compiler = process.env.CC ?? 'cc';
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  log(`compiling ${KERNELS_SOURCE} with ${compiler} (headers: ${include})`);
  // -fopenmp splits the fused kernels' rows over the SGEMM library's OpenMP threads; a compiler
  // without OpenMP builds them single-threaded (the retry below).
  const args = [
    '-O2',
    // Let the compiler vectorise the elementwise loops (branch-free exp/erf, sqrt): nothing here
    // reads FP exceptions or errno.
    '-fno-trapping-math',
    '-fno-math-errno',
    '-fopenmp',
    '-std=c11',
    '-Wall',
    '-shared',
    '-fPIC',
    '-DNODE_GYP_MODULE_NAME=bert_kernels',
    `-I${include}`,
    KERNELS_SOURCE,
    '-o',
    tmp,
    '-ldl',
    '-lm',
  ];
  let result = await run(compiler, args, {});
  if (result.code !== 0 && !result.notFound) {
    log(`compiling with -fopenmp failed; compiling without OpenMP (single-threaded fused kernels)`);
    result = await run(
      compiler,
      args.filter((a) => a !== '-fopenmp'),
      {},
    );
  }
  if (result.code !== 0) {
    await rm(tmp, { force: true });
    const detail = result.notFound
      ? `${compiler} not found: install a C compiler (Debian: build-essential) or set CC`
      : (result.stderr.split('\n').find((l) => /error/i.test(l)) ?? result.stderr.trim());
    throw new UserError(`compiling the native kernels failed: ${detail}`);
  }
  await rename(tmp, out);
  const loaded = loadNativeKernels(options.cacheDir, { ignoreSwitch: true });
  if (!('addon' in loaded)) {
    throw new UserError(
      `native kernels built (${out}) but unusable: ${loaded.reason}; install oneDNN (Debian: apt-get install libdnnl2) or OpenBLAS`,
    );
  }
  log(`native kernels ready: ${out} (${loaded.library})`);
  return loaded;
}

/** `bert setup native --remove`: delete every cached build. */
export async function removeNativeKernels(cacheDir?: string): Promise<string> {
  const dir = join(cacheRoot(cacheDir), 'native');
  await rm(dir, { recursive: true, force: true });
  return dir;
}
