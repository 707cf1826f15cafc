/**
 * Writing captures: pcapng and classic pcap files, and builders for the
 * Ethernet, Linux cooked, IPv4, IPv6, UDP and SCTP headers around ASAP and
 * ENRP messages, with valid checksums, so that Wireshark dissects the result.
 *
 * @module
 */

import { parseAddress } from "../wire/address.ts";
import { writeSctpChecksum } from "../wire/crc32c.ts";

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function addressBytes(text: string, family: 4 | 6): Uint8Array {
  const parsed = parseAddress(text);
  if (parsed === undefined || parsed.family !== family) {
    throw new TypeError(`not an IPv${family} address: ${text}`);
  }
  return parsed.bytes;
}

/** The 16-bit one's-complement sum of `bytes` (RFC 1071), folded, not complemented. */
function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** An Ethernet II frame around a payload (EtherType 0x0800 IPv4, 0x86dd IPv6). */
export function ethernetFrame(payload: Uint8Array, etherType: number): Uint8Array {
  const header = new Uint8Array(14);
  header.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]);
  header[12] = etherType >> 8;
  header[13] = etherType & 0xff;
  return concat([header, payload]);
}

/** An IPv4 packet (no options, header checksum set). */
export function ipv4Packet(
  source: string,
  destination: string,
  protocol: number,
  payload: Uint8Array,
  ttl = 64,
): Uint8Array {
  const h = new Uint8Array(20);
  const total = 20 + payload.length;
  h[0] = 0x45;
  h[2] = total >> 8;
  h[3] = total & 0xff;
  h[6] = 0x40; // don't fragment
  h[8] = ttl;
  h[9] = protocol;
  h.set(addressBytes(source, 4), 12);
  h.set(addressBytes(destination, 4), 16);
  const checksum = ~onesSum(h) & 0xffff;
  h[10] = checksum >> 8;
  h[11] = checksum & 0xff;
  return concat([h, payload]);
}

/** An IPv6 packet (no extension headers). */
export function ipv6Packet(
  source: string,
  destination: string,
  nextHeader: number,
  payload: Uint8Array,
  hopLimit = 64,
): Uint8Array {
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[4] = payload.length >> 8;
  h[5] = payload.length & 0xff;
  h[6] = nextHeader;
  h[7] = hopLimit;
  h.set(addressBytes(source, 6), 8);
  h.set(addressBytes(destination, 6), 24);
  return concat([h, payload]);
}

/** A UDP datagram with its checksum computed over the IPv4 or IPv6 pseudo-header. */
export function udpDatagram(
  source: string,
  sourcePort: number,
  destination: string,
  destinationPort: number,
  payload: Uint8Array,
): Uint8Array {
  const length = 8 + payload.length;
  const d = new Uint8Array(length);
  d[0] = sourcePort >> 8;
  d[1] = sourcePort & 0xff;
  d[2] = destinationPort >> 8;
  d[3] = destinationPort & 0xff;
  d[4] = length >> 8;
  d[5] = length & 0xff;
  d.set(payload, 8);
  const v6 = source.includes(":");
  const s = addressBytes(source, v6 ? 6 : 4);
  const t = addressBytes(destination, v6 ? 6 : 4);
  const pseudo = concat([s, t, new Uint8Array([0, 17, length >> 8, length & 0xff])]);
  let checksum = ~onesSum(d, onesSum(pseudo)) & 0xffff;
  if (checksum === 0) checksum = 0xffff;
  d[6] = checksum >> 8;
  d[7] = checksum & 0xff;
  return d;
}

/** Fields of an SCTP DATA chunk (RFC 9260 §3.3.1). */
export interface DataChunkFields {
  /** Transmission sequence number. */
  readonly tsn: number;
  /** Stream identifier. */
  readonly streamId?: number;
  /** Stream sequence number. */
  readonly streamSequence?: number;
  /** Payload protocol identifier. */
  readonly ppid: number;
  /** User data (the message or a fragment of it). */
  readonly data: Uint8Array;
  /** B (first fragment); default true. */
  readonly first?: boolean;
  /** E (last fragment); default true. */
  readonly last?: boolean;
  /** U (unordered); default false. */
  readonly unordered?: boolean;
}

