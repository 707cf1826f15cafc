/**
 * Capture files: classic pcap (both byte orders, micro- and nanosecond
 * timestamps) and pcapng (sections of either byte order, several interfaces
 * with their own link types and timestamp resolutions; Enhanced, Simple and
 * obsolete Packet Blocks). Yields the frames; packet contents are parsed by
 * `packet.ts`.
 *
 * @module
 */

import { DecodeError } from "../errors.ts";

/** One captured frame. */
export interface Frame {
  /** Frame number, counting from 1 as Wireshark does. */
  readonly number: number;
  /** Capture time in milliseconds since the Unix epoch (fractional). */
  readonly timestamp: number;
  /** Link-layer header type (LINKTYPE_* value). */
  readonly linkType: number;
  /** The captured bytes (a view into the file). */
  readonly data: Uint8Array;
  /** Length of the packet on the wire (may exceed `data.length` when truncated by the snap length). */
  readonly originalLength: number;
}

function badCapture(offset: number, message: string): never {
  throw new DecodeError("bad-capture", offset, message);
}

class Endian {
  constructor(readonly view: DataView, public little: boolean) {}
  u16(p: number): number {
    return this.view.getUint16(p, this.little);
  }
  u32(p: number): number {
    return this.view.getUint32(p, this.little);
  }
}

/** Iterates over the frames of a pcap or pcapng file. Throws {@link DecodeError} (`bad-capture`). */
export function* readFrames(file: Uint8Array): Generator<Frame> {
  if (file.length < 4) badCapture(0, "file too short for a capture header");
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    yield* readPcapng(file, view);
    return;
  }
  yield* readPcap(file, view);
}

function* readPcap(file: Uint8Array, view: DataView): Generator<Frame> {
  const magic = view.getUint32(0, false);
  let little: boolean;
  let nanos: boolean;
  switch (magic) {
    case 0xa1b2c3d4:
      little = false;
      nanos = false;
      break;
    case 0xd4c3b2a1:
      little = true;
      nanos = false;
      break;
    case 0xa1b23c4d:
      little = false;
      nanos = true;
      break;
    case 0x4d3cb2a1:
      little = true;
      nanos = true;
      break;
    default:
      return badCapture(0, `not a pcap or pcapng file (magic 0x${magic.toString(16)})`);
  }
  if (file.length < 24) badCapture(file.length, "pcap global header truncated");
  const e = new Endian(view, little);
  const linkType = e.u32(20) & 0x0fffffff;
  let p = 24;
  let number = 0;
  while (p < file.length) {
    if (p + 16 > file.length) badCapture(p, "pcap record header truncated");
    const seconds = e.u32(p);
    const fraction = e.u32(p + 4);
    const captured = e.u32(p + 8);
    const original = e.u32(p + 12);
    if (captured > file.length - p - 16) {
      badCapture(p + 8, "pcap record runs past the end of the file");
    }
    number++;
    yield {
      number,
      timestamp: seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3),
      linkType,
      data: file.subarray(p + 16, p + 16 + captured),
      originalLength: original,
    };
    p += 16 + captured;
  }
}

interface Interface {
  readonly linkType: number;
  /** Timestamp ticks per millisecond. */
  readonly ticksPerMs: number;
  /** Offset added to timestamps, in seconds. */
  readonly offsetSeconds: number;
  readonly snapLength: number;
}

function interfaceOptions(
  e: Endian,
  file: Uint8Array,
  from: number,
  to: number,
): { ticksPerMs: number; offsetSeconds: number } {
  let ticksPerMs = 1000; // default resolution: microseconds
  let offsetSeconds = 0;
  let p = from;
  while (p + 4 <= to) {
    const code = e.u16(p);
    const length = e.u16(p + 2);
    if (code === 0) break;
    if (p + 4 + length > to) badCapture(p + 2, "pcapng option runs past its block");
    if (code === 9 && length >= 1) {
      const v = file[p + 4];
      const ticksPerSecond = (v & 0x80) !== 0 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
      ticksPerMs = ticksPerSecond / 1000;
    } else if (code === 14 && length >= 8) {
      const high = e.u32(p + 4);
      const low = e.u32(p + 8);
      offsetSeconds = e.little ? low * 2 ** 32 + high : high * 2 ** 32 + low;
    }
    p += 4 + ((length + 3) & ~3);
  }
  return { ticksPerMs, offsetSeconds };
}

function* readPcapng(file: Uint8Array, view: DataView): Generator<Frame> {
  const e = new Endian(view, false);
  let interfaces: Interface[] = [];
  let number = 0;
  let p = 0;
  while (p < file.length) {
    if (p + 12 > file.length) badCapture(p, "pcapng block header truncated");
    const type = view.getUint32(p, e.little);
    if (type === 0x0a0d0d0a) {
      // Section Header Block: its byte-order magic sets the byte order of the section.
      const bom = view.getUint32(p + 8, false);
      if (bom === 0x1a2b3c4d) e.little = false;
      else if (bom === 0x4d3c2b1a) e.little = true;
      else badCapture(p + 8, "pcapng section header with a bad byte-order magic");
      interfaces = [];
    }
    const length = e.u32(p + 4);
    if (length < 12 || length % 4 !== 0 || length > file.length - p) {
      badCapture(p + 4, `pcapng block with bad total length ${length}`);
    }
    if (e.u32(p + length - 4) !== length) {
      badCapture(p + length - 4, "pcapng block trailer does not repeat its length");
    }
    const body = p + 8;
    const end = p + length - 4;
    switch (type) {
      case 1: { // Interface Description Block
        if (end - body < 8) badCapture(p, "pcapng interface block truncated");
        const options = interfaceOptions(e, file, body + 8, end);
        interfaces.push({
          linkType: e.u16(body),
          snapLength: e.u32(body + 4),
          ...options,
        });
        break;
      }
      case 6: // Enhanced Packet Block
      case 2: { // Packet Block (obsolete)
        if (end - body < 20) badCapture(p, "pcapng packet block truncated");
        const id = type === 6 ? e.u32(body) : e.u16(body);
        const iface = interfaces[id];
        if (iface === undefined) badCapture(body, `packet of undeclared interface ${id}`);
        const high = e.u32(body + 4);
        const low = e.u32(body + 8);
        const captured = e.u32(body + 12);
        const original = e.u32(body + 16);
        if (captured > end - body - 20) badCapture(body + 12, "packet data runs past its block");
        number++;
        yield {
          number,
          timestamp: (high * 2 ** 32 + low) / iface.ticksPerMs + iface.offsetSeconds * 1000,
          linkType: iface.linkType,
          data: file.subarray(body + 20, body + 20 + captured),
          originalLength: original,
        };
        break;
      }
      case 3: { // Simple Packet Block
        if (end - body < 4) badCapture(p, "pcapng simple packet block truncated");
        const iface = interfaces[0];
        if (iface === undefined) badCapture(body, "simple packet without an interface");
        const original = e.u32(body);
        let captured = Math.min(original, end - body - 4);
        if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
        number++;
        yield {
          number,
          timestamp: 0,
          linkType: iface.linkType,
          data: file.subarray(body + 4, body + 4 + captured),
          originalLength: original,
        };
        break;
      }
      default:
        break; // statistics, name resolution, custom and unknown blocks carry no packets
    }
    p += length;
  }
}
