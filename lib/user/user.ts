/**
 * The Pool User (PU) as a sans-IO state machine (RFC 5352 §3.3, §3.5,
 * §3.8, §3.9, §6): finds a home registrar, resolves pool handles into a
 * cache that goes stale, selects elements by the pool's policy, reports
 * unreachable elements, and fails sessions over to another element with
 * the last cookie.
 *
 * @module
 */

import { POLICY_BEHAVIOURS } from "../policy/policies.ts";
import { PolicyEntry } from "../policy/entry.ts";
import { type RandomSource, systemRandom } from "../policy/random.ts";
import { createSelection, type Selection } from "../policy/selection.ts";
import type {
  AsapMessage,
  ErrorCause,
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  RSerPoolMessage,
  TransportParameter,
} from "../protocol/types.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "../role/actions.ts";
import { HomeRegistrar } from "../role/home.ts";
import { RegistrarCandidates } from "../role/hunt.ts";
import { TimerQueue } from "../role/timers.ts";

/** Timers of a pool user, in milliseconds. */
export interface PoolUserTimers {
  /** T1-ENRPrequest: wait for a Handle Resolution Response. */
  readonly requestTimeout: number;
  /** stale.cache.value: how long a resolution may be used. */
  readonly staleCache: number;
  /** How long one connection attempt to a registrar may take. */
  readonly connectTimeout: number;
  /** T7-ENRPoutdate. */
  readonly announceTimeout: number;
  /** Wait before hunting again when no candidate is known. */
  readonly huntRetry: number;
}

/** RFC 5352 §7 values (T1, stale cache), RSPLIB's for the rest. */
export const RFC_USER_TIMERS: PoolUserTimers = Object.freeze({
  requestTimeout: 15_000,
  staleCache: 30_000,
  connectTimeout: 7500,
  announceTimeout: 5000,
  huntRetry: 1000,
});

/** Options of a {@link PoolUser}. */
export interface PoolUserOptions {
  /** Statically configured registrars. */
  readonly registrars?: readonly TransportParameter[];
  /** Elements to ask for per resolution (Handle Resolution Option); absent: the registrar decides. */
  readonly items?: number;
  /** Retransmissions before hunting another registrar (MAX-REQUEST-RETRANSMIT, default 2). */
  readonly maxRequestRetransmit?: number;
  /** Timers. */
  readonly timers?: Partial<PoolUserTimers>;
  /** Transport assumed for announces without transport parameters. */
  readonly announceTransport?: "SCTP" | "TCP";
  /** Randomness for the randomized policies. */
  readonly random?: RandomSource;
}

/** A session: a pool user's conversation with one element of a pool at a time. */
export interface SessionState {
  /** Its id (the id of its current connection changes with each failover). */
  readonly id: string;
  /** The pool. */
  readonly poolHandle: Uint8Array;
  /** The element currently used. */
  element: PoolElementParameter | undefined;
  /** The data connection to it. */
  connection: ConnectionId | undefined;
  /** Whether the data connection is up. */
  up: boolean;
  /** The last cookie the element sent (RFC 5352 §3.8). */
  cookie: Uint8Array | undefined;
  /** Failover candidates from the element's Business Card (RFC 5352 §3.9). */
  businessCard: PoolElementParameter[];
  /** How many times it failed over. */
  failovers: number;
}

/** What a pool user tells its application. */
export type PoolUserEvent =
  | {
    readonly kind: "resolved";
    readonly poolHandle: Uint8Array;
    readonly elements: readonly PoolElementParameter[];
  }
  | {
    readonly kind: "resolution-failed";
    readonly poolHandle: Uint8Array;
    readonly causes: readonly ErrorCause[];
  }
  | { readonly kind: "registrar-lost" }
  | { readonly kind: "no-registrar" }
  | {
    readonly kind: "session-connecting";
    readonly session: string;
    readonly element: PoolElementParameter;
  }
  | {
    readonly kind: "session-up";
    readonly session: string;
    readonly element: PoolElementParameter;
    readonly failover: boolean;
  }
  | { readonly kind: "session-failed"; readonly session: string; readonly reason: string };