function chunk(type: number, flags: number, value: Uint8Array): Uint8Array {
  const length = 4 + value.length;
  const c = new Uint8Array((length + 3) & ~3);
  c[0] = type;
  c[1] = flags;
  c[2] = length >> 8;
  c[3] = length & 0xff;
  c.set(value, 4);
  return c;
}

function be32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function dataFlags(f: { first?: boolean; last?: boolean; unordered?: boolean }): number {
  return (f.unordered ? 4 : 0) | (f.first === false ? 0 : 2) | (f.last === false ? 0 : 1);
}

/** An SCTP DATA chunk (padded). */
export function sctpDataChunk(f: DataChunkFields): Uint8Array {
  const sid = f.streamId ?? 0;
  const ssn = f.streamSequence ?? 0;
  const value = concat([
    new Uint8Array([...be32(f.tsn), sid >> 8, sid & 0xff, ssn >> 8, ssn & 0xff, ...be32(f.ppid)]),
    f.data,
  ]);
  return chunk(0, dataFlags(f), value);
}

/** Fields of an SCTP I-DATA chunk (RFC 8260 §2.1). */
export interface IDataChunkFields {
  /** Transmission sequence number. */
  readonly tsn: number;
  /** Stream identifier. */
  readonly streamId?: number;
  /** Message identifier. */
  readonly messageId: number;
  /** PPID (first fragment) — ignored for later fragments. */
  readonly ppid: number;
  /** Fragment sequence number (later fragments). */
  readonly fragmentSequence?: number;
  /** User data. */
  readonly data: Uint8Array;
  /** B flag; default true. */
  readonly first?: boolean;
  /** E flag; default true. */
  readonly last?: boolean;
  /** U flag; default false. */
  readonly unordered?: boolean;
}

/** An SCTP I-DATA chunk (padded). */
export function sctpIDataChunk(f: IDataChunkFields): Uint8Array {
  const sid = f.streamId ?? 0;
  const fourth = f.first === false ? f.fragmentSequence ?? 0 : f.ppid;
  const value = concat([
    new Uint8Array([
      ...be32(f.tsn),
      sid >> 8,
      sid & 0xff,
      0,
      0,
      ...be32(f.messageId),
      ...be32(fourth),
    ]),
    f.data,
  ]);
  return chunk(64, dataFlags(f), value);
}

/** An SCTP packet: common header (with CRC32c) and chunks. */
export function sctpPacket(
  sourcePort: number,
  destinationPort: number,
  verificationTag: number,
  chunks: readonly Uint8Array[],
): Uint8Array {
  const header = new Uint8Array([
    sourcePort >> 8,
    sourcePort & 0xff,
    destinationPort >> 8,
    destinationPort & 0xff,
    ...be32(verificationTag),
    0,
    0,
    0,
    0,
  ]);
  return writeSctpChecksum(concat([header, ...chunks]));
}

/** Link-layer types the writers use. */
export const WRITER_LINK_ETHERNET = 1;

/** Options of {@link PcapngWriter}. */
export interface PcapngWriterOptions {
  /** Link type of the single interface (default 1, Ethernet). */
  readonly linkType?: number;
  /** Write little-endian (default, like most capture tools) or big-endian blocks. */
  readonly littleEndian?: boolean;
  /** Timestamp resolution: microseconds (default) or nanoseconds. */
  readonly nanoseconds?: boolean;
  /** Written as the section's shb_userappl option. */
  readonly application?: string;
}

/** Builds a pcapng file with one interface, packet by packet (Enhanced Packet Blocks). */
export class PcapngWriter {
  private readonly blocks: Uint8Array[] = [];
  private readonly little: boolean;
  private readonly ticksPerMs: number;

