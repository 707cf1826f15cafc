/**
 * The encoding machinery shared by all message encoders: a writer with TLV
 * framing and zero padding. It writes straight into the byte pool
 * (`../wire/pool.ts`) when the message fits the current slab, and into a
 * scratch buffer of the largest message size (65535 bytes) otherwise.
 *
 * @module
 */

import { EncodeError } from "../errors.ts";
import {
  copyBytes,
  poolAcquire,
  poolCommit,
  poolRelease,
  poolSlab,
  poolStart,
  SLAB_BYTES,
} from "../wire/pool.ts";
import type { Identifier } from "./types.ts";

/** Largest message: the 16-bit Length field. */
export const MAX_MESSAGE_LENGTH = 0xffff;

/** Thrown inside the writer when a message outgrows the room left in the pool slab. */
const SLAB_FULL: unique symbol = Symbol("slab full");

let scratch: Uint8Array | undefined = new Uint8Array(MAX_MESSAGE_LENGTH + 8);

/** Writes one message at `base` of `buf`. */
export class Writer {
  /** The buffer being written. */
  readonly buf: Uint8Array;
  /** Offset of the message in `buf`. */
  readonly base: number;
  /** Current write position (absolute offset in `buf`). */
  pos: number;
  /**
   * First offset that may not be written. Encoders that write a parameter
   * in line check `pos + n > limit` themselves and call {@link Writer.room}
   * only then (it throws the right error).
   */
  readonly limit: number;
  /** True when running out of room means "retry elsewhere" (the pool slab), not "too long". */
  private readonly retryable: boolean;
  /** Identifier size on the wire: 4 (rfc) or 8 (nextgen). */
  readonly idSize: 4 | 8;

  constructor(buf: Uint8Array, base: number, limit: number, idSize: 4 | 8, retryable: boolean) {
    this.buf = buf;
    this.base = base;
    this.pos = base;
    this.limit = limit;
    this.idSize = idSize;
    this.retryable = retryable;
  }

  /** Message length written so far. */
  get length(): number {
    return this.pos - this.base;
  }

  /** Ensures `n` more bytes fit into the message. */
  room(n: number): void {
    if (this.pos + n > this.limit) {
      if (this.retryable) throw SLAB_FULL;
      throw new EncodeError(
        "too-long",
        "",
        this.limit - this.base < MAX_MESSAGE_LENGTH
          ? "message does not fit into the target buffer"
          : "message would exceed 65535 bytes",
      );
    }
  }

