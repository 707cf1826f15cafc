/**
 * The Pool Registrar (PR; the RFCs' "ENRP server") as a sans-IO state
 * machine: fed connection events, messages and time, it returns actions.
 *
 * ```ts
 * import { Registrar } from "@rserpool/rserpool/registrar";
 *
 * const registrar = new Registrar({
 *   enrpTransport: { type: "TCP", port: 9901, transportUse: 0, addresses: ["127.0.0.1"] },
 * });
 * registrar.start(0);
 * registrar.accepted("in:1", "asap", { address: "127.0.0.1", port: 40000 }, 10);
 * for (const action of registrar.drainActions()) {
 *   // send / multicast / connect / close / event: carry them out
 * }
 * const wakeUp = registrar.nextDeadline(); // call advanceTime(wakeUp) then
 * ```
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import type { Handlespace } from "../handlespace/handlespace.ts";
import { decodeAsap, decodeEnrp } from "../protocol/codec.ts";
import { ErrorCauseCode } from "../protocol/constants.ts";
import type { DecodeOptions } from "../protocol/options.ts";
import type {
  AsapMessage,
  EnrpMessage,
  ErrorCause,
  Identifier,
  PoolElementParameter,
  RSerPoolMessage,
} from "../protocol/types.ts";
import type { PoolElementNode } from "../handlespace/node.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "../role/actions.ts";
import {
  asapConnectionLost,
  deregisterOnBehalf,
  forUsers,
  keepAliveDue,
  keepAliveMissed,
  onAsap,
  registerOnBehalf,
  removeElement,
  scheduleExpiry,
  sendHomeKeepAlives,
} from "./asap.ts";
import {
  checkPeers,
  enrpConnectionLost,
  enrpConnectionUp,
  heartbeat,
  mentorTimeout,
  onEnrp,
  onMulticastPresence,
  reachPeer,
} from "./enrp.ts";
import type { RegistrarEvent, RegistrarOptions, RegistrarTimers } from "./options.ts";
import { type Connection, RegistrarState } from "./state.ts";
import { takeoverExpired } from "./takeover.ts";

/** A peer as {@link Registrar.status} reports it. */
export interface PeerStatus {
  /** Its identifier. */
  readonly id: Identifier;
  /** Whether a connection to it is up. */
  readonly connected: boolean;
  /** When it was last heard from (ms). */
  readonly lastHeard: number;
  /** How many elements it owns in our handlespace. */
  readonly owns: number;
  /** The checksum we compute over what it owns. */
  readonly checksum: number;
}

/** A snapshot of a registrar's state. */
export interface RegistrarStatus {
  /** Its identifier. */
  readonly id: Identifier;
  /** Start-up phase. */
  readonly phase: "idle" | "starting" | "running";
  /** Pools. */
  readonly pools: number;
  /** Pool elements in all. */
  readonly elements: number;
  /** Elements this registrar owns. */
  readonly owned: number;
  /** Checksum over what it owns, as sent in Presences. */
  readonly checksum: number;
  /** Its peers. */
  readonly peers: readonly PeerStatus[];
  /** Open connections. */
  readonly connections: number;
}

/** A Pool Registrar. */
export class Registrar {
  private readonly s: RegistrarState;
  /** Unrecognized parameters the current message asks to report (see {@link Registrar.receiveBytes}). */
  private readonly reports: ErrorCause[] = [];
  /** The decoder's options, resolved once: lenient, the registrar's profile, reports collected. */
  private readonly decodeOptions: DecodeOptions;

  /**
   * Creates a registrar; call {@link Registrar.start} to begin.
   *
   * @param options identity, endpoints, peers, timers, limits and policies
   */
  constructor(options: RegistrarOptions) {
    this.s = new RegistrarState(options);
    this.decodeOptions = {
      lenient: true,
      profile: this.s.profile,
      onUnrecognizedParameter: (p) => {
        if (p.report) {
          this.reports.push({ code: ErrorCauseCode.UnrecognizedParameter, info: p.parameter });
        }
      },
    };
  }

  /** The registrar's identifier. */
  get id(): Identifier {
    return this.s.id;
  }

  /** Its timers. */
  get timers(): RegistrarTimers {
    return this.s.timers;
  }

  /** Its handlespace (read it; change it only through messages). */
  get handlespace(): Handlespace {
    return this.s.handlespace;
  }

  /** Starts: announces, heartbeats, connects to static peers and looks for a mentor. */
  start(now: number): void {
    const s = this.s;
    if (s.phase !== "idle") return;
    s.now = now;
    const lookForMentor = s.staticPeers.length > 0 || s.options.multicastPresence === true;
    s.phase = lookForMentor ? "starting" : "running";
    if (lookForMentor) s.tasks.set("mentor", now + s.timers.mentorHuntTimeout);
    if (s.options.announce !== false) s.tasks.set("announce", now);
    for (const sp of s.staticPeers) reachPeer(s, sp.transport);
    s.tasks.set("heartbeat", now + s.timers.peerHeartbeatCycle);
    s.tasks.set("peer-check", now + s.timers.maxTimeLastHeard);
  }

