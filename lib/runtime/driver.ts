/**
 * Drives a sans-IO role on real sockets: feeds it connection events,
 * messages and time, and carries out the actions it returns.
 *
 * One driver serves one role. It names accepted connections `in:<n>`, runs
 * the role's timers with `setTimeout` against a monotonic clock, encodes
 * outgoing messages in the role's wire profile, decodes incoming ones
 * (leniently; what does not decode is counted, logged and dropped, or
 * answered by the role itself when it takes bytes), and hands application
 * data on session connections to the runtime above.
 *
 * @module
 */

import { DecodeError, EncodeError, TransportError } from "../errors.ts";
import { decodeAsap, decodeEnrp, encodeMessage } from "../protocol/codec.ts";
import { Ppid, TransportUse } from "../protocol/constants.ts";
import type { RSerPoolMessage, TransportParameter, WireProfile } from "../protocol/types.ts";
import type {
  Action,
  ConnectionId,
  MulticastChannel,
  ProtocolName,
  RemoteEndpoint,
} from "../role/actions.ts";
import type { Role } from "../role/role.ts";
import type { UdpChannel } from "../transport/udp.ts";
import type {
  ConnectionHandlers,
  Framing,
  MessageConnection,
  MessageTransport,
} from "../transport/types.ts";
import { type Logger, silentLogger } from "./log.ts";

/** Milliseconds on a monotonic clock (never jumps with the wall clock). */
export function monotonicNow(): number {
  return Math.floor(performance.now());
}

/** The PPIDs of a wire profile. */
export function profilePpids(profile: WireProfile): { asap: number; enrp: number } {
  return profile === "nextgen"
    ? { asap: Ppid.AsapNextGen, enrp: Ppid.EnrpNextGen }
    : { asap: Ppid.Asap, enrp: Ppid.Enrp };
}

/** Counters a driver keeps (for status reports). */
export interface DriverCounters {
  /** Messages received and decoded (connections and multicast). */
  messagesIn: number;
  /** Messages sent (connections and multicast). */
  messagesOut: number;
  /** Bytes of messages received. */
  bytesIn: number;
  /** Bytes of messages sent. */
  bytesOut: number;
  /** Messages that did not decode. */
  decodeErrors: number;
  /** Connections accepted. */
  accepted: number;
  /** Connections opened. */
  connected: number;
  /** Connection attempts that failed. */
  connectFailures: number;
  /** Connections that ended with a transport error (bad frame, stall, congestion, reset). */
  connectionErrors: number;
}

/** Options of a {@link RoleDriver}. */
export interface RoleDriverOptions<E> {
  /** The role. */
  readonly role: Role<E>;
  /** Wire profile of its messages. */
  readonly profile: WireProfile;
  /** Transports by transport parameter type. */
  readonly transports: Readonly<Partial<Record<"TCP" | "SCTP", MessageTransport>>>;
  /** UDP channels for announces and presences. */
  readonly channels?: Readonly<Partial<Record<MulticastChannel, UdpChannel>>>;
  /** Where the role's events go. */
  readonly onEvent?: (event: E) => void;
  /** Application data on a session connection (any PPID but the profile's ASAP one). */
  readonly onSessionData?: (connection: ConnectionId, ppid: number, payload: Uint8Array) => void;
  /** A session connection is gone (after the role was told). */
  readonly onSessionClosed?: (connection: ConnectionId, error: TransportError | undefined) => void;
  /** Logger (default: silent). */
  readonly log?: Logger;
  /** Clock (default {@link monotonicNow}). */
  readonly clock?: () => number;
  /**
   * Open SCTP associations from these local ports: ASAP from a pool
   * element's session port (registrars taking it over reach it there), ENRP
   * from a registrar's ENRP port (RSPLIB only accepts a Presence whose
   * Server Information names the association's own port).
   */
  readonly sctpLocalPorts?: { readonly asap?: number; readonly enrp?: number };
}

interface Live {
  readonly protocol: ProtocolName;
  connection: MessageConnection | undefined;
  /** The role closed it (or asked to before it was up): report nothing more. */
  dropped: boolean;
}

/** Carries out a role's actions on real transports. */
export class RoleDriver<E> {
  /** Counters since start. */
  readonly counters: DriverCounters = {
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    decodeErrors: 0,
    accepted: 0,
    connected: 0,
    connectFailures: 0,
    connectionErrors: 0,
  };
  private readonly role: Role<E>;
  private readonly profile: WireProfile;
  private readonly ppid: { asap: number; enrp: number };
  private readonly live = new Map<ConnectionId, Live>();
  private readonly log: Logger;
  private readonly clock: () => number;
  private nextAccepted = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt: number | undefined;
  private flushing = false;
  private stopped = false;

