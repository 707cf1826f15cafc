/**
 * One SCTP association (RFC 9260) as a sans-IO state machine: fed packets,
 * user sends and time, it returns packets to transmit and events.
 *
 * Implemented: the four-way handshake (the cookie itself is made and
 * checked by the endpoint), verification tags, ordered and unordered
 * delivery on many streams, fragmentation and reassembly, SACK with gap
 * blocks and duplicate reports, delayed acknowledgement, retransmission
 * with RTO estimation (Karn) and exponential back-off, fast retransmit and
 * fast recovery, congestion control (slow start, congestion avoidance) and
 * flow control (peer receive window, zero-window probes), HEARTBEAT path
 * supervision, association failure after Association.Max.Retrans, the
 * SHUTDOWN sequence and ABORT, ERROR reports of unrecognized chunks.
 * Not implemented: multi-homing (one path), PR-SCTP, stream reset, ECN.
 *
 * @module
 */

import {
  type Chunk,
  type DataChunk,
  type InitChunk,
  type SackChunk,
  SctpCause,
  type SctpErrorCause,
} from "./chunk.ts";

/** Settings of an association (milliseconds, bytes). */
export interface AssociationConfig {
  /** Largest SCTP packet (common header included) (default 1200: fits any UDP path). */
  readonly mtu: number;
  /** RTO.Initial (default 1000). */
  readonly rtoInitial: number;
  /** RTO.Min (default 1000; tests use less). */
  readonly rtoMin: number;
  /** RTO.Max (default 60000). */
  readonly rtoMax: number;
  /** Max.Init.Retransmits (default 8). */
  readonly maxInitRetransmits: number;
  /** Association.Max.Retrans (default 10). */
  readonly associationMaxRetrans: number;
  /** HB.interval (default 30000; 0: no heartbeats). */
  readonly heartbeatInterval: number;
  /** Valid.Cookie.Life (default 60000). */
  readonly validCookieLife: number;
  /** Delay of a SACK when nothing forces it (default 200). */
  readonly sackDelay: number;
  /** Receive buffer, advertised as a_rwnd (default 256 KiB). */
  readonly receiveWindow: number;
  /** Outbound streams requested (default 16). */
  readonly outboundStreams: number;
  /** Inbound streams allowed (default 2048). */
  readonly maxInboundStreams: number;
  /** Largest user message accepted for reassembly (default 256 KiB; larger: ABORT). */
  readonly maxMessageSize: number;
  /** User data queued for sending at most (default 4 MiB). */
  readonly sendBufferLimit: number;
  /** Max.Burst: new packets per transmission opportunity (default 4). */
  readonly maxBurst: number;
}

/** The defaults (RFC 9260 §16 where it has them). */
export const DEFAULT_ASSOCIATION_CONFIG: AssociationConfig = Object.freeze({
  mtu: 1200,
  rtoInitial: 1000,
  rtoMin: 1000,
  rtoMax: 60_000,
  maxInitRetransmits: 8,
  associationMaxRetrans: 10,
  heartbeatInterval: 30_000,
  validCookieLife: 60_000,
  sackDelay: 200,
  receiveWindow: 256 * 1024,
  outboundStreams: 16,
  maxInboundStreams: 2048,
  maxMessageSize: 256 * 1024,
  sendBufferLimit: 4 << 20,
  maxBurst: 4,
});

/** Association states (RFC 9260 §4). */
export type AssociationState =
  | "cookie-wait"
  | "cookie-echoed"
  | "established"
  | "shutdown-pending"
  | "shutdown-sent"
  | "shutdown-received"
  | "shutdown-ack-sent"
  | "closed";

/** Why an association closed. */
export type CloseReason =
  | "shutdown"
  | "abort"
  | "peer-abort"
  | "timeout"
  | "init-failed"
  | "restart"
  | "protocol-violation"
  | "out-of-resource";

/** What an association tells its user. */
export type AssociationEvent =
  | { readonly kind: "up" }
  | {
    readonly kind: "message";
    readonly streamId: number;
    readonly ppid: number;
    readonly unordered: boolean;
    readonly data: Uint8Array;
  }
  | { readonly kind: "writable" }
  | { readonly kind: "closed"; readonly reason: CloseReason; readonly detail?: string };

/** The parameters both ends agreed on (from INIT/INIT ACK or a cookie). */
export interface AssociationParameters {
  /** Our verification tag (the peer puts it in our packets). */
  readonly localTag: number;
  /** The peer's verification tag (we put it in its packets). */
  readonly peerTag: number;
  /** Our first TSN. */
  readonly localInitialTsn: number;
  /** The peer's first TSN. */
  readonly peerInitialTsn: number;
  /** Streams we may send on. */
  readonly outboundStreams: number;
  /** Streams the peer may send on. */
  readonly inboundStreams: number;
  /** The peer's initial receive window. */
  readonly peerRwnd: number;
}

/** Counters. */
export interface AssociationStats {
  /** DATA chunks sent (first transmissions). */
  chunksSent: number;
  /** DATA chunks retransmitted. */
  retransmissions: number;
  /** Fast retransmissions among them. */
  fastRetransmissions: number;
  /** T3-rtx expiries. */
  timeouts: number;
  /** DATA chunks received (not duplicates). */
  chunksReceived: number;
  /** Duplicate DATA chunks received. */
  duplicatesReceived: number;
  /** User messages delivered. */
  messagesDelivered: number;
}

interface Outstanding {
  readonly chunk: DataChunk;
  readonly size: number;
  sentAt: number;
  transmissions: number;
  acked: boolean;
  misses: number;
  retransmit: boolean;
  /** Fast-retransmitted once already: from now on only T3 retransmits it (§7.2.4). */
  fastRetransmitted: boolean;
  inFlight: boolean;
}