interface CacheEntry {
  readonly poolHandle: Uint8Array;
  readonly fetchedAt: number;
  readonly elements: Map<Identifier, PoolElementParameter>;
  readonly selection: Selection | undefined;
}

interface Request {
  readonly poolHandle: Uint8Array;
  attempts: number;
}

function key(handle: Uint8Array): string {
  let k = "";
  for (let i = 0; i < handle.length; i++) k += String.fromCharCode(handle[i]);
  return k;
}

type Timer = `request:${string}` | "connect" | "hunt";

/** A Pool User. */
export class PoolUser {
  private readonly options: PoolUserOptions;
  private readonly timers: PoolUserTimers;
  private readonly random: RandomSource;
  private readonly home: HomeRegistrar;
  private readonly tasks = new TimerQueue<Timer>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly requests = new Map<string, Request>();
  private readonly sessions = new Map<string, SessionState>();
  private readonly sessionByConnection = new Map<ConnectionId, SessionState>();
  private actions: Action<PoolUserEvent>[] = [];
  private nextConnection = 0;
  private nextSession = 0;
  private started = false;
  private now = 0;

  /**
   * Creates a pool user; call {@link PoolUser.start} to find a registrar.
   *
   * @param options registrars, timers, randomness
   */
  constructor(options: PoolUserOptions = {}) {
    this.options = options;
    this.timers = { ...RFC_USER_TIMERS, ...options.timers };
    this.random = options.random ?? systemRandom;
    this.home = new HomeRegistrar(
      new RegistrarCandidates(
        options.registrars ?? [],
        this.timers.announceTimeout,
        options.announceTransport ?? "SCTP",
      ),
      this.timers.connectTimeout,
      (remote) => this.connect("asap", remote),
      (connection) => this.actions.push({ type: "close", connection }),
    );
  }

  /** Opens a connection; returns the id given to it. */
  private connect(protocol: ProtocolName, remote: TransportParameter): ConnectionId {
    const connection = `out:${this.nextConnection++}`;
    this.actions.push({ type: "connect", connection, protocol, remote });
    return connection;
  }

  /** Queues an application event. */
  private emit(event: PoolUserEvent): void {
    this.actions.push({ type: "event", event });
  }

  /** Queues a message on a connection. */
  private send(connection: ConnectionId, message: RSerPoolMessage): void {
    this.actions.push({ type: "send", connection, message });
  }

  /** Starts the hunt for a home registrar. */
  start(now: number): void {
    this.now = now;
    if (this.started) return;
    this.started = true;
    this.hunt();
  }

  /** Starts or continues the ENRP server hunt (RFC 5352 §3.6). */
  private hunt(): void {
    if (this.home.hunt(this.now)) {
      if (this.home.pending !== undefined) this.tasks.set("connect", this.home.pendingDeadline);
    } else {
      this.emit({ kind: "no-registrar" });
      this.tasks.set("hunt", this.now + this.timers.huntRetry);
    }
  }

  /** The cached elements of a pool, unless missing or stale. */
  cached(poolHandle: Uint8Array, now: number): readonly PoolElementParameter[] | undefined {
    const entry = this.cache.get(key(poolHandle));
    if (entry === undefined || now - entry.fetchedAt >= this.timers.staleCache) return undefined;
    return [...entry.elements.values()];
  }

  /**
   * Resolves a pool handle (RFC 5352 §3.3): answers from the cache while it
   * is fresh, else asks the home registrar; a `resolved` (or
   * `resolution-failed`) event follows then. Returns the cached elements,
   * or undefined when a request went out.
   */
  resolve(poolHandle: Uint8Array, now: number): readonly PoolElementParameter[] | undefined {
    this.now = now;
    const fresh = this.cached(poolHandle, now);
    if (fresh !== undefined && fresh.length > 0) return fresh;
    this.request(poolHandle);
    return undefined;
  }

