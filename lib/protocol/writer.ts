/**
 * The encoding machinery shared by all message encoders: a writer over a
 * scratch buffer large enough for the largest message (65535 bytes), with
 * TLV framing and zero padding.
 *
 * @module
 */

import { EncodeError } from "../errors.ts";
import type { Identifier } from "./types.ts";

/** Largest message: the 16-bit Length field. */
export const MAX_MESSAGE_LENGTH = 0xffff;

let shared: Uint8Array | undefined = new Uint8Array(MAX_MESSAGE_LENGTH + 8);

/** Writes one message. Obtain with {@link Writer.acquire}, give back with {@link Writer.release}. */
export class Writer {
  /** The buffer being written. */
  readonly buf: Uint8Array;
  /** Current write position. */
  pos = 0;
  /** Identifier size on the wire: 4 (rfc) or 8 (nextgen). */
  readonly idSize: 4 | 8;

  private constructor(buf: Uint8Array, idSize: 4 | 8) {
    this.buf = buf;
    this.idSize = idSize;
  }

  /** A writer over the shared scratch buffer (or a fresh one if it is in use). */
  static acquire(nextgen: boolean): Writer {
    const buf = shared ?? new Uint8Array(MAX_MESSAGE_LENGTH + 8);
    shared = undefined;
    return new Writer(buf, nextgen ? 8 : 4);
  }

  /** Returns the scratch buffer for the next encode. */
  static release(w: Writer): void {
    shared = w.buf;
  }

  /** Ensures `n` more bytes fit into a message. */
  room(n: number, path: string): void {
    if (this.pos + n > MAX_MESSAGE_LENGTH) {
      throw new EncodeError("too-long", path, "message would exceed 65535 bytes");
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
  id(v: Identifier, path: string): void {
    this.room(this.idSize, path);
    if (this.idSize === 4) {
      if (typeof v !== "number" || !(v >= 0 && v <= 0xffffffff) || !Number.isInteger(v)) {
        throw new EncodeError(
          "bad-value",
          path,
          `expected an integer 0…0xffffffff (rfc profile), got ${String(v)}`,
        );
      }
      this.u32(v);
      return;
    }
    if (typeof v !== "bigint" || v < 0n || v > 0xffffffffffffffffn) {
      throw new EncodeError(
        "bad-value",
        path,
        `expected a bigint 0…2^64−1 (nextgen profile), got ${String(v)}`,
      );
    }
    this.u32(Number(v >> 32n));
    this.u32(Number(v & 0xffffffffn));
  }

  /** Writes bytes. */
  bytes(v: Uint8Array, path: string): void {
    this.room(v.length, path);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Starts a TLV; returns its start offset for {@link Writer.endTlv}. */
  beginTlv(type: number, path: string): number {
    this.room(4, path);
    const start = this.pos;
    this.u16(type);
    this.pos += 2;
    return start;
  }

  /** Writes the TLV's Length (padding excluded) and appends zero padding. */
  endTlv(start: number, path: string): void {
    const length = this.pos - start;
    const b = this.buf;
    b[start + 2] = length >>> 8;
    b[start + 3] = length;
    const padded = (this.pos + 3) & ~3;
    this.room(padded - this.pos, path);
    while (this.pos < padded) b[this.pos++] = 0;
  }
}

/** Checks that `v` is an unsigned integer of `bits` bits; returns it. */
export function checkUint(v: unknown, bits: 8 | 16 | 32, path: string): number {
  const max = bits === 32 ? 0xffffffff : (1 << bits) - 1;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
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
