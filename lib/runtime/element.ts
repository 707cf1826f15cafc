/**
 * A running Pool Element: the sans-IO {@link PoolElement} on real sockets,
 * around the application's session handler.
 *
 * ```ts ignore
 * import { registerPoolElement } from "@rserpool/rserpool/runtime";
 *
 * const pe = await registerPoolElement({
 *   poolHandle: "echo",
 *   registrars: ["127.0.0.1:3863"],
 *   serve: (session) => ({ data: (bytes) => session.send(bytes) }),
 * });
 * await pe.registered();
 * // … later: deregisters, then closes
 * await pe.close();
 * ```
 *
 * @module
 */

import { RSerPoolError, type TransportError } from "../errors.ts";
import { PoolElement, type PoolElementEvent, type PoolElementOptions } from "../element/element.ts";
import { Port, TransportUse } from "../protocol/constants.ts";
import { bytesToJson } from "../protocol/json.ts";
import type {
  Identifier,
  PoolElementParameter,
  PoolMemberSelectionPolicy,
  WireProfile,
} from "../protocol/types.ts";
import type { ConnectionId, RemoteEndpoint } from "../role/actions.ts";
import { type StreamSettings, StreamTransport, type TlsSettings } from "../transport/tcp.ts";
import type { MessageConnection, MessageListener, MessageTransport } from "../transport/types.ts";
import { UdpChannel, type UdpChannelSettings } from "../transport/udp.ts";
import { profilePpids, RoleDriver } from "./driver.ts";
import {
  advertisedAddresses,
  type Endpoint,
  formatEndpoint,
  parseEndpoint,
  transportParameter,
} from "./endpoint.ts";
import { type Logger, silentLogger } from "./log.ts";
import { formatIdentifier } from "./status.ts";

/** What an element's application does with a session's input. */
export interface ElementSessionHandlers {
  /** Application data arrived (with `controlChannel: false`, chunks of the byte stream, PPID 0). */
  readonly data?: (data: Uint8Array, ppid: number) => void;
  /** The pool user handed over state from the element it failed over from (RFC 5352 §3.8). */
  readonly cookieEcho?: (cookie: Uint8Array) => void;
  /** The session ended (an error says why it failed). */
  readonly closed?: (error?: TransportError) => void;
}

/** A pool user's session with this element. */
export interface ElementSession {
  /** Its id. */
  readonly id: ConnectionId;
  /** The pool user's address. */
  readonly remote: RemoteEndpoint;
  /** Whether it is still open. */
  readonly open: boolean;
  /** Sends application data (PPID 0 unless told; ignored without a control channel). */
  send(data: Uint8Array | string, ppid?: number): void;
  /**
   * Sends an ASAP Cookie: state a pool user hands to the next element when
   * it fails over (RFC 5352 §3.8). Needs the control channel.
   */
  sendCookie(cookie: Uint8Array): void;
  /** Sends an ASAP Business Card naming failover candidates (RFC 5352 §3.9). */
  sendBusinessCard(poolElements: readonly PoolElementParameter[]): void;
  /** Closes the session. */
  close(): void;
}

/** Options of {@link registerPoolElement}. */
export interface RegisterPoolElementOptions {
  /** The pool to serve (text is UTF-8 encoded). */
  readonly poolHandle: string | Uint8Array;
  /** Selection policy (default Round Robin). */
  readonly policy?: PoolMemberSelectionPolicy;
  /**
   * Registrars' ASAP endpoints (default `127.0.0.1:3863` unless `announce`
   * is given); `sctp://host:port` over SCTP.
   */
  readonly registrars?: readonly (string | Endpoint)[];
  /** Hear ASAP Server Announces on this UDP channel. */
  readonly announce?: UdpChannelSettings;
  /**
   * Where pool users connect (default `127.0.0.1:0`, any free port);
   * `sctp://host:port` serves over SCTP (needs `transports.SCTP`).
   */
  readonly listen?: string | Endpoint;
  /** Address registered for pool users (default: the listen address, or for a wildcard the host's first). */
  readonly advertise?: string;
  /**
   * Carry ASAP control messages (Cookie, Cookie Echo, Business Card) on
   * sessions (Transport Use DATA PLUS CONTROL, session framing; default
   * true), or serve a plain TCP byte stream (DATA ONLY).
   */
  readonly controlChannel?: boolean;
  /** PE identifier (default random). */
  readonly identifier?: Identifier;
  /** Wire profile. */
  readonly profile?: WireProfile;
  /** Between re-registrations, ms (default 30 s). */
  readonly reregistrationInterval?: number;
  /** Registration life, ms (default 3 × the re-registration interval). */
  readonly registrationLife?: number;
  /** Registration attempts at one registrar before hunting another (MAX-REG-ATTEMPT, default 2). */
  readonly maxRegistrationAttempts?: number;
  /** Element timers. */
  readonly timers?: PoolElementOptions["timers"];
  /** TLS on the connections to registrars. */
  readonly tls?: TlsSettings;
  /** Limits and timeouts of the TCP connections (registrars and sessions). */
  readonly stream?: Partial<StreamSettings>;
  /** Transports to use instead of TCP, by transport parameter type. */
  readonly transports?: Readonly<Partial<Record<"TCP" | "SCTP", MessageTransport>>>;
  /** What the element reports (default: nothing). */
  readonly log?: Logger;
  /** Every element event. */
  readonly onEvent?: (event: PoolElementEvent) => void;
  /**
   * Registers this existing server instead of listening (a proxy pool
   * element for an application that knows nothing of RSerPool): its
   * address goes into the registration as a DATA ONLY transport and pool
   * users connect to it directly. `listen`, `controlChannel` and `serve` do
   * not apply.
   */
  readonly external?: string | Endpoint;
  /** Serves a new session; returns what to do with its input (required unless `external`). */
  readonly serve?: (session: ElementSession) => ElementSessionHandlers | void;
}