interface Pending {
  readonly streamId: number;
  readonly ppid: number;
  readonly unordered: boolean;
  readonly data: Uint8Array;
  offset: number;
  ssn: number;
}

interface Inbound {
  nextSsn: number;
  readonly ready: Map<number, { ppid: number; data: Uint8Array }>;
}

const lt = (a: number, b: number) => ((a - b) | 0) < 0;
const le = (a: number, b: number) => ((a - b) | 0) <= 0;
const add = (a: number, n: number) => (a + n) >>> 0;
const dist = (a: number, b: number) => (a - b) | 0;

/** Bytes of the DATA chunk header (RFC 9260 §3.3.1). */
const DATA_HEADER = 16;
/** Bytes of the SCTP common header. */
const COMMON = 12;

/** An SCTP association. */
export class Association {
  /** The settings in force. */
  readonly config: AssociationConfig;
  /** Counters. */
  readonly stats: AssociationStats = {
    chunksSent: 0,
    retransmissions: 0,
    fastRetransmissions: 0,
    timeouts: 0,
    chunksReceived: 0,
    duplicatesReceived: 0,
    messagesDelivered: 0,
  };
  private stateValue: AssociationState;
  private params: AssociationParameters | undefined;
  private localTag: number;
  private localInitialTsn: number;
  private readonly out: Chunk[][] = [];
  private events: AssociationEvent[] = [];
  private control: Chunk[] = [];
  private now = 0;

  // INIT / COOKIE ECHO retransmission
  private initChunk: InitChunk | undefined;
  private cookieChunk: Chunk[] | undefined;
  private t1: number | undefined;
  private t1Count = 0;

  // Sending
  private nextTsn = 0;
  private readonly ssn = new Map<number, number>();
  private readonly queue: Pending[] = [];
  private queued = 0;
  private readonly outstanding: Outstanding[] = [];
  private flight = 0;
  private peerRwnd = 0;
  private cwnd = 0;
  private ssthresh = 0;
  private partialBytesAcked = 0;
  private lastCumAck = 0;
  private fastRecoveryExit: number | undefined;
  private srtt: number | undefined;
  private rttvar = 0;
  private rto: number;
  private t3: number | undefined;
  private errors = 0;
  private wantWritable = false;

  // Receiving
  /** Every TSN up to this one has arrived. */
  private cumTsn = 0;
  /** TSNs beyond the cumulative TSN that arrived (for Gap Ack Blocks). */
  private readonly arrived = new Set<number>();
  /** Fragments of messages not complete yet, by TSN. */
  private readonly fragments = new Map<number, DataChunk>();
  /** Bytes held for the user (fragments and messages waiting for their turn). */
  private buffered = 0;
  private readonly inbound = new Map<number, Inbound>();
  private duplicates: number[] = [];
  private sackNeeded = false;
  private packetsSinceSack = 0;
  /** Outstanding chunks acknowledged by gap blocks (not cumulatively yet). */
  private gapAcked = 0;
  private sackDeadline: number | undefined;

  // Supervision and shutdown
  private heartbeatAt: number | undefined;
  private heartbeatOutstanding: number | undefined;
  private t2: number | undefined;
  private t2Count = 0;
  private t5: number | undefined;
  private lastActivity = 0;

  /**
   * Creates an association. A client calls {@link Association.connect};
   * the endpoint creates server-side ones from a valid cookie with
   * {@link Association.fromCookie}.
   *
   * @param localPort our SCTP port
   * @param remotePort the peer's SCTP port
   * @param random 32 random bits per call (tags, initial TSN, heartbeat nonces)
   * @param config settings
   */
  constructor(
    readonly localPort: number,
    readonly remotePort: number,
    private readonly random: () => number,
    config: Partial<AssociationConfig> = {},
  ) {
    this.config = { ...DEFAULT_ASSOCIATION_CONFIG, ...config };
    this.stateValue = "closed";
    this.localTag = this.nonZero();
    this.localInitialTsn = this.random() >>> 0;
    this.rto = this.config.rtoInitial;
  }

  /** A random non-zero 32-bit value (verification tags, TSNs). */
  private nonZero(): number {
    for (;;) {
      const v = this.random() >>> 0;
      if (v !== 0) return v;
    }
  }

  /** The state. */
  get state(): AssociationState {
    return this.stateValue;
  }

  /** Whether it is closed (a method, so that type narrowing does not stick across calls). */
  private get isClosed(): boolean {
    return this.stateValue === "closed";
  }

  /** Our verification tag. */
  get ownTag(): number {
    return this.localTag;
  }

  /** The peer's verification tag (0 before it is known). */
  get peerTag(): number {
    return this.params?.peerTag ?? 0;
  }

  /** The agreed parameters, once known. */
  get parameters(): AssociationParameters | undefined {
    return this.params;
  }

  /** User data queued and not yet acknowledged, in bytes. */
  get bufferedAmount(): number {
    return this.queued + this.flight;
  }

  /** The current retransmission timeout. */
  get currentRto(): number {
    return this.rto;
  }

  /** The current congestion window. */
  get congestionWindow(): number {
    return this.cwnd;
  }

  // -------------------------------------------------------------------------
  // Opening

  /** Starts the handshake: INIT (RFC 9260 §5.1). */
  connect(now: number): void {
    this.now = now;
    if (this.stateValue !== "closed") return;
    this.initChunk = {
      type: "INIT",
      initiateTag: this.localTag,
      aRwnd: this.config.receiveWindow,
      outboundStreams: this.config.outboundStreams,
      inboundStreams: this.config.maxInboundStreams,
      initialTsn: this.localInitialTsn,
      parameters: [],
    };
    this.stateValue = "cookie-wait";
    this.t1Count = 0;
    this.sendInit();
  }