  /** Starts a handle resolution for a pool unless one is outstanding. */
  private request(poolHandle: Uint8Array): void {
    const k = key(poolHandle);
    if (this.requests.has(k)) return;
    this.requests.set(k, { poolHandle, attempts: 0 });
    this.sendRequest(k);
  }

  /** Sends (or re-sends) an outstanding handle resolution and arms T1. */
  private sendRequest(k: string): void {
    const request = this.requests.get(k)!;
    if (!this.home.up) {
      this.hunt(); // sent when a registrar is connected
      return;
    }
    request.attempts++;
    this.send(this.home.connection!, {
      type: "HandleResolution",
      poolHandle: request.poolHandle,
      ...(this.options.items === undefined ? {} : { items: this.options.items }),
    });
    this.tasks.set(`request:${k}`, this.now + this.timers.requestTimeout);
  }

  /**
   * Selects one element of a pool from the cache by the pool's policy
   * (RFC 5356: the pool user applies the policy to the list it got).
   * Undefined when the cache has none (call {@link PoolUser.resolve}).
   */
  select(poolHandle: Uint8Array, now: number): PoolElementParameter | undefined {
    const entry = this.cache.get(key(poolHandle));
    if (entry === undefined || now - entry.fetchedAt >= this.timers.staleCache) return undefined;
    if (entry.selection === undefined) return entry.elements.values().next().value;
    const out: PolicyEntry[] = [];
    entry.selection.select(1, 0, this.random, out);
    return out.length === 0 ? undefined : entry.elements.get(out[0].identifier);
  }

  /**
   * Reports an element the user could not reach (RFC 5352 §3.5): an
   * Endpoint Unreachable to the home registrar, and out of the cache.
   */
  reportUnreachable(poolHandle: Uint8Array, identifier: Identifier, now: number): void {
    this.now = now;
    this.purge(poolHandle, identifier);
    if (this.home.up) {
      this.send(this.home.connection!, {
        type: "EndpointUnreachable",
        poolHandle,
        poolElementId: identifier,
      });
    }
  }

  /** Removes one element from a pool's cache entry. */
  private purge(poolHandle: Uint8Array, identifier: Identifier): void {
    const entry = this.cache.get(key(poolHandle));
    if (entry === undefined) return;
    entry.elements.delete(identifier);
    if (entry.selection !== undefined) {
      for (const e of entry.selection.entries()) {
        if (e.identifier === identifier) {
          entry.selection.remove(e);
          break;
        }
      }
    }
  }

  /** Drops a pool from the cache (CachePurgeRequest, RFC 5352 §6.4). */
  purgeCache(poolHandle: Uint8Array): void {
    this.cache.delete(key(poolHandle));
  }

  /** Replaces a pool's cache entry with a resolution's elements, ready for selection. */
  private store(
    poolHandle: Uint8Array,
    elements: readonly PoolElementParameter[],
    policy?: PoolMemberSelectionPolicy,
  ): void {
    const type = policy?.type ?? elements[0]?.policy.type;
    const behaviour = type === undefined || type === "Unknown"
      ? undefined
      : POLICY_BEHAVIOURS.get(type);
    const selection = behaviour === undefined ? undefined : createSelection(behaviour);
    const map = new Map<Identifier, PoolElementParameter>();
    for (const element of elements) {
      map.set(element.identifier, element);
      selection?.insert(new PolicyEntry(element.identifier, element.policy));
    }
    this.cache.set(key(poolHandle), { poolHandle, fetchedAt: this.now, elements: map, selection });
  }

  // -------------------------------------------------------------------------
  // Sessions

