/**
 * An SCTP endpoint (RFC 9260) as a sans-IO state machine: many
 * associations over one lower-layer socket (a UDP socket for RFC 6951
 * encapsulation). It verifies checksums, answers INITs with HMAC-protected
 * state cookies (no state is kept before a valid COOKIE ECHO), handles
 * collisions and peer restarts with tie-tags (§5.2), treats out-of-the-blue
 * packets as §8.4 says, and hands the rest to the associations.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { DecodeError } from "../../errors.ts";
import { IndexedMinHeap } from "../../util/indexed_heap.ts";
import {
  Association,
  type AssociationConfig,
  type AssociationEvent,
  type AssociationParameters,
  DEFAULT_ASSOCIATION_CONFIG,
} from "./association.ts";
import {
  type Chunk,
  decodePacket,
  encodePacket,
  type InitChunk,
  InitParameterType,
  SctpCause,
  type SctpParameter,
} from "./chunk.ts";

/** A lower-layer address: where a datagram came from or goes (UDP address and port). */
export interface DatagramAddress {
  /** IP address. */
  readonly address: string;
  /** UDP port. */
  readonly port: number;
}

/** A datagram to send. */
export interface OutgoingDatagram {
  /** The SCTP packet. */
  readonly bytes: Uint8Array;
  /** Where to. */
  readonly to: DatagramAddress;
}

/** What an endpoint tells its user. */
export type EndpointEvent =
  | {
    readonly kind: "accepted";
    readonly association: Association;
    readonly remote: DatagramAddress;
  }
  | {
    readonly kind: "association";
    readonly association: Association;
    readonly event: AssociationEvent;
  };

/** Options of an {@link SctpEndpoint}. */
export interface SctpEndpointOptions extends Partial<AssociationConfig> {
  /** 32 random bits per call (default: the runtime's cryptographic generator). */
  readonly random?: () => number;
  /** Secret of the cookie MAC (default: 32 random bytes). */
  readonly secret?: Uint8Array;
  /** Out-of-the-blue packets answered per second at most (default 100). */
  readonly maxOotbRepliesPerSecond?: number;
  /** Associations at once at most (default 4096); more INITs are answered with ABORT. */
  readonly maxAssociations?: number;
}

/** Counters of an endpoint. */
export interface EndpointStats {
  /** Datagrams that did not decode (checksum, lengths). */
  malformed: number;
  /** Packets for no association, answered or dropped (§8.4). */
  outOfTheBlue: number;
  /** COOKIE ECHOs refused (bad MAC, stale, wrong ports or tag). */
  badCookies: number;
}

const COOKIE_BODY = 48;
const COOKIE_MAC = 32;

interface CookieContents extends AssociationParameters {
  readonly createdAt: number;
  readonly localPort: number;
  readonly remotePort: number;
  readonly tieLocal: number;
  readonly tiePeer: number;
}

/** 32-bit values from the runtime's cryptographic generator (tags and TSNs must be unguessable). */
function cryptoRandom(): () => number {
  const pool = new Uint32Array(256);
  let i = pool.length;
  return () => {
    if (i >= pool.length) {
      globalThis.crypto.getRandomValues(pool);
      i = 0;
    }
    return pool[i++];
  };
}

/** An SCTP endpoint: associations by remote address and ports. */
export class SctpEndpoint {
  /** Counters. */
  readonly stats: EndpointStats = { malformed: 0, outOfTheBlue: 0, badCookies: 0 };
  private readonly config: Partial<AssociationConfig>;
  private readonly full: AssociationConfig;
  private readonly random: () => number;
  private readonly secret: Uint8Array;
  private readonly listening = new Set<number>();
  private readonly associations = new Map<
    string,
    { association: Association; remote: DatagramAddress }
  >();
  private datagrams: OutgoingDatagram[] = [];
  /** Associations that may have something to send or tell. */
  private readonly dirty = new Set<string>();
  /** Each open association by its next deadline. */
  private readonly timers = new IndexedMinHeap<Association>();
  /** Each association's key (for flushing one without a scan). */
  private readonly keys = new WeakMap<Association, string>();
  private events: EndpointEvent[] = [];
  private ootbWindow = 0;
  private ootbCount = 0;
  private readonly maxOotb: number;
  private readonly maxAssociations: number;

