/**
 * The rows of `npm run bench -- train`'s table, from the repeats' timings
 * (pure: no processes, no clocks). Per (size, variant, threads): the median
 * ms/step over the repeats, tokens/s at that median, the spread (fastest and
 * slowest repeat), the ratio of tokens/s to the peer's median at the same
 * size and threads, and the model FLOPs utilisation (the step's matMul
 * FLOPs per second over the SGEMM peak measured at the same thread count).
 */

/** The timings of one variant at one size and thread count, one entry per repeat. */
export interface Series {
  size: string;
  /** What ran, e.g. "wasm + native (wasm-native ops)" or "pytorch 2.13.0+cpu". */
  variant: string;
  threads: number;
  /** A PyTorch peer: ratios are taken against the newest of these. */
  peer: boolean;
  /** ms/step of each repeat (each repeat's own median over its steps). */
  msPerStep: number[];
}

export interface Row {
  size: string;
  variant: string;
  threads: number;
  peer: boolean;
  repeats: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  tokensPerS: number;
  /** tokens/s over the peer's median tokens/s at the same size and threads; null without a peer. */
  ratio: number | null;
  /** Achieved matMul FLOP/s over the measured SGEMM peak; null without a peak. */
  mfu: number | null;
}

export interface TableContext {
  /** Tokens processed per step (batch × sequence length). */
  tokensPerStep: number;
  /** Training-step FLOPs per size name (bench/train-flops.ts). */
  flopsPerStep: ReadonlyMap<string, number>;
  /** Measured SGEMM peak in GFLOP/s per thread count. */
  peakGflops: ReadonlyMap<number, number>;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** PyTorch's version from a peer's variant ("pytorch 2.13.0+cpu") as a comparable number. */
export function torchVersion(variant: string): number {
  const m = /(\d+)\.(\d+)/.exec(variant);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
}

/** One row per series with at least one repeat, in the order given. */
export function assembleRows(series: readonly Series[], context: TableContext): Row[] {
  const timed = series.filter((s) => s.msPerStep.length > 0);
  const tokensPerS = (ms: number): number => context.tokensPerStep / (ms / 1000);
  // The reference per (size, threads): the newest PyTorch's median tokens/s.
  const reference = new Map<string, { version: number; tokensPerS: number }>();
  for (const s of timed.filter((t) => t.peer)) {
    const key = `${s.size}/${s.threads}`;
    const version = torchVersion(s.variant);
    const current = reference.get(key);
    if (!current || version > current.version)
      reference.set(key, { version, tokensPerS: tokensPerS(median(s.msPerStep)) });
  }
  return timed.map((s) => {
    const medianMs = median(s.msPerStep);
    const tps = tokensPerS(medianMs);
    const ref = reference.get(`${s.size}/${s.threads}`);
    const flops = context.flopsPerStep.get(s.size);
    const peak = context.peakGflops.get(s.threads);
    return {
      size: s.size,
      variant: s.variant,
      threads: s.threads,
      peer: s.peer,
      repeats: s.msPerStep.length,
      medianMs,
      minMs: Math.min(...s.msPerStep),
      maxMs: Math.max(...s.msPerStep),
      tokensPerS: tps,
      ratio: ref ? tps / ref.tokensPerS : null,
      mfu: flops !== undefined && peak ? flops / (medianMs / 1000) / (peak * 1e9) : null,
    };
  });
}

export interface FormatOptions {
  /** The time column's unit (bench finetune's forward rows: "ms/batch"). */
  per?: string;
  /** Sequence length: adds a sequences/s column (tokens/s ÷ length). */
  seqLength?: number;
}

/** The table as text lines, one block per size. */
export function formatRows(
  rows: readonly Row[],
  { per = 'step', seqLength }: FormatOptions = {},
): string[] {
  const lines: string[] = [];
  const seqs = seqLength ? ['seqs/s'.padStart(7)] : [];
  const header = `  ${['variant'.padEnd(50), 'thr', `ms/${per} (min–max)`.padEnd(20), 'tokens/s', ...seqs, 'ratio'.padStart(7), 'MFU'.padStart(6)].join(' ')}`;
  for (const size of [...new Set(rows.map((r) => r.size))]) {
    lines.push(`BERT-${size}:`, header);
    for (const r of rows.filter((x) => x.size === size)) {
      const ms = `${r.medianMs.toFixed(0)} (${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)})`;
      const ratio = r.peer ? 'peer' : r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`;
      const mfu = r.mfu === null ? '—' : `${(100 * r.mfu).toFixed(1)}%`;
      const cells = [
        r.variant.padEnd(50),
        String(r.threads).padStart(3),
        ms.padEnd(20),
        String(Math.round(r.tokensPerS)).padStart(8),
        ...(seqLength ? [(r.tokensPerS / seqLength).toFixed(1).padStart(7)] : []),
        ratio.padStart(7),
        mfu.padStart(6),
      ];
      lines.push(`  ${cells.join(' ')}`);
    }
  }
  return lines;
}
