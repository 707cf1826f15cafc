/**
 * The registrar's state and the plumbing its procedures share: the
 * connection and peer tables, timers, and the action queue. Internal to
 * `lib/registrar/`.
 *
 * @module
 */

import { EncodeError } from "../errors.ts";
import { Handlespace } from "../handlespace/handlespace.ts";
import type { PageCursor } from "../handlespace/handlespace.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import { type RandomSource, systemRandom } from "../policy/random.ts";
import { encodedLength } from "../protocol/codec.ts";
import type {
  Identifier,
  RSerPoolMessage,
  TransportParameter,
  WireProfile,
} from "../protocol/types.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "../role/actions.ts";
import { TimerQueue } from "../role/timers.ts";
import {
  type RegistrarEvent,
  type RegistrarOptions,
  type RegistrarTimers,
  RFC_REGISTRAR_TIMERS,
} from "./options.ts";

/** A token bucket: `rate` events per second, bursts of `rate`. */
export class RateLimit {
  private tokens: number;
  private last = 0;

  /** @param rate events per second */
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  /** Takes a token at `now` (ms); false when none is left. */
  take(now: number): boolean {
    this.tokens = Math.min(this.rate, this.tokens + (now - this.last) * this.rate / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** A connection the registrar knows. */
export interface Connection {
  /** Its id. */
  readonly id: ConnectionId;
  /** What it carries. */
  readonly protocol: ProtocolName;
  /** Established (outgoing connections start down). */
  up: boolean;
  /** The remote end, when known. */
  remote?: RemoteEndpoint;
  /** The driver's view of the remote identity (e.g. TLS certificate subject). */
  identity?: string;
  /** ENRP: the peer on the other end, once known. */
  peer?: PeerState;
  /** ASAP rate limits. */
  handleResolutions?: RateLimit;
  /** ASAP rate limits. */
  unreachableReports?: RateLimit;
  /** Smoothed round-trip time, ms, when measured (./distance.ts). */
  srtt?: number;
}

/** What the registrar keeps about a peer registrar (RFC 5353 §3). */
export interface PeerState {
  /** Its identifier. */
  readonly id: Identifier;
  /** Its ENRP endpoint, from its Server Information. */
  transport?: TransportParameter;
  /** The connection used to talk to it. */
  connection?: ConnectionId;
  /** When anything was last heard from it. */
  lastHeard: number;
  /** When a reply-required Presence was sent and not yet answered. */
  probeSentAt?: number;
  /** When a heartbeat Presence asking for an answer went out (round-trip samples, ./distance.ts). */
  presenceSentAt?: number;
  /** Our download of its handle table: "full" (from the mentor) or "own" (W flag, resynchronisation). */
  download?: "full" | "own";
  /** Our position when it downloads our handle table. */
  serving?: { cursor: PageCursor | undefined; ownOnly: boolean };
}

/** A takeover this registrar runs (RFC 5353 §3.7). */
export interface Takeover {
  /** The failed registrar. */
  readonly target: Identifier;
  /** Peers whose acknowledgement is outstanding. */
  readonly awaiting: Set<Identifier>;
}

/** Timer keys. */
export type TimerKey =
  | "announce"
  | "heartbeat"
  | "mentor"
  | "expiry"
  | "peer-check"
  | `takeover:${string}`;

/** Internal state of a registrar. */
export class RegistrarState {
  readonly options: RegistrarOptions;
  readonly timers: RegistrarTimers;
  readonly random: RandomSource;
  readonly profile: WireProfile;
  readonly nextgen: boolean;
  id: Identifier;
  readonly handlespace: Handlespace;
  readonly connections = new Map<ConnectionId, Connection>();
  readonly peers = new Map<Identifier, PeerState>();
  /** Static peer endpoints, with the connection currently tried for each. */
  readonly staticPeers: { transport: TransportParameter; connection?: ConnectionId }[];
  readonly takeovers = new Map<Identifier, Takeover>();
  readonly tasks = new TimerQueue<TimerKey>();
  readonly keepAlives = new TimerQueue<PoolElementNode>();
  readonly keepAliveDeadlines = new TimerQueue<PoolElementNode>();
  /** Connections opened to elements to tell them this registrar is their home, with those elements. */
  readonly pendingHome = new Map<ConnectionId, PoolElementNode[]>();
  /** "starting" until a mentor delivered its handle table or none was found. */
  phase: "idle" | "starting" | "running" = "idle";
  mentor?: Identifier;
  now = 0;
  private nextConnection = 0;
  private actions: Action<RegistrarEvent>[] = [];

  constructor(options: RegistrarOptions) {
    this.options = options;
    this.timers = { ...RFC_REGISTRAR_TIMERS, ...options.timers };
    this.random = options.random ?? systemRandom;
    this.profile = options.profile ?? "rfc";
    this.nextgen = this.profile === "nextgen";
    this.id = options.id ?? this.randomId();
    this.handlespace = new Handlespace({ random: this.random, ...options.handlespace });
    this.staticPeers = (options.peers ?? []).map((transport) => ({ transport }));
  }

  /** A random non-zero identifier of the profile's size. */
  randomId(): Identifier {
    const word = () => Math.floor(this.random.next() * 0x100000000);
    if (this.nextgen) {
      const id = (BigInt(word()) << 32n) | BigInt(word());
      return id === 0n ? 1n : id;
    }
    return word() || 1;
  }

  /** The zero identifier of the profile. */
  get zero(): Identifier {
    return this.nextgen ? 0n : 0;
  }

  /** The checksum variant this registrar sends and compares. */
  get checksumVariant(): "internet16" | "internet32" | "rsplib16" {
    return this.nextgen ? "internet32" : (this.options.checksum ?? "internet16");
  }

  /** Queues a message on a connection. */
  send(connection: ConnectionId, message: RSerPoolMessage): void {
    this.actions.push({ type: "send", connection, message });
  }

  /** Queues a multicast message. */
  multicast(channel: MulticastChannel, message: RSerPoolMessage): void {
    this.actions.push({ type: "multicast", channel, message });
  }

  /** Queues an application event. */
  emit(event: RegistrarEvent): void {
    this.actions.push({ type: "event", event });
  }

  /** Opens a connection; returns its id. */
  connect(protocol: ProtocolName, remote: TransportParameter): ConnectionId {
    const id = `out:${this.nextConnection++}`;
    this.connections.set(id, { id, protocol, up: false });
    this.actions.push({ type: "connect", connection: id, protocol, remote });
    return id;
  }

  /** Closes a connection and forgets it. */
  close(connection: ConnectionId, abort = false): void {
    this.connections.delete(connection);
    this.actions.push({ type: "close", connection, abort });
  }

  /** Takes the queued actions. */
  drain(): Action<RegistrarEvent>[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /** The connected peers (with a live connection). */
  connectedPeers(): PeerState[] {
    const out: PeerState[] = [];
    for (const peer of this.peers.values()) {
      if (peer.connection !== undefined && this.connections.get(peer.connection)?.up) {
        out.push(peer);
      }
    }
    return out;
  }

  /** The next deadline of any timer. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const t of [this.tasks.next(), this.keepAlives.next(), this.keepAliveDeadlines.next()]) {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }
}

/** Whether a message fits in 64 KiB (its 16-bit length; the encoder refuses larger ones). */
export function fitsInMessage(s: RegistrarState, m: RSerPoolMessage): boolean {
  try {
    return encodedLength(m, { profile: s.profile }) <= 0xffff;
  } catch (e) {
    if (e instanceof EncodeError) return false;
    throw e;
  }
}