  /**
   * Creates an endpoint with no associations and no listening ports.
   *
   * @param options association settings, randomness, cookie secret, limits
   */
  constructor(options: SctpEndpointOptions = {}) {
    const { random, secret, maxOotbRepliesPerSecond, maxAssociations, ...config } = options;
    this.config = config;
    this.full = { ...DEFAULT_ASSOCIATION_CONFIG, ...config };
    this.random = random ?? cryptoRandom();
    this.secret = secret ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
    this.maxOotb = maxOotbRepliesPerSecond ?? 100;
    this.maxAssociations = maxAssociations ?? 4096;
  }

  /** Accepts associations to a local port. */
  listen(port: number): void {
    this.listening.add(port);
  }

  /** Stops accepting associations to a local port (existing ones stay). */
  unlisten(port: number): void {
    this.listening.delete(port);
  }

  /** Local ports in use by associations or listeners. */
  portInUse(port: number): boolean {
    if (this.listening.has(port)) return true;
    for (const { association } of this.associations.values()) {
      if (association.localPort === port) return true;
    }
    return false;
  }

  /** Associations open now. */
  get size(): number {
    return this.associations.size;
  }

  /** The map key of an association: remote address and both ports. */
  private key(address: string, remotePort: number, localPort: number): string {
    return `${address}|${remotePort}|${localPort}`;
  }

  /** Opens an association to `remote` (its UDP address) and SCTP port; the handshake starts. */
  connect(
    remote: DatagramAddress,
    remotePort: number,
    localPort: number,
    now: number,
  ): Association {
    const key = this.key(remote.address, remotePort, localPort);
    if (this.associations.has(key)) throw new Error(`an association ${key} exists already`);
    const a = new Association(localPort, remotePort, this.random, this.config);
    this.associations.set(key, { association: a, remote });
    a.connect(now);
    this.dirty.add(key);
    this.collect(now);
    return a;
  }

  /** A datagram arrived. */
  receive(bytes: Uint8Array, from: DatagramAddress, now: number): void {
    let packet;
    try {
      packet = decodePacket(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.stats.malformed++;
      return;
    }
    const key = this.key(from.address, packet.sourcePort, packet.destinationPort);
    this.dirty.add(key);
    const entry = this.associations.get(key);
    const first = packet.chunks[0];
    if (first === undefined) return;
    if (first.type === "INIT") {
      // INIT must be alone, with tag 0 (§8.5.1).
      if (packet.chunks.length !== 1 || packet.verificationTag !== 0) return;
      this.onInit(first, packet.sourcePort, packet.destinationPort, from, entry?.association, now);
      this.collect(now);
      return;
    }
    if (first.type === "COOKIE-ECHO") {
      const handled = this.onCookieEcho(
        first.cookie,
        packet.verificationTag,
        packet.sourcePort,
        packet.destinationPort,
        from,
        entry?.association,
        now,
      );
      if (handled !== undefined) {
        handled.receive(packet.verificationTag, packet.chunks.slice(1), now);
        this.collect(now);
        return;
      }
      if (entry === undefined) {
        this.collect(now);
        return;
      }
    }
    if (entry === undefined) {
      this.outOfTheBlue(
        packet.verificationTag,
        packet.sourcePort,
        packet.destinationPort,
        packet.chunks,
        from,
        now,
      );
      this.collect(now);
      return;
    }
    // RFC 6951 §5.4: the peer's UDP port is learned from what it sends.
    if (entry.remote.port !== from.port) entry.remote = { address: from.address, port: from.port };
    entry.association.receive(packet.verificationTag, packet.chunks, now);
    this.collect(now);
  }

  // -------------------------------------------------------------------------
  // Cookies

  /** Builds a signed state cookie (RFC 9260 §5.1.3). */
  private makeCookie(c: CookieContents): Uint8Array {
    const out = new Uint8Array(COOKIE_BODY + COOKIE_MAC);
    const v = new DataView(out.buffer);
    v.setUint8(0, 1);
    v.setFloat64(4, c.createdAt);
    v.setUint32(12, c.localTag);
    v.setUint32(16, c.peerTag);
    v.setUint32(20, c.localInitialTsn);
    v.setUint32(24, c.peerInitialTsn);
    v.setUint16(28, c.outboundStreams);
    v.setUint16(30, c.inboundStreams);
    v.setUint32(32, c.peerRwnd);
    v.setUint16(36, c.localPort);
    v.setUint16(38, c.remotePort);
    v.setUint32(40, c.tieLocal);
    v.setUint32(44, c.tiePeer);
    out.set(this.mac(out.subarray(0, COOKIE_BODY)), COOKIE_BODY);
    return out;
  }

  /** The HMAC-SHA-256 of a cookie body under this endpoint's secret. */
  private mac(body: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac("sha256", this.secret).update(body).digest());
  }

