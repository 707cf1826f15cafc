/**
 * Handlespace checksums carried in the PE Checksum parameter of
 * ENRP_PRESENCE (RFC 5353 §3.8 audit, RFC 5354 §3.15).
 *
 * Each pool element contributes the words of
 * `poolHandle || zero padding || PE identifier` (big-endian). The
 * checksum over a set of elements is the one's-complement of the
 * one's-complement sum of all their words (RFC 1071):
 *
 * - Internet-16 (RFC profile): 16-bit words, the handle padded to an even
 *   length, a 4-byte PE identifier. Bit-exact with RSPLIB.
 * - Internet-32 (next-generation profile, `docs/nextgen.md`): 32-bit words,
 *   the handle padded to a multiple of 4, a 4- or 8-byte identifier.
 *
 * {@link ChecksumAccumulator} keeps the sum of a changing set incrementally
 * in O(1) per change; an empty set has checksum 0xffff (0xffffffff).
 *
 * @module
 */

import type { Identifier } from "./types.ts";

/** Width of a handlespace checksum. */
export type ChecksumWidth = 16 | 32;

/**
 * The unfolded sum of one pool element's words for a checksum of `width`
 * bits: the value {@link ChecksumAccumulator.add} takes. Exact (fits a
 * double) for pool handles up to 64 KiB.
 */
export function poolElementChecksumTerm(
  poolHandle: Uint8Array,
  identifier: Identifier,
  width: ChecksumWidth = 16,
): number {
  let sum = 0;
  const n = poolHandle.length;
  if (width === 16) {
    let i = 0;
    for (; i + 1 < n; i += 2) sum += (poolHandle[i] << 8) | poolHandle[i + 1];
    if (i < n) sum += poolHandle[i] << 8;
  } else {
    let i = 0;
    for (; i + 3 < n; i += 4) {
      sum += poolHandle[i] * 0x1000000 +
        ((poolHandle[i + 1] << 16) | (poolHandle[i + 2] << 8) | poolHandle[i + 3]);
    }
    let tail = 0;
    for (let shift = 24; i < n; i++, shift -= 8) tail += poolHandle[i] * 2 ** shift;
    sum += tail;
  }
  if (typeof identifier === "bigint") {
    const high = Number((identifier >> 32n) & 0xffffffffn);
    const low = Number(identifier & 0xffffffffn);
    return sum + wordsOf(high, width) + wordsOf(low, width);
  }
  return sum + wordsOf(identifier, width);
}

function wordsOf(value32: number, width: ChecksumWidth): number {
  return width === 16 ? Math.floor(value32 / 0x10000) + (value32 & 0xffff) : value32;
}

/**
 * Folds an unfolded sum to `width` bits with end-around carry and
 * complements it: the checksum value to put on the wire.
 */
export function finishChecksum(sum: number, width: ChecksumWidth = 16): number {
  const modulus = width === 16 ? 0xffff : 0xffffffff;
  // One's-complement folding: 0 stays 0; any other multiple of the modulus folds to the modulus.
  const folded = sum === 0 ? 0 : sum % modulus === 0 ? modulus : sum % modulus;
  return modulus - folded;
}

/**
 * The checksum of a set of (pool handle, PE identifier) pairs, computed
 * from scratch.
 */
export function handlespaceChecksum(
  elements: Iterable<readonly [Uint8Array, Identifier]>,
  width: ChecksumWidth = 16,
): number {
  const accumulator = new ChecksumAccumulator(width);
  for (const [handle, id] of elements) {
    accumulator.add(poolElementChecksumTerm(handle, id, width));
  }
  return accumulator.value;
}

/**
 * Incremental one's-complement sum of a changing set of pool elements.
 * Exact for any number of elements: the sum is kept modulo 2^width − 1
 * (reduced only when it grows large, and when read), together with the
 * number of non-zero terms (which tells a true zero sum from a non-zero
 * multiple of the modulus).
 */
export class ChecksumAccumulator {
  /** Checksum width in bits. */
  readonly width: ChecksumWidth;
  private readonly modulus: number;
  /** A number congruent to the sum modulo 2^width − 1, kept within ±2^52. */
  private residue = 0;
  private nonZeroTerms = 0;
  /** The value as last read, -1 after a change. */
  private cached = -1;

  /**
   * Creates an accumulator for an empty set.
   *
   * @param width 16 (Internet-16) or 32 (Internet-32)
   */
  constructor(width: ChecksumWidth = 16) {
    this.width = width;
    this.modulus = width === 16 ? 0xffff : 0xffffffff;
  }

  /** Adds one element's term ({@link poolElementChecksumTerm}). */
  add(term: number): void {
    this.cached = -1;
    if (term !== 0) this.nonZeroTerms++;
    this.residue += term;
    if (this.residue > 2 ** 52) this.residue %= this.modulus;
  }

  /** Removes one element's term that was added before. */
  subtract(term: number): void {
    this.cached = -1;
    if (term !== 0) this.nonZeroTerms--;
    this.residue -= term;
    if (this.residue < -(2 ** 52)) this.residue %= this.modulus;
  }

  /** The checksum of the current set, as sent on the wire. */
  get value(): number {
    if (this.cached >= 0) return this.cached;
    if (this.nonZeroTerms === 0) return this.cached = this.modulus;
    const m = this.modulus;
    const r = ((this.residue % m) + m) % m;
    return this.cached = m - (r === 0 ? m : r);
  }
}

/**
 * RSPLIB 3.4.4's Internet-16 arithmetic, reproduced for interoperability
 * in very large handlespaces: RSPLIB (on little-endian hosts) adds
 * host-order 16-bit words into a 32-bit accumulator that wraps around
 * without folding. The result equals {@link ChecksumAccumulator}'s until
 * the accumulated sum of one owner's elements passes 2^32 (in practice
 * tens of thousands of elements), after which each wrap-around lowers
 * RSPLIB's checksum by one. Use this where a peer is RSPLIB.
 */
export class RsplibChecksumAccumulator {
  private sum = 0;
  /** The value as last read, -1 after a change. */
  private cached = -1;

  /** The little-endian term of one element (RSPLIB `poolElementNodeComputeChecksum` on x86). */
  static term(poolHandle: Uint8Array, identifier: number): number {
    let sum = 0;
    const n = poolHandle.length;
    let i = 0;
    for (; i + 1 < n; i += 2) sum += poolHandle[i] | (poolHandle[i + 1] << 8);
    if (i < n) sum += poolHandle[i];
    const high = Math.floor(identifier / 0x10000);
    const low = identifier & 0xffff;
    // Identifier bytes in network order, read as little-endian 16-bit words.
    sum += ((high >>> 8) | ((high & 0xff) << 8)) + ((low >>> 8) | ((low & 0xff) << 8));
    return sum;
  }

  /** Adds a term from {@link RsplibChecksumAccumulator.term} (uint32 wrap-around). */
  add(term: number): void {
    this.cached = -1;
    this.sum = (this.sum + term) >>> 0;
  }

  /** Subtracts a term (uint32 wrap-around). */
  subtract(term: number): void {
    this.cached = -1;
    this.sum = (this.sum - term) >>> 0;
  }

  /** The checksum as RSPLIB puts it on the wire, read as a big-endian 16-bit value. */
  get value(): number {
    if (this.cached >= 0) return this.cached;
    let s = this.sum;
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    const host = ~s & 0xffff;
    return this.cached = ((host & 0xff) << 8) | (host >>> 8);
  }
}