  /**
   * Opens a session with an element of the pool: picks one (resolving
   * first if needed) and connects to it. Returns the session's id.
   */
  openSession(poolHandle: Uint8Array, now: number): string {
    this.now = now;
    const session: SessionState = {
      id: `session:${this.nextSession++}`,
      poolHandle,
      element: undefined,
      connection: undefined,
      up: false,
      cookie: undefined,
      businessCard: [],
      failovers: 0,
    };
    this.sessions.set(session.id, session);
    this.connectSession(session);
    return session.id;
  }

  /** A session's state. */
  session(id: string): Readonly<SessionState> | undefined {
    return this.sessions.get(id);
  }

  /** The session a connection belongs to. */
  sessionOf(connection: ConnectionId): Readonly<SessionState> | undefined {
    return this.sessionByConnection.get(connection);
  }

  /** Connects a session to the next element: from its business card, else by the pool policy. */
  private connectSession(session: SessionState): void {
    let element: PoolElementParameter | undefined;
    while (session.businessCard.length > 0 && element === undefined) {
      element = session.businessCard.shift(); // the element named its own failover candidates
    }
    element ??= this.select(session.poolHandle, this.now);
    if (element === undefined) {
      this.request(session.poolHandle); // continues when resolved
      return;
    }
    session.element = element;
    session.up = false;
    const connection = this.connect("session", element.userTransport);
    session.connection = connection;
    this.sessionByConnection.set(connection, session);
    this.emit({ kind: "session-connecting", session: session.id, element });
  }

  /** Sends application data is the runtime's job; this closes a session. */
  closeSession(id: string): void {
    const session = this.sessions.get(id);
    if (session === undefined) return;
    this.sessions.delete(id);
    if (session.connection !== undefined) {
      this.sessionByConnection.delete(session.connection);
      this.actions.push({ type: "close", connection: session.connection });
    }
  }

  /**
   * A session's element stopped answering (e.g. an application-level
   * timeout): report it and fail over, as on a lost connection.
   */
  failSession(id: string, reason: string, now: number): void {
    this.now = now;
    const session = this.sessions.get(id);
    if (session === undefined) return;
    if (session.connection !== undefined) {
      this.sessionByConnection.delete(session.connection);
      this.actions.push({ type: "close", connection: session.connection, abort: true });
    }
    this.failover(session, reason);
  }

  /** A session's element failed: report it and connect to another (RFC 5352 §3.8). */
  private failover(session: SessionState, reason: string): void {
    const failed = session.element;
    session.connection = undefined;
    session.up = false;
    session.failovers++;
    this.emit({ kind: "session-failed", session: session.id, reason });
    if (failed !== undefined) {
      this.reportUnreachable(session.poolHandle, failed.identifier, this.now);
    }
    this.connectSession(session);
  }

  // -------------------------------------------------------------------------
  // Driver entry points

  /** A connection this user asked for is established. */
  connectionUp(connection: ConnectionId, now: number): void {
    this.now = now;
    if (this.home.connectionUp(connection)) {
      this.tasks.cancel("connect");
      for (const k of this.requests.keys()) this.sendRequest(k);
      return;
    }
    const session = this.sessionByConnection.get(connection);
    if (session === undefined) return;
    session.up = true;
    const failover = session.failovers > 0;
    if (failover && session.cookie !== undefined) {
      // State sharing: hand the new element the last cookie first (RFC 5352 §3.8).
      this.send(connection, { type: "CookieEcho", cookie: session.cookie });
    }
    this.emit({ kind: "session-up", session: session.id, element: session.element!, failover });
  }

  /** A connection failed, was lost or closed. */
  connectionDown(connection: ConnectionId, now: number): void {
    this.now = now;
    const wasHome = connection === this.home.connection;
    if (this.home.connectionDown(connection)) {
      if (wasHome) this.emit({ kind: "registrar-lost" });
      this.hunt();
      return;
    }
    const session = this.sessionByConnection.get(connection);
    if (session === undefined) return;
    this.sessionByConnection.delete(connection);
    this.failover(session, session.up ? "connection lost" : "connection failed");
  }

