/**
 * Dropout keep-masks from a small, fast, seeded generator in JavaScript.
 *
 * The masks must not depend on the backend (every backend and formulation
 * drops the same units, so loss curves compare across them) and must be
 * reproducible from a string seed (resume gives the same step). tfjs's seeded
 * `randomUniform` meets both but runs seedrandom's Alea value by value
 * (~9 ns each: ~20 ms of a BERT-Tiny step, ~45 ms of a Mini one) and then
 * needs three more kernels (add, floor, div) to turn uniforms into a mask.
 * This writes the scaled mask directly: sfc32 (Chris Doty-Humphrey's Small
 * Fast Counting generator, 128-bit state; passes PractRand to ≥ 2^40
 * bytes), seeded by a 128-bit hash of the seed string. With the native
 * kernels built (`bert setup native`) the same generator runs in C (same
 * values, ~10× faster); `useNativeMaskGenerator` switches it in.
 */

/** Fills `out` from sfc32 state (a, b, c, d) after the 12 warm-up rounds, as the loop below does. */
export type MaskGenerator = (
  out: Float32Array,
  a: number,
  b: number,
  c: number,
  d: number,
  threshold: number,
  scale: number,
) => void;

let nativeGenerator: MaskGenerator | null = null;

/** Use `generator` (null: the JavaScript loop) for every mask from now on. */
export function useNativeMaskGenerator(generator: MaskGenerator | null): void {
  nativeGenerator = generator;
}

/** Four 32-bit words from a string: cyrb128-style multiply-xorshift mixing. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  // As int32s (not >>> 0): the generator loop then stays in integer registers.
  return [h1 | 0, h2 | 0, h3 | 0, h4 | 0];
}

/**
 * `size` values, each 1/keep with probability `keep` and 0 otherwise
 * (inverted dropout's scaled mask), determined by `seed` alone.
 */
export function keepMask(
  seed: string,
  size: number,
  keep: number,
  generator: MaskGenerator | null = nativeGenerator,
): Float32Array {
  const out = new Float32Array(size);
  let [a, b, c, d] = hash128(seed);
  // Compare raw 32-bit draws with keep·2³² instead of building floats (as signed
  // int32s, offset by 2³¹: V8 keeps the loop in integer registers).
  const threshold = Math.floor(keep * 4294967296) - 2147483648;
  const scale = 1 / keep;
  if (generator) {
    generator(out, a, b, c, d, threshold, scale);
    return out;
  }
  // 12 warm-up rounds (i < 0) decorrelate nearby seeds' first outputs.
  for (let i = -12; i < size; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    if (i >= 0 && (t ^ -2147483648) < threshold) out[i] = scale;
  }
  return out;
}
