/**
 * Optimizers as in BERT: AdamW (google-research/bert's
 * AdamWeightDecayOptimizer) and LAMB (You et al. 2019, as in NVIDIA's BERT),
 * with weight decay 0.01 on everything except LayerNorm parameters and biases.
 *
 * AdamW's default is BERT's choice: NO bias correction (`biasCorrection:
 * false`); set it to true for torch.optim.AdamW's maths. LAMB defaults to
 * bias correction on, as in the paper. Decoupled decay: the decay term is
 * added to the Adam update, not to the gradient.
 *
 * State (first/second moments and the step count) is exported as named
 * tensors `<param>.exp_avg` / `<param>.exp_avg_sq` for optimizer.safetensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.js';
import type { TensorData } from '../io/safetensors.js';
import { FUSED_ADAMW, sumSquares } from '../model/kernels.js';

export type OptimizerType = 'adamw' | 'lamb';

export interface OptimizerConfig {
  type: OptimizerType;
  beta1?: number;
  beta2?: number;
  /** BERT uses 1e-6. */
  epsilon?: number;
  /** Decoupled weight decay rate; BERT uses 0.01. */
  weightDecay?: number;
  /** Divide the moments by (1 − βᵗ). Default: false for adamw (BERT), true for lamb. */
  biasCorrection?: boolean;
}

/** BERT's exclusions: LayerNorm gains/biases and every bias get no weight decay (nor LAMB's trust ratio). */
export function excludedFromWeightDecay(name: string): boolean {
  return name.includes('LayerNorm') || name.endsWith('bias');
}

export interface Optimizer {
  readonly config: Required<OptimizerConfig>;
  /** Number of updates applied so far. */
  readonly step: number;
  /**
   * One update of every variable in `params` that has a gradient, at learning
   * rate `lr`. `gradScale` (a scalar tensor, e.g. globalNormScale's) multiplies
   * every gradient first; folding it into the moment updates saves a pass over
   * every gradient.
   */
  applyGradients(
    params: ReadonlyMap<string, tf.Variable>,
    grads: ReadonlyMap<string, tf.Tensor>,
    lr: number,
    gradScale?: tf.Scalar,
  ): void;
  /** Moments as HF-style named tensors, plus the step count. */
  exportState(): Promise<{ tensors: Map<string, TensorData>; step: number }>;
  /** Restore what exportState gave; a moment missing or of the wrong shape is a UserError. */
  importState(
    tensors: ReadonlyMap<string, TensorData>,
    step: number,
    params: ReadonlyMap<string, tf.Variable>,
    source?: string,
  ): void;
  dispose(): void;
}

