/**
 * Message framing on byte streams (TCP, TLS), sans-IO.
 *
 * ASAP and ENRP messages carry their own length: the 16-bit Length field at
 * offset 2 counts the whole message including the final padding (as our
 * encoder and RSPLIB write it), so on a byte stream one message follows
 * the other with no extra header (docs/transports.md). Pool user sessions
 * multiplex application data with ASAP control messages, so their frames
 * carry a payload protocol identifier like SCTP does: 4 bytes PPID, 4 bytes
 * payload length, payload.
 *
 * @module
 */

import { TransportError } from "../errors.ts";

/** A received frame: its payload and payload protocol identifier. */
export interface Frame {
  /** Payload protocol identifier (ASAP 11, ENRP 12, or the application's). */
  readonly ppid: number;
  /** The payload (an ASAP/ENRP message, or application data). */
  readonly payload: Uint8Array;
}

/** Collects stream chunks and cuts complete frames out of them (the framings' common part). */
export abstract class Deframer {
  private chunks: Uint8Array[] = [];
  private length = 0;

  private error: TransportError | undefined;

  /** Bytes received that do not yet make a complete frame. */
  get buffered(): number {
    return this.length;
  }

  /**
   * Why the stream cannot be read any further (a `bad-frame`
   * {@link TransportError}), once a frame header was impossible. The frames
   * before it were returned; the connection must be closed.
   */
  get failure(): TransportError | undefined {
    return this.error;
  }

  /**
   * Adds received bytes; returns the frames they complete, in order, up to
   * the first impossible frame header (then {@link Deframer.failure} is
   * set and nothing more is returned). Never throws: what is delivered
   * does not depend on how the stream was cut into chunks.
   */
  push(chunk: Uint8Array): Frame[] {
    if (chunk.length === 0 || this.error !== undefined) return [];
    this.chunks.push(chunk);
    this.length += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      const header = this.peek(this.headerSize);
      if (header === undefined) break;
      let parsed: { ppid: number; size: number; skip: number };
      try {
        parsed = this.parse(header);
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        this.error = e;
        this.chunks = [];
        this.length = 0;
        break;
      }
      const { ppid, size, skip } = parsed;
      if (this.length < size) break;
      const frame = this.take(size);
      out.push({ ppid, payload: skip === 0 ? frame : frame.subarray(skip) });
    }
    return out;
  }

  /** Header bytes needed to know a frame's size. */
  protected abstract readonly headerSize: number;

  /** Reads a frame's PPID, total size and header size from its first bytes; throws `bad-frame`. */
  protected abstract parse(header: Uint8Array): { ppid: number; size: number; skip: number };

  /** The first `n` buffered bytes without consuming them; undefined when fewer are buffered. */
  private peek(n: number): Uint8Array | undefined {
    if (this.length < n) return undefined;
    const first = this.chunks[0];
    if (first.length >= n) return first;
    return this.take(n, false);
  }

  /** The first `n` buffered bytes (a view when they are in one chunk), consumed unless told. */
  private take(n: number, consume = true): Uint8Array {
    const first = this.chunks[0];
    if (first.length >= n && consume) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i];
      const part = Math.min(c.length, n - filled);
      out.set(c.subarray(0, part), filled);
      filled += part;
      if (consume) {
        if (part === c.length) this.chunks.shift();
        else {
          this.chunks[0] = c.subarray(part);
          i = 0;
        }
      } else {
        i++;
      }
    }
    if (consume) this.length -= n;
    return out;
  }
}

/**
 * Frames of ASAP or ENRP messages on a stream: each message delimited by
 * its Length field. A Length below 4 or above `maxMessageSize` cannot be
 * resynchronised from: the deframer fails, and the connection must be closed.
 */
export class MessageDeframer extends Deframer {
  /** A message's size is known from its first 4 bytes. */
  protected readonly headerSize = 4;
  private readonly ppid: number;
  private readonly maxMessageSize: number;

  /**
   * Creates a deframer for one stream.
   *
   * @param ppid the PPID the stream's protocol stands for (11 ASAP, 12 ENRP)
   * @param maxMessageSize largest message accepted (≤ 65535, the Length field's range)
   */
  constructor(ppid: number, maxMessageSize = 0xffff) {
    super();
    this.ppid = ppid;
    this.maxMessageSize = maxMessageSize;
  }

  /** Reads the message Length. */
  protected parse(header: Uint8Array): { ppid: number; size: number; skip: number } {
    const size = (header[2] << 8) | header[3];
    if (size < 4) throw new TransportError("bad-frame", `message Length ${size} < 4 on a stream`);
    if (size > this.maxMessageSize) {
      throw new TransportError(
        "bad-frame",
        `message Length ${size} above the limit of ${this.maxMessageSize}`,
      );
    }
    return { ppid: this.ppid, size, skip: 0 };
  }
}

/** Largest payload of a session frame (1 MiB by default). */
export const DEFAULT_MAX_SESSION_PAYLOAD = 1 << 20;

/** Frames of a pool user session: PPID (4), payload length (4), payload. */
export class SessionDeframer extends Deframer {
  /** The frame header is 8 bytes. */
  protected readonly headerSize = 8;
  private readonly maxPayload: number;

  /**
   * Creates a deframer for one session stream.
   *
   * @param maxPayload largest payload accepted
   */
  constructor(maxPayload = DEFAULT_MAX_SESSION_PAYLOAD) {
    super();
    this.maxPayload = maxPayload;
  }

  /** Reads PPID and payload length. */
  protected parse(header: Uint8Array): { ppid: number; size: number; skip: number } {
    const ppid = ((header[0] << 24) | (header[1] << 16) | (header[2] << 8) | header[3]) >>> 0;
    const length = ((header[4] << 24) | (header[5] << 16) | (header[6] << 8) | header[7]) >>> 0;
    if (length > this.maxPayload) {
      throw new TransportError(
        "bad-frame",
        `session frame of ${length} bytes above the limit of ${this.maxPayload}`,
      );
    }
    return { ppid, size: 8 + length, skip: 8 };
  }
}

/** The 8-byte header of a session frame. */
export function sessionFrameHeader(ppid: number, length: number): Uint8Array {
  const h = new Uint8Array(8);
  const v = new DataView(h.buffer);
  v.setUint32(0, ppid >>> 0);
  v.setUint32(4, length >>> 0);
  return h;
}