  /**
   * Starts a file: a Section Header Block and one Interface Description Block.
   *
   * @param options link type, byte order, resolution, application name
   */
  constructor(options: PcapngWriterOptions = {}) {
    this.little = options.littleEndian ?? true;
    this.ticksPerMs = options.nanoseconds ? 1e6 : 1e3;
    const shbOptions: Uint8Array[] = [];
    if (options.application !== undefined) {
      shbOptions.push(this.option(4, new TextEncoder().encode(options.application)));
    }
    if (shbOptions.length > 0) shbOptions.push(this.option(0, new Uint8Array()));
    const shb = new Uint8Array(16);
    const v = new DataView(shb.buffer);
    v.setUint32(0, 0x1a2b3c4d, this.little);
    v.setUint16(4, 1, this.little);
    v.setUint16(6, 0, this.little);
    v.setBigInt64(8, -1n, this.little);
    this.block(0x0a0d0d0a, concat([shb, ...shbOptions]));
    const idb = new Uint8Array(8);
    const iv = new DataView(idb.buffer);
    iv.setUint16(0, options.linkType ?? WRITER_LINK_ETHERNET, this.little);
    iv.setUint32(4, 0, this.little);
    const idbOptions = options.nanoseconds
      ? [this.option(9, new Uint8Array([9])), this.option(0, new Uint8Array())]
      : [];
    this.block(1, concat([idb, ...idbOptions]));
  }

  /** One option (code, length, padded value) in the writer's byte order. */
  private option(code: number, value: Uint8Array): Uint8Array {
    const o = new Uint8Array(4 + ((value.length + 3) & ~3));
    const v = new DataView(o.buffer);
    v.setUint16(0, code, this.little);
    v.setUint16(2, value.length, this.little);
    o.set(value, 4);
    return o;
  }

  /** Appends one block with its leading and trailing total length. */
  private block(type: number, body: Uint8Array): void {
    const padded = (body.length + 3) & ~3;
    const length = 12 + padded;
    const b = new Uint8Array(length);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, this.little);
    v.setUint32(4, length, this.little);
    b.set(body, 8);
    v.setUint32(length - 4, length, this.little);
    this.blocks.push(b);
  }

  /** Adds a packet captured at `timestamp` (milliseconds since the epoch). */
  addPacket(data: Uint8Array, timestamp: number): void {
    const ticks = BigInt(Math.round(timestamp * this.ticksPerMs));
    const header = new Uint8Array(20);
    const v = new DataView(header.buffer);
    v.setUint32(0, 0, this.little);
    v.setUint32(4, Number(ticks >> 32n), this.little);
    v.setUint32(8, Number(ticks & 0xffffffffn), this.little);
    v.setUint32(12, data.length, this.little);
    v.setUint32(16, data.length, this.little);
    this.block(6, concat([header, data]));
  }

  /** The file so far. */
  toBytes(): Uint8Array {
    return concat(this.blocks);
  }
}

/** Options of {@link writePcap}. */
export interface PcapOptions {
  /** Link type (default 1, Ethernet). */
  readonly linkType?: number;
  /** Byte order of headers (default little-endian). */
  readonly littleEndian?: boolean;
  /** Nanosecond timestamps (magic 0xa1b23c4d). */
  readonly nanoseconds?: boolean;
}

/** Writes a classic pcap file. */
export function writePcap(
  frames: readonly { readonly data: Uint8Array; readonly timestamp: number }[],
  options: PcapOptions = {},
): Uint8Array {
  const little = options.littleEndian ?? true;
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(24);
  const v = new DataView(header.buffer);
  v.setUint32(0, options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, little);
  v.setUint16(4, 2, little);
  v.setUint16(6, 4, little);
  v.setUint32(16, 262144, little);
  v.setUint32(20, options.linkType ?? WRITER_LINK_ETHERNET, little);
  parts.push(header);
  for (const frame of frames) {
    const record = new Uint8Array(16);
    const r = new DataView(record.buffer);
    const seconds = Math.floor(frame.timestamp / 1000);
    const fraction = Math.round(
      (frame.timestamp - seconds * 1000) * (options.nanoseconds ? 1e6 : 1e3),
    );
    r.setUint32(0, seconds, little);
    r.setUint32(4, fraction, little);
    r.setUint32(8, frame.data.length, little);
    r.setUint32(12, frame.data.length, little);
    parts.push(record, frame.data);
  }
  return concat(parts);
}