  /** Writes an 8-bit value (caller ensured room). */
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  /** Writes a 16-bit value (caller ensured room). */
  u16(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  /** Writes a 32-bit value (caller ensured room). */
  u32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Writes an identifier of the profile's size, validating its type and range. */
  id(v: Identifier): void {
    this.room(this.idSize);
    if (this.idSize === 4) {
      // `(v >>> 0) === v` holds exactly for the integers 0…0xffffffff.
      if (typeof v !== "number" || (v >>> 0) !== v) throw identifierError(v, false);
      this.u32(v);
      return;
    }
    if (typeof v !== "bigint" || v < 0n || v > 0xffffffffffffffffn) throw identifierError(v, true);
    this.u32(Number(v >> 32n));
    this.u32(Number(v & 0xffffffffn));
  }

  /** Writes bytes. */
  bytes(v: Uint8Array): void {
    const n = v.length;
    this.room(n);
    const b = this.buf;
    const p = this.pos;
    if (n <= 32) {
      for (let i = 0; i < n; i++) b[p + i] = v[i];
    } else {
      b.set(v, p);
    }
    this.pos = p + n;
  }

  /** Starts a TLV; returns its start offset for {@link Writer.endTlv}. */
  beginTlv(type: number): number {
    this.room(4);
    const start = this.pos;
    this.u16(type);
    this.pos += 2;
    return start;
  }

  /** Writes the TLV's Length (padding excluded) and appends zero padding. */
  endTlv(start: number): void {
    const length = this.pos - start;
    const b = this.buf;
    b[start + 2] = length >>> 8;
    b[start + 3] = length;
    const padding = (4 - (length & 3)) & 3;
    if (padding === 0) return;
    this.room(padding);
    for (let i = 0; i < padding; i++) b[this.pos++] = 0;
  }
}

/** The error for an identifier that is not one of the profile's (see {@link Writer.id}). */
export function identifierError(v: unknown, nextgen: boolean): EncodeError {
  return nextgen
    ? new EncodeError(
      "bad-value",
      "",
      `expected a bigint 0…2^64−1 (nextgen profile), got ${String(v)}`,
    )
    : new EncodeError(
      "bad-value",
      "",
      `expected an integer 0…0xffffffff (rfc profile), got ${String(v)}`,
    );
}

/** Writes a big-endian 16-bit value at `p` (for encoders writing in line). */
export function put16(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 8;
  b[p + 1] = v;
}

/** Writes a big-endian 32-bit value at `p` (for encoders writing in line). */
export function put32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

type Write<M> = (w: Writer, message: M) => void;

function make(
  buf: Uint8Array,
  base: number,
  limit: number,
  nextgen: boolean,
  retryable = false,
): Writer {
  return new Writer(buf, base, limit, nextgen ? 8 : 4, retryable);
}

function withScratch<M, T>(
  nextgen: boolean,
  message: M,
  write: Write<M>,
  finish: (w: Writer) => T,
): T {
  const buf = scratch ?? new Uint8Array(MAX_MESSAGE_LENGTH + 8);
  scratch = undefined;
  try {
    const w = make(buf, 0, MAX_MESSAGE_LENGTH, nextgen);
    write(w, message);
    return finish(w);
  } finally {
    scratch = buf;
  }
}

/**
 * Encodes one message into a fresh byte string: directly into the byte pool
 * when it fits the current slab, else via the scratch buffer. Callers pass
 * `large` for messages that are evidently too big for the pool, which saves
 * a failed first attempt.
 */
export function encodeToBytes<M>(
  nextgen: boolean,
  message: M,
  write: Write<M>,
  large = false,
): Uint8Array {
  if (!large && poolAcquire(512)) {
    let result: Uint8Array | undefined;
    try {
      const w = make(poolSlab(), poolStart(), SLAB_BYTES, nextgen, true);
      write(w, message);
      result = poolCommit(w.pos);
      return result;
    } catch (e) {
      if (e !== SLAB_FULL) throw e;
    } finally {
      if (result === undefined) poolRelease();
    }
  }
  return withScratch(nextgen, message, write, (w) => copyBytes(w.buf, 0, w.pos));
}

/** Encodes one message into the scratch buffer and hands it to `use` (valid only during the call). */
export function encodeInScratch<M, T>(
  nextgen: boolean,
  message: M,
  write: Write<M>,
  use: (bytes: Uint8Array) => T,
): T {
  return withScratch(nextgen, message, write, (w) => use(w.buf.subarray(0, w.pos)));
}

/**
 * Rethrows an error from encoding the field `segment` with the segment
 * prefixed to its path (paths are built only when something fails).
 */
export function within(error: unknown, segment: string): unknown {
  return error instanceof EncodeError ? error.within(segment) : error;
}

/** Checks that `v` is an unsigned integer of `bits` bits; returns it. `path` names the field. */
export function checkUint(v: unknown, bits: 8 | 16 | 32, path: string): number {
  // One comparison per width: `(v >>> 0) === v` holds exactly for the
  // integers 0…0xffffffff, `(v & mask) === v` for 0…mask.
  if (
    typeof v !== "number" ||
    (bits === 32 ? (v >>> 0) !== v : (v & ((1 << bits) - 1)) !== v)
  ) {
    const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
    throw new EncodeError("bad-value", path, `expected an integer 0…${max}, got ${String(v)}`);
  }
  return v;
}

/** Checks that `v` is a Uint8Array; returns it. */
export function checkBytes(v: unknown, path: string, minLength = 0): Uint8Array {
  if (!(v instanceof Uint8Array)) {
    throw new EncodeError("bad-value", path, "expected a Uint8Array");
  }
  if (v.length < minLength) {
    throw new EncodeError("bad-value", path, `expected at least ${minLength} byte(s)`);
  }
  return v;
}

/** Encodes one message into `target` at `offset`; returns its length. */
export function encodeIntoBuffer<M>(
  nextgen: boolean,
  message: M,
  write: Write<M>,
  target: Uint8Array,
  offset: number,
): number {
  if (!Number.isInteger(offset) || offset < 0 || offset > target.length) {
    throw new EncodeError("bad-value", "offset", `offset ${offset} outside the target buffer`);
  }
  const w = make(target, offset, Math.min(target.length, offset + MAX_MESSAGE_LENGTH), nextgen);
  write(w, message);
  return w.length;
}