  /** A message arrived: from the home registrar, or on a session's control channel. */
  receive(connection: ConnectionId, message: RSerPoolMessage, now: number): void {
    this.now = now;
    const m = message as AsapMessage;
    if (connection === this.home.connection) this.home.confirm();
    if (connection === this.home.connection && m.type === "HandleResolutionResponse") {
      const k = key(m.poolHandle);
      if (!this.requests.delete(k)) return;
      this.tasks.cancel(`request:${k}`);
      if (m.operationError !== undefined && m.poolElements.length === 0) {
        this.cache.delete(k);
        this.emit({
          kind: "resolution-failed",
          poolHandle: m.poolHandle,
          causes: m.operationError,
        });
      } else {
        this.store(m.poolHandle, m.poolElements, m.policy);
        this.emit({ kind: "resolved", poolHandle: m.poolHandle, elements: m.poolElements });
      }
      this.resumeSessions(m.poolHandle);
      return;
    }
    if (m.type === "EndpointKeepAlive" && connection === this.home.connection) {
      this.home.registrarId = m.registrarId;
      return;
    }
    const session = this.sessionByConnection.get(connection);
    if (session === undefined) return;
    if (m.type === "Cookie") session.cookie = m.cookie;
    else if (m.type === "BusinessCard") session.businessCard = [...m.poolElements];
  }

  /** Connects the sessions that waited for a resolution of the pool. */
  private resumeSessions(poolHandle: Uint8Array): void {
    const k = key(poolHandle);
    for (const session of this.sessions.values()) {
      if (session.connection === undefined && key(session.poolHandle) === k) {
        // Whether any is left, without selecting one (that would move a round robin on).
        if ((this.cached(poolHandle, this.now)?.length ?? 0) === 0) {
          this.emit({ kind: "session-failed", session: session.id, reason: "no pool element" });
          continue;
        }
        this.connectSession(session);
      }
    }
  }

  /** A multicast message arrived: ASAP Server Announces feed the hunt. */
  receiveMulticast(
    channel: MulticastChannel,
    message: RSerPoolMessage,
    source: RemoteEndpoint,
    now: number,
  ): void {
    this.now = now;
    if (channel !== "asap-announce" || message.type !== "ServerAnnounce") return;
    this.home.candidates.announce(message.registrarId, message.transports, source, now);
    if (this.started && !this.home.up && this.home.pending === undefined) {
      this.tasks.cancel("hunt");
      this.hunt();
    }
  }

  /** Time passed. */
  advanceTime(now: number): void {
    this.now = now;
    for (let t = this.tasks.popDue(now); t !== undefined; t = this.tasks.popDue(now)) {
      if (t === "connect") {
        if (this.home.checkTimeout(now)) this.hunt();
      } else if (t === "hunt") {
        this.hunt();
      } else {
        // T1 expired: retransmit, or after MAX-REQUEST-RETRANSMIT hunt anew (§3.7.2).
        const k = t.slice("request:".length);
        const request = this.requests.get(k);
        if (request === undefined) continue;
        if (request.attempts <= (this.options.maxRequestRetransmit ?? 2)) {
          this.sendRequest(k);
        } else {
          request.attempts = 0;
          this.home.abandon();
          this.emit({ kind: "registrar-lost" });
          this.hunt();
        }
      }
    }
  }

  /** The actions to carry out, in order; the queue is emptied. */
  drainActions(): Action<PoolUserEvent>[] {
    const out = this.actions;
    this.actions = [];
    return out;
  }

  /** When {@link PoolUser.advanceTime} should next be called. */
  nextDeadline(): number | undefined {
    return this.tasks.next();
  }

  /** Whether a home registrar is connected. */
  get hasRegistrar(): boolean {
    return this.home.up;
  }
}
