/**
 * The few protocol-buffer wire-format pieces a checkpoint index needs:
 * varints, length-delimited fields and fixed32, decoded into a list of
 * (field number, value) pairs and encoded back. No schema, no reflection:
 * bundle.ts names the fields of BundleHeaderProto / BundleEntryProto.
 */

export type WireValue =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 2; value: Uint8Array }
  | { field: number; wire: 5; value: number }
  | { field: number; wire: 1; value: bigint };

/** An unsigned varint at `pos`: its value and the position after it. Throws on a truncated one. */
export function readVarint(bytes: Uint8Array, pos: number): { value: bigint; next: number } {
  let result = 0n;
  let shift = 0n;
  for (let i = pos; i < bytes.length && shift < 70n; i++) {
    const b = bytes[i];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: result, next: i + 1 };
    shift += 7n;
  }
  throw new Error(`truncated varint at byte ${pos}`);
}

/** A varint that must fit a JavaScript number (lengths, offsets up to 2^53). */
export function readVarintNumber(bytes: Uint8Array, pos: number): { value: number; next: number } {
  const { value, next } = readVarint(bytes, pos);
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`varint at byte ${pos} is too large`);
  return { value: Number(value), next };
}

export function encodeVarint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n; // negative int32/int64 are written as 10-byte two's complement
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** Every field of one message, in file order. Throws a plain Error on malformed bytes. */
export function decodeMessage(bytes: Uint8Array): WireValue[] {
  const fields: WireValue[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const key = readVarintNumber(bytes, pos);
    pos = key.next;
    const field = Math.floor(key.value / 8);
    const wire = key.value & 7;
    if (field === 0) throw new Error('field number 0');
    if (wire === 0) {
      const v = readVarint(bytes, pos);
      fields.push({ field, wire, value: v.value });
      pos = v.next;
    } else if (wire === 2) {
      const len = readVarintNumber(bytes, pos);
      pos = len.next;
      if (pos + len.value > bytes.length) throw new Error(`field ${field} runs past the message`);
      fields.push({ field, wire, value: bytes.subarray(pos, pos + len.value) });
      pos += len.value;
    } else if (wire === 5) {
      if (pos + 4 > bytes.length) throw new Error(`field ${field} runs past the message`);
      const view = new DataView(bytes.buffer, bytes.byteOffset + pos, 4);
      fields.push({ field, wire, value: view.getUint32(0, true) });
      pos += 4;
    } else if (wire === 1) {
      if (pos + 8 > bytes.length) throw new Error(`field ${field} runs past the message`);
      const view = new DataView(bytes.buffer, bytes.byteOffset + pos, 8);
      fields.push({ field, wire, value: view.getBigUint64(0, true) });
      pos += 8;
    } else {
      throw new Error(`unsupported wire type ${wire} for field ${field}`);
    }
  }
  return fields;
}

/** Builds one message field by field (callers write fields in field-number order). */
export class MessageWriter {
  private readonly bytes: number[] = [];

  varint(field: number, value: number | bigint): this {
    this.bytes.push(...encodeVarint(field * 8), ...encodeVarint(value));
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.bytes.push(...encodeVarint(field * 8 + 2), ...encodeVarint(value.length), ...value);
    return this;
  }

  fixed32(field: number, value: number): this {
    this.bytes.push(
      ...encodeVarint(field * 8 + 5),
      value & 0xff,
      (value >>> 8) & 0xff,
      (value >>> 16) & 0xff,
      (value >>> 24) & 0xff,
    );
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
