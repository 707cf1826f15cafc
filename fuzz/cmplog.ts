/**
 * Input-to-state replacement (AFL++'s CmpLog, libFuzzer's TORC): when a run
 * compared a value from the input with another, the input most likely holds
 * the first one somewhere in some encoding; writing the second one there in
 * the same encoding passes the comparison. Numbers are looked for at the
 * widths 1, 2, 4 and 8 bytes in both byte orders, strings as UTF-8; each
 * match yields the wanted value and its neighbours (±1, for `<` and `>`).
 *
 * @module
 */

import type { Comparison } from "./feedback.ts";

const utf8 = new TextEncoder();

/** Offsets where `needle` occurs in `haystack` (at most `limit`). */
function occurrences(haystack: Uint8Array, needle: Uint8Array, limit: number): number[] {
  const out: number[] = [];
  const n = needle.length;
  outer: for (let i = 0; i + n <= haystack.length && out.length < limit; i++) {
    for (let j = 0; j < n; j++) if (haystack[i + j] !== needle[j]) continue outer;
    out.push(i);
  }
  return out;
}

/** Bytes needed for a non-negative value: 1, 2, 4 or 8. */
function bytesOf(v: bigint): number {
  return v < 0x100n ? 1 : v < 0x10000n ? 2 : v < 0x100000000n ? 4 : 8;
}

const pad4 = (n: number) => (n + 3) & ~3;

/**
 * Replaces `length` bytes at `at` with `value`, of another length. When they
 * are the whole value of a TLV (RFC 5354 §2: Type, Length, value, padding to
 * four bytes), the TLV's Length and padding are rewritten and every header
 * before it whose Length spans it (enclosing parameters, the message header)
 * grows or shrinks by the same padded amount, so the result still parses as
 * far as the value. Otherwise the bytes are just spliced.
 */
export function spliceParameterValue(
  input: Uint8Array,
  at: number,
  length: number,
  value: Uint8Array,
): Uint8Array {
  const u16 = (b: Uint8Array, p: number) => (b[p] << 8) | b[p + 1];
  const tlv = at >= 4 && u16(input, at - 2) === 4 + length;
  const oldSpan = tlv ? Math.min(pad4(length), input.length - at) : length;
  const newSpan = tlv ? pad4(value.length) : value.length;
  const out = new Uint8Array(input.length - oldSpan + newSpan);
  out.set(input.subarray(0, at));
  out.set(value, at);
  out.set(input.subarray(at + oldSpan), at + newSpan);
  if (!tlv) return out;
  out[at - 2] = (4 + value.length) >> 8;
  out[at - 1] = (4 + value.length) & 0xff;
  const delta = newSpan - oldSpan;
  for (let p = at - 8; p >= 0; p -= 4) {
    const enclosing = u16(input, p + 2);
    if (enclosing >= 8 && p + enclosing >= at + length && p + enclosing <= pad4(input.length)) {
      const grown = enclosing + delta;
      if (grown < 4 || grown > 0xffff) continue;
      out[p + 2] = grown >> 8;
      out[p + 3] = grown & 0xff;
    }
  }
  return out;
}

/** `value` encoded like `like` (same width and byte order), or undefined when it does not fit. */
function encodeLike(
  value: bigint,
  like: Uint8Array,
  littleEndian: boolean,
): Uint8Array | undefined {
  const width = like.length;
  const bits = BigInt(width * 8);
  if (value >= 1n << bits || value < -(1n << (bits - 1n))) return undefined;
  const w = BigInt.asUintN(width * 8, value);
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) {
    const byte = Number((w >> BigInt(8 * i)) & 0xffn);
    out[littleEndian ? i : width - 1 - i] = byte;
  }
  return out;
}

function asBigInt(x: number | bigint | string): bigint | undefined {
  if (typeof x === "bigint") return x;
  if (typeof x === "number" && Number.isSafeInteger(x)) return BigInt(x);
  return undefined;
}

/**
 * Candidate inputs from the comparisons of one recorded run of `input`:
 * each with one operand's encoding replaced by the other's. At most `limit`
 * candidates, distinct, none equal to the input.
 */
export function inputToState(
  input: Uint8Array,
  comparisons: readonly Comparison[],
  limit = 512,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  const push = (at: number, bytes: Uint8Array) => {
    if (out.length >= limit || at + bytes.length > input.length) return;
    let same = true;
    for (let i = 0; i < bytes.length; i++) if (input[at + i] !== bytes[i]) same = false;
    if (same) return;
    const k = `${at}:${bytes.join(",")}`;
    if (seen.has(k)) return;
    seen.add(k);
    const candidate = input.slice();
    candidate.set(bytes, at);
    out.push(candidate);
  };
  const replaceString = (from: string, to: string) => {
    const a = utf8.encode(from);
    const b = utf8.encode(to);
    if (a.length === 0) return;
    for (const at of occurrences(input, a, 8)) {
      if (a.length === b.length) push(at, b);
      else if (out.length < limit) out.push(spliceParameterValue(input, at, a.length, b));
    }
  };
  const pairs = new Set<string>();
  // The most specific comparisons first: strings and wide numbers match few places and are
  // the ones random mutation does not guess; small numbers match many.
  const rank = (c: Comparison) => {
    const width = (x: number | bigint | string) =>
      typeof x === "string" ? 100 : (asBigInt(x) ?? 0n) < 0 ? 8 : bytesOf(asBigInt(x) ?? 0n);
    return -Math.max(width(c.a), width(c.b));
  };
  const ordered = [...comparisons].sort((x, y) => rank(x) - rank(y));
  for (const { a, b } of ordered) {
    if (out.length >= limit) break;
    const pair = `${typeof a}:${a}:${typeof b}:${b}`;
    if (pairs.has(pair)) continue;
    pairs.add(pair);
    for (const [from, to] of [[a, b], [b, a]] as const) {
      if (typeof from === "string" && typeof to === "string") {
        replaceString(from, to);
        continue;
      }
      const x = asBigInt(from);
      const y = asBigInt(to);
      if (x === undefined || y === undefined) continue;
      for (const width of [8, 4, 2, 1]) {
        for (const littleEndian of width === 1 ? [false] : [false, true]) {
          const pattern = encodeLike(x, new Uint8Array(width), littleEndian);
          if (pattern === undefined) continue;
          const positions = occurrences(input, pattern, 8);
          if (positions.length === 0) continue;
          for (const delta of [0n, 1n, -1n]) {
            const bytes = encodeLike(y + delta, pattern, littleEndian);
            if (bytes === undefined) continue;
            for (const at of positions) push(at, bytes);
          }
        }
      }
    }
  }
  return out;
}
