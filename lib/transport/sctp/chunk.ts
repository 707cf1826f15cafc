/**
 * SCTP packets and chunks (RFC 9260 §3), decoded into plain objects and
 * encoded back. Decoding checks every length against the bytes present
 * before it slices anything, enforces a limit on chunks per packet, and
 * throws only {@link DecodeError} (`truncated`, `bad-checksum`,
 * `bad-chunk`, `bad-parameter-length`, `limit-exceeded`). Unknown chunk
 * types are returned as `UNKNOWN` with their bytes; what to do with them
 * (their upper two bits) is the association's business.
 *
 * @module
 */

import { DecodeError } from "../../errors.ts";
import { crc32c, writeSctpChecksum } from "../../wire/crc32c.ts";

/** Chunk type codes (RFC 9260 §3.2). */
export const ChunkType = {
  DATA: 0,
  INIT: 1,
  INIT_ACK: 2,
  SACK: 3,
  HEARTBEAT: 4,
  HEARTBEAT_ACK: 5,
  ABORT: 6,
  SHUTDOWN: 7,
  SHUTDOWN_ACK: 8,
  ERROR: 9,
  COOKIE_ECHO: 10,
  COOKIE_ACK: 11,
  SHUTDOWN_COMPLETE: 14,
} as const;

/** INIT and INIT ACK parameter types (RFC 9260 §3.3.2, §3.3.3). */
export const InitParameterType = {
  IPv4Address: 5,
  IPv6Address: 6,
  StateCookie: 7,
  UnrecognizedParameter: 8,
  CookiePreservative: 9,
  HostNameAddress: 11,
  SupportedAddressTypes: 12,
  EcnCapable: 0x8000,
  ForwardTsnSupported: 0xc000,
} as const;

/** Error cause codes (RFC 9260 §3.3.10). */
export const SctpCause = {
  InvalidStreamIdentifier: 1,
  MissingMandatoryParameter: 2,
  StaleCookie: 3,
  OutOfResource: 4,
  UnresolvableAddress: 5,
  UnrecognizedChunkType: 6,
  InvalidMandatoryParameter: 7,
  UnrecognizedParameters: 8,
  NoUserData: 9,
  CookieReceivedWhileShuttingDown: 10,
  RestartWithNewAddresses: 11,
  UserInitiatedAbort: 12,
  ProtocolViolation: 13,
} as const;

/** A TLV parameter of INIT/INIT ACK or HEARTBEAT (type and raw value). */
export interface SctpParameter {
  /** Parameter type (upper two bits: what to do when it is unknown). */
  readonly type: number;
  /** Its value. */
  readonly value: Uint8Array;
}

/** An error cause of ABORT or ERROR. */
export interface SctpErrorCause {
  /** Cause code. */
  readonly code: number;
  /** Cause-specific information. */
  readonly info: Uint8Array;
}

/** DATA (RFC 9260 §3.3.1). */
export interface DataChunk {
  /** Discriminant. */
  readonly type: "DATA";
  /** Transmission sequence number. */
  readonly tsn: number;
  /** Stream identifier. */
  readonly streamId: number;
  /** Stream sequence number (ordered delivery). */
  readonly ssn: number;
  /** Payload protocol identifier. */
  readonly ppid: number;
  /** U: unordered. */
  readonly unordered: boolean;
  /** B: first fragment. */
  readonly beginning: boolean;
  /** E: last fragment. */
  readonly ending: boolean;
  /** I: the receiver should acknowledge at once (RFC 7053). */
  readonly immediate: boolean;
  /** User data. */
  readonly data: Uint8Array;
}

/** INIT or INIT ACK (RFC 9260 §3.3.2, §3.3.3). */
export interface InitChunk {
  /** Discriminant. */
  readonly type: "INIT" | "INIT-ACK";
  /** The sender's verification tag for this association. */
  readonly initiateTag: number;
  /** Advertised receiver window credit. */
  readonly aRwnd: number;
  /** Outbound streams the sender wants. */
  readonly outboundStreams: number;
  /** Inbound streams the sender allows. */
  readonly inboundStreams: number;
  /** The sender's first TSN. */
  readonly initialTsn: number;
  /** Optional parameters (addresses, state cookie, …). */
  readonly parameters: readonly SctpParameter[];
}

