/**
 * Cache of chunk → token ids keyed by a span of a larger string, so that a
 * lookup allocates nothing: the caller hashes the characters while scanning
 * for the chunk's end, and a hit is confirmed by comparing characters in
 * place. (A Map<string, ids> needs a sliced string and its hash per lookup,
 * which was most of the encoding time.) Open addressing, linear probing;
 * cleared wholesale when half full.
 */

/** Hash step for one UTF-16 code unit (FNV-1a). Start from HASH_SEED. */
export const HASH_SEED = 0x811c9dc5 | 0;
export function hashStep(h: number, c: number): number {
  return Math.imul(h ^ c, 16777619);
}

export class ChunkCache {
  private mask: number;
  private slots: Int32Array;
  private keys: string[] = [];
  private hashes: number[] = [];
  private starts: number[] = [];
  private lengths: number[] = [];
  /** Ids of all cached chunks, back to back. */
  ids: Int32Array;
  private idsUsed = 0;

  constructor(capacityLog2 = 20) {
    this.slots = new Int32Array(1 << capacityLog2);
    this.mask = (1 << capacityLog2) - 1;
    this.ids = new Int32Array(1 << 20);
  }

  get size(): number {
    return this.keys.length;
  }

  /**
   * Entry index of text[start, end) with hash `h`, or -1. Read its ids with
   * `start(e)` / `length(e)` from `ids`.
   */
  find(text: string, start: number, end: number, h: number): number {
    const len = end - start;
    let slot = h & this.mask;
    for (;;) {
      const e = this.slots[slot]! - 1;
      if (e < 0) return -1;
      if (this.hashes[e] === h) {
        const key = this.keys[e]!;
        if (key.length === len) {
          let k = 0;
          while (k < len && key.charCodeAt(k) === text.charCodeAt(start + k)) k++;
          if (k === len) return e;
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  idsStart(e: number): number {
    return this.starts[e]!;
  }
  idsLength(e: number): number {
    return this.lengths[e]!;
  }

  /** Cache `ids` for `key` (whose hash is `h`). */
  add(key: string, h: number, ids: readonly number[]): void {
    if (this.keys.length * 2 >= this.slots.length) this.clear();
    if (this.idsUsed + ids.length > this.ids.length) {
      if (this.ids.length >= 1 << 24) this.clear();
      else {
        const grown = new Int32Array(this.ids.length * 2);
        grown.set(this.ids.subarray(0, this.idsUsed));
        this.ids = grown;
      }
    }
    const e = this.keys.length;
    this.keys.push(key);
    this.hashes.push(h);
    this.starts.push(this.idsUsed);
    this.lengths.push(ids.length);
    for (let k = 0; k < ids.length; k++) this.ids[this.idsUsed++] = ids[k]!;
    let slot = h & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = e + 1;
  }

  clear(): void {
    this.slots.fill(0);
    this.keys = [];
    this.hashes = [];
    this.starts = [];
    this.lengths = [];
    this.idsUsed = 0;
  }
}