  /** Sends (or resends) INIT. */
  private sendInit(): void {
    // INIT goes with verification tag 0.
    this.out.push([this.initChunk!]);
    this.t1 = this.now + this.rto;
  }

  /** Our INIT (for the endpoint's collision handling). */
  get pendingInit(): InitChunk | undefined {
    return this.stateValue === "cookie-wait" || this.stateValue === "cookie-echoed"
      ? this.initChunk
      : undefined;
  }

  /**
   * Server side: an association established from a valid cookie (RFC 9260
   * §5.1 D); sends COOKIE ACK.
   */
  static fromCookie(
    localPort: number,
    remotePort: number,
    random: () => number,
    config: Partial<AssociationConfig>,
    params: AssociationParameters,
    now: number,
  ): Association {
    const a = new Association(localPort, remotePort, random, config);
    a.now = now;
    a.localTag = params.localTag;
    a.localInitialTsn = params.localInitialTsn;
    a.establish(params);
    a.control.push({ type: "COOKIE-ACK", reflected: false });
    return a;
  }

  /** Enters ESTABLISHED with the agreed parameters. */
  private establish(params: AssociationParameters): void {
    this.params = params;
    this.nextTsn = params.localInitialTsn;
    this.lastCumAck = add(params.localInitialTsn, -1);
    this.cumTsn = add(params.peerInitialTsn, -1);
    this.peerRwnd = params.peerRwnd;
    const mtu = this.config.mtu;
    this.cwnd = Math.min(4 * mtu, Math.max(2 * mtu, 4380));
    this.ssthresh = params.peerRwnd;
    this.stateValue = "established";
    this.t1 = undefined;
    this.lastActivity = this.now;
    this.scheduleHeartbeat();
    this.events.push({ kind: "up" });
  }

  /**
   * Server side, for a COOKIE ECHO that matches this association (RFC 9260
   * §5.2.4 cases B and D): adopt the peer's tag if it changed, establish if
   * not yet, and acknowledge.
   */
  acceptCookie(params: AssociationParameters, now: number): void {
    this.now = now;
    if (this.stateValue === "cookie-wait" || this.stateValue === "cookie-echoed") {
      this.localTag = params.localTag;
      this.localInitialTsn = params.localInitialTsn;
      this.establish(params);
    } else if (this.params !== undefined && this.params.peerTag !== params.peerTag) {
      this.params = { ...this.params, peerTag: params.peerTag };
    }
    this.control.push({ type: "COOKIE-ACK", reflected: false });
  }

  // -------------------------------------------------------------------------
  // Receiving

  /**
   * A packet for this association arrived (the endpoint checked its
   * checksum and found the association). Applies the verification tag
   * rules (RFC 9260 §8.5) and processes its chunks.
   */
  receive(verificationTag: number, chunks: readonly Chunk[], now: number): void {
    this.now = now;
    if (this.stateValue === "closed") return;
    const first = chunks[0];
    if (first === undefined) return;
    // ABORT and SHUTDOWN COMPLETE may carry the peer's tag with the T flag (§8.5.1).
    if (first.type === "ABORT" || first.type === "SHUTDOWN-COMPLETE") {
      const expected = first.reflected ? this.peerTag : this.localTag;
      if (verificationTag !== expected) return;
    } else if (first.type === "INIT") {
      return; // the endpoint handles INIT collisions
    } else if (verificationTag !== this.localTag) {
      return;
    }
    this.lastActivity = now;
    let dataSeen = false;
    for (const c of chunks) {
      if (this.isClosed) break;
      switch (c.type) {
        case "DATA":
          dataSeen = true;
          this.onData(c);
          break;
        case "SACK":
          this.onSack(c);
          break;
        case "INIT-ACK":
          this.onInitAck(c);
          break;
        case "COOKIE-ACK":
          if (this.stateValue === "cookie-echoed") {
            this.cookieChunk = undefined;
            this.establish(this.params!);
          }
          break;
        case "HEARTBEAT":
          this.control.push({ type: "HEARTBEAT-ACK", info: c.info });
          break;
        case "HEARTBEAT-ACK":
          this.onHeartbeatAck(c.info);
          break;
        case "ABORT":
          this.close(
            "peer-abort",
            c.causes.map((x) => `cause ${x.code}`).join(", ") || undefined,
            false,
          );
          return;
        case "SHUTDOWN":
          this.onShutdown(c.cumulativeTsnAck);
          break;
        case "SHUTDOWN-ACK":
          if (this.stateValue === "shutdown-sent" || this.stateValue === "shutdown-ack-sent") {
            this.out.push([{ type: "SHUTDOWN-COMPLETE", reflected: false }]);
            this.close("shutdown", undefined, false);
            return;
          }
          break;
        case "SHUTDOWN-COMPLETE":
          if (this.stateValue === "shutdown-ack-sent") {
            this.close("shutdown", undefined, false);
            return;
          }
          break;
        case "ERROR":
          // Reports of what the peer did not understand: nothing to do but note the stale cookie case.
          if (
            this.stateValue === "cookie-echoed" &&
            c.causes.some((x) => x.code === SctpCause.StaleCookie)
          ) {
            this.stateValue = "cookie-wait";
            this.sendInit();
          }
          break;
        case "UNKNOWN": {
          const action = c.code >>> 6;
          if (action & 1) {
            this.control.push({
              type: "ERROR",
              reflected: false,
              causes: [{ code: SctpCause.UnrecognizedChunkType, info: c.raw }],
            });
          }
          if ((action & 2) === 0) return; // stop processing the packet
          break;
        }
        default:
          break; // COOKIE ECHO for an existing association: the endpoint's business
      }
    }
    if (dataSeen) {
      this.packetsSinceSack++;
      // Every second packet with DATA, or at once when something is out of order.
      if (this.packetsSinceSack >= 2 || this.arrived.size > 0 || this.duplicates.length > 0) {
        this.sackNeeded = true;
      } else {
        this.sackDeadline ??= now + this.config.sackDelay;
      }
    }
  }