export function resolveOptimizerConfig(config: OptimizerConfig): Required<OptimizerConfig> {
  if (config.type !== 'adamw' && config.type !== 'lamb') {
    throw new UserError(
      `optimizer.type must be "adamw" or "lamb", got ${JSON.stringify(config.type)}`,
    );
  }
  return {
    type: config.type,
    beta1: config.beta1 ?? 0.9,
    beta2: config.beta2 ?? 0.999,
    epsilon: config.epsilon ?? 1e-6,
    weightDecay: config.weightDecay ?? 0.01,
    biasCorrection: config.biasCorrection ?? config.type === 'lamb',
  };
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

class AdamFamily implements Optimizer {
  readonly config: Required<OptimizerConfig>;
  private moments = new Map<string, Moments>();
  private t = 0;

  constructor(config: OptimizerConfig) {
    this.config = resolveOptimizerConfig(config);
  }

  get step(): number {
    return this.t;
  }

  private momentsFor(name: string, p: tf.Variable): Moments {
    let mo = this.moments.get(name);
    if (!mo) {
      // tf.variable keeps its own reference to the data: release the initial zeros.
      const zeros = (): tf.Variable => {
        const z = tf.zerosLike(p);
        const v = tf.variable(z, false);
        z.dispose();
        return v;
      };
      mo = { m: zeros(), v: zeros() };
      this.moments.set(name, mo);
    }
    return mo;
  }

  applyGradients(
    params: ReadonlyMap<string, tf.Variable>,
    grads: ReadonlyMap<string, tf.Tensor>,
    lr: number,
    gradScale?: tf.Scalar,
  ): void {
    this.t += 1;
    const { beta1, beta2, epsilon, weightDecay, biasCorrection, type } = this.config;
    const c1 = biasCorrection ? 1 - beta1 ** this.t : 1;
    const c2 = biasCorrection ? 1 - beta2 ** this.t : 1;
    // (1 − β)·s and (1 − β₂)·s²: the gradient scale rides on the moments' coefficients.
    const [gm, gv] = gradScale
      ? tf.tidy(() => [tf.mul(gradScale, 1 - beta1), tf.mul(tf.square(gradScale), 1 - beta2)])
      : [tf.scalar(1 - beta1), tf.scalar(1 - beta2)];
    // One pass per parameter where the backend registered the fused kernel (src/model/kernels.ts).
    const fused = type === 'adamw' && tf.getKernel(FUSED_ADAMW, tf.getBackend()) !== undefined;
    for (const [name, p] of params) {
      const g = grads.get(name);
      const mo = this.momentsFor(name, p);
      // No gradient (the NSP head under objective mlm): no update, no decay. Its
      // moments stay zero but exist, so the saved state fits the model on resume.
      if (!g) continue;
      const excludedHere = excludedFromWeightDecay(name);
      if (fused) {
        tf.tidy(() => {
          const keep = !excludedHere && weightDecay > 0 ? 1 - lr * weightDecay : 1;
          const attrs = { beta1, beta2, c1, c2, epsilon, keep, lr };
          const [p2, m2, v2] = tf
            .engine()
            .runKernel(FUSED_ADAMW, { p, g, m: mo.m, v: mo.v, gm, gv }, attrs) as tf.Tensor[];
          mo.m.assign(m2);
          mo.v.assign(v2);
          p.assign(p2);
        });
        continue;
      }
      tf.tidy(() => {
        const m = tf.add(tf.mul(mo.m, beta1), tf.mul(g, gm));
        const v = tf.add(tf.mul(mo.v, beta2), tf.mul(tf.square(g), gv));
        mo.m.assign(m);
        mo.v.assign(v);
        const mHat = c1 === 1 ? m : tf.div(m, c1);
        const vHat = c2 === 1 ? v : tf.div(v, c2);
        let update = tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon));
        const excluded = excludedFromWeightDecay(name);
        const decays = !excluded && weightDecay > 0;
        if (type === 'adamw') {
          // p − lr·(update + wd·p) = p·(1 − lr·wd) − lr·update: one pass fewer.
          p.assign(tf.sub(decays ? tf.mul(p, 1 - lr * weightDecay) : p, tf.mul(update, lr)));
          return;
        }
        if (decays) update = tf.add(update, tf.mul(p, weightDecay));
        if (!excluded) {
          // Trust ratio ‖p‖ / ‖update‖, 1 where either norm is zero (as NVIDIA's and google's LAMB).
          const pn = tf.norm(p);
          const un = tf.norm(update);
          const ratio = tf.where(
            tf.logicalAnd(tf.greater(pn, 0), tf.greater(un, 0)),
            tf.div(pn, un),
            tf.onesLike(pn),
          );
          update = tf.mul(update, ratio);
        }
        p.assign(tf.sub(p, tf.mul(update, lr)));
      });
    }
    gm.dispose();
    gv.dispose();
  }

  async exportState(): Promise<{ tensors: Map<string, TensorData>; step: number }> {
    const tensors = new Map<string, TensorData>();
    const moments = [...this.moments];
    // Every read is started before the first is awaited: on a GPU they overlap.
    const read = await Promise.all(
      moments.flatMap(([, mo]) => [mo.m.data(), mo.v.data()] as Promise<Float32Array>[]),
    );
    for (const [i, [name, mo]] of moments.entries()) {
      // Copies: an in-place optimizer kernel may later write into what data() returned.
      tensors.set(`${name}.exp_avg`, {
        dtype: 'float32',
        shape: [...mo.m.shape],
        data: Float32Array.from(read[2 * i]),
      });
      tensors.set(`${name}.exp_avg_sq`, {
        dtype: 'float32',
        shape: [...mo.v.shape],
        data: Float32Array.from(read[2 * i + 1]),
      });
    }
    return { tensors, step: this.t };
  }

  importState(
    tensors: ReadonlyMap<string, TensorData>,
    step: number,
    params: ReadonlyMap<string, tf.Variable>,
    source = 'optimizer state',
  ): void {
    const problems: string[] = [];
    const loaded = new Map<string, Moments>();
    if (step > 0) {
      for (const [name, p] of params) {
        const pair: tf.Tensor[] = [];
        for (const suffix of ['exp_avg', 'exp_avg_sq']) {
          const t = tensors.get(`${name}.${suffix}`);
          if (!t) problems.push(`missing ${name}.${suffix}`);
          else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
            problems.push(`${name}.${suffix} is [${t.shape}], expected [${p.shape}]`);
          } else pair.push(tf.tensor(t.data, t.shape, 'float32'));
        }
        if (pair.length === 2) {
          loaded.set(name, { m: tf.variable(pair[0], false), v: tf.variable(pair[1], false) });
        }
        pair.forEach((t) => t.dispose());
      }
    }
    if (problems.length) {
      for (const mo of loaded.values()) {
        mo.m.dispose();
        mo.v.dispose();
      }
      const shown =
        problems.length > 6 ? [...problems.slice(0, 6), `… (${problems.length} in all)`] : problems;
      throw new UserError(`${source}: optimizer state does not fit the model: ${shown.join('; ')}`);
    }
    this.dispose();
    this.moments = loaded;
    this.t = step;
  }

  dispose(): void {
    for (const mo of this.moments.values()) {
      mo.m.dispose();
      mo.v.dispose();
    }
    this.moments.clear();
  }
}