/** SACK (RFC 9260 §3.3.4). */
export interface SackChunk {
  /** Discriminant. */
  readonly type: "SACK";
  /** Last TSN received in sequence. */
  readonly cumulativeTsnAck: number;
  /** Advertised receiver window credit. */
  readonly aRwnd: number;
  /** Gap Ack Blocks as offsets from the cumulative TSN ack, [start, end] inclusive. */
  readonly gaps: readonly (readonly [number, number])[];
  /** Duplicate TSNs received since the last SACK. */
  readonly duplicates: readonly number[];
}

/** HEARTBEAT or HEARTBEAT ACK (RFC 9260 §3.3.5, §3.3.6). */
export interface HeartbeatChunk {
  /** Discriminant. */
  readonly type: "HEARTBEAT" | "HEARTBEAT-ACK";
  /** Heartbeat Information (opaque to the peer, echoed back). */
  readonly info: Uint8Array;
}

/** ABORT or ERROR (RFC 9260 §3.3.7, §3.3.10). */
export interface CauseChunk {
  /** Discriminant. */
  readonly type: "ABORT" | "ERROR";
  /** T: the verification tag is reflected (ABORT only). */
  readonly reflected: boolean;
  /** Error causes. */
  readonly causes: readonly SctpErrorCause[];
}

/** SHUTDOWN (RFC 9260 §3.3.8). */
export interface ShutdownChunk {
  /** Discriminant. */
  readonly type: "SHUTDOWN";
  /** Last TSN received in sequence. */
  readonly cumulativeTsnAck: number;
}

/** COOKIE ECHO (RFC 9260 §3.3.11). */
export interface CookieEchoChunk {
  /** Discriminant. */
  readonly type: "COOKIE-ECHO";
  /** The State Cookie from the INIT ACK. */
  readonly cookie: Uint8Array;
}

/** Chunks without fields: SHUTDOWN ACK, COOKIE ACK, SHUTDOWN COMPLETE (T flag). */
export interface BareChunk {
  /** Discriminant. */
  readonly type: "SHUTDOWN-ACK" | "COOKIE-ACK" | "SHUTDOWN-COMPLETE";
  /** T: the verification tag is reflected (SHUTDOWN COMPLETE only). */
  readonly reflected: boolean;
}

/** A chunk type this implementation does not know. */
export interface UnknownChunk {
  /** Discriminant. */
  readonly type: "UNKNOWN";
  /** Its type code (upper two bits: what to do). */
  readonly code: number;
  /** Its flags. */
  readonly flags: number;
  /** The whole chunk as received (for the Unrecognized Chunk Type cause). */
  readonly raw: Uint8Array;
}

/** Every chunk. */
export type Chunk =
  | DataChunk
  | InitChunk
  | SackChunk
  | HeartbeatChunk
  | CauseChunk
  | ShutdownChunk
  | CookieEchoChunk
  | BareChunk
  | UnknownChunk;

/** An SCTP packet. */
export interface SctpPacket {
  /** Source port. */
  readonly sourcePort: number;
  /** Destination port. */
  readonly destinationPort: number;
  /** Verification tag. */
  readonly verificationTag: number;
  /** Its chunks, in order. */
  readonly chunks: readonly Chunk[];
}

/** Limits of the packet decoder. */
export interface PacketLimits {
  /** Chunks per packet (default 256). */
  readonly maxChunks: number;
  /** Gap Ack Blocks and duplicate TSNs per SACK (default 512 each). */
  readonly maxSackEntries: number;
  /** Parameters per INIT/INIT ACK (default 64). */
  readonly maxParameters: number;
}

/** The default decoder limits. */
export const DEFAULT_PACKET_LIMITS: PacketLimits = Object.freeze({
  maxChunks: 256,
  maxSackEntries: 512,
  maxParameters: 64,
});

/** Size of the common header. */
export const COMMON_HEADER = 12;

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function fail(
  code: "truncated" | "bad-checksum" | "bad-chunk" | "bad-parameter-length" | "limit-exceeded",
  at: number,
  message: string,
): never {
  throw new DecodeError(code, at, message);
}

const ZERO_CHECKSUM = new Uint8Array(4);