  /** An INIT ACK in COOKIE-WAIT: echo the cookie (§5.1 C). */
  private onInitAck(c: InitChunk): void {
    if (this.stateValue !== "cookie-wait") return;
    const cookie = c.parameters.find((x) => x.type === 7);
    if (cookie === undefined || c.initiateTag === 0) {
      this.close("protocol-violation", "INIT ACK without a state cookie", true);
      return;
    }
    this.params = {
      localTag: this.localTag,
      peerTag: c.initiateTag,
      localInitialTsn: this.localInitialTsn,
      peerInitialTsn: c.initialTsn,
      outboundStreams: Math.min(this.config.outboundStreams, c.inboundStreams),
      inboundStreams: Math.min(this.config.maxInboundStreams, c.outboundStreams),
      peerRwnd: c.aRwnd,
    };
    const chunks: Chunk[] = [{ type: "COOKIE-ECHO", cookie: cookie.value }];
    // Parameters we do not know and whose action bits ask for a report (§3.2.1).
    const unknown = c.parameters.filter((x) =>
      ![5, 6, 7, 8, 9, 11, 12, 0x8000, 0xc000].includes(x.type) && (x.type >>> 14) & 1
    );
    if (unknown.length > 0) {
      const info = new Uint8Array(unknown.reduce((n, x) => n + ((4 + x.value.length + 3) & ~3), 0));
      let p = 0;
      for (const x of unknown) {
        info[p] = x.type >>> 8;
        info[p + 1] = x.type & 0xff;
        info[p + 2] = (4 + x.value.length) >>> 8;
        info[p + 3] = (4 + x.value.length) & 0xff;
        info.set(x.value, p + 4);
        p += (4 + x.value.length + 3) & ~3;
      }
      chunks.push({
        type: "ERROR",
        reflected: false,
        causes: [{ code: SctpCause.UnrecognizedParameters, info }],
      });
    }
    this.cookieChunk = chunks;
    this.stateValue = "cookie-echoed";
    this.t1Count = 0;
    this.out.push(chunks);
    this.t1 = this.now + this.rto;
  }

  /** Accepts a DATA chunk: duplicates, window, reassembly, SACK scheduling. */
  private onData(c: DataChunk): void {
    if (this.params === undefined) return;
    if (
      this.stateValue !== "established" && this.stateValue !== "shutdown-pending" &&
      this.stateValue !== "shutdown-sent"
    ) {
      return;
    }
    if (c.data.length === 0) {
      const tsn = new Uint8Array(4);
      new DataView(tsn.buffer).setUint32(0, c.tsn);
      this.abortWith(SctpCause.NoUserData, tsn, "protocol-violation");
      return;
    }
    if (le(c.tsn, this.cumTsn) || this.arrived.has(c.tsn)) {
      this.stats.duplicatesReceived++;
      if (this.duplicates.length < 32) this.duplicates.push(c.tsn);
      this.sackNeeded = true;
      return;
    }
    if (c.streamId >= this.params.inboundStreams) {
      this.control.push({
        type: "ERROR",
        reflected: false,
        causes: [{
          code: SctpCause.InvalidStreamIdentifier,
          info: new Uint8Array([c.streamId >>> 8, c.streamId & 0xff, 0, 0]),
        }],
      });
      this.arrive(c.tsn); // acknowledged, delivered to nobody (RFC 9260 §6.5)
      return;
    }
    // No room, or far beyond the window: drop it unacknowledged; the peer will send it again.
    if (
      this.buffered + c.data.length > this.config.receiveWindow ||
      dist(c.tsn, this.cumTsn) > 0xffff
    ) {
      return;
    }
    this.stats.chunksReceived++;
    this.arrive(c.tsn);
    this.fragments.set(c.tsn, c);
    this.buffered += c.data.length;
    // Only a chunk that ends a message, or fills a hole before later fragments, can complete one
    // (so in-order fragments cost one walk per message, not one per fragment).
    if (c.ending || this.fragments.has(add(c.tsn, 1))) this.reassemble(c);
  }

  /** Records an arrival and moves the cumulative TSN over every contiguous one. */
  private arrive(tsn: number): void {
    this.arrived.add(tsn);
    for (let next = add(this.cumTsn, 1); this.arrived.has(next); next = add(next, 1)) {
      this.arrived.delete(next);
      this.cumTsn = next;
    }
  }

  /** Assembles the message `c` belongs to, if complete, and delivers what may be delivered. */
  private reassemble(c: DataChunk): void {
    // The first fragment: consecutive TSNs down to a B chunk.
    let first = c.tsn;
    for (let f: DataChunk | undefined = c; !f.beginning;) {
      first = add(first, -1);
      f = this.fragments.get(first);
      if (f === undefined || f.ending || f.streamId !== c.streamId) return;
    }
    // The last: up to an E chunk.
    let last = first;
    let size = 0;
    for (let t = first;; t = add(t, 1)) {
      const f = this.fragments.get(t);
      if (f === undefined || f.streamId !== c.streamId || (t !== first && f.beginning)) return;
      size += f.data.length;
      if (size > this.config.maxMessageSize) {
        this.abortWith(SctpCause.OutOfResource, new Uint8Array(), "out-of-resource");
        return;
      }
      if (f.ending) {
        last = t;
        break;
      }
    }
    const head = this.fragments.get(first)!;
    let data: Uint8Array;
    if (first === last) {
      data = head.data;
      this.fragments.delete(first);
    } else {
      data = new Uint8Array(size);
      let p = 0;
      for (let t = first;; t = add(t, 1)) {
        const f = this.fragments.get(t)!;
        data.set(f.data, p);
        p += f.data.length;
        this.fragments.delete(t);
        if (t === last) break;
      }
    }
    this.buffered -= size;
    if (head.unordered) {
      this.deliver(head.streamId, head.ppid, true, data);
      return;
    }
    let stream = this.inbound.get(head.streamId);
    if (stream === undefined) {
      stream = { nextSsn: 0, ready: new Map() };
      this.inbound.set(head.streamId, stream);
    }
    // A stream sequence number already delivered or waiting: the message is ignored.
    const behind = (stream.nextSsn - head.ssn) & 0xffff;
    if (stream.ready.has(head.ssn) || (behind !== 0 && behind < 0x8000)) return;
    stream.ready.set(head.ssn, { ppid: head.ppid, data });
    this.buffered += data.length;
    for (
      let m = stream.ready.get(stream.nextSsn);
      m !== undefined;
      m = stream.ready.get(stream.nextSsn)
    ) {
      stream.ready.delete(stream.nextSsn);
      this.buffered -= m.data.length;
      stream.nextSsn = (stream.nextSsn + 1) & 0xffff;
      this.deliver(head.streamId, m.ppid, false, m.data);
    }
  }

