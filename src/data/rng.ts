/**
 * A seeded, splittable pseudo-random generator for the data pipeline.
 *
 * Every random decision in the pipeline comes from a generator derived from a
 * key such as (seed, epoch, instance index): `Rng.derive(seed, ...keys)`. The
 * stream is therefore a pure function of those numbers, so a resumed run (or
 * the worker and an in-thread builder) see exactly the same data without
 * replaying anything. The generator is xoshiro128** (Blackman & Vigna), whose
 * whole state is four uint32 words: `state()` / `Rng.fromState()` round-trip it.
 */

export type RngState = readonly [number, number, number, number];

/** splitmix32 finaliser: a bijective mix of a uint32, used to spread keys. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Fold a list of integers (any size up to 2^53) into one well-mixed uint32 hash. */
export function hashKeys(keys: readonly number[]): number {
  let h = 0x2545f491;
  for (const k of keys) {
    if (!Number.isSafeInteger(k)) throw new RangeError(`rng key must be a safe integer, got ${k}`);
    const lo = k >>> 0;
    const hi = Math.floor(k / 0x100000000) >>> 0;
    h = mix32(h ^ lo);
    h = mix32(h ^ hi ^ 0x68e31da4);
  }
  return h;
}

const TWO_POW_32 = 0x100000000;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(s: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = s;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero is a fixed point
  }

  /** A generator determined by (seed, ...keys): different keys give independent streams. */
  static derive(seed: number, ...keys: number[]): Rng {
    const h = hashKeys([seed, ...keys]);
    // Expand the hash into four words with splitmix32 steps.
    let x = h;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      words.push(mix32(x ^ (i * 0x632be5ab)));
    }
    return new Rng(words as unknown as RngState);
  }

  static fromState(state: RngState): Rng {
    return new Rng(state);
  }

  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 bits of precision (like Python's random()). */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi], both inclusive (Python's randint). */
  randint(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`randint(${lo}, ${hi}): empty range`);
    return lo + this.below(hi - lo + 1);
  }

  /** Uniform integer in [0, n), unbiased (rejection on the uint32 range). */
  below(n: number): number {
    if (!(n >= 1 && n <= TWO_POW_32)) throw new RangeError(`below(${n}): n must be in [1, 2^32]`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<E, T extends { length: number; [i: number]: E }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