/** The CRC32c the packet carries, and whether it matches (RFC 9260 Appendix B: little-endian on the wire). */
export function checksumMatches(bytes: Uint8Array): boolean {
  if (bytes.length < COMMON_HEADER) return false;
  const carried = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
  // The CRC over the packet with its checksum field zeroed, without copying the packet.
  const head = crc32c(bytes, 0, 8);
  const zeroed = crc32c(ZERO_CHECKSUM, 0, 4, head);
  return crc32c(bytes, 12, bytes.length, zeroed) === carried;
}

function tlvs(b: Uint8Array, from: number, to: number, max: number, what: string): SctpParameter[] {
  const out: SctpParameter[] = [];
  let p = from;
  while (p < to) {
    if (p + 4 > to) fail("bad-parameter-length", p, `${what} header runs past its chunk`);
    const type = u16(b, p);
    const length = u16(b, p + 2);
    if (length < 4 || p + length > to) {
      fail("bad-parameter-length", p + 2, `${what} Length ${length} invalid`);
    }
    if (out.length >= max) fail("limit-exceeded", p, `more than ${max} ${what}s`);
    out.push({ type, value: b.slice(p + 4, p + length) });
    p += (length + 3) & ~3;
  }
  return out;
}

function causes(b: Uint8Array, from: number, to: number): SctpErrorCause[] {
  return tlvs(b, from, to, 64, "error cause").map((t) => ({ code: t.type, info: t.value }));
}

/**
 * Decodes a packet. Verifies the CRC32c unless told not to (when a lower
 * layer already did). Throws {@link DecodeError}.
 */
export function decodePacket(
  b: Uint8Array,
  options: { verifyChecksum?: boolean; limits?: Partial<PacketLimits> } = {},
): SctpPacket {
  const limits = { ...DEFAULT_PACKET_LIMITS, ...options.limits };
  if (b.length < COMMON_HEADER) fail("truncated", 0, "shorter than the SCTP common header");
  if (options.verifyChecksum !== false && !checksumMatches(b)) {
    fail("bad-checksum", 8, "CRC32c does not match");
  }
  const chunks: Chunk[] = [];
  let p = COMMON_HEADER;
  while (p < b.length) {
    if (p + 4 > b.length) fail("bad-chunk", p, "chunk header runs past the packet");
    const type = b[p];
    const flags = b[p + 1];
    const length = u16(b, p + 2);
    const end = p + length;
    if (length < 4 || end > b.length) fail("bad-chunk", p + 2, `chunk Length ${length} invalid`);
    if (chunks.length >= limits.maxChunks) {
      fail("limit-exceeded", p, `more than ${limits.maxChunks} chunks`);
    }
    const v = p + 4;
    const need = (n: number) => {
      if (length < 4 + n) {
        fail("bad-chunk", p + 2, `chunk type ${type} shorter than its ${n} fixed bytes`);
      }
    };
    switch (type) {
      case ChunkType.DATA:
        need(12);
        chunks.push({
          type: "DATA",
          tsn: u32(b, v),
          streamId: u16(b, v + 4),
          ssn: u16(b, v + 6),
          ppid: u32(b, v + 8),
          unordered: (flags & 4) !== 0,
          beginning: (flags & 2) !== 0,
          ending: (flags & 1) !== 0,
          immediate: (flags & 8) !== 0,
          data: b.slice(v + 12, end),
        });
        break;
      case ChunkType.INIT:
      case ChunkType.INIT_ACK:
        need(16);
        chunks.push({
          type: type === ChunkType.INIT ? "INIT" : "INIT-ACK",
          initiateTag: u32(b, v),
          aRwnd: u32(b, v + 4),
          outboundStreams: u16(b, v + 8),
          inboundStreams: u16(b, v + 10),
          initialTsn: u32(b, v + 12),
          parameters: tlvs(b, v + 16, end, limits.maxParameters, "INIT parameter"),
        });
        break;
      case ChunkType.SACK: {
        need(12);
        const gapCount = u16(b, v + 8);
        const dupCount = u16(b, v + 10);
        if (gapCount > limits.maxSackEntries || dupCount > limits.maxSackEntries) {
          fail("limit-exceeded", v + 8, "too many Gap Ack Blocks or duplicate TSNs");
        }
        if (length < 16 + 4 * gapCount + 4 * dupCount) {
          fail("bad-chunk", p + 2, "SACK shorter than its Gap Ack Blocks and duplicates");
        }
        const gaps: [number, number][] = [];
        for (let i = 0; i < gapCount; i++) {
          gaps.push([u16(b, v + 12 + 4 * i), u16(b, v + 14 + 4 * i)]);
        }
        const duplicates: number[] = [];
        const d = v + 12 + 4 * gapCount;
        for (let i = 0; i < dupCount; i++) duplicates.push(u32(b, d + 4 * i));
        chunks.push({
          type: "SACK",
          cumulativeTsnAck: u32(b, v),
          aRwnd: u32(b, v + 4),
          gaps,
          duplicates,
        });
        break;
      }
      case ChunkType.HEARTBEAT:
      case ChunkType.HEARTBEAT_ACK: {
        const params = tlvs(b, v, end, 8, "heartbeat parameter");
        const info = params.find((x) => x.type === 1);
        if (info === undefined) fail("bad-chunk", v, "HEARTBEAT without Heartbeat Information");
        chunks.push({
          type: type === ChunkType.HEARTBEAT ? "HEARTBEAT" : "HEARTBEAT-ACK",
          info: info.value,
        });
        break;
      }
      case ChunkType.ABORT:
      case ChunkType.ERROR:
        chunks.push({
          type: type === ChunkType.ABORT ? "ABORT" : "ERROR",
          reflected: type === ChunkType.ABORT && (flags & 1) !== 0,
          causes: causes(b, v, end),
        });
        break;
      case ChunkType.SHUTDOWN:
        need(4);
        chunks.push({ type: "SHUTDOWN", cumulativeTsnAck: u32(b, v) });
        break;
      case ChunkType.COOKIE_ECHO:
        chunks.push({ type: "COOKIE-ECHO", cookie: b.slice(v, end) });
        break;
      case ChunkType.SHUTDOWN_ACK:
        chunks.push({ type: "SHUTDOWN-ACK", reflected: false });
        break;
      case ChunkType.COOKIE_ACK:
        chunks.push({ type: "COOKIE-ACK", reflected: false });
        break;
      case ChunkType.SHUTDOWN_COMPLETE:
        chunks.push({ type: "SHUTDOWN-COMPLETE", reflected: (flags & 1) !== 0 });
        break;
      default:
        chunks.push({ type: "UNKNOWN", code: type, flags, raw: b.slice(p, end) });
    }
    p += (length + 3) & ~3;
    if (p > b.length) p = b.length; // the last chunk's padding may be missing
  }
  return {
    sourcePort: u16(b, 0),
    destinationPort: u16(b, 2),
    verificationTag: u32(b, 4),
    chunks,
  };
}