  /** Hands a complete user message to the user, in order where ordered. */
  private deliver(streamId: number, ppid: number, unordered: boolean, data: Uint8Array): void {
    this.stats.messagesDelivered++;
    this.events.push({ kind: "message", streamId, ppid, unordered, data });
  }

  /** Gap Ack Blocks over what arrived beyond the cumulative TSN. */
  private gapBlocks(): [number, number][] {
    const offsets: number[] = [];
    for (const tsn of this.arrived) {
      const d = dist(tsn, this.cumTsn);
      if (d > 0 && d <= 0xffff) offsets.push(d);
    }
    offsets.sort((a, b) => a - b);
    const gaps: [number, number][] = [];
    for (const o of offsets) {
      const lastGap = gaps[gaps.length - 1];
      if (lastGap !== undefined && lastGap[1] + 1 === o) lastGap[1] = o;
      else if (gaps.length < 64) gaps.push([o, o]);
      else break;
    }
    return gaps;
  }

  /** The SACK chunk describing what has arrived (gaps and duplicates). */
  private sack(): SackChunk {
    const chunk: SackChunk = {
      type: "SACK",
      cumulativeTsnAck: this.cumTsn,
      aRwnd: Math.max(0, this.config.receiveWindow - this.buffered),
      gaps: this.gapBlocks(),
      duplicates: this.duplicates,
    };
    this.duplicates = [];
    this.sackNeeded = false;
    this.sackDeadline = undefined;
    this.packetsSinceSack = 0;
    return chunk;
  }

  // -------------------------------------------------------------------------
  // Sending

  /**
   * Queues a user message. Returns false (and queues nothing) when the
   * send buffer is full; a `writable` event follows when it drains.
   * Throws when the association cannot send (not up, or shutting down).
   */
  send(
    streamId: number,
    ppid: number,
    data: Uint8Array,
    unordered = false,
    now = this.now,
  ): boolean {
    this.now = now;
    if (
      this.stateValue !== "established" && this.stateValue !== "cookie-echoed" &&
      this.stateValue !== "cookie-wait"
    ) {
      throw new Error(`cannot send in state ${this.stateValue}`);
    }
    const streams = this.params?.outboundStreams ?? this.config.outboundStreams;
    if (streamId >= streams) {
      throw new RangeError(`stream ${streamId} >= ${streams} outbound streams`);
    }
    if (data.length === 0) throw new RangeError("an SCTP message needs at least one byte");
    if (this.queued + data.length > this.config.sendBufferLimit) {
      this.wantWritable = true;
      return false;
    }
    let ssn = 0;
    if (!unordered) {
      ssn = this.ssn.get(streamId) ?? 0;
      this.ssn.set(streamId, (ssn + 1) & 0xffff);
    }
    this.queue.push({ streamId, ppid, unordered, data, offset: 0, ssn });
    this.queued += data.length;
    return true;
  }