export function createOptimizer(config: OptimizerConfig): Optimizer {
  return new AdamFamily(config);
}

/**
 * tf.clip_by_global_norm's factor for the gradients `grads` / `divisor` (the
 * mean over `divisor` accumulated micro-batches): their global norm ‖g‖ and
 * scale = (1 / divisor) · maxNorm / max(‖g‖, maxNorm), so that
 * scale · grads is the averaged, clipped gradient.
 */
export function globalNormScale(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
  divisor = 1,
): { norm: tf.Scalar; scale: tf.Scalar } {
  return tf.tidy(() => {
    // Stacked and summed rather than one addN: a WebGPU shader binds at most a few
    // (often 8) buffers, and tfjs-webgpu's addN does not split its inputs (its concat does).
    const sum = tf.sqrt(tf.sum(tf.stack([...grads.values()].map((g) => sumSquares(g)))));
    const norm = (divisor === 1 ? sum : tf.div(sum, divisor)) as tf.Scalar;
    const clip = tf.div(maxNorm, tf.maximum(norm, maxNorm));
    return { norm, scale: (divisor === 1 ? clip : tf.div(clip, divisor)) as tf.Scalar };
  });
}

/**
 * tf.clip_by_global_norm: scale every gradient by maxNorm / max(‖g‖, maxNorm).
 * Returns new tensors (the caller disposes the inputs) and the pre-clip norm.
 */
export function clipByGlobalNorm(
  grads: ReadonlyMap<string, tf.Tensor>,
  maxNorm: number,
): { grads: Map<string, tf.Tensor>; norm: tf.Scalar } {
  const { norm, scale } = globalNormScale(grads, maxNorm);
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, tf.mul(g, scale));
  scale.dispose();
  return { grads: out, norm };
}