/** Bytes a chunk takes on the wire, padding included. */
export function chunkSize(c: Chunk): number {
  const pad = (n: number) => (n + 3) & ~3;
  switch (c.type) {
    case "DATA":
      return pad(16 + c.data.length);
    case "INIT":
    case "INIT-ACK":
      return 20 + c.parameters.reduce((n, x) => n + pad(4 + x.value.length), 0);
    case "SACK":
      return 16 + 4 * c.gaps.length + 4 * c.duplicates.length;
    case "HEARTBEAT":
    case "HEARTBEAT-ACK":
      return 4 + pad(4 + c.info.length);
    case "ABORT":
    case "ERROR":
      return 4 + c.causes.reduce((n, x) => n + pad(4 + x.info.length), 0);
    case "SHUTDOWN":
      return 8;
    case "COOKIE-ECHO":
      return pad(4 + c.cookie.length);
    case "UNKNOWN":
      return pad(c.raw.length);
    default:
      return 4;
  }
}

class Out {
  p = 0;
  constructor(readonly b: Uint8Array) {}
  u8(v: number): void {
    this.b[this.p++] = v;
  }
  u16(v: number): void {
    this.b[this.p++] = (v >>> 8) & 0xff;
    this.b[this.p++] = v & 0xff;
  }
  u32(v: number): void {
    this.b[this.p++] = (v >>> 24) & 0xff;
    this.b[this.p++] = (v >>> 16) & 0xff;
    this.b[this.p++] = (v >>> 8) & 0xff;
    this.b[this.p++] = v & 0xff;
  }
  bytes(v: Uint8Array): void {
    this.b.set(v, this.p);
    this.p += v.length;
  }
  align(): void {
    this.p = (this.p + 3) & ~3;
  }
  tlv(type: number, value: Uint8Array): void {
    this.u16(type);
    this.u16(4 + value.length);
    this.bytes(value);
    this.align();
  }
}