  /** A SACK: acknowledges, counts misses for fast retransmit, adjusts cwnd and rwnd. */
  private onSack(c: SackChunk): void {
    if (this.params === undefined) return;
    // Ignore SACKs older than the newest one (§6.2.1 D i).
    if (lt(c.cumulativeTsnAck, this.lastCumAck)) return;
    // A SACK acknowledging what was never sent is a protocol violation (§6.2.1 D ii), ignored here.
    if (!lt(c.cumulativeTsnAck, this.nextTsn)) return;
    const advanced = lt(this.lastCumAck, c.cumulativeTsnAck);
    let bytesAcked = 0;
    let rttSample: number | undefined;
    // Cumulatively acknowledged chunks leave.
    let done = 0;
    while (
      done < this.outstanding.length && le(this.outstanding[done].chunk.tsn, c.cumulativeTsnAck)
    ) {
      const o = this.outstanding[done++];
      if (o.inFlight) this.flight -= o.size;
      if (!o.acked) bytesAcked += o.size;
      else this.gapAcked--;
      if (o.transmissions === 1) rttSample = this.now - o.sentAt;
    }
    if (done > 0) this.outstanding.splice(0, done); // one move, not one per chunk
    this.lastCumAck = c.cumulativeTsnAck;
    // Gap-acknowledged chunks stay outstanding but out of the flight.
    let highestNewlyAcked: number | undefined;
    // Without gap blocks and nothing gap-acknowledged before, no chunk changes here.
    const scan = c.gaps.length > 0 || this.gapAcked > 0 ? this.outstanding : [];
    for (const o of scan) {
      const offset = dist(o.chunk.tsn, c.cumulativeTsnAck);
      const inGap = c.gaps.some(([s, e]) => offset >= s && offset <= e);
      if (inGap && !o.acked) {
        o.acked = true;
        this.gapAcked++;
        o.retransmit = false;
        bytesAcked += o.size;
        if (o.inFlight) {
          o.inFlight = false;
          this.flight -= o.size;
        }
        if (o.transmissions === 1) rttSample = this.now - o.sentAt;
        highestNewlyAcked = o.chunk.tsn;
      } else if (!inGap && o.acked) {
        o.acked = false; // reneged
        this.gapAcked--;
      }
    }
    if (rttSample !== undefined) this.measure(rttSample);
    // Miss indications and fast retransmit (§7.2.4).
    const highest = highestNewlyAcked ?? (advanced ? c.cumulativeTsnAck : undefined);
    if (highest !== undefined) {
      let entering = false;
      for (const o of this.outstanding) {
        if (!lt(o.chunk.tsn, highest)) break;
        if (o.acked || o.retransmit || o.fastRetransmitted) continue;
        o.misses++;
        if (o.misses === 3) {
          o.retransmit = true;
          o.fastRetransmitted = true;
          o.misses = 0;
          this.stats.fastRetransmissions++;
          entering = true;
        }
      }
      if (entering && this.fastRecoveryExit === undefined) {
        this.ssthresh = Math.max(Math.floor(this.cwnd / 2), 4 * this.config.mtu);
        this.cwnd = this.ssthresh;
        this.partialBytesAcked = 0;
        this.fastRecoveryExit = add(this.nextTsn, -1);
      }
    }
    if (this.fastRecoveryExit !== undefined && le(this.fastRecoveryExit, c.cumulativeTsnAck)) {
      this.fastRecoveryExit = undefined;
    }
    // Congestion window growth (§7.2.1, §7.2.2), only outside fast recovery.
    if (advanced && this.fastRecoveryExit === undefined) {
      const mtu = this.config.mtu;
      if (this.cwnd <= this.ssthresh) {
        this.cwnd += Math.min(bytesAcked, mtu);
      } else {
        this.partialBytesAcked += bytesAcked;
        if (this.partialBytesAcked >= this.cwnd) {
          this.partialBytesAcked -= this.cwnd;
          this.cwnd += mtu;
        }
      }
    }
    // Flow control (§6.2.1): the window minus what is still in flight.
    this.peerRwnd = Math.max(0, c.aRwnd - this.flight);
    if (advanced || bytesAcked > 0) this.errors = 0;
    if (this.outstanding.length === 0) this.t3 = undefined;
    else if (advanced) this.t3 = this.now + this.rto;
    if (this.wantWritable && this.queued < this.config.sendBufferLimit / 2) {
      this.wantWritable = false;
      this.events.push({ kind: "writable" });
    }
    this.maybeFinishShutdown();
  }

  /** Updates SRTT, RTTVAR and RTO from one round-trip sample (§6.3.1). */
  private measure(rtt: number): void {
    const { rtoMin, rtoMax } = this.config;
    if (this.srtt === undefined) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
    this.rto = Math.min(rtoMax, Math.max(rtoMin, this.srtt + 4 * this.rttvar));
  }

  /** Builds the packets to send now: control chunks, a SACK when due, retransmissions, new data. */
  private transmit(): void {
    const mtu = this.config.mtu;
    const room = mtu - COMMON;
    let packet: Chunk[] = [];
    let size = 0;
    const flush = () => {
      if (packet.length > 0) this.out.push(packet);
      packet = [];
      size = 0;
    };
    const put = (c: Chunk, bytes: number) => {
      if (size + bytes > room && packet.length > 0) flush();
      packet.push(c);
      size += bytes;
    };
    for (const c of this.control) put(c, chunkBytes(c));
    this.control = [];
    const established = this.stateValue === "established" ||
      this.stateValue === "shutdown-pending" ||
      this.stateValue === "shutdown-received";
    if (
      this.sackNeeded && this.params !== undefined && established ||
      this.sackNeeded && this.stateValue === "shutdown-sent"
    ) {
      const s = this.sack();
      put(s, chunkBytes(s));
    }
    if (!established) {
      flush();
      return;
    }
    // Retransmissions first (cwnd permitting; at least one packet's worth after a timeout).
    let burst = 0;
    for (const o of this.outstanding) {
      if (!o.retransmit) continue;
      if (this.flight >= this.cwnd && burst > 0) break;
      o.retransmit = false;
      o.transmissions++;
      o.sentAt = this.now;
      if (!o.inFlight) {
        o.inFlight = true;
        this.flight += o.size;
      }
      this.stats.retransmissions++;
      put(o.chunk, o.size);
      burst++;
    }
    // New data: fragment queued messages into DATA chunks.
    const maxPayload = room - DATA_HEADER;
    let packets = 0;
    while (
      this.queue.length > 0 && packets < this.config.maxBurst
    ) {
      const windowFull = this.flight >= this.cwnd;
      const peerFull = this.peerRwnd <= 0 && this.flight > 0;
      if (windowFull || peerFull) break;
      const m = this.queue[0];
      const left = m.data.length - m.offset;
      const take = Math.min(
        left,
        maxPayload,
        this.peerRwnd > 0 ? Math.max(1, this.peerRwnd) : maxPayload,
      );
      const chunk: DataChunk = {
        type: "DATA",
        tsn: this.nextTsn,
        streamId: m.streamId,
        ssn: m.ssn,
        ppid: m.ppid,
        unordered: m.unordered,
        beginning: m.offset === 0,
        ending: m.offset + take === m.data.length,
        immediate: false,
        data: m.data.subarray(m.offset, m.offset + take),
      };
      this.nextTsn = add(this.nextTsn, 1);
      m.offset += take;
      if (m.offset === m.data.length) this.queue.shift();
      this.queued -= take;
      const bytes = (DATA_HEADER + take + 3) & ~3;
      this.outstanding.push({
        chunk,
        size: bytes,
        sentAt: this.now,
        transmissions: 1,
        acked: false,
        misses: 0,
        retransmit: false,
        fastRetransmitted: false,
        inFlight: true,
      });
      this.flight += bytes;
      this.peerRwnd = Math.max(0, this.peerRwnd - take);
      this.stats.chunksSent++;
      const before = this.out.length;
      put(chunk, bytes);
      if (this.out.length > before) packets++;
    }
    flush();
    if (this.outstanding.some((o) => o.inFlight) && this.t3 === undefined) {
      this.t3 = this.now + this.rto;
    }
    if (this.wantWritable && this.queued < this.config.sendBufferLimit / 2) {
      this.wantWritable = false;
      this.events.push({ kind: "writable" });
    }
  }