  /** Checks a cookie's MAC and reads it; undefined when forged or malformed. */
  private readCookie(cookie: Uint8Array): CookieContents | undefined {
    if (cookie.length !== COOKIE_BODY + COOKIE_MAC || cookie[0] !== 1) return undefined;
    const expected = this.mac(cookie.subarray(0, COOKIE_BODY));
    if (!timingSafeEqual(expected, cookie.subarray(COOKIE_BODY))) return undefined;
    const v = new DataView(cookie.buffer, cookie.byteOffset, COOKIE_BODY);
    return {
      createdAt: v.getFloat64(4),
      localTag: v.getUint32(12),
      peerTag: v.getUint32(16),
      localInitialTsn: v.getUint32(20),
      peerInitialTsn: v.getUint32(24),
      outboundStreams: v.getUint16(28),
      inboundStreams: v.getUint16(30),
      peerRwnd: v.getUint32(32),
      localPort: v.getUint16(36),
      remotePort: v.getUint16(38),
      tieLocal: v.getUint32(40),
      tiePeer: v.getUint32(44),
    };
  }

  /** A random non-zero 32-bit value (verification tags, TSNs). */
  private nonZero(): number {
    for (;;) {
      const v = this.random() >>> 0;
      if (v !== 0) return v;
    }
  }

  /** INIT: answer with INIT ACK and a cookie; nothing is kept (§5.1 B, §5.2.1, §5.2.2). */
  private onInit(
    init: InitChunk,
    remotePort: number,
    localPort: number,
    from: DatagramAddress,
    existing: Association | undefined,
    now: number,
  ): void {
    if (init.initiateTag === 0 || init.outboundStreams === 0 || init.inboundStreams === 0) {
      // Invalid INIT (§3.3.2): abort with the peer's tag.
      this.send(from, localPort, remotePort, init.initiateTag, [{
        type: "ABORT",
        reflected: false,
        causes: [{ code: SctpCause.InvalidMandatoryParameter, info: new Uint8Array() }],
      }]);
      return;
    }
    if (
      existing === undefined &&
      (!this.listening.has(localPort) || this.associations.size >= this.maxAssociations)
    ) {
      // §8.4 (3) and §5.1: tag = the INIT's Initiate Tag, T bit clear.
      this.outOfTheBlueReply(from, localPort, remotePort, init.initiateTag, "ABORT", now, false);
      return;
    }
    let localTag: number;
    let localTsn: number;
    let tieLocal = 0;
    let tiePeer = 0;
    const pending = existing?.pendingInit;
    if (existing !== undefined && pending !== undefined) {
      // Collision during our own handshake (§5.2.1): same tag as our INIT.
      localTag = pending.initiateTag;
      localTsn = pending.initialTsn;
    } else if (existing !== undefined) {
      // INIT for an established association (§5.2.2): a new tag, tie-tags to spot a restart.
      localTag = this.nonZero();
      localTsn = this.random() >>> 0;
      tieLocal = existing.ownTag;
      tiePeer = existing.peerTag;
    } else {
      localTag = this.nonZero();
      localTsn = this.random() >>> 0;
    }
    const outboundStreams = Math.min(this.full.outboundStreams, init.inboundStreams);
    const inboundStreams = Math.min(this.full.maxInboundStreams, init.outboundStreams);
    const cookie = this.makeCookie({
      createdAt: now,
      localTag,
      peerTag: init.initiateTag,
      localInitialTsn: localTsn,
      peerInitialTsn: init.initialTsn,
      outboundStreams,
      inboundStreams,
      peerRwnd: init.aRwnd,
      localPort,
      remotePort,
      tieLocal,
      tiePeer,
    });
    const parameters: SctpParameter[] = [{ type: InitParameterType.StateCookie, value: cookie }];
    // Unknown parameters whose action bits ask for a report (§3.2.1).
    for (const p of init.parameters) {
      if (knownInitParameter(p.type)) continue;
      const action = p.type >>> 14;
      if (action & 1) {
        parameters.push({ type: InitParameterType.UnrecognizedParameter, value: tlv(p) });
      }
      if ((action & 2) === 0) break; // stop processing further parameters
    }
    this.send(from, localPort, remotePort, init.initiateTag, [{
      type: "INIT-ACK",
      initiateTag: localTag,
      aRwnd: this.full.receiveWindow,
      outboundStreams,
      inboundStreams,
      initialTsn: localTsn,
      parameters,
    }]);
  }