  /** The driver accepted a connection (`remote` and `identity` as far as it knows them). */
  accepted(
    connection: ConnectionId,
    protocol: ProtocolName,
    remote: RemoteEndpoint | undefined,
    now: number,
    identity?: string,
  ): void {
    this.s.now = now;
    this.s.connections.set(connection, {
      id: connection,
      protocol,
      up: true,
      remote,
      identity,
    });
  }

  /** A connection this registrar asked for is established. */
  connectionUp(connection: ConnectionId, now: number, remote?: RemoteEndpoint): void {
    const s = this.s;
    s.now = now;
    const c = s.connections.get(connection);
    if (c === undefined) return;
    c.up = true;
    if (remote !== undefined) c.remote = remote;
    if (c.protocol === "enrp") enrpConnectionUp(s, c);
    else sendHomeKeepAlives(s, c);
  }

  /** A connection failed to open, or was lost or closed. */
  connectionDown(connection: ConnectionId, now: number): void {
    const s = this.s;
    s.now = now;
    const c = s.connections.get(connection);
    if (c === undefined) return;
    s.connections.delete(connection);
    if (c.protocol === "asap") asapConnectionLost(s, c);
    else enrpConnectionLost(s, c);
  }

  /** A decoded message arrived on a connection. */
  receive(connection: ConnectionId, message: RSerPoolMessage, now: number): void {
    const s = this.s;
    s.now = now;
    const c = s.connections.get(connection);
    if (c === undefined) return;
    if (c.protocol === "asap") onAsap(s, c, message as AsapMessage);
    else onEnrp(s, c, message as EnrpMessage);
  }

  /**
   * A message's bytes arrived on a connection. They are decoded leniently;
   * malformed input and parameters whose action bits ask for a report are
   * answered with an ASAP or ENRP Error (RFC 5352 §2.2.14, RFC 5353 §3.9).
   */
  receiveBytes(connection: ConnectionId, bytes: Uint8Array, now: number): void {
    const s = this.s;
    s.now = now;
    const c = s.connections.get(connection);
    if (c === undefined) return;
    const options = this.decodeOptions;
    this.reports.length = 0;
    let message: RSerPoolMessage;
    try {
      message = c.protocol === "asap" ? decodeAsap(bytes, options) : decodeEnrp(bytes, options);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.malformed(c, bytes, e);
      return;
    }
    // Taken before the handlers run: they may pass other bytes through here.
    const reports = this.reports.length === 0 ? undefined : this.reports.splice(0);
    if (c.protocol === "asap") onAsap(s, c, message as AsapMessage, bytes);
    else onEnrp(s, c, message as EnrpMessage);
    // Never an error in answer to an error, whatever its parameters ask for.
    const isError = message.type === "AsapError" || message.type === "EnrpError";
    if (reports !== undefined && !isError) this.sendError(c, reports);
  }

  /** Answers undecodable input: by its action bits, as an unrecognized message, or as invalid values. */
  private malformed(c: Connection, bytes: Uint8Array, e: DecodeError): void {
    const s = this.s;
    s.emit({ kind: "protocol-error", connection: c.id, detail: `${e.code}: ${e.message}` });
    const isError = bytes[0] === (c.protocol === "asap" ? 0x0e : 0x0a);
    if (isError) return; // never answer an error with an error
    let cause: ErrorCause;
    if (e.code === "unrecognized-parameter") {
      if (!e.report) return; // action 00: discard silently
      cause = { code: ErrorCauseCode.UnrecognizedParameter, info: e.parameter! };
    } else if (e.code === "unknown-message-type") {
      // The type's two highest bits are its action (RFC 5354 §4): x0 discard, x1 also report.
      if ((bytes[0] & 0x40) === 0) return;
      cause = { code: ErrorCauseCode.UnrecognizedMessage, info: bytes.slice(0, 0xffff - 16) };
    } else {
      cause = { code: ErrorCauseCode.InvalidValues, info: new Uint8Array() };
    }
    this.sendError(c, [cause]);
  }

  /** Sends an ASAP or ENRP Error with the causes on a connection. */
  private sendError(c: Connection, causes: ErrorCause[]): void {
    const s = this.s;
    if (c.protocol === "asap") {
      s.send(c.id, { type: "AsapError", operationError: causes });
    } else {
      s.send(c.id, {
        type: "EnrpError",
        sendingRegistrarId: s.id,
        receivingRegistrarId: c.peer?.id ?? s.zero,
        operationError: causes,
      });
    }
  }

  /** A multicast message arrived (ENRP Presences; the registrar ignores announces). */
  receiveMulticast(
    channel: MulticastChannel,
    message: RSerPoolMessage,
    _source: RemoteEndpoint,
    now: number,
  ): void {
    this.s.now = now;
    if (channel === "enrp-presence" && message.type === "Presence") {
      onMulticastPresence(this.s, message);
    }
  }

