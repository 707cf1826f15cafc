/**
 * The decoding machinery shared by all message decoders: a context over the
 * input bytes and a sequential scanner of parameters (TLVs) inside one
 * container, applying the padding rules and the unrecognized-parameter
 * action bits of RFC 5354 §2.
 *
 * Every length is checked against the bytes of its container before it is
 * used; nothing is allocated from an unchecked length.
 *
 * @module
 */

import { DecodeError, type DecodeErrorCode } from "../errors.ts";
import { ParameterType } from "./constants.ts";
import type { ResolvedDecodeOptions } from "./options.ts";
import type { Identifier } from "./types.ts";

/** Reads a big-endian 16-bit value. */
export function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

/** Reads a big-endian unsigned 32-bit value. */
export function u32(b: Uint8Array, p: number): number {
  return b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

/** Throws a {@link DecodeError}. */
export function fail(code: DecodeErrorCode, offset: number, message: string): never {
  throw new DecodeError(code, offset, message);
}

/** Human-readable names of the parameter types, for error messages. */
export const PARAMETER_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ParameterType).map(([name, code]) => [code, name]),
);

function parameterName(type: number): string {
  return PARAMETER_NAMES.get(type) ??
    `parameter 0x${type.toString(16).padStart(4, "0")}`;
}

/** State of one decode call: the input, the options, the identifier size. */
export class DecodeContext {
  /** The input. */
  readonly b: Uint8Array;
  /** Resolved options. */
  readonly o: ResolvedDecodeOptions;
  /** Strict mode (the inverse of lenient). */
  readonly strict: boolean;
  /** Size of an identifier on the wire: 4 (rfc) or 8 (nextgen). */
  readonly idSize: 4 | 8;

  constructor(b: Uint8Array, o: ResolvedDecodeOptions) {
    this.b = b;
    this.o = o;
    this.strict = !o.lenient;
    this.idSize = o.nextgen ? 8 : 4;
  }

  /** Reads an identifier: a number (rfc) or a bigint (nextgen). */
  id(p: number): Identifier {
    const b = this.b;
    if (this.idSize === 4) return u32(b, p);
    return (BigInt(u32(b, p)) << 32n) | BigInt(u32(b, p + 4));
  }

  /** True when `type` is a parameter type this profile defines. */
  known(type: number): boolean {
    if (type >= 0x0001 && type <= 0x000f) return true;
    if (type === ParameterType.HandleResolutionOption) return true;
    return this.o.nextgen && type >= 0x500a && type <= 0x500f &&
      type !== 0x500c && type !== 0x500d;
  }

  /**
   * In strict mode, rejects non-zero bytes in `[from, to)` (padding or
   * reserved fields). `what` names them, or is the parameter type whose
   * padding they are (the name is only built when failing).
   */
  zeros(from: number, to: number, code: DecodeErrorCode, what: string | number): void {
    if (!this.strict) return;
    const b = this.b;
    for (let i = from; i < to; i++) {
      if (b[i] !== 0) {
        const name = typeof what === "number" ? `padding of ${parameterName(what)}` : what;
        fail(code, i, `${name} is not zero`);
      }
    }
  }

  /** In strict mode, rejects flag bits outside `allowed`. */
  flags(flags: number, allowed: number): void {
    if (this.strict && (flags & ~allowed) !== 0) {
      fail("reserved-bits", 1, `reserved message flags 0x${flags.toString(16)} set`);
    }
  }
}

/**
 * Walks the parameters of one container (a message body or a parameter
 * value) in order. `peek()` returns the type of the next recognized
 * parameter, or -1 at the end, after applying the action bits to every
 * unrecognized one on the way.
 */
export class Scanner {
  /** Offset of the next parameter. */
  pos: number;
  /** End of the container. */
  readonly end: number;
  /** Type of the peeked parameter, -1 if none is peeked. */
  type = -1;
  /** Offset of the peeked parameter's header. */
  start = 0;
  /** Length field of the peeked parameter (header included, padding excluded). */
  length = 0;
  private next = 0;
  private readonly d: DecodeContext;

  constructor(d: DecodeContext, pos: number, end: number) {
    this.d = d;
    this.pos = pos;
    this.end = end;
  }

  /** Offset of the peeked parameter's value. */
  get value(): number {
    return this.start + 4;
  }

  /** Type of the next recognized parameter, or -1 when the container is exhausted. */
  peek(): number {
    if (this.type !== -1) return this.type;
    const d = this.d;
    const b = d.b;
    while (this.pos < this.end) {
      const p = this.pos;
      if (p + 4 > this.end) {
        fail("bad-parameter-length", p, "parameter header runs past its container");
      }
      const type = u16(b, p);
      const length = u16(b, p + 2);
      if (length < 4) {
        fail("bad-parameter-length", p + 2, `${parameterName(type)} has Length ${length} < 4`);
      }
      if (p + length > this.end) {
        fail(
          "bad-parameter-length",
          p + 2,
          `${parameterName(type)} with Length ${length} runs past its container`,
        );
      }
      let next = p + ((length + 3) & ~3);
      if (next > this.end) {
        if (d.strict) {
          fail("bad-padding", p + length, `padding of ${parameterName(type)} is missing`);
        }
        next = this.end;
      } else {
        d.zeros(p + length, next, "bad-padding", type);
      }
      if (d.known(type)) {
        this.type = type;
        this.start = p;
        this.length = length;
        this.next = next;
        return type;
      }
      this.unrecognized(type, p, length);
      this.pos = next;
    }
    return -1;
  }

  private unrecognized(type: number, p: number, length: number): void {
    const action = type >>> 14;
    const report = (action & 1) === 1;
    if (action < 2) {
      throw new DecodeError(
        "unrecognized-parameter",
        p,
        `unrecognized ${parameterName(type)}; its action bits say stop${
          report ? " and report" : ""
        }`,
        { parameter: this.d.b.slice(p, p + length), report },
      );
    }
    const callback = this.d.o.onUnrecognizedParameter;
    if (callback !== undefined) {
      callback({ type, offset: p, parameter: this.d.b.slice(p, p + length), report });
    }
  }

  /** Consumes the peeked parameter. */
  advance(): void {
    this.pos = this.next;
    this.type = -1;
  }

  /** Requires the next parameter to be `type`; throws `missing-parameter` or `unexpected-parameter`. */
  expect(type: number): void {
    const got = this.peek();
    if (got === type) return;
    if (got === -1) {
      fail("missing-parameter", this.end, `${parameterName(type)} missing`);
    }
    fail(
      "unexpected-parameter",
      this.start,
      `expected ${parameterName(type)}, found ${parameterName(got)}`,
    );
  }

  /** Requires the value of the peeked parameter to be exactly `size` bytes. */
  exactValue(size: number): void {
    if (this.length !== size + 4) {
      fail(
        "bad-parameter-length",
        this.start + 2,
        `${parameterName(this.type)} has Length ${this.length}, expected ${size + 4}`,
      );
    }
  }

  /** Requires the container to hold no further recognized parameter. */
  finish(): void {
    const got = this.peek();
    if (got !== -1) {
      fail("unexpected-parameter", this.start, `unexpected ${parameterName(got)}`);
    }
  }
}