  /** COOKIE ECHO: a valid cookie makes (or updates) an association (§5.1 D, §5.2.4). */
  private onCookieEcho(
    cookie: Uint8Array,
    verificationTag: number,
    remotePort: number,
    localPort: number,
    from: DatagramAddress,
    existing: Association | undefined,
    now: number,
  ): Association | undefined {
    const c = this.readCookie(cookie);
    if (
      c === undefined || c.localPort !== localPort || c.remotePort !== remotePort ||
      c.localTag !== verificationTag
    ) {
      this.stats.badCookies++;
      return undefined;
    }
    if (now - c.createdAt > this.full.validCookieLife) {
      this.stats.badCookies++;
      const staleness = new Uint8Array(4);
      new DataView(staleness.buffer).setUint32(
        0,
        Math.min(0xffffffff, Math.round((now - c.createdAt - this.full.validCookieLife) * 1000)),
      );
      this.send(from, localPort, remotePort, c.peerTag, [{
        type: "ERROR",
        reflected: false,
        causes: [{ code: SctpCause.StaleCookie, info: staleness }],
      }]);
      return undefined;
    }
    const key = this.key(from.address, remotePort, localPort);
    if (existing === undefined) {
      if (!this.listening.has(localPort)) return undefined;
      const a = Association.fromCookie(localPort, remotePort, this.random, this.config, c, now);
      this.associations.set(key, { association: a, remote: from });
      this.events.push({ kind: "accepted", association: a, remote: from });
      return a;
    }
    const sameLocal = c.localTag === existing.ownTag;
    const samePeer = c.peerTag === existing.peerTag;
    if (
      !sameLocal && !samePeer && c.tieLocal === existing.ownTag && c.tiePeer === existing.peerTag
    ) {
      // Case A: the peer restarted. The old association ends, a new one starts.
      existing.restarted(now);
      this.drainOne(key, existing, now);
      const a = Association.fromCookie(localPort, remotePort, this.random, this.config, c, now);
      this.associations.set(key, { association: a, remote: from });
      this.events.push({ kind: "accepted", association: a, remote: from });
      return a;
    }
    if (sameLocal) {
      // Cases B (peer tag changed: simultaneous INITs) and D (both match).
      existing.acceptCookie(c, now);
      return existing;
    }
    return undefined; // case C (a late cookie) or anything else: discard
  }

  // -------------------------------------------------------------------------
  // Out of the blue (§8.4)

  /** An out-of-the-blue packet (§8.4): ignored or answered, rate limited. */
  private outOfTheBlue(
    verificationTag: number,
    remotePort: number,
    localPort: number,
    chunks: readonly Chunk[],
    from: DatagramAddress,
    now: number,
  ): void {
    this.stats.outOfTheBlue++;
    if (
      chunks.some((c) =>
        c.type === "ABORT" || c.type === "SHUTDOWN-COMPLETE" || c.type === "COOKIE-ACK"
      )
    ) return;
    if (chunks.some((c) => c.type === "ERROR")) return;
    if (chunks.some((c) => c.type === "SHUTDOWN-ACK")) {
      this.outOfTheBlueReply(
        from,
        localPort,
        remotePort,
        verificationTag,
        "SHUTDOWN-COMPLETE",
        now,
      );
      return;
    }
    this.outOfTheBlueReply(from, localPort, remotePort, verificationTag, "ABORT", now);
  }