/** Bytes of consecutive TLVs with these value sizes, without the last one's padding. */
function tlvLengths(values: readonly number[]): number {
  let n = 0;
  values.forEach((v, i) => n += i === values.length - 1 ? 4 + v : (4 + v + 3) & ~3);
  return n;
}

function header(o: Out, type: number, flags: number, length: number): void {
  o.u8(type);
  o.u8(flags);
  o.u16(length);
}

function encodeChunk(o: Out, c: Chunk): void {
  switch (c.type) {
    case "DATA":
      header(
        o,
        ChunkType.DATA,
        (c.immediate ? 8 : 0) | (c.unordered ? 4 : 0) | (c.beginning ? 2 : 0) | (c.ending ? 1 : 0),
        16 + c.data.length,
      );
      o.u32(c.tsn);
      o.u16(c.streamId);
      o.u16(c.ssn);
      o.u32(c.ppid);
      o.bytes(c.data);
      o.align();
      return;
    case "INIT":
    case "INIT-ACK": {
      // The chunk Length counts the padding of every parameter but the last (RFC 9260 §3.2).
      const length = 20 + tlvLengths(c.parameters.map((x) => x.value.length));
      header(o, c.type === "INIT" ? ChunkType.INIT : ChunkType.INIT_ACK, 0, length);
      o.u32(c.initiateTag);
      o.u32(c.aRwnd);
      o.u16(c.outboundStreams);
      o.u16(c.inboundStreams);
      o.u32(c.initialTsn);
      for (const x of c.parameters) o.tlv(x.type, x.value);
      return;
    }
    case "SACK":
      header(o, ChunkType.SACK, 0, 16 + 4 * c.gaps.length + 4 * c.duplicates.length);
      o.u32(c.cumulativeTsnAck);
      o.u32(c.aRwnd);
      o.u16(c.gaps.length);
      o.u16(c.duplicates.length);
      for (const [start, end] of c.gaps) {
        o.u16(start);
        o.u16(end);
      }
      for (const d of c.duplicates) o.u32(d);
      return;
    case "HEARTBEAT":
    case "HEARTBEAT-ACK":
      header(
        o,
        c.type === "HEARTBEAT" ? ChunkType.HEARTBEAT : ChunkType.HEARTBEAT_ACK,
        0,
        8 + c.info.length,
      );
      o.tlv(1, c.info);
      return;
    case "ABORT":
    case "ERROR": {
      const length = 4 + tlvLengths(c.causes.map((x) => x.info.length));
      header(
        o,
        c.type === "ABORT" ? ChunkType.ABORT : ChunkType.ERROR,
        c.type === "ABORT" && c.reflected ? 1 : 0,
        length,
      );
      for (const x of c.causes) o.tlv(x.code, x.info);
      return;
    }
    case "SHUTDOWN":
      header(o, ChunkType.SHUTDOWN, 0, 8);
      o.u32(c.cumulativeTsnAck);
      return;
    case "COOKIE-ECHO":
      header(o, ChunkType.COOKIE_ECHO, 0, 4 + c.cookie.length);
      o.bytes(c.cookie);
      o.align();
      return;
    case "SHUTDOWN-ACK":
      header(o, ChunkType.SHUTDOWN_ACK, 0, 4);
      return;
    case "COOKIE-ACK":
      header(o, ChunkType.COOKIE_ACK, 0, 4);
      return;
    case "SHUTDOWN-COMPLETE":
      header(o, ChunkType.SHUTDOWN_COMPLETE, c.reflected ? 1 : 0, 4);
      return;
    case "UNKNOWN":
      o.bytes(c.raw);
      o.align();
      return;
  }
}

/** Encodes a packet with its CRC32c. */
export function encodePacket(packet: SctpPacket): Uint8Array {
  const size = COMMON_HEADER + packet.chunks.reduce((n, c) => n + chunkSize(c), 0);
  const o = new Out(new Uint8Array(size));
  o.u16(packet.sourcePort);
  o.u16(packet.destinationPort);
  o.u32(packet.verificationTag);
  o.u32(0);
  for (const c of packet.chunks) encodeChunk(o, c);
  return writeSctpChecksum(o.b);
}
