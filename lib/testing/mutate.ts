/**
 * Mutators: byte-level (bit flips, interesting integers, insertions,
 * deletions, splicing) and structure-aware for ASAP/ENRP TLV messages
 * (lengths, types and action bits, truncation, duplication, reordering
 * and removal of parameters, at any nesting depth).
 *
 * All randomness comes from the caller's {@link Rng}, so a run is
 * reproducible from its seed.
 *
 * @module
 */

import { SeededRandom } from "../policy/random.ts";

/** Seeded choices for mutators: {@link SeededRandom} with the helpers fuzzing needs. */
export class Rng extends SeededRandom {
  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    return this.nextUint32();
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : this.nextUint32() % n;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.nextUint32() / 0x100000000 < p;
  }

  /** One element of a list. */
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)];
  }
}

const INTERESTING_16 = [
  0,
  1,
  2,
  3,
  4,
  5,
  7,
  8,
  12,
  16,
  0x7f,
  0x80,
  0xff,
  0x100,
  0x7fff,
  0x8000,
  0xfffe,
  0xffff,
];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0xffff];
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0xc0];

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One byte-level mutation of a copy of `input`; `others` feed splicing. */
export function mutateBytes(
  rng: Rng,
  input: Uint8Array,
  others: readonly Uint8Array[],
): Uint8Array {
  let b = input.slice();
  const n = b.length;
  switch (rng.below(10)) {
    case 0: // flip bits
      for (let k = 1 + rng.below(4); k > 0 && n > 0; k--) b[rng.below(n)] ^= 1 << rng.below(8);
      return b;
    case 1: // interesting byte
      if (n > 0) b[rng.below(n)] = rng.pick(INTERESTING_8);
      return b;
    case 2: // interesting 16-bit value, often at an even offset (lengths, types)
      if (n >= 2) {
        const at = rng.chance(0.7) ? rng.below(n >> 1) * 2 : rng.below(n - 1);
        put16(b, at, rng.chance(0.5) ? rng.pick(INTERESTING_16) : (n + rng.below(9) - 4) & 0xffff);
      }
      return b;
    case 3: // interesting 32-bit value
      if (n >= 4) put32(b, rng.below(n - 3) & ~(rng.chance(0.7) ? 3 : 0), rng.pick(INTERESTING_32));
      return b;
    case 4: { // insert random bytes
      const at = rng.below(n + 1);
      const extra = new Uint8Array(1 + rng.below(rng.chance(0.1) ? 256 : 8));
      for (let i = 0; i < extra.length; i++) extra[i] = rng.u32() & 0xff;
      return concat([b.subarray(0, at), extra, b.subarray(at)]);
    }
    case 5: { // delete a range
      if (n === 0) return b;
      const at = rng.below(n);
      const len = 1 + rng.below(Math.min(16, n - at));
      return concat([b.subarray(0, at), b.subarray(at + len)]);
    }
    case 6: // truncate
      return b.subarray(0, rng.below(n + 1)).slice();
    case 7: { // duplicate a range
      if (n === 0) return b;
      const at = rng.below(n);
      const len = 1 + rng.below(Math.min(64, n - at));
      const to = rng.below(n + 1);
      return concat([b.subarray(0, to), b.subarray(at, at + len), b.subarray(to)]);
    }
    case 8: { // splice with another input
      if (others.length === 0) return b;
      const other = rng.pick(others);
      const cut = rng.below(n + 1);
      const from = rng.below(other.length + 1);
      return concat([b.subarray(0, cut), other.subarray(from)]);
    }
    default: { // random byte run
      if (n === 0) return b;
      const at = rng.below(n);
      const len = 1 + rng.below(Math.min(8, n - at));
      for (let i = at; i < at + len; i++) b[i] = rng.u32() & 0xff;
      b = b.slice();
      return b;
    }
  }
}

/** A TLV found in a message: where its header is, its length field, its end with padding. */
interface Tlv {
  readonly at: number;
  readonly length: number;
  readonly end: number;
}

/** Parameter types whose value holds further parameters: after how many fixed bytes. */
function nestedOffset(type: number): number | undefined {
  switch (type) {
    case 0x0003: // DCCP Transport: port, reserved, service code
      return 8;
    case 0x0004: // SCTP, TCP, UDP, UDP-Lite Transport: port, transport use or reserved
    case 0x0005:
    case 0x0006:
    case 0x0007:
      return 4;
    case 0x000a: // Pool Element: PE id, home PR id, registration life
      return 12;
    case 0x500a: // next-generation Pool Element: 64-bit ids
      return 20;
    case 0x000b: // Server Information: registrar id
      return 4;
    case 0x500b:
      return 8;
    default:
      return undefined;
  }
}

/** Every well-formed-looking TLV of a chain, recursively. */
function findTlvs(b: Uint8Array, from: number, to: number, out: Tlv[], depth = 0): void {
  let p = from;
  while (p + 4 <= to && depth < 6) {
    const type = (b[p] << 8) | b[p + 1];
    const length = (b[p + 2] << 8) | b[p + 3];
    if (length < 4 || p + length > to) return;
    const end = Math.min(to, p + ((length + 3) & ~3));
    out.push({ at: p, length, end });
    const inner = nestedOffset(type);
    if (inner !== undefined && 4 + inner < length) {
      findTlvs(b, p + 4 + inner, p + length, out, depth + 1);
    }
    p = end;
  }
}