/** A pool element running on the network. */
export interface RunningPoolElement {
  /** Its PE identifier. */
  readonly identifier: Identifier;
  /** Its pool. */
  readonly poolHandle: Uint8Array;
  /** Where pool users connect. */
  readonly address: Endpoint;
  /** The sans-IO element. */
  readonly element: PoolElement;
  /** Whether it is registered now. */
  readonly isRegistered: boolean;
  /** Sessions open now. */
  readonly sessions: number;
  /**
   * Resolves when registered (at once if it is), rejects when a registrar
   * refuses the registration or after `timeout` ms (default 10 s).
   */
  registered(timeout?: number): Promise<void>;
  /** Changes the policy (e.g. a new load) and re-registers. */
  updatePolicy(policy: PoolMemberSelectionPolicy): void;
  /**
   * Deregisters (waiting at most `timeout` ms, default 2 s) but keeps the
   * sessions open now, and the listener: for draining before
   * {@link RunningPoolElement.close}.
   */
  deregister(timeout?: number): Promise<void>;
  /** Deregisters (waiting at most `timeout` ms, default 2 s), then closes sessions and sockets. */
  close(timeout?: number): Promise<void>;
  /** Stops at once without deregistering, as if the process died. */
  abort(): Promise<void>;
}

interface SessionEntry {
  readonly session: ElementSession;
  handlers: ElementSessionHandlers;
}