  /**
   * Creates a driver; it does nothing until called (start the role through {@link RoleDriver.run}).
   *
   * @param options the role, its transports and where its output goes
   */
  constructor(private readonly options: RoleDriverOptions<E>) {
    this.role = options.role;
    this.profile = options.profile;
    this.ppid = profilePpids(options.profile);
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? monotonicNow;
  }

  /** The current time on the driver's clock. */
  now(): number {
    return this.clock();
  }

  /** Calls into the role (with the current time), then carries out what it asked for. */
  run(step: (now: number) => void): void {
    if (this.stopped) return;
    step(this.clock());
    this.flush();
  }

  /** An open connection by id. */
  connection(id: ConnectionId): MessageConnection | undefined {
    return this.live.get(id)?.connection;
  }

  /** Open connections. */
  get connections(): number {
    return this.live.size;
  }

  /**
   * A listener accepted a connection for the role: returns the id the role
   * knows it by and its handlers (undefined after the driver stopped:
   * refuse it).
   */
  accept(
    connection: MessageConnection,
    protocol: ProtocolName,
  ): { id: ConnectionId; handlers: ConnectionHandlers } | undefined {
    if (this.stopped) return undefined;
    const id = `in:${++this.nextAccepted}`;
    this.counters.accepted++;
    this.live.set(id, { protocol, connection, dropped: false });
    this.log.debug("accepted", {
      connection: id,
      protocol,
      remote: `${connection.remote.address}:${connection.remote.port}`,
      identity: connection.identity,
    });
    this.run((now) =>
      this.role.accepted?.(id, protocol, connection.remote, now, connection.identity)
    );
    return { id, handlers: this.handlers(id, protocol) };
  }