  /** Time passed: runs every timer due at `now`. */
  advanceTime(now: number): void {
    const s = this.s;
    s.now = now;
    for (let key = s.tasks.popDue(now); key !== undefined; key = s.tasks.popDue(now)) {
      if (key === "announce") {
        s.multicast("asap-announce", {
          type: "ServerAnnounce",
          registrarId: s.id,
          transports: s.options.asapTransports ?? [],
        });
        s.tasks.set("announce", now + s.timers.serverAnnounceCycle);
      } else if (key === "heartbeat") {
        heartbeat(s);
      } else if (key === "peer-check") {
        checkPeers(s);
      } else if (key === "mentor") {
        mentorTimeout(s);
      } else if (key === "expiry") {
        for (const node of s.handlespace.expire(now)) {
          // Already out of the handlespace: just tidy up and tell.
          s.keepAlives.cancel(node);
          s.keepAliveDeadlines.cancel(node);
          s.emit({ kind: "removed", node, reason: "expired" });
        }
        scheduleExpiry(s);
      } else {
        const target = key.slice("takeover:".length);
        takeoverExpired(s, s.nextgen ? BigInt(target) : Number(target));
      }
    }
    for (let node = s.keepAlives.popDue(now); node !== undefined; node = s.keepAlives.popDue(now)) {
      keepAliveDue(s, node);
    }
    for (
      let node = s.keepAliveDeadlines.popDue(now);
      node !== undefined;
      node = s.keepAliveDeadlines.popDue(now)
    ) {
      keepAliveMissed(s, node);
    }
  }

  /** The actions to carry out, in order; the queue is emptied. */
  drainActions(): Action<RegistrarEvent>[] {
    return this.s.drain();
  }

  /** When {@link Registrar.advanceTime} should next be called. */
  nextDeadline(): number | undefined {
    return this.s.nextDeadline();
  }

  /**
   * Stops: closes every connection. Elements registered here stay in the
   * peers' handlespaces until they time out or are taken over.
   */
  stop(now: number): void {
    const s = this.s;
    s.now = now;
    for (const id of [...s.connections.keys()]) s.close(id);
    s.phase = "idle";
  }

  /** Removes an element as if its registration life had ended (for operators). */
  evict(poolHandle: Uint8Array, identifier: Identifier, now: number): boolean {
    const s = this.s;
    s.now = now;
    const node = s.handlespace.find(poolHandle, identifier);
    if (node === undefined) return false;
    removeElement(s, node, "expired");
    scheduleExpiry(s);
    return true;
  }

  /**
   * Registers a pool element on behalf of a program that speaks no ASAP
   * (the HTTP API): authorized and checked like an ASAP registration and
   * announced to the peers, but without keep-alives: it stays for its
   * registration life, which registering it again renews. Throws
   * a ProtocolError (with the cause an ASAP registration would get)
   * when refused.
   */
  registerOnBehalf(
    poolHandle: Uint8Array,
    element: PoolElementParameter,
    now: number,
    requester: { readonly remote?: RemoteEndpoint; readonly identity?: string } = {},
  ): PoolElementNode {
    this.s.now = now;
    return registerOnBehalf(this.s, poolHandle, element, requester);
  }

  /** Ends a registration made by {@link Registrar.registerOnBehalf}; false when there is none. */
  deregisterOnBehalf(poolHandle: Uint8Array, identifier: Identifier, now: number): boolean {
    this.s.now = now;
    return deregisterOnBehalf(this.s, poolHandle, identifier);
  }

  /**
   * A handle resolution without ASAP (the HTTP API): up to `items` elements
   * of the pool chosen by its policy, as an ASAP Handle Resolution would
   * get them (0: the registrar's default number); undefined for an unknown
   * pool.
   */
  resolve(poolHandle: Uint8Array, items: number, now: number): PoolElementParameter[] | undefined {
    const s = this.s;
    s.now = now;
    if (s.handlespace.pool(poolHandle) === undefined) return undefined;
    const max = s.options.maxHandleResolutionItems ?? 128;
    const wanted = items <= 0 ? (s.options.defaultHandleResolutionItems ?? 3) : items;
    return s.handlespace.resolve(poolHandle, Math.min(wanted, max)).map(forUsers);
  }

  /** A snapshot of the registrar's state. */
  status(): RegistrarStatus {
    const s = this.s;
    const variant = s.checksumVariant;
    return {
      id: s.id,
      phase: s.phase,
      pools: s.handlespace.poolCount,
      elements: s.handlespace.size,
      owned: s.handlespace.ownedCount(s.id),
      checksum: s.handlespace.checksum(s.id, variant),
      peers: [...s.peers.values()].map((p) => ({
        id: p.id,
        connected: p.connection !== undefined && (s.connections.get(p.connection)?.up ?? false),
        lastHeard: p.lastHeard,
        owns: s.handlespace.ownedCount(p.id),
        checksum: s.handlespace.checksum(p.id, variant),
      })),
      connections: s.connections.size,
    };
  }
}