  // -------------------------------------------------------------------------
  // Time

  /** When {@link Association.advanceTime} should next be called. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const t of [this.t1, this.t2, this.t3, this.t5, this.sackDeadline, this.heartbeatAt]) {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  /** Time passed: runs the timers due. */
  advanceTime(now: number): void {
    this.now = now;
    if (this.stateValue === "closed") return;
    if (this.t1 !== undefined && now >= this.t1) this.onT1();
    if (this.t3 !== undefined && now >= this.t3) this.onT3();
    if (this.t2 !== undefined && now >= this.t2) this.onT2();
    if (this.t5 !== undefined && now >= this.t5) {
      this.abortWith(SctpCause.UserInitiatedAbort, new Uint8Array(), "timeout");
    }
    if (this.sackDeadline !== undefined && now >= this.sackDeadline) {
      this.sackNeeded = true;
      this.sackDeadline = undefined;
    }
    if (this.heartbeatAt !== undefined && now >= this.heartbeatAt) this.onHeartbeatTimer();
  }

  /** T1 expired: retransmits INIT or COOKIE ECHO, or gives up. */
  private onT1(): void {
    this.t1Count++;
    if (this.t1Count > this.config.maxInitRetransmits) {
      this.close("init-failed", `no answer after ${this.t1Count} attempts`, false);
      return;
    }
    this.rto = Math.min(this.rto * 2, this.config.rtoMax);
    if (this.stateValue === "cookie-wait") this.sendInit();
    else if (this.stateValue === "cookie-echoed" && this.cookieChunk !== undefined) {
      this.out.push(this.cookieChunk);
      this.t1 = this.now + this.rto;
    } else this.t1 = undefined;
  }

  /** T3-rtx expired: backs off, marks outstanding data for retransmission (§6.3.3). */
  private onT3(): void {
    this.stats.timeouts++;
    this.errors++;
    if (this.errors > this.config.associationMaxRetrans) {
      this.abortWith(SctpCause.UserInitiatedAbort, new Uint8Array(), "timeout");
      return;
    }
    const mtu = this.config.mtu;
    this.ssthresh = Math.max(Math.floor(this.cwnd / 2), 4 * mtu);
    this.cwnd = mtu;
    this.partialBytesAcked = 0;
    this.fastRecoveryExit = undefined;
    this.rto = Math.min(this.rto * 2, this.config.rtoMax);
    for (const o of this.outstanding) {
      if (o.acked) continue;
      o.retransmit = true;
      if (o.inFlight) {
        o.inFlight = false;
        this.flight -= o.size;
      }
    }
    this.t3 = this.now + this.rto;
  }

  /** Sets the next HEARTBEAT time (interval plus RTO, jittered). */
  private scheduleHeartbeat(): void {
    const hb = this.config.heartbeatInterval;
    this.heartbeatAt = hb > 0
      ? this.now + this.rto + hb * (0.5 + (this.random() >>> 0) / 0x100000000)
      : undefined;
  }

  /** Sends a HEARTBEAT on an idle path, counting unanswered ones as errors. */
  private onHeartbeatTimer(): void {
    if (this.stateValue !== "established") {
      this.heartbeatAt = undefined;
      return;
    }
    if (this.heartbeatOutstanding !== undefined) {
      this.errors++;
      if (this.errors > this.config.associationMaxRetrans) {
        this.abortWith(SctpCause.UserInitiatedAbort, new Uint8Array(), "timeout");
        return;
      }
      this.rto = Math.min(this.rto * 2, this.config.rtoMax);
    }
    // Only an idle path needs a heartbeat; recent traffic proves it alive.
    if (
      this.heartbeatOutstanding === undefined &&
      this.now - this.lastActivity < this.config.heartbeatInterval / 2
    ) {
      this.scheduleHeartbeat();
      return;
    }
    const nonce = this.random() >>> 0;
    this.heartbeatOutstanding = nonce;
    const info = new Uint8Array(12);
    const v = new DataView(info.buffer);
    v.setFloat64(0, this.now);
    v.setUint32(8, nonce);
    this.control.push({ type: "HEARTBEAT", info });
    this.scheduleHeartbeat();
  }

  /** A HEARTBEAT ACK: the path is alive; its echoed time is an RTT sample. */
  private onHeartbeatAck(info: Uint8Array): void {
    if (info.length !== 12) return;
    const v = new DataView(info.buffer, info.byteOffset, 12);
    if (v.getUint32(8) !== this.heartbeatOutstanding) return;
    this.heartbeatOutstanding = undefined;
    this.errors = 0;
    this.measure(this.now - v.getFloat64(0));
  }

  // -------------------------------------------------------------------------
  // Closing

  /** Closes gracefully once everything sent is acknowledged (SHUTDOWN, §9.2). */
  shutdown(now: number): void {
    this.now = now;
    switch (this.stateValue) {
      case "cookie-wait":
      case "cookie-echoed":
        this.abort(now);
        return;
      case "established":
        this.stateValue = "shutdown-pending";
        this.t5 = now + 5 * this.config.rtoMax;
        this.maybeFinishShutdown();
        return;
      default:
        return;
    }
  }