  /**
   * Stops: no more timers, events or actions. Open connections are closed
   * after their queued output (`graceful`), or aborted (the default, as
   * when the process dies).
   */
  stop(graceful = false): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const l of this.live.values()) {
      l.dropped = true;
      if (graceful) l.connection?.close();
      else l.connection?.abort();
    }
    this.live.clear();
  }

  /** Carries out queued actions until the role has none, then re-arms the timer. */
  flush(): void {
    if (this.flushing || this.stopped) return;
    this.flushing = true;
    try {
      for (let actions = this.role.drainActions(); actions.length > 0;) {
        for (const action of actions) this.execute(action);
        actions = this.stopped ? [] : this.role.drainActions();
      }
    } finally {
      this.flushing = false;
    }
    this.arm();
  }

  /** Sets the timer to the role's next deadline. */
  private arm(): void {
    if (this.stopped) return;
    const deadline = this.role.nextDeadline();
    if (deadline === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = deadline;
    if (deadline === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.run((now) => this.role.advanceTime(now));
    }, Math.max(1, deadline - this.clock()));
  }

  /** Carries out one action. */
  private execute(action: Action<E>): void {
    switch (action.type) {
      case "send":
        this.send(action.connection, action.message);
        return;
      case "multicast": {
        const channel = this.options.channels?.[action.channel];
        if (channel === undefined) return;
        const bytes = this.encode(action.message);
        if (bytes === undefined) return;
        channel.send(bytes);
        this.counters.messagesOut++;
        this.counters.bytesOut += bytes.length;
        return;
      }
      case "connect":
        this.connect(action.connection, action.protocol, action.remote);
        return;
      case "close": {
        const l = this.live.get(action.connection);
        if (l === undefined) return;
        l.dropped = true;
        this.live.delete(action.connection);
        if (action.abort) l.connection?.abort();
        else l.connection?.close();
        return;
      }
      case "event":
        try {
          this.options.onEvent?.(action.event);
        } catch (e) {
          this.log.error("event handler failed", { error: e as Error });
        }
        return;
    }
  }

  /** Encodes a message in the profile; logs and drops what cannot be encoded. */
  private encode(message: RSerPoolMessage): Uint8Array | undefined {
    try {
      return encodeMessage(message, { profile: this.profile });
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      this.log.error("cannot encode a message", { type: message.type, error: e });
      return undefined;
    }
  }

  /** Sends a message on a connection that is up. */
  private send(id: ConnectionId, message: RSerPoolMessage): void {
    const l = this.live.get(id);
    const connection = l?.connection;
    if (connection === undefined || !connection.open) {
      this.log.debug("dropped a message for a connection that is not up", {
        connection: id,
        type: message.type,
      });
      return;
    }
    const bytes = this.encode(message);
    if (bytes === undefined) return;
    const ppid = l!.protocol === "enrp" ? this.ppid.enrp : this.ppid.asap;
    try {
      connection.send(ppid, bytes);
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      return; // its closed handler reports the loss
    }
    this.counters.messagesOut++;
    this.counters.bytesOut += bytes.length;
    this.log.debug("sent", { connection: id, type: message.type, bytes: bytes.length });
  }

  /** Opens a connection the role asked for and reports the outcome. */
  private connect(
    id: ConnectionId,
    protocol: ProtocolName,
    remote: TransportParameter,
  ): void {
    const transport = this.options.transports[remote.type as "TCP" | "SCTP"];
    const l: Live = { protocol, connection: undefined, dropped: false };
    this.live.set(id, l);
    const down = (reason: string) => {
      this.counters.connectFailures++;
      // The role says what it means (no registrar reachable, a session failing over).
      this.log.debug("connection failed", {
        connection: id,
        protocol,
        to: `${remote.addresses.join(",")}:${remote.port}/${remote.type}`,
        reason,
      });
      if (l.dropped) return;
      this.live.delete(id);
      this.run((now) => this.role.connectionDown(id, now));
    };
    if (transport === undefined) {
      queueMicrotask(() => down(`no ${remote.type} transport in this runtime`));
      return;
    }
    // A TCP transport with DATA PLUS CONTROL is a session port (a pool element's
    // user transport): ASAP goes there in session frames, among the data.
    const controlChannel = "transportUse" in remote &&
      remote.transportUse === TransportUse.DataPlusControl;
    const framing: Framing = controlChannel
      ? "session"
      : protocol === "session"
      ? "raw"
      : "message";
    transport.connect(
      {
        addresses: remote.addresses,
        port: remote.port,
        framing,
        ppid: protocol === "enrp" ? this.ppid.enrp : this.ppid.asap,
        localPort: remote.type !== "SCTP"
          ? undefined
          : protocol === "asap"
          ? this.options.sctpLocalPorts?.asap
          : protocol === "enrp"
          ? this.options.sctpLocalPorts?.enrp
          : undefined,
      },
      this.handlers(id, protocol),
    ).then((connection) => {
      if (l.dropped || this.stopped) {
        connection.close();
        return;
      }
      l.connection = connection;
      this.counters.connected++;
      this.log.debug("connected", {
        connection: id,
        protocol,
        remote: `${connection.remote.address}:${connection.remote.port}`,
      });
      this.run((now) => this.role.connectionUp(id, now, connection.remote));
    }, (e: Error) => down(e.message));
  }

  /** The handlers of one of the role's connections. */
  private handlers(id: ConnectionId, protocol: ProtocolName): ConnectionHandlers {
    return {
      message: (ppid, payload) => {
        const l = this.live.get(id);
        if (l === undefined || l.dropped) return;
        const expected = protocol === "enrp" ? this.ppid.enrp : this.ppid.asap;
        if (ppid !== expected) {
          // Application data: the runtime's on a session, nobody's elsewhere.
          if (protocol === "session") this.options.onSessionData?.(id, ppid, payload);
          return;
        }
        this.counters.bytesIn += payload.length;
        this.received(id, protocol, payload);
      },
      closed: (error) => {
        if (error !== undefined) this.counters.connectionErrors++;
        const l = this.live.get(id);
        if (l === undefined || l.dropped) return;
        this.live.delete(id);
        if (error !== undefined) {
          this.log.info("connection lost", { connection: id, protocol, reason: error.message });
        } else {
          this.log.debug("connection closed", { connection: id, protocol });
        }
        this.run((now) => this.role.connectionDown(id, now));
        if (protocol === "session") this.options.onSessionClosed?.(id, error);
      },
    };
  }

  /** An ASAP or ENRP message's bytes arrived: decode and hand to the role. */
  private received(id: ConnectionId, protocol: ProtocolName, payload: Uint8Array): void {
    const role = this.role;
    if (role.receiveBytes !== undefined) {
      this.counters.messagesIn++;
      this.run((now) => role.receiveBytes!(id, payload, now));
      return;
    }
    let message: RSerPoolMessage;
    try {
      message = protocol === "enrp"
        ? decodeEnrp(payload, { lenient: true, profile: this.profile })
        : decodeAsap(payload, { lenient: true, profile: this.profile });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.decodeErrors++;
      this.log.warn("undecodable message dropped", { connection: id, error: e });
      return;
    }
    this.counters.messagesIn++;
    this.log.debug("received", { connection: id, type: message.type });
    this.run((now) => role.receive(id, message, now));
  }

  /** A datagram arrived on a UDP channel. */
  receiveDatagram(channel: MulticastChannel, bytes: Uint8Array, source: RemoteEndpoint): void {
    if (this.stopped) return;
    let message: RSerPoolMessage;
    try {
      message = channel === "enrp-presence"
        ? decodeEnrp(bytes, { lenient: true, profile: this.profile })
        : decodeAsap(bytes, { lenient: true, profile: this.profile });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.decodeErrors++;
      this.log.debug("undecodable datagram dropped", {
        channel,
        from: `${source.address}:${source.port}`,
        error: e,
      });
      return;
    }
    this.counters.messagesIn++;
    this.counters.bytesIn += bytes.length;
    this.run((now) => this.role.receiveMulticast(channel, message, source, now));
  }
}