/** Starts serving a pool: listens for pool users, registers with a registrar and stays registered. */
export async function registerPoolElement(
  options: RegisterPoolElementOptions,
): Promise<RunningPoolElement> {
  const profile: WireProfile = options.profile ?? "rfc";
  const log = options.log ?? silentLogger;
  const poolHandle = typeof options.poolHandle === "string"
    ? new TextEncoder().encode(options.poolHandle)
    : options.poolHandle;
  if (poolHandle.length === 0) throw new RSerPoolError("bad-option", "the pool handle is empty");
  const external = typeof options.external === "string"
    ? parseEndpoint(options.external, { host: "127.0.0.1" })
    : options.external;
  const serve = options.serve;
  if (external === undefined && serve === undefined) {
    throw new RSerPoolError("bad-option", "a pool element needs serve() or an external server");
  }
  const controlChannel = external === undefined && (options.controlChannel ?? true);
  const listenAt = options.listen === undefined
    ? { address: "127.0.0.1", port: 0 }
    : typeof options.listen === "string"
    ? parseEndpoint(options.listen, { host: "127.0.0.1", port: 0 })
    : options.listen;
  const defaultPort = profile === "nextgen" ? Port.AsapNextGen : Port.Asap;
  const registrars = (options.registrars ??
    (options.announce === undefined ? ["127.0.0.1"] : []))
    .map((r) => typeof r === "string" ? parseEndpoint(r, { port: defaultPort }) : r);
  // Sessions may stay quiet as long as the application likes: no idle timeout unless asked for
  // (dead peers are still found by TCP keep-alive probes; registrars close idle users themselves).
  const stream = { idleTimeout: 0, ...options.stream };
  const tcp = options.transports?.TCP ??
    new StreamTransport({ ...stream, tls: options.tls });
  // Sessions are plain TCP even when the registrar connections use TLS.
  const overSctp = external === undefined && listenAt.transport === "SCTP";
  if (overSctp && options.transports?.SCTP === undefined) {
    throw new RSerPoolError("bad-option", "an sctp:// listen endpoint needs an SCTP transport");
  }
  const sessionTransport = overSctp
    ? options.transports!.SCTP!
    : options.tls === undefined
    ? tcp
    : new StreamTransport(stream);
  const ppids = profilePpids(profile);
  const sessions = new Map<ConnectionId, SessionEntry>();
  /** Accepted connections that turned out to come from a registrar (takeover). */
  const registrarConnections = new Set<ConnectionId>();
  // Set once the role exists; connections accepted before are refused.
  const running: { driver?: RoleDriver<PoolElementEvent> } = {};
  let element: PoolElement | undefined;

  const listener: MessageListener | undefined = external !== undefined
    ? undefined
    : await sessionTransport.listen(
      {
        host: listenAt.address,
        port: listenAt.port,
        framing: controlChannel ? "session" : "raw",
        ppid: ppids.asap,
      },
      (connection) => accept(connection),
    );
  /** Where pool users connect: the listener, or the external server. */
  const served: Endpoint = external ?? listener!.address;
  let channel: UdpChannel | undefined;
  const waiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();
  let deregistered: (() => void) | undefined;

  const accept = (connection: MessageConnection) => {
    const d = running.driver;
    if (d === undefined) return undefined;
    const accepted = d.accept(connection, "session");
    if (accepted === undefined) return undefined;
    const { id } = accepted;
    const session: ElementSession = {
      id,
      remote: connection.remote,
      get open() {
        return connection.open;
      },
      send(data, ppid = 0) {
        if (registrarConnections.has(id)) return;
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
        connection.send(ppid, bytes);
      },
      sendCookie(cookie) {
        if (!controlChannel) {
          throw new RSerPoolError("no-control-channel", "sessions carry data only");
        }
        d.run(() => element!.sendCookie(id, cookie));
      },
      sendBusinessCard(elements) {
        if (!controlChannel) {
          throw new RSerPoolError("no-control-channel", "sessions carry data only");
        }
        d.run(() => element!.sendBusinessCard(id, elements));
      },
      close() {
        if (!registrarConnections.has(id)) connection.close();
      },
    };
    const entry: SessionEntry = { session, handlers: {} };
    sessions.set(id, entry);
    log.info("session opened", {
      session: id,
      from: formatEndpoint(connection.remote),
    });
    try {
      entry.handlers = serve?.(session) ?? {};
    } catch (e) {
      log.error("session handler failed", { session: id, error: e as Error });
      connection.abort();
    }
    return accepted.handlers;
  };

  const guarded = (id: ConnectionId, what: string, fn: (h: ElementSessionHandlers) => void) => {
    const entry = sessions.get(id);
    if (entry === undefined) return;
    try {
      fn(entry.handlers);
    } catch (e) {
      log.error(`session ${what} handler failed`, { session: id, error: e as Error });
      running.driver?.connection(id)?.abort();
    }
  };

  let outage = false;
  const onEvent = (event: PoolElementEvent) => {
    switch (event.kind) {
      case "registered":
        if (outage && !event.first) log.info("registered again");
        outage = false;
        if (event.first) {
          log.info("registered", {
            pool: bytesToJson(poolHandle),
            element: formatIdentifier(element!.identifier),
            registrar: event.registrarId === undefined
              ? undefined
              : formatIdentifier(event.registrarId),
            serving: formatEndpoint(served),
          });
        }
        for (const w of waiters) w.resolve();
        waiters.clear();
        break;
      case "registration-refused": {
        const error = new RSerPoolError(
          "registration-refused",
          `registration refused: ${
            event.causes.map((c) => `cause 0x${c.code.toString(16)}`).join(", ")
          }`,
        );
        log.warn("registration refused", { causes: event.causes.map((c) => c.code) });
        for (const w of waiters) w.reject(error);
        waiters.clear();
        break;
      }
      case "home-changed": {
        log.info("home registrar changed", { registrar: formatIdentifier(event.registrarId) });
        // A registrar that took this element over reached it on its session port: that
        // connection is the registrar's now, not an application session.
        const home = element!.homeConnection;
        const entry = home === undefined ? undefined : sessions.get(home);
        if (home !== undefined && entry !== undefined) {
          sessions.delete(home);
          registrarConnections.add(home);
          try {
            entry.handlers.closed?.();
          } catch (e) {
            log.error("session closed handler failed", { session: home, error: e as Error });
          }
        }
        break;
      }
      case "registrar-lost":
        (outage ? log.debug : log.warn)("registrar lost, hunting for another");
        break;
      case "no-registrar":
        // Said once per outage; the hunt goes on quietly.
        (outage ? log.debug : log.warn)("no registrar reachable", {
          registrars: registrars.map(formatEndpoint).join(",") || undefined,
        });
        outage = true;
        break;
      case "deregistered":
        log.info("deregistered", { element: formatIdentifier(element!.identifier) });
        deregistered?.();
        break;
      case "cookie-echo":
        log.info("session resumed with a cookie", { session: event.session });
        guarded(event.session, "cookie", (h) => h.cookieEcho?.(event.cookie));
        break;
      case "business-card":
        break;
    }
    try {
      options.onEvent?.(event);
    } catch (e) {
      log.error("event handler failed", { error: e as Error });
    }
  };

  const advertise = options.advertise ?? advertisedAddresses(served.address)[0];
  try {
    element = new PoolElement({
      poolHandle,
      identifier: options.identifier,
      profile,
      policy: options.policy ?? { type: "RoundRobin" },
      userTransport: transportParameter(
        {
          address: advertise,
          port: served.port,
          transport: external === undefined ? listenAt.transport : external.transport,
        },
        controlChannel ? TransportUse.DataPlusControl : TransportUse.DataOnly,
      ),
      registrars: registrars.map((r) => transportParameter(r)),
      reregistrationInterval: options.reregistrationInterval,
      registrationLife: options.registrationLife,
      maxRegistrationAttempts: options.maxRegistrationAttempts,
      timers: options.timers,
      announceTransport: "TCP",
    });
  } catch (e) {
    await listener?.close();
    throw e;
  }
  const role = element;
  const d = new RoleDriver<PoolElementEvent>({
    role,
    profile,
    transports: { ...options.transports, TCP: tcp },
    sctpLocalPorts: overSctp ? { asap: served.port } : undefined,
    channels: {},
    onEvent,
    onSessionData: (id, ppid, payload) => guarded(id, "data", (h) => h.data?.(payload, ppid)),
    onSessionClosed: (id, error) => {
      registrarConnections.delete(id);
      guarded(id, "closed", (h) => h.closed?.(error));
      sessions.delete(id);
      log.debug("session closed", { session: id, reason: error?.message });
    },
    log,
  });
  running.driver = d;
  if (options.announce !== undefined) {
    try {
      channel = await UdpChannel.open(
        options.announce,
        (bytes, source) => d.receiveDatagram("asap-announce", bytes, source),
      );
    } catch (e) {
      d.stop();
      await listener?.close();
      throw e;
    }
  }
  d.run((now) => role.start(now));

  let closed = false;
  let deregistering = false;
  const deregisterRole = async (timeout: number) => {
    if (role.homeConnection === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeout);
      deregistered = () => {
        clearTimeout(timer);
        resolve();
      };
      d.run((now) => role.deregister(now));
    });
  };
  const shutDown = async (graceful: boolean) => {
    d.stop(graceful);
    await listener?.close();
    await channel?.close();
    for (const [id, entry] of sessions) {
      try {
        entry.handlers.closed?.();
      } catch (e) {
        log.error("session closed handler failed", { session: id, error: e as Error });
      }
    }
    sessions.clear();
    for (const w of waiters) w.reject(new RSerPoolError("closed", "the element was closed"));
    waiters.clear();
  };
  return {
    identifier: role.identifier,
    poolHandle,
    address: { address: advertise, port: served.port },
    element: role,
    get isRegistered() {
      return role.isRegistered;
    },
    get sessions() {
      return sessions.size;
    },
    registered(timeout = 10_000) {
      if (role.isRegistered) return Promise.resolve();
      if (closed) return Promise.reject(new RSerPoolError("closed", "the element was closed"));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new RSerPoolError("timeout", `not registered within ${timeout} ms`));
        }, timeout);
        const waiter = {
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (e: Error) => {
            clearTimeout(timer);
            reject(e);
          },
        };
        waiters.add(waiter);
      });
    },
    updatePolicy(policy) {
      d.run((now) => role.updatePolicy(policy, now));
    },
    async deregister(timeout = 2000) {
      if (closed || deregistering) return;
      deregistering = true;
      await deregisterRole(timeout);
    },
    async close(timeout = 2000) {
      if (closed) return;
      closed = true;
      if (!deregistering) await deregisterRole(timeout);
      await shutDown(true);
      log.info("element stopped", { element: formatIdentifier(role.identifier) });
    },
    async abort() {
      if (closed) return;
      closed = true;
      await shutDown(false);
    },
  };
}