  /** A SHUTDOWN: acknowledges its TSN and moves to SHUTDOWN-RECEIVED. */
  private onShutdown(cumulativeTsnAck: number): void {
    // A SHUTDOWN acknowledges data like a SACK without gaps.
    this.onSack({
      type: "SACK",
      cumulativeTsnAck,
      aRwnd: this.peerRwnd + this.flight,
      gaps: [],
      duplicates: [],
    });
    if (this.stateValue === "established" || this.stateValue === "shutdown-pending") {
      this.stateValue = "shutdown-received";
      this.t5 ??= this.now + 5 * this.config.rtoMax;
    } else if (this.stateValue === "shutdown-sent") {
      // Both sides shut down at once (§9.2): answer with SHUTDOWN ACK.
      this.stateValue = "shutdown-ack-sent";
      this.out.push([{ type: "SHUTDOWN-ACK", reflected: false }]);
      this.t2 = this.now + this.rto;
      return;
    }
    this.maybeFinishShutdown();
  }

  /** Moves the shutdown on once everything sent is acknowledged (§9.2). */
  private maybeFinishShutdown(): void {
    if (this.queue.length > 0 || this.outstanding.length > 0) return;
    if (this.stateValue === "shutdown-pending") {
      this.stateValue = "shutdown-sent";
      this.sendShutdown();
    } else if (this.stateValue === "shutdown-received") {
      this.stateValue = "shutdown-ack-sent";
      this.out.push([{ type: "SHUTDOWN-ACK", reflected: false }]);
      this.t2 = this.now + this.rto;
      this.t2Count = 0;
    }
  }

  /** Sends SHUTDOWN with the cumulative TSN received. */
  private sendShutdown(): void {
    this.out.push([{ type: "SHUTDOWN", cumulativeTsnAck: this.cumTsn }]);
    this.t2 = this.now + this.rto;
  }

  /** T2 expired: retransmits SHUTDOWN or SHUTDOWN ACK, or gives up. */
  private onT2(): void {
    this.t2Count++;
    if (this.t2Count > this.config.associationMaxRetrans) {
      this.abortWith(SctpCause.UserInitiatedAbort, new Uint8Array(), "timeout");
      return;
    }
    this.rto = Math.min(this.rto * 2, this.config.rtoMax);
    if (this.stateValue === "shutdown-sent") this.sendShutdown();
    else if (this.stateValue === "shutdown-ack-sent") {
      this.out.push([{ type: "SHUTDOWN-ACK", reflected: false }]);
      this.t2 = this.now + this.rto;
    } else this.t2 = undefined;
  }

  /** Aborts at once (ABORT with User-Initiated Abort). */
  abort(now: number, reason = "aborted"): void {
    this.now = now;
    this.abortWith(SctpCause.UserInitiatedAbort, new TextEncoder().encode(reason), "abort");
  }

  /** Sends an ABORT with one error cause and closes. */
  private abortWith(code: number, info: Uint8Array, reason: CloseReason): void {
    if (this.stateValue === "closed") return;
    const cause: SctpErrorCause = { code, info };
    if (this.stateValue !== "cookie-wait") {
      this.out.push([{ type: "ABORT", reflected: false, causes: [cause] }]);
    }
    this.close(reason, `cause ${code}`, false);
  }

  /** Ends the association: reports why, optionally with an ABORT to the peer. */
  private close(reason: CloseReason, detail: string | undefined, sendAbort: boolean): void {
    if (this.stateValue === "closed") return;
    if (sendAbort) this.out.push([{ type: "ABORT", reflected: false, causes: [] }]);
    this.stateValue = "closed";
    this.t1 =
      this.t2 =
      this.t3 =
      this.t5 =
      this.sackDeadline =
      this.heartbeatAt =
        undefined;
    this.queue.length = 0;
    this.queued = 0;
    this.outstanding.length = 0;
    this.flight = 0;
    this.events.push({ kind: "closed", reason, ...(detail === undefined ? {} : { detail }) });
  }

  /** The peer restarted (the endpoint saw a new INIT/COOKIE with tie-tags): this association ends. */
  restarted(now: number): void {
    this.now = now;
    this.close("restart", "the peer restarted", false);
  }

  // -------------------------------------------------------------------------
  // Output

  /**
   * The packets to send, as chunk lists, with the verification tag each
   * needs; the queue is emptied.
   */
  drainPackets(): { verificationTag: number; chunks: Chunk[] }[] {
    if (this.stateValue !== "closed") this.transmit();
    else if (this.control.length > 0) {
      this.out.push(this.control);
      this.control = [];
    }
    const out = this.out.splice(0).map((chunks) => ({
      verificationTag: chunks[0]?.type === "INIT" ? 0 : this.params?.peerTag ?? 0,
      chunks,
    }));
    return out;
  }

  /** The events since the last call. */
  drainEvents(): AssociationEvent[] {
    const out = this.events;
    this.events = [];
    return out;
  }
}

function chunkBytes(c: Chunk): number {
  switch (c.type) {
    case "DATA":
      return (DATA_HEADER + c.data.length + 3) & ~3;
    case "SACK":
      return 16 + 4 * c.gaps.length + 4 * c.duplicates.length;
    case "HEARTBEAT":
    case "HEARTBEAT-ACK":
      return 8 + ((c.info.length + 3) & ~3);
    case "ABORT":
    case "ERROR":
      return 4 + c.causes.reduce((n, x) => n + ((4 + x.info.length + 3) & ~3), 0);
    case "COOKIE-ECHO":
      return (4 + c.cookie.length + 3) & ~3;
    case "SHUTDOWN":
      return 8;
    default:
      return 4;
  }
}
