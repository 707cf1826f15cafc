/**
 * SCTP user messages in captured packets: DATA (RFC 9260 §3.3.1) and I-DATA
 * (RFC 8260 §2.1) chunks, with reassembly of fragmented messages per
 * association direction. Memory is bounded: a direction keeps at most
 * {@link SCTP_REASSEMBLY_LIMITS} fragments and bytes; beyond that its
 * oldest partial messages are dropped.
 *
 * @module
 */

/** A complete SCTP user message. */
export interface SctpUserMessage {
  /** Payload protocol identifier. */
  readonly ppid: number;
  /** Stream identifier. */
  readonly streamId: number;
  /** The message. */
  readonly data: Uint8Array;
  /** True when it was carried in more than one chunk. */
  readonly reassembled: boolean;
}

/** Bounds on reassembly state. */
export const SCTP_REASSEMBLY_LIMITS = {
  /** Largest reassembled message in bytes. */
  maxMessageBytes: 1 << 18,
  /** Fragments kept per association direction. */
  maxFragmentsPerDirection: 4096,
  /** Bytes kept per association direction. */
  maxBytesPerDirection: 1 << 22,
  /** Association directions tracked at once. */
  maxDirections: 4096,
} as const;

interface Fragment {
  readonly first: boolean;
  readonly last: boolean;
  readonly streamId: number;
  readonly ppid: number;
  readonly data: Uint8Array;
}

class Direction {
  /** DATA fragments by TSN. */
  readonly byTsn = new Map<number, Fragment>();
  /** I-DATA fragments by stream/unordered/MID key, then FSN. */
  readonly byMid = new Map<string, Map<number, Fragment>>();
  fragments = 0;
  bytes = 0;

  store(bytes: number): boolean {
    if (
      this.fragments >= SCTP_REASSEMBLY_LIMITS.maxFragmentsPerDirection ||
      this.bytes + bytes > SCTP_REASSEMBLY_LIMITS.maxBytesPerDirection
    ) {
      this.byTsn.clear();
      this.byMid.clear();
      this.fragments = 0;
      this.bytes = 0;
      return false;
    }
    this.fragments++;
    this.bytes += bytes;
    return true;
  }

  release(fragment: Fragment): void {
    this.fragments--;
    this.bytes -= fragment.data.length;
  }
}

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Extracts user messages from SCTP packets, reassembling fragments. */
export class SctpReassembler {
  private readonly directions = new Map<string, Direction>();

  /**
   * Processes one SCTP packet (common header and chunks) seen from
   * `source` to `destination`. Returns the user messages it completes, in
   * chunk order, or a reason string when the packet is malformed.
   */
  packet(source: string, destination: string, packet: Uint8Array): SctpUserMessage[] | string {
    if (packet.length < 12) return "truncated SCTP common header";
    const key = `${source}|${u16(packet, 0)}|${destination}|${u16(packet, 2)}|${u32(packet, 4)}`;
    const out: SctpUserMessage[] = [];
    let p = 12;
    while (p + 4 <= packet.length) {
      const type = packet[p];
      const flags = packet[p + 1];
      const length = u16(packet, p + 2);
      if (length < 4 || p + length > packet.length) return "SCTP chunk with a bad length";
      if (type === 0) {
        if (length < 16) return "DATA chunk too short";
        this.data(key, flags, packet, p, length, out);
      } else if (type === 64) {
        if (length < 20) return "I-DATA chunk too short";
        this.idata(key, flags, packet, p, length, out);
      }
      p += (length + 3) & ~3;
    }
    return out;
  }

  /** The reassembly state of one association direction, created on first use. */
  private direction(key: string): Direction {
    let direction = this.directions.get(key);
    if (direction === undefined) {
      if (this.directions.size >= SCTP_REASSEMBLY_LIMITS.maxDirections) this.directions.clear();
      direction = new Direction();
      this.directions.set(key, direction);
    }
    return direction;
  }

  /** Handles one DATA chunk at `p`. */
  private data(
    key: string,
    flags: number,
    b: Uint8Array,
    p: number,
    length: number,
    out: SctpUserMessage[],
  ): void {
    const tsn = u32(b, p + 4);
    const fragment: Fragment = {
      first: (flags & 0x02) !== 0,
      last: (flags & 0x01) !== 0,
      streamId: u16(b, p + 8),
      ppid: u32(b, p + 12),
      data: b.subarray(p + 16, p + length),
    };
    if (fragment.first && fragment.last) {
      out.push({
        ppid: fragment.ppid,
        streamId: fragment.streamId,
        data: fragment.data.slice(),
        reassembled: false,
      });
      return;
    }
    const direction = this.direction(key);
    const map = direction.byTsn;
    if (map.has(tsn) || !direction.store(fragment.data.length)) return;
    map.set(tsn, { ...fragment, data: fragment.data.slice() });
    // Walk back to the first fragment, then forward to the last one.
    let start = tsn;
    for (let n = 0; !map.get(start)!.first; n++) {
      const previous = (start - 1) >>> 0;
      if (!map.has(previous) || n > SCTP_REASSEMBLY_LIMITS.maxFragmentsPerDirection) return;
      start = previous;
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    let t = start;
    for (;;) {
      const f = map.get(t);
      if (f === undefined) return;
      parts.push(f.data);
      total += f.data.length;
      if (total > SCTP_REASSEMBLY_LIMITS.maxMessageBytes) return;
      if (f.last) break;
      t = (t + 1) >>> 0;
      if (t === start) return;
    }
    const head = map.get(start)!;
    for (let i = 0, s = start; i < parts.length; i++, s = (s + 1) >>> 0) {
      direction.release(map.get(s)!);
      map.delete(s);
    }
    out.push({
      ppid: head.ppid,
      streamId: head.streamId,
      data: concat(parts, total),
      reassembled: true,
    });
  }

  /** Handles one I-DATA chunk at `p`. */
  private idata(
    key: string,
    flags: number,
    b: Uint8Array,
    p: number,
    length: number,
    out: SctpUserMessage[],
  ): void {
    const first = (flags & 0x02) !== 0;
    const last = (flags & 0x01) !== 0;
    const streamId = u16(b, p + 8);
    const mid = u32(b, p + 12);
    const ppidOrFsn = u32(b, p + 16);
    const data = b.subarray(p + 20, p + length);
    if (first && last) {
      out.push({ ppid: ppidOrFsn, streamId, data: data.slice(), reassembled: false });
      return;
    }
    const direction = this.direction(key);
    const messageKey = `${streamId}|${flags & 0x04}|${mid}`;
    let fragments = direction.byMid.get(messageKey);
    if (fragments === undefined) {
      fragments = new Map();
      direction.byMid.set(messageKey, fragments);
    }
    const fsn = first ? 0 : ppidOrFsn;
    if (fragments.has(fsn) || !direction.store(data.length)) return;
    fragments.set(fsn, { first, last, streamId, ppid: first ? ppidOrFsn : 0, data: data.slice() });
    const head = fragments.get(0);
    if (head === undefined || !head.first) return;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let f = 0;; f++) {
      const fragment = fragments.get(f);
      if (fragment === undefined) return;
      parts.push(fragment.data);
      total += fragment.data.length;
      if (total > SCTP_REASSEMBLY_LIMITS.maxMessageBytes) return;
      if (fragment.last) break;
    }
    for (const fragment of fragments.values()) direction.release(fragment);
    direction.byMid.delete(messageKey);
    out.push({ ppid: head.ppid, streamId, data: concat(parts, total), reassembled: true });
  }
}