const TYPES = [
  0x0001,
  0x0002,
  0x0003,
  0x0004,
  0x0005,
  0x0006,
  0x0007,
  0x0008,
  0x0009,
  0x000a,
  0x000b,
  0x000c,
  0x000d,
  0x000e,
  0x000f,
  0x803f,
  0x500a,
  0x500b,
  0x500e,
  0x500f,
  0x0010,
  0x3fff,
];

/**
 * One structure-aware mutation of an ASAP/ENRP message (4-byte header,
 * then TLVs): at a random parameter, any depth, or at the header.
 */
export function mutateMessage(
  rng: Rng,
  input: Uint8Array,
  others: readonly Uint8Array[],
): Uint8Array {
  const tlvs: Tlv[] = [];
  if (input.length >= 4) findTlvs(input, 4, input.length, tlvs);
  if (tlvs.length === 0 || rng.chance(0.15)) {
    const b = input.slice();
    if (b.length >= 4 && rng.chance(0.6)) {
      switch (rng.below(3)) {
        case 0:
          b[0] = rng.chance(0.5) ? rng.below(16) : rng.u32() & 0xff; // message type
          break;
        case 1:
          b[1] = rng.pick(INTERESTING_8) | (rng.u32() & 0xff & (rng.chance(0.5) ? 1 : 0xff)); // flags
          break;
        default:
          put16(
            b,
            2,
            rng.chance(0.5) ? rng.pick(INTERESTING_16) : (b.length + rng.below(9) - 4) & 0xffff,
          );
      }
      return b;
    }
    return mutateBytes(rng, input, others);
  }
  const t = rng.pick(tlvs);
  const b = input.slice();
  switch (rng.below(8)) {
    case 0: // its Length
      put16(
        b,
        t.at + 2,
        rng.chance(0.5) ? rng.pick(INTERESTING_16) : (t.length + rng.below(17) - 8) & 0xffff,
      );
      return b;
    case 1: // its type
      put16(b, t.at, rng.pick(TYPES));
      return b;
    case 2: // its action bits
      b[t.at] = (b[t.at] & 0x3f) | (rng.below(4) << 6);
      return b;
    case 3: // truncate inside it
      return b.subarray(0, t.at + rng.below(t.end - t.at)).slice();
    case 4: // duplicate it
      return concat([b.subarray(0, t.end), b.subarray(t.at, t.end), b.subarray(t.end)]);
    case 5: { // swap it with a sibling-looking TLV after it
      const later = tlvs.filter((u) => u.at >= t.end);
      if (later.length === 0) return b;
      const u = rng.pick(later);
      return concat([
        b.subarray(0, t.at),
        b.subarray(u.at, u.end),
        b.subarray(t.end, u.at),
        b.subarray(t.at, t.end),
        b.subarray(u.end),
      ]);
    }
    case 6: // remove it
      return concat([b.subarray(0, t.at), b.subarray(t.end)]);
    default: { // insert an unknown or known TLV before it
      const value = new Uint8Array(rng.below(12));
      for (let i = 0; i < value.length; i++) value[i] = rng.u32() & 0xff;
      const tlv = new Uint8Array(4 + ((value.length + 3) & ~3));
      put16(tlv, 0, rng.chance(0.5) ? rng.pick(TYPES) : rng.u32() & 0xffff);
      put16(tlv, 2, 4 + value.length);
      tlv.set(value, 4);
      return concat([b.subarray(0, t.at), tlv, b.subarray(t.at)]);
    }
  }
}

/** A parameter value on its own is a TLV chain from offset 0. */
export function mutateParameter(
  rng: Rng,
  input: Uint8Array,
  others: readonly Uint8Array[],
): Uint8Array {
  // Pretend a 4-byte message header so that the TLV mutator can work at offset 0.
  const header = new Uint8Array(4);
  const framed = concat([header, input]);
  const other = others.length === 0 ? [] : [concat([header, rng.pick(others)])];
  return mutateMessage(rng, framed, other).subarray(4).slice();
}

/**
 * Writes one of `tokens` (a fuzzing dictionary: protocol constants, values
 * parsers compare against) over the input or inserts it, at a random
 * offset. Returns the input itself when there are no tokens.
 */
export function insertToken(
  rng: Rng,
  input: Uint8Array,
  tokens: readonly Uint8Array[],
): Uint8Array {
  if (tokens.length === 0) return input;
  const token = tokens[rng.below(tokens.length)];
  const at = rng.below(input.length + 1);
  if (rng.chance(0.5) && at + token.length <= input.length) {
    const out = input.slice();
    out.set(token, at);
    return out;
  }
  const out = new Uint8Array(input.length + token.length);
  out.set(input.subarray(0, at));
  out.set(token, at);
  out.set(input.subarray(at), at + token.length);
  return out;
}