  /** Answers an out-of-the-blue packet, at most so many per second. */
  private outOfTheBlueReply(
    to: DatagramAddress,
    localPort: number,
    remotePort: number,
    tag: number,
    type: "ABORT" | "SHUTDOWN-COMPLETE",
    now: number,
    reflected = true,
  ): void {
    const second = Math.floor(now / 1000);
    if (second !== this.ootbWindow) {
      this.ootbWindow = second;
      this.ootbCount = 0;
    }
    if (++this.ootbCount > this.maxOotb) return;
    // The T flag: the tag is the one from the packet we answer (§8.4, §8.5.1).
    const chunk: Chunk = type === "ABORT"
      ? { type: "ABORT", reflected, causes: [] }
      : { type: "SHUTDOWN-COMPLETE", reflected };
    this.send(to, localPort, remotePort, tag, [chunk]);
  }

  // -------------------------------------------------------------------------
  // Output

  /** Queues one packet for sending. */
  private send(
    to: DatagramAddress,
    localPort: number,
    remotePort: number,
    tag: number,
    chunks: Chunk[],
  ): void {
    this.datagrams.push({
      bytes: encodePacket({
        sourcePort: localPort,
        destinationPort: remotePort,
        verificationTag: tag,
        chunks,
      }),
      to,
    });
  }

  /** Moves one association's packets and events to the endpoint's queues. */
  private drainOne(key: string, a: Association, _now: number): void {
    const entry = this.associations.get(key);
    const remote = entry?.remote;
    if (remote !== undefined) {
      for (const p of a.drainPackets()) {
        this.send(remote, a.localPort, a.remotePort, p.verificationTag, p.chunks);
      }
    }
    for (const event of a.drainEvents()) {
      this.events.push({ kind: "association", association: a, event });
    }
    if (a.state === "closed" && entry?.association === a) this.associations.delete(key);
    this.keys.set(a, key);
    const d = a.state === "closed" ? undefined : a.nextDeadline();
    if (d === undefined) this.timers.delete(a);
    else this.timers.set(a, d);
  }

  /** Gathers the packets and events of the associations that may have some. */
  private collect(now: number): void {
    for (const key of this.dirty) {
      const entry = this.associations.get(key);
      if (entry !== undefined) this.drainOne(key, entry.association, now);
    }
    this.dirty.clear();
  }

  /** Time passed: runs the timers that are due (a heap: cost by timers due, not by associations). */
  advanceTime(now: number): void {
    for (;;) {
      const a = this.timers.peek();
      if (a === undefined || this.timers.peekPriority()! > now) break;
      this.timers.delete(a); // drainOne puts it back with its next deadline
      a.advanceTime(now);
      this.dirty.add(this.keys.get(a)!);
      this.collect(now);
    }
  }

  /** Something an association's user did (send, shutdown, abort): gathers what it produced. */
  flush(now: number, association?: Association): void {
    const key = association === undefined ? undefined : this.keys.get(association);
    if (key !== undefined && this.associations.get(key)?.association === association) {
      this.dirty.add(key);
    } else {
      for (const [k, entry] of this.associations) {
        if (association === undefined || entry.association === association) this.dirty.add(k);
      }
    }
    this.collect(now);
  }

  /** When {@link SctpEndpoint.advanceTime} should next be called. */
  nextDeadline(): number | undefined {
    return this.timers.peekPriority();
  }

  /** Datagrams to send; the queue is emptied. */
  drainDatagrams(): OutgoingDatagram[] {
    const out = this.datagrams;
    this.datagrams = [];
    return out;
  }

  /** Events since the last call. */
  drainEvents(): EndpointEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }

  /** The lower-layer address an association talks to. */
  remoteOf(a: Association): DatagramAddress | undefined {
    const key = this.keys.get(a);
    const entry = key === undefined ? undefined : this.associations.get(key);
    return entry?.association === a ? entry.remote : undefined;
  }
}

function knownInitParameter(type: number): boolean {
  return type === 5 || type === 6 || type === 7 || type === 8 || type === 9 || type === 11 ||
    type === 12 || type === 0x8000 || type === 0xc000;
}

function tlv(p: SctpParameter): Uint8Array {
  const out = new Uint8Array(4 + p.value.length);
  out[0] = p.type >>> 8;
  out[1] = p.type & 0xff;
  out[2] = out.length >>> 8;
  out[3] = out.length & 0xff;
  out.set(p.value, 4);
  return out;
}
